/*
 * Stack walks from inside a coroutine go on past its root into whoever
 * resumed it: each walker the platform has (glibc's backtrace(), libgcc's
 * _Unwind_Backtrace(), libunwind's unw_backtrace(), and a frame-pointer
 * walk in builds that keep frame pointers) is run three calls deep in a
 * body, and the return addresses it lists must hold the one in the
 * function that resumed the coroutine and the one in that function's
 * caller. Built only where the backend links the two (CMake says where).
 */
#include "test_support.h"

#include <unwind.h>

#ifdef CORO_TEST_LIBUNWIND
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#elif defined(__has_include)
#if __has_include(<execinfo.h>)
#include <execinfo.h>
#define HAVE_BACKTRACE 1
#endif
#endif

/* Frame pointers are kept at -O0, or where the build asked for them: then
 * each frame's record links to its caller's. */
#if !defined(__OPTIMIZE__) || defined(CORO_TEST_FRAME_POINTERS)
#define WALK_FRAME_POINTERS 1
#endif

#define MAX_FRAMES 64

struct walk {
    void *pcs[MAX_FRAMES];
    int count;
};

/* libunwind defines backtrace() and _Unwind_Backtrace() too, which take
 * the place of glibc's and libgcc's: its build checks unw_backtrace()
 * alone. */
#ifndef CORO_TEST_LIBUNWIND
#define HAVE_UNWIND_BACKTRACE 1
#endif

enum walker {
#ifdef HAVE_BACKTRACE
    BY_BACKTRACE,
#endif
#ifdef HAVE_UNWIND_BACKTRACE
    BY_UNWIND_BACKTRACE,
#endif
#ifdef CORO_TEST_LIBUNWIND
    BY_LIBUNWIND,
#endif
#ifdef WALK_FRAME_POINTERS
    BY_FRAME_POINTERS,
#endif
    WALKERS
};

static const char *const walker_names[WALKERS] = {
#ifdef HAVE_BACKTRACE
    "backtrace()",
#endif
#ifdef HAVE_UNWIND_BACKTRACE
    "_Unwind_Backtrace()",
#endif
#ifdef CORO_TEST_LIBUNWIND
    "unw_backtrace()",
#endif
#ifdef WALK_FRAME_POINTERS
    "frame pointers",
#endif
};

#ifdef HAVE_UNWIND_BACKTRACE
static _Unwind_Reason_Code record_frame(struct _Unwind_Context *context, void *arg)
{
    struct walk *walk = arg;

    if (walk->count == MAX_FRAMES)
        return _URC_END_OF_STACK;
    walk->pcs[walk->count++] = (void *)_Unwind_GetIP(context);
    return _URC_NO_REASON;
}
#endif

#ifdef WALK_FRAME_POINTERS
/* A return address as a frame record holds it, without the authentication
 * code a -mbranch-protection build signs it with (xpaclri, a no-op where
 * nothing signs). */
static void *strip_signature(void *pc)
{
#if defined(__aarch64__)
    register void *x30 __asm__("x30") = pc;

    __asm__("hint 7" : "+r"(x30));
    return x30;
#else
    return pc;
#endif
}

/* The frame pointer walk a profiler does, up to the frame whose return
 * address is `last` (beyond it the test's callers may keep no frame
 * pointer). */
static TEST_NOINLINE void walk_frame_pointers(struct walk *walk, const void *last)
{
    void *const *fp = __builtin_frame_address(0);

    while (fp != NULL && walk->count < MAX_FRAMES) {
#if defined(__riscv)
        void *pc = fp[-1]; /* s0 points just above the record {s0, ra} */
        void *const *next = fp[-2];
#else
        void *pc = strip_signature(fp[1]); /* the record is {frame pointer, return address} */
        void *const *next = fp[0];
#endif
        if (pc == NULL)
            break;
        walk->pcs[walk->count++] = pc;
        if (pc == last)
            break;
        fp = next;
    }
}
#endif

/* What walkers saw, per walker, and the return addresses they must list. */
static struct walk walks[WALKERS];
static const void *last_expected;

/* libunwind checks each address it reads with a system call on a pipe,
 * which valgrind reports (its buffer is the stack being walked). */
static int left_out(int walker)
{
#ifdef CORO_TEST_LIBUNWIND
    return walker == BY_LIBUNWIND && RUNNING_ON_VALGRIND;
#else
    (void)walker;
    return 0;
#endif
}

static TEST_NOINLINE void walk_here(void)
{
    for (int walker = 0; walker < WALKERS; walker++) {
        struct walk *walk = &walks[walker];

        walk->count = 0;
        if (left_out(walker))
            continue;
        switch ((enum walker)walker) {
#ifdef HAVE_BACKTRACE
        case BY_BACKTRACE:
            walk->count = backtrace(walk->pcs, MAX_FRAMES);
            break;
#endif
#ifdef HAVE_UNWIND_BACKTRACE
        case BY_UNWIND_BACKTRACE:
            _Unwind_Backtrace(record_frame, walk);
            break;
#endif
#ifdef CORO_TEST_LIBUNWIND
        case BY_LIBUNWIND:
            walk->count = unw_backtrace(walk->pcs, MAX_FRAMES);
            break;
#endif
#ifdef WALK_FRAME_POINTERS
        case BY_FRAME_POINTERS:
            walk_frame_pointers(walk, last_expected);
            break;
#endif
        default:
            break;
        }
    }
}

/* No tail calls and no inlining: each of these keeps a frame of its own. */
#define KEEP_FRAME() __asm__ volatile("" ::: "memory")

static TEST_NOINLINE void third(void)
{
    walk_here();
    KEEP_FRAME();
}

static TEST_NOINLINE void second(void)
{
    third();
    KEEP_FRAME();
}

static TEST_NOINLINE void first(void)
{
    second();
    KEEP_FRAME();
}

/* Walks three calls deep each time it is resumed (a throw in included),
 * until closed. */
static void *walking_body(coro_t *co, void *arg)
{
    (void)arg;
    for (;;) {
        first();
        if (coro_yield(co, NULL) == NULL && errno == ECANCELED)
            return NULL; /* not reached: a close ends the pending yield */
    }
}

static int walk_holds(const struct walk *walk, const void *pc)
{
    for (int i = 0; i < walk->count; i++)
        if (walk->pcs[i] == pc)
            return 1;
    return 0;
}

/* Every walker listed each of pcs (and, with absent, not that one). */
static void assert_walks_hold(const void *const *pcs, int count, const void *absent)
{
    for (int walker = 0; walker < WALKERS; walker++) {
        if (left_out(walker))
            continue;
        for (int i = 0; i < count; i++) {
            if (!walk_holds(&walks[walker], pcs[i]))
                fail_msg("%s from the coroutine does not reach return address %d (%p): it "
                         "lists %d frames",
                         walker_names[walker], i, pcs[i], walks[walker].count);
        }
        if (absent != NULL && walk_holds(&walks[walker], absent))
            fail_msg("%s lists %p, where an earlier resumer was", walker_names[walker], absent);
    }
}

/* The return address into each resumer's caller, as it captured it. */
static const void *into_test, *into_runner;

static TEST_NOINLINE void *resume_with_next(coro_t *co)
{
    void *value;

    into_test = __builtin_return_address(0);
    value = coro_next(co);
    KEEP_FRAME();
    return value;
}

static TEST_NOINLINE void *resume_with_send(coro_t *co)
{
    void *value;

    into_test = __builtin_return_address(0);
    value = coro_send(co, NULL);
    KEEP_FRAME();
    return value;
}

static TEST_NOINLINE void *resume_with_resume(coro_t *co)
{
    void *value = NULL;

    into_test = __builtin_return_address(0);
    assert_int_equal(coro_resume(co, NULL, &value), 0);
    KEEP_FRAME();
    return value;
}

static TEST_NOINLINE void *resume_with_throw(coro_t *co)
{
    void *value = NULL;

    into_test = __builtin_return_address(0);
    assert_int_equal(coro_throw(co, EAGAIN, &value), 0);
    KEEP_FRAME();
    return value;
}

/* Each walk lists the latest resumer's call site and its caller's, not an
 * earlier one's. */
static const void *check_latest_resumer(const void *earlier)
{
    const void *pcs[2] = {into_test, into_runner};

    assert_walks_hold(pcs, 2, earlier);
    return into_test;
}

static void test_each_resuming_call_is_reached(void **state)
{
    coro_t *co = must_create(walking_body, NULL);
    const void *earlier;

    (void)state;
    into_runner = __builtin_return_address(0);
    last_expected = into_runner;
    resume_with_next(co); /* each from a call site of its own */
    earlier = check_latest_resumer(NULL);
    resume_with_send(co);
    earlier = check_latest_resumer(earlier);
    resume_with_resume(co);
    earlier = check_latest_resumer(earlier);
    resume_with_throw(co);
    check_latest_resumer(earlier);
    assert_int_equal(coro_destroy(co), 0);
}

/* A cleanup of a coroutine closed while suspended runs on its stack,
 * resumed by coro_close(). */
static void walk_in_cleanup(void *arg)
{
    (void)arg;
    first();
}

static void *deferring_body(coro_t *co, void *arg)
{
    (void)arg;
    coro_defer(co, walk_in_cleanup, NULL);
    coro_yield(co, NULL);
    return NULL;
}

static TEST_NOINLINE void close_from_here(coro_t *co)
{
    into_test = __builtin_return_address(0);
    assert_int_equal(coro_close(co), 0);
    KEEP_FRAME();
}

static void test_close_is_reached_from_a_cleanup(void **state)
{
    coro_t *co = must_create(deferring_body, NULL);
    const void *pcs[2];

    (void)state;
    into_runner = __builtin_return_address(0);
    last_expected = into_runner;
    coro_next(co);
    close_from_here(co);
    pcs[0] = into_test;
    pcs[1] = into_runner;
    assert_walks_hold(pcs, 2, NULL);
    assert_int_equal(coro_destroy(co), 0);
}

/* main -> outer -> inner: the walk from inner goes through outer's frames
 * (where it resumed inner) to the test's. */
static const void *into_outer;

static TEST_NOINLINE void *resume_inner(coro_t *inner)
{
    void *value;

    into_outer = __builtin_return_address(0);
    value = coro_next(inner);
    KEEP_FRAME();
    return value;
}

static void *outer_body(coro_t *co, void *arg)
{
    coro_t *inner = coro_create(walking_body, NULL, 0);

    (void)co, (void)arg;
    if (inner == NULL)
        return NULL;
    resume_inner(inner);
    KEEP_FRAME();
    coro_destroy(inner);
    return INT_TO_PTR(1);
}

/* Delegation: inner runs resumed by outer's coro_yield_from(). */
static void *delegating_body(coro_t *co, void *arg)
{
    coro_t *inner = coro_create(walking_body, NULL, 0);

    (void)arg;
    if (inner == NULL)
        return NULL;
    into_outer = NULL;
    coro_yield_from(co, inner);
    coro_destroy(inner);
    return INT_TO_PTR(1);
}

static void test_nested_coroutines_are_walked_through(void **state)
{
    coro_t *outer = must_create(outer_body, NULL);
    const void *pcs[3];

    (void)state;
    into_runner = __builtin_return_address(0);
    last_expected = into_runner;
    assert_int_equal(PTR_TO_INT(resume_with_next(outer)), 1);
    pcs[0] = into_outer;
    pcs[1] = into_test;
    pcs[2] = into_runner;
    assert_walks_hold(pcs, 3, NULL);
    assert_int_equal(coro_destroy(outer), 0);
}

static void test_a_delegate_is_walked_through_its_delegator(void **state)
{
    coro_t *outer = must_create(delegating_body, NULL);
    const void *pcs[2];

    (void)state;
    into_runner = __builtin_return_address(0);
    last_expected = into_runner;
    assert_null(resume_with_next(outer));
    pcs[0] = into_test;
    pcs[1] = into_runner;
    assert_walks_hold(pcs, 2, NULL);
    /* Resumed again, through the delegator, from elsewhere. */
    assert_null(resume_with_send(outer));
    pcs[0] = into_test;
    assert_walks_hold(pcs, 2, NULL);
    assert_int_equal(coro_destroy(outer), 0);
}

/* A walk from a function run on the thread's stack goes through the
 * coroutine that called it, to that coroutine's resumer. */
static const void *into_calling_body;

static void *walk_on_thread_stack(void *arg)
{
    (void)arg;
    first();
    KEEP_FRAME();
    return INT_TO_PTR(2);
}

static TEST_NOINLINE void *call_walker_on_thread_stack(void)
{
    void *value;

    into_calling_body = __builtin_return_address(0);
    value = coro_call_on_thread_stack(walk_on_thread_stack, NULL);
    KEEP_FRAME();
    return value;
}

static void *calling_body(coro_t *co, void *arg)
{
    void *value;

    (void)co, (void)arg;
    value = call_walker_on_thread_stack();
    KEEP_FRAME();
    return value;
}

static void test_a_call_on_the_thread_stack_is_walked_through(void **state)
{
    coro_t *co = must_create_sized(calling_body, NULL, CORO_MIN_STACK_SIZE);
    const void *pcs[3];

    (void)state;
    into_runner = __builtin_return_address(0);
    last_expected = into_runner;
    assert_int_equal(PTR_TO_INT(resume_with_next(co)), 2);
    pcs[0] = into_calling_body;
    pcs[1] = into_test;
    pcs[2] = into_runner;
    assert_walks_hold(pcs, 3, NULL);
    assert_int_equal(coro_destroy(co), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_resuming_call_is_reached),
        cmocka_unit_test(test_close_is_reached_from_a_cleanup),
        cmocka_unit_test(test_nested_coroutines_are_walked_through),
        cmocka_unit_test(test_a_delegate_is_walked_through_its_delegator),
        cmocka_unit_test(test_a_call_on_the_thread_stack_is_walked_through),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
