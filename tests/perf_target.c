/*
 * The program that tests/perf_check.py profiles with perf: its time is
 * spent in spin(), inside two nested coroutines, so that each sample's
 * call chain should read
 *
 *   spin <- middle <- inner_body <- (libcoro, inner's root)
 *        <- outer_body <- (libcoro, outer's root) <- resumer <- main
 *
 * Built with frame pointers, libcoro's sources compiled in (CMake).
 */
#include <coro.h>

#include <stdio.h>
#include <stdlib.h>

#define NOINLINE __attribute__((noinline))

/* Kept from being folded away, or the calls below into jumps. */
static volatile unsigned long sink;

static unsigned long iterations;

NOINLINE static void spin(void)
{
    for (unsigned long i = 0; i < iterations; i++)
        sink += i;
}

NOINLINE static void middle(void)
{
    spin();
    sink++;
}

static void *inner_body(coro_t *co, void *arg)
{
    (void)co;
    middle();
    sink++;
    return arg;
}

static void *outer_body(coro_t *co, void *arg)
{
    (void)co;
    coro_t *inner = coro_create(inner_body, arg, 0);

    if (inner == NULL)
        return NULL;
    void *result = coro_next(inner);
    sink++;
    coro_destroy(inner);
    return result;
}

NOINLINE static int resumer(void)
{
    static int done;
    coro_t *outer = coro_create(outer_body, &done, 0);

    if (outer == NULL)
        return 0;
    void *result = coro_next(outer);
    sink++;
    coro_destroy(outer);
    return result == &done;
}

int main(int argc, char **argv)
{
    iterations = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000000;
    if (!resumer()) {
        fputs("perf_target: the coroutines did not run to their end\n", stderr);
        return 1;
    }
    return 0;
}
