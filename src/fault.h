/*
 * Fault injection for the tests: each allocation and mapping that can fail
 * asks coro__fault_injected() first. The library as built for users has no
 * hook (the calls fold to false); the tests build a copy with
 * CORO_FAULT_INJECTION defined and set the countdown, or the switch to
 * mprotect guards.
 */
#ifndef CORO_FAULT_H
#define CORO_FAULT_H

#include <stdbool.h>

#ifdef CORO_FAULT_INJECTION
/* Operations left before one fails: 0 never fails; N fails the Nth from
 * now and every one after it, until the countdown is set again: memory that
 * ran out stays out when libcoro frees what it holds and tries once more.
 * Once one has failed, the countdown reads CORO_FAULT_FAILING. */
extern unsigned long coro__fault_countdown;
#define CORO_FAULT_FAILING ((unsigned long)-1)

static inline bool coro__fault_injected(void)
{
    unsigned long left = coro__fault_countdown;

    if (left == 0)
        return false;
    if (left == 1 || left == CORO_FAULT_FAILING) {
        coro__fault_countdown = CORO_FAULT_FAILING;
        return true;
    }
    coro__fault_countdown = left - 1;
    return false;
}

/* Set before the first coroutine: stacks get mprotect guards even where the
 * kernel has guard regions, so that the tests reach the fallback. */
extern bool coro__fault_mprotect_guards;

static inline bool coro__fault_no_guard_regions(void)
{
    return coro__fault_mprotect_guards;
}
#else
static inline bool coro__fault_injected(void)
{
    return false;
}

static inline bool coro__fault_no_guard_regions(void)
{
    return false;
}
#endif

#endif /* CORO_FAULT_H */
