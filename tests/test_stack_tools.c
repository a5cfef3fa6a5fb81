/*
 * The stack tools and names: coro_stack_used(), coro_stack_size(),
 * coro_call_on_thread_stack(), coro_set_name() and coro_name(). Run with
 * the kernel's guards, and as stack_tools_mprotect
 * (CORO_TEST_MPROTECT_GUARDS) with the fallback guards.
 *
 * Each figure of coro_stack_used() here is taken on a stack size that no
 * other test of the suite uses: a stack reused on a thread keeps the pages
 * its earlier coroutines touched, and counts them (coro.h).
 */
#define _DEFAULT_SOURCE /* sigset_t, pthread_sigmask */

#include "test_support.h"

#include "test_hooks.h" /* the test copy of the library: its guards */

#include <fenv.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#if defined(_WIN32)
#include <malloc.h>
#include <windows.h>
#else
#include <alloca.h>
#include <unistd.h>
#endif

static size_t page_size(void)
{
#if defined(_WIN32)
    SYSTEM_INFO info;

    GetSystemInfo(&info);
    return info.dwPageSize;
#else
    return (size_t)sysconf(_SC_PAGESIZE);
#endif
}

/* Where the calling function's frame is: on the stack itself, where a
 * local may not be (ASan's fake stacks). */
#define HERE() __builtin_frame_address(0)

/* A stack size of pages pages, for a test of its own. */
static size_t pages(unsigned count)
{
    return count * page_size();
}

/* --- coro_stack_size, coro_stack_used --------------------------------- */

static void *yield_once(coro_t *co, void *arg)
{
    return coro_yield(co, arg);
}

static void test_stack_size_is_the_size_rounded_up(void **state)
{
    coro_t *dflt = must_create(yield_once, NULL);
    coro_t *odd = must_create_sized(yield_once, NULL, CORO_MIN_STACK_SIZE + 1);
    coro_t *exact = must_create_sized(yield_once, NULL, pages(6));

    (void)state;
    assert_int_equal(coro_stack_size(dflt), CORO_DEFAULT_STACK_SIZE);
    assert_int_equal(coro_stack_size(odd), CORO_MIN_STACK_SIZE + page_size());
    assert_int_equal(coro_stack_size(exact), pages(6));
    coro_next(dflt);
    assert_int_equal(coro_stack_size(dflt), CORO_DEFAULT_STACK_SIZE);
    assert_int_equal(coro_destroy(dflt), 0);
    assert_int_equal(coro_destroy(odd), 0);
    assert_int_equal(coro_destroy(exact), 0);
}

static void test_null_is_einval(void **state)
{
    (void)state;
    errno = 0;
    assert_int_equal(coro_stack_used(NULL), 0);
    assert_int_equal(errno, EINVAL);
    errno = 0;
    assert_int_equal(coro_stack_size(NULL), 0);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(coro_set_name(NULL, "x"), EINVAL);
    assert_string_equal(coro_name(NULL), "");
    assert_null_errno(coro_call_on_thread_stack(NULL, NULL), EINVAL);
}

/* A coroutine on a fresh stack has touched its record's page and, once it
 * has run a shallow body, hardly more: the ucontext backend's record
 * spans two pages where a ucontext_t is large (AArch64). */
static void test_fresh_coroutine_reports_about_one_page(void **state)
{
    coro_t *co = must_create_sized(yield_once, NULL, pages(7));
    size_t created = coro_stack_used(co), ran;

    (void)state;
    assert_true(created >= page_size());
    assert_true(created <= pages(2));
    assert_int_equal(created % page_size(), 0);
    coro_next(co);
    ran = coro_stack_used(co);
    assert_true(ran >= created);
    assert_true(ran <= pages(3));
    assert_int_equal(coro_destroy(co), 0);
}

/* Recursion of `levels` frames of `bytes` each (alloca: on the stack
 * itself, under ASan too), that yields at the bottom the address of the
 * lowest byte it touched. */
struct descent {
    unsigned levels;
    size_t bytes;
};

static TEST_NOINLINE void *descend(coro_t *co, unsigned levels, size_t bytes)
{
    volatile char *frame = alloca(bytes);
    void *sent;

    for (size_t i = 0; i < bytes; i += 64)
        frame[i] = (char)i;
    if (levels > 1)
        sent = descend(co, levels - 1, bytes);
    else
        sent = coro_yield(co, (void *)frame);
    /* A use after the call: no tail call, which would free the frame
     * first (clang makes one). */
    frame[0] = 0;
    return sent;
}

static void *shallow_then_deep(coro_t *co, void *arg)
{
    const struct descent *d = arg;

    coro_yield(co, HERE());
    return descend(co, d->levels, d->bytes);
}

/* Going deeper by n bytes moves the figure by n, to within a page. */
static void check_descent(size_t stack_size, unsigned levels, size_t bytes)
{
    struct descent d = {levels, bytes};
    coro_t *co = must_create_sized(shallow_then_deep, &d, stack_size);
    char *shallow = coro_next(co), *deep;
    size_t before = coro_stack_used(co), after;
    size_t descended;

    deep = coro_next(co);
    after = coro_stack_used(co);
    descended = (size_t)(shallow - deep);
    assert_true(after > before);
    assert_true(after - before + page_size() >= descended);
    assert_true(after - before <= descended + page_size());
    /* It keeps the deepest it has been: the pages stay. */
    coro_next(co);
    assert_int_equal(coro_status(co), CORO_DEAD);
    assert_int_equal(coro_stack_used(co), after);
    assert_int_equal(coro_destroy(co), 0);
}

static void test_recursion_moves_the_figure(void **state)
{
    (void)state;
    check_descent(pages(40), 8, 3000);
    check_descent(pages(41), 2, 40000);
}

/* Down to within a few pages of the guard: nearly the whole stack, and
 * never more. */
static void *touch_near_bottom(coro_t *co, void *arg)
{
    size_t size = *(const size_t *)arg;
    uintptr_t page = page_size();
    /* This frame is within three pages of the top on every backend (the
     * largest record, ucontext's on AArch64, is under two). */
    volatile char *at = (volatile char *)(((uintptr_t)HERE() & ~(page - 1)) - (size - 3 * page));

    (void)co;
    at[0] = 1;
    return NULL;
}

static void test_touching_near_the_bottom_reports_nearly_all(void **state)
{
    size_t size = pages(9);
    coro_t *co = must_create_sized(touch_near_bottom, &size, size);
    size_t used;

    (void)state;
    coro_next(co);
    used = coro_stack_used(co);
    assert_true(used >= size - pages(2));
    assert_true(used <= size);
    assert_int_equal(coro_destroy(co), 0);
}

/* A stack reused on this thread keeps what its last coroutine touched
 * (coro.h): the next coroutine on it counts those pages. */
static void test_reused_stack_counts_earlier_pages(void **state)
{
    struct descent d = {4, 4000};
    coro_t *first = must_create_sized(shallow_then_deep, &d, pages(12));
    coro_t *second;
    size_t deep;

    (void)state;
    coro_next(first);
    coro_next(first);
    deep = coro_stack_used(first);
    assert_true(deep >= pages(4));
    assert_int_equal(coro_destroy(first), 0);
    second = must_create_sized(yield_once, NULL, pages(12));
    assert_int_equal(coro_stack_used(second), deep);
    assert_int_equal(coro_destroy(second), 0);
}

/* Asked of many suspended coroutines in turn (its cost is coro-bench's
 * stack_used figure): each reports its own stack, and stays as it was. */
static void test_used_on_many_coroutines(void **state)
{
    enum { COUNT = 200 };
    coro_t *cos[COUNT];

    (void)state;
    for (int i = 0; i < COUNT; i++) {
        cos[i] = must_create_sized(yield_once, NULL, pages(11));
        coro_next(cos[i]);
    }
    for (int i = 0; i < COUNT; i++) {
        size_t used = coro_stack_used(cos[i]);

        assert_true(used >= page_size() && used <= pages(3));
        assert_int_equal(coro_status(cos[i]), CORO_SUSPENDED);
    }
    for (int i = 0; i < COUNT; i++)
        assert_int_equal(coro_destroy(cos[i]), 0);
}

/* --- names ------------------------------------------------------------- */

static void test_names(void **state)
{
    coro_t *co = must_create(yield_once, NULL);
    char longer[CORO_NAME_MAX + 10];

    (void)state;
    assert_string_equal(coro_name(co), "");
    assert_int_equal(coro_set_name(co, "producer"), 0);
    assert_string_equal(coro_name(co), "producer");
    coro_next(co);
    assert_string_equal(coro_name(co), "producer");
    memset(longer, 'n', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    assert_int_equal(coro_set_name(co, longer), 0);
    assert_int_equal(strlen(coro_name(co)), CORO_NAME_MAX - 1);
    assert_memory_equal(coro_name(co), longer, CORO_NAME_MAX - 1);
    assert_int_equal(coro_set_name(co, ""), 0);
    assert_string_equal(coro_name(co), "");
    assert_int_equal(coro_set_name(co, "again"), 0);
    assert_int_equal(coro_set_name(co, NULL), 0);
    assert_string_equal(coro_name(co), "");
    /* A copy: the caller's buffer may change. */
    strcpy(longer, "copied");
    assert_int_equal(coro_set_name(co, longer), 0);
    longer[0] = 'X';
    assert_string_equal(coro_name(co), "copied");
    /* Dead coroutines keep theirs. */
    coro_next(co);
    assert_int_equal(coro_status(co), CORO_DEAD);
    assert_string_equal(coro_name(co), "copied");
    assert_int_equal(coro_destroy(co), 0);
}

/* A stack reused from a named coroutine starts its new one nameless. */
static void test_new_coroutine_on_a_named_ones_stack_has_no_name(void **state)
{
    coro_t *co = must_create(yield_once, NULL);

    (void)state;
    assert_int_equal(coro_set_name(co, "old"), 0);
    assert_int_equal(coro_destroy(co), 0);
    co = must_create(yield_once, NULL);
    assert_string_equal(coro_name(co), "");
    assert_int_equal(coro_destroy(co), 0);
}

static void *name_self(coro_t *co, void *arg)
{
    coro_set_name(co, arg);
    return coro_yield(co, (void *)coro_name(coro_current()));
}

static void test_a_body_names_itself(void **state)
{
    coro_t *co = must_create(name_self, "self-named");

    (void)state;
    assert_string_equal(coro_next(co), "self-named");
    assert_int_equal(coro_destroy(co), 0);
}

/* --- coro_call_on_thread_stack ---------------------------------------- */

static void *plain(void *arg)
{
    return (char *)arg + 1;
}

static void *current_on_call(void *arg)
{
    (void)arg;
    return coro_current();
}

static void test_call_outside_a_coroutine_is_a_plain_call(void **state)
{
    char text[] = "ab";

    (void)state;
    assert_ptr_equal(coro_call_on_thread_stack(plain, text), text + 1);
    assert_null(coro_call_on_thread_stack(current_on_call, NULL));
}

/* What a call on the thread's stack saw, for the test to check after. */
struct seen {
    coro_t *caller;
    coro_t *current;          /* coro_current() inside fn */
    enum coro_status status;  /* the caller's */
    int yield_error, suspend_error, yield_from_error, defer_error, resume_error;
    int destroy_error;
    void *made_result;        /* from a coroutine fn created and ran */
    /* Frames: fn's, a call's made from a coroutine fn resumed, the
     * thread's that resumed, the caller's. */
    uintptr_t fn_frame, nested_frame, thread_frame, caller_frame;
    unsigned long big_sum;
};

static void noop_cleanup(void *arg)
{
    (void)arg;
}

static void *yield_twice(coro_t *co, void *arg)
{
    coro_yield(co, arg);
    return (char *)arg + 1;
}

static void *note_frame(void *arg)
{
    struct seen *s = arg;

    s->nested_frame = (uintptr_t)HERE();
    return NULL;
}

/* A coroutine fn makes, which calls on the thread's stack in turn. */
static void *nested_caller(coro_t *co, void *arg)
{
    coro_call_on_thread_stack(note_frame, arg);
    return coro_yield(co, arg);
}

/* 1 MiB of frame: more than any coroutine stack here holds. */
static TEST_NOINLINE unsigned long big_frame(void)
{
    volatile unsigned char big[1 << 20];
    unsigned long sum = 0;

    for (size_t i = 0; i < sizeof big; i += 512)
        big[i] = (unsigned char)(i >> 9);
    for (size_t i = 0; i < sizeof big; i += 512)
        sum += big[i];
    return sum;
}

static void *on_thread_stack(void *arg)
{
    struct seen *s = arg;
    coro_t *made, *nested;
    void *received;

    s->fn_frame = (uintptr_t)HERE();
    s->current = coro_current();
    s->status = coro_status(s->caller);
    errno = 0;
    s->yield_error = coro_yield(s->caller, NULL) == NULL ? errno : 0;
    s->suspend_error = coro_suspend(s->caller, NULL, &received);
    errno = 0;
    s->yield_from_error = coro_yield_from(s->caller, s->caller) == NULL ? errno : 0;
    s->defer_error = coro_defer(s->caller, noop_cleanup, NULL);
    s->resume_error = coro_resume(s->caller, NULL, &received);
    s->destroy_error = coro_destroy(s->caller);
    /* Other coroutines, normally. */
    made = coro_create(yield_twice, s, CORO_MIN_STACK_SIZE);
    if (made != NULL) {
        coro_next(made);
        s->made_result = coro_next(made);
        coro_destroy(made);
    }
    nested = coro_create(nested_caller, s, CORO_MIN_STACK_SIZE);
    if (nested != NULL) {
        coro_next(nested);
        coro_destroy(nested);
    }
    s->big_sum = big_frame();
    return (char *)arg + 3;
}

/* The innermost of three nested coroutines, on a 16 KiB stack. */
static void *innermost(coro_t *co, void *arg)
{
    struct seen *s = arg;
    void *result;

    s->caller = co;
    s->caller_frame = (uintptr_t)HERE();
    result = coro_call_on_thread_stack(on_thread_stack, s);
    /* Back on its own stack, still running, able to yield. */
    return coro_yield(co, result);
}

/* Runs body(arg) in a coroutine of its own, on a 16 KiB stack, to its
 * end, and yields what it yielded first. */
static void *resume_one_deeper(coro_t *co, coro_fn body, void *arg)
{
    coro_t *deeper = coro_create(body, arg, CORO_MIN_STACK_SIZE);
    void *result = coro_next(deeper);

    coro_next(deeper);
    coro_destroy(deeper);
    return coro_yield(co, result);
}

static void *middle(coro_t *co, void *arg)
{
    return resume_one_deeper(co, innermost, arg);
}

static void *outermost(coro_t *co, void *arg)
{
    return resume_one_deeper(co, middle, arg);
}

static unsigned long expected_big_sum(void)
{
    unsigned long sum = 0;

    for (size_t i = 0; i < (1u << 20); i += 512)
        sum += (unsigned char)(i >> 9);
    return sum;
}

/* Runs the three-deep call on the calling thread, into s; returns what the
 * outermost coroutine yielded. Canaries around the resume stand for what
 * the thread's stack held: fn's frames go below them. */
static void *call_three_deep(struct seen *s)
{
    volatile unsigned char canary[256];
    coro_t *top;
    void *result;
    int intact = 1;

    memset(s, 0, sizeof *s);
    for (size_t i = 0; i < sizeof canary; i++)
        canary[i] = (unsigned char)(i * 7 + 1);
    s->thread_frame = (uintptr_t)HERE();
    top = coro_create(outermost, s, CORO_MIN_STACK_SIZE);
    if (top == NULL)
        return NULL;
    result = coro_next(top);
    coro_next(top);
    coro_destroy(top);
    for (size_t i = 0; i < sizeof canary; i++)
        intact &= canary[i] == (unsigned char)(i * 7 + 1);
    return intact ? result : NULL;
}

static void check_three_deep(const struct seen *s, void *result)
{
    assert_ptr_equal(result, (char *)s + 3);
    assert_null(s->current);
    assert_int_equal(s->status, CORO_RUNNING);
    assert_int_equal(s->yield_error, EPERM);
    assert_int_equal(s->suspend_error, EPERM);
    assert_int_equal(s->yield_from_error, EPERM);
    assert_int_equal(s->defer_error, EPERM);
    assert_int_equal(s->resume_error, EBUSY);
    assert_int_equal(s->destroy_error, EBUSY);
    assert_ptr_equal(s->made_result, (char *)s + 1);
    assert_int_equal(s->big_sum, expected_big_sum());
    /* On the thread's stack, below what it held, and nowhere near the
     * caller's 16 KiB stack. */
    assert_true(s->fn_frame < s->thread_frame);
    assert_true(s->thread_frame - s->fn_frame < (4u << 20));
    assert_true(s->caller_frame < s->fn_frame - CORO_MIN_STACK_SIZE ||
                s->caller_frame > s->fn_frame + CORO_MIN_STACK_SIZE);
    /* A call from a coroutine fn resumed goes below fn's frames. */
    assert_true(s->nested_frame != 0);
    assert_true(s->nested_frame < s->fn_frame);
}

static void test_call_on_thread_stack_three_deep(void **state)
{
    struct seen s;
    void *result;

    (void)state;
    result = call_three_deep(&s);
    check_three_deep(&s, result);
    assert_null(coro_current());
}

enum { THREADS = 4 };

struct worker {
    struct seen seen;
    void *result;
};

static void *worker(void *arg)
{
    struct worker *w = arg;

    for (int round = 0; round < 3; round++)
        w->result = call_three_deep(&w->seen);
    return NULL;
}

static void test_call_on_thread_stack_on_several_threads(void **state)
{
    struct worker workers[THREADS];
    pthread_t threads[THREADS];
    pthread_attr_t attr;

    (void)state;
    assert_int_equal(pthread_attr_init(&attr), 0);
    /* Room for the 1 MiB frame whatever the platform's default. */
    assert_int_equal(pthread_attr_setstacksize(&attr, 4u << 20), 0);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&threads[i], &attr, worker, &workers[i]), 0);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    pthread_attr_destroy(&attr);
    for (int i = 0; i < THREADS; i++)
        check_three_deep(&workers[i].seen, workers[i].result);
}

/* The caller's state after the call: it yields, is resumed and ends. */
static void *call_then_yield(coro_t *co, void *arg)
{
    void *got = coro_call_on_thread_stack(plain, arg);
    void *sent = coro_yield(co, got);

    return coro_call_on_thread_stack(plain, sent);
}

static void test_caller_goes_on_after_the_call(void **state)
{
    char text[] = "abcdef";
    coro_t *co = must_create_sized(call_then_yield, text, CORO_MIN_STACK_SIZE);

    (void)state;
    assert_ptr_equal(coro_next(co), text + 1);
    assert_ptr_equal(coro_current(), NULL);
    assert_ptr_equal(coro_send(co, text + 3), text + 4);
    assert_int_equal(coro_status(co), CORO_DEAD);
    assert_int_equal(coro_destroy(co), 0);
}

/* The call keeps errno as fn left it: it is fn's to set. */
static void *set_errno(void *arg)
{
    (void)arg;
    errno = ERANGE;
    return NULL;
}

static void *call_setting_errno(coro_t *co, void *arg)
{
    int seen;

    (void)arg;
    coro_call_on_thread_stack(set_errno, NULL);
    seen = errno;
    return coro_yield(co, (void *)(intptr_t)seen);
}

static void test_errno_from_fn_reaches_the_caller(void **state)
{
    coro_t *co = must_create(call_setting_errno, NULL);

    (void)state;
    assert_int_equal(PTR_TO_INT(coro_next(co)), ERANGE);
    assert_int_equal(coro_destroy(co), 0);
}

/* fn starts with its caller's floating-point control state (and, below,
 * signal mask), as a plain call would; what it changes of them ends with
 * the call, as a coroutine's own. */
static void *round_toward_zero(void *arg)
{
    int mode = fegetround();

    (void)arg;
    fesetround(FE_TOWARDZERO);
    return INT_TO_PTR(mode);
}

static void *rounding_upward_caller(coro_t *co, void *arg)
{
    intptr_t in_fn, after;

    (void)arg;
    fesetround(FE_UPWARD);
    in_fn = PTR_TO_INT(coro_call_on_thread_stack(round_toward_zero, NULL));
    after = fegetround();
    fesetround(FE_TONEAREST);
    coro_yield(co, INT_TO_PTR(in_fn));
    return INT_TO_PTR(after);
}

static void test_fn_starts_with_the_callers_rounding_mode(void **state)
{
    coro_t *co;

    (void)state;
    if (RUNNING_ON_VALGRIND) {
        printf("# valgrind does not keep the rounding mode\n");
        skip();
    }
    co = must_create(rounding_upward_caller, NULL);
    assert_int_equal(PTR_TO_INT(coro_next(co)), FE_UPWARD);
    assert_int_equal(PTR_TO_INT(coro_next(co)), FE_UPWARD);
    assert_int_equal(fegetround(), FE_TONEAREST);
    assert_int_equal(coro_destroy(co), 0);
}

#if !defined(_WIN32)
static void *usr1_blocked(void *arg)
{
    sigset_t mask;

    (void)arg;
    if (pthread_sigmask(SIG_BLOCK, NULL, &mask) != 0)
        return INT_TO_PTR(-1);
    return INT_TO_PTR(sigismember(&mask, SIGUSR1));
}

static void *blocking_caller(coro_t *co, void *arg)
{
    sigset_t usr1;
    void *seen;

    (void)co, (void)arg;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &usr1, NULL);
    seen = coro_call_on_thread_stack(usr1_blocked, NULL);
    pthread_sigmask(SIG_UNBLOCK, &usr1, NULL);
    return seen;
}

static void test_fn_starts_with_the_callers_signal_mask(void **state)
{
    coro_t *co = must_create(blocking_caller, NULL);

    (void)state;
    assert_int_equal(PTR_TO_INT(coro_next(co)), 1);
    assert_int_equal(coro_destroy(co), 0);
    assert_int_equal(PTR_TO_INT(usr1_blocked(NULL)), 0);
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stack_size_is_the_size_rounded_up),
        cmocka_unit_test(test_null_is_einval),
        cmocka_unit_test(test_fresh_coroutine_reports_about_one_page),
        cmocka_unit_test(test_recursion_moves_the_figure),
        cmocka_unit_test(test_touching_near_the_bottom_reports_nearly_all),
        cmocka_unit_test(test_reused_stack_counts_earlier_pages),
        cmocka_unit_test(test_used_on_many_coroutines),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_new_coroutine_on_a_named_ones_stack_has_no_name),
        cmocka_unit_test(test_a_body_names_itself),
        cmocka_unit_test(test_call_outside_a_coroutine_is_a_plain_call),
        cmocka_unit_test(test_call_on_thread_stack_three_deep),
        cmocka_unit_test(test_call_on_thread_stack_on_several_threads),
        cmocka_unit_test(test_caller_goes_on_after_the_call),
        cmocka_unit_test(test_errno_from_fn_reaches_the_caller),
        cmocka_unit_test(test_fn_starts_with_the_callers_rounding_mode),
#if !defined(_WIN32)
        cmocka_unit_test(test_fn_starts_with_the_callers_signal_mask),
#endif
    };

#ifdef CORO_TEST_MPROTECT_GUARDS
    coro__test_force_mprotect_guards = true; /* before the first coroutine */
#endif
    return cmocka_run_group_tests(tests, NULL, NULL);
}
