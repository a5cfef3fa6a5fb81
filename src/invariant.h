/*
 * Internal invariants, as Lua's lua_assert: checked in Debug builds (no
 * NDEBUG) and in the tests' copy of the library (CORO_CHECK_INVARIANTS),
 * compiled out elsewhere, so that they cost a release build nothing. A
 * failure is a bug in libcoro, never a misuse (those are errors returned to
 * the caller): it names the condition and aborts.
 */
#ifndef CORO_INVARIANT_H
#define CORO_INVARIANT_H

#if defined(CORO_CHECK_INVARIANTS) || !defined(NDEBUG)
#include <stdio.h>
#include <stdlib.h>

static inline void coro__invariant_failed(const char *condition, const char *file, int line)
{
    fprintf(stderr, "libcoro: internal invariant broken at %s:%d: %s\n", file, line, condition);
    abort();
}

#define CORO_INVARIANT(condition)                                                                  \
    ((condition) ? (void)0 : coro__invariant_failed(#condition, __FILE__, __LINE__))
#else
#define CORO_INVARIANT(condition) ((void)0)
#endif

#endif /* CORO_INVARIANT_H */
