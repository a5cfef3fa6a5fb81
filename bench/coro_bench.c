/*
 * coro-bench: what libcoro's switches cost, beside the raw glibc
 * swapcontext() that the default backend is built on, and beside the least
 * a stackful switch can do; and what a million suspended coroutines cost in
 * memory.
 *
 * Method. Each timed figure is measured in several repetitions (--reps).
 * Repetition i times the baseline and then libcoro, back to back in this
 * process, so that machine noise hits both alike; a figure is the median of
 * its repetitions, and its ratio is median(libcoro) / median(baseline).
 * Times come from clock_gettime(CLOCK_MONOTONIC), in ns per operation, over
 * --iterations operations per repetition, after one untimed warm-up run of
 * a tenth as many, or of one full turn round N contexts (round_robin),
 * whichever is more.
 *
 * Figures (the NAME of --only and of the BENCH lines):
 *   round_trip      coro_send() into a coroutine whose coro_yield() hands the
 *                   value straight back, against a raw pair of swapcontext()
 *                   calls: main swaps into a makecontext()'d context on an
 *                   mmap'd stack, which swaps back.
 *   round_trip_min  coro_send() and coro_yield() as in round_trip, against
 *                   a pair of minimal switches: main switches into a context
 *                   on an mmap'd stack, which switches back. The minimal
 *                   switch, bench_min_switch below, saves what the ABI calls
 *                   callee-saved and nothing else, and ends as libcoro's
 *                   src/switch_<arch>.S do: on x86-64 it pushes rbp, rbx and
 *                   r12-r15, swaps stack pointers, pops the six, then pops
 *                   the return address and jumps to it (no x87 control word,
 *                   no MXCSR); on AArch64 it stores x19-x30 and d8-d15, swaps
 *                   stack pointers, loads them and branches to the loaded
 *                   x30 with `br` (no FPCR). The asm backend's goal here: its
 *                   hot round trip must not get slower. (An earlier goal, a
 *                   ratio of at most 1.5, was set against a minimal switch
 *                   that ended in `ret`.)
 *   create_destroy  coro_create(body, NULL, 0) (the default stack size), a
 *                   first coro_next(), which returns from the body's first
 *                   coro_yield() (the coroutine is then CORO_SUSPENDED), and
 *                   coro_destroy() of the suspended coroutine; against one
 *                   raw round trip as above. The ucontext backend's goal is
 *                   a ratio of at most 1.20 here.
 *   create_destroy_min
 *                   the same libcoro operations as create_destroy, against
 *                   one minimal round trip as in round_trip_min. The asm
 *                   backend's goal is a ratio of at most 8 here.
 *                   The two _min figures exist on x86-64 and AArch64 only;
 *                   elsewhere they are reported as skipped.
 *   round_robin     round trips with N coroutines alive (N = 1, 1000,
 *                   1000000), resumed in turn: 0, 1, ... N-1, 0, ..., each
 *                   repetition going on where the one before stopped, so
 *                   that with N above --iterations each one is resumed a
 *                   full turn after its last resume (the warm-up makes one
 *                   turn: the first, right after creation, costs more than
 *                   a steady one); against N raw contexts resumed the same
 *                   way, on stacks of the default size carved out of one
 *                   MAP_NORESERVE mapping, a page below each. That page is
 *                   made a guard page with madvise(MADV_GUARD_INSTALL) where
 *                   the kernel has it (Linux 6.13 on), which costs no map
 *                   entry; elsewhere it stays mapped and untouched: the
 *                   baseline never runs into vm.max_map_count. libcoro may: coroutines are created
 *                   until coro_create() fails, and the figure is measured at
 *                   the N reached, with the failure reported.
 *   memory          1000000 coroutines created and each resumed once, so
 *                   that each is suspended in a coro_yield(), on a set of
 *                   their own (round_robin builds its own later): per
 *                   coroutine, the growth of VmRSS, of VmPTE (page tables)
 *                   and of their sum, the resident bytes per suspended
 *                   coroutine, and of VmSize (all from /proc/self/status);
 *                   the create rate with them alive, the ns per
 *                   coro_create() + first coro_next() over the whole
 *                   build-up (cold mappings included), timed once, not in
 *                   repetitions; and, once all are destroyed, the resident
 *                   bytes (VmRSS + VmPTE) kept against before the first was
 *                   created. The goals quoted for reference: at most 4608
 *                   resident bytes per coroutine with the asm backend, 5120
 *                   with ucontext, and at most 64 MiB kept. Coroutines are
 *                   created until coro_create() fails, as in round_robin.
 *
 * Output: a table for people, then lines for programs, each one line of
 * space-separated key=value pairs, no spaces inside a value, starting with
 * "BENCH name=NAME":
 *   BENCH name=env backend=B cpu=MODEL_WITH_UNDERSCORES cpus=C reps=R iterations=I
 *   BENCH name=round_trip n=1 libcoro_ns=F baseline_ns=F ratio=F reps=R iterations=I
 *   BENCH name=round_trip_min n=1 libcoro_ns=F baseline_ns=F ratio=F reps=R iterations=I
 *   BENCH name=create_destroy n=1 libcoro_ns=F baseline_ns=F ratio=F reps=R iterations=I
 *   BENCH name=create_destroy_min n=1 libcoro_ns=F baseline_ns=F ratio=F reps=R iterations=I
 *   BENCH name=round_robin n=N n_requested=N libcoro_ns=F baseline_ns=F ratio=F reps=R iterations=I limit=L
 *   BENCH name=memory n=N n_requested=N rss_bytes_per_coro=B pte_bytes_per_coro=B
 *     resident_bytes_per_coro=B vsz_bytes_per_coro=B create_ns=F creates_per_s=F
 *     kept_after_destroy_bytes=B limit=L                   (one line, wrapped here)
 * where limit is "none" when n_requested was reached, otherwise the error of
 * the coro_create() that failed (e.g. ENOMEM). On an architecture without
 * the minimal switch, each _min figure is the one line
 *   BENCH name=NAME skipped=no_minimal_switch_for_this_architecture
 *
 * Flags:
 *   --smoke          tiny counts everywhere, for the ctest: milliseconds,
 *                    under a second under valgrind; its figures mean nothing
 *   --reps N         repetitions per figure (default 11)
 *   --iterations N   operations per repetition (default 100000)
 *   --only NAME      one figure only
 *   --probe NAME     no timing and no baseline: set up, then run exactly
 *                    --iterations libcoro operations of figure NAME
 *                    (round_trip or create_destroy, whose operations the
 *                    _min figures share) and exit, for counting system
 *                    calls with strace -c (run two counts, subtract)
 */
#define _DEFAULT_SOURCE   /* MAP_ANONYMOUS, MAP_STACK, MAP_NORESERVE */
#define _XOPEN_SOURCE 700 /* ucontext: getcontext, makecontext, swapcontext */

#include <coro.h>

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102 /* Linux 6.13 on; older kernels say EINVAL */
#endif

#define DEFAULT_REPS 11
#define DEFAULT_ITERATIONS 100000L
#define MEMORY_COROS 1000000
#define SMOKE_REPS 3
#define SMOKE_ITERATIONS 200L
#define SMOKE_MEMORY_COROS 100

static const size_t round_robin_counts[] = {1, 1000, 1000000};
static const size_t smoke_round_robin_counts[] = {1, 10, 100};
#define ROUND_ROBIN_COUNTS (sizeof round_robin_counts / sizeof round_robin_counts[0])

struct options {
    int reps;
    long iterations;
    const char *only;  /* NULL: every figure */
    const char *probe; /* NULL: benchmark */
    int smoke;
};

/* What each timed figure interleaves, a baseline and libcoro: ns per
 * operation over iterations operations on what ctx holds. */
typedef double timer(void *ctx, long iterations);

static _Noreturn void die(const char *what)
{
    fprintf(stderr, "coro-bench: %s\n", what);
    exit(1);
}

static _Noreturn void die_errno(const char *what, int error)
{
    fprintf(stderr, "coro-bench: %s: %s\n", what, strerror(error));
    exit(1);
}

static const char *error_name(int error)
{
    switch (error) {
    case ENOMEM:
        return "ENOMEM";
    case EINVAL:
        return "EINVAL";
    case EAGAIN:
        return "EAGAIN";
    default:
        return "error";
    }
}

static double now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

#define MAX_REPS 1001

static double median(const double *values, int count)
{
    double sorted[MAX_REPS];

    memcpy(sorted, values, (size_t)count * sizeof sorted[0]);
    qsort(sorted, (size_t)count, sizeof sorted[0], compare_doubles);
    return count % 2 ? sorted[count / 2] : (sorted[count / 2 - 1] + sorted[count / 2]) / 2;
}

static size_t page_size(void)
{
    long size = sysconf(_SC_PAGESIZE);

    return size > 0 ? (size_t)size : 4096u;
}

/* ---- the raw baseline: glibc's makecontext/swapcontext, nothing else ---- */

/* What every raw context swaps back to. */
static ucontext_t raw_main;

/* N raw contexts, their stacks carved out of one mapping, a page below
 * each default-sized stack: a guard page where the kernel has
 * MADV_GUARD_INSTALL, which guards without splitting the mapping, and
 * otherwise a mapped page that nothing touches. One map entry in all. */
struct raw_set {
    size_t count;     /* made so far, each swapped into once */
    size_t capacity;
    size_t next;      /* the next to resume, in turn */
    ucontext_t *contexts;
    char *mapping;
    size_t stride;
};

/* Whether the page below each raw stack is a guard page: 1 guarded, 0 not
 * (no MADV_GUARD_INSTALL), -1 not tried yet. */
static int raw_guarded = -1;

/* makecontext() passes ints only: the context's address comes in halves. */
static void raw_body(int hi, int lo)
{
    uintptr_t bits = ((uintptr_t)(unsigned)hi << 16 << 16) | (uintptr_t)(unsigned)lo;
    ucontext_t *self = (ucontext_t *)bits;

    for (;;)
        swapcontext(self, &raw_main);
}

static void raw_set_open(struct raw_set *set, size_t capacity)
{
    set->count = 0;
    set->next = 0;
    set->capacity = capacity;
    set->stride = page_size() + CORO_DEFAULT_STACK_SIZE;
    set->contexts = calloc(capacity, sizeof *set->contexts);
    if (set->contexts == NULL)
        die("out of memory for raw contexts");
    /* Reserved for the largest N asked for before any coroutine takes the
     * remaining map entries; only what is touched costs memory. */
    set->mapping = mmap(NULL, capacity * set->stride, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK | MAP_NORESERVE, -1, 0);
    if (set->mapping == MAP_FAILED)
        die_errno("mmap of raw stacks", errno);
}

/* Makes raw contexts up to count and swaps into each once, so that each
 * waits in its swapcontext() as a resumed coroutine waits in coro_yield(). */
static void raw_set_grow(struct raw_set *set, size_t count)
{
    for (; set->count < count; set->count++) {
        ucontext_t *uc = &set->contexts[set->count];
        char *guard = set->mapping + set->count * set->stride;
        uintptr_t bits = (uintptr_t)uc;

        if (raw_guarded != 0) {
            int error = madvise(guard, page_size(), MADV_GUARD_INSTALL) == 0 ? 0 : errno;

            if (error != 0 && (raw_guarded == 1 || error != EINVAL))
                die_errno("madvise(MADV_GUARD_INSTALL) below a raw stack", error);
            raw_guarded = error == 0;
        }
        if (getcontext(uc) != 0)
            die_errno("getcontext", errno);
        uc->uc_stack.ss_sp = guard + page_size();
        uc->uc_stack.ss_size = CORO_DEFAULT_STACK_SIZE;
        uc->uc_stack.ss_flags = 0;
        uc->uc_link = NULL;
        makecontext(uc, (void (*)(void))raw_body, 2, (int)(unsigned)(bits >> 16 >> 16),
                    (int)(unsigned)(bits & 0xffffffffu));
        if (swapcontext(&raw_main, uc) != 0)
            die_errno("swapcontext", errno);
    }
}

static void raw_set_close(struct raw_set *set)
{
    /* The contexts wait in swapcontext() forever: nothing runs on their
     * stacks any more. */
    munmap(set->mapping, set->capacity * set->stride);
    free(set->contexts);
    set->contexts = NULL;
    set->mapping = NULL;
    set->count = set->capacity = set->next = 0;
}

/* ns per raw round trip, over iterations round trips through the contexts
 * of set, in turn, from where the last call stopped. */
static double time_raw_round_trips(void *raw_set, long iterations)
{
    struct raw_set *set = raw_set;
    size_t i = set->next;
    double start = now_ns(), end;

    for (long k = 0; k < iterations; k++) {
        swapcontext(&raw_main, &set->contexts[i]);
        if (++i == set->count)
            i = 0;
    }
    end = now_ns();
    set->next = i;
    return (end - start) / (double)iterations;
}

/* ---- the minimal baseline: callee-saved registers, a stack pointer ---- */

/*
 * void bench_min_switch(void **save_sp, void *to_sp)
 *   Saves the registers the ABI calls callee-saved on the stack, stores the
 *   stack pointer in *save_sp, takes to_sp, restores the same registers from
 *   there and goes on at the return address saved there. Nothing else: no
 *   floating-point control state, no signal mask. It ends as
 *   src/switch_<arch>.S does, not with `ret`, whose predicted target (the
 *   caller of this very call) is never where a switch goes on: on x86-64
 *   it pops the return address and jumps to it, on AArch64 it branches to
 *   the loaded x30 with `br`.
 * void bench_min_start(void)
 *   Where a new context's first switch returns to: calls the function held
 *   in one callee-saved register with the argument held in another, as
 *   context_asm.c's coro__asm_start does. The function never returns.
 */
#if defined(__x86_64__)
#define MIN_SWITCH 1
#define MIN_SWITCH_NAME "minimal 6-register switch"

/* Frame at a saved stack pointer, 56 bytes:
 *   +0 r15  +8 r14  +16 r13  +24 r12  +32 rbx  +40 rbp  +48 return address
 * A first frame holds r12 = the argument, r13 = the function and the return
 * address bench_min_start. */
__asm__(".pushsection .text\n"
        ".globl bench_min_switch\n"
        ".hidden bench_min_switch\n"
        ".type bench_min_switch, @function\n"
        ".p2align 4\n"
        "bench_min_switch:\n"
        "    pushq %rbp\n"
        "    pushq %rbx\n"
        "    pushq %r12\n"
        "    pushq %r13\n"
        "    pushq %r14\n"
        "    pushq %r15\n"
        "    movq %rsp, (%rdi)\n"
        "    movq %rsi, %rsp\n"
        "    popq %r15\n"
        "    popq %r14\n"
        "    popq %r13\n"
        "    popq %r12\n"
        "    popq %rbx\n"
        "    popq %rbp\n"
        "    popq %rcx\n"
        "    jmpq *%rcx\n"
        ".size bench_min_switch, .-bench_min_switch\n"
        "\n"
        ".globl bench_min_start\n"
        ".hidden bench_min_start\n"
        ".type bench_min_start, @function\n"
        ".p2align 4\n"
        "bench_min_start:\n"
        "    movq %r12, %rdi\n"
        "    callq *%r13\n"
        "    ud2\n"
        ".size bench_min_start, .-bench_min_start\n"
        ".popsection\n");

#define MIN_FRAME_SIZE 56
#define MIN_SLOT_ARG 3   /* r12 */
#define MIN_SLOT_BODY 2  /* r13 */
#define MIN_SLOT_START 6 /* the return address */
/* The gap between a first frame and the stack's 16-byte aligned top: after
 * the seven pops (the last one takes the return address, which the switch
 * jumps to), bench_min_start runs with rsp % 16 == 0, so the function it
 * calls starts, as the ABI wants, with rsp % 16 == 8. */
#define MIN_TOP_GAP 16

#elif defined(__aarch64__)
#define MIN_SWITCH 1
#define MIN_SWITCH_NAME "minimal x19-x30,d8-d15 switch"

/* Frame at a saved stack pointer, 160 bytes, 16-byte aligned:
 *   +0 x19 x20  +16 x21 x22  +32 x23 x24  +48 x25 x26  +64 x27 x28
 *   +80 x29 x30  +96 d8 d9  +112 d10 d11  +128 d12 d13  +144 d14 d15
 * A first frame holds x19 = the argument, x20 = the function and
 * x30 = bench_min_start. */
__asm__(".pushsection .text\n"
        ".globl bench_min_switch\n"
        ".hidden bench_min_switch\n"
        ".type bench_min_switch, %function\n"
        ".p2align 4\n"
        "bench_min_switch:\n"
        "    sub sp, sp, #160\n"
        "    stp x19, x20, [sp, #0]\n"
        "    stp x21, x22, [sp, #16]\n"
        "    stp x23, x24, [sp, #32]\n"
        "    stp x25, x26, [sp, #48]\n"
        "    stp x27, x28, [sp, #64]\n"
        "    stp x29, x30, [sp, #80]\n"
        "    stp d8, d9, [sp, #96]\n"
        "    stp d10, d11, [sp, #112]\n"
        "    stp d12, d13, [sp, #128]\n"
        "    stp d14, d15, [sp, #144]\n"
        "    mov x9, sp\n"
        "    str x9, [x0]\n"
        "    mov sp, x1\n"
        "    ldp x19, x20, [sp, #0]\n"
        "    ldp x21, x22, [sp, #16]\n"
        "    ldp x23, x24, [sp, #32]\n"
        "    ldp x25, x26, [sp, #48]\n"
        "    ldp x27, x28, [sp, #64]\n"
        "    ldp x29, x30, [sp, #80]\n"
        "    ldp d8, d9, [sp, #96]\n"
        "    ldp d10, d11, [sp, #112]\n"
        "    ldp d12, d13, [sp, #128]\n"
        "    ldp d14, d15, [sp, #144]\n"
        "    add sp, sp, #160\n"
        "    br x30\n"
        ".size bench_min_switch, .-bench_min_switch\n"
        "\n"
        ".globl bench_min_start\n"
        ".hidden bench_min_start\n"
        ".type bench_min_start, %function\n"
        ".p2align 4\n"
        "bench_min_start:\n"
        "    mov x0, x19\n"
        "    blr x20\n"
        "    brk #0\n"
        ".size bench_min_start, .-bench_min_start\n"
        ".popsection\n");

#define MIN_FRAME_SIZE 160
#define MIN_SLOT_ARG 0    /* x19 */
#define MIN_SLOT_BODY 1   /* x20 */
#define MIN_SLOT_START 11 /* x30 */
#define MIN_TOP_GAP 0     /* sp is 16-byte aligned at all times */

#else
#define MIN_SWITCH 0 /* the _min figures are skipped */
#define MIN_SWITCH_NAME "minimal switch"
#endif

#if MIN_SWITCH
void bench_min_switch(void **save_sp, void *to_sp);
void bench_min_start(void);

/* What the minimal context switches back to. */
static void *min_main_sp;

/* A minimal context and its stack, of libcoro's default size. */
struct min_context {
    void *sp; /* the saved frame, while switched out */
    char *stack;
};

static void min_body(void *arg)
{
    struct min_context *self = arg;

    for (;;)
        bench_min_switch(&self->sp, min_main_sp);
}

/* Makes a minimal context and switches into it once, so that it waits in
 * its bench_min_switch() as a resumed coroutine waits in coro_yield(). */
static void min_open(struct min_context *ctx)
{
    uintptr_t top;
    uint64_t *frame;

    ctx->stack = mmap(NULL, CORO_DEFAULT_STACK_SIZE, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK | MAP_NORESERVE, -1, 0);
    if (ctx->stack == MAP_FAILED)
        die_errno("mmap of the minimal context's stack", errno);
    top = ((uintptr_t)ctx->stack + CORO_DEFAULT_STACK_SIZE) & ~(uintptr_t)15;
    frame = (uint64_t *)(top - MIN_TOP_GAP - MIN_FRAME_SIZE);
    memset(frame, 0, MIN_FRAME_SIZE + MIN_TOP_GAP);
    frame[MIN_SLOT_ARG] = (uint64_t)(uintptr_t)ctx;
    frame[MIN_SLOT_BODY] = (uint64_t)(uintptr_t)min_body;
    frame[MIN_SLOT_START] = (uint64_t)(uintptr_t)bench_min_start;
    ctx->sp = frame;
    bench_min_switch(&min_main_sp, ctx->sp);
}

static void min_close(struct min_context *ctx)
{
    /* The context waits in bench_min_switch() forever: nothing runs on its
     * stack any more. */
    munmap(ctx->stack, CORO_DEFAULT_STACK_SIZE);
    ctx->stack = NULL;
    ctx->sp = NULL;
}

/* ns per minimal round trip, over iterations round trips into ctx. */
static double time_min_round_trips(void *min_context, long iterations)
{
    struct min_context *ctx = min_context;
    double start = now_ns();

    for (long k = 0; k < iterations; k++)
        bench_min_switch(&min_main_sp, ctx->sp);
    return (now_ns() - start) / (double)iterations;
}
#endif

/* ---- libcoro ---- */

/* Hands every value sent straight back. */
static void *echo(coro_t *co, void *arg)
{
    void *value = arg;

    for (;;)
        value = coro_yield(co, value);
    return NULL; /* never reached: destroyed while suspended in the yield */
}

/* An echo coroutine, created and resumed up to its first coro_yield(); or
 * NULL, with errno set, when coro_create() fails. */
static coro_t *create_suspended(void)
{
    coro_t *co = coro_create(echo, NULL, 0);

    if (co != NULL && (coro_next(co) != NULL || coro_status(co) != CORO_SUSPENDED))
        die("a fresh echo coroutine did not suspend");
    return co;
}

/* A set of suspended echo coroutines. */
struct coro_set {
    coro_t **coros;
    size_t count;
    size_t capacity;
    size_t next; /* the next to resume, in turn */
    int error;   /* of the coro_create() that stopped the set short, or 0 */
};

/* Room for n coroutines, its pages touched: they count as the caller's
 * memory, not as the coroutines'. */
static void coro_set_reserve(struct coro_set *set, size_t n)
{
    *set = (struct coro_set){.coros = malloc(n * sizeof *set->coros), .capacity = n};
    if (set->coros == NULL)
        die("out of memory for coroutine pointers");
    memset(set->coros, 0, n * sizeof *set->coros);
}

/* Creates echo coroutines up to the set's capacity and resumes each once.
 * Stops early, with the error noted, when coro_create() fails. */
static void coro_set_fill(struct coro_set *set)
{
    while (set->count < set->capacity) {
        coro_t *co = create_suspended();

        if (co == NULL) {
            set->error = errno;
            break;
        }
        set->coros[set->count++] = co;
    }
}

/* coro_set_reserve() and coro_set_fill(); dies if not one was created. */
static void coro_set_open(struct coro_set *set, size_t n)
{
    coro_set_reserve(set, n);
    coro_set_fill(set);
    if (set->count == 0)
        die_errno("coro_create", set->error);
}

/* Destroys the coroutines, and keeps the room for them. */
static void coro_set_empty(struct coro_set *set)
{
    for (size_t i = 0; i < set->count; i++) {
        int error = coro_destroy(set->coros[i]);

        if (error != 0)
            die_errno("coro_destroy", error);
    }
    set->count = set->next = 0;
}

static void coro_set_close(struct coro_set *set)
{
    coro_set_empty(set);
    free(set->coros);
    set->coros = NULL;
    set->capacity = 0;
}

/* ns per libcoro round trip (coro_send + coro_yield), over iterations round
 * trips through the coroutines of set, in turn, from where the last call
 * stopped. */
static double time_coro_round_trips(void *coro_set, long iterations)
{
    struct coro_set *set = coro_set;
    size_t i = set->next;
    double start = now_ns(), end;

    for (long k = 0; k < iterations; k++) {
        void *sent = (void *)(uintptr_t)(k + 1);

        if (coro_send(set->coros[i], sent) != sent)
            die_errno("coro_send did not come back with the value sent", errno);
        if (++i == set->count)
            i = 0;
    }
    end = now_ns();
    set->next = i;
    return (end - start) / (double)iterations;
}

/* One create_destroy operation: an echo coroutine, created, resumed up to its
 * first coro_yield() and destroyed there. */
static void create_destroy_once(void)
{
    coro_t *co = create_suspended();
    int error;

    if (co == NULL)
        die_errno("coro_create", errno);
    error = coro_destroy(co);
    if (error != 0)
        die_errno("coro_destroy", error);
}

/* ns per create + first resume + destroy, over iterations of them. */
static double time_create_destroy(void *unused, long iterations)
{
    double start = now_ns();

    (void)unused;
    for (long k = 0; k < iterations; k++)
        create_destroy_once();
    return (now_ns() - start) / (double)iterations;
}

/* ---- the figures ---- */

/* The timed figures' results, printed once all figures are done. */
struct result {
    const char *name;
    size_t n, n_requested;
    int error; /* what stopped n short of n_requested, or 0 */
    double libcoro_ns, baseline_ns;
    int skipped; /* a _min figure on an architecture without the switch */
};

static struct result results[4 + ROUND_ROBIN_COUNTS];
static size_t result_count;

/* The memory figure's result. */
static struct {
    int done;
    size_t n, n_requested;
    int error;
    double rss, pte, vsz; /* growth in bytes per coroutine */
    double create_ns;     /* per coro_create() + first coro_next() */
    double kept;          /* resident bytes kept after destroying them all */
} memory;

/* Times the baseline and then libcoro in each repetition, after one warm-up
 * run of each (of at least n operations: a full turn round n contexts), and
 * records the medians as figure name. */
static void measure(const struct options *o, const char *name, size_t n, size_t n_requested,
                    int error, timer *baseline, void *baseline_ctx, timer *libcoro,
                    void *libcoro_ctx)
{
    double baseline_ns[MAX_REPS], libcoro_ns[MAX_REPS];
    long warm_up = o->iterations / 10 > (long)n ? o->iterations / 10 : (long)n;

    baseline(baseline_ctx, warm_up);
    libcoro(libcoro_ctx, warm_up);
    for (int r = 0; r < o->reps; r++) {
        baseline_ns[r] = baseline(baseline_ctx, o->iterations);
        libcoro_ns[r] = libcoro(libcoro_ctx, o->iterations);
    }
    results[result_count++] = (struct result){
        .name = name,
        .n = n,
        .n_requested = n_requested,
        .error = error,
        .libcoro_ns = median(libcoro_ns, o->reps),
        .baseline_ns = median(baseline_ns, o->reps),
    };
}

#if !MIN_SWITCH
static void add_skipped(const char *name)
{
    results[result_count++] = (struct result){.name = name, .skipped = 1};
}
#endif

static void run_round_trip(const struct options *o)
{
    struct raw_set raw;
    struct coro_set coros;

    raw_set_open(&raw, 1);
    raw_set_grow(&raw, 1);
    coro_set_open(&coros, 1);
    measure(o, "round_trip", 1, 1, 0, time_raw_round_trips, &raw, time_coro_round_trips, &coros);
    coro_set_close(&coros);
    raw_set_close(&raw);
}

static void run_create_destroy(const struct options *o)
{
    struct raw_set raw;

    raw_set_open(&raw, 1);
    raw_set_grow(&raw, 1);
    measure(o, "create_destroy", 1, 1, 0, time_raw_round_trips, &raw, time_create_destroy, NULL);
    raw_set_close(&raw);
}

static void run_round_trip_min(const struct options *o)
{
#if MIN_SWITCH
    struct min_context min;
    struct coro_set coros;

    min_open(&min);
    coro_set_open(&coros, 1);
    measure(o, "round_trip_min", 1, 1, 0, time_min_round_trips, &min, time_coro_round_trips,
            &coros);
    coro_set_close(&coros);
    min_close(&min);
#else
    (void)o;
    add_skipped("round_trip_min");
#endif
}

static void run_create_destroy_min(const struct options *o)
{
#if MIN_SWITCH
    struct min_context min;

    min_open(&min);
    measure(o, "create_destroy_min", 1, 1, 0, time_min_round_trips, &min, time_create_destroy,
            NULL);
    min_close(&min);
#else
    (void)o;
    add_skipped("create_destroy_min");
#endif
}

static void run_round_robin(const struct options *o)
{
    const size_t *counts = o->smoke ? smoke_round_robin_counts : round_robin_counts;

    for (size_t c = 0; c < ROUND_ROBIN_COUNTS; c++) {
        struct raw_set raw;
        struct coro_set coros;

        /* The raw stacks are reserved first, in one mapping: the coroutines
         * may then use up every map entry left. */
        raw_set_open(&raw, counts[c]);
        coro_set_open(&coros, counts[c]);
        raw_set_grow(&raw, coros.count);
        measure(o, "round_robin", coros.count, counts[c], coros.error, time_raw_round_trips, &raw,
                time_coro_round_trips, &coros);
        coro_set_close(&coros);
        raw_set_close(&raw);
    }
}

/* The process's memory, in bytes, from /proc/self/status. */
struct proc_memory {
    double rss; /* VmRSS: resident pages */
    double pte; /* VmPTE: page tables */
    double vsz; /* VmSize: virtual */
};

static void read_proc_memory(struct proc_memory *m)
{
    FILE *status = fopen("/proc/self/status", "r");
    char line[256];
    int found = 0;

    if (status == NULL)
        die_errno("/proc/self/status", errno);
    while (fgets(line, sizeof line, status) != NULL) {
        double kib; /* "VmRSS:\t  1234 kB" */

        if (sscanf(line, "VmRSS: %lf", &kib) == 1)
            m->rss = kib * 1024, found |= 1;
        else if (sscanf(line, "VmPTE: %lf", &kib) == 1)
            m->pte = kib * 1024, found |= 2;
        else if (sscanf(line, "VmSize: %lf", &kib) == 1)
            m->vsz = kib * 1024, found |= 4;
    }
    fclose(status);
    if (found != 7)
        die("no VmRSS, VmPTE or VmSize in /proc/self/status");
}

static void run_memory(const struct options *o)
{
    size_t n = o->smoke ? SMOKE_MEMORY_COROS : MEMORY_COROS;
    struct coro_set coros;
    struct proc_memory before, alive, after;
    double start, end;

    /* The first switch maps the thread's signal stack: not per coroutine. */
    create_destroy_once();
    coro_set_reserve(&coros, n);
    read_proc_memory(&before);
    start = now_ns();
    coro_set_fill(&coros);
    end = now_ns();
    read_proc_memory(&alive);
    if (coros.count == 0)
        die_errno("coro_create", coros.error);
    memory.done = 1;
    memory.n = coros.count;
    memory.n_requested = n;
    memory.error = coros.error;
    memory.rss = (alive.rss - before.rss) / (double)coros.count;
    memory.pte = (alive.pte - before.pte) / (double)coros.count;
    memory.vsz = (alive.vsz - before.vsz) / (double)coros.count;
    memory.create_ns = (end - start) / (double)coros.count;
    coro_set_empty(&coros);
    read_proc_memory(&after);
    memory.kept = (after.rss + after.pte) - (before.rss + before.pte);
    coro_set_close(&coros);
}

/* ---- the report ---- */

static void cpu_model(char *buf, size_t cap)
{
    FILE *cpuinfo = fopen("/proc/cpuinfo", "r");
    char line[512];

    snprintf(buf, cap, "unknown");
    if (cpuinfo == NULL)
        return;
    while (fgets(line, sizeof line, cpuinfo) != NULL) {
        if (strncmp(line, "model name", 10) == 0) {
            const char *value = strchr(line, ':');

            if (value != NULL) {
                value++;
                while (*value == ' ' || *value == '\t')
                    value++;
                snprintf(buf, cap, "%s", value);
                buf[strcspn(buf, "\n")] = '\0';
            }
            break;
        }
    }
    fclose(cpuinfo);
}

static long max_map_count(void)
{
    FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
    long value = -1;

    if (f != NULL) {
        if (fscanf(f, "%ld", &value) != 1)
            value = -1;
        fclose(f);
    }
    return value;
}

static const char *baseline_of(const char *name)
{
    if (strcmp(name, "round_trip") == 0)
        return "raw swapcontext pair";
    if (strcmp(name, "round_trip_min") == 0)
        return MIN_SWITCH_NAME " pair";
    if (strcmp(name, "create_destroy") == 0)
        return "one raw round trip";
    if (strcmp(name, "create_destroy_min") == 0)
        return "one " MIN_SWITCH_NAME " round trip";
    return "raw round trips, same N";
}

static const char *limit_name(int error)
{
    return error != 0 ? error_name(error) : "none";
}

static void print_shortfall(size_t n, size_t n_requested, int error)
{
    if (n < n_requested)
        printf("    N=%zu not reachable: %s at %zu (vm.max_map_count %ld)\n", n_requested,
               error_name(error), n, max_map_count());
}

static void report(const struct options *o)
{
    char cpu[256], cpu_token[256];
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);

    cpu_model(cpu, sizeof cpu);
    snprintf(cpu_token, sizeof cpu_token, "%s", cpu);
    for (char *p = cpu_token; *p != '\0'; p++)
        if (*p == ' ' || *p == '\t' || *p == '=')
            *p = '_';

    printf("coro-bench%s\n", o->smoke ? " (smoke: tiny counts, figures meaningless)" : "");
    printf("  cpu       %s (%ld online)\n", cpu, cpus);
    printf("  backend   %s\n", coro_backend());
    printf("  counts    %d repetitions of %ld operations per figure; stack %u bytes (default)\n",
           o->reps, o->iterations, (unsigned)CORO_DEFAULT_STACK_SIZE);
    printf("  method    medians; each repetition times the baseline, then libcoro\n");
    if (result_count > 0)
        printf("\n  %-26s %14s %14s %8s  %s\n", "figure", "libcoro ns/op", "baseline ns/op",
               "ratio", "baseline");
    for (size_t i = 0; i < result_count; i++) {
        const struct result *r = &results[i];
        char label[64];

        if (r->skipped) {
            printf("  %-26s %14s %14s %8s  %s\n", r->name, "-", "-", "-",
                   "skipped: no minimal switch for this architecture");
            continue;
        }
        if (strcmp(r->name, "round_robin") == 0)
            snprintf(label, sizeof label, "round_robin N=%zu", r->n);
        else
            snprintf(label, sizeof label, "%s", r->name);
        printf("  %-26s %14.1f %14.1f %8.3f  %s\n", label, r->libcoro_ns, r->baseline_ns,
               r->libcoro_ns / r->baseline_ns, baseline_of(r->name));
        print_shortfall(r->n, r->n_requested, r->error);
    }
    if (raw_guarded >= 0)
        printf("  raw stacks: one MAP_NORESERVE mapping, %s\n",
               raw_guarded ? "a guard page (MADV_GUARD_INSTALL) below each"
                           : "a mapped, untouched page below each (no MADV_GUARD_INSTALL)");
    if (memory.done) {
        printf("\n  memory, %zu coroutines suspended in coro_yield():\n", memory.n);
        printf("    resident  %.0f bytes per coroutine (RSS + page tables): RSS %.0f, page "
               "tables %.0f\n",
               memory.rss + memory.pte, memory.rss, memory.pte);
        printf("    virtual   %.0f bytes per coroutine\n", memory.vsz);
        printf("    create    %.1f ns per coro_create() + first coro_next() with %zu alive, "
               "%.0f per second\n",
               memory.create_ns, memory.n, 1e9 / memory.create_ns);
        printf("    kept      %.1f MiB resident (RSS + page tables) after destroying them all\n",
               memory.kept / (1024.0 * 1024.0));
        printf("    (goals quoted for 1000000: resident at most 4608 bytes with asm, 5120 with "
               "ucontext; kept at most 64 MiB)\n");
        print_shortfall(memory.n, memory.n_requested, memory.error);
    }

    printf("\nBENCH name=env backend=%s cpu=%s cpus=%ld reps=%d iterations=%ld\n", coro_backend(),
           cpu_token, cpus, o->reps, o->iterations);
    if (memory.done)
        printf("BENCH name=memory n=%zu n_requested=%zu rss_bytes_per_coro=%.0f "
               "pte_bytes_per_coro=%.0f resident_bytes_per_coro=%.0f vsz_bytes_per_coro=%.0f "
               "create_ns=%.1f creates_per_s=%.0f kept_after_destroy_bytes=%.0f limit=%s\n",
               memory.n, memory.n_requested, memory.rss, memory.pte, memory.rss + memory.pte,
               memory.vsz, memory.create_ns, 1e9 / memory.create_ns, memory.kept,
               limit_name(memory.error));
    for (size_t i = 0; i < result_count; i++) {
        const struct result *r = &results[i];

        if (r->skipped)
            printf("BENCH name=%s skipped=no_minimal_switch_for_this_architecture\n", r->name);
        else if (strcmp(r->name, "round_robin") == 0)
            printf("BENCH name=%s n=%zu n_requested=%zu libcoro_ns=%.1f baseline_ns=%.1f "
                   "ratio=%.3f reps=%d iterations=%ld limit=%s\n",
                   r->name, r->n, r->n_requested, r->libcoro_ns, r->baseline_ns,
                   r->libcoro_ns / r->baseline_ns, o->reps, o->iterations,
                   limit_name(r->error));
        else
            printf("BENCH name=%s n=%zu libcoro_ns=%.1f baseline_ns=%.1f ratio=%.3f reps=%d "
                   "iterations=%ld\n",
                   r->name, r->n, r->libcoro_ns, r->baseline_ns, r->libcoro_ns / r->baseline_ns,
                   o->reps, o->iterations);
    }
}

/* ---- --probe: libcoro operations alone, for strace -c ---- */

static int probe(const struct options *o)
{
    if (strcmp(o->probe, "round_trip") == 0) {
        struct coro_set coros;

        coro_set_open(&coros, 1);
        time_coro_round_trips(&coros, o->iterations);
        coro_set_close(&coros);
    } else if (strcmp(o->probe, "create_destroy") == 0) {
        time_create_destroy(NULL, o->iterations);
    } else {
        fprintf(stderr, "coro-bench: --probe takes round_trip or create_destroy\n");
        return 2;
    }
    printf("probe %s iterations=%ld\n", o->probe, o->iterations);
    return 0;
}

/* ---- the command line ---- */

static _Noreturn void usage(int status)
{
    fprintf(status ? stderr : stdout,
            "usage: coro-bench [--smoke] [--reps N] [--iterations N] [--only NAME]\n"
            "       coro-bench --probe round_trip|create_destroy [--iterations N]\n"
            "NAME: round_trip, round_trip_min, create_destroy, create_destroy_min,\n"
            "      round_robin, memory\n");
    exit(status);
}

static long positive(const char *flag, const char *text, long max)
{
    char *end;
    long value;

    errno = 0;
    value = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || value <= 0 || value > max) {
        fprintf(stderr, "coro-bench: %s wants a whole number from 1 to %ld, not '%s'\n", flag,
                max, text);
        exit(2);
    }
    return value;
}

static int known_figure(const char *name)
{
    return strcmp(name, "round_trip") == 0 || strcmp(name, "round_trip_min") == 0 ||
           strcmp(name, "create_destroy") == 0 || strcmp(name, "create_destroy_min") == 0 ||
           strcmp(name, "round_robin") == 0 || strcmp(name, "memory") == 0;
}

static void parse(int argc, char **argv, struct options *o)
{
    int reps = 0;
    long iterations = 0;

    *o = (struct options){0};
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(arg, "--smoke") == 0) {
            o->smoke = 1;
            continue;
        }
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)
            usage(0);
        if (strcmp(arg, "--reps") != 0 && strcmp(arg, "--iterations") != 0 &&
            strcmp(arg, "--only") != 0 && strcmp(arg, "--probe") != 0) {
            fprintf(stderr, "coro-bench: unknown argument '%s'\n", arg);
            usage(2);
        }
        if (value == NULL) {
            fprintf(stderr, "coro-bench: %s wants a value\n", arg);
            usage(2);
        }
        i++;
        if (strcmp(arg, "--reps") == 0) {
            reps = (int)positive(arg, value, MAX_REPS);
        } else if (strcmp(arg, "--iterations") == 0) {
            iterations = positive(arg, value, LONG_MAX / 2);
        } else if (strcmp(arg, "--only") == 0) {
            if (!known_figure(value)) {
                fprintf(stderr, "coro-bench: no figure named '%s'\n", value);
                usage(2);
            }
            o->only = value;
        } else {
            o->probe = value;
        }
    }
    o->reps = reps ? reps : o->smoke ? SMOKE_REPS : DEFAULT_REPS;
    o->iterations = iterations ? iterations : o->smoke ? SMOKE_ITERATIONS : DEFAULT_ITERATIONS;
}

static int wanted(const struct options *o, const char *name)
{
    return o->only == NULL || strcmp(o->only, name) == 0;
}

int main(int argc, char **argv)
{
    struct options o;

    parse(argc, argv, &o);
    if (o.probe != NULL)
        return probe(&o);
    /* Memory first, while the heap holds no freed blocks that the new
     * coroutines would reuse without growing the process. */
    if (wanted(&o, "memory"))
        run_memory(&o);
    if (wanted(&o, "round_trip"))
        run_round_trip(&o);
    if (wanted(&o, "round_trip_min"))
        run_round_trip_min(&o);
    if (wanted(&o, "create_destroy"))
        run_create_destroy(&o);
    if (wanted(&o, "create_destroy_min"))
        run_create_destroy_min(&o);
    if (wanted(&o, "round_robin"))
        run_round_robin(&o);
    report(&o);
    return 0;
}
