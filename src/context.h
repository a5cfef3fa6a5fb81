/*
 * The context-switch interface. Each backend (one source file, picked by
 * CMake) defines these functions; the state machine in coro.c sees nothing
 * else of the platform.
 */
#ifndef CORO_CONTEXT_H
#define CORO_CONTEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "sanitizer.h" /* CORO_SANITIZER_FIBERS */

/*
 * A coroutine's context: its own machine context, and where its resumer
 * waits while it runs. The asm backend keeps the resumer's side in the
 * context too, at a fixed offset from the coroutine: a switch then finds
 * what it saves and what it restores without following a pointer. Storage
 * is laid out by the caller: coro__context_size() bytes, 16-byte aligned
 * (no backend needs more: each asserts it).
 */
typedef struct coro__context coro__context;

size_t coro__context_size(void);

/* Bytes of per-thread data the backend keeps (0: none): plain memory, zeroed,
 * held and freed with the thread's block (thread.h). */
size_t coro__context_thread_data_size(void);

/*
 * Prepares ctx so that its first resume runs entry(arg, NULL) on the stack
 * [stack_lo, stack_lo + stack_size). entry must never return: it leaves by
 * coro__context_return(). Where the backend catches exceptions at the
 * coroutine's root (unwind_root.h), one that escapes entry ends that call, and
 * entry(arg, exception) runs instead, on the same stack. The first resume
 * must pass fn NULL; its value is not delivered.
 */
int coro__context_make(coro__context *ctx, void *stack_lo, size_t stack_size,
                       void (*entry)(void *, void *), void *arg);

/* Whether ctx, switched out, holds something that only running it once
 * more can free (ASan's fake stack): then a coroutine closed while
 * suspended must be switched into to end, even with nothing to run. And
 * freeing what coro__context_make() took beyond ctx's own storage. Both
 * concern sanitizer state only, and cost nothing without it. */
#if CORO_SANITIZER_FIBERS
bool coro__context_must_finish(const coro__context *ctx);
void coro__context_release(coro__context *ctx);
#else
static inline bool coro__context_must_finish(const coro__context *ctx)
{
    (void)ctx;
    return false;
}

static inline void coro__context_release(coro__context *ctx)
{
    (void)ctx;
}
#endif

/*
 * Saves the running context as ctx's resumer and activates ctx,
 * whose pending yield then returns: with fn NULL it returns value;
 * otherwise fn(value) runs first on ctx's stack, on arrival, and the yield
 * returns what fn returns (fn may also never return). Returns what ctx
 * hands back with its next yield or return.
 *
 * A caller that returns this function's result at once (a tail call) lets
 * the asm backend land straight at its own caller's call site: nothing
 * should be left to do after the switch. The same holds for yield.
 */
void *coro__context_resume(coro__context *ctx, void *(*fn)(void *), void *value);

/* Run on ctx's own stack: saves it into ctx and activates its resumer,
 * whose pending resume returns value. Returns what the next resume sends. */
void *coro__context_yield(coro__context *ctx, void *value);

/* As coro__context_yield(), leaving ctx's stack for good. */
_Noreturn void coro__context_return(coro__context *ctx, void *value);

/* Leaves ctx's stack for good, as coro__context_return() does, but the
 * resumer's pending resume does not return: it raises again the exception
 * that entry(arg, exception) was handed (see coro__context_make()). */
_Noreturn void coro__context_raise(coro__context *ctx, void *exception);

/*
 * For a call on a thread's own stack (coro_call_on_thread_stack()): outer
 * is running, and its resumer is no coroutine. The stack its resumer waits
 * on is free below the address this returns (16-byte aligned, below what
 * the resumer's switch saved and the ABI's red zone).
 */
char *coro__context_resumer_stack_top(const coro__context *outer);

/*
 * As coro__context_make(), for ctx to run entry(arg, NULL) on the stack
 * outer's resumer waits on, below stack_top (from
 * coro__context_resumer_stack_top(outer), less what the caller keeps
 * there), with that stack's own bounds for the sanitizers and, on Windows,
 * the thread's own view of its stack. Once ctx has ended, its caller
 * releases it with coro__context_release().
 */
int coro__context_make_on_resumer_stack(coro__context *ctx, const coro__context *outer,
                                        char *stack_top, void (*entry)(void *, void *),
                                        void *arg);

/*
 * The thread is ending inside a coroutine (ExitThread() in a body): outer,
 * whose resumer is no coroutine, is the outermost of those running on it.
 * Hands the thread back the stack the system frees when a thread ends: on
 * Windows the information block names it, and while a coroutine runs it
 * names the coroutine's, from its guard on, in a slab other coroutines'
 * stacks share. Elsewhere nothing: the system frees what it allocated.
 */
void coro__context_thread_ends(const coro__context *outer);

/* The backend's name, as coro_backend() reports it. */
const char *coro__context_backend(void);

#endif /* CORO_CONTEXT_H */
