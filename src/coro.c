/*
 * The state machine: create, resume, yield, throw, close, defer,
 * yield_from, and a call on the thread's stack; and what the record keeps
 * (names, the stack's figures). It switches only through context.h and
 * gets stacks only through stack.h.
 */
#include "coro.h"

#include <errno.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compiler.h"
#include "context.h"
#include "debugger.h"
#include "invariant.h"
#include "test_hooks.h"
#include "overflow.h"
#include "sanitizer.h"
#include "stack.h"
#include "thread.h"

struct cleanup {
    void (*fn)(void *);
    void *arg;
};

/*
 * A coroutine lives at the top of its own stack, with its context just
 * above it: a suspended coroutine then costs its touched stack pages and
 * nothing more, and a warm create allocates nothing. The body's frames
 * start below them.
 */
struct coro {
    coro_fn fn;
    void *arg;
    enum coro_status status;
    /* Set once the coroutine is ending: a close was asked for, or its
     * cleanups are running. Yields fail from then on. */
    bool ending;
    /* Its pending yield is a checked one (coro_suspend(), or the wait in
     * coro_yield_from()), which takes a thrown error from `thrown`; a plain
     * coro_yield() takes it in errno. */
    bool checked_yield;
    /* The error coro_throw() is delivering, until the pending yield takes
     * it. */
    int thrown;
    /* coro_yield_from() links: the coroutine this one delegates to, and the
     * one delegating to this one (which alone may resume or close it). */
    struct coro *delegate;
    struct coro *delegator;
    struct cleanup *cleanups;
    size_t cleanup_count;
    size_t cleanup_capacity;
    char name[CORO_NAME_MAX]; /* coro_set_name()'s, or "" */
    struct coro__stack stack;
    /* While it runs: the coroutine that resumed it, or NULL for the
     * thread's own stack. */
    struct coro *resumer;
    /* Its context, and its resumer's while it runs: coro__context_size()
     * bytes, at a fixed offset so that a switch finds them without a load. */
    alignas(16) unsigned char context[];
};

/* For debuggers: see debugger.h. */
CORO_KEEP const struct coro__debug coro__debug = {
    .version = CORO__DEBUG_VERSION,
    .coro_bytes = sizeof(struct coro),
    .registers = CORO__DEBUG_REGISTERS,
    .stacks = &coro__debug_stacks,
    .context = &coro__debug_context,
    .fn = offsetof(struct coro, fn),
    .arg = offsetof(struct coro, arg),
    .status = offsetof(struct coro, status),
    .delegate = offsetof(struct coro, delegate),
    .delegator = offsetof(struct coro, delegator),
    .resumer = offsetof(struct coro, resumer),
    .stack_lo = offsetof(struct coro, stack) + offsetof(struct coro__stack, lo),
    .stack_size = offsetof(struct coro, stack) + offsetof(struct coro__stack, size),
    .context_at = offsetof(struct coro, context),
    .name = offsetof(struct coro, name),
    .name_max = CORO_NAME_MAX,
};

static inline coro__context *context_of(struct coro *co)
{
    return (coro__context *)co->context;
}

/* The first of the coroutines running on this thread, whose resumer is the
 * thread on its own stack. */
static struct coro *outermost(struct coro *running)
{
    struct coro *outer = running;

    while (outer->resumer != NULL)
        outer = outer->resumer;
    return outer;
}

/* For thread.c: the thread is ending inside running (thread.h). The
 * coroutines running on it stay so, with their stacks: nothing can tell
 * when the program stops using them. */
static void thread_ends_inside(struct coro *running)
{
    coro__context_thread_ends(context_of(outermost(running)));
}

/* Readies the thread for coroutines (its alternate signal stack for the
 * overflow report), before the first one runs on it. */
static CORO_NOINLINE void prepare_thread(void)
{
    coro__thread_prepare(coro__overflow_handler_installed(), thread_ends_inside);
}

/* For the overflow handler: the running coroutine, its name and its
 * stack. */
static const struct coro__stack *running_stack(const void **co, const char **name)
{
    struct coro *running = coro__thread_here()->running;

    *co = running;
    *name = running != NULL ? running->name : "";
    return running != NULL ? &running->stack : NULL;
}

/* Makes co, which must be resumable, the running coroutine. */
static CORO_ALWAYS_INLINE void enter(struct coro *co)
{
    struct coro__thread *thread = coro__thread_here();
    struct coro *resumer = thread->running;

    CORO_INVARIANT(co->status == CORO_CREATED || co->status == CORO_SUSPENDED);
    CORO_INVARIANT(resumer == NULL || resumer->status == CORO_RUNNING);
    if (resumer != NULL)
        resumer->status = CORO_NORMAL;
    else if (!thread->ready)
        prepare_thread();
    thread->running = co;
    co->resumer = resumer;
    co->status = CORO_RUNNING;
}

static void *fail(int error)
{
    errno = error;
    return NULL;
}

/* Why co cannot be resumed, closed or destroyed by a caller, or 0. */
static int busy_error(const coro_t *co)
{
    if (co->status == CORO_RUNNING || co->status == CORO_NORMAL || co->delegator != NULL)
        return EBUSY;
    return 0;
}

/*
 * Switches into co, entered with enter(), and returns what co hands back
 * once it yields or ends. Its pending yield returns value; with fn not
 * NULL, fn(value) runs first on co's stack instead (to close it).
 *
 * Nothing is done here after the switch: co, before it switches back, makes
 * the resumer running again (hand_back()), so that this call ends in a tail
 * call of the switch, which the asm backend turns into a jump straight back
 * to the caller. co runs on this thread from here to its switch back, so
 * the thread-local state it restores is this thread's.
 */
static CORO_ALWAYS_INLINE void *switch_into(struct coro *co, void *(*fn)(void *), void *value)
{
    return coro__context_resume(context_of(co), fn, value);
}

/* What co's resumer finds on return from switch_into(), done by co just
 * before it switches back (co has its new status already). */
static CORO_ALWAYS_INLINE void hand_back(struct coro *co)
{
    struct coro *resumer = co->resumer;

    CORO_INVARIANT(coro__thread_here()->running == co);
    CORO_INVARIANT(resumer == NULL || resumer->status == CORO_NORMAL);
    coro__thread_here()->running = resumer;
    if (resumer != NULL)
        resumer->status = CORO_RUNNING;
}

/* Runs co's cleanups, last registered first, on co's own stack, then leaves
 * the stack for good with result in the slot, or, with exception not NULL,
 * to raise it again in the resumer. The stack stays co's until
 * coro_destroy(): co lives at its top. */
static CORO_NOINLINE _Noreturn void finish(struct coro *co, void *exception, void *result)
{
    co->ending = true;
    if (co->delegate != NULL) {
        struct coro *sub = co->delegate;

        co->delegate = NULL;
        sub->delegator = NULL;
        coro_close(sub);
    }
    while (co->cleanup_count > 0) {
        /* Popped before the call: a cleanup may register another one. */
        struct cleanup cleanup = co->cleanups[--co->cleanup_count];

        cleanup.fn(cleanup.arg);
    }
    co->status = CORO_DEAD;
    hand_back(co);
    if (exception != NULL)
        coro__context_raise(context_of(co), exception);
    coro__context_return(context_of(co), result);
}

/* Run on co's stack on arrival from coro_close(), in place of the return of
 * co's pending yield, which never returns. */
static _Noreturn void *finish_closed(void *arg)
{
    finish(arg, NULL, NULL);
}

/* An exception that escaped the body ends co as a return would, and goes on
 * in the resumer, out of the call that resumed co. When co was delegated
 * to, its delegator's coro_yield_from() is that call: the delegation ends
 * here, as that loop is left by the exception. */
static _Noreturn void finish_raised(struct coro *co, void *exception)
{
    if (co->delegator != NULL) {
        co->delegator->delegate = NULL;
        co->delegator = NULL;
    }
    finish(co, exception, NULL);
}

static _Noreturn void coro_main(void *arg, void *exception)
{
    struct coro *co = arg;

    if (exception != NULL)
        finish_raised(co, exception);
    finish(co, NULL, co->fn(co, co->arg));
}

/* Hands value to co's resumer and waits to be resumed again. Returns the
 * value sent, or never returns when co is closed meanwhile (the close
 * switches in to finish_closed() instead). Nothing is done after the
 * switch: see switch_into(). */
static CORO_ALWAYS_INLINE void *suspend(struct coro *co, void *value)
{
    CORO_INVARIANT(co->status == CORO_RUNNING && !co->ending);
    co->status = CORO_SUSPENDED;
    hand_back(co);
    return coro__context_yield(context_of(co), value);
}

/* The calling thread's stack cache, or NULL while the thread has no block
 * (thread.h). */
static inline struct coro__stack_cache *stack_cache_here(void)
{
    struct coro__thread_block *block = coro__thread_here()->block;

    return block != NULL ? &block->stack_cache : NULL;
}

/* The same from anywhere (after a switch too), the block made on first
 * use; NULL when it cannot be: stacks then go straight to the pool. */
static struct coro__stack_cache *stack_cache_made(void)
{
    struct coro__thread_block *block = coro__thread_block();

    return block != NULL ? &block->stack_cache : NULL;
}

/* The coroutine and its context, at the top of its stack (as debugger.h
 * tells debuggers). */
static size_t record_bytes(void)
{
    return sizeof(struct coro) + ((coro__context_size() + 15) & ~(size_t)15);
}

coro_t *coro_create(coro_fn fn, void *arg, size_t stack_size)
{
    size_t record;
    struct coro__stack stack;
    struct coro *co;
    char *top;
    int error;

    if (fn == NULL)
        return fail(EINVAL);
    if (stack_size == 0)
        stack_size = CORO_DEFAULT_STACK_SIZE;
    else if (stack_size < CORO_MIN_STACK_SIZE)
        return fail(EINVAL);
    coro__overflow_watch_process(running_stack);

    error = coro__stack_acquire(stack_cache_here(), &stack, stack_size);
    if (error != 0)
        return fail(error);
    /* At the top of the stack, which is page-aligned; the body's frames go
     * below. */
    record = record_bytes();
    top = (char *)stack.lo + stack.size;
    CORO_INVARIANT(stack.size >= stack_size && stack.size > record);
    co = (struct coro *)(top - record);
    /* Field by field: a compound literal here becomes `rep stos`, whose
     * start-up cost was a fifth of a warm create. */
    co->fn = fn;
    co->arg = arg;
    co->status = CORO_CREATED;
    co->ending = false;
    co->checked_yield = false;
    co->thrown = 0;
    co->delegate = NULL;
    co->delegator = NULL;
    co->cleanups = NULL;
    co->cleanup_count = 0;
    co->cleanup_capacity = 0;
    co->name[0] = '\0';
    co->stack = stack;
    co->resumer = NULL;
    error = coro__context_make(context_of(co), stack.lo, stack.size - record, coro_main, co);
    if (error != 0) {
        co->fn = NULL; /* not a coroutine, to a debugger */
        coro__stack_release(stack_cache_made(), &stack);
        return fail(error);
    }
    return co;
}

/* Why co cannot be resumed with value, or 0. */
static int resume_error(const coro_t *co, const void *value)
{
    if (co == NULL)
        return EINVAL;
    if (busy_error(co) != 0)
        return EBUSY;
    if (co->status == CORO_DEAD)
        return ESRCH;
    if (co->status == CORO_CREATED && value != NULL)
        return EINVAL;
    return 0;
}

int coro_resume(coro_t *co, void *value, void **out)
{
    int error = resume_error(co, value);
    void *result;

    if (error != 0)
        return error;
    enter(co);
    result = switch_into(co, NULL, value);
    if (out != NULL)
        *out = result;
    return 0;
}

/* coro_send() of anything but a suspended coroutine, on a thread that has
 * run one before: the checks in full. */
static CORO_NOINLINE void *send_slowly(coro_t *co, void *value)
{
    int error = resume_error(co, value);

    if (error != 0)
        return fail(error);
    enter(co);
    return switch_into(co, NULL, value);
}

/* The common case, kept to what it needs: no call before the switch, and
 * so no frame of its own. */
CORO_HOT_ENTRY void *coro_send(coro_t *co, void *value)
{
    if (co == NULL || co->status != CORO_SUSPENDED || co->delegator != NULL ||
        !coro__thread_here()->ready)
        return send_slowly(co, value);
    enter(co);
    return switch_into(co, NULL, value);
}

void *coro_next(coro_t *co)
{
    return coro_send(co, NULL);
}

/* Why co cannot yield now, or 0. */
static int yield_error(const coro_t *co)
{
    if (co == NULL)
        return EINVAL;
    if (co != coro__thread_here()->running)
        return EPERM;
    if (co->ending)
        return ECANCELED;
    return 0;
}

static CORO_NOINLINE void *fail_yield(const coro_t *co)
{
    return fail(yield_error(co));
}

CORO_HOT_ENTRY void *coro_yield(coro_t *co, void *value)
{
    if (yield_error(co) != 0)
        return fail_yield(co);
    return suspend(co, value);
}

/* Run on co's stack on arrival from a throw, in place of the return of
 * co's pending yield: a checked yield finds the error in co->thrown; a
 * plain coro_yield() returns NULL with it in errno. */
static void *deliver_throw(void *arg)
{
    struct coro *co = arg;

    if (!co->checked_yield) {
        errno = co->thrown;
        co->thrown = 0;
    }
    return NULL;
}

/* Resumes co, which must be suspended, so that its pending yield fails
 * with error; returns what co hands back next. */
static CORO_ALWAYS_INLINE void *throw_into(struct coro *co, int error)
{
    co->thrown = error;
    enter(co);
    return switch_into(co, deliver_throw, co);
}

/* Suspends co as coro_suspend() does: returns the error thrown in, or 0
 * with the value sent in *sent. */
static CORO_ALWAYS_INLINE int suspend_checked(struct coro *co, void *value, void **sent)
{
    int thrown;

    co->checked_yield = true;
    *sent = suspend(co, value);
    co->checked_yield = false;
    thrown = co->thrown;
    co->thrown = 0;
    return thrown;
}

int coro_suspend(coro_t *co, void *value, void **received)
{
    int error = yield_error(co);
    void *sent;

    if (error != 0)
        return error;
    error = suspend_checked(co, value, &sent);
    if (error == 0 && received != NULL)
        *received = sent;
    return error;
}

/* coro_yield_from()'s loop goes on after switches: it reaches the
 * thread-local state only through these (thread.h). */
static CORO_NOINLINE int suspend_checked_after_switch(struct coro *co, void *value, void **sent)
{
    return suspend_checked(co, value, sent);
}

/* Hands sub what its delegator was sent: the value, or the error thrown. */
static CORO_NOINLINE void *pass_to_delegate(struct coro *sub, int thrown, void *sent)
{
    if (thrown != 0)
        return throw_into(sub, thrown);
    enter(sub);
    return switch_into(sub, NULL, sent);
}

void *coro_yield_from(coro_t *co, coro_t *sub)
{
    void *value;
    int error;

    if (sub == NULL)
        return fail(EINVAL);
    error = yield_error(co);
    if (error != 0)
        return fail(error);
    error = coro_resume(sub, NULL, &value);
    if (error != 0)
        return fail(error);

    co->delegate = sub;
    sub->delegator = co;
    while (sub->status != CORO_DEAD) {
        /* If co is closed here, finish() closes sub before co's cleanups. */
        void *sent;
        int thrown = suspend_checked_after_switch(co, value, &sent);

        value = pass_to_delegate(sub, thrown, sent);
    }
    co->delegate = NULL;
    sub->delegator = NULL;
    return value;
}

int coro_throw(coro_t *co, int error, void **out)
{
    int busy;
    void *result;

    if (co == NULL || error <= 0)
        return EINVAL;
    busy = busy_error(co);
    if (busy != 0)
        return busy;
    switch (co->status) {
    case CORO_CREATED: /* as Python: a generator thrown into before it starts is closed */
        co->status = CORO_DEAD;
        result = NULL;
        break;
    case CORO_SUSPENDED:
        result = throw_into(co, error);
        break;
    default: /* CORO_DEAD: busy_error() took RUNNING and NORMAL */
        return ESRCH;
    }
    if (out != NULL)
        *out = result;
    return 0;
}

int coro_close(coro_t *co)
{
    int error;

    if (co == NULL)
        return EINVAL;
    error = busy_error(co);
    if (error != 0)
        return error;
    switch (co->status) {
    case CORO_CREATED:
        co->status = CORO_DEAD;
        return 0;
    case CORO_SUSPENDED:
        co->ending = true;
        if (co->cleanup_count == 0 && co->delegate == NULL &&
            !coro__context_must_finish(context_of(co))) {
            /* Nothing would run on its stack: no need to switch into it. */
            co->status = CORO_DEAD;
        } else {
            /* Its pending yield never returns: finish() runs instead. */
            enter(co);
            switch_into(co, finish_closed, co);
        }
        return 0;
    default: /* CORO_DEAD: busy_error() took RUNNING and NORMAL */
        return 0;
    }
}

int coro_defer(coro_t *co, void (*fn)(void *), void *arg)
{
    if (co == NULL || fn == NULL)
        return EINVAL;
    if (co != coro__thread_running())
        return EPERM;
    if (co->cleanup_count == co->cleanup_capacity) {
        size_t capacity = co->cleanup_capacity ? 2 * co->cleanup_capacity : 4;
        struct cleanup *grown;

        if (capacity > SIZE_MAX / sizeof *grown)
            return ENOMEM;
        grown = coro__fault_injected() ? NULL : realloc(co->cleanups, capacity * sizeof *grown);
        if (grown == NULL)
            return ENOMEM;
        co->cleanups = grown;
        co->cleanup_capacity = capacity;
    }
    co->cleanups[co->cleanup_count++] = (struct cleanup){fn, arg};
    return 0;
}

int coro_destroy(coro_t *co)
{
    struct coro__stack stack;
    int error;

    if (co == NULL)
        return 0;
    error = coro_close(co);
    if (error != 0)
        return error;
    /* co lives on the stack it releases, which may go to a cache as it is:
     * a debugger must not take it for a live coroutine. */
    stack = co->stack;
    co->fn = NULL;
    coro__context_release(context_of(co));
    free(co->cleanups);
    coro__stack_release(stack_cache_made(), &stack);
    return 0;
}

enum coro_status coro_status(const coro_t *co)
{
    return co == NULL ? CORO_DEAD : co->status;
}

coro_t *coro_current(void)
{
    return coro__thread_running();
}

const char *coro_backend(void)
{
    return coro__context_backend();
}

size_t coro_stack_used(const coro_t *co)
{
    if (co == NULL) {
        errno = EINVAL;
        return 0;
    }
    return coro__stack_touched(&co->stack);
}

size_t coro_stack_size(const coro_t *co)
{
    if (co == NULL) {
        errno = EINVAL;
        return 0;
    }
    return co->stack.size;
}

int coro_set_name(coro_t *co, const char *name)
{
    size_t length = 0;

    if (co == NULL)
        return EINVAL;
    if (name != NULL) {
        while (length < CORO_NAME_MAX - 1 && name[length] != '\0')
            length++;
        memcpy(co->name, name, length);
    }
    co->name[length] = '\0';
    return 0;
}

const char *coro_name(const coro_t *co)
{
    return co != NULL ? co->name : "";
}

/*
 * A call of coro_call_on_thread_stack() in progress: on the thread's stack,
 * just above the frames of the call, with the context they run in.
 */
struct thread_stack_call {
    void *(*fn)(void *);
    void *arg;
    struct coro *caller;
    alignas(16) unsigned char context[]; /* coro__context_size() bytes */
};

/* The call's root, on the thread's stack. Whatever fn does, it returns
 * here on this thread (the caller cannot yield meanwhile, and every
 * coroutine fn resumes switches back to it), so the thread-local record is
 * this thread's throughout. */
static _Noreturn void call_on_thread_stack(void *arg, void *exception)
{
    struct thread_stack_call *call = arg;
    coro__context *ctx = (coro__context *)call->context;
    void *result = NULL;

    if (exception == NULL)
        result = call->fn(call->arg);
    /* The caller runs again from the switch back (see hand_back()). */
    coro__thread_here()->running = call->caller;
    if (exception != NULL)
        coro__context_raise(ctx, exception);
    coro__context_return(ctx, result);
}

void *coro_call_on_thread_stack(void *(*fn)(void *), void *arg)
{
    struct coro *caller = coro__thread_here()->running;
    struct coro *outer;
    struct thread_stack_call *call;
    coro__context *ctx;
    char *top;
    size_t bytes = sizeof *call + ((coro__context_size() + 15) & ~(size_t)15);
    void *result;
    int error;

    if (fn == NULL)
        return fail(EINVAL);
    if (caller == NULL)
        return fn(arg);
    outer = outermost(caller);
    top = coro__context_resumer_stack_top(context_of(outer));
    call = (struct thread_stack_call *)((uintptr_t)(top - bytes) & ~(uintptr_t)15);
    /* Below the thread's stack pointer as the tools last saw it. */
    coro__valgrind_in_use(call, bytes);
    coro__asan_unpoison(call, bytes);
    call->fn = fn;
    call->arg = arg;
    call->caller = caller;
    ctx = (coro__context *)call->context;
    error = coro__context_make_on_resumer_stack(ctx, context_of(outer), (char *)call,
                                                call_on_thread_stack, call);
    if (error != 0)
        return fail(error);
    coro__thread_here()->running = NULL;
    result = coro__context_resume(ctx, NULL, NULL);
    /* Back on the caller's stack, on the same thread, which ran only the
     * call meanwhile. */
    coro__context_release(ctx);
    return result;
}
