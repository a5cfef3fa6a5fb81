/*
 * Out of memory, injected at each allocation and mapping, and the kernel's
 * real limit on memory mappings: ENOMEM, nothing leaked (the ASan and
 * valgrind jobs check), and the library keeps working after.
 *
 * Built twice: as the faults test, with the guards the kernel offers, and
 * as faults_mprotect (CORO_TEST_MPROTECT_GUARDS), with the fallback guards
 * that split a mapping per stack.
 */
#include "test_support.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The test copy of the library's hooks and its stack allocator. */
#include "test_hooks.h"
#include "pool.h"
#include "stack.h"

static void *counting_body(coro_t *co, void *arg)
{
    intptr_t n = PTR_TO_INT(arg);

    for (intptr_t i = 0; i < n; i++)
        coro_yield(co, INT_TO_PTR(i));
    return INT_TO_PTR(-1);
}

/* A coroutine created now works: yields 0..2, returns -1, is destroyed. */
static void assert_library_works(void)
{
    coro_t *co = must_create(counting_body, INT_TO_PTR(3));

    for (intptr_t i = 0; i < 3; i++)
        assert_int_equal(PTR_TO_INT(coro_next(co)), i);
    assert_int_equal(PTR_TO_INT(coro_next(co)), -1);
    assert_int_equal(coro_status(co), CORO_DEAD);
    assert_int_equal(coro_destroy(co), 0);
}

/* Fails each fallible step of coro_create in turn; returns how many there
 * were. Also run on a thread of its own, so its assertions are the
 * body_assert_*() of test_support.h, which do not jump. */
static unsigned long fail_each_create_step(size_t stack_size)
{
    unsigned long step;

    for (step = 1;; step++) {
        coro_t *co;

        coro__fault_countdown = step;
        errno = 0;
        co = coro_create(counting_body, INT_TO_PTR(1), stack_size);
        if (co != NULL) {
            /* No step was left to fail: the countdown did not run out; or,
             * with mprotect guards, what it failed was the guard of a stack
             * taken ahead for the cache (test_faults_stacks_taken_ahead_are_extra). */
            body_assert_true(coro__fault_countdown != CORO_FAULT_FAILING ||
                             !coro__pool_guard_regions());
            coro__fault_countdown = 0;
            body_assert_int_equal(PTR_TO_INT(coro_next(co)), 0);
            body_assert_int_equal(coro_destroy(co), 0);
            return step - 1;
        }
        body_assert_int_equal(errno, ENOMEM);
        body_assert_true(coro__fault_countdown == CORO_FAULT_FAILING);
    }
}

/* Every allocation and mapping of a create with a stack of a new size fails
 * cleanly: the size's record, its first slab's record, the slab's mapping
 * and the guard: all its guard regions, or (mprotect) the guard of the
 * slot handed out. Each failure leaves nothing, so each try starts over. */
static void test_faults_create_fresh_stack_each_step(void **state)
{
    (void)state;
    assert_library_works(); /* this thread's one-time setup is done */
    /* A size no other test uses, so that no stack of it exists yet. */
    assert_int_equal(fail_each_create_step(CORO_MIN_STACK_SIZE + 3 * 4096), 4);
    assert_library_works();
}

/* The stacks a create takes ahead for the thread's cache are extra: where
 * one cannot be had (mprotect: its guard cannot be made), the create
 * succeeds with those it has. Each try with a stack of a size not used
 * before, so that it starts from no slab. */
static void test_faults_stacks_taken_ahead_are_extra(void **state)
{
    unsigned long step, absorbed = 0, fatal = 0;

    (void)state;
    assert_library_works();
    for (step = 1;; step++) {
        size_t size = CORO_MIN_STACK_SIZE + (64 + step) * 4096;
        coro_t *co;

        coro__fault_countdown = step;
        co = coro_create(counting_body, INT_TO_PTR(1), size);
        if (co == NULL) {
            assert_int_equal(errno, ENOMEM);
            fatal++;
            continue;
        }
        bool fired = coro__fault_countdown == CORO_FAULT_FAILING;
        coro__fault_countdown = 0;
        assert_int_equal(PTR_TO_INT(coro_next(co)), 0);
        assert_int_equal(coro_destroy(co), 0);
        if (!fired)
            break;
        absorbed++;
    }
    assert_int_equal(fatal, 4);
    if (coro__pool_guard_regions())
        assert_int_equal(absorbed, 0); /* made with the slab */
    else
        assert_in_range(absorbed, 1, CORO__STACK_CACHE_SLOTS - 1);
    assert_library_works();
}

/* With a stack waiting in the thread's cache, nothing of a create can
 * fail: it allocates nothing. */
static void test_faults_create_cached_stack_cannot_fail(void **state)
{
    coro_t *co = must_create_sized(counting_body, INT_TO_PTR(1), CORO_MIN_STACK_SIZE + 5 * 4096);

    (void)state;
    assert_int_equal(coro_destroy(co), 0); /* its stack goes to the cache */
    assert_int_equal(fail_each_create_step(CORO_MIN_STACK_SIZE + 5 * 4096), 0);
    assert_library_works();
}

static void *fail_each_first_create_step(void *arg)
{
    *(unsigned long *)arg = fail_each_create_step(0);
    return NULL;
}

/* A thread's first create may allocate what the thread keeps for creating
 * more (on ucontext with glibc on x86, a context to copy from); failing
 * that is ENOMEM, with nothing left behind, and a retry works. */
static void test_faults_first_create_on_thread_each_step(void **state)
{
    unsigned long steps = 99;
    pthread_t thread;

    (void)state;
    assert_int_equal(pthread_create(&thread, NULL, fail_each_first_create_step, &steps), 0);
    assert_int_equal(pthread_join(thread, NULL), 0);
#if defined(__GLIBC__) && (defined(__x86_64__) || defined(__i386__))
    if (strcmp(coro_backend(), "ucontext") == 0)
        assert_true(steps >= 1);
#endif
    /* and at most the guard of a slot never handed out before (mprotect) */
    assert_true(steps <= 2);
}

struct first_resume {
    coro_t *co;
    int first, second; /* the first two coro_resume()s on the new thread */
    void *out;
    unsigned long countdown_after;
};

static void *first_resume_on_thread(void *arg)
{
    struct first_resume *r = arg;

    coro__fault_countdown = 1; /* the next allocation or mapping fails */
    r->first = coro_resume(r->co, NULL, &r->out);
    r->second = coro_resume(r->co, NULL, &r->out);
    r->countdown_after = coro__fault_countdown;
    coro__fault_countdown = 0;
    return NULL;
}

/* A resume allocates nothing, a thread's first included: the context the
 * resumer waits in is the coroutine's own. No failure point is passed. */
static void test_faults_first_resume_on_thread_allocates_nothing(void **state)
{
    struct first_resume r = {.out = INT_TO_PTR(-5)};
    pthread_t thread;

    (void)state;
    r.co = must_create(counting_body, INT_TO_PTR(3));
    assert_int_equal(pthread_create(&thread, NULL, first_resume_on_thread, &r), 0);
    assert_int_equal(pthread_join(thread, NULL), 0);
    assert_int_equal(r.first, 0);
    assert_int_equal(r.second, 0);
    assert_int_equal(PTR_TO_INT(r.out), 1);
    assert_int_equal(r.countdown_after, 1);
    assert_int_equal(PTR_TO_INT(coro_next(r.co)), 2); /* and on to this thread */
    assert_int_equal(coro_destroy(r.co), 0);
}

struct defer_log {
    int order[8];
    int count;
};

static struct defer_log *current_log;

static void log_cleanup(void *arg)
{
    current_log->order[current_log->count++] = (int)PTR_TO_INT(arg);
}

static void *defer_body(coro_t *co, void *arg)
{
    int first_failure, later;

    (void)arg;
    for (int i = 1; i <= 4; i++)
        body_assert_int_equal(coro_defer(co, log_cleanup, INT_TO_PTR(i)), 0);
    /* The fifth needs more room: that allocation fails. */
    coro__fault_countdown = 1;
    first_failure = coro_defer(co, log_cleanup, INT_TO_PTR(99));
    coro__fault_countdown = 0;
    later = coro_defer(co, log_cleanup, INT_TO_PTR(5));
    coro_yield(co, INT_TO_PTR(first_failure));
    return INT_TO_PTR(later);
}

/* A coro_defer() that cannot grow its list fails with ENOMEM and registers
 * nothing; the cleanups before it and after it still run, last first. */
static void test_faults_defer_enomem_registers_nothing(void **state)
{
    struct defer_log log = {{0}, 0};
    coro_t *co = must_create(defer_body, NULL);

    (void)state;
    current_log = &log;
    assert_int_equal(PTR_TO_INT(coro_next(co)), ENOMEM);
    assert_int_equal(log.count, 0);
    assert_int_equal(PTR_TO_INT(coro_next(co)), 0); /* the later defer succeeded */
    assert_int_equal(coro_status(co), CORO_DEAD);
    assert_int_equal(log.count, 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(log.order[i], 5 - i);
    assert_int_equal(coro_destroy(co), 0);
    current_log = NULL;
}

static long read_max_map_count(void)
{
    FILE *file = fopen("/proc/sys/vm/max_map_count", "r");
    long value = -1;

    if (file != NULL) {
        if (fscanf(file, "%ld", &value) != 1)
            value = -1;
        fclose(file);
    }
    return value;
}

static void *touch_and_yield(coro_t *co, void *arg)
{
    volatile char local[1024];

    local[0] = 7;
    coro_yield(co, arg);
    return INT_TO_PTR(local[0]);
}

/* With mprotect guards, creating coroutines until the kernel's mapping
 * limit stops it fails with ENOMEM, and every coroutine made before still
 * runs and is destroyed. (Guard regions have no such limit: test_scale.) */
static void test_faults_map_limit_is_enomem(void **state)
{
    long limit = read_max_map_count();
    size_t cap, count = 0;
    coro_t **all;

    (void)state;
    assert_library_works(); /* the kind of guards is chosen by now */
#ifdef CORO_TEST_MPROTECT_GUARDS
    assert_false(coro__pool_guard_regions()); /* forced before the first coroutine */
#endif
    if (coro__pool_guard_regions()) {
        printf("# guard regions: no mapping limit to reach\n");
        skip();
    }
    /* valgrind's own table of mappings is smaller than the kernel's; a
     * raised kernel limit would make this test slow and big. */
    if (RUNNING_ON_VALGRIND || limit <= 0 || limit > 100000)
        skip();
    cap = (size_t)limit;
    all = calloc(cap, sizeof *all); /* before the limit is reached */
    assert_non_null(all);
    for (;;) {
        coro_t *co;

        assert_true(count < cap); /* each stack costs at least one mapping */
        errno = 0;
        co = coro_create(touch_and_yield, INT_TO_PTR(count), CORO_MIN_STACK_SIZE);
        if (co == NULL) {
            assert_int_equal(errno, ENOMEM);
            break;
        }
        all[count++] = co;
    }
    printf("# coro_create failed with ENOMEM after %zu coroutines (vm.max_map_count %ld)\n",
           count, limit);
    /* Two mappings a stack: about half the limit, less what the process had. */
    assert_true(count > (size_t)limit / 4);
    assert_true(count <= (size_t)limit / 2);

    for (size_t i = 0; i < count; i++)
        assert_int_equal(PTR_TO_INT(coro_next(all[i])), (intptr_t)i);
    for (size_t i = 0; i < count; i++) {
        assert_int_equal(PTR_TO_INT(coro_next(all[i])), 7);
        assert_int_equal(coro_destroy(all[i]), 0);
    }
    free(all);
    assert_library_works();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        body_checked_test(test_faults_create_fresh_stack_each_step),
        body_checked_test(test_faults_stacks_taken_ahead_are_extra),
        body_checked_test(test_faults_create_cached_stack_cannot_fail),
        body_checked_test(test_faults_first_resume_on_thread_allocates_nothing),
        body_checked_test(test_faults_first_create_on_thread_each_step),
        body_checked_test(test_faults_defer_enomem_registers_nothing),
        body_checked_test(test_faults_map_limit_is_enomem),
    };

#ifdef CORO_TEST_MPROTECT_GUARDS
    coro__test_force_mprotect_guards = true; /* before the first coroutine */
#endif
    return cmocka_run_group_tests(tests, NULL, NULL);
}
