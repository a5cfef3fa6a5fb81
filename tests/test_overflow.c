/*
 * Stack overflows are caught at the guard page and named on stderr. Each
 * test runs the crash in a forked child and reads its stderr and status.
 *
 * Built twice: as the overflow test, with the guards the kernel offers,
 * and as overflow_mprotect (CORO_TEST_MPROTECT_GUARDS), linked with the
 * test copy of the library switched to the fallback guards.
 */
#define _DEFAULT_SOURCE /* sigaltstack, SA_ONSTACK */

#include "child.h"
#include "test_support.h"

#include <pthread.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#ifdef CORO_TEST_MPROTECT_GUARDS
/* The test copy of the library, whose guards this suite sets. */
#include "test_hooks.h"
#endif

/* libcoro installs its handler only over SIG_DFL. Under a sanitizer, whose
 * runtime owns SIGSEGV from the start and reports overflows its own way,
 * main() finds it taken and the tests of libcoro's report are skipped. */
static int segv_default_at_start;

static int segv_is_default(void)
{
    return segv_default_at_start;
}

/* Never reached: keeps the compiler from calling the recursion infinite. */
static volatile int recursion_limit = -1;

static int recurse(int depth)
{
    volatile char frame[256];

    if (depth == recursion_limit)
        return 0;
    frame[0] = (char)depth;
    return recurse(depth + 1) + frame[0];
}

static void *overflowing_body(coro_t *co, void *arg)
{
    (void)co;
    (void)arg;
    return INT_TO_PTR(recurse(0));
}

static void overflow_with_stack(size_t stack_size)
{
    coro_t *co = coro_create(overflowing_body, NULL, stack_size);

    printf("%p\n", (void *)co);
    fflush(stdout);
    coro_next(co);
}

static int overflow_min_stack(void *unused)
{
    (void)unused;
    overflow_with_stack(CORO_MIN_STACK_SIZE);
    return 0;
}

static int overflow_default_stack(void *unused)
{
    (void)unused;
    overflow_with_stack(0);
    return 0;
}

/* Runs fn, which overflows a coroutine's stack of stack_size bytes after
 * printing the coroutine (as %p prints it), in a child: it aborts with
 * libcoro's one-line report naming both. Skipped where a sanitizer owns
 * SIGSEGV. */
static void assert_overflow_reported_as(int (*fn)(void *), const char *quoted_name,
                                        size_t stack_size)
{
    struct child_result result;
    char expected[160];

    if (!segv_is_default())
        skip();
    run_in_child(fn, NULL, &result);
    snprintf(expected, sizeof expected,
             "libcoro: stack overflow in coroutine %.*s%s (stack %zu bytes)\n",
             (int)strcspn(result.out, "\n"), result.out, quoted_name, stack_size);
    assert_true(WIFSIGNALED(result.status));
    assert_int_equal(WTERMSIG(result.status), SIGABRT);
    assert_non_null(strstr(result.err, expected));
}

/* The same, for a coroutine without a name. */
static void assert_overflow_reported(int (*fn)(void *), size_t stack_size)
{
    assert_overflow_reported_as(fn, "", stack_size);
}

/* A coroutine named by coro_set_name(), with a tab in its name, overflows. */
static int overflow_named(void *unused)
{
    coro_t *co = coro_create(overflowing_body, NULL, 0);

    (void)unused;
    coro_set_name(co, "parser\tof \"input\"");
    printf("%p\n", (void *)co);
    fflush(stdout);
    coro_next(co);
    return 0;
}

/* The report gives the name after the address, in quotes, its control
 * characters as '?'. */
static void test_overflow_report_gives_the_name(void **state)
{
    (void)state;
    assert_overflow_reported_as(overflow_named, " \"parser?of \"input\"\"",
                                CORO_DEFAULT_STACK_SIZE);
}

/* Runs fn, which faults or raises SIGSEGV in a coroutine, in a child: it
 * dies of the SIGSEGV, as without libcoro, and nothing names libcoro.
 * Skipped where a sanitizer owns SIGSEGV. */
static void assert_plain_segv(int (*fn)(void *))
{
    struct child_result result;

    if (!segv_is_default())
        skip();
    run_in_child(fn, NULL, &result);
    assert_true(WIFSIGNALED(result.status));
    assert_int_equal(WTERMSIG(result.status), SIGSEGV);
    assert_null(strstr(result.err, "libcoro"));
}

/* An overflow of a minimum-size stack aborts with the one-line report. */
static void test_overflow_min_stack_is_named(void **state)
{
    (void)state;
    assert_overflow_reported(overflow_min_stack, CORO_MIN_STACK_SIZE);
}

/* The default stack reports its size as 65536 bytes. */
static void test_overflow_default_stack_is_named(void **state)
{
    (void)state;
    assert_overflow_reported(overflow_default_stack, CORO_DEFAULT_STACK_SIZE);
}

static void *resume_overflowing_child(coro_t *co, void *arg)
{
    coro_t *inner = coro_create(overflowing_body, NULL, 32u * 1024u);

    (void)co;
    (void)arg;
    printf("%p\n", (void *)inner);
    fflush(stdout);
    coro_next(inner);
    return NULL;
}

static int overflow_nested(void *unused)
{
    coro_t *outer = coro_create(resume_overflowing_child, NULL, 0);

    (void)unused;
    coro_next(outer);
    return 0;
}

static void *yield_then_overflow(coro_t *co, void *arg)
{
    coro_yield(co, arg);
    return INT_TO_PTR(recurse(0));
}

/* Neighbours on both sides in its slab: the one that overflows is not the
 * slab's first stack, and the stack below it is in use. */
static int overflow_between_neighbours(void *unused)
{
    coro_t *neighbours[4];

    (void)unused;
    for (int i = 0; i < 4; i++) {
        neighbours[i] = coro_create(yield_then_overflow, NULL, 0);
        coro_next(neighbours[i]);
    }
    coro_destroy(neighbours[2]);
    overflow_default_stack(NULL); /* takes the slot just freed */
    return 0;
}

/* An overflow of a stack carved between others is named. */
static void test_overflow_between_neighbours_is_named(void **state)
{
    (void)state;
    assert_overflow_reported(overflow_between_neighbours, CORO_DEFAULT_STACK_SIZE);
}

/* A frame of 12 KiB that writes only its lowest byte: past the end of the
 * stack, it jumps a one-page guard. The index comes from a volatile, so
 * that the compiler must lay out the whole array (with a constant index,
 * clang keeps only the byte written, in the red zone). */
static volatile size_t lowest_byte = 0;

TEST_NOINLINE static int touch_far_below(void)
{
    volatile char big[12 * 1024];
    size_t low = lowest_byte;

    big[low] = 1;
    return big[low];
}

/* Goes down until less than 6 KiB of stack are left above lo, then makes
 * the one 12 KiB frame: its write lands about 6 KiB below the stack. */
TEST_NOINLINE static int descend_then_reach(uintptr_t lo, int depth)
{
    volatile char frame[512];

    frame[0] = (char)depth;
    if ((uintptr_t)&frame[0] - lo < 6 * 1024)
        return touch_far_below() + frame[0];
    return descend_then_reach(lo, depth + 1) + frame[0];
}

static void *reach_far_below(coro_t *co, void *arg)
{
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    /* co lives at the top of its stack, in the stack's top page (or, where
     * its record is bigger than a page, a page lower: lo is then guessed
     * low, and the write lands further below, still inside the guard). */
    uintptr_t top = ((uintptr_t)co + page - 1) / page * page;

    return INT_TO_PTR(descend_then_reach(top - CORO_MIN_STACK_SIZE, 0) + PTR_TO_INT(arg));
}

/* A frame bigger than a page, but not than the guard, is caught there:
 * the stack just below (whose top holds its coroutine's record) is not
 * reached. */
static int overflow_by_big_frame(void *unused)
{
    coro_t *below = coro_create(yield_then_overflow, NULL, CORO_MIN_STACK_SIZE);
    coro_t *co;

    (void)unused;
    coro_next(below);
    co = coro_create(reach_far_below, NULL, CORO_MIN_STACK_SIZE);
    printf("%p\n", (void *)co);
    fflush(stdout);
    coro_next(co);
    return 0;
}

static void test_overflow_big_frame_is_named(void **state)
{
    (void)state;
    assert_overflow_reported(overflow_by_big_frame, CORO_MIN_STACK_SIZE);
}

/* A coroutine suspended before fork() overflows in the forked process:
 * its guard page came along. The child of this test forks again and dies
 * as its own child did. */
static int overflow_after_fork(void *unused)
{
    coro_t *co = coro_create(yield_then_overflow, NULL, CORO_MIN_STACK_SIZE);
    int status;
    pid_t pid;

    (void)unused;
    coro_next(co);
    printf("%p\n", (void *)co);
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        coro_next(co);
        _exit(0);
    }
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFSIGNALED(status))
        _exit(44);
    signal(WTERMSIG(status), SIG_DFL);
    raise(WTERMSIG(status));
    return 0;
}

static void test_overflow_after_fork_is_named(void **state)
{
    (void)state;
    assert_overflow_reported(overflow_after_fork, CORO_MIN_STACK_SIZE);
}

/* In nested coroutines the report names the one that overflowed. */
static void test_overflow_nested_names_inner(void **state)
{
    (void)state;
    assert_overflow_reported(overflow_nested, 32u * 1024u);
}

static void *overflow_thread_main(void *arg)
{
    (void)arg;
    overflow_min_stack(NULL);
    return NULL;
}

static int overflow_on_thread(void *unused)
{
    pthread_t thread;

    (void)unused;
    if (pthread_create(&thread, NULL, overflow_thread_main, NULL) == 0)
        pthread_join(thread, NULL);
    return 0;
}

/* A thread that runs coroutines gets an alternate signal stack too. */
static void test_overflow_on_second_thread_is_named(void **state)
{
    (void)state;
    assert_overflow_reported(overflow_on_thread, CORO_MIN_STACK_SIZE);
}

static void *write_through_body(coro_t *co, void *arg)
{
    (void)co;
    *(volatile int *)arg = 1;
    return NULL;
}

static int fault_inside_coroutine(void *unused)
{
    /* A page made as a guard page is (memcheck then leaves the fault to
     * the kernel), but no coroutine's. */
    void *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    coro_t *co;

    (void)unused;
    mprotect(page, 4096, PROT_NONE);
    co = coro_create(write_through_body, page, 0);
    coro_next(co);
    return 0;
}

/* A fault that is not an overflow dies as it would without libcoro. */
static void test_overflow_other_fault_keeps_default(void **state)
{
    (void)state;
    assert_plain_segv(fault_inside_coroutine);
}

static void *raise_body(coro_t *co, void *arg)
{
    (void)co;
    (void)arg;
    raise(SIGSEGV);
    return NULL;
}

static int raise_inside_coroutine(void *unused)
{
    coro_t *co = coro_create(raise_body, NULL, 0);

    (void)unused;
    coro_next(co);
    return 0;
}

/* A SIGSEGV sent by raise() (no fault at all) is not taken for an overflow
 * and still kills the program. */
static void test_overflow_sent_signal_keeps_default(void **state)
{
    (void)state;
    assert_plain_segv(raise_inside_coroutine);
}

static int overflow_opted_out(void *unused)
{
    (void)unused;
    setenv("CORO_NO_SIGNAL_HANDLER", "1", 1);
    overflow_min_stack(NULL);
    return 0;
}

/* CORO_NO_SIGNAL_HANDLER leaves SIGSEGV alone: a plain crash, no report. */
static void test_overflow_opt_out_by_environment(void **state)
{
    (void)state;
    assert_plain_segv(overflow_opted_out);
}

static void own_handler(int sig)
{
    (void)sig;
    _exit(42);
}

static int fault_with_own_handler(void *unused)
{
    static char alt_stack[64 * 1024];
    stack_t alt = {.ss_sp = alt_stack, .ss_size = sizeof alt_stack};
    struct sigaction action = {0}, after;
    coro_t *co;

    (void)unused;
    action.sa_handler = own_handler;
    action.sa_flags = SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    sigaltstack(&alt, NULL);
    sigaction(SIGSEGV, &action, NULL);
    co = coro_create(overflowing_body, NULL, 0);
    /* Creating a coroutine is when libcoro looks at the dispositions. */
    sigaction(SIGSEGV, NULL, &after);
    if (after.sa_handler != own_handler)
        _exit(43);
    coro_next(co);
    return 0;
}

/* A program's own SIGSEGV handler is kept and gets the overflow. */
static void test_overflow_program_handler_is_kept(void **state)
{
    struct child_result result;

    (void)state;
    run_in_child(fault_with_own_handler, NULL, &result);
    assert_true(WIFEXITED(result.status));
    assert_int_equal(WEXITSTATUS(result.status), 42);
    assert_null(strstr(result.err, "libcoro"));
}

int main(void)
{
    struct sigaction at_start;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_overflow_min_stack_is_named),
        cmocka_unit_test(test_overflow_default_stack_is_named),
        cmocka_unit_test(test_overflow_report_gives_the_name),
        cmocka_unit_test(test_overflow_nested_names_inner),
        cmocka_unit_test(test_overflow_between_neighbours_is_named),
        cmocka_unit_test(test_overflow_after_fork_is_named),
        cmocka_unit_test(test_overflow_big_frame_is_named),
        cmocka_unit_test(test_overflow_on_second_thread_is_named),
        cmocka_unit_test(test_overflow_other_fault_keeps_default),
        cmocka_unit_test(test_overflow_sent_signal_keeps_default),
        cmocka_unit_test(test_overflow_opt_out_by_environment),
        cmocka_unit_test(test_overflow_program_handler_is_kept),
    };

    /* Before cmocka installs its own handlers for the tests' duration. */
    segv_default_at_start = sigaction(SIGSEGV, NULL, &at_start) == 0 &&
                            !(at_start.sa_flags & SA_SIGINFO) && at_start.sa_handler == SIG_DFL;
#ifdef CORO_TEST_MPROTECT_GUARDS
    coro__test_force_mprotect_guards = true; /* before the first coroutine */
#endif
    return cmocka_run_group_tests(tests, NULL, NULL);
}
