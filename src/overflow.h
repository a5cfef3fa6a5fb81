/*
 * Stack overflow reports. The guard below each stack turns an overflow
 * into SIGSEGV (or SIGBUS); this module's handler, run on an alternate signal
 * stack, names the coroutine and its stack size on stderr, then aborts.
 */
#ifndef CORO_OVERFLOW_H
#define CORO_OVERFLOW_H

#include <stdatomic.h>

/* Installs the SIGSEGV and SIGBUS handlers, once per process, for signals
 * whose disposition is still SIG_DFL. Unless CORO_NO_SIGNAL_HANDLER is set. */
void coro__overflow_watch_process_once(void);

/* Set once that is done: every create asks, and this spares it a call. */
extern atomic_bool coro__overflow_process_watched;

static inline void coro__overflow_watch_process(void)
{
    if (!atomic_load_explicit(&coro__overflow_process_watched, memory_order_acquire))
        coro__overflow_watch_process_once();
}

/* Gives the calling thread an alternate signal stack if it has none: the
 * overflowing stack has no room left for the handler. Once per thread (the
 * caller keeps track): it makes system calls. */
void coro__overflow_watch_thread(void);

#endif /* CORO_OVERFLOW_H */
