/*
 * Stack overflow reports. The guard below each stack turns an overflow
 * into SIGSEGV (or SIGBUS); this module's handler, run on an alternate signal
 * stack, names the coroutine and its stack size on stderr, then aborts.
 */
#ifndef CORO_OVERFLOW_H
#define CORO_OVERFLOW_H

#include <stdatomic.h>
#include <stdbool.h>

struct coro;
struct coro__stack;

/* What the handler asks of the state machine, which alone sees inside a
 * coroutine: the stack of the coroutine running on the calling thread, or
 * NULL, and in *co the coroutine and in *name its name ("" for none).
 * Async-signal-safe. */
typedef const struct coro__stack *coro__overflow_running_fn(const void **co, const char **name);

/* Installs the SIGSEGV and SIGBUS handlers, once per process, for signals
 * whose disposition is still SIG_DFL, unless CORO_NO_SIGNAL_HANDLER is set:
 * on the first create, so that a program may opt out until then. */
void coro__overflow_watch_process_once(coro__overflow_running_fn *running);

/* Set once that is done: every create asks, and this spares it a call. */
extern atomic_bool coro__overflow_process_watched;

static inline void coro__overflow_watch_process(coro__overflow_running_fn *running)
{
    if (!atomic_load_explicit(&coro__overflow_process_watched, memory_order_acquire))
        coro__overflow_watch_process_once(running);
}

/* Whether the handler is installed: then each thread that runs coroutines
 * needs an alternate signal stack (thread.h), as the overflowing stack has
 * no room left for the handler. */
bool coro__overflow_handler_installed(void);

#endif /* CORO_OVERFLOW_H */
