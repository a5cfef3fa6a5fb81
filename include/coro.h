/*
 * libcoro: stackful coroutines for C11 with Python's generator protocol.
 *
 * A coroutine is a function running on a stack of its own. It hands values
 * out with coro_yield() and gets values back from coro_send(), exactly like a
 * Python generator's `yield` and `gen.send()`; unlike a Python generator it
 * may yield from any depth of ordinary C calls.
 *
 *     static void *running_sum(coro_t *co, void *arg)
 *     {
 *         long sum = 0;
 *         const long *increment;
 *         (void)arg;
 *         while ((increment = coro_yield(co, &sum)) != NULL)
 *             sum += *increment;
 *         return NULL;
 *     }
 *
 *     long two = 2, three = 3;
 *     coro_t *gen = coro_create(running_sum, NULL, 0);
 *     coro_next(gen);         // -> &sum: 0
 *     coro_send(gen, &two);   // -> &sum: 2
 *     coro_send(gen, &three); // -> &sum: 5
 *     coro_destroy(gen);
 *
 * (examples/accumulator.c is this program, as is README's.)
 *
 * Errors. Functions returning int return 0 or an error number (as pthreads
 * do) and change nothing on error. Functions returning a pointer return NULL
 * and set errno on error; where NULL is also a valid value, use the checked
 * forms coro_resume() and coro_suspend(). The error numbers:
 *
 *   EINVAL    a NULL coroutine, body, delegate or cleanup; a stack size below
 *             CORO_MIN_STACK_SIZE; a non-NULL value sent to a coroutine
 *             that has not started (CORO_CREATED); an error number of 0 or
 *             less thrown with coro_throw()
 *   EBUSY     the coroutine is executing (CORO_RUNNING or CORO_NORMAL), or
 *             another coroutine is delegating to it with coro_yield_from()
 *   ESRCH     resuming or throwing into a coroutine that has finished
 *             (CORO_DEAD)
 *   EPERM     coro_yield(), coro_suspend(), coro_yield_from() or coro_defer()
 *             on a coroutine that is not the one running on this thread
 *   ECANCELED coro_yield(), coro_suspend() or coro_yield_from() while the
 *             coroutine is ending (from a cleanup registered with
 *             coro_defer())
 *   ENOMEM    out of memory (or out of memory mappings); nothing is leaked
 *
 * Threads. Each thread has its own current coroutine. A suspended coroutine
 * may be resumed from any thread, but never from two threads at once: hand it
 * over with the usual synchronisation (a mutex, a join). A body that moves
 * between threads must not keep the address of a thread-local variable across
 * a coro_yield(): compilers may cache such addresses, and after the yield the
 * body may be running on another thread.
 * errno is such a variable, and its address is cached by design: glibc
 * declares __errno_location() const, so an optimising compiler reuses the
 * address a body computed before a yield, on the thread it ran on then. A
 * body that may be resumed on another thread cannot read errno directly
 * after a yield: not the error a coro_throw() set (coro_yield() sets the
 * errno of the thread the body runs on when it returns), nor that of any
 * call made after the move. Take thrown errors from coro_suspend(), which
 * returns them, and read errno after the move only in a function of its own
 * that the compiler does not inline.
 *
 * Stack walks and exceptions. While a coroutine runs, its stack's outermost
 * frame names the call that resumed it (coro_send(), coro_next(),
 * coro_resume(), coro_throw(), coro_close(), or a delegator's
 * coro_yield_from()) as its caller: a backtrace from inside it (gdb's bt,
 * backtrace(), _Unwind_Backtrace(), libunwind; a frame-pointer walk, such
 * as perf record --call-graph fp, where every frame keeps one, libcoro's
 * too) goes on into the resumer's frames, and from a nested coroutine
 * through each resumer in turn, wherever the frames have unwind tables
 * (RISC-V's gcc emits none for C unless given -fasynchronous-unwind-tables).
 * perf record --call-graph dwarf stops at the coroutine's outermost frame:
 * perf unwinds a copy of the sampled stack near its stack pointer, and the
 * resumer's frames are on another stack. A suspended coroutine's stack ends at its
 * own outermost frame, which gdb shows as "<signal handler called>" (so
 * marked for gdb to walk on into a stack at a lower address; the gdb
 * extension shows its name). In AArch64 builds that sign return addresses
 * (-mbranch-protection) it is not so marked, and gdb stops a walk that goes
 * down to a lower stack ("previous frame inner to this frame").
 * A C++ exception (or any that the system unwinder carries) thrown and
 * caught inside a body is the body's business. One that escapes a body
 * comes out of the call that resumed the coroutine, in the resumer, as if
 * the body were a function that call made: the coroutine is then
 * CORO_DEAD, its cleanups have run, and every other state is as after a
 * normal return (coro_current() is the resumer again; a delegator's
 * coro_yield_from() no longer delegates). On its way out it unwinds the
 * body's frames: C++ destructors run; a C function's frames are left as a
 * longjmp() leaves them (compiled with -fexceptions, its cleanup
 * attributes run). One that nothing catches ends the program at the throw
 * (C++'s std::terminate()), with the body's frames intact for a debugger.
 * With glibc, pthread_exit() in a body ends the coroutine the same way,
 * then the thread that resumed it, and so does a pthread_cancel() acted on
 * in a body.
 * This holds with the asm backend, and with the ucontext backend where
 * glibc runs on x86-64, AArch64 or RISC-V 64 (with musl, given an unwinder
 * the program links itself: Debian's musl-gcc has none); elsewhere (32-bit
 * targets)
 * a walk stops at the coroutine's outermost frame, and an exception that
 * escapes a body ends the program there (std::terminate()).
 * A thread that ends without unwinding (ExitThread() on Windows,
 * pthread_exit() with musl) ends at once: the coroutine running on it
 * stays CORO_RUNNING and those that resumed it CORO_NORMAL, all keeping
 * their stacks (they can be neither resumed nor destroyed), and every
 * other coroutine is untouched. On Windows, end a thread from a body with
 * ExitThread(), not winpthreads' pthread_exit(), whose unwinding through
 * the system's unwinder stops at the coroutine's root.
 */
#ifndef CORO_H
#define CORO_H

#include <stddef.h>

/* The library is built with hidden visibility; only what is marked here is
 * exported from the shared library. On Windows a program that uses the DLL
 * imports each function; one linked with the static library is compiled
 * with CORO_STATIC defined (the CMake package and pkg-config's --static
 * flags say so), and the DLL's own build with CORO_BUILDING_DLL. */
#if defined(_WIN32) || defined(__CYGWIN__)
#if defined(CORO_STATIC)
#define CORO_API
#elif defined(CORO_BUILDING_DLL)
#define CORO_API __declspec(dllexport)
#else
#define CORO_API __declspec(dllimport)
#endif
#elif defined(__GNUC__) && __GNUC__ >= 4
#define CORO_API __attribute__((visibility("default")))
#else
#define CORO_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Stack sizes, in bytes. A size is rounded up to a whole number of pages. */
#define CORO_DEFAULT_STACK_SIZE (64u * 1024u) /* what stack_size 0 gives */
#define CORO_MIN_STACK_SIZE (16u * 1024u)     /* below this: EINVAL      */

typedef struct coro coro_t;                      /* opaque */
typedef void *(*coro_fn)(coro_t *co, void *arg); /* a coroutine's body */

enum coro_status {
    CORO_CREATED,   /* made, body not started             (Python GEN_CREATED)   */
    CORO_SUSPENDED, /* paused inside coro_yield           (GEN_SUSPENDED)        */
    CORO_RUNNING,   /* executing now                      (GEN_RUNNING)          */
    CORO_NORMAL,    /* resumed another coroutine, waiting (Lua's "normal")       */
    CORO_DEAD       /* body returned, or closed           (GEN_CLOSED)           */
};

/*
 * coro_create: a new coroutine in CORO_CREATED that will run fn(co, arg) on
 * its first resume. Nothing runs yet. stack_size 0 means
 * CORO_DEFAULT_STACK_SIZE; it is rounded up to whole pages. The stack has a
 * guard (16 KiB) below it, so an overflow faults instead of corrupting
 * memory. The coroutine's own record and saved context live at the top of
 * its stack and come out of stack_size (their sizes, by backend and
 * architecture: docs/internals.md). A finished coroutine keeps its stack
 * until coro_destroy().
 * Returns the coroutine, or NULL with errno EINVAL (fn is NULL, stack_size is
 * not 0 and below CORO_MIN_STACK_SIZE) or ENOMEM (no memory for the stack,
 * or no memory mapping for its guard: see docs/internals.md, Guard pages;
 * or, on a thread's first create with the ucontext backend, no memory for
 * the context it copies new coroutines' contexts from).
 * Callable anywhere, also from inside a coroutine.
 */
CORO_API coro_t *coro_create(coro_fn fn, void *arg, size_t stack_size);

/*
 * coro_next: coro_send(co, NULL), Python's next(gen).
 */
CORO_API void *coro_next(coro_t *co);

/*
 * coro_send: resumes co; its pending coro_yield() returns value. The first
 * resume of a CORO_CREATED coroutine starts its body, and value must be NULL.
 * Returns the next value co yields, or, when its body returns, the body's
 * return value: coro_status(co) then says which (CORO_SUSPENDED or
 * CORO_DEAD). On error returns NULL, sets errno (EINVAL, EBUSY, ESRCH as
 * for coro_resume()) and changes nothing.
 * Callable anywhere, also from inside another coroutine (which is CORO_NORMAL
 * until co yields or returns).
 * An exception that escapes co's body comes out of this call (and of
 * coro_next(), coro_resume(), coro_throw(), coro_close(), and a delegator's
 * coro_yield_from()), with co dead and its cleanups run: see "Stack walks
 * and exceptions" above.
 */
CORO_API void *coro_send(coro_t *co, void *value);

/*
 * coro_resume: the checked form of coro_send(). On success stores the value
 * co yielded or returned in *out (when out is not NULL) and returns 0.
 * Errors: EINVAL (co is NULL; a non-NULL value for a CORO_CREATED coroutine),
 * EBUSY (co is CORO_RUNNING or CORO_NORMAL, or is being delegated to),
 * ESRCH (co is CORO_DEAD). On error *out and co are unchanged. A resume
 * allocates nothing.
 */
CORO_API int coro_resume(coro_t *co, void *value, void **out);

/*
 * coro_yield: suspends co, handing value to whoever resumed it; returns the
 * value of the next coro_send(). Only from inside co, at any call depth: co
 * must be the coroutine running on this thread. If co is closed while
 * suspended here, this call never returns (co's cleanups run instead). If
 * co is thrown into (coro_throw()), returns NULL with errno set to the
 * error thrown: use coro_suspend() where NULL is also a value, and where
 * co may be thrown into from another thread (errno is then that thread's,
 * which the body may not see: see Threads above).
 * Errors: NULL with errno EINVAL (co is NULL), EPERM (co is not the running
 * coroutine), ECANCELED (co is ending: called from a cleanup).
 */
CORO_API void *coro_yield(coro_t *co, void *value);

/*
 * coro_suspend: the checked form of coro_yield(), for a body that must tell
 * a value sent from an error thrown in with coro_throw(). Suspends co as
 * coro_yield() does; returns 0 and stores the value of the next coro_send()
 * in *received (when received is not NULL), or returns the error a
 * coro_throw() delivered instead (*received is then unchanged). Errors as
 * for coro_yield(), returned: EINVAL, EPERM, ECANCELED; nothing changes.
 */
CORO_API int coro_suspend(coro_t *co, void *value, void **received);

/*
 * coro_throw: as Python's gen.throw(). Resumes co so that its pending yield
 * fails with error instead of returning a value: coro_suspend() returns
 * error, coro_yield() returns NULL with errno set to error, and a
 * coro_yield_from() passes it on to its delegate's pending yield. On
 * success stores what co yields or returns next in *out (when out is not
 * NULL), as coro_resume() does, and returns 0. co runs on the calling
 * thread: a coro_yield() there gets error in this thread's errno, which a
 * body that ran on another thread before may not see (see Threads above);
 * across threads, throw into coro_suspend(). A CORO_CREATED coroutine
 * never runs: it becomes CORO_DEAD, *out is NULL, and 0 is returned.
 * The body decides what a thrown error means: it may yield again (a C
 * error does not unwind by itself), or end and hand the error on, e.g. by
 * returning (void *)(intptr_t)error or a value its caller knows.
 * Errors: EINVAL (co is NULL; error is 0 or negative), EBUSY (co is
 * CORO_RUNNING or CORO_NORMAL, as when it throws into itself or its cleanups
 * run, or is being delegated to), ESRCH (co is CORO_DEAD). On error *out
 * and co are unchanged.
 */
CORO_API int coro_throw(coro_t *co, int error, void **out);

/*
 * coro_yield_from: delegation as Python's `yield from sub` (PEP 380). Resumes
 * sub with NULL, then runs it to its end: every value sub yields is yielded
 * out of co, every value sent to co is sent into sub, and every error
 * thrown into co is thrown into sub's pending yield. Returns sub's return
 * value. If co is closed meanwhile, sub is closed first. sub stays owned by
 * the caller, who destroys it; while delegated to it cannot be resumed,
 * closed or destroyed by anyone else (EBUSY).
 * Only from inside co. Errors: NULL with errno EINVAL (co or sub is NULL),
 * EPERM (co is not the running coroutine), ECANCELED (co is ending), and on
 * the first resume of sub the errors of coro_resume() (EBUSY, ESRCH).
 */
CORO_API void *coro_yield_from(coro_t *co, coro_t *sub);

/*
 * coro_close: ends co early, as Python's gen.close().
 * CORO_CREATED: becomes CORO_DEAD without running. CORO_SUSPENDED: its
 * pending coro_yield() never returns; its delegate (coro_yield_from()) is
 * closed, then its cleanups run on its own stack, last registered first, and
 * it becomes CORO_DEAD. CORO_DEAD: nothing to do.
 * Returns 0, or EINVAL (co is NULL), EBUSY (co is CORO_RUNNING or
 * CORO_NORMAL, or is being delegated to).
 */
CORO_API int coro_close(coro_t *co);

/*
 * coro_defer: registers fn(arg) to run when co ends in any way (its body
 * returns, or it is closed), last registered first, on co's own stack. When
 * co is closed while suspended, every frame of its body is still live, so arg
 * may point at the body's locals; when the body returns, the cleanups run
 * after it, and its locals are gone: a cleanup that must also run then takes
 * memory that outlives the body. While its cleanups run, co is
 * CORO_RUNNING: a cleanup may create, resume, close or destroy other
 * coroutines and register further cleanups (they run next), but cannot
 * yield (coro_yield() fails there with ECANCELED). Only from inside co.
 * Returns 0, or EINVAL (co or fn is NULL), EPERM (co is not the running
 * coroutine), ENOMEM (nothing registered).
 */
CORO_API int coro_defer(coro_t *co, void (*fn)(void *), void *arg);

/*
 * coro_destroy: closes co if it is not dead (see coro_close()), then frees it
 * and its stack. coro_destroy(NULL) does nothing and returns 0.
 * Returns 0, or EBUSY (co is CORO_RUNNING or CORO_NORMAL, or is being
 * delegated to; nothing is freed).
 */
CORO_API int coro_destroy(coro_t *co);

/*
 * coro_status: co's state. A NULL co reads as CORO_DEAD.
 */
CORO_API enum coro_status coro_status(const coro_t *co);

/*
 * coro_current: the coroutine running on the calling thread, or NULL when
 * the thread is not inside any coroutine.
 */
CORO_API coro_t *coro_current(void);

/*
 * coro_backend: the name of the context-switch backend built in:
 * "ucontext" (the default) or "asm" (CMake's CORO_BACKEND), for bug reports.
 */
CORO_API const char *coro_backend(void);

/*
 * Stack tools and names. A coroutine's stack costs only the pages it has
 * touched; these say how many that is, run the occasional deep call
 * elsewhere, and put a name on a coroutine for the overflow report and the
 * debugger (docs/stacks.md: choosing a stack size).
 */

/* The longest name coro_set_name() keeps, its terminating NUL included. */
#define CORO_NAME_MAX 32

/*
 * coro_stack_used: how deep co's stack has been touched: the bytes from
 * its top down to the lowest of its pages in memory, a whole number of
 * pages, its record included (docs/internals.md): a coroutine that has
 * not run, on a fresh stack, reports one page (two with ucontext on
 * AArch64, whose record is bigger than a page). A stack reused on the same
 * thread keeps the pages its last coroutine touched, up to its top 64 KiB
 * (so that they are not touched again at a page fault each), and counts
 * them too: a figure for one body alone wants a stack size that thread
 * has not used since, or a thread of its own (docs/stacks.md). A page the
 * system moved to swap counts as untouched.
 * It reads the system's record of resident pages (mincore(), a call per
 * MiB of stack; on Windows QueryWorkingSetEx(), a call per 256 KiB) and
 * not the stack itself: from any thread, on a coroutine in any state,
 * for one that no other thread is destroying.
 * Returns the bytes, or 0 with errno EINVAL (co is NULL).
 */
CORO_API size_t coro_stack_used(const coro_t *co);

/*
 * coro_stack_size: co's usable stack size: the stack_size it was created
 * with rounded up to whole pages (CORO_DEFAULT_STACK_SIZE for 0), its
 * record included. Returns it, or 0 with errno EINVAL (co is NULL).
 */
CORO_API size_t coro_stack_size(const coro_t *co);

/*
 * coro_call_on_thread_stack: runs fn(arg) on the stack of the thread, not
 * the coroutine's: called inside a running coroutine, fn runs below what
 * the thread's stack held when it resumed the outermost coroutine running
 * on it (the ABI's red zone left alone), and its result is returned on the
 * coroutine's stack. For the one deep call (a resolver, a formatter, a
 * compressor) that a small stack cannot hold. Outside any coroutine it is
 * a plain call. fn starts with its caller's floating-point control state
 * (rounding mode) and signal mask; what it changes of them ends with the
 * call, as each coroutine's own does at a switch. errno is as fn left it.
 * While fn runs, coro_current() is NULL, and the calling coroutine (and
 * every coroutine that resumed it) stays CORO_RUNNING or CORO_NORMAL:
 * coro_yield(), coro_suspend(), coro_yield_from() and coro_defer() on it
 * fail with EPERM, as on any coroutine not running on this thread. fn may
 * create, resume, close and destroy other coroutines, and call
 * coro_call_on_thread_stack() from inside those. Where walks and
 * exceptions cross from a coroutine into its resumer (Stack walks and
 * exceptions, above), a backtrace from inside fn goes on into the calling
 * coroutine's frames, and a C++ exception that escapes fn comes out of
 * this call, in the coroutine.
 * Returns what fn returns, or NULL with errno EINVAL (fn is NULL) or, with
 * the ucontext backend, an error of getcontext() (nothing runs).
 */
CORO_API void *coro_call_on_thread_stack(void *(*fn)(void *), void *arg);

/*
 * coro_set_name: gives co a name, a copy of name truncated to
 * CORO_NAME_MAX - 1 bytes (which may cut a multibyte character; NULL or ""
 * clears it). The stack overflow
 * report and the gdb extension's `info coroutines` show it. Kept in co's
 * record: no memory is allocated, and nothing else costs more for it.
 * Returns 0, or EINVAL (co is NULL).
 */
CORO_API int coro_set_name(coro_t *co, const char *name);

/*
 * coro_name: co's name, or "" when it has none (or co is NULL). The
 * string is co's: valid until the next coro_set_name() or coro_destroy()
 * of co.
 */
CORO_API const char *coro_name(const coro_t *co);

#ifdef __cplusplus
}
#endif

#endif /* CORO_H */
