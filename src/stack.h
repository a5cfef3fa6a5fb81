/*
 * Coroutine stack memory: stacks carved out of large mappings (slabs), each
 * with a guard below it so that an overflow faults, reused through a
 * per-thread cache and a shared pool so that creating a coroutine usually
 * costs no system call and no lock.
 */
#ifndef CORO_STACK_H
#define CORO_STACK_H

#include <stdbool.h>
#include <stddef.h>

struct coro__slab;

struct coro__stack {
    void *lo;     /* lowest usable byte, just above the guard */
    size_t size;  /* usable bytes, a whole number of pages */
    struct coro__slab *slab; /* the mapping it was carved from */
    unsigned valgrind_id; /* its registration with valgrind, while out of its slab */
};

/* Stacks are carved from slabs of this many bytes; empty slabs kept
 * mapped for reuse take at most CORO__STACK_SPARE_BYTES in all (stack.c). */
#define CORO__STACK_SLAB_BYTES ((size_t)32 << 20)
#define CORO__STACK_SPARE_BYTES ((size_t)64 << 20)

/* A thread's stacks kept as they are, pages and all, for its next creates
 * (in the thread's block: thread.h). */
#define CORO__STACK_CACHE_SLOTS 16
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

/* At thread exit: the cache's stacks go back to the pool. */
void coro__stack_cache_drain(struct coro__stack_cache *cache);

/* Around fork() (pthread_atfork's three, installed by thread.c): the
 * pool's lock, so that the child gets a pool no other thread was halfway
 * through changing. */
void coro__stack_pool_lock_for_fork(void);
void coro__stack_pool_unlock_in_parent(void);
void coro__stack_pool_unlock_in_child(void);

/* Whether stacks are guarded by guard regions (MADV_GUARD_INSTALL, one
 * mapping per slab) rather than by mprotect (a mapping split per stack).
 * Known once the first slab is mapped; false before. */
bool coro__stack_guard_regions(void);

/* The guard below each stack: at least a page, and bigger than a page so
 * that a frame must be bigger still to jump it. */
size_t coro__stack_guard_size(void);

/* For the tests: how many stacks are out of their slabs (in use, or in a
 * thread's cache), how many slabs are mapped, how many stack sizes are
 * known. */
void coro__stack_counts(size_t *slots_out, size_t *slabs, size_t *sizes);

#endif /* CORO_STACK_H */
