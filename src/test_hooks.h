/*
 * Hooks for the tests: fault injection (each allocation and mapping that
 * can fail asks coro__fault_injected() first), a switch to mprotect
 * guards and one to populating pages by touching them. The library as
 * built for users has none of them (the calls fold to false); the tests
 * build a copy, coro_testhooks, with CORO_TEST_HOOKS defined, whose hooks
 * tests/test_hooks.c defines and the suites set.
 */
#ifndef CORO_TEST_HOOKS_H
#define CORO_TEST_HOOKS_H

#include <stdbool.h>

#ifdef CORO_TEST_HOOKS
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
extern bool coro__test_force_mprotect_guards;

static inline bool coro__test_forces_mprotect_guards(void)
{
    return coro__test_force_mprotect_guards;
}

/* Pages populated by writing to them, as on kernels before Linux 5.14. */
extern bool coro__test_force_populate_by_touch;

static inline bool coro__test_forces_populate_by_touch(void)
{
    return coro__test_force_populate_by_touch;
}
#else
static inline bool coro__fault_injected(void)
{
    return false;
}

static inline bool coro__test_forces_mprotect_guards(void)
{
    return false;
}

static inline bool coro__test_forces_populate_by_touch(void)
{
    return false;
}
#endif

#endif /* CORO_TEST_HOOKS_H */
