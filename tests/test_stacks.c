/*
 * Where stacks go: a thread's cache, the shared pool and the slabs, seen
 * through src/pool.c's counts in the test copy of the library. Stacks
 * follow their coroutines across threads and come back whole; slabs with
 * nothing in use are unmapped.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */

#include "bodies.h"
#include "child.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

/* The test copy of the library's hooks and its stack allocator. */
#include "test_hooks.h"
#include "pool.h"
#include "stack.h"
#include "thread.h"

/* What a thread may keep in its cache. */
#define THREAD_CACHE_MAX CORO__STACK_CACHE_SLOTS
/* Empty slabs kept mapped, in all. */
#define SPARE_SLABS (CORO__POOL_SPARE_BYTES / CORO__POOL_SLAB_BYTES)

/* Stacks of the default size in one slab: each slot is the stack and its
 * guard. */
static size_t default_slab_stacks(void)
{
    return CORO__POOL_SLAB_BYTES / (CORO_DEFAULT_STACK_SIZE + coro__stack_guard_size());
}

static size_t slots_out(void)
{
    size_t out, slabs, sizes;

    coro__pool_counts(&out, &slabs, &sizes);
    return out;
}

static size_t slabs_mapped(void)
{
    size_t out, slabs, sizes;

    coro__pool_counts(&out, &slabs, &sizes);
    return slabs;
}

static size_t sizes_known(void)
{
    size_t out, slabs, sizes;

    coro__pool_counts(&out, &slabs, &sizes);
    return sizes;
}

struct batch {
    coro_t **coros;
    size_t count;
};

static void *create_batch(void *arg)
{
    struct batch *b = arg;

    for (size_t i = 0; i < b->count; i++) {
        b->coros[i] = coro_create(yield_forever, INT_TO_PTR(i), 0);
        if (b->coros[i] != NULL)
            coro_next(b->coros[i]);
    }
    return NULL;
}

static void *destroy_batch(void *arg)
{
    struct batch *b = arg;

    for (size_t i = 0; i < b->count; i++)
        coro_destroy(b->coros[i]);
    return NULL;
}

static void run_thread(void *(*fn)(void *), struct batch *b)
{
    pthread_t thread;

    assert_int_equal(pthread_create(&thread, NULL, fn, b), 0);
    assert_int_equal(pthread_join(thread, NULL), 0);
}

/* Coroutines made on one thread and destroyed on another: every stack goes
 * back, to the destroying thread's cache or, past what it keeps, and when
 * that thread exits, to the pool. */
static void test_stacks_follow_coroutines_across_threads(void **state)
{
    coro_t *coros[200];
    struct batch b = {coros, 200};
    size_t before = slots_out();

    (void)state;
    run_thread(create_batch, &b);
    for (size_t i = 0; i < b.count; i++) {
        assert_non_null(coros[i]);
        assert_int_equal(PTR_TO_INT(coro_send(coros[i], INT_TO_PTR(i + 1))), (intptr_t)i + 1);
    }
    assert_true(slots_out() >= before + b.count);
    run_thread(destroy_batch, &b);
    /* The destroying thread has exited: its cache went back too. */
    assert_int_equal(slots_out(), before);

    run_thread(create_batch, &b);
    destroy_batch(&b); /* on this thread, which keeps a few */
    assert_true(slots_out() <= before + THREAD_CACHE_MAX);
}

/* A slab whose stacks are all free is unmapped, but for one kept for the
 * next create; a stack in a thread's cache keeps its slab. */
static void test_stacks_empty_slabs_are_unmapped(void **state)
{
    const size_t count = 4 * default_slab_stacks();
    coro_t **coros = calloc(count, sizeof *coros);
    struct batch b = {coros, count};
    size_t before = slabs_mapped(), peak;

    (void)state;
    assert_non_null(coros);
    create_batch(&b);
    for (size_t i = 0; i < count; i++)
        assert_non_null(coros[i]);
    peak = slabs_mapped();
    assert_true(peak >= before + 3);
    destroy_batch(&b);
    /* Left: the spare, and the slabs of the stacks this thread caches. */
    assert_true(slabs_mapped() <= before + 2);
    assert_true(slabs_mapped() < peak);
    free(coros);
}

static void *create_of_new_size(coro_t *co, void *arg)
{
    coro_t *inner = coro_create(yield_forever, arg, CORO_MIN_STACK_SIZE + 11 * 4096);

    (void)co;
    if (inner == NULL)
        return NULL;
    coro_next(inner);
    coro_destroy(inner);
    return arg;
}

/* A coroutine on the smallest stack creates one whose size needs a new
 * slab: mapping it and installing a thousand guards fits in what is left
 * of the creating stack (the fuzzer found it did not, once). */
static void test_stacks_new_slab_from_smallest_stack(void **state)
{
    coro_t *co = must_create_sized(create_of_new_size, INT_TO_PTR(5), CORO_MIN_STACK_SIZE);

    (void)state;
    assert_int_equal(PTR_TO_INT(coro_next(co)), 5);
    assert_int_equal(coro_destroy(co), 0);
}

static void *sizes_come_and_go(void *arg)
{
    (void)arg;
    for (size_t i = 0; i < 20; i++) {
        coro_t *co = coro_create(yield_forever, NULL, CORO_MIN_STACK_SIZE + (13 + i) * 4096);

        if (co == NULL)
            return INT_TO_PTR(-1);
        coro_next(co);
        coro_destroy(co);
    }
    return NULL; /* exiting, the thread hands its cache back */
}

/* Stack sizes used once and no more: their empty slabs are unmapped but
 * for a few spares, and the sizes are forgotten with their last slab. */
static void test_stacks_unused_sizes_are_forgotten(void **state)
{
    size_t slabs_before = slabs_mapped(), sizes_before = sizes_known();
    pthread_t thread;
    void *result;

    (void)state;
    assert_int_equal(pthread_create(&thread, NULL, sizes_come_and_go, NULL), 0);
    assert_int_equal(pthread_join(thread, &result), 0);
    assert_null(result);
    assert_true(slabs_mapped() <= slabs_before + SPARE_SLABS);
    assert_true(sizes_known() <= sizes_before + SPARE_SLABS);
}

/* A create that fails leaves nothing behind, not even the record of its
 * stack size; on the way it gives back the stacks this thread caches and
 * the spare slabs, in case they held the memory it needed. */
static void test_stacks_failed_create_leaves_no_size(void **state)
{
    size_t sizes_before, slabs_before;
    coro_t *co = must_create(yield_forever, NULL);

    (void)state;
    assert_int_equal(coro_destroy(co), 0); /* into this thread's cache */
    assert_true(slots_out() > 0);
    coro__fault_countdown = 1;
    assert_null_errno(coro_create(yield_forever, NULL, CORO_MIN_STACK_SIZE + 40 * 4096), ENOMEM);
    coro__fault_countdown = 0;
    assert_int_equal(slots_out(), 0); /* no other thread is left with any */
    assert_int_equal(slabs_mapped(), 0);

    sizes_before = sizes_known();
    slabs_before = slabs_mapped();
    for (unsigned long step = 1; step <= 3; step++) {
        size_t size = CORO_MIN_STACK_SIZE + (40 + step) * 4096;

        coro__fault_countdown = step; /* the size's record, the slab's, its mapping */
        assert_null_errno(coro_create(yield_forever, NULL, size), ENOMEM);
        coro__fault_countdown = 0;
        assert_int_equal(sizes_known(), sizes_before);
        assert_int_equal(slabs_mapped(), slabs_before);
    }
}

/* A create that maps a slab and a destroy that hands stacks back to their
 * slabs make system calls, some of which fail by design (probes); on
 * success errno is as it was. */
static void test_stacks_slow_paths_keep_errno(void **state)
{
    coro_t *coros[3 * THREAD_CACHE_MAX];
    const size_t count = sizeof coros / sizeof coros[0];

    (void)state;
    errno = EXDEV; /* a value nothing here sets */
    for (size_t i = 0; i < count; i++) {
        /* A size of its own: the first create maps a slab. */
        coros[i] = must_create_sized(yield_forever, NULL, CORO_MIN_STACK_SIZE + 7 * 4096);
        assert_int_equal(errno, EXDEV);
    }
    for (size_t i = 0; i < count; i++) {
        assert_int_equal(coro_destroy(coros[i]), 0);
        assert_int_equal(errno, EXDEV);
    }
}

/* The process's address space in use now, in bytes, or 0. */
static size_t address_space_used(void)
{
    FILE *statm = fopen("/proc/self/statm", "r");
    unsigned long pages = 0;

    if (statm == NULL)
        return 0;
    if (fscanf(statm, "%lu", &pages) != 1)
        pages = 0;
    fclose(statm);
    return (size_t)pages * (size_t)sysconf(_SC_PAGESIZE);
}

enum limited_verdict { LIMITED_OK, LIMITED_NO_LIMIT, LIMITED_CREATE_FAILED, LIMITED_NOT_ENFORCED };

/* In a child, under an address-space limit of what is in use plus 256 MiB
 * (its exit status an enum limited_verdict):
 * one coroutine at a time, each with a stack size of its own, each size a
 * slab of 32 MiB. The destroyed ones' stacks sit in the thread's cache,
 * their slabs mapped, until a create runs out of address space. */
static int create_under_address_limit(void *unused)
{
    size_t used = address_space_used();
    struct rlimit limit = {used + ((size_t)256 << 20), used + ((size_t)256 << 20)};
    coro_t *co;
    void *beyond;

    (void)unused;
    if (used == 0 || setrlimit(RLIMIT_AS, &limit) != 0)
        return LIMITED_NO_LIMIT;
    /* Under an emulator (qemu-user maps guest memory out of a reservation
     * of its own) the limit may not apply to what the program maps. */
    beyond = mmap(NULL, (size_t)512 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
                  0);
    if (beyond != MAP_FAILED) {
        munmap(beyond, (size_t)512 << 20);
        return LIMITED_NO_LIMIT;
    }
    for (size_t k = 0; k < 40; k++) {
        co = coro_create(yield_forever, NULL, CORO_MIN_STACK_SIZE + k * 4096);
        if (co == NULL) {
            fprintf(stderr, "create %zu failed: %s\n", k, strerror(errno));
            return LIMITED_CREATE_FAILED;
        }
        coro_next(co);
        coro_destroy(co);
    }
    /* The limit holds: a stack bigger than it is refused... */
    errno = 0;
    if (coro_create(yield_forever, NULL, (size_t)512 << 20) != NULL || errno != ENOMEM)
        return LIMITED_NOT_ENFORCED;
    /* ...and what that create mapped on the way has gone. */
    co = coro_create(yield_forever, NULL, 0);
    if (co == NULL)
        return LIMITED_CREATE_FAILED;
    coro_destroy(co);
    return LIMITED_OK;
}

/* A create does not fail for memory that only libcoro's caches hold. */
static void test_stacks_caches_give_way_to_a_create(void **state)
{
    struct child_result child;
    int status;

    (void)state;
#if defined(UNDER_ASAN) || defined(UNDER_TSAN)
    /* Their runtimes map shadow and allocator memory as they go, which an
     * address-space limit starves. */
    skip();
#endif
    run_in_child(create_under_address_limit, NULL, &child);
    status = child_exit_status(&child);
    if (status == LIMITED_NO_LIMIT) {
        printf("# no address-space limit that holds here (RLIMIT_AS)\n");
        skip();
    }
    if (status != LIMITED_OK)
        print_error("%s", child.err);
    assert_int_equal(status, LIMITED_OK);
}

/* Whether the page at address is resident. */
static bool resident(const char *address)
{
    unsigned char state = 0;

    body_assert_int_equal(mincore((void *)address, coro__page_size(), &state), 0);
    return (state & 1) != 0;
}

/* On a thread of its own, whose cache starts empty: a create that takes
 * from the pool fills the cache with stacks of its size, their top pages
 * (what a new coroutine touches first) resident already and nothing below
 * them, handed out by later creates from the lowest address up. */
static void *fill_cache_ahead(void *arg)
{
    const size_t size = *(const size_t *)arg; /* a size of its own */
    const size_t page = coro__page_size();
    struct coro__stack_cache *cache;
    coro_t *co;

    /* The thread's first create makes its cache, after taking a stack. */
    body_assert_int_equal(coro_destroy(coro_create(yield_forever, NULL, 0)), 0);
    cache = &coro__thread_block()->stack_cache;
    body_assert_int_equal(cache->count, 1);
    co = coro_create(yield_forever, NULL, size);
    body_assert_true(co != NULL);
    /* The cache's first is the default stack, then those taken ahead. */
    body_assert_int_equal(cache->count, CORO__STACK_CACHE_SLOTS - 1);
    for (unsigned i = 1; i < cache->count; i++) {
        const struct coro__stack *s = &cache->stacks[i];
        const char *top = (const char *)s->lo + s->size - page;

        body_assert_int_equal(s->size, size);
        if (i > 1) /* the last in the cache goes first */
            body_assert_true(s->lo < cache->stacks[i - 1].lo);
#ifndef CORO_TEST_EMULATED /* qemu-user takes the advice and does nothing */
        body_assert_true(resident(top));
#endif
        body_assert_true(!resident(top - page));
    }
    body_assert_int_equal(coro_destroy(co), 0);
    return NULL;
}

static void test_stacks_fresh_stacks_come_in_batches(void **state)
{
    size_t size = CORO_MIN_STACK_SIZE + 40 * 4096;
    pthread_t thread;

    (void)state;
    assert_int_equal(pthread_create(&thread, NULL, fill_cache_ahead, &size), 0);
    assert_int_equal(pthread_join(thread, NULL), 0);
    /* Again, the pages populated as a kernel before Linux 5.14 has it done. */
    size += 4096;
    coro__test_force_populate_by_touch = true;
    assert_int_equal(pthread_create(&thread, NULL, fill_cache_ahead, &size), 0);
    assert_int_equal(pthread_join(thread, NULL), 0);
    coro__test_force_populate_by_touch = false;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        /* First: the process's first create also chooses the guards. */
        cmocka_unit_test(test_stacks_slow_paths_keep_errno),
        cmocka_unit_test(test_stacks_follow_coroutines_across_threads),
        cmocka_unit_test(test_stacks_empty_slabs_are_unmapped),
        cmocka_unit_test(test_stacks_new_slab_from_smallest_stack),
        cmocka_unit_test(test_stacks_unused_sizes_are_forgotten),
        cmocka_unit_test(test_stacks_failed_create_leaves_no_size),
        cmocka_unit_test(test_stacks_caches_give_way_to_a_create),
        body_checked_test(test_stacks_fresh_stacks_come_in_batches),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
