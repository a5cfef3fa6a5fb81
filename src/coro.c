/*
 * The state machine: create, resume, yield, close, defer, yield_from. It
 * switches only through context.h and gets stacks only through stack.h.
 */
#include "coro.h"

#include <errno.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compiler.h"
#include "context.h"
#include "fault.h"
#include "overflow.h"
#include "sanitizer.h"
#include "stack.h"

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
    /* coro_yield_from() links: the coroutine this one delegates to, and the
     * one delegating to this one (which alone may resume or close it). */
    struct coro *delegate;
    struct coro *delegator;
    struct cleanup *cleanups;
    size_t cleanup_count;
    size_t cleanup_capacity;
    struct coro__stack stack;
    /* This coroutine's context while it is not running. While it runs, a
     * coroutine it resumes saves it here. */
    coro__context *context;
    /* While it runs: the coroutine that resumed it, or NULL for the
     * thread's own stack, and where that resumer waits (the resumer's
     * context, or the thread's home context). */
    struct coro *resumer;
    coro__context *caller_context;
};

/*
 * Per thread: the coroutine running on it, and the context the thread's
 * own stack waits in. A body that yields may be resumed on another thread,
 * and compilers may keep the address of a thread-local variable across a
 * call, so every access goes through functions that are never inlined into
 * code that switches.
 */
static _Thread_local struct {
    struct coro *running;
    /* Where the thread's own stack waits while a coroutine it resumed runs:
     * one context per thread, made on the thread's first resume. */
    coro__context *home;
} this_thread CORO_TLS_MODEL;

static pthread_once_t home_key_once = PTHREAD_ONCE_INIT;
static pthread_key_t home_key;
static bool home_key_ready;

static CORO_NOINLINE struct coro *running_get(void)
{
    return this_thread.running;
}

static CORO_NOINLINE void running_set(struct coro *co)
{
    this_thread.running = co;
}

static void free_home(void *home)
{
    free(home);
    this_thread.home = NULL;
}

static void create_home_key(void)
{
    home_key_ready = pthread_key_create(&home_key, free_home) == 0;
}

static CORO_AT_LOAD void create_home_key_at_load(void)
{
    pthread_once(&home_key_once, create_home_key);
}

/* Gives the thread its home context (freed when the thread exits) and
 * readies it for overflow reports. Returns it, or NULL for ENOMEM. */
static CORO_NOINLINE coro__context *prepare_thread(void)
{
    size_t align = coro__context_align();
    size_t size = (coro__context_size() + align - 1) / align * align;
    coro__context *home;

    pthread_once(&home_key_once, create_home_key);
    if (!home_key_ready)
        return NULL;
    home = coro__fault_injected() ? NULL : aligned_alloc(align, size);
    if (home == NULL)
        return NULL;
    /* A switch fills it in; its sanitizer marks start empty. */
    memset(home, 0, size);
    if (pthread_setspecific(home_key, home) != 0) {
        free(home);
        return NULL;
    }
    coro__overflow_watch_thread();
    this_thread.home = home;
    return home;
}

/*
 * Makes co, which must be resumable, the running coroutine, and returns
 * where its resumer is to wait: the resuming coroutine's own context, free
 * while it runs, or the thread's home context. Returns NULL, having changed
 * nothing, when the thread has no home context and none can be had.
 */
static CORO_NOINLINE coro__context *enter(struct coro *co)
{
    struct coro *resumer = this_thread.running;
    coro__context *save;

    if (resumer != NULL) {
        resumer->status = CORO_NORMAL;
        save = resumer->context;
    } else {
        save = this_thread.home;
        if (save == NULL && (save = prepare_thread()) == NULL)
            return NULL;
    }
    this_thread.running = co;
    co->resumer = resumer;
    co->caller_context = save;
    co->status = CORO_RUNNING;
    return save;
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
 * Switches into co, entered with enter(), which returned save, and returns
 * what co hands back once it yields or ends. Its pending yield returns
 * value; with fn not NULL, fn(value) runs first on co's stack instead (to
 * close it).
 *
 * Nothing is done here after the switch: co, before it switches back, makes
 * the resumer running again (hand_back()), so that this call ends in a tail
 * call of the switch, which the asm backend turns into a jump straight back
 * to the caller. co runs on this thread from here to its switch back, so
 * the thread-local state it restores is this thread's.
 */
static inline void *switch_into(struct coro *co, coro__context *save, void *(*fn)(void *),
                                void *value)
{
    return coro__context_switch(save, co->context, fn, value);
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

/* Runs co's cleanups, last registered first, on co's own stack, then leaves
 * the stack for good with result in the slot. The stack stays co's until
 * coro_destroy(): co lives at its top. */
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
    hand_back(co);
    coro__context_jump(co->caller_context, NULL, result);
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

/*
 * The top of a stack holds the coroutine, then its context, each aligned:
 * the record's bytes, and the context's offset in it. The same for every
 * coroutine, so worked out once (release and acquire: the offset is stored
 * before the bytes that say it is there).
 */
static size_t record_bytes(size_t *context_offset)
{
    static atomic_size_t cached_bytes, cached_offset;
    size_t bytes = atomic_load_explicit(&cached_bytes, memory_order_acquire);
    size_t align, offset;

    if (bytes != 0) {
        *context_offset = atomic_load_explicit(&cached_offset, memory_order_relaxed);
        return bytes;
    }
    align = coro__context_align(); /* a power of two, as are the others */
    if (align < alignof(struct coro))
        align = alignof(struct coro);
    if (align < 16)
        align = 16;
    offset = (sizeof(struct coro) + align - 1) & ~(align - 1);
    bytes = (offset + coro__context_size() + align - 1) & ~(align - 1);
    atomic_store_explicit(&cached_offset, offset, memory_order_relaxed);
    atomic_store_explicit(&cached_bytes, bytes, memory_order_release);
    *context_offset = offset;
    return bytes;
}

coro_t *coro_create(coro_fn fn, void *arg, size_t stack_size)
{
    size_t context_offset, bookkeeping;
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
    coro__overflow_watch_process();

    error = coro__stack_acquire(&stack, stack_size);
    if (error != 0)
        return fail(error);
    /* At the top of the stack, which is page-aligned; the body's frames go
     * below. */
    bookkeeping = record_bytes(&context_offset);
    top = (char *)stack.lo + stack.size;
    co = (struct coro *)(top - bookkeeping);
    /* Field by field: a compound literal here becomes `rep stos`, whose
     * start-up cost was a fifth of a warm create. */
    co->fn = fn;
    co->arg = arg;
    co->status = CORO_CREATED;
    co->ending = false;
    co->delegate = NULL;
    co->delegator = NULL;
    co->cleanups = NULL;
    co->cleanup_count = 0;
    co->cleanup_capacity = 0;
    co->stack = stack;
    co->context = (coro__context *)((char *)co + context_offset);
    co->resumer = NULL;
    co->caller_context = NULL;
    error = coro__context_make(co->context, stack.lo, stack.size - bookkeeping, coro_main, co);
    if (error != 0) {
        coro__stack_release(&stack);
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

/* Checks that co can be resumed with value and enters it: returns where the
 * resumer waits, or NULL with the error in *error and nothing changed. */
static coro__context *enter_checked(struct coro *co, const void *value, int *error)
{
    coro__context *save;

    *error = resume_error(co, value);
    if (*error != 0)
        return NULL;
    save = enter(co);
    if (save == NULL)
        *error = ENOMEM;
    return save;
}

int coro_resume(coro_t *co, void *value, void **out)
{
    int error;
    coro__context *save = enter_checked(co, value, &error);
    void *result;

    if (save == NULL)
        return error;
    result = switch_into(co, save, NULL, value);
    if (out != NULL)
        *out = result;
    return 0;
}

void *coro_send(coro_t *co, void *value)
{
    int error;
    coro__context *save = enter_checked(co, value, &error);

    return save != NULL ? switch_into(co, save, NULL, value) : fail(error);
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

        /* co is running: sub's resumer waits in co's context. */
        value = switch_into(sub, enter(sub), NULL, sent);
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
        return 0;
    case CORO_SUSPENDED:
        if (co->cleanup_count == 0 && co->delegate == NULL &&
            !(CORO_SANITIZER_FIBERS && coro__context_must_finish(co->context))) {
            /* Nothing would run on its stack: no need to switch into it. */
            co->ending = true;
            co->status = CORO_DEAD;
        } else {
            coro__context *save = enter(co);

            if (save == NULL)
                return ENOMEM;
            /* Its pending yield never returns: finish() runs instead. */
            co->ending = true;
            switch_into(co, save, finish_closed, co);
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
    struct coro__stack stack;
    int error;

    if (co == NULL)
        return 0;
    error = coro_close(co);
    if (error != 0)
        return error;
    /* co lives on the stack it releases. */
    stack = co->stack;
    if (CORO_SANITIZER_FIBERS)
        coro__context_release(co->context);
    if (co->cleanups != NULL)
        free(co->cleanups);
    coro__stack_release(&stack);
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
