/*
 * The program that tests/gdb/check.py runs under gdb: it stops in
 * stop_here() with a coroutine in every state, the suspended ones at known
 * depths, and then cleans up and exits 0 when gdb lets it go on.
 *
 *   recursing   suspended 3 calls of descend() deep in recursing_body()
 *   inner       suspended in inner_step(), called by inner_body()
 *   delegating  suspended in coro_yield_from(), delegating to `inner`
 *   fresh       created, never resumed
 *   finished    dead: its body returned
 *   running     running: running_body() called stop_here()
 *   outer       normal: it resumed `running` from outer_body()
 *   working     running on a second thread, blocked in wait_in_worker()
 *
 * and one destroyed, whose stack waits in the thread's cache for reuse,
 * record and all: it must not be listed. Three have names (the *_NAME
 * below): recursing an ASCII one, outer a UTF-8 one, working one longer
 * than coro_set_name() keeps; the others have none.
 * The coroutines are created in that order, so that gdb lists them so on
 * a fresh stack pool. With the argument `crash`, stop_here() executes an
 * illegal instruction instead, for a core file: in its own frame, not in
 * the C library, whose frames gdb may not unwind (Debian's musl has no
 * unwind tables). With `none`, it stops with no live coroutine:
 * only one that ran and was destroyed, its stack cached.
 */
#define _GNU_SOURCE /* syscall() */

#include <coro.h>

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

coro_t *recursing, *delegating, *inner, *fresh, *finished, *outer, *running, *working;

/* The names, as tests/gdb/check.py expects them: working's is cut to
 * CORO_NAME_MAX - 1 bytes, "worker-on-thread-2-with-a-long-" as listed. */
#define RECURSING_NAME "producer"
#define OUTER_NAME "\xc3\xa4u\xc3\x9f" "ere" /* äußere */
#define WORKING_NAME "worker-on-thread-2-with-a-long-name"

/* Kept from being folded into a loop, or its calls into jumps. */
static volatile int depth_seen;
static int crash;

static atomic_int worker_waiting, worker_released;

/* SIGILL, from this frame. (__builtin_trap() is brk or ebreak on some
 * architectures: a SIGTRAP, which gdb takes for one of its own.) */
static inline void illegal_instruction(void)
{
#if defined(__aarch64__)
    __asm__ volatile("udf #0");
#elif defined(__riscv)
    __asm__ volatile("unimp");
#else
    __builtin_trap(); /* ud2 on x86, udf on 32-bit ARM */
#endif
}

NOINLINE void stop_here(void)
{
    if (crash)
        illegal_instruction();
    __asm__ volatile("" ::: "memory");
}

/*
 * Blocks until *word is no longer 0, in a futex wait made from this frame:
 * gdb must unwind the waiting thread from wherever it stopped, and a C
 * library without unwind tables (Debian's musl) would hide every frame
 * below its own system call stub. (A spin instead starves qemu-user's gdb
 * stub.) Other architectures, whose gdb test is skipped, poll.
 */
static void wait_for_nonzero(atomic_int *word)
{
    while (!atomic_load(word)) {
#if defined(__x86_64__)
        register long op __asm__("rsi") = 0 /* FUTEX_WAIT */, expected __asm__("rdx") = 0;
        register void *no_timeout __asm__("r10") = NULL;
        long number = SYS_futex;

        __asm__ volatile("syscall"
                         : "+a"(number)
                         : "D"(word), "r"(op), "r"(expected), "r"(no_timeout)
                         : "rcx", "r11", "memory");
#elif defined(__aarch64__)
        register long number __asm__("x8") = SYS_futex;
        register void *address __asm__("x0") = word;
        register long op __asm__("x1") = 0, expected __asm__("x2") = 0;
        register void *no_timeout __asm__("x3") = NULL;

        __asm__ volatile("svc #0"
                         : "+r"(address)
                         : "r"(number), "r"(op), "r"(expected), "r"(no_timeout)
                         : "memory");
#elif defined(__riscv) && __riscv_xlen == 64
        register long number __asm__("a7") = SYS_futex;
        register void *address __asm__("a0") = word;
        register long op __asm__("a1") = 0, expected __asm__("a2") = 0;
        register void *no_timeout __asm__("a3") = NULL;

        __asm__ volatile("ecall"
                         : "+r"(address)
                         : "r"(number), "r"(op), "r"(expected), "r"(no_timeout)
                         : "memory");
#else
        sched_yield();
#endif
    }
}

NOINLINE static void wait_in_worker(void)
{
    atomic_store(&worker_waiting, 1);
    wait_for_nonzero(&worker_released);
}

static void *working_body(coro_t *co, void *arg)
{
    wait_in_worker();
    depth_seen = 0;
    (void)co;
    return arg;
}

static void *worker(void *arg)
{
    coro_next(arg);
    return NULL;
}

NOINLINE static void *descend(coro_t *co, int depth)
{
    void *sent;

    if (depth == 0)
        return coro_yield(co, NULL);
    sent = descend(co, depth - 1);
    depth_seen = depth;
    return sent;
}

static void *recursing_body(coro_t *co, void *arg)
{
    void *sent = descend(co, 2);

    depth_seen = 0;
    (void)arg;
    return sent;
}

NOINLINE static void *inner_step(coro_t *co)
{
    void *sent = coro_yield(co, NULL);

    depth_seen = 1;
    return sent;
}

static void *inner_body(coro_t *co, void *arg)
{
    void *sent = inner_step(co);

    depth_seen = 0;
    (void)arg;
    return sent;
}

static void *delegating_body(coro_t *co, void *arg)
{
    void *result = coro_yield_from(co, arg);

    depth_seen = 0;
    return result;
}

static void *finished_body(coro_t *co, void *arg)
{
    (void)co;
    return arg;
}

static void *running_body(coro_t *co, void *arg)
{
    stop_here();
    depth_seen = 0;
    (void)co;
    return arg;
}

static void *outer_body(coro_t *co, void *arg)
{
    void *result = coro_next(arg);

    depth_seen = 0;
    (void)co;
    return result;
}

static coro_t *create(coro_fn fn, void *arg)
{
    coro_t *co = coro_create(fn, arg, 0);

    if (co == NULL) {
        perror("coro_create");
        exit(1);
    }
    return co;
}

/* A core file of the SIGILL, where the hard limit allows one. */
static void allow_core(void)
{
    struct rlimit limit;

    if (getrlimit(RLIMIT_CORE, &limit) == 0) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit(RLIMIT_CORE, &limit);
    }
}

int main(int argc, char **argv)
{
    pthread_t thread;
    int none = 0;

    for (int i = 1; i < argc; i++) {
        crash |= strcmp(argv[i], "crash") == 0;
        none |= strcmp(argv[i], "none") == 0;
    }
    if (crash)
        allow_core();
    if (none) {
        coro_t *gone = create(finished_body, NULL);

        coro_next(gone);
        if (coro_destroy(gone) != 0) {
            fprintf(stderr, "coro_destroy failed\n");
            return 1;
        }
        stop_here();
        return 0;
    }
    recursing = create(recursing_body, NULL);
    inner = create(inner_body, NULL);
    delegating = create(delegating_body, inner);
    fresh = create(finished_body, NULL);
    finished = create(finished_body, NULL);
    running = create(running_body, NULL);
    outer = create(outer_body, running);
    working = create(working_body, NULL);
    if (coro_set_name(recursing, RECURSING_NAME) != 0 || coro_set_name(outer, OUTER_NAME) != 0 ||
        coro_set_name(working, WORKING_NAME) != 0) {
        fprintf(stderr, "coro_set_name failed\n");
        return 1;
    }
    coro_t *gone = create(recursing_body, NULL);
    coro_set_name(gone, "gone"); /* destroyed: not listed, name and all */
    coro_next(gone);
    if (coro_destroy(gone) != 0) {
        fprintf(stderr, "coro_destroy failed\n");
        return 1;
    }

    coro_next(recursing);
    coro_next(delegating);
    coro_next(finished);
    if (pthread_create(&thread, NULL, worker, working) != 0) {
        fprintf(stderr, "pthread_create failed\n");
        return 1;
    }
    while (!atomic_load(&worker_waiting))
        sched_yield();

    coro_next(outer); /* stops in stop_here() */

    atomic_store(&worker_released, 1);
    syscall(SYS_futex, &worker_released, 1 /* FUTEX_WAKE */, 1, NULL, NULL, 0);
    pthread_join(thread, NULL);

    coro_t *all[] = {recursing, delegating, inner, fresh, finished, outer, running, working};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        if (coro_destroy(all[i]) != 0) {
            fprintf(stderr, "coro_destroy failed\n");
            return 1;
        }
    }
    puts("done");
    return 0;
}
