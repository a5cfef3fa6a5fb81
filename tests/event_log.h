/*
 * An ordered log of events for suites that check what ran and in which
 * order (cleanups, delegates). Bodies only record; the tests assert after.
 */
#ifndef CORO_TEST_EVENT_LOG_H
#define CORO_TEST_EVENT_LOG_H

#include "test_support.h"

#define LOG_MAX 256
static int event_log[LOG_MAX];
static size_t event_count;

static inline void record(int event)
{
    assert_true(event_count < LOG_MAX);
    event_log[event_count++] = event;
}

/* A cmocka setup: every test starts with an empty log. */
static inline int reset_log(void **state)
{
    (void)state;
    event_count = 0;
    return 0;
}

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
