/*
 * Per-thread state, all of it: the coroutine running on the thread, and
 * what the other modules keep per thread (the stack cache, the backend's
 * data, the alternate signal stack). One small thread-local record, a block
 * made on first use, and one key whose destructor gives it all back when
 * the thread exits. Every at-load and fork setup of the library is here too
 * (thread.c).
 *
 * The rule for reaching this state, stated once: a body that yields may be
 * resumed on another thread, and compilers may keep the address of a
 * thread-local variable (on AArch64, the thread pointer) across a call. So
 * coro__thread_here() is used only in code that does nothing after its
 * switch (the switch is its tail call); code that goes on after a switch
 * asks through the never-inlined functions below, which compute the
 * address afresh.
 */
#ifndef CORO_THREAD_H
#define CORO_THREAD_H

#include <stdbool.h>
#include <stddef.h>

#include "compiler.h"
#include "stack.h"

struct coro;

/* What a thread keeps beyond its record, made on first use. */
struct coro__thread_block {
    struct coro__stack_cache stack_cache; /* stack.c's; first, for the warm create */
    void *context_data; /* the backend's (context.h), or NULL */
};

struct coro__thread {
    struct coro *running; /* the coroutine running on this thread, or NULL */
    struct coro__thread_block *block; /* NULL until first needed */
    void *alt_stack; /* the alternate signal stack libcoro gave the thread, or NULL */
    bool ready; /* prepared for coroutines: coro__thread_prepare() ran */
};

/* Static TLS (CORO_TLS_MODEL): the overflow handler reads it from a signal
 * handler, and a thread's first touch of it allocates nothing. */
extern _Thread_local struct coro__thread coro__this_thread CORO_TLS_MODEL;

/* The calling thread's record, inline: only where nothing follows a switch
 * (see above). */
static CORO_ALWAYS_INLINE struct coro__thread *coro__thread_here(void)
{
    return &coro__this_thread;
}

/* The coroutine running on the calling thread, from anywhere. */
struct coro *coro__thread_running(void);

/* Called as a thread ends with running, a coroutine still running on it:
 * the thread ended inside it, as a body's ExitThread() ends it on Windows
 * (where pthread_exit() unwinds, the coroutine has ended by then). */
typedef void coro__thread_ends_inside_fn(struct coro *running);

/* Prepares the calling thread for its first coroutine, once (the caller
 * checks ready): with with_alt_stack, gives it an alternate signal stack if
 * it has none, for the overflow handler (the overflowing stack has no room
 * left for it). Failing that, overflows still fault; they go unnamed. On
 * Windows it has ends_inside called if the thread ends inside a coroutine
 * (the same function from every caller). */
void coro__thread_prepare(bool with_alt_stack, coro__thread_ends_inside_fn *ends_inside);

/* The calling thread's block, made on first use; NULL when it cannot be
 * (no memory). */
struct coro__thread_block *coro__thread_block(void);

#endif /* CORO_THREAD_H */
