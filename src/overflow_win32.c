/*
 * Stack overflow reports on Windows (overflow.h): a vectored exception
 * handler, first in line, takes the stack overflow that the guard below a
 * coroutine's stack raises (pages.h: the system commits room for the
 * handler first), names the coroutine and its stack size on stderr and
 * ends the process with the status an unhandled overflow gives.
 */
#include "overflow.h"

#include <stdint.h>
#include <windows.h>

#include "overflow_message.h"
#include "stack.h"

static INIT_ONCE process_once = INIT_ONCE_STATIC_INIT;
static bool handler_installed;
static size_t guard_size; /* below each stack; the handler cannot ask */
static _Atomic(coro__overflow_running_fn *) running_stack;

/* Whether the exception is one a touch of a guard raises: a stack overflow
 * (the guard page) or an access violation (the reserve below it). Asked
 * first, as every exception of the process comes here (C++ throws
 * included), and the running coroutine is thread-local storage, which
 * mingw-w64 allocates on a thread's first use. */
static bool guard_exception(const EXCEPTION_RECORD *record)
{
    return record->ExceptionCode == EXCEPTION_STACK_OVERFLOW ||
           record->ExceptionCode == EXCEPTION_ACCESS_VIOLATION ||
           record->ExceptionCode == EXCEPTION_GUARD_PAGE;
}

/* Whether the exception touched the guard below stack: at an address in
 * the guard, or with the stack pointer in it. */
static bool in_guard(const EXCEPTION_POINTERS *exception, const struct coro__stack *stack)
{
    const EXCEPTION_RECORD *record = exception->ExceptionRecord;
    uintptr_t lo = (uintptr_t)stack->lo;
    uintptr_t sp = (uintptr_t)exception->ContextRecord->Rsp;
    uintptr_t address = 0;

    if (record->NumberParameters >= 2)
        address = (uintptr_t)record->ExceptionInformation[1];
    return (address < lo && address >= lo - guard_size) || (sp < lo && sp >= lo - guard_size);
}

static LONG CALLBACK on_exception(EXCEPTION_POINTERS *exception)
{
    const void *co = NULL;
    const char *name = "";
    coro__overflow_running_fn *running = atomic_load_explicit(&running_stack, memory_order_relaxed);
    const struct coro__stack *stack;

    if (running == NULL || !guard_exception(exception->ExceptionRecord))
        return EXCEPTION_CONTINUE_SEARCH;
    stack = running(&co, &name);
    if (stack != NULL && stack->lo != NULL && in_guard(exception, stack)) {
        char message[160];
        size_t len = coro__overflow_message(message, sizeof message, co, name, stack->size);
        DWORD written;

        WriteFile(GetStdHandle(STD_ERROR_HANDLE), message, (DWORD)len, &written, NULL);
        TerminateProcess(GetCurrentProcess(), (UINT)EXCEPTION_STACK_OVERFLOW);
    }
    return EXCEPTION_CONTINUE_SEARCH;
}

static BOOL CALLBACK install_handler(INIT_ONCE *once, void *parameter, void **context)
{
    (void)once;
    (void)parameter;
    (void)context;
    if (coro__overflow_opted_out())
        return TRUE;
    guard_size = coro__stack_guard_size();
    handler_installed = AddVectoredExceptionHandler(1, on_exception) != NULL;
    return TRUE;
}

atomic_bool coro__overflow_process_watched;

void coro__overflow_watch_process_once(coro__overflow_running_fn *running)
{
    atomic_store_explicit(&running_stack, running, memory_order_relaxed);
    InitOnceExecuteOnce(&process_once, install_handler, NULL, NULL);
    atomic_store_explicit(&coro__overflow_process_watched, true, memory_order_release);
}

bool coro__overflow_handler_installed(void)
{
    return atomic_load_explicit(&coro__overflow_process_watched, memory_order_acquire) &&
           handler_installed;
}
