/*
 * yield_from: delegation as Python's `yield from` (PEP 380). Values flow up
 * from the delegate, sends flow down into it, its return value comes back,
 * and closing the delegator closes the delegate first. Its errors (a NULL,
 * dead or running sub, a co not running, a cleanup delegating) are tested in
 * test_errors.c; here only what delegation adds: a sub delegated to is busy.
 */
#include "event_log.h"

#include <errno.h>
#include <stdbool.h>

/* The delegate: yields 1, 2, 3, recording each value sent back, and
 * returns 99. */
static void *sub_echo(coro_t *co, void *arg)
{
    (void)arg;
    for (int i = 1; i <= 3; i++)
        record((int)PTR_TO_INT(coro_yield(co, INT_TO_PTR(i))));
    return INT_TO_PTR(99);
}

/* The delegator: delegates to arg, records what it returned, yields 77,
 * records what was sent for that, and returns 88. */
static void *outer_body(coro_t *co, void *arg)
{
    coro_t *sub = arg;

    record((int)PTR_TO_INT(coro_yield_from(co, sub)));
    record((int)PTR_TO_INT(coro_yield(co, INT_TO_PTR(77))));
    return INT_TO_PTR(88);
}

/* The pair of coroutines most tests use. */
struct pair {
    coro_t *sub;
    coro_t *outer;
};

static struct pair make_pair(coro_fn sub_fn, void *sub_arg, coro_fn outer_fn)
{
    struct pair p;

    p.sub = must_create(sub_fn, sub_arg);
    p.outer = must_create(outer_fn, p.sub);
    return p;
}

static void destroy_pair(struct pair p)
{
    assert_int_equal(coro_destroy(p.outer), 0);
    assert_int_equal(coro_destroy(p.sub), 0);
}

static void test_yield_from_values_come_out_in_order(void **state)
{
    /* Every value the delegate yields comes out of the delegator, in order. */
    struct pair p = make_pair(sub_echo, NULL, outer_body);

    (void)state;
    assert_ptr_equal(coro_next(p.outer), INT_TO_PTR(1));
    assert_ptr_equal(coro_next(p.outer), INT_TO_PTR(2));
    assert_ptr_equal(coro_next(p.outer), INT_TO_PTR(3));
    assert_ptr_equal(coro_next(p.outer), INT_TO_PTR(77));
    assert_int_equal(coro_status(p.outer), CORO_SUSPENDED);
    destroy_pair(p);
}

static void test_yield_from_sends_go_into_sub(void **state)
{
    /* Every value sent to the delegator is what the delegate's coro_yield()
     * returns; the delegator's own yield gets the send after the delegation. */
    static const int expected[] = {10, 20, 30, 99, 40};
    struct pair p = make_pair(sub_echo, NULL, outer_body);

    (void)state;
    assert_ptr_equal(coro_next(p.outer), INT_TO_PTR(1));
    assert_ptr_equal(coro_send(p.outer, INT_TO_PTR(10)), INT_TO_PTR(2));
    assert_ptr_equal(coro_send(p.outer, INT_TO_PTR(20)), INT_TO_PTR(3));
    assert_ptr_equal(coro_send(p.outer, INT_TO_PTR(30)), INT_TO_PTR(77));
    assert_ptr_equal(coro_send(p.outer, INT_TO_PTR(40)), INT_TO_PTR(88));
    assert_int_equal(coro_status(p.outer), CORO_DEAD);
    assert_log(expected, 5);
    destroy_pair(p);
}

static void test_yield_from_returns_sub_result(void **state)
{
    /* coro_yield_from() returns the delegate's return value, the delegator's
     * body carries on, and the delegate is CORO_DEAD afterwards. */
    struct pair p = make_pair(sub_echo, NULL, outer_body);
    void *out = NULL;

    (void)state;
    for (int i = 1; i <= 3; i++) {
        assert_int_equal(coro_resume(p.outer, NULL, &out), 0);
        assert_ptr_equal(out, INT_TO_PTR(i));
        assert_int_equal(coro_status(p.sub), CORO_SUSPENDED);
    }
    event_count = 0;
    assert_int_equal(coro_resume(p.outer, NULL, &out), 0);
    assert_ptr_equal(out, INT_TO_PTR(77));
    /* sub recorded the NULL sent, then outer recorded sub's 99 */
    assert_int_equal(event_count, 2);
    assert_int_equal(event_log[0], 0);
    assert_int_equal(event_log[1], 99);
    assert_int_equal(coro_status(p.sub), CORO_DEAD);
    assert_int_equal(coro_status(p.outer), CORO_SUSPENDED);
    assert_int_equal(coro_resume(p.sub, NULL, &out), ESRCH);
    assert_ptr_equal(out, INT_TO_PTR(77));
    destroy_pair(p);
}

static void *sub_returns_at_once(coro_t *co, void *arg)
{
    (void)co;
    record(1);
    return arg;
}

/* Delegates to arg and returns what it got plus one, never yielding. */
static void *outer_plus_one(coro_t *co, void *arg)
{
    void *got = coro_yield_from(co, arg);

    record(2);
    return INT_TO_PTR(PTR_TO_INT(got) + 1);
}

static void test_yield_from_sub_returning_at_once(void **state)
{
    /* A delegate that returns without yielding gives its value at once: the
     * delegator never yields on its behalf. */
    static const int expected[] = {1, 2};
    struct pair p = make_pair(sub_returns_at_once, INT_TO_PTR(42), outer_plus_one);

    (void)state;
    assert_ptr_equal(coro_next(p.outer), INT_TO_PTR(43));
    assert_int_equal(coro_status(p.outer), CORO_DEAD);
    assert_int_equal(coro_status(p.sub), CORO_DEAD);
    assert_log(expected, 2);
    destroy_pair(p);
}

static void test_yield_from_started_sub_resumed_with_null(void **state)
{
    /* A delegate already started (CORO_SUSPENDED) is first resumed with NULL,
     * as `yield from` calls next(), and carries on from where it was. */
    static const int expected[] = {0, 20, 30, 99, 40};
    struct pair p = make_pair(sub_echo, NULL, outer_body);

    (void)state;
    assert_ptr_equal(coro_next(p.sub), INT_TO_PTR(1));
    assert_int_equal(event_count, 0);
    assert_ptr_equal(coro_next(p.outer), INT_TO_PTR(2));
    assert_ptr_equal(coro_send(p.outer, INT_TO_PTR(20)), INT_TO_PTR(3));
    assert_ptr_equal(coro_send(p.outer, INT_TO_PTR(30)), INT_TO_PTR(77));
    assert_ptr_equal(coro_send(p.outer, INT_TO_PTR(40)), INT_TO_PTR(88));
    assert_log(expected, 5);
    destroy_pair(p);
}

/* Three levels: outer -> mid -> inner (sub_echo). */
struct chain {
    coro_t *inner;
    coro_t *mid;
    coro_t *outer;
};

static struct chain chain;

/* Delegates to the inner one, records its result, yields 50, records the
 * send, returns 60. */
static void *mid_body(coro_t *co, void *arg)
{
    (void)arg;
    record((int)PTR_TO_INT(coro_yield_from(co, chain.inner)));
    record((int)PTR_TO_INT(coro_yield(co, INT_TO_PTR(50))));
    return INT_TO_PTR(60);
}

/* Delegates to mid, records its result, returns it plus one. */
static void *top_body(coro_t *co, void *arg)
{
    void *got;

    (void)arg;
    got = coro_yield_from(co, chain.mid);
    record((int)PTR_TO_INT(got));
    return INT_TO_PTR(PTR_TO_INT(got) + 1);
}

static void make_chain(coro_fn inner_fn, coro_fn mid_fn, coro_fn outer_fn)
{
    chain.inner = must_create(inner_fn, NULL);
    chain.mid = must_create(mid_fn, NULL);
    chain.outer = must_create(outer_fn, NULL);
}

static void destroy_chain(void)
{
    assert_int_equal(coro_destroy(chain.outer), 0);
    assert_int_equal(coro_destroy(chain.mid), 0);
    assert_int_equal(coro_destroy(chain.inner), 0);
}

static void test_yield_from_nested_three_levels(void **state)
{
    /* outer -> mid -> inner: sends flow down to the innermost delegate, values
     * and return values flow back up, and neither lower level can be resumed
     * from outside meanwhile. */
    static const int expected[] = {10, 20, 30, 99, 40, 60};

    (void)state;
    make_chain(sub_echo, mid_body, top_body);
    assert_ptr_equal(coro_next(chain.outer), INT_TO_PTR(1));
    assert_int_equal(coro_resume(chain.inner, NULL, NULL), EBUSY);
    assert_int_equal(coro_resume(chain.mid, NULL, NULL), EBUSY);
    assert_int_equal(coro_status(chain.inner), CORO_SUSPENDED);
    assert_int_equal(coro_status(chain.mid), CORO_SUSPENDED);
    assert_int_equal(coro_status(chain.outer), CORO_SUSPENDED);
    assert_ptr_equal(coro_send(chain.outer, INT_TO_PTR(10)), INT_TO_PTR(2));
    assert_ptr_equal(coro_send(chain.outer, INT_TO_PTR(20)), INT_TO_PTR(3));
    assert_ptr_equal(coro_send(chain.outer, INT_TO_PTR(30)), INT_TO_PTR(50));
    assert_int_equal(coro_status(chain.inner), CORO_DEAD);
    assert_int_equal(coro_status(chain.mid), CORO_SUSPENDED);
    assert_ptr_equal(coro_send(chain.outer, INT_TO_PTR(40)), INT_TO_PTR(61));
    assert_int_equal(coro_status(chain.mid), CORO_DEAD);
    assert_int_equal(coro_status(chain.outer), CORO_DEAD);
    assert_log(expected, 6);
    destroy_chain();
}

/* A delegate with a cleanup that records 1, and must run as the delegate
 * itself; it yields until closed. */
static void sub_cleanup(void *arg)
{
    body_assert_ptr_equal(coro_current(), arg);
    record(1);
}

static void *sub_forever(coro_t *co, void *arg)
{
    (void)arg;
    body_assert_int_equal(coro_defer(co, sub_cleanup, co), 0);
    /* Until closed: a running coroutine always reads CORO_RUNNING. */
    for (int i = 1; coro_status(co) == CORO_RUNNING; i++)
        coro_yield(co, INT_TO_PTR(i));
    return NULL;
}

/* A delegator with a cleanup recording 2; the code after its delegation
 * must not run when it is closed. */
static void *outer_with_cleanup(coro_t *co, void *arg)
{
    body_assert_int_equal(coro_defer(co, record_cleanup, INT_TO_PTR(2)), 0);
    coro_yield_from(co, arg);
    record(-1);
    return NULL;
}

/* Ends the delegator while it delegates, by coro_close() or coro_destroy(),
 * and checks what became of both. */
static void end_delegator_while_delegating(bool destroy)
{
    static const int expected[] = {1, 2};
    coro_t *sub = must_create(sub_forever, NULL);
    coro_t *outer = must_create(outer_with_cleanup, sub);
    void *out = INT_TO_PTR(-5);

    assert_ptr_equal(coro_next(outer), INT_TO_PTR(1));
    assert_ptr_equal(coro_next(outer), INT_TO_PTR(2));
    assert_int_equal(event_count, 0);

    if (destroy) {
        assert_int_equal(coro_destroy(outer), 0);
    } else {
        assert_int_equal(coro_close(outer), 0);
        assert_int_equal(coro_status(outer), CORO_DEAD);
    }
    assert_log(expected, 2);
    assert_int_equal(coro_status(sub), CORO_DEAD);
    assert_null(coro_current());
    /* sub is no longer delegated to: dead, not busy, and still the caller's. */
    assert_int_equal(coro_resume(sub, NULL, &out), ESRCH);
    assert_ptr_equal(out, INT_TO_PTR(-5));
    assert_int_equal(coro_close(sub), 0);
    if (!destroy)
        assert_int_equal(coro_destroy(outer), 0);
    assert_int_equal(coro_destroy(sub), 0);
    assert_log(expected, 2);
}

static void test_yield_from_close_closes_sub_first(void **state)
{
    /* Closing the delegator while it delegates closes the delegate first (its
     * cleanups, seeing coro_current() == sub, run before the delegator's);
     * both end CORO_DEAD and the delegate stays allocated for the caller. */
    (void)state;
    end_delegator_while_delegating(false);
}

static void test_yield_from_destroy_closes_sub_first(void **state)
{
    /* Destroying the delegator while it delegates closes the delegate first,
     * as closing does; the delegate is CORO_DEAD and the caller destroys it. */
    (void)state;
    end_delegator_while_delegating(true);
}

/* Tries to delegate to, then to resume, a coroutine some other coroutine
 * delegates to (arg): both must fail with EBUSY. Returns 1. */
static void *second_delegator(coro_t *co, void *arg)
{
    errno = 0;
    body_assert_null(coro_yield_from(co, arg));
    body_assert_int_equal(errno, EBUSY);
    body_assert_int_equal(coro_resume(arg, NULL, NULL), EBUSY);
    return INT_TO_PTR(1);
}

static void test_yield_from_sub_busy_while_delegated(void **state)
{
    /* While delegated to, the delegate cannot be resumed, closed, destroyed
     * or delegated to by anyone else (EBUSY) and nothing changes; once the
     * delegation ends it can be destroyed. */
    struct pair p = make_pair(sub_echo, NULL, outer_body);
    coro_t *other = must_create(second_delegator, p.sub);
    void *out = INT_TO_PTR(-5);

    (void)state;
    assert_ptr_equal(coro_next(p.outer), INT_TO_PTR(1));

    assert_int_equal(coro_resume(p.sub, NULL, &out), EBUSY);
    assert_ptr_equal(out, INT_TO_PTR(-5));
    assert_null_errno(coro_send(p.sub, INT_TO_PTR(5)), EBUSY);
    assert_int_equal(coro_close(p.sub), EBUSY);
    assert_int_equal(coro_destroy(p.sub), EBUSY);
    assert_ptr_equal(coro_next(other), INT_TO_PTR(1));
    assert_int_equal(coro_status(other), CORO_DEAD);
    assert_int_equal(event_count, 0); /* sub was not resumed: it records sends */
    assert_int_equal(coro_status(p.sub), CORO_SUSPENDED);
    assert_int_equal(coro_status(p.outer), CORO_SUSPENDED);

    /* Untouched: the delegation goes on from 1 to 2 with the value sent. */
    assert_ptr_equal(coro_send(p.outer, INT_TO_PTR(10)), INT_TO_PTR(2));
    assert_int_equal(event_count, 1);
    assert_int_equal(event_log[0], 10);
    assert_ptr_equal(coro_next(p.outer), INT_TO_PTR(3));
    assert_ptr_equal(coro_next(p.outer), INT_TO_PTR(77));
    assert_int_equal(coro_status(p.sub), CORO_DEAD);
    assert_int_equal(coro_destroy(p.sub), 0);
    assert_int_equal(coro_destroy(p.outer), 0);
    assert_int_equal(coro_destroy(other), 0);
}

/* The delegator of sub_observing, and how many rounds it checked. */
static struct {
    coro_t *outer;
    int rounds;
} observed;

/* On each of three rounds, checks that it is current and running and its
 * delegator is CORO_NORMAL, then yields the round's number. */
static void *sub_observing(coro_t *co, void *arg)
{
    (void)arg;
    for (int i = 0; i < 3; i++) {
        observed.rounds++;
        body_assert_ptr_equal(coro_current(), co);
        body_assert_int_equal(coro_status(co), CORO_RUNNING);
        body_assert_int_equal(coro_status(observed.outer), CORO_NORMAL);
        coro_yield(co, INT_TO_PTR(i));
    }
    return NULL;
}

static void test_yield_from_statuses_during_delegation(void **state)
{
    /* During the delegation both coroutines read CORO_SUSPENDED from outside;
     * inside the delegate coro_current() is the delegate, CORO_RUNNING, and
     * its delegator is CORO_NORMAL, on every resume. */
    struct pair p = make_pair(sub_observing, NULL, outer_body);

    (void)state;
    observed.outer = p.outer;
    observed.rounds = 0;
    for (int i = 0; i < 3; i++) {
        assert_ptr_equal(coro_send(p.outer, i == 0 ? NULL : INT_TO_PTR(i)), INT_TO_PTR(i));
        assert_int_equal(coro_status(p.sub), CORO_SUSPENDED);
        assert_int_equal(coro_status(p.outer), CORO_SUSPENDED);
        assert_null(coro_current());
    }
    assert_int_equal(observed.rounds, 3);
    assert_ptr_equal(coro_next(p.outer), INT_TO_PTR(77));
    assert_int_equal(coro_status(p.sub), CORO_DEAD);
    destroy_pair(p);
}

/* Yields NULL twice, each time must be sent NULL and records 1; returns
 * NULL. */
static void *sub_nulls(coro_t *co, void *arg)
{
    (void)arg;
    for (int i = 0; i < 2; i++) {
        body_assert_null(coro_yield(co, NULL));
        record(1);
    }
    return NULL;
}

/* Delegates to arg, must get NULL back, records 2, returns NULL. */
static void *outer_nulls(coro_t *co, void *arg)
{
    body_assert_null(coro_yield_from(co, arg));
    record(2);
    return NULL;
}

static void test_yield_from_null_values(void **state)
{
    /* A delegate yielding and returning NULL works: coro_resume() tells each
     * NULL value from an error, and coro_status() tells yields from the end. */
    static const int expected[] = {1, 1, 2};
    struct pair p = make_pair(sub_nulls, NULL, outer_nulls);
    void *out;

    (void)state;
    for (int i = 0; i < 2; i++) {
        out = INT_TO_PTR(-5);
        assert_int_equal(coro_resume(p.outer, NULL, &out), 0);
        assert_null(out);
        assert_int_equal(coro_status(p.outer), CORO_SUSPENDED);
    }
    out = INT_TO_PTR(-5);
    assert_int_equal(coro_resume(p.outer, NULL, &out), 0);
    assert_null(out);
    assert_int_equal(coro_status(p.outer), CORO_DEAD);
    assert_int_equal(coro_status(p.sub), CORO_DEAD);
    assert_log(expected, 3);
    assert_int_equal(coro_resume(p.outer, NULL, &out), ESRCH);
    destroy_pair(p);
}

/* Yields arg and arg + 1, recording sends, and returns 10 * arg. */
static void *sub_two(coro_t *co, void *arg)
{
    intptr_t base = PTR_TO_INT(arg);

    record((int)PTR_TO_INT(coro_yield(co, INT_TO_PTR(base))));
    record((int)PTR_TO_INT(coro_yield(co, INT_TO_PTR(base + 1))));
    return INT_TO_PTR(10 * base);
}

static coro_t *subs[2];

static void *outer_two_subs(coro_t *co, void *arg)
{
    intptr_t first, second;

    (void)arg;
    first = PTR_TO_INT(coro_yield_from(co, subs[0]));
    body_assert_int_equal(coro_status(subs[0]), CORO_DEAD);
    record(1000);
    second = PTR_TO_INT(coro_yield_from(co, subs[1]));
    return INT_TO_PTR(first + second);
}

static void test_yield_from_two_subs_in_a_row(void **state)
{
    /* One body delegates to two coroutines in turn: each gets its own sends
     * and the results of both come back. */
    static const int expected[] = {101, 102, 1000, 103, 104};
    coro_t *outer;

    (void)state;
    subs[0] = must_create(sub_two, INT_TO_PTR(1));
    subs[1] = must_create(sub_two, INT_TO_PTR(5));
    outer = must_create(outer_two_subs, NULL);

    assert_ptr_equal(coro_next(outer), INT_TO_PTR(1));
    assert_ptr_equal(coro_send(outer, INT_TO_PTR(101)), INT_TO_PTR(2));
    assert_int_equal(coro_status(subs[1]), CORO_CREATED);
    assert_ptr_equal(coro_send(outer, INT_TO_PTR(102)), INT_TO_PTR(5));
    assert_int_equal(coro_status(subs[0]), CORO_DEAD);
    assert_ptr_equal(coro_send(outer, INT_TO_PTR(103)), INT_TO_PTR(6));
    assert_ptr_equal(coro_send(outer, INT_TO_PTR(104)), INT_TO_PTR(60));
    assert_int_equal(coro_status(outer), CORO_DEAD);
    assert_int_equal(coro_status(subs[1]), CORO_DEAD);
    assert_log(expected, 5);
    assert_int_equal(coro_destroy(outer), 0);
    assert_int_equal(coro_destroy(subs[0]), 0);
    assert_int_equal(coro_destroy(subs[1]), 0);
}

/* Inner coroutine of the closed chain: records 1 from its cleanup. */
static void *inner_with_cleanup(coro_t *co, void *arg)
{
    (void)arg;
    body_assert_int_equal(coro_defer(co, record_cleanup, INT_TO_PTR(1)), 0);
    while (coro_status(co) == CORO_RUNNING)
        coro_yield(co, INT_TO_PTR(7));
    return NULL;
}

static void *mid_with_cleanup(coro_t *co, void *arg)
{
    (void)arg;
    body_assert_int_equal(coro_defer(co, record_cleanup, INT_TO_PTR(2)), 0);
    coro_yield_from(co, chain.inner);
    record(-2);
    return NULL;
}

static void *top_with_cleanup(coro_t *co, void *arg)
{
    (void)arg;
    body_assert_int_equal(coro_defer(co, record_cleanup, INT_TO_PTR(3)), 0);
    coro_yield_from(co, chain.mid);
    record(-3);
    return NULL;
}

static void test_yield_from_close_nested_innermost_first(void **state)
{
    /* Closing the top of a three-level delegation closes the innermost first:
     * cleanups run inner, mid, outer; all end CORO_DEAD and destroyable. */
    static const int expected[] = {1, 2, 3};

    (void)state;
    make_chain(inner_with_cleanup, mid_with_cleanup, top_with_cleanup);
    assert_ptr_equal(coro_next(chain.outer), INT_TO_PTR(7));
    assert_ptr_equal(coro_next(chain.outer), INT_TO_PTR(7));
    assert_int_equal(coro_close(chain.mid), EBUSY);
    assert_int_equal(event_count, 0);

    assert_int_equal(coro_close(chain.outer), 0);
    assert_log(expected, 3);
    assert_int_equal(coro_status(chain.outer), CORO_DEAD);
    assert_int_equal(coro_status(chain.mid), CORO_DEAD);
    assert_int_equal(coro_status(chain.inner), CORO_DEAD);
    destroy_chain();
    assert_log(expected, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        logged_test(test_yield_from_values_come_out_in_order),
        logged_test(test_yield_from_sends_go_into_sub),
        logged_test(test_yield_from_returns_sub_result),
        logged_test(test_yield_from_sub_returning_at_once),
        logged_test(test_yield_from_started_sub_resumed_with_null),
        logged_test(test_yield_from_nested_three_levels),
        logged_test(test_yield_from_close_closes_sub_first),
        logged_test(test_yield_from_destroy_closes_sub_first),
        logged_test(test_yield_from_sub_busy_while_delegated),
        logged_test(test_yield_from_statuses_during_delegation),
        logged_test(test_yield_from_null_values),
        logged_test(test_yield_from_two_subs_in_a_row),
        logged_test(test_yield_from_close_nested_innermost_first),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
