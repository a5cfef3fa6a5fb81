/*
 * A push pipeline, as in David Beazley's "A Curious Course on Coroutines and
 * Concurrency": the producer sends each value into a filter, which sends
 * what it keeps into a sink. In Python (each coroutine primed with next()):
 *
 *     def multiples_of_3(target):
 *         try:
 *             while True:
 *                 x = yield
 *                 if x % 3 == 0:
 *                     target.send(x)
 *         finally:
 *             target.close()
 *
 *     def total():
 *         count, total = 0, 0
 *         try:
 *             while True:
 *                 x = yield
 *                 count, total = count + 1, total + x
 *         finally:
 *             print(count, total)
 *
 *     sink = total(); stage = multiples_of_3(sink)
 *     for x in numbers: stage.send(x)
 *     stage.close()
 *
 * `finally` is coro_defer(): closing the filter runs its cleanup, which
 * closes the sink, whose cleanup prints the summary.
 *
 * With no arguments the numbers are 7 12 5 9 21 10 3; otherwise the
 * arguments, integers of at most 9 digits.
 */
#include <coro.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * What a stage hands back, by yielding or by returning when it cannot start,
 * is an error number: 0 while all is well.
 */
static void *error_value(int err)
{
    return (void *)(intptr_t)err;
}

/* Resumes a stage: returns 0, or libcoro's or the stage's error number. */
static int push(coro_t *stage, long *x)
{
    void *out;
    int err = coro_resume(stage, x, &out);

    return err != 0 ? err : (int)(intptr_t)out;
}

/*
 * Both bodies below pass their own locals to their cleanups. That is safe
 * only because neither body returns once its cleanup is registered: each
 * ends by coro_close() while suspended in coro_yield(), and then every frame
 * of the body is still live when the cleanup runs (see coro_defer()).
 * Their coro_yield() cannot fail (each yields on its own co, and never from
 * a cleanup), and after the start main sends only non-NULL values.
 */

struct sink {
    long count;
    long long total;
};

static void sink_cleanup(void *arg)
{
    const struct sink *sink = arg;

    printf("sink: closed: count %ld, total %lld\n", sink->count, sink->total);
}

static void *sink_body(coro_t *co, void *arg)
{
    struct sink sink = {0, 0};
    int err = coro_defer(co, sink_cleanup, &sink);

    (void)arg;
    if (err != 0)
        return error_value(err);
    for (;;) {
        const long *x = coro_yield(co, error_value(0));

        sink.count++;
        sink.total += *x;
        printf("sink: %ld (count %ld, total %lld)\n", *x, sink.count, sink.total);
    }
}

struct filter {
    coro_t *sink;
    long seen, passed;
};

static void filter_cleanup(void *arg)
{
    const struct filter *filter = arg;
    int err;

    printf("filter: closed: passed %ld of %ld, closing the sink\n", filter->passed,
           filter->seen);
    /* A cleanup cannot hand an error back: main finds the sink still open. */
    err = coro_close(filter->sink);
    if (err != 0)
        fprintf(stderr, "pipeline: coro_close(sink): %s\n", strerror(err));
}

static void *filter_body(coro_t *co, void *sink)
{
    struct filter filter = {sink, 0, 0};
    int err = coro_defer(co, filter_cleanup, &filter);

    if (err != 0)
        return error_value(err);
    for (;;) {
        long *x = coro_yield(co, error_value(err));

        err = 0;
        filter.seen++;
        if (*x % 3 != 0) {
            printf("filter: %ld dropped\n", *x);
            continue;
        }
        filter.passed++;
        /* The filter is CORO_NORMAL while the sink runs. */
        err = push(filter.sink, x);
    }
}

static int parse(const char *text, long *out)
{
    char *end;

    errno = 0;
    *out = strtol(text, &end, 10);
    return errno == 0 && end != text && *end == '\0' && *out > -1000000000 && *out < 1000000000;
}

/* Prints what failed and why; returns the exit status for it. */
static int report(const char *what, int err)
{
    fprintf(stderr, "pipeline: %s: %s\n", what, strerror(err));
    return 1;
}

int main(int argc, char **argv)
{
    static char *const seed[] = {"pipeline", "7", "12", "5", "9", "21", "10", "3"};
    coro_t *sink = NULL, *filter = NULL;
    long *numbers;
    int count, err, status = 1;

    if (argc < 2) {
        argc = (int)(sizeof seed / sizeof seed[0]);
        argv = (char **)seed;
    }
    count = argc - 1;
    numbers = calloc((size_t)count, sizeof *numbers);
    if (numbers == NULL) {
        perror("pipeline");
        return 1;
    }
    for (int i = 0; i < count; i++) {
        if (!parse(argv[i + 1], &numbers[i])) {
            fprintf(stderr, "pipeline: not an integer of at most 9 digits: '%s'\n",
                    argv[i + 1]);
            free(numbers);
            return 2;
        }
    }

    /* Build from the end, starting (priming) each stage so that it waits in
     * coro_yield() for its first value. */
    if ((sink = coro_create(sink_body, NULL, 0)) == NULL) {
        report("coro_create(sink)", errno);
        goto out;
    }
    if ((err = push(sink, NULL)) != 0) {
        report("starting the sink", err);
        goto out;
    }
    if ((filter = coro_create(filter_body, sink, 0)) == NULL) {
        report("coro_create(filter)", errno);
        goto out;
    }
    if ((err = push(filter, NULL)) != 0) {
        report("starting the filter", err);
        goto out;
    }
    for (int i = 0; i < count; i++) {
        if ((err = push(filter, &numbers[i])) != 0) {
            report("sending into the filter", err);
            goto out;
        }
    }
    if ((err = coro_close(filter)) != 0) {
        report("coro_close(filter)", err);
        goto out;
    }
    if (coro_status(sink) != CORO_DEAD) {
        fprintf(stderr, "pipeline: the filter's cleanup left the sink open\n");
        goto out;
    }
    status = 0;
out:
    /* On failure, destroying the filter closes it, and its cleanup the sink. */
    if ((err = coro_destroy(filter)) != 0)
        status = report("coro_destroy(filter)", err);
    if ((err = coro_destroy(sink)) != 0)
        status = report("coro_destroy(sink)", err);
    free(numbers);
    return status;
}
