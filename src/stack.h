/*
 * Coroutine stack memory: stacks carved out of large mappings (slabs), each
 * with a guard below it so that an overflow faults, reused through a
 * per-thread cache (stack.c) in front of the process's pool (pool.h), so
 * that creating a coroutine usually costs no system call and no lock.
 */
#ifndef CORO_STACK_H
#define CORO_STACK_H

#include <stddef.h>

#include "pool.h"

/* A thread's stacks kept as they are, pages and all, for its next creates
 * (in the thread's block: thread.h). */
#define CORO__STACK_CACHE_SLOTS 16
_Static_assert(CORO__STACK_CACHE_SLOTS <= CORO__POOL_GIVE_BACK_MAX, "a cache goes back at once");
struct coro__stack_cache {
    unsigned count;
    struct coro__stack stacks[CORO__STACK_CACHE_SLOTS]; /* oldest first */
};

/*
 * Gives s a stack of at least size usable bytes (size rounded up to whole
 * pages), from cache (the calling thread's, or NULL), the pool or a new
 * slab. Returns 0, or ENOMEM: no memory, or no mapping for a guard, even
 * after cache and the pool's spare slabs were given back.
 */
int coro__stack_acquire(struct coro__stack_cache *cache, struct coro__stack *s, size_t size);

/* Hands s back for reuse, into cache (the calling thread's; NULL: straight
 * to the pool). s may be one that was never acquired (lo NULL). The
 * stack's memory may be gone when this returns, so s must not live inside
 * the stack it describes. */
void coro__stack_release(struct coro__stack_cache *cache, const struct coro__stack *s);

/* How deep s has been touched: the bytes from its top down to its lowest
 * page in memory (pages.h). A stack from the pool has only its top page in
 * memory; one from a cache keeps what its earlier coroutines touched of
 * its top CACHE_KEEP_BYTES (stack.c). */
size_t coro__stack_touched(const struct coro__stack *s);

/* At thread exit: the cache's stacks go back to the pool. */
void coro__stack_cache_drain(struct coro__stack_cache *cache);

#endif /* CORO_STACK_H */
