/*
 * Two copies of the shared libcoro in one process, as when two plugins each
 * bundle it: each loads with dlopen() (its thread-locals must fit in the
 * little static TLS that glibc keeps for dlopen()ed libraries) and runs
 * coroutines of its own. Built only for a shared libcoro; this program does
 * not link it. The library's path is the build's, or argv[1].
 */
#define _GNU_SOURCE /* mkstemp */

#include "test_support.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define COPIES 2

struct copy {
    char path[64];
    void *handle;
    coro_t *(*create)(coro_fn fn, void *arg, size_t stack_size);
    void *(*send)(coro_t *co, void *value);
    void *(*yield)(coro_t *co, void *value);
    int (*destroy)(coro_t *co);
    coro_t *(*current)(void);
};

static const char *library_path = CORO_SHARED_LIBRARY;
static struct copy copies[COPIES];

/* A file of its own for each copy: dlopen() of one path twice, or of two
 * links to one file, gives the library already loaded. */
static void copy_library(struct copy *copy)
{
    char buf[65536];
    int in = open(library_path, O_RDONLY);
    int out;
    ssize_t n;

    assert_true(in >= 0);
    snprintf(copy->path, sizeof copy->path, "/tmp/libcoro-copy-XXXXXX");
    out = mkstemp(copy->path);
    assert_true(out >= 0);
    while ((n = read(in, buf, sizeof buf)) > 0)
        assert_int_equal(write(out, buf, (size_t)n), n);
    assert_int_equal(n, 0);
    close(in);
    close(out);
}

static void *symbol(struct copy *copy, const char *name)
{
    void *address = dlsym(copy->handle, name);

    if (address == NULL)
        fail_msg("%s: no %s: %s", copy->path, name, dlerror());
    return address;
}

static void load(struct copy *copy)
{
    copy_library(copy);
    copy->handle = dlopen(copy->path, RTLD_NOW | RTLD_LOCAL);
    unlink(copy->path); /* loaded or not, the file has served */
    if (copy->handle == NULL)
        fail_msg("dlopen of a copy of %s: %s", library_path, dlerror());
    *(void **)&copy->create = symbol(copy, "coro_create");
    *(void **)&copy->send = symbol(copy, "coro_send");
    *(void **)&copy->yield = symbol(copy, "coro_yield");
    *(void **)&copy->destroy = symbol(copy, "coro_destroy");
    *(void **)&copy->current = symbol(copy, "coro_current");
}

/* bodies.h's running sum through the functions of the copy that made it
 * (this program does not link libcoro), which it checks runs it. */
static void *running_sum_in_copy(coro_t *co, void *arg)
{
    struct copy *copy = arg;
    intptr_t sum = 0;

    for (;;) {
        if (copy->current() != co)
            return INT_TO_PTR(-1);
        sum += PTR_TO_INT(copy->yield(co, INT_TO_PTR(sum)));
    }
    return NULL;
}

static void test_dlopen_two_copies_each_run_coroutines(void **state)
{
    coro_t *sums[COPIES];

    (void)state;
    for (int i = 0; i < COPIES; i++) {
        load(&copies[i]);
        for (int j = 0; j < i; j++)
            assert_ptr_not_equal(copies[i].create, copies[j].create); /* a copy indeed */
    }
    for (int i = 0; i < COPIES; i++) {
        sums[i] = copies[i].create(running_sum_in_copy, &copies[i], 0);
        assert_non_null(sums[i]);
        assert_int_equal(PTR_TO_INT(copies[i].send(sums[i], NULL)), 0);
    }
    /* Interleaved: each copy keeps its own running coroutine and sums. */
    for (intptr_t k = 1; k <= 3; k++) {
        for (int i = 0; i < COPIES; i++) {
            intptr_t step = k * (i + 1);

            assert_int_equal(PTR_TO_INT(copies[i].send(sums[i], INT_TO_PTR(step))),
                             (i + 1) * k * (k + 1) / 2);
            assert_null(copies[i].current());
        }
    }
    for (int i = 0; i < COPIES; i++) {
        assert_int_equal(copies[i].destroy(sums[i]), 0);
        /* libcoro is linked -z nodelete: it stays, as do its handlers. */
        assert_int_equal(dlclose(copies[i].handle), 0);
    }
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dlopen_two_copies_each_run_coroutines),
    };

    if (argc > 1)
        library_path = argv[1];
    return cmocka_run_group_tests(tests, NULL, NULL);
}
