/*
 * The opt-in hand-written backend (-DCORO_BACKEND=asm): a switch saves and
 * restores only what the ABI calls callee-saved (switch_<arch>.S). Unlike
 * ucontext it makes no system call, so it does not switch the signal mask:
 * all coroutines of a thread share that thread's mask.
 */
#include "context.h"
#include "compiler.h"
#include "debug.h"
#include "sanitizer.h"

#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct coro__context {
    void *sp;         /* the coroutine's saved frame, while it is switched out */
    void *resumer_sp; /* its resumer's, while it runs */
    void (*entry)(void *);
    void *arg;
    /* A function to run on arrival, and its argument: see land(). */
    void *(*arrival_fn)(void *);
    void *arrival_value;
    /* For ASan and TSan: the coroutine's, and its resumer's (learnt by a
     * switch, as the resumer's stack is not libcoro's to know). */
    struct coro__sanitizer_fiber fiber;
    struct coro__sanitizer_fiber resumer_fiber;
};

_Static_assert(alignof(struct coro__context) <= 16, "coro.c keeps contexts 16-byte aligned");

void *coro__asm_switch(void **save_sp, void **to_sp, void *(*fn)(void *), void *value);
_Noreturn void coro__asm_jump(void **to_sp, void *value);
void coro__asm_start(void);

size_t coro__context_size(void)
{
    return sizeof(struct coro__context);
}

size_t coro__context_thread_data_size(void)
{
    return 0; /* nothing per thread */
}

static _Noreturn void start(struct coro__context *ctx)
{
    coro__fiber_arrive(&ctx->fiber);
    ctx->entry(ctx->arg);
    abort(); /* entry leaves by coro__context_return() */
}

/* The first frame coro__asm_switch() pops: see the layout in the .S file. */
#if defined(__x86_64__)
#define FRAME_SIZE 64
#define TOP_GAP 16 /* coro__asm_start then runs on a 16-byte aligned stack */

static void lay_first_frame(uint64_t *frame, struct coro__context *ctx)
{
    uint32_t mxcsr = 0x1f80;   /* the ABI's initial values: all exceptions */
    uint16_t x87_cw = 0x037f;  /* masked, round to nearest, x87 extended */

    memcpy((char *)frame, &mxcsr, sizeof mxcsr);
    memcpy((char *)frame + 4, &x87_cw, sizeof x87_cw);
    frame[3] = (uint64_t)(uintptr_t)start;    /* r13 */
    frame[4] = (uint64_t)(uintptr_t)ctx;      /* r12 */
    frame[7] = (uint64_t)(uintptr_t)coro__asm_start;
}
#elif defined(__aarch64__)
#define FRAME_SIZE 176
#define TOP_GAP 0

static void lay_first_frame(uint64_t *frame, struct coro__context *ctx)
{
    frame[0] = (uint64_t)(uintptr_t)ctx;      /* x19 */
    frame[1] = (uint64_t)(uintptr_t)start;    /* x20 */
    frame[11] = (uint64_t)(uintptr_t)coro__asm_start; /* x30 */
    /* FPCR 0: round to nearest, no traps, as a new thread starts. */
}
#else
#error "CORO_BACKEND=asm supports x86-64 and AArch64; use the ucontext backend elsewhere"
#endif

/* For debuggers (debug.h): a switched-out side's registers are in the
 * frame its stack pointer was saved at, laid out as the .S file says. */
CORO_KEEP const struct coro__debug_context coro__debug_context = {
    .size = sizeof(struct coro__context),
    .backend = "asm",
    .self = {.offset = offsetof(struct coro__context, sp), .indirect = 1},
    .resumer = {.offset = offsetof(struct coro__context, resumer_sp), .indirect = 1},
#if defined(__x86_64__)
    /* rip rsp rbp rbx r12 r13 r14 r15 */
    .registers = {56, -1, 48, 40, 32, 24, 16, 8},
#else
    /* pc (the x30 branched to) sp x19-x30 */
    .registers = {88, -1, 0, 8, 16, 24, 32, 40, 48, 56, 64, 72, 80, 88},
#endif
    .sp_adjust = FRAME_SIZE,
    .stub_return = -1,
};

int coro__context_make(coro__context *ctx, void *stack_lo, size_t stack_size,
                       void (*entry)(void *), void *arg)
{
    uintptr_t top = ((uintptr_t)stack_lo + stack_size) & ~(uintptr_t)15;
    uint64_t *frame = (uint64_t *)(top - TOP_GAP - FRAME_SIZE);

    memset(frame, 0, FRAME_SIZE + TOP_GAP);
    lay_first_frame(frame, ctx);
    ctx->sp = frame;
    ctx->resumer_sp = NULL;
    ctx->entry = entry;
    ctx->arg = arg;
    coro__fiber_init(&ctx->fiber, stack_lo, stack_size);
    memset(&ctx->resumer_fiber, 0, sizeof ctx->resumer_fiber);
    return 0;
}

bool coro__context_must_finish(const coro__context *ctx)
{
    return coro__fiber_holds_fake_stack(&ctx->fiber);
}

void coro__context_release(coro__context *ctx)
{
    coro__fiber_release(&ctx->fiber);
}

/* What the switch calls on arrival, on the new stack, for a switch with a
 * function: the arrival is reported to the sanitizers first (the pending
 * switch reports it again, which does nothing), then the function runs. */
static void *land(void *arg)
{
    struct coro__context *ctx = arg;

    coro__fiber_arrive(&ctx->fiber);
    return ctx->arrival_fn(ctx->arrival_value);
}

/* Without sanitizers these are tail calls: nothing is left to do here
 * after the switch, which then returns straight to this function's caller. */
CORO_HOT_ENTRY void *coro__context_resume(coro__context *ctx, void *(*fn)(void *), void *value)
{
    void *result;

    if (fn != NULL) {
        ctx->arrival_fn = fn;
        ctx->arrival_value = value;
        fn = land;
        value = ctx;
    }
    coro__fiber_leave(&ctx->resumer_fiber, &ctx->fiber);
    result = coro__asm_switch(&ctx->resumer_sp, &ctx->sp, fn, value);
    coro__fiber_arrive(&ctx->resumer_fiber);
    return result;
}

CORO_HOT_ENTRY void *coro__context_yield(coro__context *ctx, void *value)
{
    void *result;

    coro__fiber_leave(&ctx->fiber, &ctx->resumer_fiber);
    result = coro__asm_switch(&ctx->sp, &ctx->resumer_sp, NULL, value);
    coro__fiber_arrive(&ctx->fiber);
    return result;
}

_Noreturn void coro__context_return(coro__context *ctx, void *value)
{
    coro__fiber_leave(NULL, &ctx->resumer_fiber);
    coro__asm_jump(&ctx->resumer_sp, value);
}

const char *coro__context_backend(void)
{
    return "asm";
}
