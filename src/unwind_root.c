/*
 * The personality routine of coroutine roots, and the second raise of an
 * exception that escaped a coroutine (unwind_root.h).
 */
#include "unwind_root.h"

#include <stdio.h>
#include <stdlib.h>
#include <unwind.h>

/* Outside glibc (musl), the unwinder is only what a program links for
 * itself (a C++ runtime brings one); libcoro must not pull one in: Debian's
 * libgcc_eh.a, the static unwinder musl-gcc would link, needs glibc.
 * These run only when an exception is in flight, so the unwinder that
 * carries it is there to define them. */
#if !defined(__GLIBC__)
#pragma weak _Unwind_SetGR
#pragma weak _Unwind_SetIP
#pragma weak _Unwind_GetLanguageSpecificData
#pragma weak _Unwind_Resume_or_Rethrow
#endif

#if !defined(__ARM_EABI_UNWINDER__) /* 32-bit ARM's unwinder has another interface */
_Unwind_Reason_Code coro__unwind_personality(int version, _Unwind_Action actions,
                                             _Unwind_Exception_Class exception_class,
                                             struct _Unwind_Exception *exception,
                                             struct _Unwind_Context *context);

/*
 * The search phase goes on past the root, into the resumer's frames, which
 * the root's unwind rules name as its caller: a handler there is found as
 * if the coroutine were a function the resumer called, and with none, the
 * language's own rule applies where the exception was thrown (C++'s
 * std::terminate(), with the body's frames intact for a debugger). In the
 * cleanup phase the root stops the unwinding at its landing pad: the
 * resumer's frames are unwound only once the coroutine has ended and the
 * exception has been raised again on the resumer's stack.
 */
_Unwind_Reason_Code coro__unwind_personality(int version, _Unwind_Action actions,
                                             _Unwind_Exception_Class exception_class,
                                             struct _Unwind_Exception *exception,
                                             struct _Unwind_Context *context)
{
    (void)exception_class;
    if (version != 1)
        return _URC_FATAL_PHASE1_ERROR;
    if (actions & _UA_SEARCH_PHASE)
        return _URC_CONTINUE_UNWIND;
    _Unwind_SetGR(context, __builtin_eh_return_data_regno(0), (_Unwind_Ptr)exception);
    _Unwind_SetIP(context, (_Unwind_Ptr)_Unwind_GetLanguageSpecificData(context));
    return _URC_INSTALL_CONTEXT;
}
#endif

/* _Unwind_Resume_or_Rethrow() goes on with a forced unwinding
 * (pthread_exit()'s) as it was, and raises anything else anew. It returns
 * only when no handler is found, which the search at the throw ruled out
 * unless the resumer's frames changed since. */
void *coro__unwind_raise_again(void *exception)
{
    _Unwind_Resume_or_Rethrow(exception);
    fputs("libcoro: an exception that escaped a coroutine found no handler in its resumer\n",
          stderr);
    abort();
}
