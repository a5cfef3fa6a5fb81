/*
 * An ordered log of events for suites that check what ran and in which
 * order (cleanups, delegates). Coroutines record; the tests assert after.
 */
#ifndef CORO_TEST_EVENT_LOG_H
#define CORO_TEST_EVENT_LOG_H

#include "test_support.h"

#define LOG_MAX 256
static int event_log[LOG_MAX];
static size_t event_count;

/* Called from coroutines and cleanups: no cmocka assertion here. */
static inline void record(int event)
{
    body_assert_true(event_count < LOG_MAX);
    if (event_count < LOG_MAX)
        event_log[event_count++] = event;
}

/* A cmocka setup: every test starts with an empty log and no failed
 * body_assert_*(). */
static inline int reset_log(void **state)
{
    event_count = 0;
    return reset_body_asserts(state);
}

/* cmocka_unit_test() for the tests of a suite that logs events. */
#define logged_test(f) cmocka_unit_test_setup_teardown(f, reset_log, check_body_asserts)

static inline void assert_log(const int *expected, size_t count)
{
    assert_int_equal(event_count, count);
    for (size_t i = 0; i < count; i++)
        assert_int_equal(event_log[i], expected[i]);
}

/* A cleanup that records its argument, an integer. */
static inline void record_cleanup(void *arg)
{
    record((int)PTR_TO_INT(arg));
}

#endif /* CORO_TEST_EVENT_LOG_H */
