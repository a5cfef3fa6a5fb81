/* What every test suite includes: cmocka needs these headers first. */
#ifndef CORO_TEST_SUPPORT_H
#define CORO_TEST_SUPPORT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <coro.h>

/* The tools a suite may run under, for the few tests that must know:
 * RUNNING_ON_VALGRIND (0 without valgrind's header), UNDER_ASAN,
 * UNDER_TSAN. */
#ifdef CORO_HAVE_VALGRIND_H
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#endif
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UNDER_TSAN 1
#endif
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__) && !defined(UNDER_TSAN)
#define UNDER_TSAN 1
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(UNDER_ASAN)
#define UNDER_ASAN 1
#endif

/* Integers through the value slot, as the accumulator in coro.h does. */
#define INT_TO_PTR(i) ((void *)(intptr_t)(i))
#define PTR_TO_INT(p) ((intptr_t)(p))

/* For helpers whose own frame a test needs (call depth, stack use). */
#if defined(__GNUC__)
#define TEST_NOINLINE __attribute__((noinline))
#else
#define TEST_NOINLINE
#endif

/* A call that returns a pointer and must give NULL with errno error. */
#define assert_null_errno(call, error)                                         \
    do {                                                                       \
        errno = 0;                                                             \
        assert_null(call);                                                     \
        assert_int_equal(errno, error);                                        \
    } while (0)

/*
 * No cmocka assertion inside a coroutine: not in a body, a cleanup, nor
 * anything they call. A failing one longjmp()s off the coroutine's stack to
 * the test's setjmp() on the main stack. Tried on both backends, under ASan,
 * TSan and valgrind: the failure is reported at its line and the suite goes
 * on, but the coroutine is abandoned in CORO_RUNNING (its cleanups never
 * run, closing or destroying it is EBUSY, ASan reports its cleanup list
 * leaked, valgrind finds it still reachable), and the thread's current
 * coroutine is left set to it: coro_current() is no longer NULL on the main
 * stack, every coroutine resumed from there takes the abandoned one for its
 * resumer, and later tests of the suite fail for no fault of their own
 * (ASan, whose idea of the current stack is left behind too, warns that
 * false reports may follow).
 *
 * So a coroutine records what it sees for the test to assert afterwards, or
 * checks with body_assert_*() below: a failure is printed at once with its
 * line and values, nothing jumps, the coroutine runs on, and the test fails
 * on the main stack, at an assertion of its own or at the latest in the
 * teardown check_body_asserts() (body_checked_test(), or logged_test() of
 * event_log.h, for every test of a suite that uses them). They serve as well
 * on one other thread at a time that the test joins before it ends. The
 * helpers the tests call, must_create() among them, assert as cmocka does:
 * never from a coroutine.
 */

/* The first failed body_assert_*() of the running test, and how many. */
struct body_asserts {
    unsigned failed;
    const char *file;
    int line;
    char what[192];
};

static inline struct body_asserts *body_asserts(void)
{
    static struct body_asserts asserts;

    return &asserts;
}

static inline void body_assert_failed(const char *file, int line, const char *format, ...)
{
    struct body_asserts *b = body_asserts();
    char what[sizeof b->what];
    va_list args;

    va_start(args, format);
    vsnprintf(what, sizeof what, format, args);
    va_end(args);
    print_error("%s:%d: failed inside a coroutine: %s\n", file, line, what);
    if (b->failed++ == 0) {
        b->file = file;
        b->line = line;
        memcpy(b->what, what, sizeof what);
    }
}

static inline void body_assert_ints(intmax_t a, intmax_t b, const char *text, const char *file,
                                    int line)
{
    if (a != b)
        body_assert_failed(file, line, "%s (%jd != %jd)", text, a, b);
}

static inline void body_assert_ptrs(const void *a, const void *b, const char *text,
                                    const char *file, int line)
{
    if (a != b)
        body_assert_failed(file, line, "%s (%p != %p)", text, a, b);
}

#define body_assert_true(c)                                                    \
    ((c) ? (void)0 : body_assert_failed(__FILE__, __LINE__, "%s", #c))
#define body_assert_int_equal(a, b)                                            \
    body_assert_ints((intmax_t)(a), (intmax_t)(b), #a " == " #b, __FILE__, __LINE__)
#define body_assert_ptr_equal(a, b)                                            \
    body_assert_ptrs((a), (b), #a " == " #b, __FILE__, __LINE__)
#define body_assert_null(p) body_assert_ptrs((p), NULL, #p " == NULL", __FILE__, __LINE__)
#define body_assert_non_null(p) body_assert_true((p) != NULL)
/* assert_null_errno() for coroutines. */
#define body_assert_null_errno(call, error)                                    \
    do {                                                                       \
        errno = 0;                                                             \
        body_assert_null(call);                                                \
        body_assert_int_equal(errno, error);                                   \
    } while (0)
/* Where a coroutine must never get to. */
#define body_fail_msg(msg) body_assert_failed(__FILE__, __LINE__, "%s", msg)

/* cmocka setup: the test starts with no failed body_assert_*(). */
static inline int reset_body_asserts(void **state)
{
    (void)state;
    body_asserts()->failed = 0;
    return 0;
}

/* cmocka teardown: the test fails, on the main stack, if one did fail. */
static inline int check_body_asserts(void **state)
{
    const struct body_asserts *b = body_asserts();

    (void)state;
    if (b->failed != 0)
        fail_msg("%u body_assert_*() failed inside coroutines, the first at %s:%d: %s", b->failed,
                 b->file, b->line, b->what);
    return 0;
}

/* cmocka_unit_test() for a suite whose coroutines use body_assert_*(). */
#define body_checked_test(f)                                                   \
    cmocka_unit_test_setup_teardown(f, reset_body_asserts, check_body_asserts)

/*
 * coro_create() that must succeed: a failure fails the test at the line
 * of the call, with errno. On the main stack only (see above).
 */
#define must_create(fn, arg) must_create_sized(fn, arg, 0)
#define must_create_sized(fn, arg, stack_size)                                 \
    must_create_at((fn), (arg), (stack_size), __FILE__, __LINE__)

static inline coro_t *must_create_at(coro_fn fn, void *arg, size_t stack_size, const char *file,
                                     int line)
{
    coro_t *co = coro_create(fn, arg, stack_size);

    if (co == NULL)
        print_error("coro_create(): %s\n", strerror(errno));
    _assert_true(co != NULL, "must_create()", file, line);
    return co;
}

#endif /* CORO_TEST_SUPPORT_H */
