/*
 * The reference backend: POSIX getcontext/makecontext/swapcontext. glibc's
 * swapcontext also switches the signal mask, so every switch costs one
 * rt_sigprocmask system call; in exchange each coroutine keeps its own mask
 * and glibc manages shadow stacks where the CPU and kernel enable them.
 */
#define _GNU_SOURCE /* ucontext in glibc, and its x86 __fpregs_mem */

#include "context.h"
#include "compiler.h"
#include "debugger.h"
#include "sanitizer.h"
#include "thread.h"
#include "ucontext_root.h"
#include "unwind_root.h"

#include <errno.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

/* One side of a switch: the coroutine, or its resumer. */
struct side {
    ucontext_t uc;
    /* What the pending switch returns, or the function whose result it
     * returns (run on arrival): set by whoever switches to this side. */
    void *(*arrival_fn)(void *);
    void *arrival_value;
    CORO__FIBER_FIELD(fiber) /* for ASan and TSan */
};

struct coro__context {
    /* While the coroutine runs: where its resumer waits, in the frame of
     * the resume, on the resumer's stack (a ucontext_t is 1 KiB on x86-64
     * and 4.5 KiB on AArch64: kept out of every coroutine's record); else
     * the terminal side. First: the root frame's unwind rules read it
     * there (ucontext_root_<arch>.S). */
    struct side *resumer;
    /* A frame record (switch_frame.h's sense) that the root's frame
     * pointer points at: while the coroutine runs, a copy of the resume's
     * own, so that a frame-pointer walk goes on into the resumer's frames
     * (where they keep frame pointers). */
    void *frame_record[2];
    struct side self;
    /* Where the root goes: makecontext() passes only ints. */
    void (*entry)(void *, void *);
    void *arg;
};

/* A side whose saved return address and stack pointer are 0: where a walk
 * of a coroutine that is not running stops. */
static struct side terminal;

_Static_assert(alignof(struct coro__context) <= 16, "coro.c keeps contexts 16-byte aligned");

/* For debuggers (debugger.h): a switched-out side's registers are in its
 * ucontext_t, where swapcontext() left them. */
#define SAVED(field) ((int16_t)offsetof(ucontext_t, uc_mcontext.field))
CORO_KEEP const struct coro__debug_context coro__debug_context = {
    .size = sizeof(struct coro__context),
    .backend = "ucontext",
    .self = {.offset = offsetof(struct coro__context, self.uc)},
    .resumer = {.offset = offsetof(struct coro__context, resumer),
                .indirect = 1,
                .adjust = offsetof(struct side, uc)},
#if defined(__x86_64__) && defined(__GLIBC__)
    .registers = {SAVED(gregs[REG_RIP]), SAVED(gregs[REG_RSP]), SAVED(gregs[REG_RBP]),
                  SAVED(gregs[REG_RBX]), SAVED(gregs[REG_R12]), SAVED(gregs[REG_R13]),
                  SAVED(gregs[REG_R14]), SAVED(gregs[REG_R15])},
    .stub_return = -1,
#elif defined(__aarch64__) && defined(__GLIBC__)
    .registers = {SAVED(pc), SAVED(sp), SAVED(regs[19]), SAVED(regs[20]), SAVED(regs[21]),
                  SAVED(regs[22]), SAVED(regs[23]), SAVED(regs[24]), SAVED(regs[25]),
                  SAVED(regs[26]), SAVED(regs[27]), SAVED(regs[28]), SAVED(regs[29]),
                  SAVED(regs[30])},
    .stub_return = SAVED(regs[1]),
#elif defined(__riscv) && __riscv_xlen == 64 && defined(__GLIBC__)
    /* getcontext() and swapcontext() save ra as the pc too. */
    .registers = {SAVED(__gregs[REG_PC]), SAVED(__gregs[REG_SP]), SAVED(__gregs[REG_S0]),
                  SAVED(__gregs[REG_S1]), SAVED(__gregs[REG_S2]), SAVED(__gregs[REG_S2 + 1]),
                  SAVED(__gregs[REG_S2 + 2]), SAVED(__gregs[REG_S2 + 3]),
                  SAVED(__gregs[REG_S2 + 4]), SAVED(__gregs[REG_S2 + 5]),
                  SAVED(__gregs[REG_S2 + 6]), SAVED(__gregs[REG_S2 + 7]),
                  SAVED(__gregs[REG_S2 + 8]), SAVED(__gregs[REG_S2 + 9]), SAVED(__gregs[REG_RA])},
    .stub_return = -1,
#else
    .registers = {-1}, /* not known: a debugger lists coroutines but walks no stack */
    .stub_return = -1,
#endif
};
#undef SAVED

size_t coro__context_size(void)
{
    return sizeof(struct coro__context);
}

#if CORO_UCONTEXT_ROOT
_Noreturn void coro__ucontext_start(struct coro__context *ctx, void *exception);
void coro__ucontext_root(int hi, int lo);

_Static_assert(offsetof(struct coro__context, resumer) == 0, "the root reads it there");
_Static_assert(offsetof(struct coro__context, frame_record) == CORO__UC_FRAME_RECORD,
               "the root points its frame pointer there");
_Static_assert(offsetof(struct side, uc) == 0, "the root reads the resumer's ucontext_t there");
#define SAVED(field) offsetof(ucontext_t, uc_mcontext.field)
#if defined(__x86_64__)
_Static_assert(SAVED(gregs[REG_RSP]) == CORO__UC_SP && SAVED(gregs[REG_RIP]) == CORO__UC_RA &&
                   SAVED(gregs[REG_RBP]) == CORO__UC_RBP && SAVED(gregs[REG_RBX]) == CORO__UC_RBX &&
                   SAVED(gregs[REG_R12]) == CORO__UC_R12 && SAVED(gregs[REG_R13]) == CORO__UC_R13 &&
                   SAVED(gregs[REG_R14]) == CORO__UC_R14 && SAVED(gregs[REG_R15]) == CORO__UC_R15,
               "ucontext_root.h");
#elif defined(__aarch64__)
_Static_assert(SAVED(regs[0]) == CORO__UC_X0 && SAVED(sp) == CORO__UC_SP &&
                   SAVED(regs[1]) == CORO__UC_RA,
               "ucontext_root.h");
#elif defined(__riscv)
_Static_assert(SAVED(__gregs[REG_PC]) == CORO__UC_GREGS && SAVED(__gregs[REG_SP]) == CORO__UC_SP,
               "ucontext_root.h");
#endif
#undef SAVED
#else
static
#endif
/* Called by the root with exception NULL, and again, from its landing pad,
 * with an exception that escaped the first call (unwind_root.h). */
_Noreturn void coro__ucontext_start(struct coro__context *ctx, void *exception)
{
    if (exception == NULL)
        coro__fiber_arrive(CORO__FIBER(ctx->self.fiber));
    ctx->entry(ctx->arg, exception);
    /* entry leaves by coro__context_return(); returning here would end the
     * thread (uc_link is NULL), so stop loudly instead. */
    abort();
}

#if !CORO_UCONTEXT_ROOT
/* makecontext() passes int arguments only, so the context's address arrives
 * split into two 32-bit halves (the high half is 0 on 32-bit targets). */
static void coro__ucontext_root(int hi, int lo)
{
    uintptr_t bits = ((uintptr_t)(unsigned)hi << 16 << 16) | (uintptr_t)(unsigned)lo;

    coro__ucontext_start((struct coro__context *)bits, NULL);
}
#endif

/*
 * makecontext() needs a context that getcontext() filled, and getcontext()
 * is a system call (it reads the signal mask). Where the layout is known,
 * each thread fills one template, kept in its block (thread.h), and new
 * contexts copy it: a coroutine then starts with the signal mask its
 * creating thread had when it first created one. glibc's x86 ucontext_t
 * points into itself for the FPU state, so a copy is re-pointed at its own.
 */
#if defined(__GLIBC__) && (defined(__x86_64__) || defined(__i386__))
struct thread_data {
    bool filled;
    ucontext_t template;
};

size_t coro__context_thread_data_size(void)
{
    return sizeof(struct thread_data);
}

/* The thread's template, filled on its first create; NULL with an error. */
static CORO_NOINLINE struct thread_data *fill_template(int *error)
{
    struct coro__thread_block *block = coro__thread_block();
    struct thread_data *data;

    *error = ENOMEM;
    if (block == NULL)
        return NULL;
    data = block->context_data;
    if (getcontext(&data->template) != 0) {
        *error = errno;
        return NULL;
    }
    data->filled = true;
    return data;
}

static int fill_context(ucontext_t *uc)
{
    struct coro__thread_block *block = coro__thread_here()->block;
    struct thread_data *data = block != NULL ? block->context_data : NULL;
    int error;

    if ((data == NULL || !data->filled) && (data = fill_template(&error)) == NULL)
        return error;
    memcpy(uc, &data->template, sizeof *uc);
    uc->uc_mcontext.fpregs = &uc->__fpregs_mem;
    return 0;
}
#else
size_t coro__context_thread_data_size(void)
{
    return 0;
}

static int fill_context(ucontext_t *uc)
{
    return getcontext(uc) == 0 ? 0 : errno;
}
#endif

/* ctx, but for its fiber, ready to start on [stack_lo, stack_lo +
 * stack_size), from uc filled by the caller. */
static void lay_context(coro__context *ctx, void *stack_lo, size_t stack_size,
                        void (*entry)(void *, void *), void *arg)
{
    uintptr_t bits = (uintptr_t)ctx;
    ucontext_t *uc = &ctx->self.uc;

    uc->uc_stack.ss_sp = stack_lo;
    uc->uc_stack.ss_size = stack_size;
    uc->uc_stack.ss_flags = 0;
    uc->uc_link = NULL;
    ctx->entry = entry;
    ctx->arg = arg;
    ctx->self.arrival_fn = NULL;
    ctx->self.arrival_value = NULL;
    ctx->resumer = &terminal;
    makecontext(uc, (void (*)(void))coro__ucontext_root, 2,
                (int)(unsigned)(bits >> 16 >> 16), (int)(unsigned)(bits & 0xffffffffu));
}

int coro__context_make(coro__context *ctx, void *stack_lo, size_t stack_size,
                       void (*entry)(void *, void *), void *arg)
{
    int error = fill_context(&ctx->self.uc);

    if (error != 0)
        return error;
    lay_context(ctx, stack_lo, stack_size, entry, arg);
    coro__fiber_init(CORO__FIBER(ctx->self.fiber), stack_lo, stack_size);
    return 0;
}

/* Below the resumer's side, on targets not named below: what the calls
 * from the resume to swapcontext() take, and more. */
#define UNKNOWN_SWAP_FRAMES 4096

/* The stack pointer swapcontext() saved in side. */
static uintptr_t saved_stack_pointer(const struct side *side)
{
    const ucontext_t *uc = &side->uc;

#if defined(__x86_64__)
    return (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
#elif defined(__i386__)
    return (uintptr_t)uc->uc_mcontext.gregs[REG_ESP];
#elif defined(__aarch64__)
    return (uintptr_t)uc->uc_mcontext.sp;
#elif defined(__arm__)
    return (uintptr_t)uc->uc_mcontext.arm_sp;
#elif defined(__riscv)
    return (uintptr_t)uc->uc_mcontext.__gregs[REG_SP];
#else
    (void)uc;
    return (uintptr_t)side - UNKNOWN_SWAP_FRAMES;
#endif
}

char *coro__context_resumer_stack_top(const coro__context *outer)
{
    uintptr_t waits_at = saved_stack_pointer(outer->resumer);

    return (char *)((waits_at - CORO__RED_ZONE_BYTES) & ~(uintptr_t)15);
}

/* What makecontext() writes below the top of the stack it is given, at
 * most, on every target: a few words of arguments and a return address. */
#define MAKECONTEXT_WRITES 256

/* Not the template: getcontext() now, so that a call on the thread's stack
 * starts with its caller's signal mask and floating-point state. */
int coro__context_make_on_resumer_stack(coro__context *ctx, const coro__context *outer,
                                        char *stack_top, void (*entry)(void *, void *),
                                        void *arg)
{
    /* makecontext() needs only where the stack ends; ASan's interceptor
     * takes what it is given for the stack's bounds, which the resumer's
     * switch taught its fiber. */
    const char *bottom = coro__fiber_stack_bottom(CORO__FIBER(outer->resumer->fiber));
    size_t size = bottom != NULL ? (size_t)(stack_top - bottom) : MAKECONTEXT_WRITES;

    if (getcontext(&ctx->self.uc) != 0)
        return errno;
    coro__valgrind_in_use(stack_top - MAKECONTEXT_WRITES, MAKECONTEXT_WRITES);
    coro__asan_unpoison(stack_top - MAKECONTEXT_WRITES, MAKECONTEXT_WRITES);
    lay_context(ctx, stack_top - size, size, entry, arg);
    coro__fiber_init_below(CORO__FIBER(ctx->self.fiber), CORO__FIBER(outer->resumer->fiber),
                           stack_top);
    (void)outer; /* used only with sanitizers */
    return 0;
}

#if CORO_SANITIZER_FIBERS
bool coro__context_must_finish(const coro__context *ctx)
{
    return coro__fiber_holds_fake_stack(&ctx->self.fiber);
}

void coro__context_release(coro__context *ctx)
{
    coro__fiber_release(&ctx->self.fiber);
}
#endif

static void *swap(struct side *save, struct side *to, void *(*fn)(void *), void *value)
{
    void *(*arrival_fn)(void *);

    to->arrival_fn = fn;
    to->arrival_value = value;
    coro__fiber_leave(CORO__FIBER(save->fiber), CORO__FIBER(to->fiber));
    /* Fails only for a context that getcontext never filled: a bug here. */
    if (swapcontext(&save->uc, &to->uc) != 0)
        abort();
    coro__fiber_arrive(CORO__FIBER(save->fiber));
    arrival_fn = save->arrival_fn;
    if (arrival_fn != NULL) {
        save->arrival_fn = NULL;
        return arrival_fn(save->arrival_value);
    }
    return save->arrival_value;
}

#if CORO_UCONTEXT_ROOT
/* A frame's record: at its frame pointer {caller's frame pointer, return
 * address} (x86-64, AArch64), or just below it (RISC-V). */
static inline void copy_frame_record(void *record[2], void *const *frame)
{
#if defined(__riscv)
    frame -= 2;
#endif
    record[0] = frame[0];
    record[1] = frame[1];
}
#endif

void *coro__context_resume(coro__context *ctx, void *(*fn)(void *), void *value)
{
    /* swapcontext() fills in uc, and whoever switches back sets the
     * arrival fields; only the fiber starts empty, to learn the resumer's
     * stack from the switch (it is not libcoro's to know). Not the whole
     * side: zeroing its ucontext_t would write 1 KiB per resume. */
    struct side waiting;

    coro__fiber_init_unknown(CORO__FIBER(waiting.fiber));
    ctx->resumer = &waiting;
#if CORO_UCONTEXT_ROOT
    copy_frame_record(ctx->frame_record, __builtin_frame_address(0));
#endif
    return swap(&waiting, &ctx->self, fn, value);
}

/* Leaving the coroutine, its link to the resumer is cut: its stack, walked
 * while it is suspended (by a debugger), ends at its root. */
void *coro__context_yield(coro__context *ctx, void *value)
{
    struct side *resumer = ctx->resumer;

    ctx->resumer = &terminal;
    return swap(&ctx->self, resumer, NULL, value);
}

/* Leaves for good: the resumer's pending swap() returns value, or fn(value)
 * with fn not NULL. */
static _Noreturn void leave(coro__context *ctx, void *(*fn)(void *), void *value)
{
    struct side *resumer = ctx->resumer;

    ctx->resumer = &terminal;
    resumer->arrival_fn = fn;
    resumer->arrival_value = value;
    coro__fiber_leave(NULL, CORO__FIBER(resumer->fiber));
    setcontext(&resumer->uc);
    abort();
}

_Noreturn void coro__context_return(coro__context *ctx, void *value)
{
    leave(ctx, NULL, value);
}

/* Run on the resumer's stack on arrival from a context that ended by an
 * exception, to raise it again there. Nothing runs on ctx again: what the
 * sanitizers hold for it goes now, as no code after the raise could free
 * it. */
static void *raise_on_arrival(void *arg)
{
    coro__context *ctx = arg;

    coro__fiber_release(CORO__FIBER(ctx->self.fiber));
    return coro__unwind_raise_again(ctx->self.arrival_value);
}

_Noreturn void coro__context_raise(coro__context *ctx, void *exception)
{
    ctx->self.arrival_value = exception; /* free: nothing switches to ctx again */
    leave(ctx, raise_on_arrival, ctx);
}

/* No system this backend runs on frees a thread's stack by what a switch
 * changes. */
void coro__context_thread_ends(const coro__context *outer)
{
    (void)outer;
}

const char *coro__context_backend(void)
{
    return "ucontext";
}
