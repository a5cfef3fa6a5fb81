/*
 * The opt-in hand-written backend (-DCORO_BACKEND=asm): a switch saves and
 * restores only what the ABI calls callee-saved (switch_<arch>.S). Unlike
 * ucontext it makes no system call, so it does not switch the signal mask:
 * all coroutines of a thread share that thread's mask.
 */
#include "context.h"
#include "branch_protection.h"
#include "compiler.h"
#include "debugger.h"
#if defined(_WIN64)
#include "pages.h"
#include "pool.h"
#endif
#include "sanitizer.h"
#include "switch_frame.h"
#include "unwind_root.h"

#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/*
 * The first two words are a frame record (switch_frame.h), which the first
 * frame's frame pointer points at: a frame-pointer walk goes from the
 * coroutine's root to its resumer's record, through `resumed_at`, a return
 * address in the switch, where the resumer waits. coro__asm_start's unwind
 * rules read `resumer` too. While the coroutine is not running, `resumer`
 * is the terminal record, which ends both walks.
 */
struct coro__context {
    void *resumer; /* its resumer's saved record, while it runs */
    const void *resumed_at;
    void *self; /* the coroutine's saved record, while it is switched out */
    void (*entry)(void *, void *);
    void *arg;
    /* A function to run on arrival, and its argument: see land(). */
    void *(*arrival_fn)(void *);
    void *arrival_value;
    /* For ASan and TSan: the coroutine's, and its resumer's (learnt by a
     * switch, as the resumer's stack is not libcoro's to know). */
    CORO__FIBER_FIELD(fiber)
    CORO__FIBER_FIELD(resumer_fiber)
};

_Static_assert(alignof(struct coro__context) <= 16, "coro.c keeps contexts 16-byte aligned");

void *coro__asm_switch(void **save, void *to, void *(*fn)(void *), void *value);
_Noreturn void coro__asm_jump(void *to, void *(*fn)(void *), void *value);
void coro__asm_start(void);
extern const char coro__asm_switch_resumed[];

/* The record of a frame whose return address is 0: where walks stop. */
#if defined(__aarch64__) && CORO__PAC
static uint64_t terminal_frame[CORO__FRAME_SIZE / 8]; /* signed at load: see below */
#else
static const uint64_t terminal_frame[CORO__FRAME_SIZE / 8];
#endif
#define TERMINAL_RECORD ((void *)((const char *)terminal_frame + CORO__FRAME_LINK))

size_t coro__context_size(void)
{
    return sizeof(struct coro__context);
}

size_t coro__context_thread_data_size(void)
{
    return 0; /* nothing per thread */
}

/* Called by coro__asm_start with exception NULL, and again, from its
 * landing pad, with an exception that escaped the first call. */
static _Noreturn void start(struct coro__context *ctx, void *exception)
{
    if (exception == NULL)
        coro__fiber_arrive(CORO__FIBER(ctx->fiber));
    ctx->entry(ctx->arg, exception);
    abort(); /* entry leaves by coro__context_return() */
}

#if !defined(__x86_64__) && !defined(__aarch64__) &&                                               \
    !(defined(__riscv) && __riscv_xlen == 64 && defined(__riscv_float_abi_double))
#error "CORO_BACKEND=asm supports x86-64, AArch64 and RISC-V 64 (LP64D); elsewhere use ucontext"
#endif

static void put_word(char *frame, unsigned at, uint64_t word)
{
    memcpy(frame + at, &word, sizeof word);
}

/* A return address to store in a frame at `frame`, signed as the switch
 * signs where the build signs them (branch_protection.h): with the stack
 * pointer after the frame is popped. */
static uint64_t return_address(const void *frame, uintptr_t address)
{
#if defined(__aarch64__) && CORO__PAC
    register uint64_t x17 __asm__("x17") = address;
    register uint64_t x16 __asm__("x16") = (uint64_t)(uintptr_t)frame + CORO__FRAME_SIZE;

    __asm__(CORO__SIGN_X17_WITH_X16 : "+r"(x17) : "r"(x16));
    return x17;
#else
    (void)frame;
    return address;
#endif
}

#if defined(__aarch64__) && CORO__PAC
/* libgcc's unwinder authenticates each return address it reads where the
 * unwind rules say it is signed, as coro__asm_start's do: the terminal
 * frame's 0 too, which is signed once, at load. */
__attribute__((constructor)) static void sign_terminal_frame(void)
{
    put_word((char *)terminal_frame, CORO__FRAME_PC, return_address(terminal_frame, 0));
}
#endif

/* The first frame coro__asm_switch() pops (switch_frame.h): FP control
 * state as a new thread starts it, all exceptions masked and round to
 * nearest (on x86-64 the ABI's MXCSR 0x1f80 and x87 control word 0x037f,
 * extended precision; on AArch64 FPCR 0; on RISC-V frm 0, which has no
 * traps to mask). On Windows, the creating thread's (below). */
static void lay_first_frame(char *frame, struct coro__context *ctx)
{
#if defined(__x86_64__) && defined(_WIN64)
    /* The creating thread's, its status flags left out: on Windows each C
     * runtime sets its own x87 precision when it starts (mingw-w64's
     * extended, Microsoft's double), and a coroutine that ran at another
     * would make every switch change it, which is slow (156 to 221 ns a
     * round trip under wine, against 38). */
    uint32_t mxcsr;
    uint16_t x87_cw;

    __asm__("stmxcsr %0\n\tfnstcw %1" : "=m"(mxcsr), "=m"(x87_cw));
    mxcsr &= ~(uint32_t)0x3f;
#elif defined(__x86_64__)
    uint32_t mxcsr = 0x1f80;
    uint16_t x87_cw = 0x037f;
#endif
#if defined(__x86_64__)
    memcpy(frame + CORO__FRAME_MXCSR, &mxcsr, sizeof mxcsr);
    memcpy(frame + CORO__FRAME_X87_CW, &x87_cw, sizeof x87_cw);
#endif
    put_word(frame, CORO__FRAME_START_ARG, (uint64_t)(uintptr_t)ctx);
    put_word(frame, CORO__FRAME_START_FN, (uint64_t)(uintptr_t)start);
    put_word(frame, CORO__FRAME_PC, return_address(frame, (uintptr_t)coro__asm_start));
    put_word(frame, CORO__FRAME_FP, (uint64_t)(uintptr_t)ctx + CORO__RECORD_TO_FP);
#if !defined(_WIN64) /* there the word stays 0: see switch_x86_64_win64.S */
    put_word(frame, CORO__FRAME_SIZE, (uint64_t)(uintptr_t)ctx); /* the gap's lowest word */
#endif
}

/* For debuggers (debugger.h): a switched-out side's registers are in the
 * frame its stack pointer was saved at. */
CORO_KEEP const struct coro__debug_context coro__debug_context = {
    .size = sizeof(struct coro__context),
    .backend = "asm",
    .self = {.offset = offsetof(struct coro__context, self),
             .indirect = 1,
             .adjust = -CORO__FRAME_LINK},
    .resumer = {.offset = offsetof(struct coro__context, resumer),
                .indirect = 1,
                .adjust = -CORO__FRAME_LINK},
    /* In CORO__DEBUG_REGISTERS order; the stack pointer is the frame's
     * address plus sp_adjust. */
#if defined(__x86_64__)
    .registers = {CORO__FRAME_PC, -1, CORO__FRAME_RBP, CORO__FRAME_RBX, CORO__FRAME_R12,
                  CORO__FRAME_R13, CORO__FRAME_R14, CORO__FRAME_R15},
#elif defined(__aarch64__)
    .registers = {CORO__FRAME_PC, -1, CORO__FRAME_X19, CORO__FRAME_X20, CORO__FRAME_X21,
                  CORO__FRAME_X22, CORO__FRAME_X23, CORO__FRAME_X24, CORO__FRAME_X25,
                  CORO__FRAME_X26, CORO__FRAME_X27, CORO__FRAME_X28, CORO__FRAME_X29,
                  CORO__FRAME_X30},
#else
    .registers = {CORO__FRAME_PC, -1, CORO__FRAME_S0, CORO__FRAME_S1, CORO__FRAME_S2,
                  CORO__FRAME_S3, CORO__FRAME_S4, CORO__FRAME_S5, CORO__FRAME_S6, CORO__FRAME_S7,
                  CORO__FRAME_S8, CORO__FRAME_S9, CORO__FRAME_S10, CORO__FRAME_S11, CORO__FRAME_RA},
#endif
    .sp_adjust = CORO__FRAME_SIZE,
    .stub_return = -1,
};

#if defined(_WIN64)
/* The thread information block's view of the stack [lo, top), for the
 * switch to install when the coroutine runs: committed down to lo, a
 * guard below it, and the rest of the guard reserved for the system to
 * commit when the guard is hit, where it raises a stack overflow, for the
 * handler to run in (pages_win32.c lays stacks out so). */
static void lay_stack_fields(char *frame, void *lo, uintptr_t top)
{
    size_t guard = coro__stack_guard_size();

    put_word(frame, CORO__FRAME_TEB_DEALLOCATION_STACK, (uint64_t)(uintptr_t)lo - guard);
    put_word(frame, CORO__FRAME_TEB_STACK_LIMIT, (uint64_t)(uintptr_t)lo);
    put_word(frame, CORO__FRAME_TEB_STACK_BASE, (uint64_t)top);
    put_word(frame, CORO__FRAME_TEB_GUARANTEED, coro__pages_stack_guarantee(guard));
}
#endif

/* ctx, but for its fibers, ready to start on the stack below top; returns
 * its first frame. */
static char *lay_context(struct coro__context *ctx, uintptr_t top, void (*entry)(void *, void *),
                         void *arg)
{
    char *frame = (char *)(top - CORO__FRAME_TOP_GAP - CORO__FRAME_SIZE);

    memset(frame, 0, CORO__FRAME_SIZE + CORO__FRAME_TOP_GAP);
    lay_first_frame(frame, ctx);
    ctx->self = frame + CORO__FRAME_LINK;
    ctx->resumer = TERMINAL_RECORD;
    ctx->resumed_at = coro__asm_switch_resumed;
    ctx->entry = entry;
    ctx->arg = arg;
    coro__fiber_init_unknown(CORO__FIBER(ctx->resumer_fiber));
    return frame;
}

int coro__context_make(coro__context *ctx, void *stack_lo, size_t stack_size,
                       void (*entry)(void *, void *), void *arg)
{
    uintptr_t top = ((uintptr_t)stack_lo + stack_size) & ~(uintptr_t)15;
    char *frame = lay_context(ctx, top, entry, arg);

#if defined(_WIN64)
    lay_stack_fields(frame, stack_lo, top);
#else
    (void)frame;
#endif
    coro__fiber_init(CORO__FIBER(ctx->fiber), stack_lo, stack_size);
    return 0;
}

/* The running side's floating-point control state into a first frame, as
 * the switch saves it (its exception flags left out): a call on the
 * thread's stack starts with its caller's. */
static void copy_fp_control(char *frame)
{
#if defined(__x86_64__)
    uint32_t mxcsr;
    uint16_t x87_cw;

    __asm__ volatile("stmxcsr %0\n\tfnstcw %1" : "=m"(mxcsr), "=m"(x87_cw));
    mxcsr &= ~(uint32_t)0x3f;
    memcpy(frame + CORO__FRAME_MXCSR, &mxcsr, sizeof mxcsr);
    memcpy(frame + CORO__FRAME_X87_CW, &x87_cw, sizeof x87_cw);
#elif defined(__aarch64__)
    uint64_t fpcr;

    __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
    put_word(frame, CORO__FRAME_FPCR, fpcr);
#else
    uint64_t frm;

    __asm__ volatile("frrm %0" : "=r"(frm));
    put_word(frame, CORO__FRAME_FRM, frm);
#endif
}

/* The resumer waits in its saved frame, the lowest thing on its stack. */
static const char *resumer_frame(const coro__context *outer)
{
    return (const char *)outer->resumer - CORO__FRAME_LINK;
}

char *coro__context_resumer_stack_top(const coro__context *outer)
{
    uintptr_t waits_at = (uintptr_t)resumer_frame(outer);

    return (char *)((waits_at - CORO__RED_ZONE_BYTES) & ~(uintptr_t)15);
}

/* Only the field the system frees by: the thread still runs on the
 * coroutine's stack, and its bounds (stack probes, the exception
 * dispatcher's checks) must go on saying so until it ends. */
void coro__context_thread_ends(const coro__context *outer)
{
#if defined(_WIN64)
    uint64_t own;

    memcpy(&own, resumer_frame(outer) + CORO__FRAME_TEB_DEALLOCATION_STACK, sizeof own);
    __asm__ volatile("movq %0, %%gs:%c1"
                     :
                     : "r"(own), "i"(CORO__TEB_DEALLOCATION_STACK)
                     : "memory");
#else
    (void)outer;
#endif
}

int coro__context_make_on_resumer_stack(coro__context *ctx, const coro__context *outer,
                                        char *stack_top, void (*entry)(void *, void *),
                                        void *arg)
{
    uintptr_t top = (uintptr_t)stack_top & ~(uintptr_t)15;
    char *frame = (char *)(top - CORO__FRAME_TOP_GAP - CORO__FRAME_SIZE);

    /* Below the thread's stack pointer as valgrind last saw it. */
    coro__valgrind_in_use(frame, CORO__FRAME_SIZE + CORO__FRAME_TOP_GAP);
    coro__asan_unpoison(frame, CORO__FRAME_SIZE + CORO__FRAME_TOP_GAP);
    lay_context(ctx, top, entry, arg);
    copy_fp_control(frame);
#if defined(_WIN64)
    /* The thread's view of its stack, as its switch saved it. */
    memcpy(frame + CORO__FRAME_TEB_DEALLOCATION_STACK,
           resumer_frame(outer) + CORO__FRAME_TEB_DEALLOCATION_STACK,
           CORO__FRAME_TEB_GUARANTEED + 8 - CORO__FRAME_TEB_DEALLOCATION_STACK);
#endif
    coro__fiber_init_below(CORO__FIBER(ctx->fiber), CORO__FIBER(outer->resumer_fiber),
                           (void *)top);
    (void)outer; /* used only with sanitizers, and on Windows */
    return 0;
}

#if CORO_SANITIZER_FIBERS
bool coro__context_must_finish(const coro__context *ctx)
{
    return coro__fiber_holds_fake_stack(&ctx->fiber);
}

void coro__context_release(coro__context *ctx)
{
    coro__fiber_release(&ctx->fiber);
}
#endif

/* What the switch calls on arrival, on the new stack, for a switch with a
 * function: the arrival is reported to the sanitizers first (the pending
 * switch reports it again, which does nothing), then the function runs. */
static void *land(void *arg)
{
    struct coro__context *ctx = arg;

    coro__fiber_arrive(CORO__FIBER(ctx->fiber));
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
    coro__fiber_leave(CORO__FIBER(ctx->resumer_fiber), CORO__FIBER(ctx->fiber));
    result = coro__asm_switch(&ctx->resumer, ctx->self, fn, value);
    coro__fiber_arrive(CORO__FIBER(ctx->resumer_fiber));
    return result;
}

/* Leaving the coroutine, its link to the resumer is cut: its stack, walked
 * while it is suspended (by a debugger), ends at its root. */
CORO_HOT_ENTRY void *coro__context_yield(coro__context *ctx, void *value)
{
    void *resumer = ctx->resumer;
    void *result;

    ctx->resumer = TERMINAL_RECORD;
    coro__fiber_leave(CORO__FIBER(ctx->fiber), CORO__FIBER(ctx->resumer_fiber));
    result = coro__asm_switch(&ctx->self, resumer, NULL, value);
    coro__fiber_arrive(CORO__FIBER(ctx->fiber));
    return result;
}

/* Jumps to the resumer for good; its pending switch returns value, or
 * fn(value) with fn not NULL. */
static _Noreturn void leave(struct coro__context *ctx, void *(*fn)(void *), void *value)
{
    void *resumer = ctx->resumer;

    ctx->resumer = TERMINAL_RECORD;
    coro__fiber_leave(NULL, CORO__FIBER(ctx->resumer_fiber));
    coro__asm_jump(resumer, fn, value);
}

_Noreturn void coro__context_return(coro__context *ctx, void *value)
{
    leave(ctx, NULL, value);
}

/* Run on the resumer's stack on arrival from a coroutine that ended by an
 * exception: the arrival is reported to the sanitizers (the pending switch
 * will not return to do it), then the exception is raised again from the
 * switch's frame, which unwinds as the resumer's pending switch
 * returning. */
static void *raise_on_arrival(void *arg)
{
    struct coro__context *ctx = arg;

    coro__fiber_arrive(CORO__FIBER(ctx->resumer_fiber));
    /* Nothing runs on ctx again: what the sanitizers hold for it goes now,
     * as no code after the raise could free it. */
    coro__fiber_release(CORO__FIBER(ctx->fiber));
    return coro__unwind_raise_again(ctx->arrival_value);
}

_Noreturn void coro__context_raise(coro__context *ctx, void *exception)
{
    ctx->arrival_value = exception;
    leave(ctx, raise_on_arrival, ctx);
}

const char *coro__context_backend(void)
{
    return "asm";
}
