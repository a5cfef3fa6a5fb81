/*
 * Errors: every misuse in coro.h's Errors list gets its one error number and
 * changes nothing: statuses stay, values still flow, nothing is freed or run.
 */
#include "bodies.h"

#include <errno.h>

#define SENTINEL INT_TO_PTR(0x5eed)
#define ERRNO_SENTINEL 12345

/* A result and the errno that came with it. */
struct outcome {
    void *value;
    int error; /* errno after a pointer-returning call, or the int returned */
};

/* Calls a pointer-returning expression with errno cleared and records both. */
#define RECORD(o, call)                                                        \
    do {                                                                       \
        errno = 0;                                                             \
        (o).value = (call);                                                    \
        (o).error = errno;                                                     \
    } while (0)

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
    /* A stack size no memory can hold: NULL, ENOMEM, nothing leaked, and the
     * next coroutine is made as usual. */
    const size_t sizes[] = {SIZE_MAX, SIZE_MAX - 1, SIZE_MAX / 2, SIZE_MAX / 2 + 1};
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

struct null_yield {
    coro_t *sub;
    struct outcome yield, from_null_co, from_null_sub, from_both;
    enum coro_status status;
    enum coro_status sub_status;
};

static void *null_yield_body(coro_t *co, void *arg)
{
    struct null_yield *n = arg;

    RECORD(n->yield, coro_yield(NULL, INT_TO_PTR(1)));
    RECORD(n->from_null_co, coro_yield_from(NULL, n->sub));
    RECORD(n->from_null_sub, coro_yield_from(co, NULL));
    RECORD(n->from_both, coro_yield_from(NULL, NULL));
    n->status = coro_status(co);
    n->sub_status = coro_status(n->sub);
    return coro_yield(co, INT_TO_PTR(2));
}

static void test_errors_yield_null(void **state)
{
    /* Inside a coroutine, coro_yield(NULL) and coro_yield_from() with a NULL
     * co or sub: NULL, EINVAL; the body runs on, sub is not started. */
    struct null_yield n = {0};
    coro_t *co;

    (void)state;
    n.sub = must_create(running_sum, NULL);
    co = must_create(null_yield_body, &n);

    assert_int_equal(PTR_TO_INT(coro_next(co)), 2);
    assert_null(n.yield.value);
    assert_int_equal(n.yield.error, EINVAL);
    assert_null(n.from_null_co.value);
    assert_int_equal(n.from_null_co.error, EINVAL);
    assert_null(n.from_null_sub.value);
    assert_int_equal(n.from_null_sub.error, EINVAL);
    assert_null(n.from_both.value);
    assert_int_equal(n.from_both.error, EINVAL);
    assert_int_equal(n.status, CORO_RUNNING);
    assert_int_equal(n.sub_status, CORO_CREATED);
    assert_int_equal(coro_status(n.sub), CORO_CREATED);

    /* Both still work: co returns what is sent, sub starts from 0. */
    assert_int_equal(PTR_TO_INT(coro_send(co, INT_TO_PTR(8))), 8);
    assert_int_equal(coro_status(co), CORO_DEAD);
    assert_int_equal(PTR_TO_INT(coro_next(n.sub)), 0);
    assert_int_equal(coro_destroy(co), 0);
    assert_int_equal(coro_destroy(n.sub), 0);
}

/* ---- yielding on a coroutine that is not running ----------------------- */

static void test_errors_yield_outside(void **state)
{
    /* coro_yield() and coro_yield_from() from outside any coroutine: NULL,
     * EPERM, for a CREATED and a SUSPENDED co; nothing changes. */
    coro_t *co, *sub;

    (void)state;
    co = must_create(running_sum, NULL);
    sub = must_create(running_sum, NULL);

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
    coro_t *sub;
    struct outcome yield, from;
    enum coro_status other_status;
};

static void *yield_other_body(coro_t *co, void *arg)
{
    struct yield_other *y = arg;

    RECORD(y->yield, coro_yield(y->other, INT_TO_PTR(100)));
    RECORD(y->from, coro_yield_from(y->other, y->sub));
    y->other_status = coro_status(y->other);
    return coro_yield(co, INT_TO_PTR(1));
}

static void test_errors_yield_other(void **state)
{
    /* Inside coroutine A, coro_yield(B) and coro_yield_from(B, sub) on a
     * suspended B: NULL, EPERM; B stays suspended where it was. */
    struct yield_other y = {0};
    coro_t *a;

    (void)state;
    y.other = must_create(running_sum, NULL);
    y.sub = must_create(running_sum, NULL);
    a = must_create(yield_other_body, &y);
    assert_int_equal(PTR_TO_INT(coro_next(y.other)), 0);
    assert_int_equal(PTR_TO_INT(coro_send(y.other, INT_TO_PTR(3))), 3);

    assert_int_equal(PTR_TO_INT(coro_next(a)), 1);
    assert_null(y.yield.value);
    assert_int_equal(y.yield.error, EPERM);
    assert_null(y.from.value);
    assert_int_equal(y.from.error, EPERM);
    assert_int_equal(y.other_status, CORO_SUSPENDED);
    assert_int_equal(coro_status(y.other), CORO_SUSPENDED);
    assert_int_equal(coro_status(y.sub), CORO_CREATED);

    /* B's sum is still 3. */
    assert_int_equal(PTR_TO_INT(coro_send(y.other, INT_TO_PTR(4))), 7);
    assert_int_equal(coro_destroy(a), 0);
    assert_int_equal(coro_destroy(y.other), 0);
    assert_int_equal(coro_destroy(y.sub), 0);
}

/* ---- coro_yield_from on a sub that cannot be resumed ------------------- */

struct from_bad_sub {
    coro_t *sub;
    struct outcome from;
};

static void *from_sub_body(coro_t *co, void *arg)
{
    struct from_bad_sub *f = arg;

    RECORD(f->from, coro_yield_from(co, f->sub));
    return coro_yield(co, INT_TO_PTR(1));
}

static void test_errors_yield_from_dead(void **state)
{
    /* coro_yield_from() on a DEAD sub (returned, or closed unstarted): NULL,
     * ESRCH; the delegating coroutine runs on. */
    (void)state;
    for (int closed = 0; closed <= 1; closed++) {
        struct from_bad_sub f = {0};
        coro_t *co;

        f.sub = must_create(return_body, SENTINEL);
        if (closed) {
            assert_int_equal(coro_close(f.sub), 0);
        } else {
            assert_ptr_equal(coro_next(f.sub), SENTINEL);
        }
        assert_int_equal(coro_status(f.sub), CORO_DEAD);

        co = must_create(from_sub_body, &f);
        assert_int_equal(PTR_TO_INT(coro_next(co)), 1);
        assert_null(f.from.value);
        assert_int_equal(f.from.error, ESRCH);
        assert_int_equal(coro_status(co), CORO_SUSPENDED);
        assert_ptr_equal(coro_send(co, INT_TO_PTR(5)), INT_TO_PTR(5));
        assert_int_equal(coro_status(co), CORO_DEAD);
        assert_int_equal(coro_destroy(co), 0);
        assert_int_equal(coro_destroy(f.sub), 0);
    }
}

static void *from_self_body(coro_t *co, void *arg)
{
    struct outcome *o = arg;

    RECORD(*o, coro_yield_from(co, co));
    return coro_yield(co, INT_TO_PTR(1));
}

static void test_errors_yield_from_self(void **state)
{
    /* coro_yield_from(co, co): NULL, EBUSY (co is running); co runs on and
     * is not left delegating to itself. */
    struct outcome o = {0};
    coro_t *co;

    (void)state;
    co = must_create(from_self_body, &o);
    assert_int_equal(PTR_TO_INT(coro_next(co)), 1);
    assert_null(o.value);
    assert_int_equal(o.error, EBUSY);
    assert_int_equal(coro_status(co), CORO_SUSPENDED);
    assert_int_equal(PTR_TO_INT(coro_send(co, INT_TO_PTR(9))), 9);
    assert_int_equal(coro_status(co), CORO_DEAD);
    assert_int_equal(coro_destroy(co), 0);
}

/* ---- EBUSY: running, normal, delegated to ------------------------------- */

/* What one coroutine saw trying to resume, close and destroy another. */
struct busy {
    coro_t *target;
    enum coro_status target_status;
    struct outcome send, next;
    int resume, resume_with_value;
    void *resume_out;
    int close;
    int destroy;
    enum coro_status target_status_after; /* after all those tries */
};

static void try_busy(struct busy *b)
{
    b->target_status = coro_status(b->target);
    RECORD(b->send, coro_send(b->target, INT_TO_PTR(1)));
    RECORD(b->next, coro_next(b->target));
    b->resume_out = SENTINEL;
    b->resume = coro_resume(b->target, NULL, &b->resume_out);
    b->resume_with_value = coro_resume(b->target, INT_TO_PTR(2), &b->resume_out);
    b->close = coro_close(b->target);
    b->destroy = coro_destroy(b->target);
    b->target_status_after = coro_status(b->target);
}

static void assert_busy(const struct busy *b, enum coro_status expected)
{
    assert_int_equal(b->target_status, expected);
    assert_null(b->send.value);
    assert_int_equal(b->send.error, EBUSY);
    assert_null(b->next.value);
    assert_int_equal(b->next.error, EBUSY);
    assert_int_equal(b->resume, EBUSY);
    assert_int_equal(b->resume_with_value, EBUSY);
    assert_ptr_equal(b->resume_out, SENTINEL);
    assert_int_equal(b->close, EBUSY);
    assert_int_equal(b->destroy, EBUSY);
    assert_int_equal(b->target_status_after, expected);
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
    struct busy b = {0};
    coro_t *co;

    (void)state;
    co = must_create(busy_self_body, &b);
    assert_int_equal(PTR_TO_INT(coro_next(co)), 1);
    assert_busy(&b, CORO_RUNNING);
    assert_int_equal(coro_status(co), CORO_SUSPENDED);
    assert_int_equal(PTR_TO_INT(coro_send(co, INT_TO_PTR(4))), 4);
    assert_int_equal(coro_status(co), CORO_DEAD);
    assert_int_equal(coro_destroy(co), 0);
}

/* The child: tries its resumer, then yields 5 back to it. */
static void *busy_child_body(coro_t *co, void *arg)
{
    try_busy(arg);
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
     * resumed, closed or destroyed by the child: EBUSY, and both carry on. */
    struct busy b = {0};
    coro_t *parent, *child;

    (void)state;
    child = must_create(busy_child_body, &b);
    parent = must_create(busy_parent_body, child);
    b.target = parent;

    assert_int_equal(PTR_TO_INT(coro_next(parent)), 6);
    assert_busy(&b, CORO_NORMAL);
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
    struct busy b = {0};
    coro_t *sub, *co;
    void *out = SENTINEL;

    (void)state;
    sub = must_create(one_two_three, log);
    co = must_create(delegating_body, sub);

    assert_int_equal(PTR_TO_INT(coro_next(co)), 1);
    b.target = sub;
    try_busy(&b);
    assert_busy(&b, CORO_SUSPENDED);
    assert_int_equal(coro_status(sub), CORO_SUSPENDED);
    assert_int_equal(coro_status(co), CORO_SUSPENDED);
    assert_ptr_equal(log[0], SENTINEL);

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

struct defer_try {
    coro_t *other;
    int *counter;
    int null_co, null_fn, other_co, ok;
};

static void *defer_try_body(coro_t *co, void *arg)
{
    struct defer_try *d = arg;

    d->null_co = coro_defer(NULL, count_cleanup, d->counter);
    d->null_fn = coro_defer(co, NULL, d->counter);
    d->other_co = d->other != NULL ? coro_defer(d->other, count_cleanup, d->counter) : -1;
    d->ok = coro_defer(co, count_cleanup, d->counter + 1);
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
    assert_int_equal(d.null_co, EINVAL);
    assert_int_equal(d.null_fn, EINVAL);
    assert_int_equal(d.ok, 0);
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
    assert_int_equal(d.other_co, EPERM);
    assert_int_equal(d.ok, 0);
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
    struct outcome yield, from;
    enum coro_status sub_status;
};

static void ending_cleanup(void *arg)
{
    struct ending *e = arg;

    e->runs++;
    RECORD(e->yield, coro_yield(e->co, INT_TO_PTR(1)));
    RECORD(e->from, coro_yield_from(e->co, e->sub));
    e->sub_status = coro_status(e->sub);
}

/* Registers ending_cleanup, yields 1 and returns 2. */
static void *ending_body(coro_t *co, void *arg)
{
    struct ending *e = arg;

    e->co = co;
    if (coro_defer(co, ending_cleanup, e) != 0)
        return NULL;
    coro_yield(co, INT_TO_PTR(1));
    return INT_TO_PTR(2);
}

static void assert_cancelled(const struct ending *e)
{
    assert_int_equal(e->runs, 1);
    assert_null(e->yield.value);
    assert_int_equal(e->yield.error, ECANCELED);
    assert_null(e->from.value);
    assert_int_equal(e->from.error, ECANCELED);
    assert_int_equal(e->sub_status, CORO_CREATED);
    assert_int_equal(coro_status(e->sub), CORO_CREATED);
}

/* A coroutine of ending_body, suspended in its yield; e's sub not started. */
static coro_t *start_ending(struct ending *e)
{
    coro_t *co;

    e->sub = must_create(running_sum, NULL);
    co = must_create(ending_body, e);
    assert_int_equal(PTR_TO_INT(coro_next(co)), 1);
    assert_int_equal(e->runs, 0);
    return co;
}

static void test_errors_cleanup_yield_on_return(void **state)
{
    /* In a cleanup run as the body returns, coro_yield() and coro_yield_from()
     * fail with ECANCELED; the return value still comes out. */
    struct ending e = {0};
    coro_t *co = start_ending(&e);

    (void)state;
    assert_int_equal(PTR_TO_INT(coro_next(co)), 2);
    assert_int_equal(coro_status(co), CORO_DEAD);
    assert_cancelled(&e);
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
    assert_cancelled(&e);
    assert_null(coro_current());
    assert_int_equal(coro_destroy(co), 0);
    assert_int_equal(e.runs, 1);
    assert_int_equal(coro_destroy(e.sub), 0);
}

/* ---- errno on success --------------------------------------------------- */

/* Records errno as each of its yields returns, then returns 3. */
static void *errno_body(coro_t *co, void *arg)
{
    int *seen = arg;

    coro_yield(co, INT_TO_PTR(1));
    seen[0] = errno;
    coro_yield(co, INT_TO_PTR(2));
    seen[1] = errno;
    return INT_TO_PTR(3);
}

static void test_errors_success_keeps_errno(void **state)
{
    /* A successful coro_send/next/resume leaves errno as it was, through
     * starts, yields and the body's return. */
    int seen[2] = {0, 0};
    void *out = NULL;
    coro_t *co;

    (void)state;
    co = must_create(errno_body, seen);

    errno = ERRNO_SENTINEL;
    assert_int_equal(PTR_TO_INT(coro_send(co, NULL)), 1);
    assert_int_equal(errno, ERRNO_SENTINEL);
    errno = ERRNO_SENTINEL + 1;
    assert_int_equal(PTR_TO_INT(coro_next(co)), 2);
    assert_int_equal(errno, ERRNO_SENTINEL + 1);
    assert_int_equal(seen[0], ERRNO_SENTINEL + 1);
    errno = ERRNO_SENTINEL + 2;
    assert_int_equal(coro_resume(co, INT_TO_PTR(9), &out), 0);
    assert_int_equal(PTR_TO_INT(out), 3);
    assert_int_equal(errno, ERRNO_SENTINEL + 2);
    assert_int_equal(seen[1], ERRNO_SENTINEL + 2);
    assert_int_equal(coro_status(co), CORO_DEAD);
    assert_int_equal(coro_destroy(co), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errors_create_null_fn),
        cmocka_unit_test(test_errors_create_stack_too_small),
        cmocka_unit_test(test_errors_create_stack_huge),
        cmocka_unit_test(test_errors_null_coroutine),
        cmocka_unit_test(test_errors_yield_null),
        cmocka_unit_test(test_errors_yield_outside),
        cmocka_unit_test(test_errors_yield_other),
        cmocka_unit_test(test_errors_yield_from_dead),
        cmocka_unit_test(test_errors_yield_from_self),
        cmocka_unit_test(test_errors_busy_running),
        cmocka_unit_test(test_errors_busy_normal),
        cmocka_unit_test(test_errors_busy_delegated),
        cmocka_unit_test(test_errors_defer_null),
        cmocka_unit_test(test_errors_defer_not_running),
        cmocka_unit_test(test_errors_cleanup_yield_on_return),
        cmocka_unit_test(test_errors_cleanup_yield_on_close),
        cmocka_unit_test(test_errors_success_keeps_errno),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
