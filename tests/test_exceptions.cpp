/*
 * C++ exceptions and coroutines: one thrown and caught inside a body is the
 * body's business; one that escapes a body comes out of the call that
 * resumed the coroutine, in the resumer, with the coroutine dead, its
 * cleanups run, and every other state as after a normal return; one that
 * nothing catches ends the program at the throw, as C++ says.
 *
 * The checks are made on the main stack, from what the bodies recorded
 * (see test_support.h: a cmocka assertion must not jump off a coroutine's
 * stack).
 */
/* cmocka 1.1.5's header declares its functions without extern "C". */
extern "C" {
#include "test_support.h"
}

#include <pthread.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string>

namespace {

/* What bodies saw: destructors of their locals, cleanups, states. */
struct Record {
    int destructors = 0;
    int cleanups = 0;
    int caught_inside = 0;
    coro_t *current_in_handler = nullptr;
};

Record record;

struct Counted {
    ~Counted() { record.destructors++; }
};

void count_cleanup(void *)
{
    record.cleanups++;
}

[[noreturn]] __attribute__((noinline)) void throw_error(const std::string &what)
{
    throw std::runtime_error(what);
}

void three_calls_deep(int depth, const std::string &what);
/* Through a pointer: gcc 12 takes the recursion for an endless one. */
void (*volatile deeper)(int, const std::string &) = three_calls_deep;

/* depth + 1 frames, each with a local to destroy; the last throws. */
__attribute__((noinline)) void three_calls_deep(int depth, const std::string &what)
{
    Counted counted;

    if (depth == 0)
        throw_error(what);
    deeper(depth - 1, what);
}

void reset(void)
{
    record = Record();
}

/* coro_next(co) lets "escaped" out, and co is then dead, its one cleanup
 * run, with destructors run in all. */
void assert_escapes_next(coro_t *co, int destructors)
{
    try {
        coro_next(co);
        fail_msg("coro_next() returned: the exception did not come out of it");
    } catch (const std::runtime_error &error) {
        assert_string_equal(error.what(), "escaped");
        assert_int_equal(coro_status(co), CORO_DEAD);
        assert_null(coro_current());
        assert_int_equal(record.cleanups, 1);
        assert_int_equal(record.destructors, destructors);
    }
}

/* Catches inside, yields, then lets one escape from three calls deep. */
void *throwing_body(coro_t *co, void *)
{
    Counted counted;

    coro_defer(co, count_cleanup, nullptr);
    try {
        three_calls_deep(3, "inside");
    } catch (const std::runtime_error &error) {
        record.caught_inside = std::string(error.what()) == "inside";
    }
    coro_yield(co, INT_TO_PTR(1));
    three_calls_deep(3, "escaped");
    return INT_TO_PTR(2);
}

void test_caught_inside_and_escaping_out_of_next(void **)
{
    reset();
    coro_t *co = must_create(throwing_body, nullptr);

    assert_int_equal(PTR_TO_INT(coro_next(co)), 1);
    assert_true(record.caught_inside);
    assert_int_equal(record.destructors, 4); /* three_calls_deep's, inside the try */
    assert_int_equal(coro_status(co), CORO_SUSPENDED);
    assert_escapes_next(co, 4 + 4 + 1); /* and the body's own */
    assert_int_equal(coro_resume(co, nullptr, nullptr), ESRCH);
    assert_int_equal(coro_destroy(co), 0);
}

/* Escapes on its first run. */
void *escaping_body(coro_t *co, void *arg)
{
    Counted counted;

    coro_defer(co, count_cleanup, nullptr);
    three_calls_deep(2, static_cast<const char *>(arg));
    return nullptr;
}

/* An error thrown in by coro_throw() becomes a C++ exception in the body. */
void *rethrowing_body(coro_t *co, void *)
{
    coro_defer(co, count_cleanup, nullptr);
    for (;;) {
        void *sent;
        int error = coro_suspend(co, nullptr, &sent);

        if (error != 0)
            throw_error("thrown in: " + std::to_string(error));
    }
}

void throwing_cleanup(void *)
{
    record.cleanups++;
    throw_error("from a cleanup");
}

/* Closed while suspended: its cleanup throws. */
void *cleanup_throwing_body(coro_t *co, void *)
{
    Counted counted;

    coro_defer(co, count_cleanup, nullptr);
    coro_defer(co, throwing_cleanup, nullptr);
    coro_yield(co, nullptr);
    return nullptr;
}

template <typename Resume>
std::string what_came_out(Resume resume)
{
    try {
        resume();
    } catch (const std::runtime_error &error) {
        return error.what();
    }
    return "nothing";
}

void test_each_resuming_call_lets_it_out(void **)
{
    reset();
    coro_t *co = must_create(escaping_body, const_cast<char *>("from send"));
    assert_string_equal(what_came_out([co] { coro_send(co, nullptr); }).c_str(), "from send");
    assert_int_equal(coro_status(co), CORO_DEAD);
    assert_int_equal(coro_destroy(co), 0);

    co = must_create(escaping_body, const_cast<char *>("from resume"));
    void *out = INT_TO_PTR(99);
    assert_string_equal(what_came_out([co, &out] { coro_resume(co, nullptr, &out); }).c_str(),
                        "from resume");
    assert_int_equal(PTR_TO_INT(out), 99); /* the call did not return */
    assert_int_equal(coro_status(co), CORO_DEAD);
    assert_int_equal(coro_destroy(co), 0);
    assert_int_equal(record.cleanups, 2);
    assert_int_equal(record.destructors, 2 * (3 + 1));

    co = must_create(rethrowing_body, nullptr);
    coro_next(co);
    assert_string_equal(what_came_out([co] { coro_throw(co, EPIPE, nullptr); }).c_str(),
                        ("thrown in: " + std::to_string(EPIPE)).c_str());
    assert_int_equal(coro_status(co), CORO_DEAD);
    assert_int_equal(record.cleanups, 3);
    assert_int_equal(coro_destroy(co), 0);

    /* The cleanup's exception unwinds the suspended body's frames too; the
     * other cleanup still runs. */
    co = must_create(cleanup_throwing_body, nullptr);
    int destructors = record.destructors;
    coro_next(co);
    assert_string_equal(what_came_out([co] { coro_close(co); }).c_str(), "from a cleanup");
    assert_int_equal(coro_status(co), CORO_DEAD);
    assert_int_equal(record.cleanups, 3 + 2);
    assert_int_equal(record.destructors, destructors + 1);
    assert_null(coro_current());
    assert_int_equal(coro_destroy(co), 0);
}

/* main -> outer -> inner: inner's exception comes out of outer's
 * coro_next(), and, not caught there, out of main's. */
void *inner_body(coro_t *co, void *)
{
    coro_defer(co, count_cleanup, nullptr);
    three_calls_deep(1, "from inner");
    return nullptr;
}

void *outer_body(coro_t *co, void *arg)
{
    Counted counted;
    coro_t *inner = coro_create(inner_body, nullptr, 0);
    bool catch_it = arg != nullptr;

    if (inner == nullptr)
        return nullptr;
    coro_defer(co, count_cleanup, nullptr);
    coro_defer(co, [](void *sub) { coro_destroy(static_cast<coro_t *>(sub)); }, inner);
    if (!catch_it) {
        coro_next(inner);
        return nullptr;
    }
    try {
        coro_next(inner);
    } catch (const std::runtime_error &error) {
        record.caught_inside = std::string(error.what()) == "from inner";
        record.current_in_handler = coro_current();
    }
    coro_yield(co, INT_TO_PTR(coro_status(inner)));
    return INT_TO_PTR(3);
}

void test_nested_caught_in_the_outer_one(void **)
{
    reset();
    coro_t *outer = must_create(outer_body, INT_TO_PTR(1));

    assert_int_equal(PTR_TO_INT(coro_next(outer)), CORO_DEAD); /* inner's status */
    assert_true(record.caught_inside);
    assert_ptr_equal(record.current_in_handler, outer);
    assert_int_equal(record.cleanups, 1);
    assert_int_equal(coro_status(outer), CORO_SUSPENDED);
    assert_int_equal(PTR_TO_INT(coro_next(outer)), 3);
    assert_int_equal(coro_destroy(outer), 0);
    assert_int_equal(record.cleanups, 2);
}

void test_nested_goes_on_up(void **)
{
    reset();
    coro_t *outer = must_create(outer_body, nullptr);

    assert_string_equal(what_came_out([outer] { coro_next(outer); }).c_str(), "from inner");
    assert_int_equal(coro_status(outer), CORO_DEAD);
    assert_null(coro_current());
    assert_int_equal(record.cleanups, 2);
    assert_int_equal(record.destructors, 2 + 1); /* inner's frames, outer's local */
    assert_int_equal(coro_destroy(outer), 0);
}

/* Delegation: the delegate's exception comes out of the delegator's
 * coro_yield_from(), which no longer delegates. */
struct Delegation {
    coro_t *sub;
    bool catch_it;
    int sub_status;
    int destroyed;
};

void *delegating_body(coro_t *co, void *arg)
{
    Delegation *delegation = static_cast<Delegation *>(arg);

    if (!delegation->catch_it) {
        coro_yield_from(co, delegation->sub);
        return nullptr;
    }
    try {
        coro_yield_from(co, delegation->sub);
    } catch (const std::runtime_error &error) {
        record.caught_inside = std::string(error.what()) == "thrown in: " + std::to_string(EIO);
    }
    delegation->sub_status = coro_status(delegation->sub);
    delegation->destroyed = coro_destroy(delegation->sub) == 0;
    return INT_TO_PTR(4);
}

void test_delegate_caught_in_yield_from(void **)
{
    reset();
    Delegation delegation = {must_create(rethrowing_body, nullptr), true, -1, 0};
    coro_t *co = must_create(delegating_body, &delegation);

    assert_null(coro_next(co));
    void *out = nullptr;
    assert_int_equal(coro_throw(co, EIO, &out), 0); /* forwarded to the delegate */
    assert_int_equal(PTR_TO_INT(out), 4);
    assert_true(record.caught_inside);
    assert_int_equal(delegation.sub_status, CORO_DEAD);
    assert_true(delegation.destroyed);
    assert_int_equal(coro_status(co), CORO_DEAD);
    assert_int_equal(coro_destroy(co), 0);
}

void test_delegate_goes_on_up(void **)
{
    reset();
    Delegation delegation = {must_create(rethrowing_body, nullptr), false, -1, 0};
    coro_t *co = must_create(delegating_body, &delegation);

    assert_null(coro_next(co));
    assert_string_equal(what_came_out([co] { coro_throw(co, EIO, nullptr); }).c_str(),
                        ("thrown in: " + std::to_string(EIO)).c_str());
    assert_int_equal(coro_status(co), CORO_DEAD);
    assert_int_equal(coro_status(delegation.sub), CORO_DEAD);
    /* Neither is left delegating or delegated to. */
    assert_int_equal(coro_destroy(delegation.sub), 0);
    assert_int_equal(coro_destroy(co), 0);
}

/* Resumed on another thread: it comes out there. */
void *resume_and_catch(void *arg)
{
    std::string *what = static_cast<std::string *>(arg);
    coro_t *co = coro_create(escaping_body, const_cast<char *>("on a thread"), 0);

    if (co == nullptr)
        return nullptr;
    *what = what_came_out([co] { coro_next(co); });
    coro_destroy(co);
    return nullptr;
}

void test_on_another_thread(void **)
{
    reset();
    std::string what;
    pthread_t thread;

    assert_int_equal(pthread_create(&thread, nullptr, resume_and_catch, &what), 0);
    assert_int_equal(pthread_join(thread, nullptr), 0);
    assert_string_equal(what.c_str(), "on a thread");
    assert_int_equal(record.cleanups, 1);
}

/* pthread_exit() in a body: the forced unwinding ends the coroutine, then
 * goes on in the thread that resumed it, which exits. */
void *exiting_body(coro_t *co, void *)
{
    Counted counted;

    coro_defer(co, count_cleanup, nullptr);
    pthread_exit(INT_TO_PTR(7));
}

struct Exiting {
    coro_t *co;
    int status_in_thread_cleanup;
};

void *resume_exiting(void *arg)
{
    Exiting *exiting = static_cast<Exiting *>(arg);
    struct Guard {
        Exiting *exiting;
        ~Guard() { exiting->status_in_thread_cleanup = coro_status(exiting->co); }
    } guard = {exiting};

    coro_next(exiting->co);
    return nullptr;
}

void test_pthread_exit_ends_coroutine_and_thread(void **)
{
#ifdef UNDER_TSAN
    /* TSan's pthread_exit() insists on running on the thread's own
     * stack, not a fiber's (a CHECK of its interceptor fails). */
    skip();
#endif
    reset();
    Exiting exiting = {must_create(exiting_body, nullptr), -1};
    pthread_t thread;
    void *result = nullptr;

    assert_int_equal(pthread_create(&thread, nullptr, resume_exiting, &exiting), 0);
    assert_int_equal(pthread_join(thread, &result), 0);
    assert_int_equal(PTR_TO_INT(result), 7);
    assert_int_equal(exiting.status_in_thread_cleanup, CORO_DEAD);
    assert_int_equal(coro_status(exiting.co), CORO_DEAD);
    assert_int_equal(record.cleanups, 1);
    assert_int_equal(record.destructors, 1);
    assert_int_equal(coro_destroy(exiting.co), 0);
}

/* pthread_cancel() acted on at a cancellation point in a body: glibc
 * cancels by the same forced unwinding as pthread_exit(). */
void *cancelled_body(coro_t *co, void *arg)
{
    Counted counted;

    coro_defer(co, count_cleanup, nullptr);
    static_cast<std::atomic<bool> *>(arg)->store(true);
    for (;;)
        pause(); /* a cancellation point */
}

void test_pthread_cancel_ends_coroutine_and_thread(void **)
{
#ifdef UNDER_TSAN
    skip(); /* as for pthread_exit() above */
#endif
    reset();
    std::atomic<bool> waiting(false);
    Exiting exiting = {must_create(cancelled_body, &waiting), -1};
    pthread_t thread;
    void *result = nullptr;

    assert_int_equal(pthread_create(&thread, nullptr, resume_exiting, &exiting), 0);
    while (!waiting.load())
        sched_yield();
    /* Deferred: it acts in pause(), whether it comes before or during. */
    assert_int_equal(pthread_cancel(thread), 0);
    assert_int_equal(pthread_join(thread, &result), 0);
    assert_true(result == PTHREAD_CANCELED);
    assert_int_equal(exiting.status_in_thread_cleanup, CORO_DEAD);
    assert_int_equal(coro_status(exiting.co), CORO_DEAD);
    assert_int_equal(record.cleanups, 1);
    assert_int_equal(record.destructors, 1);
    assert_int_equal(coro_destroy(exiting.co), 0);
}

/* Nothing catches it: std::terminate() runs at the throw, in the
 * coroutine, whose frames are all still there. */
void *uncaught_body(coro_t *co, void *)
{
    coro_defer(co, count_cleanup, nullptr);
    three_calls_deep(2, "uncaught");
    return nullptr;
}

/* The child's verdict goes through a pipe: under valgrind its exit status
 * says whether valgrind found leaks at _exit(), which it does here. */
int verdict_pipe[2];

void test_uncaught_terminates_at_the_throw(void **)
{
    reset();
    assert_int_equal(pipe(verdict_pipe), 0);
    pid_t child = fork();

    assert_true(child >= 0);
    if (child == 0) {
        std::set_terminate([] {
            /* Still in the coroutine, nothing of it unwound. */
            char in_coroutine = coro_current() != nullptr && record.cleanups == 0 &&
                                record.destructors == 0;
            if (write(verdict_pipe[1], &in_coroutine, 1) != 1)
                _exit(3);
            _exit(0);
        });
        coro_t *co = coro_create(uncaught_body, nullptr, 0);
        coro_next(co);
        _exit(4);
    }
    close(verdict_pipe[1]);
    char verdict = 0;
    assert_int_equal(read(verdict_pipe[0], &verdict, 1), 1);
    close(verdict_pipe[0]);
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status));
    assert_true(verdict);
}

/* Run on the thread's stack: throws from three calls deep. */
void *throw_on_thread_stack(void *what)
{
    record.current_in_handler = coro_current();
    three_calls_deep(2, static_cast<const char *>(what));
    return nullptr;
}

/* Catches what its call on the thread's stack threw, yields, then lets the
 * next one escape the body too. */
void *calling_thrower_body(coro_t *co, void *)
{
    Counted counted;

    coro_defer(co, count_cleanup, nullptr);
    try {
        coro_call_on_thread_stack(throw_on_thread_stack, const_cast<char *>("on the thread"));
    } catch (const std::runtime_error &error) {
        record.caught_inside = std::string(error.what()) == "on the thread" && coro_current() == co;
    }
    coro_yield(co, INT_TO_PTR(1));
    coro_call_on_thread_stack(throw_on_thread_stack, const_cast<char *>("escaped"));
    return INT_TO_PTR(2);
}

/* An exception that escapes a function run by coro_call_on_thread_stack()
 * comes out of that call, in the coroutine, which goes on (yields) as
 * after any call; one the body does not catch goes on out of the resume. */
void test_out_of_a_call_on_the_thread_stack(void **)
{
    reset();
    /* The default stack: the unwinder's frames take more than a 16 KiB
     * stack has left with ucontext on AArch64 (its record and the
     * resume's ucontext_t take 9 KiB of it). */
    coro_t *co = must_create(calling_thrower_body, nullptr);

    assert_int_equal(PTR_TO_INT(coro_next(co)), 1);
    assert_true(record.caught_inside);
    assert_null(record.current_in_handler);
    assert_int_equal(record.destructors, 3);
    assert_escapes_next(co, 3 + 3 + 1);
    assert_int_equal(coro_destroy(co), 0);
}

} // namespace

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_caught_inside_and_escaping_out_of_next),
        cmocka_unit_test(test_out_of_a_call_on_the_thread_stack),
        cmocka_unit_test(test_each_resuming_call_lets_it_out),
        cmocka_unit_test(test_nested_caught_in_the_outer_one),
        cmocka_unit_test(test_nested_goes_on_up),
        cmocka_unit_test(test_delegate_caught_in_yield_from),
        cmocka_unit_test(test_delegate_goes_on_up),
        cmocka_unit_test(test_on_another_thread),
        cmocka_unit_test(test_pthread_exit_ends_coroutine_and_thread),
        cmocka_unit_test(test_pthread_cancel_ends_coroutine_and_thread),
        cmocka_unit_test(test_uncaught_terminates_at_the_throw),
    };

    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
