/*
 * What coro.c, which alone sees inside a coroutine, offers the other
 * internal files (the overflow handler): nothing here is public.
 */
#ifndef CORO_INTERNAL_H
#define CORO_INTERNAL_H

struct coro;
struct coro__stack;

/* co's stack. */
const struct coro__stack *coro__stack_of(const struct coro *co);

/* The coroutine running on this thread, or NULL: coro_current() without
 * going through the exported symbol, which a program could interpose. */
struct coro *coro__running(void);

#endif /* CORO_INTERNAL_H */
