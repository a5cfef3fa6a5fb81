/*
 * Values: what travels through coro_next(), coro_send(), coro_resume() and
 * coro_yield(), with Python's generator rules for a coroutine that has not
 * started and one that is exhausted (one that is executing: test_errors.c,
 * test_errors_busy_running).
 */
#include "bodies.h"

#include <errno.h>
#include <fenv.h>
#include <stdio.h>

#define SENTINEL INT_TO_PTR(0x5eed)

/* What a body received: its yields' return values, in order. */
struct log {
    void *got[128];
    int count;
    int ran;
};

static void log_add(struct log *l, void *value)
{
    if (l->count < (int)(sizeof l->got / sizeof l->got[0]))
        l->got[l->count++] = value;
}

/* Yields 10, 20, 30, logging what each yield returns, then returns 99. */
static void *three_body(coro_t *co, void *arg)
{
    struct log *l = arg;

    l->ran = 1;
    log_add(l, coro_yield(co, INT_TO_PTR(10)));
    log_add(l, coro_yield(co, INT_TO_PTR(20)));
    log_add(l, coro_yield(co, INT_TO_PTR(30)));
    return INT_TO_PTR(99);
}

static void test_values_next_returns_yields(void **state)
{
    /* Each coro_next() returns the next yielded value; each pending yield
     * returns NULL. */
    struct log l = {0};
    coro_t *co;

    (void)state;
    co = must_create(three_body, &l);
    assert_int_equal(PTR_TO_INT(coro_next(co)), 10);
    assert_int_equal(PTR_TO_INT(coro_next(co)), 20);
    assert_int_equal(PTR_TO_INT(coro_next(co)), 30);
    assert_int_equal(l.count, 2);
    assert_null(l.got[0]);
    assert_null(l.got[1]);
    assert_int_equal(coro_destroy(co), 0);
}

static void test_values_send_reaches_yield(void **state)
{
    /* Each coro_send() returns the next yield, and the value sent is what the
     * pending coro_yield() returns inside. */
    struct log l = {0};
    coro_t *co;

    (void)state;
    co = must_create(three_body, &l);
    assert_int_equal(PTR_TO_INT(coro_send(co, NULL)), 10);
    assert_int_equal(PTR_TO_INT(coro_send(co, INT_TO_PTR(1))), 20);
    assert_int_equal(PTR_TO_INT(coro_send(co, INT_TO_PTR(2))), 30);
    assert_int_equal(l.count, 2);
    assert_int_equal(PTR_TO_INT(l.got[0]), 1);
    assert_int_equal(PTR_TO_INT(l.got[1]), 2);
    assert_int_equal(coro_destroy(co), 0);
}

static void test_values_return_value(void **state)
{
    /* The last coro_send() returns the body's return value and the status is
     * DEAD; after each yield it is SUSPENDED. */
    struct log l = {0};
    coro_t *co;

    (void)state;
    co = must_create(three_body, &l);
    assert_int_equal(PTR_TO_INT(coro_send(co, NULL)), 10);
    assert_int_equal(coro_status(co), CORO_SUSPENDED);
    assert_int_equal(PTR_TO_INT(coro_send(co, INT_TO_PTR(1))), 20);
    assert_int_equal(coro_status(co), CORO_SUSPENDED);
    assert_int_equal(PTR_TO_INT(coro_send(co, INT_TO_PTR(2))), 30);
    assert_int_equal(coro_status(co), CORO_SUSPENDED);
    assert_int_equal(PTR_TO_INT(coro_send(co, INT_TO_PTR(3))), 99);
    assert_int_equal(coro_status(co), CORO_DEAD);
    assert_int_equal(l.count, 3);
    assert_int_equal(PTR_TO_INT(l.got[2]), 3);
    assert_int_equal(coro_destroy(co), 0);
}

/* Yields NULL, then returns NULL. */
static void *null_body(coro_t *co, void *arg)
{
    struct log *l = arg;

    log_add(l, coro_yield(co, NULL));
    return NULL;
}

static void test_values_null_is_a_value(void **state)
{
    /* A yielded or returned NULL is a value: coro_resume() returns 0 with
     * *out NULL, and the status tells a yield from a return. */
    struct log l = {0};
    void *out = SENTINEL;
    coro_t *co;

    (void)state;
    co = must_create(null_body, &l);
    assert_int_equal(coro_resume(co, NULL, &out), 0);
    assert_null(out);
    assert_int_equal(coro_status(co), CORO_SUSPENDED);

    out = SENTINEL;
    assert_int_equal(coro_resume(co, INT_TO_PTR(5), &out), 0);
    assert_null(out);
    assert_int_equal(coro_status(co), CORO_DEAD);
    assert_int_equal(l.count, 1);
    assert_int_equal(PTR_TO_INT(l.got[0]), 5);

    /* Now NULL means an error, which only coro_resume() tells apart. */
    out = SENTINEL;
    assert_int_equal(coro_resume(co, NULL, &out), ESRCH);
    assert_ptr_equal(out, SENTINEL);
    assert_int_equal(coro_destroy(co), 0);
}

static void test_values_resume_out_null(void **state)
{
    /* coro_resume() with out NULL still resumes and delivers the value sent. */
    struct log l = {0};
    coro_t *co;

    (void)state;
    co = must_create(three_body, &l);
    assert_int_equal(coro_resume(co, NULL, NULL), 0);
    assert_int_equal(l.ran, 1);
    assert_int_equal(coro_status(co), CORO_SUSPENDED);
    assert_int_equal(coro_resume(co, INT_TO_PTR(7), NULL), 0);
    assert_int_equal(l.count, 1);
    assert_int_equal(PTR_TO_INT(l.got[0]), 7);
    /* The value skipped (20) is gone: the next one is 30. */
    assert_int_equal(PTR_TO_INT(coro_send(co, INT_TO_PTR(8))), 30);
    assert_int_equal(coro_resume(co, INT_TO_PTR(9), NULL), 0);
    assert_int_equal(coro_status(co), CORO_DEAD);
    assert_int_equal(l.count, 3);
    assert_int_equal(PTR_TO_INT(l.got[2]), 9);
    assert_int_equal(coro_destroy(co), 0);
}

static void test_values_running_sum(void **state)
{
    /* The running sum from coro.h: next 0, send 2 -> 2, send 3 -> 5. */
    coro_t *co;

    (void)state;
    co = must_create(running_sum, NULL);
    assert_int_equal(PTR_TO_INT(coro_next(co)), 0);
    assert_int_equal(PTR_TO_INT(coro_send(co, INT_TO_PTR(2))), 2);
    assert_int_equal(PTR_TO_INT(coro_send(co, INT_TO_PTR(3))), 5);
    assert_int_equal(PTR_TO_INT(coro_send(co, INT_TO_PTR(-5))), 0);
    assert_int_equal(coro_status(co), CORO_SUSPENDED);
    assert_int_equal(coro_destroy(co), 0);
}

/* Yields depth at the bottom of depth nested calls, then adds what it got
 * back to what every level adds on the way out. */
static TEST_NOINLINE long yield_deep(coro_t *co, int depth, int level)
{
    volatile int here = level;

    if (level == depth)
        return (long)PTR_TO_INT(coro_yield(co, INT_TO_PTR(depth)));
    return yield_deep(co, depth, level + 1) + here;
}

static void *yield_at_depths_body(coro_t *co, void *arg)
{
    long total = 0;

    (void)arg;
    for (int depth = 1; depth <= 8; depth++)
        total += yield_deep(co, depth, 0);
    return INT_TO_PTR(total);
}

static void test_values_yield_from_depth(void **state)
{
    /* A yield several ordinary calls deep hands its value out and gets the
     * sent value back at that depth (stackful). */
    long expected = 0;
    coro_t *co;

    (void)state;
    co = must_create(yield_at_depths_body, NULL);
    assert_int_equal(PTR_TO_INT(coro_next(co)), 1);
    for (int depth = 1; depth <= 8; depth++) {
        void *out = NULL;

        /* levels 0..depth-1 add themselves, the bottom adds what is sent */
        expected += (long)depth * (depth - 1) / 2 + 100 * depth;
        assert_int_equal(coro_resume(co, INT_TO_PTR(100 * depth), &out), 0);
        if (depth < 8) {
            assert_int_equal(coro_status(co), CORO_SUSPENDED);
            assert_int_equal(PTR_TO_INT(out), depth + 1);
        } else {
            assert_int_equal(coro_status(co), CORO_DEAD);
            assert_int_equal(PTR_TO_INT(out), expected);
        }
    }
    assert_int_equal(coro_destroy(co), 0);
}

/* Yields 0..count-1, then returns count. */
static void *range_body(coro_t *co, void *arg)
{
    intptr_t count = PTR_TO_INT(arg);

    for (intptr_t i = 0; i < count; i++)
        coro_yield(co, INT_TO_PTR(i));
    return INT_TO_PTR(count);
}

static void test_values_generator_loop(void **state)
{
    /* A generator of 100 values consumed in a loop until DEAD gives them all,
     * in order, then its return value. */
    intptr_t expected = 0;
    void *value;
    coro_t *co;

    (void)state;
    co = must_create(range_body, INT_TO_PTR(100));
    for (;;) {
        value = coro_next(co);
        if (coro_status(co) == CORO_DEAD)
            break;
        assert_int_equal(PTR_TO_INT(value), expected);
        expected++;
    }
    assert_int_equal(expected, 100);
    assert_int_equal(PTR_TO_INT(value), 100);
    assert_int_equal(coro_destroy(co), 0);
}

static void test_values_independent_generators(void **state)
{
    /* Two generators of the same body, interleaved, keep their own state. */
    coro_t *a, *b;

    (void)state;
    a = must_create(running_sum, NULL);
    b = must_create(running_sum, NULL);
    assert_int_equal(PTR_TO_INT(coro_next(a)), 0);
    assert_int_equal(PTR_TO_INT(coro_next(b)), 0);
    assert_int_equal(PTR_TO_INT(coro_send(a, INT_TO_PTR(1))), 1);
    assert_int_equal(PTR_TO_INT(coro_send(b, INT_TO_PTR(100))), 100);
    assert_int_equal(PTR_TO_INT(coro_send(a, INT_TO_PTR(2))), 3);
    assert_int_equal(PTR_TO_INT(coro_send(b, INT_TO_PTR(200))), 300);
    assert_int_equal(coro_destroy(a), 0);
    assert_int_equal(PTR_TO_INT(coro_send(b, INT_TO_PTR(1))), 301);
    assert_int_equal(coro_destroy(b), 0);
}

/* Yields a pointer to its local counter, then returns what the caller
 * wrote into it. */
static void *local_body(coro_t *co, void *arg)
{
    long local = 1;

    (void)arg;
    coro_yield(co, &local);
    return INT_TO_PTR(local);
}

static void test_values_pointer_to_body_local(void **state)
{
    /* A yielded pointer to a body's local stays valid while it is suspended:
     * the caller's write through it is what the body sees. */
    long *p;
    coro_t *co;

    (void)state;
    co = must_create(local_body, NULL);
    p = coro_next(co);
    assert_non_null(p);
    assert_int_equal(*p, 1);
    *p = 1234;
    assert_int_equal(PTR_TO_INT(coro_next(co)), 1234);
    assert_int_equal(coro_status(co), CORO_DEAD);
    assert_int_equal(coro_destroy(co), 0);
}

static void test_values_send_to_created(void **state)
{
    /* A non-NULL send to a CREATED coroutine fails with EINVAL and changes
     * nothing; it then starts normally with NULL. */
    struct log l = {0};
    void *out = SENTINEL;
    coro_t *co;

    (void)state;
    co = must_create(three_body, &l);

    assert_null_errno(coro_send(co, INT_TO_PTR(1)), EINVAL);
    assert_int_equal(coro_status(co), CORO_CREATED);
    assert_int_equal(coro_resume(co, INT_TO_PTR(2), &out), EINVAL);
    assert_ptr_equal(out, SENTINEL);
    assert_int_equal(coro_status(co), CORO_CREATED);
    assert_int_equal(l.ran, 0);

    assert_int_equal(PTR_TO_INT(coro_send(co, NULL)), 10);
    assert_int_equal(l.ran, 1);
    assert_int_equal(PTR_TO_INT(coro_send(co, INT_TO_PTR(3))), 20);
    assert_int_equal(l.count, 1);
    assert_int_equal(PTR_TO_INT(l.got[0]), 3);
    assert_int_equal(coro_destroy(co), 0);
}

/* Resuming co, DEAD, fails with ESRCH by every entry point; nothing runs. */
static void check_exhausted(coro_t *co, const struct log *l)
{
    int count = l->count;
    void *out = SENTINEL;

    assert_null_errno(coro_send(co, INT_TO_PTR(1)), ESRCH);
    assert_null_errno(coro_next(co), ESRCH);
    assert_int_equal(coro_resume(co, NULL, &out), ESRCH);
    assert_ptr_equal(out, SENTINEL);
    assert_int_equal(coro_resume(co, INT_TO_PTR(1), &out), ESRCH);
    assert_ptr_equal(out, SENTINEL);
    assert_int_equal(coro_status(co), CORO_DEAD);
    assert_int_equal(l->count, count);
}

static void test_values_exhausted(void **state)
{
    /* Resuming a coroutine whose body returned fails with ESRCH (Python's
     * StopIteration), with *out untouched. */
    struct log l = {0};
    coro_t *co;

    (void)state;
    co = must_create(three_body, &l);
    for (int i = 0; i < 4; i++)
        coro_next(co);
    assert_int_equal(coro_status(co), CORO_DEAD);
    check_exhausted(co, &l);
    check_exhausted(co, &l); /* and again: it stays exhausted */
    assert_int_equal(coro_destroy(co), 0);
}

static void test_values_exhausted_after_close(void **state)
{
    /* Resuming a closed coroutine, started or not, fails with ESRCH. */
    struct log l = {0};
    coro_t *co;

    (void)state;
    co = must_create(three_body, &l);
    assert_int_equal(PTR_TO_INT(coro_next(co)), 10);
    assert_int_equal(coro_close(co), 0);
    check_exhausted(co, &l);
    assert_int_equal(l.count, 0);
    assert_int_equal(coro_destroy(co), 0);

    l = (struct log){0};
    co = must_create(three_body, &l);
    assert_int_equal(coro_close(co), 0);
    check_exhausted(co, &l);
    assert_int_equal(l.ran, 0);
    assert_int_equal(coro_destroy(co), 0);
}

/* One third, rounded by the current mode in the SSE (or FP) unit. */
TEST_NOINLINE static double one_third(void)
{
    volatile double one = 1.0, three = 3.0;

    return one / three;
}

/* Rounds upward from its start, and checks at each resume that it still
 * does: its one third is *arg, the one the main stack got rounding upward.
 * Yields how often it checked. */
static void *rounds_upward(coro_t *co, void *arg)
{
    const double *upward = arg;

    fesetround(FE_UPWARD);
    for (intptr_t checked = 1;; checked++) {
        body_assert_int_equal(fegetround(), FE_UPWARD);
        body_assert_true(one_third() == *upward);
        coro_yield(co, INT_TO_PTR(checked));
    }
    return NULL;
}

/* The floating-point control state (rounding mode: the x87 control word
 * and MXCSR, or FPCR) is each side's own: a switch restores it, whichever
 * side changed it last. */
static void test_values_rounding_mode_is_per_coroutine(void **state)
{
    double nearest = one_third(), upward, downward;
    coro_t *co;

    (void)state;
    if (RUNNING_ON_VALGRIND) {
        /* valgrind rounds SSE arithmetic to nearest whatever MXCSR says. */
        printf("# valgrind does not round by the rounding mode\n");
        skip();
    }
    assert_int_equal(fesetround(FE_UPWARD), 0);
    upward = one_third();
    assert_int_equal(fesetround(FE_DOWNWARD), 0);
    downward = one_third();
    assert_int_equal(fesetround(FE_TONEAREST), 0);
    assert_true(upward > downward);

    co = must_create(rounds_upward, &upward);
    assert_int_equal(PTR_TO_INT(coro_next(co)), 1);
    assert_int_equal(fegetround(), FE_TONEAREST);
    assert_true(one_third() == nearest);

    assert_int_equal(fesetround(FE_DOWNWARD), 0);
    assert_int_equal(PTR_TO_INT(coro_next(co)), 2);
    assert_int_equal(fegetround(), FE_DOWNWARD);
    assert_true(one_third() == downward);

    assert_int_equal(fesetround(FE_TONEAREST), 0);
    assert_int_equal(coro_destroy(co), 0);
    assert_int_equal(fegetround(), FE_TONEAREST);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        body_checked_test(test_values_next_returns_yields),
        body_checked_test(test_values_send_reaches_yield),
        body_checked_test(test_values_return_value),
        body_checked_test(test_values_null_is_a_value),
        body_checked_test(test_values_resume_out_null),
        body_checked_test(test_values_running_sum),
        body_checked_test(test_values_yield_from_depth),
        body_checked_test(test_values_generator_loop),
        body_checked_test(test_values_independent_generators),
        body_checked_test(test_values_pointer_to_body_local),
        body_checked_test(test_values_send_to_created),
        body_checked_test(test_values_exhausted),
        body_checked_test(test_values_exhausted_after_close),
        body_checked_test(test_values_rounding_mode_is_per_coroutine),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
