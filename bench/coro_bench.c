/*
 * coro-bench: what libcoro's switches cost beside raw glibc swapcontext()
 * and two hand-written register switches (min, fp), and what a million
 * suspended coroutines cost in memory. The method, the figures, the latest
 * measurements and the goals: docs/benchmarks.md.
 *
 * Output: two '#' lines, then a line per figure as it is done (wrapped here;
 * no value has a space). NAME is memory, round_trip, round_trip_min,
 * create_destroy, create_destroy_min, round_robin or stack_used, in the
 * order run:
 *   BENCH name=env backend=B cpu=MODEL_WITH_UNDERSCORES cpus=C
 *     guard_regions=yes|no max_map_count=M wine=yes|no reps=R iterations=I
 *   BENCH name=memory n=N n_requested=N rss_bytes_per_coro=B
 *     pte_bytes_per_coro=B resident_bytes_per_coro=B vsz_bytes_per_coro=B
 *     create_ns=F creates_per_s=F page_touch_ns=F create_ratio=F
 *     kept_after_destroy_bytes=B limit=L
 *   BENCH name=NAME n=N n_requested=N libcoro_ns=F baseline_ns=F ratio=F
 *     [fp_ns=F fp_ratio=F, the _min figures]
 *     [chase_ns=F chase_ratio=F, round_robin] [used_bytes=B, stack_used]
 *     reps=R iterations=I limit=L
 *   BENCH name=NAME skipped=no_minimal_switch_for_this_architecture
 *     (a _min figure, where CMake builds no min_switch_<arch>.S)
 *   BENCH name=NAME skipped=no_makecontext_in_this_c_library
 *     (a figure against raw swapcontext, where the C library has none: musl)
 * On Windows the raw baseline is the system's fibers (SwitchToFiber), the
 * memory figure's rss is the working set, its vsz the commit charge, and
 * its pte 0 (not reported there); cpu is PROCESSOR_IDENTIFIER.
 * ratio = libcoro_ns / baseline_ns, fp_ratio = libcoro_ns / fp_ns,
 * chase_ratio = libcoro_ns / chase_ns, create_ratio = create_ns /
 * page_touch_ns (page_touch_ns: the first touch of a fresh page, chase_ns:
 * a pointer chase through the coroutines' records; see their functions).
 * stack_used times coro_stack_used() over N suspended coroutines in turn,
 * against the system call it makes, mincore() (QueryWorkingSetEx() on
 * Windows), and the same scan for the lowest page in memory, over as many
 * stacks laid out as libcoro's, each with its top page touched
 * (lowest_residents()); used_bytes is the median of what coro_stack_used()
 * returned for the N. limit is none when n_requested was reached, else the
 * failed coro_create()'s error. memory, round_robin and stack_used create
 * coroutines until coro_create() fails, and report the N reached.
 *
 * Flags: --smoke (tiny counts, for the ctest: the figures mean nothing),
 * --reps N (default 11), --iterations N (default 100000), --only NAME. To
 * count libcoro's system calls or page faults (strace -c, perf stat), run
 * --only round_trip_min or create_destroy_min --reps 1 at two --iterations
 * counts and subtract: their baselines make none, and each series runs
 * --iterations operations plus a tenth as many to warm up.
 */
#define _DEFAULT_SOURCE   /* MAP_ANONYMOUS, MAP_STACK, MAP_NORESERVE */
#define _XOPEN_SOURCE 700 /* ucontext: getcontext, makecontext, swapcontext */

#include <coro.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(_WIN32)
#include <windows.h>
/* QueryWorkingSetEx() as kernel32 exports it (K32QueryWorkingSetEx), the
 * one libcoro calls (src/pages_win32.c). */
#define PSAPI_VERSION 2
#include <psapi.h>
#else
#include <sys/mman.h>
#include <unistd.h>
#endif
#if BENCH_HAVE_UCONTEXT
#include <ucontext.h>
#endif
/* The raw baseline: swapcontext(), or on Windows its fibers. */
#if BENCH_HAVE_UCONTEXT || defined(_WIN32)
#define BENCH_HAVE_RAW 1
#else
#define BENCH_HAVE_RAW 0
#endif

#if !defined(_WIN32) && !defined(MADV_GUARD_INSTALL)
#define MADV_GUARD_INSTALL 102 /* Linux 6.13 on; older kernels say EINVAL */
#endif

#define MAX_REPS 1001
#define STACK_SIZE ((size_t)CORO_DEFAULT_STACK_SIZE)
#define GUARD_BYTES ((size_t)16 << 10) /* below each of libcoro's stacks: src/pool.h */

static struct {
    int smoke, reps;
    long iterations;
    const char *only; /* NULL: every figure */
} opt;
static size_t page;       /* the page size */
static int guard_regions; /* whether the kernel has MADV_GUARD_INSTALL */

static _Noreturn void die(const char *what, int error)
{
    fprintf(stderr, "coro-bench: %s%s%s\n", what, error ? ": " : "", error ? strerror(error) : "");
    exit(1);
}

static const char *limit_name(int error)
{
    return error == 0 ? "none" : error == ENOMEM ? "ENOMEM" : error == EAGAIN ? "EAGAIN" : "error";
}

#if defined(_WIN32)
static double now_ns(void)
{
    static LARGE_INTEGER frequency;
    LARGE_INTEGER count;

    if (frequency.QuadPart == 0)
        QueryPerformanceFrequency(&frequency);
    QueryPerformanceCounter(&count);
    return (double)count.QuadPart * 1e9 / (double)frequency.QuadPart;
}

/* Committed, resident only where touched, as mmap's are. */
static char *map_stacks(size_t bytes)
{
    void *p = VirtualAlloc(NULL, bytes, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);

    if (p == NULL)
        die("VirtualAlloc of baseline stacks", ENOMEM);
    return p;
}

static void unmap_stacks(char *at, size_t bytes)
{
    (void)bytes;
    VirtualFree(at, 0, MEM_RELEASE);
}
#else
static double now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}
#endif

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

#if !defined(_WIN32)
static char *map_stacks(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK | MAP_NORESERVE, -1, 0);

    if (p == MAP_FAILED)
        die("mmap of baseline stacks", errno);
    return p;
}

static void unmap_stacks(char *at, size_t bytes)
{
    munmap(at, bytes);
}
#endif

#if !defined(_WIN32)
/* The rest of the first line of path that starts with key, after any ':'
 * and blanks, into buf; "unknown" if there is none. */
static char *proc_field(const char *path, const char *key, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    char line[512];
    size_t len = strlen(key);

    snprintf(buf, cap, "unknown");
    while (f != NULL && fgets(line, sizeof line, f) != NULL)
        if (strncmp(line, key, len) == 0) {
            char *value = line + len + strspn(line + len, ": \t");

            snprintf(buf, cap, "%.*s", (int)strcspn(value, "\n"), value);
            break;
        }
    if (f != NULL)
        fclose(f);
    return buf;
}
#endif

/* What a figure times: count operations on what ctx holds. */
struct series {
    void (*run)(void *ctx, long count); /* NULL: none (fp, but in _min) */
    void *ctx;
};

/* ---- raw: the C library's makecontext/swapcontext, nothing else ---- */

#if BENCH_HAVE_UCONTEXT && !defined(_WIN32)

static ucontext_t raw_main; /* what every raw context swaps back to */
static ucontext_t *raw_new; /* the one raw_set_grow() enters: raw_body's own */

struct raw_set {
    ucontext_t *contexts;
    size_t count, next; /* next: the one to resume next, in turn */
    char *mapping;      /* the stacks, a page below each */
};

static void raw_body(void)
{
    ucontext_t *self = raw_new;

    for (;;)
        if (swapcontext(self, &raw_main) != 0)
            die("swapcontext", errno);
}

static void raw_set_grow(struct raw_set *set, size_t count)
{
    for (; set->count < count; set->count++) {
        ucontext_t *uc = &set->contexts[set->count];
        char *guard = set->mapping + set->count * (page + STACK_SIZE);

        if (guard_regions && madvise(guard, page, MADV_GUARD_INSTALL) != 0)
            die("madvise(MADV_GUARD_INSTALL) below a raw stack", errno);
        if (getcontext(uc) != 0)
            die("getcontext", errno);
        uc->uc_stack = (stack_t){.ss_sp = guard + page, .ss_size = STACK_SIZE};
        uc->uc_link = NULL;
        makecontext(uc, raw_body, 0);
        raw_new = uc;
        if (swapcontext(&raw_main, uc) != 0)
            die("swapcontext", errno);
    }
}

static void raw_round_trips(void *raw_set, long count)
{
    struct raw_set *set = raw_set;
    size_t i = set->next;

    for (long k = 0; k < count; k++) {
        if (swapcontext(&raw_main, &set->contexts[i]) != 0)
            die("swapcontext", errno);
        if (++i == set->count)
            i = 0;
    }
    set->next = i;
}

static struct raw_set raw_set_open(size_t count, char *stacks)
{
    struct raw_set set = {.contexts = calloc(count, sizeof *set.contexts), .mapping = stacks};

    if (set.contexts == NULL)
        die("calloc of raw contexts", ENOMEM);
    return set;
}

/* The contexts wait in their switch forever: nothing runs on their stacks
 * any more. */
static void raw_set_close(struct raw_set *set)
{
    free(set->contexts);
}
#elif defined(_WIN32)
/* Windows' fibers (SwitchToFiber), which save the floating-point state as
 * libcoro's switch does (FIBER_FLAG_FLOAT_SWITCH). Each fiber has a stack
 * of its own, of the same size: the mapping is not theirs. */
static void *raw_main; /* the thread, as a fiber */

struct raw_set {
    void **fibers;
    size_t count, next;
};

static void WINAPI raw_body(void *arg)
{
    (void)arg;
    for (;;)
        SwitchToFiber(raw_main);
}

/* Up to count fibers, fewer where CreateFiberEx() fails (under wine, at
 * Linux's map limit): at least one. */
static void raw_set_grow(struct raw_set *set, size_t count)
{
    if (raw_main == NULL && (raw_main = ConvertThreadToFiber(NULL)) == NULL)
        die("ConvertThreadToFiber", ENOMEM);
    for (; set->count < count; set->count++) {
        void *fiber = CreateFiberEx(page, STACK_SIZE, FIBER_FLAG_FLOAT_SWITCH, raw_body, NULL);

        if (fiber == NULL)
            break;
        set->fibers[set->count] = fiber;
        SwitchToFiber(fiber);
    }
    if (set->count == 0)
        die("CreateFiberEx", ENOMEM);
}

/* Down to count fibers. */
static void raw_set_trim(struct raw_set *set, size_t count)
{
    while (set->count > count)
        DeleteFiber(set->fibers[--set->count]);
}

static void raw_round_trips(void *raw_set, long count)
{
    struct raw_set *set = raw_set;
    size_t i = set->next;

    for (long k = 0; k < count; k++) {
        SwitchToFiber(set->fibers[i]);
        if (++i == set->count)
            i = 0;
    }
    set->next = i;
}

static struct raw_set raw_set_open(size_t count, char *stacks)
{
    struct raw_set set = {.fibers = calloc(count, sizeof *set.fibers)};

    (void)stacks;
    if (set.fibers == NULL)
        die("calloc of fibers", ENOMEM);
    return set;
}

static void raw_set_close(struct raw_set *set)
{
    for (size_t i = 0; i < set->count; i++)
        DeleteFiber(set->fibers[i]);
    free(set->fibers);
}
#endif

/* ---- min and fp: the register switches of min_switch_<arch>.S ---- */

#if BENCH_HAVE_MIN_SWITCH
#include "switch_frame.h"

void bench_min_switch(void **save_sp, void *to_sp);
void bench_fp_switch(void **save_sp, void *to_sp);
void bench_min_start(void);

/* A switch's first frame, in bytes from the saved stack pointer: fp's is
 * libcoro's (src/switch_frame.h); min's is that frame without its FP
 * control state. bench_min_start calls the word at fn with the word at
 * arg; fp, unless -1, is where the FP control state goes. */
struct frame_layout {
    int size, arg, fn, start, fp;
};
#define MIN_AT(at)                                                             \
    ((at) > CORO__FRAME_FP_STATE ? (at) - CORO__FRAME_FP_STATE_BYTES : (at))
static const struct frame_layout
    fp_frame = {CORO__FRAME_SIZE, CORO__FRAME_START_ARG, CORO__FRAME_START_FN, CORO__FRAME_PC,
                CORO__FRAME_FP_STATE},
    min_frame = {CORO__FRAME_SIZE - CORO__FRAME_FP_STATE_BYTES, MIN_AT(CORO__FRAME_START_ARG),
                 MIN_AT(CORO__FRAME_START_FN), MIN_AT(CORO__FRAME_PC), -1};
#if defined(__x86_64__)
/* The ABI's initial MXCSR 0x1f80 and x87 control word 0x037f: all
 * exceptions masked, round to nearest, x87 extended precision. */
static const uint64_t initial_fp_state = (uint64_t)0x037f << 32 | 0x1f80;
_Static_assert(CORO__FRAME_MXCSR == 0 && CORO__FRAME_X87_CW == 4, "initial_fp_state's layout");
#else
/* FPCR (AArch64) or frm (RISC-V): round to nearest, no traps. */
static const uint64_t initial_fp_state = 0;
#endif

/* Saved stack pointers: the one every min or fp context switches back to,
 * and theirs. */
static void *asm_main_sp, *min_sp, *fp_sp;

/* A context's body, and round trips into it, stamped out for each switch so
 * that every switch is a direct call, as libcoro's are: a call through a
 * pointer would make the baseline slower. */
#define ASM_BODY_AND_ROUND_TRIPS(name)                                    \
    static void name##_body(void *sp)                                     \
    {                                                                     \
        for (;;)                                                          \
            bench_##name##_switch(sp, asm_main_sp);                       \
    }                                                                     \
    static void name##_round_trips(void *sp, long count)                  \
    {                                                                     \
        for (long k = 0; k < count; k++)                                  \
            bench_##name##_switch(&asm_main_sp, *(void **)sp);            \
    }
ASM_BODY_AND_ROUND_TRIPS(min)
ASM_BODY_AND_ROUND_TRIPS(fp)

static void put_word(char *frame, int at, uint64_t word)
{
    memcpy(frame + at, &word, sizeof word);
}

/* A context on stack whose saved stack pointer is *sp: lays out a first
 * frame whose switch lands in body(sp), and makes one round trip, after
 * which the context waits in its first switch back. */
static struct series asm_open(void **sp, char *stack, const struct frame_layout *layout,
                              void (*body)(void *), void (*round_trips)(void *, long))
{
    uintptr_t top = ((uintptr_t)stack + STACK_SIZE) & ~(uintptr_t)15;
    char *frame = (char *)(top - CORO__FRAME_TOP_GAP) - layout->size;

    memset(frame, 0, (size_t)layout->size + CORO__FRAME_TOP_GAP);
    put_word(frame, layout->arg, (uintptr_t)sp);
    put_word(frame, layout->fn, (uintptr_t)body);
    put_word(frame, layout->start, (uintptr_t)bench_min_start);
    if (layout->fp >= 0)
        put_word(frame, layout->fp, initial_fp_state);
    *sp = frame;
    round_trips(sp, 1);
    return (struct series){round_trips, sp};
}
#endif

/* ---- libcoro ---- */

static void *echo(coro_t *co, void *value)
{
    for (;;)
        value = coro_yield(co, value);
    return NULL; /* never reached: destroyed while suspended in the yield */
}

/* An echo coroutine suspended in its first coro_yield(); or NULL, with errno
 * set, when coro_create() fails. */
static coro_t *create_suspended(void)
{
    coro_t *co = coro_create(echo, NULL, 0);

    if (co != NULL && (coro_next(co) != NULL || coro_status(co) != CORO_SUSPENDED))
        die("a fresh echo coroutine did not suspend", errno);
    return co;
}

struct coro_set {
    coro_t **coros;
    size_t count, capacity, next; /* next: the one to resume next, in turn */
    size_t next_chased;           /* the chase's own cursor (chase_records()) */
    int error; /* of the coro_create() that stopped it short, or 0 */
};

/* Room for n coroutines, touched now so as not to count as theirs. */
static void coro_set_reserve(struct coro_set *set, size_t n)
{
    *set = (struct coro_set){.coros = malloc(n * sizeof *set->coros), .capacity = n};
    if (set->coros == NULL)
        die("malloc of coroutine pointers", ENOMEM);
    memset(set->coros, 0, n * sizeof *set->coros);
}

/* Suspended echo coroutines up to the room, until coro_create() fails: at
 * least one. */
static void coro_set_fill(struct coro_set *set)
{
    coro_t *co;

    while (set->count < set->capacity && (co = create_suspended()) != NULL)
        set->coros[set->count++] = co;
    set->error = set->count < set->capacity ? errno : 0;
    if (set->count == 0)
        die("coro_create", set->error);
}

static void coro_set_empty(struct coro_set *set)
{
    for (size_t i = 0; i < set->count; i++) {
        int error = coro_destroy(set->coros[i]);

        if (error != 0)
            die("coro_destroy", error);
    }
    set->count = 0;
}

static void coro_round_trips(void *coro_set, long count)
{
    struct coro_set *set = coro_set;
    size_t i = set->next;

    for (long k = 0; k < count; k++) {
        void *sent = (void *)(uintptr_t)(k + 1);

        if (coro_send(set->coros[i], sent) != sent)
            die("coro_send did not hand back the value sent", errno);
        if (++i == set->count)
            i = 0;
    }
    set->next = i;
}

/* Round trips through the one coroutine of a set, held in a local as the
 * min and fp loops hold their one context: the loop then adds the same
 * work on both sides, and nothing an array of coroutines would. */
static void coro_round_trips_one(void *coro_set, long count)
{
    coro_t *co = ((struct coro_set *)coro_set)->coros[0];

    for (long k = 0; k < count; k++) {
        void *sent = (void *)(uintptr_t)(k + 1);

        if (coro_send(co, sent) != sent)
            die("coro_send did not hand back the value sent", errno);
    }
}

/*
 * The floor for a switch into a cold coroutine: one load from each
 * coroutine's record, at the top of its stack, in the round robin's order,
 * each load's address depending on the word the last one loaded, so that
 * no two overlap (a pointer chase). Its cursor runs half the set ahead of
 * the round robin's, so that neither finds lines the other brought in.
 */
static void chase_records(void *coro_set, long count)
{
    struct coro_set *set = coro_set;
    size_t i = set->next_chased;
    uintptr_t word = 0;

    for (long k = 0; k < count; k++) {
        uintptr_t copy = word;
        const char *record;

        /* copy is word, which the compiler cannot know: the address waits
         * for the load before it, as a chase's does. */
        __asm__("" : "+r"(copy));
        record = (const char *)set->coros[i] + (word - copy);
        memcpy(&word, record, sizeof word);
        if (++i == set->count)
            i = 0;
    }
    set->next_chased = i;
    __asm__ volatile("" : : "r"(word));
}

static void creates_destroys(void *unused, long count)
{
    (void)unused;
    for (long k = 0; k < count; k++) {
        coro_t *co = create_suspended();
        int error = co != NULL ? coro_destroy(co) : errno;

        if (error != 0)
            die(co != NULL ? "coro_destroy" : "coro_create", error);
    }
}

/* coro_stack_used() of the set's coroutines in turn, each repetition going
 * on where the last stopped. */
static void stack_useds(void *coro_set, long count)
{
    struct coro_set *set = coro_set;
    size_t i = set->next;

    for (long k = 0; k < count; k++) {
        if (coro_stack_used(set->coros[i]) == 0)
            die("coro_stack_used", errno);
        if (++i == set->count)
            i = 0;
    }
    set->next = i;
}

/* ---- the figures ---- */

enum { BASELINE, FP, CHASE, LIBCORO, SERIES };

/* Runs the series in turn, untimed to warm up (r == -1), then timed in every
 * repetition, and prints the figure's line of their medians, with the
 * figure's own keys (extra: "" or " key=value...") before reps. */
static void measure(const char *name, size_t n, size_t n_requested, int error,
                    const struct series *series, const char *extra)
{
    static double ns[SERIES][MAX_REPS];
    double median_ns[SERIES] = {0};
    long warm_up = opt.iterations / 10 > (long)n ? opt.iterations / 10 : (long)n;

    for (int r = -1; r < opt.reps; r++)
        for (int s = 0; s < SERIES; s++)
            if (series[s].run != NULL) {
                long count = r < 0 ? warm_up : opt.iterations;
                double start = now_ns();

                series[s].run(series[s].ctx, count);
                if (r >= 0)
                    ns[s][r] = (now_ns() - start) / (double)count;
            }
    for (int s = 0; s < SERIES; s++) { /* the middle one, or the mean of the middle two */
        qsort(ns[s], (size_t)opt.reps, sizeof ns[s][0], compare_doubles);
        median_ns[s] = (ns[s][(opt.reps - 1) / 2] + ns[s][opt.reps / 2]) / 2;
    }
    printf("BENCH name=%s n=%zu n_requested=%zu libcoro_ns=%.1f baseline_ns=%.1f ratio=%.3f", name,
           n, n_requested, median_ns[LIBCORO], median_ns[BASELINE],
           median_ns[LIBCORO] / median_ns[BASELINE]);
    if (series[FP].run != NULL)
        printf(" fp_ns=%.1f fp_ratio=%.3f", median_ns[FP], median_ns[LIBCORO] / median_ns[FP]);
    if (series[CHASE].run != NULL)
        printf(" chase_ns=%.1f chase_ratio=%.3f", median_ns[CHASE],
               median_ns[LIBCORO] / median_ns[CHASE]);
    printf("%s reps=%d iterations=%ld limit=%s\n", extra, opt.reps, opt.iterations,
           limit_name(error));
    fflush(stdout);
}

static int wanted(const char *name)
{
    return opt.only == NULL || strcmp(opt.only, name) == 0;
}

enum baselines { RAW, MIN_AND_FP };
enum operation { ROUND_TRIPS, CREATE_DESTROY };

/* Figure name, if wanted: libcoro's operation (round trips through up to
 * n_requested coroutines in turn, or create_destroy) against round trips
 * through as many raw contexts, or through one min and one fp context
 * (n_requested 1). */
static void run_figure(const char *name, size_t n_requested, enum baselines baselines,
                       enum operation operation)
{
    struct series series[SERIES] = {{0}};
    struct coro_set coros = {0};
#if BENCH_HAVE_RAW
    struct raw_set raw = {0};
#endif
    size_t n = 1, stacks_size = baselines == RAW ? n_requested * (page + STACK_SIZE)
                                                 : 2 * STACK_SIZE; /* min's, fp's */
#if defined(_WIN32)
    if (baselines == RAW)
        stacks_size = page; /* fibers have stacks of their own */
#endif
    char *stacks;

    if (!wanted(name))
        return;
#if !BENCH_HAVE_MIN_SWITCH
    if (baselines == MIN_AND_FP) {
        printf("BENCH name=%s skipped=no_minimal_switch_for_this_architecture\n", name);
        return;
    }
#endif
#if !BENCH_HAVE_RAW
    if (baselines == RAW) {
        printf("BENCH name=%s skipped=no_makecontext_in_this_c_library\n", name);
        return;
    }
#endif
    /* The baselines' stacks first, in one mapping: the coroutines may then
     * take every map entry left. Only the pages touched cost memory. */
    stacks = map_stacks(stacks_size);
#if BENCH_HAVE_RAW
    if (baselines == RAW) {
        raw = raw_set_open(n_requested, stacks);
        series[BASELINE] = (struct series){raw_round_trips, &raw};
    }
#endif
#if BENCH_HAVE_MIN_SWITCH
    if (baselines == MIN_AND_FP) {
        series[BASELINE] = asm_open(&min_sp, stacks, &min_frame, min_body, min_round_trips);
        series[FP] = asm_open(&fp_sp, stacks + STACK_SIZE, &fp_frame, fp_body, fp_round_trips);
    }
#endif
    series[LIBCORO] = (struct series){creates_destroys, NULL};
    if (operation == ROUND_TRIPS) {
        coro_set_reserve(&coros, n_requested);
#if defined(_WIN32)
        /* The fibers first, then as many coroutines: under wine both take
         * mappings, and Linux's map limit would leave none for fibers made
         * after the coroutines. */
        if (baselines == RAW) {
            raw_set_grow(&raw, n_requested);
            coros.capacity = raw.count;
        }
#endif
        coro_set_fill(&coros);
        if (coros.capacity < n_requested && coros.error == 0)
            coros.error = ENOMEM; /* the fibers stopped short */
        n = coros.count;
        series[LIBCORO] = (struct series){baselines == RAW ? coro_round_trips
                                                           : coro_round_trips_one,
                                          &coros};
        if (strcmp(name, "round_robin") == 0) {
            coros.next_chased = n / 2;
            series[CHASE] = (struct series){chase_records, &coros};
        }
    }
#if defined(_WIN32)
    if (baselines == RAW) {
        raw_set_grow(&raw, n); /* for create_destroy: one */
        raw_set_trim(&raw, n);
    }
#elif BENCH_HAVE_RAW
    if (baselines == RAW)
        raw_set_grow(&raw, n);
#endif
    measure(name, n, n_requested, coros.error, series, "");
    coro_set_empty(&coros);
    free(coros.coros);
    /* The min and fp contexts wait in their switch forever: nothing runs on
     * their stacks any more. */
    unmap_stacks(stacks, stacks_size);
#if BENCH_HAVE_RAW
    if (baselines == RAW)
        raw_set_close(&raw);
#endif
}

enum { RSS, PTE, VSZ, FIELDS };

#if defined(_WIN32)
/* The working set (resident pages) and the commit charge, for VmSize:
 * Windows reports no page tables. */
static void read_memory(double bytes[FIELDS])
{
    PROCESS_MEMORY_COUNTERS_EX counters = {.cb = sizeof counters};

    if (!GetProcessMemoryInfo(GetCurrentProcess(), (PROCESS_MEMORY_COUNTERS *)&counters,
                              sizeof counters))
        die("GetProcessMemoryInfo", 0);
    bytes[RSS] = (double)counters.WorkingSetSize;
    bytes[PTE] = 0;
    bytes[VSZ] = (double)counters.PrivateUsage;
}
#else
/* VmRSS (resident pages), VmPTE (their page tables) and VmSize (virtual), in
 * bytes. */
static void read_memory(double bytes[FIELDS])
{
    static const char *const keys[FIELDS] = {"VmRSS", "VmPTE", "VmSize"};

    for (int f = 0; f < FIELDS; f++) {
        char buf[64], *end;

        bytes[f] = strtod(proc_field("/proc/self/status", keys[f], buf, sizeof buf), &end) * 1024;
        if (end == buf) /* "VmRSS:\t  1234 kB" */
            die("a field missing from /proc/self/status", 0);
    }
}
#endif

/*
 * The baseline of a create on a fresh stack: ns per first touch of a page
 * of fresh memory, the top page of each of n slots laid out as libcoro's
 * (a 16 KiB guard, src/pool.h, and a default stack), in one mapping that
 * is never touched otherwise; small pages, as libcoro's stacks have.
 */
static double page_touch_ns(size_t n)
{
    size_t stride = GUARD_BYTES + STACK_SIZE, bytes = n * stride;
    char *slots = map_stacks(bytes);
    double start, ns;

#if !defined(_WIN32)
    (void)madvise(slots, bytes, MADV_NOHUGEPAGE);
#endif
    start = now_ns();
    for (size_t i = 1; i <= n; i++)
        ((volatile char *)slots)[i * stride - page] = 1;
    ns = (now_ns() - start) / (double)n;
    unmap_stacks(slots, bytes);
    return ns;
}

/*
 * stack_used's baseline: what coro_stack_used() asks the system, asked the
 * same way of memory laid out the same way. Slots as libcoro's (a 16 KiB
 * guard, a guard region where the kernel has them, and a default stack),
 * in one mapping of small pages, the top page of each stack touched, as a
 * suspended coroutine's is; and for a stack, one mincore() over it into a
 * vector of a byte a page (on Windows, QueryWorkingSetEx() of its pages),
 * then the scan up from its bottom for the lowest page in memory, as
 * src/pages.c does.
 */
#define SLOT_BYTES (GUARD_BYTES + STACK_SIZE)
#define MAX_STACK_PAGES (STACK_SIZE / 4096) /* pages are 4 KiB or more */

struct resident_slots {
    char *mapping;
    size_t count, next, bytes; /* next: the one to ask about next, in turn */
    size_t used;               /* the sum of what they said, so that it is kept */
};

/* The offset from the bottom of stack of its lowest page in memory, or
 * STACK_SIZE when none is. */
static size_t lowest_resident(char *stack)
{
    size_t pages = STACK_SIZE / page;
#if defined(_WIN32)
    PSAPI_WORKING_SET_EX_INFORMATION in_memory[MAX_STACK_PAGES];

    for (size_t i = 0; i < pages; i++)
        in_memory[i].VirtualAddress = stack + i * page;
    if (!QueryWorkingSetEx(GetCurrentProcess(), in_memory, (DWORD)(pages * sizeof in_memory[0])))
        die("QueryWorkingSetEx", 0);
    for (size_t i = 0; i < pages; i++)
        if (in_memory[i].VirtualAttributes.Valid)
            return i * page;
#else
    unsigned char in_memory[MAX_STACK_PAGES];

    if (mincore(stack, STACK_SIZE, in_memory) != 0)
        die("mincore", errno);
    for (size_t i = 0; i < pages; i++)
        if (in_memory[i] & 1)
            return i * page;
#endif
    return STACK_SIZE;
}

/* On Windows, as src/pages_win32.c lays out its slots: reserved, each stack
 * committed, with a guard page (PAGE_GUARD) below it and the rest of the
 * guard reserved. (Under wine, asking about pages of one large committed
 * region costs several times as much.) */
static struct resident_slots resident_slots_open(size_t n)
{
    struct resident_slots slots = {.count = n, .bytes = n * SLOT_BYTES};

#if defined(_WIN32)
    slots.mapping = VirtualAlloc(NULL, slots.bytes, MEM_RESERVE, PAGE_READWRITE);
    if (slots.mapping == NULL)
        die("VirtualAlloc of baseline stacks", ENOMEM);
#else
    slots.mapping = map_stacks(slots.bytes);
    (void)madvise(slots.mapping, slots.bytes, MADV_NOHUGEPAGE);
#endif
    for (size_t i = 0; i < n; i++) {
        char *guard = slots.mapping + i * SLOT_BYTES;

#if defined(_WIN32)
        if (VirtualAlloc(guard + GUARD_BYTES, STACK_SIZE, MEM_COMMIT, PAGE_READWRITE) == NULL ||
            VirtualAlloc(guard + GUARD_BYTES - page, page, MEM_COMMIT,
                         PAGE_READWRITE | PAGE_GUARD) == NULL)
            die("VirtualAlloc of a baseline stack", ENOMEM);
#else
        if (guard_regions && madvise(guard, GUARD_BYTES, MADV_GUARD_INSTALL) != 0)
            die("madvise(MADV_GUARD_INSTALL) below a baseline stack", errno);
#endif
        ((volatile char *)guard)[SLOT_BYTES - page] = 1;
    }
    for (size_t i = 0; i < n; i++)
        if (lowest_resident(slots.mapping + i * SLOT_BYTES + GUARD_BYTES) != STACK_SIZE - page)
            die("a baseline stack is in memory below its top page, or not at all", 0);
    return slots;
}

/* lowest_resident() of the slots in turn, as stack_useds() goes. */
static void lowest_residents(void *resident_slots, long count)
{
    struct resident_slots *slots = resident_slots;
    size_t i = slots->next, used = 0;

    for (long k = 0; k < count; k++) {
        used += STACK_SIZE - lowest_resident(slots->mapping + i * SLOT_BYTES + GUARD_BYTES);
        if (++i == slots->count)
            i = 0;
    }
    slots->next = i;
    slots->used += used;
}

/* ns per coro_stack_used() over N suspended coroutines in turn, against
 * lowest_residents() over as many slots. */
static void run_stack_used(void)
{
    size_t n_requested = opt.smoke ? 10 : 1000, n;
    struct series series[SERIES] = {{0}};
    struct resident_slots slots;
    struct coro_set coros;
    double *used;
    char extra[64];

    if (!wanted("stack_used"))
        return;
    /* The baseline's mapping first, as run_figure() maps its stacks. */
    slots = resident_slots_open(n_requested);
    coro_set_reserve(&coros, n_requested);
    coro_set_fill(&coros);
    n = slots.count = coros.count;
    if ((used = malloc(n * sizeof *used)) == NULL)
        die("malloc of stack sizes", ENOMEM);
    for (size_t i = 0; i < n; i++)
        used[i] = (double)coro_stack_used(coros.coros[i]);
    qsort(used, n, sizeof *used, compare_doubles);
    snprintf(extra, sizeof extra, " used_bytes=%.0f", (used[(n - 1) / 2] + used[n / 2]) / 2);
    free(used);
    series[BASELINE] = (struct series){lowest_residents, &slots};
    series[LIBCORO] = (struct series){stack_useds, &coros};
    measure("stack_used", n, n_requested, coros.error, series, extra);
    coro_set_empty(&coros);
    free(coros.coros);
    unmap_stacks(slots.mapping, slots.bytes);
}

static void run_memory(void)
{
    size_t n_requested = opt.smoke ? 100 : 1000000, n;
    struct coro_set coros;
    double before[FIELDS], alive[FIELDS], after[FIELDS], start, end, touch_ns, create_ns;

    if (!wanted("memory"))
        return;
    creates_destroys(NULL, 1); /* maps the thread's signal stack: not per coroutine */
    coro_set_reserve(&coros, n_requested);
    read_memory(before);
    start = now_ns();
    coro_set_fill(&coros);
    end = now_ns();
    read_memory(alive);
    n = coros.count;
    coro_set_empty(&coros);
    read_memory(after);
    free(coros.coros);
    touch_ns = page_touch_ns(n);
    create_ns = (end - start) / (double)n;
    printf("BENCH name=memory n=%zu n_requested=%zu rss_bytes_per_coro=%.0f "
           "pte_bytes_per_coro=%.0f resident_bytes_per_coro=%.0f vsz_bytes_per_coro=%.0f "
           "create_ns=%.1f creates_per_s=%.0f page_touch_ns=%.1f create_ratio=%.3f "
           "kept_after_destroy_bytes=%.0f limit=%s\n",
           n, n_requested, (alive[RSS] - before[RSS]) / (double)n,
           (alive[PTE] - before[PTE]) / (double)n,
           (alive[RSS] + alive[PTE] - before[RSS] - before[PTE]) / (double)n,
           (alive[VSZ] - before[VSZ]) / (double)n, create_ns, (double)n * 1e9 / (end - start),
           touch_ns, create_ns / touch_ns, after[RSS] + after[PTE] - before[RSS] - before[PTE],
           limit_name(coros.error));
    fflush(stdout);
}

/* ---- the command line ---- */

static const char *const figure_names[] = {"memory",         "round_trip",         "round_trip_min",
                                           "create_destroy", "create_destroy_min", "round_robin",
                                           "stack_used"};

/* With no complaint (--help): the usage on stdout, exit 0; otherwise the
 * complaint and the usage on stderr, exit 2. */
static _Noreturn void usage(const char *complaint, ...)
{
    va_list args;

    if (complaint != NULL) {
        fputs("coro-bench: ", stderr);
        va_start(args, complaint);
        vfprintf(stderr, complaint, args);
        va_end(args);
    }
    fprintf(complaint ? stderr : stdout,
            "usage: coro-bench [--smoke] [--reps N] [--iterations N] [--only NAME]\n"
            "NAME: memory, round_trip, round_trip_min, create_destroy, create_destroy_min,\n"
            "      round_robin, stack_used (the method and the output: bench/coro_bench.c)\n");
    exit(complaint ? 2 : 0);
}

static long whole_number(const char *flag, const char *text, long max)
{
    char *end = NULL;
    long value = text != NULL ? strtol(text, &end, 10) : 0; /* max < LONG_MAX */

    if (value < 1 || value > max || *end != '\0')
        usage("%s wants a whole number from 1 to %ld\n", flag, max);
    return value;
}

static const char *figure_name(const char *text)
{
    for (size_t f = 0; text != NULL && f < sizeof figure_names / sizeof *figure_names; f++)
        if (strcmp(text, figure_names[f]) == 0)
            return figure_names[f];
    usage("--only wants a figure's name\n");
}

static void parse(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i]; /* a missing value is argv[argc], NULL */

        if (strcmp(arg, "--smoke") == 0)
            opt.smoke = 1;
        else if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)
            usage(NULL);
        else if (strcmp(arg, "--reps") == 0)
            opt.reps = (int)whole_number(arg, argv[++i], MAX_REPS);
        else if (strcmp(arg, "--iterations") == 0)
            opt.iterations = whole_number(arg, argv[++i], LONG_MAX / 2);
        else if (strcmp(arg, "--only") == 0)
            opt.only = figure_name(argv[++i]);
        else
            usage("unknown argument '%s'\n", arg);
    }
    opt.reps = opt.reps ? opt.reps : opt.smoke ? 3 : 11;
    opt.iterations = opt.iterations ? opt.iterations : opt.smoke ? 200 : 100000;
}

#if defined(_WIN32)
/* Whether this runs under wine, whose ntdll says so. */
static int under_wine(void)
{
    HMODULE ntdll = GetModuleHandleA("ntdll.dll");

    return ntdll != NULL && GetProcAddress(ntdll, "wine_get_version") != NULL;
}
#endif

int main(int argc, char **argv)
{
    static size_t round_robin_ns[] = {1, 1000, 1000000}, smoke_ns[] = {1, 10, 100};
    char cpu[256], map_count[32];
    const char *wine = "no";
    long cpus;

    parse(argc, argv);
#if defined(_WIN32)
    {
        SYSTEM_INFO info;
        const char *identifier = getenv("PROCESSOR_IDENTIFIER");

        GetSystemInfo(&info);
        page = info.dwPageSize;
        cpus = (long)info.dwNumberOfProcessors;
        snprintf(cpu, sizeof cpu, "%s", identifier != NULL ? identifier : "unknown");
        snprintf(map_count, sizeof map_count, "none");
        /* Under wine a fiber and a stack each take mappings of Linux's,
         * and wine crashes when there are none left for itself: round
         * robin stops at 10,000 there. */
        if (under_wine()) {
            wine = "yes";
            round_robin_ns[2] = 10000;
        }
    }
#else
    {
        char *probe;

        page = (size_t)sysconf(_SC_PAGESIZE);
        probe = map_stacks(page);
        guard_regions = madvise(probe, page, MADV_GUARD_INSTALL) == 0;
        unmap_stacks(probe, page);
        cpus = sysconf(_SC_NPROCESSORS_ONLN);
        proc_field("/proc/cpuinfo", "model name", cpu, sizeof cpu);
        proc_field("/proc/sys/vm/max_map_count", "", map_count, sizeof map_count);
    }
#endif
    for (char *p = cpu; *p != '\0'; p++)
        if (*p == ' ' || *p == '\t' || *p == '=')
            *p = '_';
    printf("# coro-bench%s: ns per operation, medians of %d repetitions of %ld\n"
           "# ratio = libcoro_ns / baseline_ns, fp_ratio = libcoro_ns / fp_ns; the method, "
           "the figures and the keys: bench/coro_bench.c\n",
           opt.smoke ? " --smoke (tiny counts: the figures mean nothing)" : "", opt.reps,
           opt.iterations);
    printf("BENCH name=env backend=%s cpu=%s cpus=%ld guard_regions=%s max_map_count=%s "
           "wine=%s reps=%d iterations=%ld\n",
           coro_backend(), cpu, cpus, guard_regions ? "yes" : "no", map_count, wine, opt.reps,
           opt.iterations);
    fflush(stdout);
    run_memory();
    run_figure("round_trip", 1, RAW, ROUND_TRIPS);
    run_figure("round_trip_min", 1, MIN_AND_FP, ROUND_TRIPS);
    run_figure("create_destroy", 1, RAW, CREATE_DESTROY);
    run_figure("create_destroy_min", 1, MIN_AND_FP, CREATE_DESTROY);
    for (size_t c = 0; c < 3; c++)
        run_figure("round_robin", (opt.smoke ? smoke_ns : round_robin_ns)[c], RAW, ROUND_TRIPS);
    run_stack_used();
    return 0;
}
