/*
 * close and defer: coro_close() on every state, and the cleanups registered
 * with coro_defer(): their order, where they run, what they see.
 */
#include "bodies.h"
#include "event_log.h"

#include <errno.h>

/* Records 1, yields 2, records 3, returns 4. */
static void *record_around_yield(coro_t *co, void *arg)
{
    (void)arg;
    record(1);
    coro_yield(co, INT_TO_PTR(2));
    record(3);
    return INT_TO_PTR(4);
}

/* As record_around_yield, with a cleanup recording 100 so that a close has
 * to switch into the coroutine to run it. */
static void *record_around_yield_deferred(coro_t *co, void *arg)
{
    body_assert_int_equal(coro_defer(co, record_cleanup, INT_TO_PTR(100)), 0);
    return record_around_yield(co, arg);
}

/* Registers cleanups 1, 2, 3, then yields once and returns 7. */
static void *three_cleanups(coro_t *co, void *arg)
{
    (void)arg;
    for (int i = 1; i <= 3; i++)
        body_assert_int_equal(coro_defer(co, record_cleanup, INT_TO_PTR(i)), 0);
    coro_yield(co, INT_TO_PTR(5));
    record(6);
    return INT_TO_PTR(7);
}

static void test_close_created_never_runs(void **state)
{
    /* Closing a CORO_CREATED coroutine makes it CORO_DEAD; its body never runs. */
    coro_t *co = must_create(record_around_yield, NULL);
    void *out = INT_TO_PTR(-1);

    (void)state;
    assert_int_equal(coro_close(co), 0);
    assert_int_equal(coro_status(co), CORO_DEAD);
    assert_int_equal(coro_resume(co, NULL, &out), ESRCH);
    assert_ptr_equal(out, INT_TO_PTR(-1));
    assert_int_equal(event_count, 0);
    assert_int_equal(coro_destroy(co), 0);
    assert_int_equal(event_count, 0);
}

static void test_close_suspended_yield_never_returns(void **state)
{
    /* Closing a CORO_SUSPENDED coroutine makes it CORO_DEAD; the code after its
     * pending coro_yield() never runs, with or without cleanups to run. */
    static const int expected_plain[] = {1};
    static const int expected_deferred[] = {1, 100};
    coro_t *plain = must_create(record_around_yield, NULL);
    coro_t *deferred = must_create(record_around_yield_deferred, NULL);

    (void)state;

    assert_ptr_equal(coro_next(plain), INT_TO_PTR(2));
    assert_int_equal(coro_status(plain), CORO_SUSPENDED);
    assert_int_equal(coro_close(plain), 0);
    assert_int_equal(coro_status(plain), CORO_DEAD);
    assert_log(expected_plain, 1);

    event_count = 0;
    assert_ptr_equal(coro_next(deferred), INT_TO_PTR(2));
    assert_int_equal(coro_close(deferred), 0);
    assert_int_equal(coro_status(deferred), CORO_DEAD);
    assert_log(expected_deferred, 2);

    assert_int_equal(coro_destroy(plain), 0);
    assert_int_equal(coro_destroy(deferred), 0);
    assert_log(expected_deferred, 2);
}

static void test_close_dead_is_noop(void **state)
{
    /* Closing a CORO_DEAD coroutine returns 0 and changes nothing: no cleanup
     * runs again, the status stays, a resume still fails with ESRCH. */
    static const int expected[] = {6, 3, 2, 1};
    coro_t *co = must_create(three_cleanups, NULL);
    void *out = INT_TO_PTR(-1);

    (void)state;
    assert_ptr_equal(coro_next(co), INT_TO_PTR(5));
    assert_ptr_equal(coro_next(co), INT_TO_PTR(7));
    assert_int_equal(coro_status(co), CORO_DEAD);
    assert_log(expected, 4);

    assert_int_equal(coro_close(co), 0);
    assert_int_equal(coro_close(co), 0);
    assert_int_equal(coro_status(co), CORO_DEAD);
    assert_log(expected, 4);
    assert_int_equal(coro_resume(co, NULL, &out), ESRCH);
    assert_ptr_equal(out, INT_TO_PTR(-1));
    assert_int_equal(coro_destroy(co), 0);
    assert_log(expected, 4);
}

static void test_close_resume_after_close_is_esrch(void **state)
{
    /* After coro_close(), every resume fails with ESRCH and changes nothing. */
    coro_t *co = must_create(record_around_yield_deferred, NULL);
    void *out = INT_TO_PTR(-1);

    (void)state;
    assert_ptr_equal(coro_next(co), INT_TO_PTR(2));
    assert_int_equal(coro_close(co), 0);
    event_count = 0;

    assert_int_equal(coro_resume(co, NULL, &out), ESRCH);
    assert_int_equal(coro_resume(co, INT_TO_PTR(9), &out), ESRCH);
    assert_ptr_equal(out, INT_TO_PTR(-1));
    assert_null_errno(coro_send(co, INT_TO_PTR(9)), ESRCH);
    assert_null_errno(coro_next(co), ESRCH);
    assert_int_equal(coro_status(co), CORO_DEAD);
    assert_int_equal(event_count, 0);
    assert_int_equal(coro_destroy(co), 0);
}

/* How the coroutine in test_close_cleanup_order ends. */
enum ending { END_RETURN, END_CLOSE, END_DESTROY };

static void run_cleanup_order(enum ending how)
{
    /* Body: 1, 2, 3 are cleanups; 6 is recorded after the yield. */
    static const int returned[] = {6, 3, 2, 1};
    static const int closed[] = {3, 2, 1};
    coro_t *co = must_create(three_cleanups, NULL);

    assert_ptr_equal(coro_next(co), INT_TO_PTR(5));
    assert_int_equal(event_count, 0);
    switch (how) {
    case END_RETURN:
        assert_ptr_equal(coro_next(co), INT_TO_PTR(7));
        assert_int_equal(coro_status(co), CORO_DEAD);
        assert_log(returned, 4);
        break;
    case END_CLOSE:
        assert_int_equal(coro_close(co), 0);
        assert_int_equal(coro_status(co), CORO_DEAD);
        assert_log(closed, 3);
        break;
    case END_DESTROY:
        break;
    }
    assert_int_equal(coro_destroy(co), 0);
    if (how == END_RETURN)
        assert_log(returned, 4);
    else
        assert_log(closed, 3);
}

static void test_close_cleanups_reverse_order(void **state)
{
    /* Cleanups run last registered first when the body returns, when the
     * coroutine is closed, and when it is destroyed while suspended; each once. */
    (void)state;
    run_cleanup_order(END_RETURN);
    event_count = 0;
    run_cleanup_order(END_CLOSE);
    event_count = 0;
    run_cleanup_order(END_DESTROY);
}

/* Cleanups that act on a local of the body through their argument. */
static void double_local(void *arg)
{
    int *local = arg;

    *local *= 2;
}

static void record_local(void *arg)
{
    record(*(int *)arg);
}

static void *body_with_local(coro_t *co, void *arg)
{
    int local = 1;

    (void)arg;
    /* record_local runs last and must see what double_local left. */
    body_assert_int_equal(coro_defer(co, record_local, &local), 0);
    body_assert_int_equal(coro_defer(co, double_local, &local), 0);
    local = 21; /* after registering: the cleanups read the live variable */
    coro_yield(co, &local);
    record(-1); /* never: closed while suspended */
    return NULL;
}

static void test_close_cleanups_use_body_locals(void **state)
{
    /* Cleanups run on the coroutine's own stack with the suspended body's
     * frame alive: they read and modify a local of the body through their
     * argument, and see its latest value. */
    static const int expected[] = {42};
    coro_t *co = must_create(body_with_local, NULL);
    int *local;

    (void)state;
    local = coro_next(co);
    assert_non_null(local);
    assert_int_equal(*local, 21);
    assert_int_equal(coro_close(co), 0);
    assert_int_equal(coro_status(co), CORO_DEAD);
    assert_log(expected, 1);
    assert_int_equal(coro_destroy(co), 0);
    assert_log(expected, 1);
}

/* A coroutine whose cleanup checks that it runs as that coroutine. */
struct observed {
    coro_t *co;
    int runs;
};

static void observe_cleanup(void *arg)
{
    struct observed *seen = arg;

    body_assert_ptr_equal(coro_current(), seen->co);
    body_assert_int_equal(coro_status(seen->co), CORO_RUNNING);
    seen->runs++;
}

static void test_close_cleanup_sees_running_coroutine(void **state)
{
    /* Inside a cleanup coro_current() is the coroutine and its status is
     * CORO_RUNNING, on close and on return; outside, coro_current() is NULL
     * again afterwards. */
    struct observed closed = {NULL, 0};
    struct observed returned = {NULL, 0};
    struct cleanup_call observe_closed = {observe_cleanup, &closed};
    struct cleanup_call observe_returned = {observe_cleanup, &returned};
    coro_t *a = must_create(defer_then_yield, &observe_closed);
    coro_t *b = must_create(defer_then_yield, &observe_returned);

    (void)state;
    closed.co = a;
    returned.co = b;

    assert_ptr_equal(coro_next(a), &closed);
    assert_int_equal(coro_close(a), 0);
    assert_int_equal(closed.runs, 1);
    assert_null(coro_current());

    assert_ptr_equal(coro_next(b), &returned);
    assert_ptr_equal(coro_send(b, INT_TO_PTR(8)), INT_TO_PTR(8));
    assert_int_equal(coro_status(b), CORO_DEAD);
    assert_int_equal(returned.runs, 1);
    assert_null(coro_current());

    assert_int_equal(coro_destroy(a), 0);
    assert_int_equal(coro_destroy(b), 0);
    assert_int_equal(closed.runs, 1);
    assert_int_equal(returned.runs, 1);
}

/* A cleanup that registers another cleanup on the running coroutine. */
static void register_more(void *arg)
{
    record(2);
    body_assert_int_equal(coro_defer(coro_current(), record_cleanup, arg), 0);
}

static void *body_nested_defer(coro_t *co, void *arg)
{
    (void)arg;
    body_assert_int_equal(coro_defer(co, record_cleanup, INT_TO_PTR(1)), 0);
    body_assert_int_equal(coro_defer(co, register_more, INT_TO_PTR(3)), 0);
    coro_yield(co, NULL);
    return NULL;
}

static void test_close_cleanup_registered_in_cleanup_runs(void **state)
{
    /* A cleanup registered from inside a cleanup runs too, next (it is now
     * the last registered), before the older ones. */
    static const int expected[] = {2, 3, 1};
    coro_t *co = must_create(body_nested_defer, NULL);

    (void)state;
    coro_next(co);
    assert_int_equal(coro_close(co), 0);
    assert_int_equal(coro_status(co), CORO_DEAD);
    assert_log(expected, 3);
    assert_int_equal(coro_destroy(co), 0);
    assert_log(expected, 3);
}

/* Records 1 (its resumer must be CORO_NORMAL), yields 10 and 20, returns 30. */
static void *helper_body(coro_t *co, void *arg)
{
    coro_t *resumer = arg;

    body_assert_int_equal(coro_status(resumer), CORO_NORMAL);
    record(1);
    coro_yield(co, INT_TO_PTR(10));
    coro_yield(co, INT_TO_PTR(20));
    return INT_TO_PTR(30);
}

/* A cleanup that runs a helper coroutine to its end, records what it got,
 * and destroys a second helper left suspended. */
static void drive_helpers(void *arg)
{
    coro_t *self = coro_current();
    coro_t *helper = coro_create(helper_body, self, 0);
    coro_t *left = coro_create(helper_body, self, 0);
    void *out;

    (void)arg;
    body_assert_non_null(helper);
    body_assert_non_null(left);
    while (coro_resume(helper, NULL, &out) == 0)
        record((int)PTR_TO_INT(out));
    body_assert_int_equal(coro_status(helper), CORO_DEAD);
    body_assert_ptr_equal(coro_current(), self);
    body_assert_int_equal(coro_status(self), CORO_RUNNING);
    body_assert_ptr_equal(coro_next(left), INT_TO_PTR(10));
    body_assert_int_equal(coro_destroy(left), 0);
    body_assert_int_equal(coro_destroy(helper), 0);
    record(99);
}

static void test_close_cleanup_may_drive_other_coroutine(void **state)
{
    /* A cleanup may create, resume and destroy other coroutines (its own
     * coroutine is CORO_NORMAL meanwhile and CORO_RUNNING again after). */
    static const int expected[] = {1, 10, 20, 30, 1, 99};
    struct cleanup_call drive = {drive_helpers, NULL};
    coro_t *co = must_create(defer_then_yield, &drive);

    (void)state;
    assert_null(coro_next(co));
    assert_int_equal(coro_status(co), CORO_SUSPENDED);
    assert_int_equal(coro_close(co), 0);
    assert_int_equal(coro_status(co), CORO_DEAD);
    assert_null(coro_current());
    assert_log(expected, 6);
    assert_int_equal(coro_destroy(co), 0);
}

/* A cleanup that clobbers the value slot as much as it can: it resumes
 * another coroutine, which yields and returns values of its own. */
static void noisy_cleanup(void *arg)
{
    coro_t *helper = coro_create(helper_body, coro_current(), 0);

    (void)arg;
    body_assert_non_null(helper);
    body_assert_ptr_equal(coro_next(helper), INT_TO_PTR(10));
    body_assert_ptr_equal(coro_next(helper), INT_TO_PTR(20));
    body_assert_ptr_equal(coro_next(helper), INT_TO_PTR(30));
    body_assert_int_equal(coro_destroy(helper), 0);
}

static void *body_returning_with_cleanups(coro_t *co, void *arg)
{
    (void)arg;
    body_assert_int_equal(coro_defer(co, noisy_cleanup, NULL), 0);
    body_assert_int_equal(coro_defer(co, record_cleanup, INT_TO_PTR(5)), 0);
    return INT_TO_PTR(1234);
}

static void test_close_return_value_survives_cleanups(void **state)
{
    /* When cleanups run at return, the final coro_send() still returns the
     * body's return value. */
    coro_t *co = must_create(body_returning_with_cleanups, NULL);
    void *out = NULL;

    (void)state;
    assert_int_equal(coro_resume(co, NULL, &out), 0);
    assert_ptr_equal(out, INT_TO_PTR(1234));
    assert_int_equal(coro_status(co), CORO_DEAD);
    /* 5 first (last registered), then the helper's record of its resumer. */
    assert_int_equal(event_count, 2);
    assert_int_equal(event_log[0], 5);
    assert_int_equal(event_log[1], 1);
    assert_int_equal(coro_destroy(co), 0);
}

#define MANY_CLEANUPS 100

static void *body_many_cleanups(coro_t *co, void *arg)
{
    (void)arg;
    for (int i = 0; i < MANY_CLEANUPS; i++)
        body_assert_int_equal(coro_defer(co, record_cleanup, INT_TO_PTR(i)), 0);
    coro_yield(co, NULL);
    return NULL;
}

static void test_close_many_cleanups_reverse_order(void **state)
{
    /* 100 cleanups all run, in reverse order of registration, on close and
     * on return. */
    (void)state;
    for (int closing = 0; closing <= 1; closing++) {
        coro_t *co = must_create(body_many_cleanups, NULL);

        event_count = 0;
        coro_next(co);
        assert_int_equal(event_count, 0);
        if (closing)
            assert_int_equal(coro_close(co), 0);
        else
            coro_next(co);
        assert_int_equal(coro_status(co), CORO_DEAD);
        assert_int_equal(event_count, MANY_CLEANUPS);
        for (int i = 0; i < MANY_CLEANUPS; i++)
            assert_int_equal(event_log[i], MANY_CLEANUPS - 1 - i);
        assert_int_equal(coro_destroy(co), 0);
        assert_int_equal(event_count, MANY_CLEANUPS);
    }
}

static void test_close_then_destroy_releases(void **state)
{
    /* A closed coroutine, with or without cleanups, is still destroyable
     * and is freed by coro_destroy() (valgrind and LSan check the freeing);
     * many rounds reuse the released stacks. */
    (void)state;
    for (int round = 0; round < 200; round++) {
        coro_t *plain = must_create(record_around_yield, NULL);
        coro_t *deferred = must_create(three_cleanups, NULL);

        event_count = 0;
        coro_next(plain);
        coro_next(deferred);
        assert_int_equal(coro_close(plain), 0);
        assert_int_equal(coro_close(deferred), 0);
        assert_int_equal(coro_status(plain), CORO_DEAD);
        assert_int_equal(coro_status(deferred), CORO_DEAD);
        assert_int_equal(event_count, 4); /* 1 from plain; 3, 2, 1 */
        assert_int_equal(coro_destroy(plain), 0);
        assert_int_equal(coro_destroy(deferred), 0);
        assert_int_equal(event_count, 4);
    }
}

/* The sibling and the coroutine that closes it. */
static struct {
    coro_t *sibling;
    coro_t *closer;
} view;

/* The sibling's cleanup: it runs as the sibling, its closer waiting. */
static void sibling_cleanup(void *arg)
{
    (void)arg;
    body_assert_ptr_equal(coro_current(), view.sibling);
    body_assert_int_equal(coro_status(view.sibling), CORO_RUNNING);
    body_assert_int_equal(coro_status(view.closer), CORO_NORMAL);
    record(2);
}

static void *sibling_body(coro_t *co, void *arg)
{
    (void)arg;
    body_assert_int_equal(coro_defer(co, sibling_cleanup, NULL), 0);
    coro_yield(co, NULL);
    record(-1); /* never: the sibling is closed while suspended */
    return NULL;
}

static void *closer_body(coro_t *co, void *arg)
{
    coro_t *sibling = arg;

    record(1);
    body_assert_int_equal(coro_close(sibling), 0);
    record(3);
    body_assert_ptr_equal(coro_current(), co);
    body_assert_int_equal(coro_status(co), CORO_RUNNING);
    body_assert_int_equal(coro_status(sibling), CORO_DEAD);
    return INT_TO_PTR(6);
}

static void test_close_sibling_from_coroutine(void **state)
{
    /* A coroutine may close a suspended sibling: the sibling's cleanups see
     * coro_current() == sibling (the closer CORO_NORMAL), and afterwards the
     * closer is current and running again. */
    static const int expected[] = {1, 2, 3};
    coro_t *sibling = must_create(sibling_body, NULL);
    coro_t *closer = must_create(closer_body, sibling);

    (void)state;
    view.sibling = sibling;
    view.closer = closer;
    assert_null(coro_next(sibling));
    assert_ptr_equal(coro_next(closer), INT_TO_PTR(6));
    assert_log(expected, 3);
    assert_int_equal(coro_status(sibling), CORO_DEAD);
    assert_int_equal(coro_status(closer), CORO_DEAD);
    assert_null(coro_current());
    assert_int_equal(coro_destroy(closer), 0);
    assert_int_equal(coro_destroy(sibling), 0);
    assert_log(expected, 3);
}

/* Registers a cleanup at each call depth, then yields from the deepest. */
static void descend(coro_t *co, int depth)
{
    int here = depth; /* a local of this frame, read by its cleanup */

    body_assert_int_equal(coro_defer(co, record_local, &here), 0);
    if (depth < 4)
        descend(co, depth + 1);
    else
        coro_yield(co, NULL);
    record(-1); /* never: the coroutine is closed at the deepest yield */
}

static void *body_deep_defers(coro_t *co, void *arg)
{
    (void)arg;
    body_assert_int_equal(coro_defer(co, record_cleanup, INT_TO_PTR(0)), 0);
    descend(co, 1);
    return NULL;
}

static void test_close_cleanups_from_several_depths(void **state)
{
    /* Cleanups registered at several call depths all run on close, deepest
     * (last registered) first, each still seeing its own frame's local. */
    static const int expected[] = {4, 3, 2, 1, 0};
    coro_t *co = must_create(body_deep_defers, NULL);

    (void)state;
    coro_next(co);
    assert_int_equal(coro_status(co), CORO_SUSPENDED);
    assert_int_equal(event_count, 0);
    assert_int_equal(coro_close(co), 0);
    assert_int_equal(coro_status(co), CORO_DEAD);
    assert_log(expected, 5);
    assert_int_equal(coro_destroy(co), 0);
}

/* A cleanup that tries to close and destroy its own coroutine, which is
 * running its cleanups. */
static void closing_own_cleanup(void *arg)
{
    coro_t *self = coro_current();

    (void)arg;
    body_assert_int_equal(coro_close(self), EBUSY);
    body_assert_int_equal(coro_destroy(self), EBUSY);
    body_assert_int_equal(coro_status(self), CORO_RUNNING);
    record(1);
}

static void test_close_from_own_cleanup_is_ebusy(void **state)
{
    /* EBUSY on a running or normal coroutine has its home in test_errors.c.
     * What is close's own: a coroutine being closed cannot be closed or
     * destroyed again from its cleanup, and the first close completes. */
    static const int expected[] = {1};
    struct cleanup_call closing = {closing_own_cleanup, NULL};
    coro_t *co = must_create(defer_then_yield, &closing);

    (void)state;
    assert_null(coro_next(co));
    assert_int_equal(coro_close(co), 0);
    assert_int_equal(coro_status(co), CORO_DEAD);
    assert_null(coro_current());
    assert_log(expected, 1);
    assert_int_equal(coro_destroy(co), 0);
    assert_log(expected, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        logged_test(test_close_created_never_runs),
        logged_test(test_close_suspended_yield_never_returns),
        logged_test(test_close_dead_is_noop),
        logged_test(test_close_resume_after_close_is_esrch),
        logged_test(test_close_cleanups_reverse_order),
        logged_test(test_close_cleanups_use_body_locals),
        logged_test(test_close_cleanup_sees_running_coroutine),
        logged_test(test_close_cleanup_registered_in_cleanup_runs),
        logged_test(test_close_cleanup_may_drive_other_coroutine),
        logged_test(test_close_return_value_survives_cleanups),
        logged_test(test_close_many_cleanups_reverse_order),
        logged_test(test_close_then_destroy_releases),
        logged_test(test_close_sibling_from_coroutine),
        logged_test(test_close_cleanups_from_several_depths),
        logged_test(test_close_from_own_cleanup_is_ebusy),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
