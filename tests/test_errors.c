/*
 * Errors: every misuse in coro.h's Errors list gets its one error number and
 * changes nothing: statuses stay, values still flow, nothing is freed or run.
 * This is each error's home; a feature's suite tests only what is its own
 * about one (EBUSY from a cleanup in close, throw; a second delegator in
 * yield_from). coro_throw() and coro_suspend() misuse is in test_throw.c.
 */
#include "bodies.h"

#include <errno.h>

#define SENTINEL INT_TO_PTR(0x5eed)
#define ERRNO_SENTINEL 12345

/* Yields 1 and 2, logging what each yield returns into arg (two slots),
 * then returns 3. */
static void *one_two_three(coro_t *co, void *arg)
{
    void **log = arg;

    log[0] = coro_yield(co, INT_TO_PTR(1));
    log[1] = coro_yield(co, INT_TO_PTR(2));
    return INT_TO_PTR(3);
}

/* Returns at once. */
static void *return_body(coro_t *co, void *arg)
{
    (void)co;
    return arg;
}

/* ---- coro_create ------------------------------------------------------- */

static void test_errors_create_null_fn(void **state)
{
    /* coro_create() with a NULL body: NULL, EINVAL, whatever the stack size. */
    (void)state;
    assert_null_errno(coro_create(NULL, NULL, 0), EINVAL);
    assert_null_errno(coro_create(NULL, SENTINEL, CORO_MIN_STACK_SIZE), EINVAL);
    assert_null_errno(coro_create(NULL, NULL, CORO_DEFAULT_STACK_SIZE), EINVAL);
}

static void test_errors_create_stack_too_small(void **state)
{
    /* A stack size below CORO_MIN_STACK_SIZE (and not 0): NULL, EINVAL; the
     * minimum itself still works. */
    const size_t sizes[] = {1, 4096, CORO_MIN_STACK_SIZE / 2, CORO_MIN_STACK_SIZE - 1};
    coro_t *co;

    (void)state;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        assert_null_errno(coro_create(running_sum, NULL, sizes[i]), EINVAL);
    }
    co = must_create_sized(running_sum, NULL, CORO_MIN_STACK_SIZE);
    assert_int_equal(PTR_TO_INT(coro_next(co)), 0);
    assert_int_equal(coro_destroy(co), 0);
}

static void test_errors_create_stack_huge(void **state)
{
    /* A stack size no address space can hold: NULL, ENOMEM, nothing leaked,
     * and the next coroutine is made as usual. Sizes whose rounding to
     * pages, or whose guard added, would overflow, and 15/16 of the address
     * space (half of it may be free on a 32-bit target). */
    const size_t sizes[] = {SIZE_MAX, SIZE_MAX - 1, SIZE_MAX - CORO_DEFAULT_STACK_SIZE,
                            SIZE_MAX / 16 * 15};
    coro_t *co;

    (void)state;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        assert_null_errno(coro_create(running_sum, NULL, sizes[i]), ENOMEM);
    }
    co = must_create(running_sum, NULL);
    assert_int_equal(PTR_TO_INT(coro_next(co)), 0);
    assert_int_equal(PTR_TO_INT(coro_send(co, INT_TO_PTR(4))), 4);
    assert_int_equal(coro_destroy(co), 0);
}

/* ---- NULL coroutines ---------------------------------------------------- */

static void test_errors_null_coroutine(void **state)
{
    /* coro_send/next/resume/close(NULL): EINVAL, *out untouched. */
    void *out = SENTINEL;

    (void)state;
    assert_null_errno(coro_send(NULL, NULL), EINVAL);
    assert_null_errno(coro_send(NULL, INT_TO_PTR(1)), EINVAL);
    assert_null_errno(coro_next(NULL), EINVAL);
    assert_int_equal(coro_resume(NULL, NULL, &out), EINVAL);
    assert_ptr_equal(out, SENTINEL);
    assert_int_equal(coro_resume(NULL, INT_TO_PTR(1), NULL), EINVAL);
    assert_int_equal(coro_close(NULL), EINVAL);
    assert_null_errno(coro_yield(NULL, INT_TO_PTR(1)), EINVAL);
    assert_null(coro_current());
}

/* Tries coro_yield(NULL) and coro_yield_from() with a NULL co or sub (the
 * sub given as arg), then yields 2 and returns what it is sent. */
static void *null_yield_body(coro_t *co, void *arg)
{
    coro_t *sub = arg;

    body_assert_null_errno(coro_yield(NULL, INT_TO_PTR(1)), EINVAL);
    body_assert_null_errno(coro_yield_from(NULL, sub), EINVAL);
    body_assert_null_errno(coro_yield_from(co, NULL), EINVAL);
    body_assert_null_errno(coro_yield_from(NULL, NULL), EINVAL);
    body_assert_int_equal(coro_status(co), CORO_RUNNING);
    body_assert_int_equal(coro_status(sub), CORO_CREATED);
    return coro_yield(co, INT_TO_PTR(2));
}

static void test_errors_yield_null(void **state)
{
    /* Inside a coroutine, coro_yield(NULL) and coro_yield_from() with a NULL
     * co or sub: NULL, EINVAL; the body runs on, sub is not started. */
    coro_t *co, *sub;

    (void)state;
    sub = must_create(running_sum, NULL);
    co = must_create(null_yield_body, sub);

    assert_int_equal(PTR_TO_INT(coro_next(co)), 2);
    assert_int_equal(coro_status(co), CORO_SUSPENDED);
    assert_int_equal(coro_status(sub), CORO_CREATED);

    /* Both still work: co returns what is sent, sub starts from 0. */
    assert_int_equal(PTR_TO_INT(coro_send(co, INT_TO_PTR(8))), 8);
    assert_int_equal(coro_status(co), CORO_DEAD);
    assert_int_equal(PTR_TO_INT(coro_next(sub)), 0);
    assert_int_equal(coro_destroy(co), 0);
    assert_int_equal(coro_destroy(sub), 0);
}

/* ---- yielding on a coroutine that is not running ----------------------- */

static void test_errors_yield_outside(void **state)
{
    /* coro_yield() and coro_yield_from() from outside any coroutine: NULL,
     * EPERM, for a CREATED and a SUSPENDED co; nothing changes. A NULL co
     * there is EINVAL. */
    coro_t *co, *sub;

    (void)state;
    co = must_create(running_sum, NULL);
    sub = must_create(running_sum, NULL);

    assert_null_errno(coro_yield_from(NULL, sub), EINVAL);
    assert_null_errno(coro_yield(co, INT_TO_PTR(1)), EPERM);
    assert_null_errno(coro_yield_from(co, sub), EPERM);
    assert_int_equal(coro_status(co), CORO_CREATED);
    assert_int_equal(coro_status(sub), CORO_CREATED);

    assert_int_equal(PTR_TO_INT(coro_next(co)), 0);
    assert_null_errno(coro_yield(co, INT_TO_PTR(1)), EPERM);
    assert_null_errno(coro_yield_from(co, sub), EPERM);
    assert_int_equal(coro_status(co), CORO_SUSPENDED);
    assert_int_equal(coro_status(sub), CORO_CREATED);
    assert_null(coro_current());

    /* co's pending yield still gets the next send; sub is still fresh. */
    assert_int_equal(PTR_TO_INT(coro_send(co, INT_TO_PTR(6))), 6);
    assert_int_equal(PTR_TO_INT(coro_next(sub)), 0);
    assert_int_equal(coro_destroy(co), 0);
    assert_int_equal(coro_destroy(sub), 0);
}

struct yield_other {
    coro_t *other;
    enum coro_status other_status; /* what other must be, before and after */
    coro_t *sub;
};

static void *yield_other_body(coro_t *co, void *arg)
{
    const struct yield_other *y = arg;

    body_assert_null_errno(coro_yield(y->other, INT_TO_PTR(100)), EPERM);
    body_assert_null_errno(coro_yield_from(y->other, y->sub), EPERM);
    body_assert_int_equal(coro_status(y->other), y->other_status);
    body_assert_int_equal(coro_status(y->sub), CORO_CREATED);
    return coro_yield(co, INT_TO_PTR(1));
}

static void test_errors_yield_other(void **state)
{
    /* Inside coroutine A, coro_yield(B) and coro_yield_from(B, sub) on a
     * created or suspended B: NULL, EPERM; B stays where it was, and sub
     * unstarted. */
    (void)state;
    for (int started = 0; started <= 1; started++) {
        struct yield_other y = {0};
        coro_t *a;

        y.other = must_create(running_sum, NULL);
        y.other_status = CORO_CREATED;
        y.sub = must_create(running_sum, NULL);
        a = must_create(yield_other_body, &y);
        if (started) {
            assert_int_equal(PTR_TO_INT(coro_next(y.other)), 0);
            assert_int_equal(PTR_TO_INT(coro_send(y.other, INT_TO_PTR(3))), 3);
            y.other_status = CORO_SUSPENDED;
        }

        assert_int_equal(PTR_TO_INT(coro_next(a)), 1);
        assert_int_equal(coro_status(y.other), y.other_status);
        assert_int_equal(coro_status(y.sub), CORO_CREATED);

        /* B starts, or goes on, as if untouched: its sum is 0, or still 3. */
        if (started) {
            assert_int_equal(PTR_TO_INT(coro_send(y.other, INT_TO_PTR(4))), 7);
        } else {
            assert_int_equal(PTR_TO_INT(coro_next(y.other)), 0);
        }
        assert_int_equal(PTR_TO_INT(coro_next(y.sub)), 0);
        assert_int_equal(coro_destroy(a), 0);
        assert_int_equal(coro_destroy(y.other), 0);
        assert_int_equal(coro_destroy(y.sub), 0);
    }
}

/* ---- coro_yield_from on a sub that cannot be resumed ------------------- */

/* Delegates to its dead sub (arg), which must fail with ESRCH, then yields 1
 * and returns what it is sent. */
static void *from_dead_body(coro_t *co, void *arg)
{
    coro_t *sub = arg;

    body_assert_null_errno(coro_yield_from(co, sub), ESRCH);
    body_assert_int_equal(coro_status(co), CORO_RUNNING);
    body_assert_int_equal(coro_status(sub), CORO_DEAD);
    return coro_yield(co, INT_TO_PTR(1));
}

static void test_errors_yield_from_dead(void **state)
{
    /* coro_yield_from() on a DEAD sub (returned, or closed unstarted): NULL,
     * ESRCH; the delegating coroutine runs on. */
    (void)state;
    for (int closed = 0; closed <= 1; closed++) {
        coro_t *co, *sub;

        sub = must_create(return_body, SENTINEL);
        if (closed) {
            assert_int_equal(coro_close(sub), 0);
        } else {
            assert_ptr_equal(coro_next(sub), SENTINEL);
        }
        assert_int_equal(coro_status(sub), CORO_DEAD);

        co = must_create(from_dead_body, sub);
        assert_int_equal(PTR_TO_INT(coro_next(co)), 1);
        assert_int_equal(coro_status(co), CORO_SUSPENDED);
        assert_ptr_equal(coro_send(co, INT_TO_PTR(5)), INT_TO_PTR(5));
        assert_int_equal(coro_status(co), CORO_DEAD);
        assert_int_equal(coro_resume(sub, NULL, NULL), ESRCH); /* sub as it was */
        assert_int_equal(coro_destroy(co), 0);
        assert_int_equal(coro_destroy(sub), 0);
    }
}

/* Delegates to itself, which must fail with EBUSY, then yields 1 and
 * returns what it is sent. */
static void *from_self_body(coro_t *co, void *arg)
{
    (void)arg;
    body_assert_null_errno(coro_yield_from(co, co), EBUSY);
    body_assert_int_equal(coro_status(co), CORO_RUNNING);
    return coro_yield(co, INT_TO_PTR(1));
}

static void test_errors_yield_from_self(void **state)
{
    /* coro_yield_from(co, co): NULL, EBUSY (co is running); co runs on and
     * is not left delegating to itself. */
    coro_t *co;

    (void)state;
    co = must_create(from_self_body, NULL);
    assert_int_equal(PTR_TO_INT(coro_next(co)), 1);
    assert_int_equal(coro_status(co), CORO_SUSPENDED);
    assert_int_equal(PTR_TO_INT(coro_send(co, INT_TO_PTR(9))), 9);
    assert_int_equal(coro_status(co), CORO_DEAD);
    assert_int_equal(coro_destroy(co), 0);
}

/* ---- EBUSY: running, normal, delegated to ------------------------------- */

/* A coroutine to try, the status it must have meanwhile, and the tries. */
struct busy {
    coro_t *target;
    enum coro_status status;
    int tries;
};

/* Tries to resume, close and destroy b->target: each must fail with EBUSY
 * and change nothing. Called from coroutines and from the thread's stack. */
static void try_busy(struct busy *b)
{
    void *out = SENTINEL;

    body_assert_int_equal(coro_status(b->target), b->status);
    body_assert_null_errno(coro_send(b->target, INT_TO_PTR(1)), EBUSY);
    body_assert_null_errno(coro_next(b->target), EBUSY);
    body_assert_int_equal(coro_resume(b->target, NULL, &out), EBUSY);
    body_assert_int_equal(coro_resume(b->target, INT_TO_PTR(2), &out), EBUSY);
    body_assert_ptr_equal(out, SENTINEL);
    body_assert_int_equal(coro_close(b->target), EBUSY);
    body_assert_int_equal(coro_destroy(b->target), EBUSY);
    body_assert_int_equal(coro_status(b->target), b->status);
    b->tries++;
}

static void *busy_self_body(coro_t *co, void *arg)
{
    struct busy *b = arg;

    b->target = co;
    try_busy(b);
    return coro_yield(co, INT_TO_PTR(1));
}

static void test_errors_busy_running(void **state)
{
    /* A RUNNING coroutine (itself) cannot be resumed, closed or destroyed:
     * EBUSY (Python: "generator already executing"), and it carries on. */
    struct busy b = {NULL, CORO_RUNNING, 0};
    coro_t *co;

    (void)state;
    co = must_create(busy_self_body, &b);
    assert_int_equal(PTR_TO_INT(coro_next(co)), 1);
    assert_int_equal(b.tries, 1);
    assert_int_equal(coro_status(co), CORO_SUSPENDED);
    assert_int_equal(PTR_TO_INT(coro_send(co, INT_TO_PTR(4))), 4);
    assert_int_equal(coro_status(co), CORO_DEAD);
    assert_int_equal(coro_destroy(co), 0);
}

/* The child: tries its resumer, then itself, then yields 5 back to it. */
static void *busy_child_body(coro_t *co, void *arg)
{
    struct busy self = {co, CORO_RUNNING, 0};

    try_busy(arg);
    try_busy(&self);
    return coro_yield(co, INT_TO_PTR(5));
}

/* The parent: resumes the child given as arg and yields what it got + 1. */
static void *busy_parent_body(coro_t *co, void *arg)
{
    coro_t *child = arg;
    void *got = coro_next(child);

    coro_yield(co, INT_TO_PTR(PTR_TO_INT(got) + 1));
    return INT_TO_PTR(77);
}

static void test_errors_busy_normal(void **state)
{
    /* A NORMAL coroutine (a parent that resumed the child trying it) cannot be
     * resumed, closed or destroyed by the child, nor can the child itself:
     * EBUSY, and both carry on. */
    struct busy b = {NULL, CORO_NORMAL, 0};
    coro_t *parent, *child;

    (void)state;
    child = must_create(busy_child_body, &b);
    parent = must_create(busy_parent_body, child);
    b.target = parent;

    assert_int_equal(PTR_TO_INT(coro_next(parent)), 6);
    assert_int_equal(b.tries, 1);
    assert_int_equal(coro_status(parent), CORO_SUSPENDED);
    assert_int_equal(coro_status(child), CORO_SUSPENDED);
    assert_int_equal(PTR_TO_INT(coro_next(parent)), 77);
    assert_int_equal(coro_status(parent), CORO_DEAD);
    assert_int_equal(PTR_TO_INT(coro_send(child, INT_TO_PTR(3))), 3);
    assert_int_equal(coro_status(child), CORO_DEAD);
    assert_int_equal(coro_destroy(parent), 0);
    assert_int_equal(coro_destroy(child), 0);
}

/* Delegates to the sub given as arg and returns its result. */
static void *delegating_body(coro_t *co, void *arg)
{
    return coro_yield_from(co, arg);
}

static void test_errors_busy_delegated(void **state)
{
    /* A sub that another coroutine is delegating to cannot be resumed,
     * closed or destroyed: EBUSY; the delegation then runs to its end. */
    void *log[2] = {SENTINEL, SENTINEL};
    struct busy b = {NULL, CORO_SUSPENDED, 0};
    coro_t *sub, *co;
    void *out = SENTINEL;

    (void)state;
    sub = must_create(one_two_three, log);
    co = must_create(delegating_body, sub);

    assert_int_equal(PTR_TO_INT(coro_next(co)), 1);
    b.target = sub;
    try_busy(&b);
    assert_int_equal(b.tries, 1);
    assert_int_equal(coro_status(sub), CORO_SUSPENDED);
    assert_int_equal(coro_status(co), CORO_SUSPENDED);
    assert_ptr_equal(log[0], SENTINEL);
    assert_ptr_equal(log[1], SENTINEL);

    assert_int_equal(PTR_TO_INT(coro_send(co, INT_TO_PTR(7))), 2);
    assert_int_equal(PTR_TO_INT(coro_send(co, INT_TO_PTR(8))), 3);
    assert_int_equal(coro_status(co), CORO_DEAD);
    assert_int_equal(coro_status(sub), CORO_DEAD);
    assert_int_equal(PTR_TO_INT(log[0]), 7);
    assert_int_equal(PTR_TO_INT(log[1]), 8);

    /* The delegation is over: sub is an ordinary dead coroutine again. */
    assert_int_equal(coro_resume(sub, NULL, &out), ESRCH);
    assert_ptr_equal(out, SENTINEL);
    assert_int_equal(coro_destroy(co), 0);
    assert_int_equal(coro_destroy(sub), 0);
}

/* ---- coro_defer ---------------------------------------------------------- */

/* Registers cleanups that must fail, with a NULL co or fn (EINVAL) and on
 * a coroutine not running (EPERM, when there is one), and one that must
 * work; yields 1, returns what it is sent. */
struct defer_try {
    coro_t *other;
    int *counter; /* counter[0] for the refused cleanups, [1] for the good */
};

static void *defer_try_body(coro_t *co, void *arg)
{
    const struct defer_try *d = arg;

    body_assert_int_equal(coro_defer(NULL, count_cleanup, d->counter), EINVAL);
    body_assert_int_equal(coro_defer(co, NULL, d->counter), EINVAL);
    if (d->other != NULL)
        body_assert_int_equal(coro_defer(d->other, count_cleanup, d->counter), EPERM);
    body_assert_int_equal(coro_defer(co, count_cleanup, d->counter + 1), 0);
    return coro_yield(co, INT_TO_PTR(1));
}

static void test_errors_defer_null(void **state)
{
    /* coro_defer(NULL, ...) and coro_defer(co, NULL, ...): EINVAL and nothing
     * is registered; a valid cleanup beside them runs once. */
    int counts[2] = {0, 0};
    struct defer_try d = {0};
    coro_t *co;

    (void)state;
    d.counter = counts;
    assert_int_equal(coro_defer(NULL, count_cleanup, counts), EINVAL);
    co = must_create(defer_try_body, &d);
    assert_int_equal(PTR_TO_INT(coro_next(co)), 1);
    assert_int_equal(counts[0], 0);
    assert_int_equal(counts[1], 0);
    assert_null(coro_send(co, NULL));
    assert_int_equal(coro_status(co), CORO_DEAD);
    assert_int_equal(counts[0], 0);
    assert_int_equal(counts[1], 1);
    assert_int_equal(coro_destroy(co), 0);
}

static void test_errors_defer_not_running(void **state)
{
    /* coro_defer() on a coroutine that is not running, from outside or from
     * inside another: EPERM, and that cleanup never runs. */
    int counts[2] = {0, 0};
    struct defer_try d = {0};
    coro_t *co, *other;

    (void)state;
    other = must_create(running_sum, NULL);
    assert_int_equal(coro_defer(other, count_cleanup, counts), EPERM);
    assert_int_equal(PTR_TO_INT(coro_next(other)), 0);
    assert_int_equal(coro_defer(other, count_cleanup, counts), EPERM);
    assert_int_equal(coro_status(other), CORO_SUSPENDED);

    d.counter = counts;
    d.other = other;
    co = must_create(defer_try_body, &d);
    assert_int_equal(coro_defer(co, count_cleanup, counts), EPERM);
    assert_int_equal(PTR_TO_INT(coro_next(co)), 1);
    assert_int_equal(coro_defer(co, count_cleanup, counts), EPERM);

    /* other still sums; neither end runs a wrongly registered cleanup. */
    assert_int_equal(PTR_TO_INT(coro_send(other, INT_TO_PTR(2))), 2);
    assert_int_equal(coro_destroy(other), 0);
    assert_int_equal(coro_destroy(co), 0);
    assert_int_equal(counts[0], 0);
    assert_int_equal(counts[1], 1);
}

/* ---- yielding while ending ---------------------------------------------- */

struct ending {
    coro_t *co;
    coro_t *sub;
    int runs;
};

/* Run as e->co ends: yielding must fail with ECANCELED, sub stay unstarted. */
static void ending_cleanup(void *arg)
{
    struct ending *e = arg;

    e->runs++;
    body_assert_null_errno(coro_yield(e->co, INT_TO_PTR(1)), ECANCELED);
    body_assert_null_errno(coro_yield_from(e->co, e->sub), ECANCELED);
    body_assert_int_equal(coro_status(e->sub), CORO_CREATED);
}

/* A coroutine that has registered ending_cleanup and is suspended in its
 * one yield (defer_then_yield); e's sub not started. */
static coro_t *start_ending(struct ending *e)
{
    struct cleanup_call call = {ending_cleanup, e};

    e->sub = must_create(running_sum, NULL);
    e->co = must_create(defer_then_yield, &call);
    assert_ptr_equal(coro_next(e->co), e);
    assert_int_equal(e->runs, 0);
    return e->co;
}

static void test_errors_cleanup_yield_on_return(void **state)
{
    /* In a cleanup run as the body returns, coro_yield() and coro_yield_from()
     * fail with ECANCELED; the return value still comes out. */
    struct ending e = {0};
    coro_t *co = start_ending(&e);

    (void)state;
    assert_int_equal(PTR_TO_INT(coro_send(co, INT_TO_PTR(2))), 2);
    assert_int_equal(coro_status(co), CORO_DEAD);
    assert_int_equal(e.runs, 1);
    assert_int_equal(coro_status(e.sub), CORO_CREATED);
    assert_int_equal(coro_destroy(co), 0);
    assert_int_equal(e.runs, 1);
    assert_int_equal(PTR_TO_INT(coro_next(e.sub)), 0);
    assert_int_equal(coro_destroy(e.sub), 0);
}

static void test_errors_cleanup_yield_on_close(void **state)
{
    /* In a cleanup run by coro_close(), coro_yield() and coro_yield_from()
     * fail with ECANCELED; the close completes and returns 0. */
    struct ending e = {0};
    coro_t *co = start_ending(&e);

    (void)state;
    assert_int_equal(coro_close(co), 0);
    assert_int_equal(coro_status(co), CORO_DEAD);
    assert_int_equal(e.runs, 1);
    assert_int_equal(coro_status(e.sub), CORO_CREATED);
    assert_null(coro_current());
    assert_int_equal(coro_destroy(co), 0);
    assert_int_equal(e.runs, 1);
    assert_int_equal(coro_destroy(e.sub), 0);
}

/* ---- errno on success --------------------------------------------------- */

/* Checks that errno is what the test set before each resume, as each of
 * its yields returns, then returns 3. */
static void *errno_body(coro_t *co, void *arg)
{
    (void)arg;
    coro_yield(co, INT_TO_PTR(1));
    body_assert_int_equal(errno, ERRNO_SENTINEL + 1);
    coro_yield(co, INT_TO_PTR(2));
    body_assert_int_equal(errno, ERRNO_SENTINEL + 2);
    return INT_TO_PTR(3);
}

static void test_errors_success_keeps_errno(void **state)
{
    /* A successful coro_send/next/resume leaves errno as it was, through
     * starts, yields and the body's return. */
    void *out = NULL;
    coro_t *co;

    (void)state;
    co = must_create(errno_body, NULL);

    errno = ERRNO_SENTINEL;
    assert_int_equal(PTR_TO_INT(coro_send(co, NULL)), 1);
    assert_int_equal(errno, ERRNO_SENTINEL);
    errno = ERRNO_SENTINEL + 1;
    assert_int_equal(PTR_TO_INT(coro_next(co)), 2);
    assert_int_equal(errno, ERRNO_SENTINEL + 1);
    errno = ERRNO_SENTINEL + 2;
    assert_int_equal(coro_resume(co, INT_TO_PTR(9), &out), 0);
    assert_int_equal(PTR_TO_INT(out), 3);
    assert_int_equal(errno, ERRNO_SENTINEL + 2);
    assert_int_equal(coro_status(co), CORO_DEAD);
    assert_int_equal(coro_destroy(co), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        body_checked_test(test_errors_create_null_fn),
        body_checked_test(test_errors_create_stack_too_small),
        body_checked_test(test_errors_create_stack_huge),
        body_checked_test(test_errors_null_coroutine),
        body_checked_test(test_errors_yield_null),
        body_checked_test(test_errors_yield_outside),
        body_checked_test(test_errors_yield_other),
        body_checked_test(test_errors_yield_from_dead),
        body_checked_test(test_errors_yield_from_self),
        body_checked_test(test_errors_busy_running),
        body_checked_test(test_errors_busy_normal),
        body_checked_test(test_errors_busy_delegated),
        body_checked_test(test_errors_defer_null),
        body_checked_test(test_errors_defer_not_running),
        body_checked_test(test_errors_cleanup_yield_on_return),
        body_checked_test(test_errors_cleanup_yield_on_close),
        body_checked_test(test_errors_success_keeps_errno),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
