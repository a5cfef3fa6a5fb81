/*
 * Per-thread state (thread.h): the record, its block, the key whose
 * destructor gives both back, and the library's at-load and fork setups.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, sigaltstack */

#include "thread.h"

#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>
#if defined(_WIN32)
#include <windows.h>
#else
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#endif

#include "context.h"
#include "test_hooks.h"
#include "pool.h"

_Thread_local struct coro__thread coro__this_thread CORO_TLS_MODEL;

/* Static TLS is scarce in a dlopen()ed library: what is big goes in the
 * block. */
_Static_assert(sizeof(struct coro__thread) <= 32, "static TLS stays at 32 bytes or below");

#if defined(_WIN32)
/* No alternate stack: the system commits room on the overflowing stack for
 * the handler (pages.h). Thread exit runs a fiber-local storage callback,
 * for threads of CreateThread() and of every library alike. */
static INIT_ONCE setup_once = INIT_ONCE_STATIC_INIT;
static DWORD exit_key = FLS_OUT_OF_INDEXES;
#else
/* Big enough for the overflow handler; SIGSTKSZ is no longer a constant in
 * glibc. */
#define ALT_STACK_SIZE (64u * 1024u)

static pthread_once_t setup_once = PTHREAD_ONCE_INIT;
static pthread_key_t exit_key;
#endif
static bool exit_key_ready;

#if !defined(_WIN32)
static void give_back_alt_stack(struct coro__thread *t)
{
    stack_t disable = {.ss_flags = SS_DISABLE};
    stack_t current;

    /* Only undo what libcoro did: the thread may have replaced it. */
    if (sigaltstack(NULL, &current) == 0 && current.ss_sp == t->alt_stack)
        sigaltstack(&disable, NULL);
    munmap(t->alt_stack, ALT_STACK_SIZE);
    t->alt_stack = NULL;
}
#endif

/* The key's destructor: arg is the exiting thread's record, whose static
 * TLS is still there while destructors run. */
static void at_thread_exit(void *arg)
{
    struct coro__thread *t = arg;

    if (t->block != NULL) {
        coro__stack_cache_drain(&t->block->stack_cache);
        free(t->block);
        t->block = NULL;
    }
#if !defined(_WIN32)
    if (t->alt_stack != NULL)
        give_back_alt_stack(t);
#endif
}

#if defined(_WIN32)
typedef BOOLEAN(NTAPI *shutdown_check)(void);

/* ntdll's RtlDllShutdownInProgress(), found at setup: the callback below
 * runs under the system's fiber-storage lock, and a thread that starts
 * takes the loader's lock and then that one, so the callback must not ask
 * the loader for anything (GetModuleHandle(), GetProcAddress()). */
static shutdown_check shutting_down;

/* coro__thread_prepare()'s: the same from every thread. */
static _Atomic(coro__thread_ends_inside_fn *) ends_inside_hook;

/* Windows also calls it when a fiber that used libcoro is deleted, from
 * whichever thread deletes it, and at process exit, after the other
 * threads were killed, perhaps holding the pool's lock: only the calling
 * thread's own record is given back, and nothing at process exit (the
 * process's memory goes with it). */
static void NTAPI at_fiber_storage_exit(void *arg)
{
    struct coro__thread *t = arg;
    coro__thread_ends_inside_fn *ends_inside;

    if (t != &coro__this_thread || (shutting_down != NULL && shutting_down()))
        return;
    ends_inside = atomic_load_explicit(&ends_inside_hook, memory_order_relaxed);
    if (t->running != NULL && ends_inside != NULL)
        ends_inside(t->running);
    at_thread_exit(t);
}

/* The callback points into this module: a DLL of libcoro stays loaded, as
 * FreeLibrary() cannot take the callback back from every thread. */
static BOOL CALLBACK setup_windows(INIT_ONCE *once, void *parameter, void **context)
{
    HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
    HMODULE self;

    (void)once;
    (void)parameter;
    (void)context;
    if (ntdll != NULL)
        shutting_down =
            (shutdown_check)(void (*)(void))GetProcAddress(ntdll, "RtlDllShutdownInProgress");
    exit_key = FlsAlloc(at_fiber_storage_exit);
    exit_key_ready = exit_key != FLS_OUT_OF_INDEXES;
    if (exit_key_ready)
        exit_key_ready = GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS |
                                                GET_MODULE_HANDLE_EX_FLAG_PIN,
                                            (LPCWSTR)(void *)&exit_key, &self) != 0;
    return TRUE;
}

static void setup_once_here(void)
{
    InitOnceExecuteOnce(&setup_once, setup_windows, NULL, NULL);
}

static bool set_exit_key(struct coro__thread *t)
{
    return FlsGetValue(exit_key) != NULL || FlsSetValue(exit_key, t);
}
#else
static void setup(void)
{
    exit_key_ready = pthread_key_create(&exit_key, at_thread_exit) == 0;
    /* Fails only for want of memory; then a fork() may copy the pool's
     * lock held, as it did before the handlers. */
    (void)pthread_atfork(coro__pool_lock_for_fork, coro__pool_unlock_in_parent,
                         coro__pool_unlock_in_child);
}

static void setup_once_here(void)
{
    pthread_once(&setup_once, setup);
}

static bool set_exit_key(struct coro__thread *t)
{
    return pthread_getspecific(exit_key) != NULL || pthread_setspecific(exit_key, t) == 0;
}
#endif

/* At load, where the compiler can: the setup is then done before any
 * thread of the program can be halfway through it when another forks
 * (glibc's pthread_once() survives that; TSan's does not, and the child
 * waits for it forever). Else on first use, through the same once. */
static CORO_AT_LOAD void setup_at_load(void)
{
    setup_once_here();
}

/* Has at_thread_exit() called for this thread; false if it cannot be. */
static bool call_at_exit(struct coro__thread *t)
{
    setup_once_here();
    return exit_key_ready && set_exit_key(t);
}

CORO_NOINLINE struct coro *coro__thread_running(void)
{
    return coro__this_thread.running;
}

CORO_NOINLINE void coro__thread_prepare(bool with_alt_stack,
                                        coro__thread_ends_inside_fn *ends_inside)
{
    struct coro__thread *t = &coro__this_thread;
#if defined(_WIN32)
    (void)with_alt_stack; /* not needed (see above) */
    t->ready = true;
    /* A thread that only resumes coroutines made elsewhere has no block:
     * its exit must still be seen. Without the callback (no fiber-local
     * storage left), a thread that ends inside a coroutine has the system
     * try to release that coroutine's guard, which fails and leaks the
     * thread's own stack (pages_win32.c). */
    atomic_store_explicit(&ends_inside_hook, ends_inside, memory_order_relaxed);
    (void)call_at_exit(t);
#else
    stack_t current, alt;

    (void)ends_inside; /* no system here frees a stack by what a switch changes */
    t->ready = true;
    if (!with_alt_stack)
        return;
    if (sigaltstack(NULL, &current) != 0 || !(current.ss_flags & SS_DISABLE))
        return; /* the thread has one already */
    alt.ss_sp = mmap(NULL, ALT_STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                     -1, 0);
    if (alt.ss_sp == MAP_FAILED)
        return;
    alt.ss_size = ALT_STACK_SIZE;
    alt.ss_flags = 0;
    if (!call_at_exit(t) || sigaltstack(&alt, NULL) != 0) {
        munmap(alt.ss_sp, ALT_STACK_SIZE);
        return;
    }
    t->alt_stack = alt.ss_sp;
#endif
}

CORO_NOINLINE struct coro__thread_block *coro__thread_block(void)
{
    struct coro__thread *t = &coro__this_thread;
    size_t data_size = coro__context_thread_data_size();
    size_t data_at = (sizeof(struct coro__thread_block) + alignof(max_align_t) - 1) &
                     ~(alignof(max_align_t) - 1);
    struct coro__thread_block *block;

    if (t->block != NULL)
        return t->block;
    if (!call_at_exit(t))
        return NULL;
    /* Zeroed: an empty cache, and the backend's data as it expects. */
    block = coro__fault_injected() ? NULL : calloc(1, data_at + data_size);
    if (block == NULL)
        return NULL;
    block->context_data = data_size != 0 ? (char *)block + data_at : NULL;
    t->block = block;
    return block;
}
