/*
 * Many coroutines at once: past the old wall of about 32,750 guarded stacks
 * (one map entry per guard page) on a kernel with guard regions, memory
 * that comes back when they are destroyed, and suspended coroutines that a
 * forked child can resume.
 */
#define _GNU_SOURCE /* MAP_ANONYMOUS, process_vm_readv */

#include "child.h"
#include "test_support.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

/* Past 32,753, where coro_create() failed before guard regions. */
#define MANY 100000
/* TSan maps a shadow stack per fiber, and valgrind looks registered stacks
 * up one by one on every switch: both get fewer. */
#define MANY_UNDER_TOOLS 3000
/* Suspended coroutines that a forked child takes over. */
#define FORKED_COUNT 1000

/* Whether the map entries and address space counted are libcoro's alone:
 * TSan maps its own for each coroutine (its fiber), and keeps some after. */
#ifdef UNDER_TSAN
#define MAPPINGS_ARE_OURS false
#else
#define MAPPINGS_ARE_OURS true
#endif

static size_t many(void)
{
#ifdef UNDER_TSAN
    return MANY_UNDER_TOOLS;
#else
    return RUNNING_ON_VALGRIND ? MANY_UNDER_TOOLS : MANY;
#endif
}

/* Whether this kernel has guard regions (Linux 6.13 and later): a guarded
 * page the kernel refuses to read. (qemu-user says yes to the madvise and
 * installs nothing; libcoro then falls back, as this test does.) */
static bool kernel_has_guard_regions(void)
{
    long page = sysconf(_SC_PAGESIZE);
    char *probe = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                       -1, 0);
    char byte;
    struct iovec local = {&byte, 1}, remote = {probe, 1};
    bool has;

    assert_true(probe != MAP_FAILED);
    has = madvise(probe, (size_t)page, 102 /* MADV_GUARD_INSTALL */) == 0 &&
          process_vm_readv(getpid(), &local, 1, &remote, 1, 0) < 0 && errno == EFAULT;
    munmap(probe, (size_t)page);
    return has;
}

/* A field of /proc/self/status in KiB, or -1 when there is none (without
 * cmocka: a forked child uses it too). */
static long read_status_kib(const char *key)
{
    FILE *file = fopen("/proc/self/status", "r");
    size_t len = strlen(key);
    char line[256];
    long value = -1;

    if (file == NULL)
        return -1;
    while (fgets(line, sizeof line, file) != NULL) {
        if (strncmp(line, key, len) == 0 && line[len] == ':')
            value = strtol(line + len + 1, NULL, 10);
    }
    fclose(file);
    return value;
}

static long status_kib(const char *key)
{
    long value = read_status_kib(key);

    assert_true(value >= 0);
    return value;
}

static long map_count(void)
{
    FILE *file = fopen("/proc/self/maps", "r");
    long lines = 0;
    int c;

    assert_non_null(file);
    while ((c = fgetc(file)) != EOF)
        lines += c == '\n';
    fclose(file);
    return lines;
}

/* Yields its argument, then hands back every value sent, plus one. */
static void *echo_plus_one(coro_t *co, void *arg)
{
    void *value = coro_yield(co, arg);

    for (;;)
        value = coro_yield(co, INT_TO_PTR(PTR_TO_INT(value) + 1));
    return NULL;
}

static coro_t **create_suspended(size_t count)
{
    coro_t **all = calloc(count, sizeof *all);

    assert_non_null(all);
    for (size_t i = 0; i < count; i++) {
        all[i] = coro_create(echo_plus_one, INT_TO_PTR(i), 0);
        if (all[i] == NULL)
            fail_msg("coro_create failed after %zu coroutines: %s", i, strerror(errno));
        assert_int_equal(PTR_TO_INT(coro_next(all[i])), (intptr_t)i);
    }
    return all;
}

static void destroy_all(coro_t **all, size_t count)
{
    for (size_t i = 0; i < count; i++)
        assert_int_equal(coro_destroy(all[i]), 0);
    free(all);
}

/* 100,000 coroutines alive at once, each answering exactly what was sent
 * to it; their guards add no map entries; once they are destroyed, the
 * address space they took is given back. */
static void test_scale_many_alive_each_answers(void **state)
{
    size_t count = many();
    long maps_before, vm_before, vm_alive;
    coro_t **all;

    (void)state;
    if (!kernel_has_guard_regions()) {
        printf("# no guard regions in this kernel: coroutines stop at the map limit\n");
        skip();
    }
    maps_before = map_count();
    vm_before = status_kib("VmSize");
    all = create_suspended(count);
    for (size_t i = 0; i < count; i++)
        assert_int_equal(PTR_TO_INT(coro_send(all[i], INT_TO_PTR(3 * i))), 3 * (intptr_t)i + 1);
    for (size_t i = count; i-- > 0;)
        assert_int_equal(PTR_TO_INT(coro_send(all[i], INT_TO_PTR(i))), (intptr_t)i + 1);
    vm_alive = status_kib("VmSize");
    printf("# %zu alive: %ld more map entries, %ld MiB more address space\n", count,
           map_count() - maps_before, (vm_alive - vm_before) / 1024);
    /* A stack and its guard per 64 KiB and more, one entry per slab. */
    if (MAPPINGS_ARE_OURS)
        assert_true(map_count() - maps_before < (long)(count / 100) + 16);
    assert_true(vm_alive - vm_before >= (long)count * 64);

    destroy_all(all, count);
    /* Kept: an empty slab for the next create and the slabs of the stacks
     * in this thread's cache, 32 MiB each. */
    printf("# destroyed: %ld MiB more address space than before\n",
           (status_kib("VmSize") - vm_before) / 1024);
    if (MAPPINGS_ARE_OURS)
        assert_true(status_kib("VmSize") - vm_before <= 4 * 32 * 1024);
}

/* In a forked child: resumes the coroutines suspended in the parent with
 * their state, destroys them and creates more. Its exit status is the
 * verdict. */
static int resume_in_child(void *arg)
{
    coro_t **all = arg;

    for (size_t i = 0; i < FORKED_COUNT; i++) {
        if (coro_send(all[i], INT_TO_PTR(10 * i)) != INT_TO_PTR(10 * i + 1))
            return 10;
    }
    for (size_t i = 0; i < FORKED_COUNT; i++) {
        if (coro_destroy(all[i]) != 0)
            return 11;
    }
    for (size_t i = 0; i < FORKED_COUNT; i++) {
        coro_t *co = coro_create(echo_plus_one, INT_TO_PTR(i), 0);

        if (co == NULL || coro_next(co) != INT_TO_PTR(i) ||
            coro_send(co, INT_TO_PTR(i)) != INT_TO_PTR(i + 1) || coro_destroy(co) != 0)
            return 12;
    }
    return 0;
}

/* Coroutines suspended in the parent are the child's too after fork(),
 * and the parent's copies are untouched. */
static void test_scale_forked_child_resumes_suspended(void **state)
{
    struct child_result child;
    coro_t **all;

    (void)state;
#ifdef UNDER_TSAN
    /* In a forked child TSan takes every fiber but the running one for a
     * finished thread, and reports the next switch into one as a race. */
    printf("# TSan does not follow its fibers into a forked child\n");
    skip();
#endif
    all = create_suspended(FORKED_COUNT);
    run_in_child(resume_in_child, all, &child);
    assert_int_equal(child_exit_status(&child), 0);
    for (size_t i = 0; i < FORKED_COUNT; i++)
        assert_int_equal(PTR_TO_INT(coro_send(all[i], INT_TO_PTR(i))), (intptr_t)i + 1);
    destroy_all(all, FORKED_COUNT);
}

/* Stacks big enough that the address space, not the map limit, ends the
 * run: 4 MiB each. EXHAUST_MAX of them (16 GiB) would mean that it never
 * ran out. */
#define EXHAUST_STACK ((size_t)4 << 20)
#define EXHAUST_MAX 4096
/* On a 64-bit target, RLIMIT_AS is set this far above what the child has. */
#define EXHAUST_ROOM ((size_t)512 << 20)

/* In a forked child: creates coroutines until the address space runs out
 * (all of it on a 32-bit target; an RLIMIT_AS of EXHAUST_ROOM more than the
 * child has on a 64-bit one). The failing coro_create() must say ENOMEM,
 * every coroutine made before must still answer, and once they are
 * destroyed a new one must work. Exit codes: 0 passed, 2 the emulator
 * does not enforce RLIMIT_AS (qemu-user ignores it), others a failure. */
static int exhaust_address_space(void *unused)
{
    static coro_t *all[EXHAUST_MAX]; /* not from the heap, which runs out too */
    size_t count = 0;
    coro_t *co;

    (void)unused;
    if (SIZE_MAX > UINT32_MAX) {
        struct rlimit limit;
        long have_kib = read_status_kib("VmSize");
        void *probe;

        if (have_kib <= 0 || getrlimit(RLIMIT_AS, &limit) != 0)
            return 3;
        limit.rlim_cur = (rlim_t)have_kib * 1024 + EXHAUST_ROOM;
        if (setrlimit(RLIMIT_AS, &limit) != 0)
            return 4;
        probe = mmap(NULL, 2 * EXHAUST_ROOM, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (probe != MAP_FAILED)
            return 2;
    }
    for (;;) {
        if (count == EXHAUST_MAX)
            return 5; /* the address space never ran out */
        errno = 0;
        co = coro_create(echo_plus_one, INT_TO_PTR(count), EXHAUST_STACK);
        if (co == NULL)
            break;
        all[count] = co;
        if (coro_next(co) != INT_TO_PTR(count))
            return 6;
        count++;
    }
    printf("%zu\n", count);
    if (errno != ENOMEM)
        return 7;
    if (count == 0)
        return 8;
    for (size_t i = 0; i < count; i++) {
        if (coro_send(all[i], INT_TO_PTR(i)) != INT_TO_PTR(i + 1))
            return 9;
        if (coro_destroy(all[i]) != 0)
            return 10;
    }
    co = coro_create(echo_plus_one, INT_TO_PTR(1), EXHAUST_STACK);
    if (co == NULL || coro_next(co) != INT_TO_PTR(1) || coro_destroy(co) != 0)
        return 11;
    return 0;
}

/* Where the address space runs out (on a 32-bit target, long before a
 * million coroutines), coro_create() fails with ENOMEM and nothing else
 * breaks: no size arithmetic wraps. */
static void test_scale_address_space_runs_out_is_enomem(void **state)
{
    struct child_result child;
    int status;

    (void)state;
#if defined(UNDER_ASAN) || defined(UNDER_TSAN)
    printf("# the sanitizers' shadow memory does not fit under an address space limit\n");
    skip();
#endif
    if (RUNNING_ON_VALGRIND) {
        printf("# valgrind keeps its own address space limits\n");
        skip();
    }
    run_in_child(exhaust_address_space, NULL, &child);
    status = child_exit_status(&child);
    if (status == 2) {
        printf("# RLIMIT_AS is not enforced here (an emulator): nothing to run out of\n");
        skip();
    }
    if (status != 0)
        print_error("child exit %d, after %s coroutines\n", status, child.out);
    assert_int_equal(status, 0);
    printf("# coro_create failed with ENOMEM after %.*s coroutines of %zu MiB (%s)\n",
           (int)strcspn(child.out, "\n"), child.out, EXHAUST_STACK >> 20,
           SIZE_MAX > UINT32_MAX ? "under RLIMIT_AS" : "the whole address space");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scale_many_alive_each_answers),
        cmocka_unit_test(test_scale_forked_child_resumes_suspended),
        cmocka_unit_test(test_scale_address_space_runs_out_is_enomem),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
