/*
 * The reference backend: POSIX getcontext/makecontext/swapcontext. glibc's
 * swapcontext also switches the signal mask, so every switch costs one
 * rt_sigprocmask system call; in exchange each coroutine keeps its own mask
 * and glibc manages shadow stacks where the CPU and kernel enable them.
 */
#define _GNU_SOURCE /* ucontext in glibc, and its x86 __fpregs_mem */

#include "context.h"
#include "sanitizer.h"

#include <errno.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

struct coro__context {
    ucontext_t uc;
    /* Where the trampoline goes: makecontext() passes only ints. */
    void (*entry)(void *);
    void *arg;
    /* For the sanitizers: the stack this context runs on (for a context
     * saved by a switch, learnt from ASan on arrival), its fake stack while
     * it is switched out, its TSan fiber, and who switched to it last. */
    const void *stack_bottom;
    size_t stack_size;
    void *fake_stack;
    void *tsan_fiber;
    struct coro__context *switched_from;
};

size_t coro__context_size(void)
{
    return sizeof(struct coro__context);
}

size_t coro__context_align(void)
{
    return alignof(struct coro__context);
}

/* makecontext() passes int arguments only, so the context's address arrives
 * split into two 32-bit halves (the high half is 0 on 32-bit targets). */
/* Every arrival in a context, the first in the trampoline included: tell
 * ASan, and learn from it which stack the context that came here is on. */
static void arrived(struct coro__context *self)
{
    struct coro__context *from = self->switched_from;

    if (from != NULL)
        coro__asan_switch_end(self->fake_stack, &from->stack_bottom, &from->stack_size);
    else
        coro__asan_switch_end(self->fake_stack, NULL, NULL);
}

static void trampoline(int hi, int lo)
{
    uintptr_t bits = ((uintptr_t)(unsigned)hi << 16 << 16) | (uintptr_t)(unsigned)lo;
    struct coro__context *ctx = (struct coro__context *)bits;

    arrived(ctx);
    ctx->entry(ctx->arg);
    /* entry leaves by coro__context_jump(); returning here would end the
     * thread (uc_link is NULL), so stop loudly instead. */
    abort();
}

/*
 * makecontext() needs a context that getcontext() filled, and getcontext()
 * is a system call (it reads the signal mask). Where the layout is known,
 * each thread fills one template and new contexts copy it: a coroutine then
 * starts with the signal mask its creating thread had when it first created
 * one. glibc's x86 ucontext_t points into itself for the FPU state, so a
 * copy is re-pointed at its own.
 */
#if defined(__GLIBC__) && (defined(__x86_64__) || defined(__i386__))
static _Thread_local ucontext_t thread_template;
static _Thread_local int thread_template_ready;

static int fill_context(ucontext_t *uc)
{
    if (!thread_template_ready) {
        if (getcontext(&thread_template) != 0)
            return errno;
        thread_template_ready = 1;
    }
    memcpy(uc, &thread_template, sizeof *uc);
    uc->uc_mcontext.fpregs = &uc->__fpregs_mem;
    return 0;
}
#else
static int fill_context(ucontext_t *uc)
{
    return getcontext(uc) == 0 ? 0 : errno;
}
#endif

int coro__context_make(coro__context *ctx, void *stack_lo, size_t stack_size,
                       void (*entry)(void *), void *arg)
{
    uintptr_t bits = (uintptr_t)ctx;
    int error = fill_context(&ctx->uc);

    if (error != 0)
        return error;
    ctx->uc.uc_stack.ss_sp = stack_lo;
    ctx->uc.uc_stack.ss_size = stack_size;
    ctx->uc.uc_stack.ss_flags = 0;
    ctx->uc.uc_link = NULL;
    ctx->entry = entry;
    ctx->arg = arg;
    ctx->stack_bottom = stack_lo;
    ctx->stack_size = stack_size;
    ctx->fake_stack = NULL;
    ctx->switched_from = NULL;
    ctx->tsan_fiber = coro__tsan_fiber_create();
    makecontext(&ctx->uc, (void (*)(void))trampoline, 2,
                (int)(unsigned)(bits >> 16 >> 16), (int)(unsigned)(bits & 0xffffffffu));
    return 0;
}

void coro__context_release(coro__context *ctx)
{
    coro__tsan_fiber_destroy(ctx->tsan_fiber);
    ctx->tsan_fiber = NULL;
}

void coro__context_switch(coro__context *save, coro__context *to)
{
    /* A context is saved by whatever fiber runs it: a coroutine's own, or
     * the thread's, which changes as threads resume the coroutine. */
    save->tsan_fiber = coro__tsan_fiber_current();
    to->switched_from = save;
    coro__asan_switch_begin(&save->fake_stack, to->stack_bottom, to->stack_size);
    coro__tsan_fiber_switch(to->tsan_fiber);
    /* Fails only for a context that getcontext never filled: a bug here. */
    if (swapcontext(&save->uc, &to->uc) != 0)
        abort();
    arrived(save);
}

_Noreturn void coro__context_jump(coro__context *to)
{
    to->switched_from = NULL;
    coro__asan_switch_begin(NULL, to->stack_bottom, to->stack_size);
    coro__tsan_fiber_switch(to->tsan_fiber);
    setcontext(&to->uc);
    abort();
}

const char *coro__context_backend(void)
{
    return "ucontext";
}
