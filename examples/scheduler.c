/*
 * Cooperative multitasking in a few lines: each task is a coroutine that
 * gives up its turn after every step, and a round-robin loop resumes the
 * live tasks in turn until all have finished, printing each one's result.
 *
 * The tasks give up their turn inside step(), an ordinary function they
 * call, here and there two calls deep. In Python step() would itself have
 * to be a generator, and every call on the way to it a `yield from`; with
 * stackful coroutines a task is plain sequential code, as with threads, but
 * nothing runs in parallel and the interleaving is deterministic.
 */
#include <coro.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct task {
    const char *name;
    coro_fn body;
    coro_t *co;
};

/* One step of a task: say what it did, then let the others run. */
static void step(coro_t *co, const struct task *self, const char *format, ...)
{
    va_list args;

    printf("%s: ", self->name);
    va_start(args, format);
    vprintf(format, args);
    va_end(args);
    putchar('\n');
    coro_yield(co, NULL);
}

static void *counter(coro_t *co, void *self)
{
    int n;

    for (n = 1; n <= 3; n++)
        step(co, self, "%d", n);
    return (void *)(intptr_t)(n - 1);
}

static void *fizz(coro_t *co, void *self)
{
    int words = 0;

    for (int n = 1; n <= 5; n++) {
        if (n % 3 == 0 || n % 5 == 0) {
            step(co, self, "%s", n % 3 == 0 ? "fizz" : "buzz");
            words++;
        } else {
            step(co, self, "%d", n);
        }
    }
    return (void *)(intptr_t)words;
}

/* Stands for a read that would block: it lets the others run meanwhile. */
static int receive(coro_t *co, const struct task *self)
{
    step(co, self, "waiting for the reply");
    return 42;
}

static void *fetch(coro_t *co, void *self)
{
    step(co, self, "sending the request");
    return (void *)(intptr_t)receive(co, self);
}

int main(void)
{
    struct task tasks[] = {
        {"counter", counter, NULL},
        {"fizz", fizz, NULL},
        {"fetch", fetch, NULL},
    };
    enum { COUNT = sizeof tasks / sizeof tasks[0] };
    struct task *run[COUNT]; /* the live tasks, in turn order */
    size_t live = 0;
    int status = 1;

    for (size_t i = 0; i < COUNT; i++) {
        tasks[i].co = coro_create(tasks[i].body, &tasks[i], 0);
        if (tasks[i].co == NULL) {
            perror("scheduler: coro_create");
            goto out;
        }
        run[live++] = &tasks[i];
    }

    while (live > 0) {
        for (size_t i = 0; i < live;) {
            struct task *task = run[i];
            void *result;
            int err = coro_resume(task->co, NULL, &result);

            if (err != 0) {
                fprintf(stderr, "scheduler: resuming %s: %s\n", task->name, strerror(err));
                goto out;
            }
            if (coro_status(task->co) != CORO_DEAD) {
                i++;
                continue;
            }
            /* The task returned: drop it, keeping the others' turn order. */
            printf("task %s finished -> %d\n", task->name, (int)(intptr_t)result);
            memmove(&run[i], &run[i + 1], (live - i - 1) * sizeof run[0]);
            live--;
        }
    }
    status = 0;
out:
    /* Finished tasks are just freed; on failure, live ones are closed too. */
    for (size_t i = 0; i < COUNT; i++) {
        int err = coro_destroy(tasks[i].co);

        if (err != 0) {
            fprintf(stderr, "scheduler: coro_destroy(%s): %s\n", tasks[i].name, strerror(err));
            status = 1;
        }
    }
    return status;
}
