#define _DEFAULT_SOURCE /* SA_ONSTACK */

#include "overflow.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "overflow_message.h"
#include "stack.h"

static const int watched_signals[] = {SIGSEGV, SIGBUS};
#define WATCHED_COUNT (sizeof watched_signals / sizeof watched_signals[0])

static pthread_once_t process_once = PTHREAD_ONCE_INIT;
static bool handler_installed;
static size_t guard_size; /* below each stack; the handler cannot ask */
static struct sigaction previous[WATCHED_COUNT];
/* Stored by every first create, with the same value: atomic, not racy. */
static _Atomic(coro__overflow_running_fn *) running_stack;

static size_t watched_index(int sig)
{
    size_t i = 0;

    while (i < WATCHED_COUNT - 1 && watched_signals[i] != sig)
        i++;
    return i;
}

static void on_fault(int sig, siginfo_t *info, void *ucontext)
{
    /* Overflows happen on the running coroutine's stack: only its guard
     * page is checked, and only for a fault the kernel raised. */
    const void *co = NULL;
    const char *name = "";
    coro__overflow_running_fn *running = atomic_load_explicit(&running_stack, memory_order_relaxed);
    const struct coro__stack *stack = running != NULL ? running(&co, &name) : NULL;
    size_t guard = guard_size;

    (void)ucontext;
    if (stack != NULL && stack->lo != NULL && info->si_code > 0) {
        uintptr_t fault = (uintptr_t)info->si_addr;
        uintptr_t lo = (uintptr_t)stack->lo;

        if (fault < lo && fault >= lo - guard) {
            char message[160];
            size_t len = coro__overflow_message(message, sizeof message, co, name, stack->size);

            (void)!write(STDERR_FILENO, message, len);
            abort();
        }
    }

    /* Not ours: put back what the program had (SIG_DFL, or the handler
     * would not be ours) and raise the signal again; it is delivered as
     * this handler returns, before the faulting instruction could re-run.
     * Relying on the re-run alone fails for signals sent with kill(), and
     * under valgrind, which does not re-run it. */
    sigaction(sig, &previous[watched_index(sig)], NULL);
    raise(sig);
}

static void install_handlers(void)
{
    if (coro__overflow_opted_out())
        return;
    guard_size = coro__stack_guard_size();
    for (size_t i = 0; i < WATCHED_COUNT; i++) {
        struct sigaction action;

        if (sigaction(watched_signals[i], NULL, &previous[i]) != 0)
            continue;
        if ((previous[i].sa_flags & SA_SIGINFO) || previous[i].sa_handler != SIG_DFL)
            continue; /* the program (or a sanitizer) handles it already */
        memset(&action, 0, sizeof action);
        action.sa_sigaction = on_fault;
        action.sa_flags = SA_SIGINFO | SA_ONSTACK;
        sigemptyset(&action.sa_mask);
        if (sigaction(watched_signals[i], &action, NULL) == 0)
            handler_installed = true;
    }
}

atomic_bool coro__overflow_process_watched;

void coro__overflow_watch_process_once(coro__overflow_running_fn *running)
{
    atomic_store_explicit(&running_stack, running, memory_order_relaxed);
    pthread_once(&process_once, install_handlers);
    atomic_store_explicit(&coro__overflow_process_watched, true, memory_order_release);
}

bool coro__overflow_handler_installed(void)
{
    /* Acquire: what the once wrote, seen from a thread that never created. */
    return atomic_load_explicit(&coro__overflow_process_watched, memory_order_acquire) &&
           handler_installed;
}
