/*
 * The reference backend: POSIX getcontext/makecontext/swapcontext. glibc's
 * swapcontext also switches the signal mask, so every switch costs one
 * rt_sigprocmask system call; in exchange each coroutine keeps its own mask
 * and glibc manages shadow stacks where the CPU and kernel enable them.
 */
#define _XOPEN_SOURCE 700 /* ucontext in glibc */

#include "context.h"

#include <errno.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <ucontext.h>

struct coro__context {
    ucontext_t uc;
    /* Where the trampoline goes: makecontext() passes only ints. */
    void (*entry)(void *);
    void *arg;
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
static void trampoline(int hi, int lo)
{
    uintptr_t bits = ((uintptr_t)(unsigned)hi << 16 << 16) | (uintptr_t)(unsigned)lo;
    struct coro__context *ctx = (struct coro__context *)bits;

    ctx->entry(ctx->arg);
    /* entry leaves by coro__context_jump(); returning here would end the
     * thread (uc_link is NULL), so stop loudly instead. */
    abort();
}

int coro__context_make(coro__context *ctx, void *stack_lo, size_t stack_size,
                       void (*entry)(void *), void *arg)
{
    uintptr_t bits = (uintptr_t)ctx;

    if (getcontext(&ctx->uc) != 0)
        return errno;
    ctx->uc.uc_stack.ss_sp = stack_lo;
    ctx->uc.uc_stack.ss_size = stack_size;
    ctx->uc.uc_stack.ss_flags = 0;
    ctx->uc.uc_link = NULL;
    ctx->entry = entry;
    ctx->arg = arg;
    makecontext(&ctx->uc, (void (*)(void))trampoline, 2,
                (int)(unsigned)(bits >> 16 >> 16), (int)(unsigned)(bits & 0xffffffffu));
    return 0;
}

void coro__context_switch(coro__context *save, const coro__context *to)
{
    /* Fails only for a context that getcontext never filled: a bug here. */
    if (swapcontext(&save->uc, &to->uc) != 0)
        abort();
}

_Noreturn void coro__context_jump(const coro__context *to)
{
    setcontext(&to->uc);
    abort();
}

const char *coro__context_backend(void)
{
    return "ucontext";
}
