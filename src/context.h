/*
 * The context-switch interface. Each backend (one source file, picked by
 * CMake) defines these functions; the state machine in coro.c sees nothing
 * else of the platform.
 */
#ifndef CORO_CONTEXT_H
#define CORO_CONTEXT_H

#include <stddef.h>

/* A saved machine context. Its storage is laid out by the caller:
 * coro__context_size() bytes aligned to coro__context_align(). */
typedef struct coro__context coro__context;

size_t coro__context_size(void);
size_t coro__context_align(void);

/*
 * Prepares ctx so that the first switch to it runs entry(arg) on the stack
 * [stack_lo, stack_lo + stack_size). entry must never return: it leaves by
 * coro__context_jump(). The first switch to ctx must pass fn NULL; its value
 * is not delivered.
 */
int coro__context_make(coro__context *ctx, void *stack_lo, size_t stack_size,
                       void (*entry)(void *), void *arg);

/* Whether ctx, switched out, holds something that only running it once
 * more can free (ASan's fake stack): then a coroutine closed while
 * suspended must be switched into to end, even with nothing to run. */
int coro__context_must_finish(const coro__context *ctx);

/* Frees what coro__context_make() took beyond ctx's own storage. */
void coro__context_release(coro__context *ctx);

/*
 * Saves the running context into save and activates to, whose pending
 * switch (or jump) then returns: with fn NULL it returns value; otherwise
 * fn(value) runs first on to's stack, on arrival, and to's pending switch
 * returns what fn returns (fn may also never return). Returns, in turn,
 * what the switch or jump that comes back to save hands over.
 *
 * A caller that returns this function's result at once (a tail call) lets
 * the asm backend land straight at its own caller's call site: nothing
 * should be left to do after the switch.
 */
void *coro__context_switch(coro__context *save, coro__context *to, void *(*fn)(void *),
                           void *value);

/* As coro__context_switch(), abandoning the running context for good. */
_Noreturn void coro__context_jump(coro__context *to, void *(*fn)(void *), void *value);

/* The backend's name, as coro_backend() reports it. */
const char *coro__context_backend(void);

#endif /* CORO_CONTEXT_H */
