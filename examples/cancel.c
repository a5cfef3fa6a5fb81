/*
 * Cancelling a waiting task with coro_throw(), as an asyncio scheduler
 * cancels one: tasks wait for ticks of a clock, each with a deadline, and
 * the scheduler throws ETIMEDOUT into a task still waiting at its deadline.
 * The task's wait (coro_suspend) then fails with that error instead of
 * returning; the task stops what it was doing, its cleanups (coro_defer)
 * release what it held, and it ends with the error as its result. A task
 * that finishes in time never sees the throw.
 */
#include <coro.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>

struct task {
    const char *name;
    int chunks;   /* how many ticks of work it has */
    int deadline; /* the tick by which it must have finished */
    int waiting;  /* the tick it waits for: resumed then */
    coro_t *co;
};

static void close_connection(void *arg)
{
    const struct task *self = arg;

    printf("%s: connection closed\n", self->name);
}

/* Fetches its chunks, one a tick. Returns 0, or the error that stopped it,
 * negated: a C error does not unwind by itself, the body hands it on. */
static void *fetch(coro_t *co, void *arg)
{
    struct task *self = arg;

    printf("%s: connected\n", self->name);
    if (coro_defer(co, close_connection, self) != 0) {
        close_connection(self);
        return (void *)(intptr_t)-ENOMEM;
    }
    for (int chunk = 1; chunk <= self->chunks; chunk++) {
        /* The value yielded: how many ticks to wait. */
        int error = coro_suspend(co, (void *)(intptr_t)1, NULL);

        if (error != 0) {
            printf("%s: %s after %d of %d chunks\n", self->name,
                   error == ETIMEDOUT ? "timed out" : "stopped", chunk - 1, self->chunks);
            return (void *)(intptr_t)-error;
        }
        printf("%s: chunk %d\n", self->name, chunk);
    }
    return 0;
}

/* The task's result, when it has just ended. */
static void report(const struct task *t, void *result)
{
    intptr_t code = (intptr_t)result;
    const char *what = code == 0 ? "done" : code == -ETIMEDOUT ? "ETIMEDOUT" : "failed";

    printf("task %s: %s\n", t->name, what);
}

int main(void)
{
    struct task tasks[] = {
        {"small", 2, 5, 0, NULL},
        {"large", 6, 3, 0, NULL},
    };
    const int count = (int)(sizeof tasks / sizeof tasks[0]);
    int live = 0;

    for (int i = 0; i < count; i++) {
        tasks[i].co = coro_create(fetch, &tasks[i], 0);
        if (tasks[i].co == NULL) {
            perror("cancel: coro_create");
            return 1;
        }
        live++;
    }
    for (int now = 0; live > 0; now++) {
        printf("-- tick %d\n", now);
        for (int i = 0; i < count; i++) {
            struct task *t = &tasks[i];
            void *out;
            int error;

            if (coro_status(t->co) == CORO_DEAD || t->waiting > now)
                continue;
            if (now >= t->deadline)
                error = coro_throw(t->co, ETIMEDOUT, &out);
            else
                error = coro_resume(t->co, NULL, &out);
            if (error != 0) {
                fprintf(stderr, "cancel: resuming %s: error %d\n", t->name, error);
                return 1;
            }
            if (coro_status(t->co) == CORO_DEAD) {
                report(t, out);
                live--;
            } else {
                t->waiting = now + (int)(intptr_t)out;
            }
        }
    }
    for (int i = 0; i < count; i++)
        coro_destroy(tasks[i].co);
    return 0;
}
