/*
 * Lifecycle: creating coroutines with the stack sizes coro.h allows, the
 * status of a coroutine through its life, coro_current(), the body's
 * arguments, and coro_destroy() in every state a caller can destroy from.
 */
#include "test_support.h"

#include <errno.h>

/* ---- shared bodies ------------------------------------------------------ */

/* What a body did: how often it ran, how far, and what it was given. */
struct seen {
    int runs;
    int after_yield; /* set once the body's first coro_yield() returned */
    coro_t *co;
    void *arg;
};

/* Records its arguments, checks it is the current and RUNNING coroutine,
 * yields once, checks again, and returns its argument. */
static void *recording_body(coro_t *co, void *arg)
{
    struct seen *s = arg;

    s->runs++;
    s->co = co;
    s->arg = arg;
    body_assert_ptr_equal(coro_current(), co);
    body_assert_int_equal(coro_status(co), CORO_RUNNING);
    coro_yield(co, INT_TO_PTR(1));
    s->after_yield = 1;
    body_assert_ptr_equal(coro_current(), co);
    body_assert_int_equal(coro_status(co), CORO_RUNNING);
    return arg;
}

/* Yields its argument, then returns 42. */
static void *yield_arg_body(coro_t *co, void *arg)
{
    coro_yield(co, arg);
    return INT_TO_PTR(42);
}

/* Uses a few KiB of its stack in one frame, then yields their checksum. */
static void *stack_user_body(coro_t *co, void *arg)
{
    volatile unsigned char buf[4096];
    unsigned long sum = 0;

    (void)arg;
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (unsigned char)i;
    for (size_t i = 0; i < sizeof buf; i++)
        sum += buf[i];
    coro_yield(co, INT_TO_PTR(sum));
    return INT_TO_PTR(7);
}

/* 0 + 1 + ... + 255, sixteen times: what stack_user_body() yields. */
static unsigned long stack_user_sum(void)
{
    unsigned long sum = 0;

    for (size_t i = 0; i < 4096; i++)
        sum += (unsigned char)i;
    return sum;
}

/* Runs a coroutine of stack_user_body on a stack of size bytes to its end. */
static void run_stack_user(size_t size)
{
    coro_t *co = must_create_sized(stack_user_body, NULL, size);
    void *out = NULL;

    assert_int_equal(coro_status(co), CORO_CREATED);
    assert_int_equal(coro_resume(co, NULL, &out), 0);
    assert_int_equal(PTR_TO_INT(out), (intptr_t)stack_user_sum());
    assert_int_equal(coro_status(co), CORO_SUSPENDED);
    assert_int_equal(coro_resume(co, NULL, &out), 0);
    assert_int_equal(PTR_TO_INT(out), 7);
    assert_int_equal(coro_status(co), CORO_DEAD);
    assert_int_equal(coro_destroy(co), 0);
}

/* ---- creation and stack sizes ------------------------------------------ */

static void test_lifecycle_create_default_stack(void **state)
{
    /* stack_size 0 gives a usable default stack and a CREATED coroutine. */
    (void)state;
    run_stack_user(0);
}

static void test_lifecycle_create_min_stack(void **state)
{
    /* CORO_MIN_STACK_SIZE is accepted and the body can run on it. */
    (void)state;
    run_stack_user(CORO_MIN_STACK_SIZE);
}

static void test_lifecycle_create_unaligned_stack(void **state)
{
    /* A stack size that is not a page multiple is accepted (rounded up). */
    (void)state;
    run_stack_user(CORO_MIN_STACK_SIZE + 1);
    run_stack_user(100001);
}

/* Recursion with a 2 KiB frame per level, yielding at the bottom, which is
 * more than 2 MiB away from top (the outermost frame's buffer; 0 to be it).
 * Returns the sum of what each level stored plus the value sent at the
 * bottom. */
static long big_frames_recurse(coro_t *co, uintptr_t top, int n)
{
    volatile unsigned char buf[2048];
    uintptr_t here = (uintptr_t)&buf[0];
    long below;

    buf[0] = (unsigned char)n;
    buf[sizeof buf - 1] = (unsigned char)(n >> 3);
    if (top == 0)
        top = here;
    if (n == 0) {
        body_assert_true((top > here ? top - here : here - top) > 2u * 1024u * 1024u);
        below = (long)PTR_TO_INT(coro_yield(co, INT_TO_PTR(-1)));
    } else {
        below = big_frames_recurse(co, top, n - 1);
    }
    return below + buf[0] + buf[sizeof buf - 1];
}

#define DEEP_LEVELS 2048 /* about 4 MiB: far beyond the 64 KiB default */

static void *big_frames_body(coro_t *co, void *arg)
{
    (void)arg;
    return INT_TO_PTR(big_frames_recurse(co, 0, DEEP_LEVELS));
}

static void test_lifecycle_create_big_stack(void **state)
{
    /* An 8 MiB stack is accepted and MiBs of it can be used, yielding from the
     * bottom of a deep recursion and unwinding it afterwards. */
    long expected = 1000;
    void *out = NULL;
    coro_t *co;

    (void)state;
    co = must_create_sized(big_frames_body, NULL, 8u * 1024u * 1024u);
    assert_int_equal(coro_resume(co, NULL, &out), 0);
    assert_int_equal(PTR_TO_INT(out), -1);
    assert_int_equal(coro_status(co), CORO_SUSPENDED);

    for (int n = 0; n <= DEEP_LEVELS; n++)
        expected += (unsigned char)n + (unsigned char)(n >> 3);
    assert_int_equal(coro_resume(co, INT_TO_PTR(1000), &out), 0);
    assert_int_equal(PTR_TO_INT(out), expected);
    assert_int_equal(coro_status(co), CORO_DEAD);
    assert_int_equal(coro_destroy(co), 0);
}

static void test_lifecycle_create_runs_nothing(void **state)
{
    /* coro_create() does not start the body; the first resume does. */
    struct seen s = {0};
    coro_t *co;

    (void)state;
    co = must_create(recording_body, &s);
    assert_int_equal(coro_status(co), CORO_CREATED);
    assert_int_equal(s.runs, 0);
    assert_int_equal(PTR_TO_INT(coro_next(co)), 1);
    assert_int_equal(s.runs, 1);
    assert_int_equal(coro_destroy(co), 0);
}

/* ---- status ------------------------------------------------------------- */

static void test_lifecycle_status_transitions(void **state)
{
    /* CREATED, RUNNING (checked inside), SUSPENDED, RUNNING, DEAD. */
    struct seen s = {0};
    coro_t *co;

    (void)state;
    co = must_create(recording_body, &s);
    assert_int_equal(coro_status(co), CORO_CREATED);

    assert_ptr_equal(coro_next(co), INT_TO_PTR(1));
    assert_int_equal(s.after_yield, 0);
    assert_int_equal(coro_status(co), CORO_SUSPENDED);

    assert_ptr_equal(coro_next(co), &s);
    assert_int_equal(s.after_yield, 1);
    assert_int_equal(coro_status(co), CORO_DEAD);
    assert_int_equal(s.runs, 1);
    assert_int_equal(coro_destroy(co), 0);
}

static void test_lifecycle_close_created(void **state)
{
    /* Closing a CREATED coroutine makes it DEAD without running the body. */
    struct seen s = {0};
    void *out = INT_TO_PTR(99);
    coro_t *co;

    (void)state;
    co = must_create(recording_body, &s);
    assert_int_equal(coro_close(co), 0);
    assert_int_equal(coro_status(co), CORO_DEAD);
    assert_int_equal(s.runs, 0);
    /* It stays dead: resuming it does not start the body either. */
    assert_int_equal(coro_resume(co, NULL, &out), ESRCH);
    assert_ptr_equal(out, INT_TO_PTR(99));
    assert_int_equal(s.runs, 0);
    assert_int_equal(coro_destroy(co), 0);
    assert_int_equal(s.runs, 0);
}

static void test_lifecycle_status_null_is_dead(void **state)
{
    /* coro_status(NULL) reads as CORO_DEAD. */
    (void)state;
    assert_int_equal(coro_status(NULL), CORO_DEAD);
}

/* ---- coro_current() ----------------------------------------------------- */

static void test_lifecycle_current_outside(void **state)
{
    /* coro_current() is NULL outside any coroutine: before, between resumes
     * and after the end. */
    struct seen s = {0};
    coro_t *co;

    (void)state;
    assert_null(coro_current());
    co = must_create(recording_body, &s);
    assert_null(coro_current());
    coro_next(co);
    assert_null(coro_current());
    coro_next(co);
    assert_int_equal(coro_status(co), CORO_DEAD);
    assert_null(coro_current());
    assert_int_equal(coro_destroy(co), 0);
    assert_null(coro_current());
}

static TEST_NOINLINE coro_t *current_from_helper(int depth)
{
    volatile int keep = depth;

    return keep > 0 ? current_from_helper(keep - 1) : coro_current();
}

/* Checks coro_current() in itself and three calls down, before and after a
 * yield. */
static void *current_body(coro_t *co, void *arg)
{
    (void)arg;
    body_assert_ptr_equal(coro_current(), co);
    body_assert_ptr_equal(current_from_helper(3), co);
    coro_yield(co, NULL);
    body_assert_ptr_equal(coro_current(), co);
    body_assert_ptr_equal(current_from_helper(3), co);
    return NULL;
}

static void test_lifecycle_current_inside(void **state)
{
    /* coro_current() is co inside co's body and in functions it calls, before
     * and after a yield. */
    coro_t *co;

    (void)state;
    co = must_create(current_body, NULL);
    coro_next(co);
    coro_next(co);
    assert_int_equal(coro_status(co), CORO_DEAD);
    assert_int_equal(coro_destroy(co), 0);
}

static void test_lifecycle_backend_is_configured(void **state)
{
    /* coro_backend() names the backend CMake built in (CORO_BACKEND). */
    (void)state;
    assert_non_null(coro_backend());
    assert_string_equal(coro_backend(), CORO_TEST_BACKEND);
}

static void test_lifecycle_body_arguments(void **state)
{
    /* The body is called as fn(co, arg) with the created co and the given arg,
     * including a NULL arg. */
    struct seen s = {0};
    coro_t *co;

    (void)state;
    co = must_create(recording_body, &s);
    coro_next(co);
    assert_ptr_equal(s.co, co);
    assert_ptr_equal(s.arg, &s);
    assert_int_equal(coro_destroy(co), 0);

    co = must_create(yield_arg_body, NULL);
    assert_null_errno(coro_next(co), 0);
    assert_int_equal(coro_status(co), CORO_SUSPENDED);
    assert_int_equal(coro_destroy(co), 0);
}

/* ---- destroy ------------------------------------------------------------ */

static void test_lifecycle_destroy_null(void **state)
{
    /* coro_destroy(NULL) does nothing and returns 0. */
    (void)state;
    assert_int_equal(coro_destroy(NULL), 0);
}

static void test_lifecycle_destroy_created(void **state)
{
    /* Destroying a CREATED coroutine returns 0 and never runs its body. */
    struct seen s = {0};
    coro_t *co;

    (void)state;
    co = must_create(recording_body, &s);
    assert_int_equal(coro_destroy(co), 0);
    assert_int_equal(s.runs, 0);
}

static void test_lifecycle_destroy_suspended(void **state)
{
    /* Destroying a SUSPENDED coroutine returns 0 and its pending yield never
     * returns. */
    struct seen s = {0};
    coro_t *co;

    (void)state;
    co = must_create(recording_body, &s);
    coro_next(co);
    assert_int_equal(coro_status(co), CORO_SUSPENDED);
    assert_int_equal(coro_destroy(co), 0);
    assert_int_equal(s.runs, 1);
    assert_int_equal(s.after_yield, 0);
    assert_null(coro_current());
}

static void test_lifecycle_destroy_dead(void **state)
{
    /* Destroying a DEAD coroutine (returned or closed) returns 0. */
    struct seen s = {0};
    coro_t *co;

    (void)state;
    co = must_create(recording_body, &s);
    coro_next(co);
    coro_next(co);
    assert_int_equal(coro_status(co), CORO_DEAD);
    assert_int_equal(coro_destroy(co), 0);
    assert_int_equal(s.runs, 1);
    assert_int_equal(s.after_yield, 1);

    co = must_create(yield_arg_body, NULL);
    coro_next(co);
    assert_int_equal(coro_close(co), 0);
    assert_int_equal(coro_status(co), CORO_DEAD);
    assert_int_equal(coro_destroy(co), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        body_checked_test(test_lifecycle_create_default_stack),
        body_checked_test(test_lifecycle_create_min_stack),
        body_checked_test(test_lifecycle_create_unaligned_stack),
        body_checked_test(test_lifecycle_create_big_stack),
        body_checked_test(test_lifecycle_create_runs_nothing),
        body_checked_test(test_lifecycle_status_transitions),
        body_checked_test(test_lifecycle_close_created),
        body_checked_test(test_lifecycle_status_null_is_dead),
        body_checked_test(test_lifecycle_current_outside),
        body_checked_test(test_lifecycle_current_inside),
        body_checked_test(test_lifecycle_backend_is_configured),
        body_checked_test(test_lifecycle_body_arguments),
        body_checked_test(test_lifecycle_destroy_null),
        body_checked_test(test_lifecycle_destroy_created),
        body_checked_test(test_lifecycle_destroy_suspended),
        body_checked_test(test_lifecycle_destroy_dead),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
