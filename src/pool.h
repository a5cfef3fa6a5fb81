/*
 * The process's pool of stacks (pool.c): stacks of one usable size are
 * slots carved out of big mappings (slabs), each slot a guard
 * (coro__stack_guard_size()) and then the stack. stack.h keeps a per-thread
 * cache in front of it.
 */
#ifndef CORO_POOL_H
#define CORO_POOL_H

#include <stdbool.h>
#include <stddef.h>

#include "pages.h"

struct coro__slab;

struct coro__stack {
    void *lo;     /* lowest usable byte, just above the guard */
    size_t size;  /* usable bytes, a whole number of pages */
    struct coro__slab *slab; /* the mapping it was carved from */
    unsigned valgrind_id; /* its registration with valgrind, while out of its slab */
};

/* The guard below each stack: at least a page, and bigger than a page
 * because what lies below it is the top of the next stack down, which
 * holds that coroutine's record: a frame must be bigger still to jump it. */
#define CORO__STACK_GUARD_BYTES ((size_t)16 * 1024)

static inline size_t coro__stack_guard_size(void)
{
    size_t page = coro__page_size();

    return (CORO__STACK_GUARD_BYTES + page - 1) & ~(page - 1);
}

/* Stacks given back to the pool at once, at most. */
#define CORO__POOL_GIVE_BACK_MAX 16

/* Slabs are about this big; empty slabs kept mapped for reuse take at most
 * CORO__POOL_SPARE_BYTES in all. */
#define CORO__POOL_SLAB_BYTES ((size_t)32 << 20)
#define CORO__POOL_SPARE_BYTES ((size_t)64 << 20)

/* Gives stacks[0] .. stacks[*count - 1] stacks of usable bytes (a multiple
 * of the page size) from slabs: the first mapping a slab if none has a
 * slot free, the others only from slabs mapped by then (a fresh slab hands
 * out its slots from the lowest address up). Returns 0 with *count lowered
 * to the number taken, at least one; or ENOMEM, none taken. May change
 * errno. */
int coro__pool_take(struct coro__stack *stacks, unsigned *count, size_t usable);

/* Gives count stacks (at most CORO__POOL_GIVE_BACK_MAX) back to their
 * slabs, their pages dropped first; a slab
 * left with no slot in use is unmapped, but for a spare per size within
 * CORO__POOL_SPARE_BYTES in all. May change errno. */
void coro__pool_give_back(const struct coro__stack *stacks, size_t count);

/* Unmaps every spare slab; returns whether there was one. */
bool coro__pool_unmap_spares(void);

/* Around fork() (pthread_atfork's three, installed by thread.c): the
 * pool's lock, so that the child gets a pool no other thread was halfway
 * through changing, and a lock it can take. */
void coro__pool_lock_for_fork(void);
void coro__pool_unlock_in_parent(void);
void coro__pool_unlock_in_child(void);

/* Whether stacks are guarded by guard regions (pages.h) rather than by
 * mprotect. */
bool coro__pool_guard_regions(void);

/* For the tests: how many stacks are out of their slabs (in use, or in a
 * thread's cache), how many slabs are mapped, how many size classes (stack
 * sizes) are known. */
void coro__pool_counts(size_t *out_of_slabs, size_t *slabs, size_t *classes);

#endif /* CORO_POOL_H */
