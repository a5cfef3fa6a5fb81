/*
 * A coroutine on the smallest stack libcoro allows (16 KiB), and the one
 * call it makes that needs far more: a digest whose table takes 256 KiB of
 * stack. coro_call_on_thread_stack() runs that call on the thread's own
 * stack, and the coroutine goes on on its own. coro_stack_used() then says
 * how deep the coroutine's stack went, which is how a stack size is chosen
 * (docs/stacks.md); coro_set_name() names the coroutine in a stack
 * overflow's report and in gdb's `info coroutines`.
 *
 * Each line of the report goes to stdout as the coroutine yields it; the
 * stack figures, which vary with the platform and the build, go to
 * stderr.
 */
#include <coro.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct reading {
    const char *sensor;
    double celsius;
};

static const struct reading readings[] = {
    {"boiler", 71.25},
    {"cellar", 12.5},
    {"attic", 27.75},
};
#define READINGS (sizeof readings / sizeof readings[0])

/* What the formatter has written so far, for the digest. */
struct report {
    char text[512];
    size_t length;
};

/* A digest of text: FNV-1a over a table of how often each pair of bytes
 * follows another. The table is 256 KiB of stack, sixteen times the
 * coroutine's whole stack. */
static void *digest(void *arg)
{
    const struct report *report = arg;
    uint32_t pairs[256 * 256];
    uint32_t hash = 2166136261u;

    memset(pairs, 0, sizeof pairs);
    for (size_t i = 1; i < report->length; i++)
        pairs[(unsigned char)report->text[i - 1] * 256u + (unsigned char)report->text[i]]++;
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        hash ^= pairs[i];
        hash *= 16777619u;
    }
    return (void *)(uintptr_t)hash;
}

/* Yields a line per reading, then the report's digest. */
static void *formatter(coro_t *co, void *arg)
{
    struct report *report = arg;
    char line[128];
    uint32_t hash;

    for (size_t i = 0; i < READINGS; i++) {
        int length = snprintf(line, sizeof line, "%s: %.2f C", readings[i].sensor,
                              readings[i].celsius);

        if (length > 0 && report->length + (size_t)length < sizeof report->text) {
            memcpy(report->text + report->length, line, (size_t)length);
            report->length += (size_t)length;
        }
        coro_yield(co, line);
    }
    /* Called here directly, digest() would overflow into the guard below
     * this 16 KiB stack, and the program would stop with a report naming
     * "formatter". */
    hash = (uint32_t)(uintptr_t)coro_call_on_thread_stack(digest, report);
    snprintf(line, sizeof line, "digest of %zu bytes: %08lx", report->length,
             (unsigned long)hash);
    coro_yield(co, line);
    return NULL;
}

int main(void)
{
    struct report report = {.length = 0};
    coro_t *co = coro_create(formatter, &report, CORO_MIN_STACK_SIZE);
    const char *line;

    if (co == NULL) {
        fprintf(stderr, "small_stacks: coro_create: %s\n", strerror(errno));
        return 1;
    }
    coro_set_name(co, "formatter");
    while ((line = coro_next(co)) != NULL)
        printf("%s: %s\n", coro_name(co), line);
    fprintf(stderr, "%s: stack %zu bytes, %zu of them used\n", coro_name(co),
            coro_stack_size(co), coro_stack_used(co));
    coro_destroy(co);
    return 0;
}
