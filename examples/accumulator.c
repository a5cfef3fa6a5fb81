/*
 * The running sum, as the Python generator computes it:
 *
 *     def coroutine_test():
 *         val = 0
 *         while True:
 *             increment = yield val
 *             val += increment
 *     gen = coroutine_test()
 *     next(gen)    # 0
 *     gen.send(2)  # 2
 *     gen.send(3)  # 5
 *
 * With no arguments it makes those three calls; with integer arguments it
 * sends each in turn after the first coro_next(). Values travel as pointers
 * to long through the coroutine's value slot.
 */
#include <coro.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *running_sum(coro_t *co, void *arg)
{
    long sum = 0;
    const long *increment;

    (void)arg;
    /* A NULL send (a coro_next() after the start) ends the generator. */
    while ((increment = coro_yield(co, &sum)) != NULL)
        sum += *increment;
    return NULL;
}

static int parse_long(const char *text, long *out)
{
    char *end;

    errno = 0;
    *out = strtol(text, &end, 10);
    return errno == 0 && end != text && *end == '\0';
}

int main(int argc, char **argv)
{
    static char *const seed[] = {"accumulator", "2", "3"};
    long *increments;
    const long *sum;
    coro_t *gen;
    int count;

    if (argc < 2) {
        argc = 3;
        argv = (char **)seed;
    }
    count = argc - 1;
    increments = calloc((size_t)count, sizeof *increments);
    if (increments == NULL) {
        perror("accumulator");
        return 1;
    }
    for (int i = 0; i < count; i++) {
        if (!parse_long(argv[i + 1], &increments[i])) {
            fprintf(stderr, "accumulator: not an integer: '%s'\n", argv[i + 1]);
            free(increments);
            return 2;
        }
    }

    gen = coro_create(running_sum, NULL, 0);
    if (gen == NULL) {
        fprintf(stderr, "accumulator: coro_create: %s\n", strerror(errno));
        free(increments);
        return 1;
    }
    sum = coro_next(gen);
    printf("coro_next(gen) -> %ld\n", *sum);
    for (int i = 0; i < count; i++) {
        long next = increments[i];

        if ((next > 0 && *sum > LONG_MAX - next) || (next < 0 && *sum < LONG_MIN - next)) {
            fprintf(stderr, "accumulator: the sum overflows a long at '%s'\n", argv[i + 1]);
            coro_destroy(gen);
            free(increments);
            return 2;
        }
        sum = coro_send(gen, &next);
        printf("coro_send(gen, %ld) -> %ld\n", next, *sum);
    }
    coro_destroy(gen);
    free(increments);
    return 0;
}
