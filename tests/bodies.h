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

/* A cleanup that counts its runs in the int it is given. */
static inline void count_cleanup(void *counter)
{
    ++*(int *)counter;
}

#endif /* CORO_TEST_BODIES_H */
