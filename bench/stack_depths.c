/*
 * coro-stack-depths: how deep some common C library calls go on a
 * coroutine's stack, as coro_stack_used() reports it: the table of
 * docs/stacks.md. Each call runs in a coroutine of its own on a 1 MiB
 * stack; all of them are created before any runs and measured before any
 * is destroyed, so that no stack is reused (a reused stack keeps the pages
 * its earlier coroutine touched: coro.h). The figure includes libcoro's
 * record and the body's own frame; "nothing" is the body alone.
 *
 * Output: one line per call, its name and the bytes, then the backend.
 */
#define _GNU_SOURCE /* localtime_r, getaddrinfo */

#include <coro.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if !defined(_WIN32)
#include <netdb.h>
#include <regex.h>
#include <sys/socket.h>
#define HAVE_POSIX_CALLS 1
#endif

/* Where results go, so that no call is optimised away. */
static volatile double sink_double;
static volatile size_t sink_size;

static int compare_ints(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;

    return (x > y) - (x < y);
}

static void nothing(void)
{
}

static void format_number(void)
{
    char text[64];

    sink_size = (size_t)snprintf(text, sizeof text, "%g %d %s", 3.14159, 42, "x");
}

static void format_wide(void)
{
    char text[8192];
    long double huge = 1e300L;

    sink_size = (size_t)snprintf(text, sizeof text, "%.30Lf", huge * 1e300L);
}

static void parse_number(void)
{
    sink_double = strtod("1.234567890123456789e-300", NULL);
}

static void arithmetic(void)
{
    sink_double = pow(1.0001, 1e6) + sin(1e22) + lgamma(3.5);
}

static void sort(void)
{
    static int values[100000];

    for (int i = 0; i < 100000; i++)
        values[i] = (int)(((long)i * 7919) % 100003);
    qsort(values, 100000, sizeof values[0], compare_ints);
}

static void write_file(void)
{
    FILE *file = tmpfile();

    if (file != NULL) {
        fprintf(file, "%g %s\n", 2.5, "y");
        fclose(file);
    }
}

static void format_time(void)
{
    char text[64];
    time_t t = 0;
    struct tm *tm;
#ifdef HAVE_POSIX_CALLS
    struct tm broken_down;

    tm = localtime_r(&t, &broken_down);
#else
    tm = localtime(&t);
#endif
    sink_size = tm != NULL ? strftime(text, sizeof text, "%c %Z", tm) : 0;
}

#ifdef HAVE_POSIX_CALLS
static void resolve(void)
{
    struct addrinfo hints, *found = NULL;

    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    sink_size = (size_t)getaddrinfo("localhost", "80", &hints, &found);
    if (found != NULL)
        freeaddrinfo(found);
}

static void regular_expression(void)
{
    regex_t re;

    if (regcomp(&re, "^([a-z]+)@([a-z0-9.-]+)\\.(com|org)$", REG_EXTENDED) == 0) {
        sink_size = (size_t)regexec(&re, "user@example.com", 0, NULL, 0);
        regfree(&re);
    }
}
#endif

struct call {
    const char *name;
    void (*fn)(void);
};

static const struct call calls[] = {
    {"nothing", nothing},
    {"snprintf(\"%g %d %s\")", format_number},
    {"strtod", parse_number},
    {"pow, sin, lgamma", arithmetic},
    {"qsort of 100000 ints", sort},
    {"tmpfile, fprintf, fclose", write_file},
    {"localtime_r, strftime", format_time},
#ifdef HAVE_POSIX_CALLS
    {"getaddrinfo(\"localhost\")", resolve},
    {"regcomp, regexec", regular_expression},
#endif
    {"snprintf(\"%.30Lf\") of 1e600", format_wide},
};
#define CALLS (sizeof calls / sizeof calls[0])

static void *run(coro_t *co, void *arg)
{
    const struct call *call = arg;

    (void)co;
    call->fn();
    return NULL;
}

int main(void)
{
    coro_t *coros[CALLS];

    for (size_t i = 0; i < CALLS; i++) {
        coros[i] = coro_create(run, (void *)&calls[i], 1u << 20);
        if (coros[i] == NULL) {
            perror("coro-stack-depths: coro_create");
            return 1;
        }
    }
    for (size_t i = 0; i < CALLS; i++)
        coro_next(coros[i]);
    for (size_t i = 0; i < CALLS; i++)
        printf("%-32s %7zu bytes\n", calls[i].name, coro_stack_used(coros[i]));
    for (size_t i = 0; i < CALLS; i++)
        coro_destroy(coros[i]);
    printf("backend: %s\n", coro_backend());
    return 0;
}
