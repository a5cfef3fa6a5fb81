/*
 * Coroutine stack memory: mmap'd, with a PROT_NONE guard page below the
 * usable range so an overflow faults, and a small pool of released stacks so
 * that creating a coroutine usually costs no system call.
 */
#ifndef CORO_STACK_H
#define CORO_STACK_H

#include <stddef.h>

struct coro__stack {
    void *lo;     /* lowest usable byte, just above the guard page */
    size_t size;  /* usable bytes, a whole number of pages */
    unsigned valgrind_id; /* its registration with valgrind, kept while mapped */
};

/*
 * The usable size a request for size bytes gets: size rounded up to whole
 * pages. Returns 0 when that does not fit in a size_t.
 */
size_t coro__stack_rounded_size(size_t size);

/*
 * Gives s a stack of coro__stack_rounded_size(size) usable bytes, from the
 * pool or freshly mapped. Returns 0, or ENOMEM (nothing is left mapped).
 */
int coro__stack_acquire(struct coro__stack *s, size_t size);

/* Hands s back to the pool, or unmaps it when the pool is full. s may be
 * one that was never acquired (lo NULL); it is left empty. */
void coro__stack_release(struct coro__stack *s);

#endif /* CORO_STACK_H */
