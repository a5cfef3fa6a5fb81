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

/* A thread's stacks kept as they are, pages and all, for its next creates
 * (in the thread's block: thread.h). */
#define CORO__STACK_CACHE_SLOTS 16
struct coro__stack_cache {
    unsigned count;
    struct coro__stack stacks[CORO__STACK_CACHE_SLOTS]; /* oldest first */
};

/*
 * Gives s a stack of at least size usable bytes (size rounded up to whole
 * pages), from the cache, the pool or a new slab. Returns 0, or ENOMEM:
 * no memory, or no mapping for a guard.
 */
int coro__stack_acquire(struct coro__stack *s, size_t size);

/* Hands s back for reuse. s may be one that was never acquired (lo NULL).
 * The stack's memory may be gone when this returns, so s must not live
 * inside the stack it describes. */
void coro__stack_release(const struct coro__stack *s);

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
