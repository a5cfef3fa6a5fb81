/*
 * The state machine: create, resume, yield, close, defer, yield_from. It
 * switches only through context.h and gets stacks only through stack.h.
 */
#include "coro.h"

#include <errno.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "context.h"
#include "fault.h"
#include "overflow.h"
#include "stack.h"

struct cleanup {
    void (*fn)(void *);
    void *arg;
};

struct coro {
    coro_fn fn;
    void *arg;
    enum coro_status status;
    /* Set once the coroutine is ending: a close was asked for, or its
     * cleanups are running. Yields fail from then on. */
    bool ending;
    /* What the body returned, handed to the resumer by release_dead(). */
    void *transfer;
    /* coro_yield_from() links: the coroutine this one delegates to, and the
     * one delegating to this one (which alone may resume or close it). */
    struct coro *delegate;
    struct coro *delegator;
    struct cleanup *cleanups;
    size_t cleanup_count;
    size_t cleanup_capacity;
    struct coro__stack stack;
    coro__context *context;        /* this coroutine's, while it is not running */
    coro__context *caller_context; /* its resumer's, while it is running */
    /* While it runs: the coroutine that resumed it, or NULL for none. */
    struct coro *resumer;
};

/*
 * Per thread: the coroutine running on it, and whether the thread was made
 * ready for overflow reports. A body that yields may be resumed on another
 * thread, and compilers may keep the address of a thread-local variable
 * across a call, so every access goes through these functions, which are
 * never inlined into code that switches.
 */
#if defined(__GNUC__)
#define CORO_NOINLINE __attribute__((noinline))
/* Static TLS even in a shared library: the overflow handler reads it from
 * a signal handler, where the lazy allocation of dynamic TLS could call
 * malloc() on a thread that has never run a coroutine. */
#define CORO_TLS_MODEL __attribute__((tls_model("initial-exec")))
#else
#define CORO_NOINLINE
#define CORO_TLS_MODEL
#endif

static _Thread_local struct {
    struct coro *running;
    bool watched;
} this_thread CORO_TLS_MODEL;

static CORO_NOINLINE struct coro *running_get(void)
{
    return this_thread.running;
}

static CORO_NOINLINE void running_set(struct coro *co)
{
    this_thread.running = co;
}

/* Makes co the running coroutine and returns the one it replaces; the first
 * time on a thread, readies the thread for overflow reports. */
static CORO_NOINLINE struct coro *running_replace(struct coro *co)
{
    struct coro *previous = this_thread.running;

    if (!this_thread.watched) {
        this_thread.watched = true;
        coro__overflow_watch_thread();
    }
    this_thread.running = co;
    return previous;
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
 * Switches into co and returns what it hands back, once it yields or ends.
 * Its pending yield returns value; with fn not NULL, fn(value) runs first on
 * co's stack instead (to close it). All checks are the caller's.
 *
 * Nothing is done here after the switch: co, before it switches back, makes
 * the resumer running again (hand_back()), so that this call ends in a tail
 * call of the switch, which the asm backend turns into a jump straight back
 * to the caller. co runs on this thread from here to its switch back, so
 * the thread-local state it restores is this thread's.
 */
static void *switch_into(struct coro *co, void *(*fn)(void *), void *value)
{
    struct coro *resumer = running_replace(co);

    co->resumer = resumer;
    if (resumer != NULL)
        resumer->status = CORO_NORMAL;
    co->status = CORO_RUNNING;
    return coro__context_switch(co->caller_context, co->context, fn, value);
}

/* What co's resumer finds on return from switch_into(), done by co just
 * before it switches back (co has its new status already). */
static void hand_back(struct coro *co)
{
    struct coro *resumer = co->resumer;

    running_set(resumer);
    if (resumer != NULL)
        resumer->status = CORO_RUNNING;
}

/* Run on the resumer's stack on arrival from a coroutine that ended: its
 * stack is free once nothing runs on it. */
static void *release_dead(void *arg)
{
    struct coro *co = arg;

    coro__stack_release(&co->stack);
    return co->transfer;
}

/* Runs co's cleanups, last registered first, on co's own stack, then leaves
 * the stack for good with result in the slot. */
static _Noreturn void finish(struct coro *co, void *result)
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
    co->transfer = result;
    hand_back(co);
    coro__context_jump(co->caller_context, release_dead, co);
}

/* Run on co's stack on arrival from coro_close(), in place of the return of
 * co's pending yield, which never returns. */
static _Noreturn void *finish_closed(void *arg)
{
    finish(arg, NULL);
}

static _Noreturn void coro_main(void *arg)
{
    struct coro *co = arg;

    finish(co, co->fn(co, co->arg));
}

/* Hands value to co's resumer and waits to be resumed again. Returns the
 * value sent, or never returns when co is closed meanwhile (the close
 * switches in to finish_closed() instead). Nothing is done after the
 * switch: see switch_into(). */
static void *suspend(struct coro *co, void *value)
{
    co->status = CORO_SUSPENDED;
    hand_back(co);
    return coro__context_switch(co->context, co->caller_context, NULL, value);
}

coro_t *coro_create(coro_fn fn, void *arg, size_t stack_size)
{
    size_t context_size = coro__context_size();
    size_t align = coro__context_align();
    size_t head, total;
    struct coro *co;
    char *block;
    int error;

    if (fn == NULL)
        return fail(EINVAL);
    if (stack_size == 0)
        stack_size = CORO_DEFAULT_STACK_SIZE;
    else if (stack_size < CORO_MIN_STACK_SIZE)
        return fail(EINVAL);
    coro__overflow_watch_process();

    /* One allocation holds the coroutine and both contexts. */
    if (align < alignof(struct coro))
        align = alignof(struct coro);
    head = (sizeof(struct coro) + align - 1) / align * align;
    total = (head + 2 * context_size + align - 1) / align * align;
    block = coro__fault_injected() ? NULL : aligned_alloc(align, total);
    if (block == NULL)
        return fail(ENOMEM);
    /* The contexts need no clearing: co->context is made below, and a switch
     * writes every field of caller_context before anything reads it. */
    co = (struct coro *)block;
    *co = (struct coro){
        .fn = fn,
        .arg = arg,
        .status = CORO_CREATED,
        .context = (coro__context *)(block + head),
        .caller_context = (coro__context *)(block + head + context_size),
    };

    error = coro__stack_acquire(&co->stack, stack_size);
    if (error == 0) {
        error = coro__context_make(co->context, co->stack.lo, co->stack.size, coro_main, co);
        if (error != 0)
            coro__stack_release(&co->stack);
    }
    if (error != 0) {
        free(block);
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
    void *result;
    int error = resume_error(co, value);

    if (error != 0)
        return error;
    result = switch_into(co, NULL, value);
    if (out != NULL)
        *out = result;
    return 0;
}

void *coro_send(coro_t *co, void *value)
{
    int error = resume_error(co, value);

    return error == 0 ? switch_into(co, NULL, value) : fail(error);
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
    if (co != running_get())
        return EPERM;
    if (co->ending)
        return ECANCELED;
    return 0;
}

void *coro_yield(coro_t *co, void *value)
{
    int error = yield_error(co);

    if (error != 0)
        return fail(error);
    return suspend(co, value);
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
        void *sent = suspend(co, value);

        value = switch_into(sub, NULL, sent);
    }
    co->delegate = NULL;
    sub->delegator = NULL;
    return value;
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
        co->transfer = NULL;
        coro__stack_release(&co->stack);
        return 0;
    case CORO_SUSPENDED:
        co->ending = true;
        if (co->cleanup_count == 0 && co->delegate == NULL &&
            !coro__context_must_finish(co->context)) {
            /* Nothing would run on its stack: no need to switch into it. */
            co->status = CORO_DEAD;
            co->transfer = NULL;
            coro__stack_release(&co->stack);
        } else {
            /* Its pending yield never returns: finish() runs instead. */
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
    if (co != running_get())
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
    int error;

    if (co == NULL)
        return 0;
    error = coro_close(co);
    if (error != 0)
        return error;
    coro__context_release(co->context);
    coro__stack_release(&co->stack);
    free(co->cleanups);
    free(co);
    return 0;
}

const struct coro__stack *coro__stack_of(const struct coro *co)
{
    return &co->stack;
}

struct coro *coro__running(void)
{
    return running_get();
}

enum coro_status coro_status(const coro_t *co)
{
    return co == NULL ? CORO_DEAD : co->status;
}

coro_t *coro_current(void)
{
    return running_get();
}

const char *coro_backend(void)
{
    return coro__context_backend();
}
