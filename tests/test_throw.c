/* coro_throw() and coro_suspend(): Python's gen.throw() and a yield that
 * tells a value sent from an error thrown in. */
#include "bodies.h"

#include <errno.h>
#include <pthread.h>

/* Records what each coro_suspend() got, and yields it back: a value sent
 * comes back doubled, an error thrown in comes back negated. EPIPE ends
 * the body, which returns 1000 + EPIPE. */
struct suspend_log {
    int errors[8];
    intptr_t values[8];
    int count;
};

static void *checked_echo(coro_t *co, void *arg)
{
    struct suspend_log *log = arg;
    intptr_t last = 0;

    for (;;) {
        void *received = INT_TO_PTR(-99); /* must stay as it is on a throw */
        int error = coro_suspend(co, INT_TO_PTR(last), &received);

        log->errors[log->count] = error;
        log->values[log->count++] = PTR_TO_INT(received);
        if (error == EPIPE)
            return INT_TO_PTR(1000 + EPIPE);
        last = error != 0 ? -error : 2 * PTR_TO_INT(received);
    }
}

static int body_ran;

static void *never_runs(coro_t *co, void *arg)
{
    (void)co, (void)arg;
    body_ran = 1;
    return NULL;
}

/* As Python: a generator thrown into before it starts is closed, its body
 * never run. */
static void test_throw_created_never_runs(void **state)
{
    coro_t *co = must_create(never_runs, NULL);
    void *out = INT_TO_PTR(-5);

    (void)state;
    body_ran = 0;
    assert_int_equal(coro_throw(co, EIO, &out), 0);
    assert_null(out);
    assert_int_equal(coro_status(co), CORO_DEAD);
    assert_int_equal(body_ran, 0);
    assert_int_equal(coro_resume(co, NULL, &out), ESRCH);
    assert_int_equal(coro_throw(co, EIO, &out), ESRCH);
    assert_int_equal(coro_destroy(co), 0);
}

/* Values go both ways around a throw, and the throw is told apart. */
static void test_throw_suspend_gets_the_error(void **state)
{
    struct suspend_log log = {{0}, {0}, 0};
    coro_t *co = must_create(checked_echo, &log);
    void *out = NULL;

    (void)state;
    assert_int_equal(PTR_TO_INT(coro_next(co)), 0);
    assert_int_equal(PTR_TO_INT(coro_send(co, INT_TO_PTR(5))), 10);
    assert_int_equal(coro_throw(co, EIO, &out), 0);
    assert_int_equal(PTR_TO_INT(out), -EIO);
    assert_int_equal(coro_status(co), CORO_SUSPENDED);
    assert_int_equal(PTR_TO_INT(coro_send(co, INT_TO_PTR(7))), 14);
    /* NULL sent is a value, not an error. */
    assert_null(coro_send(co, NULL));
    assert_int_equal(coro_throw(co, EPIPE, &out), 0);
    assert_int_equal(PTR_TO_INT(out), 1000 + EPIPE);
    assert_int_equal(coro_status(co), CORO_DEAD);

    assert_int_equal(log.count, 5);
    assert_int_equal(log.errors[0], 0);
    assert_int_equal(log.values[0], 5);
    assert_int_equal(log.errors[1], EIO);
    assert_int_equal(log.values[1], -99);
    assert_int_equal(log.errors[2], 0);
    assert_int_equal(log.values[2], 7);
    assert_int_equal(log.errors[3], 0);
    assert_int_equal(log.values[3], 0);
    assert_int_equal(log.errors[4], EPIPE);
    assert_int_equal(coro_destroy(co), 0);
}

/* A plain coro_yield() thrown into returns NULL with errno set; a body may
 * go on yielding after it. */
static void *plain_yielder(coro_t *co, void *arg)
{
    (void)arg;
    for (intptr_t i = 1;; i++) {
        errno = 0;
        if (coro_yield(co, INT_TO_PTR(i)) == NULL)
            coro_yield(co, INT_TO_PTR(-errno));
    }
    return NULL; /* never reached: destroyed while suspended */
}

static void test_throw_plain_yield_sets_errno(void **state)
{
    coro_t *co = must_create(plain_yielder, NULL);
    void *out = NULL;

    (void)state;
    assert_int_equal(PTR_TO_INT(coro_next(co)), 1);
    assert_int_equal(PTR_TO_INT(coro_send(co, INT_TO_PTR(3))), 2);
    assert_int_equal(coro_throw(co, ETIMEDOUT, &out), 0);
    assert_int_equal(PTR_TO_INT(out), -ETIMEDOUT);
    assert_int_equal(PTR_TO_INT(coro_next(co)), 3);
    assert_int_equal(coro_throw(co, ENOENT, NULL), 0); /* out may be NULL */
    assert_int_equal(PTR_TO_INT(coro_next(co)), 4);
    assert_int_equal(coro_destroy(co), 0);
}

static int cleanups_run;

static void *handles_and_goes_on(coro_t *co, void *arg)
{
    void *received = NULL;
    int error;

    (void)arg;
    body_assert_int_equal(coro_defer(co, count_cleanup, &cleanups_run), 0);
    error = coro_suspend(co, INT_TO_PTR(1), &received);
    body_assert_int_equal(error, EAGAIN);
    error = coro_suspend(co, INT_TO_PTR(2), &received);
    body_assert_int_equal(error, 0);
    body_assert_int_equal(PTR_TO_INT(received), 40);
    coro_yield(co, INT_TO_PTR(3));
    body_fail_msg("closed while suspended: this yield never returns");
    return NULL;
}

/* A throw does not end the coroutine: it can be sent to and closed after. */
static void test_throw_then_send_then_close(void **state)
{
    coro_t *co = must_create(handles_and_goes_on, NULL);
    void *out = NULL;

    (void)state;
    cleanups_run = 0;
    assert_int_equal(PTR_TO_INT(coro_next(co)), 1);
    assert_int_equal(coro_throw(co, EAGAIN, &out), 0);
    assert_int_equal(PTR_TO_INT(out), 2);
    assert_int_equal(PTR_TO_INT(coro_send(co, INT_TO_PTR(40))), 3);
    assert_int_equal(coro_close(co), 0);
    assert_int_equal(cleanups_run, 1);
    assert_int_equal(coro_status(co), CORO_DEAD);
    assert_int_equal(coro_throw(co, EAGAIN, &out), ESRCH);
    assert_int_equal(coro_destroy(co), 0);
}

/* Two levels of coro_yield_from(): each returns what its delegate returned,
 * plus one. */
static void *delegates(coro_t *co, void *sub)
{
    void *result = coro_yield_from(co, sub);

    return INT_TO_PTR(PTR_TO_INT(result) + 1);
}

/* A throw into the outermost goes down to the innermost's pending yield,
 * and delegation goes on, or ends when the innermost returns. */
static void test_throw_through_yield_from_two_levels(void **state)
{
    struct suspend_log log = {{0}, {0}, 0};
    coro_t *inner = must_create(checked_echo, &log);
    coro_t *middle = must_create(delegates, inner);
    coro_t *outer = must_create(delegates, middle);
    void *out = NULL;

    (void)state;
    assert_int_equal(PTR_TO_INT(coro_next(outer)), 0);
    /* Delegated to: only the outermost may be thrown into. */
    assert_int_equal(coro_throw(inner, EIO, &out), EBUSY);
    assert_int_equal(coro_throw(middle, EIO, &out), EBUSY);
    assert_int_equal(coro_throw(outer, EIO, &out), 0);
    assert_int_equal(PTR_TO_INT(out), -EIO);
    assert_int_equal(PTR_TO_INT(coro_send(outer, INT_TO_PTR(21))), 42);
    assert_int_equal(coro_throw(outer, EPIPE, &out), 0);
    assert_int_equal(PTR_TO_INT(out), 1000 + EPIPE + 2);
    assert_int_equal(coro_status(outer), CORO_DEAD);
    assert_int_equal(coro_status(middle), CORO_DEAD);
    assert_int_equal(coro_status(inner), CORO_DEAD);
    assert_int_equal(log.count, 3);
    assert_int_equal(log.errors[0], EIO);
    assert_int_equal(log.errors[1], 0);
    assert_int_equal(log.values[1], 21);
    assert_int_equal(log.errors[2], EPIPE);
    assert_int_equal(coro_destroy(outer), 0);
    assert_int_equal(coro_destroy(middle), 0);
    assert_int_equal(coro_destroy(inner), 0);
}

/* While co's cleanups run, co is running: a throw into it is refused,
 * from itself and from a coroutine its cleanup resumes; and it can no
 * longer yield, checked or not. */
struct ending {
    coro_t *co;
    int cleanup_runs, other_runs;
};

static void *throws_into(coro_t *co, void *arg)
{
    struct ending *e = arg;

    (void)co;
    body_assert_int_equal(coro_throw(e->co, EIO, NULL), EBUSY);
    e->other_runs++;
    return NULL;
}

static void throw_from_cleanup(void *arg)
{
    struct ending *e = arg;
    coro_t *other = coro_create(throws_into, e, 0);

    body_assert_int_equal(coro_throw(e->co, EIO, NULL), EBUSY);
    body_assert_int_equal(coro_suspend(e->co, NULL, NULL), ECANCELED);
    body_assert_non_null(other);
    body_assert_null(coro_next(other));
    body_assert_int_equal(coro_destroy(other), 0);
    e->cleanup_runs++;
}

static void test_throw_refused_while_cleanups_run(void **state)
{
    struct ending e = {NULL, 0, 0};
    struct cleanup_call throwing = {throw_from_cleanup, &e};
    coro_t *co = must_create(defer_then_yield, &throwing);

    (void)state;
    e.co = co;
    assert_ptr_equal(coro_next(co), &e);
    assert_int_equal(coro_close(co), 0);
    assert_int_equal(e.cleanup_runs, 1);
    assert_int_equal(e.other_runs, 1);
    assert_int_equal(coro_status(co), CORO_DEAD);
    assert_int_equal(coro_destroy(co), 0);
}

/* Misuse from inside: a coroutine throwing into itself, and into the
 * coroutine that resumed it (CORO_NORMAL). */
static void *throws_inside(coro_t *co, void *arg)
{
    coro_t *resumer = arg;

    body_assert_int_equal(coro_throw(co, EIO, NULL), EBUSY);
    body_assert_int_equal(coro_throw(resumer, EIO, NULL), EBUSY);
    return INT_TO_PTR(1);
}

/* Resumes throws_inside and returns what it returned plus one. */
static void *resumes_thrower(coro_t *co, void *arg)
{
    coro_t *sub = coro_create(throws_inside, co, 0);
    void *got;

    (void)arg;
    body_assert_non_null(sub);
    got = coro_next(sub);
    body_assert_int_equal(coro_status(sub), CORO_DEAD);
    body_assert_int_equal(coro_destroy(sub), 0);
    return INT_TO_PTR(PTR_TO_INT(got) + 1);
}

static void test_throw_misuse(void **state)
{
    struct suspend_log log = {{0}, {0}, 0};
    coro_t *co = must_create(checked_echo, &log);
    coro_t *nester = must_create(resumes_thrower, NULL);
    void *out = INT_TO_PTR(-5);

    (void)state;
    assert_int_equal(coro_throw(NULL, EIO, &out), EINVAL);
    assert_int_equal(PTR_TO_INT(coro_next(co)), 0);
    assert_int_equal(coro_throw(co, 0, &out), EINVAL);
    assert_int_equal(coro_throw(co, -EIO, &out), EINVAL);
    assert_int_equal(PTR_TO_INT(out), -5); /* nothing changed */
    assert_int_equal(coro_status(co), CORO_SUSPENDED);
    assert_int_equal(log.count, 0);
    assert_int_equal(PTR_TO_INT(coro_send(co, INT_TO_PTR(4))), 8);

    assert_int_equal(PTR_TO_INT(coro_next(nester)), 2); /* both bodies ran to their end */
    assert_int_equal(coro_status(nester), CORO_DEAD);
    assert_int_equal(coro_destroy(nester), 0);
    assert_int_equal(coro_destroy(co), 0);
}

/* coro_suspend()'s own misuse: changes nothing, *received included. */
static void *suspends_other(coro_t *co, void *other)
{
    void *received = INT_TO_PTR(-5);
    int error = coro_suspend(other, NULL, &received);

    (void)co;
    body_assert_int_equal(PTR_TO_INT(received), -5);
    return INT_TO_PTR(error);
}

static void test_suspend_misuse(void **state)
{
    struct suspend_log log = {{0}, {0}, 0};
    coro_t *co = must_create(checked_echo, &log);
    coro_t *other = must_create(suspends_other, co);
    void *received = INT_TO_PTR(-5);

    (void)state;
    assert_int_equal(coro_suspend(NULL, NULL, &received), EINVAL);
    assert_int_equal(coro_suspend(co, NULL, &received), EPERM); /* from the thread's stack */
    assert_int_equal(PTR_TO_INT(received), -5);
    assert_int_equal(PTR_TO_INT(coro_next(other)), EPERM); /* another coroutine's */
    assert_int_equal(coro_status(co), CORO_CREATED);
    assert_int_equal(coro_destroy(other), 0);
    assert_int_equal(coro_destroy(co), 0);
}

/* received may be NULL: the value is dropped. */
static void *suspends_without_received(coro_t *co, void *arg)
{
    int error = coro_suspend(co, arg, NULL);

    return INT_TO_PTR(error == 0 ? 1 : -error);
}

static void test_suspend_received_may_be_null(void **state)
{
    coro_t *co = must_create(suspends_without_received, INT_TO_PTR(9));

    (void)state;
    assert_int_equal(PTR_TO_INT(coro_next(co)), 9);
    assert_int_equal(PTR_TO_INT(coro_send(co, INT_TO_PTR(3))), 1);
    assert_int_equal(coro_status(co), CORO_DEAD);
    assert_int_equal(coro_destroy(co), 0);
}

struct throw_from_thread {
    coro_t *co;
    int error;
    int result;
    void *out;
};

static void *throw_on_thread(void *arg)
{
    struct throw_from_thread *t = arg;

    t->result = coro_throw(t->co, t->error, &t->out);
    return NULL;
}

/* coro_throw(co, error, &out) on a new thread, joined. */
static int throw_from_new_thread(coro_t *co, int error, void **out)
{
    struct throw_from_thread t = {co, error, -1, INT_TO_PTR(-77)};
    pthread_t thread;

    assert_int_equal(pthread_create(&thread, NULL, throw_on_thread, &t), 0);
    assert_int_equal(pthread_join(thread, NULL), 0);
    *out = t.out;
    return t.result;
}

/* A throw from another thread reaches coro_suspend(), the channel that works
 * wherever the body runs next (coro.h, Threads). */
static void test_throw_from_another_thread_reaches_suspend(void **state)
{
    struct suspend_log log = {{0}, {0}, 0};
    coro_t *co = must_create(checked_echo, &log);
    void *out = NULL;

    (void)state;
    assert_int_equal(PTR_TO_INT(coro_next(co)), 0);
    assert_int_equal(throw_from_new_thread(co, EIO, &out), 0);
    assert_int_equal(PTR_TO_INT(out), -EIO);
    assert_int_equal(PTR_TO_INT(coro_send(co, INT_TO_PTR(6))), 12); /* back on this thread */
    assert_int_equal(throw_from_new_thread(co, EPIPE, &out), 0);
    assert_int_equal(PTR_TO_INT(out), 1000 + EPIPE);
    assert_int_equal(coro_status(co), CORO_DEAD);

    assert_int_equal(log.count, 3);
    assert_int_equal(log.errors[0], EIO);
    assert_int_equal(log.values[0], -99); /* *received untouched */
    assert_int_equal(log.errors[1], 0);
    assert_int_equal(log.values[1], 6);
    assert_int_equal(log.errors[2], EPIPE);
    assert_int_equal(coro_destroy(co), 0);
}

/* errno read afresh: a call the compiler cannot fold into one made before
 * a yield (glibc's __errno_location() is declared const). */
static TEST_NOINLINE int errno_now(void)
{
    return errno;
}

/* Yields what each coro_yield() got back: the value, or minus the errno of
 * the thread it now runs on, read afresh. */
static void *yields_errno_read_afresh(coro_t *co, void *arg)
{
    for (;;) {
        errno = 0;
        arg = coro_yield(co, arg);
        if (arg == NULL)
            arg = INT_TO_PTR(-errno_now());
    }
    return NULL; /* never reached: destroyed while suspended */
}

/* Thrown into from another thread, a plain coro_yield() sets the errno of
 * that thread, where the body now runs, as coro.h says. */
static void test_throw_from_another_thread_sets_its_errno(void **state)
{
    coro_t *co = must_create(yields_errno_read_afresh, INT_TO_PTR(1));
    void *out = NULL;

    (void)state;
    assert_int_equal(PTR_TO_INT(coro_next(co)), 1);
    assert_int_equal(throw_from_new_thread(co, ENOENT, &out), 0);
    assert_int_equal(PTR_TO_INT(out), -ENOENT);
    errno = 0;
    assert_int_equal(throw_from_new_thread(co, EIO, &out), 0);
    assert_int_equal(PTR_TO_INT(out), -EIO);
    assert_int_equal(errno, 0); /* not this thread's */
    assert_int_equal(coro_destroy(co), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        body_checked_test(test_throw_created_never_runs),
        body_checked_test(test_throw_suspend_gets_the_error),
        body_checked_test(test_throw_plain_yield_sets_errno),
        body_checked_test(test_throw_then_send_then_close),
        body_checked_test(test_throw_through_yield_from_two_levels),
        body_checked_test(test_throw_refused_while_cleanups_run),
        body_checked_test(test_throw_misuse),
        body_checked_test(test_suspend_misuse),
        body_checked_test(test_suspend_received_may_be_null),
        body_checked_test(test_throw_from_another_thread_reaches_suspend),
        body_checked_test(test_throw_from_another_thread_sets_its_errno),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
