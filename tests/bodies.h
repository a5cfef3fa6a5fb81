/* Coroutine bodies and cleanups that more than one suite runs. */
#ifndef CORO_TEST_BODIES_H
#define CORO_TEST_BODIES_H

#include "test_support.h"

/* coro.h's running sum: yields the sum of what was sent so far. */
static inline void *running_sum(coro_t *co, void *arg)
{
    long sum = 0;

    (void)arg;
    for (;;)
        sum += (long)PTR_TO_INT(coro_yield(co, INT_TO_PTR(sum)));
    return NULL;
}

/* Yields its argument, then every value it is sent, back; never ends. */
static inline void *yield_forever(coro_t *co, void *arg)
{
    for (;;)
        arg = coro_yield(co, arg);
    return NULL;
}

/* A cleanup and its argument, for defer_then_yield(). */
struct cleanup_call {
    void (*fn)(void *);
    void *arg;
};

/* Registers the cleanup its argument (a struct cleanup_call, read before
 * the yield only) names, then yields that cleanup's argument once and
 * returns what it is sent. */
static inline void *defer_then_yield(coro_t *co, void *arg)
{
    const struct cleanup_call *call = arg;

    body_assert_int_equal(coro_defer(co, call->fn, call->arg), 0);
    return coro_yield(co, call->arg);
}

/* A cleanup that counts its runs in the int it is given. */
static inline void count_cleanup(void *counter)
{
    ++*(int *)counter;
}

#endif /* CORO_TEST_BODIES_H */
