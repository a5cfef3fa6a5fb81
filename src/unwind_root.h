/*
 * Exceptions (C++'s, or any other language's that uses the system
 * unwinder) that escape a coroutine's body. The backend's root frame, the
 * outermost of each coroutine's stack, names coro__unwind_personality in
 * its unwind information, with its landing pad as the language-specific
 * data: an exception that reaches the root is caught there, in the
 * unwinder's second phase, and the backend calls the coroutine's entry
 * again with it (context.h). The coroutine then ends as a return would,
 * and the exception is raised again on the resumer's stack, from inside the
 * pending switch there: it comes out of the call that resumed the
 * coroutine. Only libgcc's unwinder interface is used, no C++ runtime.
 */
#ifndef CORO_UNWIND_ROOT_H
#define CORO_UNWIND_ROOT_H

/* Run on the resumer's stack on arrival from the coroutine: raises the
 * exception again there; does not return. */
void *coro__unwind_raise_again(void *exception);

#endif /* CORO_UNWIND_ROOT_H */
