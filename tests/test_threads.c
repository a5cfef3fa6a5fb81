/*
 * Threads: coroutines on several threads at once, coro_current() per
 * thread, one coroutine handed from thread to thread (also while it is deep
 * in nested calls or inside coro_yield_from()), a coroutine destroyed on
 * another thread than the one that ran it, concurrent creation and
 * destruction through the shared stack pool, and (with musl) a thread that
 * ends inside a coroutine without unwinding.
 *
 * No cmocka assertion off the thread that runs the test. Threads that run
 * at the same time record what they see, and the test asserts after
 * joining them. A coroutine that runs on one thread at a time, each after
 * the last and all joined before the test ends (the relay's, and the one
 * nested on another thread), checks in place with body_assert_*(): every
 * test is a body_checked_test(). Threads meet through joins, barriers and a
 * mutex with a condition variable: never through sleeps.
 */
#define _POSIX_C_SOURCE 200809L /* pthread barriers with -std=c11 */

#include "test_support.h"

#include "bodies.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#define THREADS 4

/*
 * glibc declares pthread_self() __attribute__((const)), so a compiler may
 * reuse one call's result after a coro_yield() that moved the body to
 * another thread. A call through a volatile pointer is always made afresh.
 */
static pthread_t (*volatile self_fn)(void) = pthread_self;

/* ---- the harness: n worker threads at once ------------------------------ */

/* What a worker thread's argument begins with: its index among the n, and a
 * barrier of n at which the workers may wait to start together. */
struct worker {
    int index;
    pthread_barrier_t *start;
};

/* The workers of one run, started by start_workers(). */
struct crew {
    pthread_t thread[THREADS];
    pthread_barrier_t start;
    int n;
};

/* Starts fn on n threads, the i-th given the i-th of n elements of workers
 * (each size bytes, beginning with a struct worker, which this fills in). */
static void start_workers(struct crew *c, void *(*fn)(void *), void *workers, int n, size_t size)
{
    assert_true(n >= 1 && n <= THREADS);
    assert_int_equal(pthread_barrier_init(&c->start, NULL, (unsigned)n), 0);
    c->n = n;
    for (int i = 0; i < n; i++) {
        struct worker *w = (struct worker *)(void *)((char *)workers + (size_t)i * size);

        w->index = i;
        w->start = &c->start;
        assert_int_equal(pthread_create(&c->thread[i], NULL, fn, w), 0);
    }
}

static void join_workers(struct crew *c)
{
    for (int i = 0; i < c->n; i++)
        assert_int_equal(pthread_join(c->thread[i], NULL), 0);
    pthread_barrier_destroy(&c->start);
}

/* start_workers(), then join_workers(): for a test that waits for them. */
static void run_workers(void *(*fn)(void *), void *workers, int n, size_t size)
{
    struct crew c;

    start_workers(&c, fn, workers, n, size);
    join_workers(&c);
}

/* ---- a relay: one coroutine resumed by several threads in turn ----------- */

#define RELAY_MAX_STEPS 2000

/* One resume (or the destroy) of the relay's coroutine, and what the thread
 * that did it saw. */
struct step {
    intptr_t send;
    int destroy; /* coro_destroy() instead of coro_resume() */
    pthread_t by;
    int error;
    intptr_t out;
    enum coro_status status_after;
    coro_t *current_before, *current_after;
};

/*
 * Step k runs on thread k % nthreads, strictly after step k - 1: the turn
 * counter under the mutex orders them, so each step's thread sees all that
 * the coroutine did on the thread before. All threads stay alive until the
 * last step, so their pthread_t values are distinct. The coroutine runs on
 * one thread at a time, each step ordered after the last and all joined
 * before the test ends, so its body checks with body_assert_*().
 */
struct relay {
    pthread_mutex_t lock;
    pthread_cond_t turn_changed;
    int turn;
    int steps;
    int nthreads;
    coro_t *co;
    int noted; /* the relay_note() calls */
    struct step step[RELAY_MAX_STEPS];
};

struct relay_seat {
    struct worker worker;
    struct relay *r;
};

/* Called by a body after each resume: it is on the thread that resumed it,
 * and expected is the current coroutine. (The turn is stable here: only
 * the thread running this step changes it, after the resume returns.) */
static void relay_note(struct relay *r, coro_t *expected)
{
    body_assert_true(pthread_equal(self_fn(), r->step[r->turn].by));
    body_assert_ptr_equal(coro_current(), expected);
    r->noted++;
}

static void *relay_thread(void *arg)
{
    struct relay_seat *seat = arg;
    struct relay *r = seat->r;

    for (int k = seat->worker.index; k < r->steps; k += r->nthreads) {
        struct step *s = &r->step[k];
        void *out = NULL;

        pthread_mutex_lock(&r->lock);
        while (r->turn != k)
            pthread_cond_wait(&r->turn_changed, &r->lock);
        pthread_mutex_unlock(&r->lock);

        s->by = pthread_self();
        s->current_before = coro_current();
        if (s->destroy) {
            s->error = coro_destroy(r->co);
        } else {
            s->error = coro_resume(r->co, INT_TO_PTR(s->send), &out);
            s->out = PTR_TO_INT(out);
            s->status_after = coro_status(r->co);
        }
        s->current_after = coro_current();

        pthread_mutex_lock(&r->lock);
        r->turn++;
        pthread_cond_broadcast(&r->turn_changed);
        pthread_mutex_unlock(&r->lock);
    }
    return NULL;
}

static struct relay *relay_new(int steps, int nthreads)
{
    struct relay *r = calloc(1, sizeof *r);

    assert_non_null(r);
    assert_true(steps <= RELAY_MAX_STEPS);
    assert_true(nthreads <= THREADS);
    assert_int_equal(pthread_mutex_init(&r->lock, NULL), 0);
    assert_int_equal(pthread_cond_init(&r->turn_changed, NULL), 0);
    r->steps = steps;
    r->nthreads = nthreads;
    return r;
}

static void relay_run(struct relay *r)
{
    struct relay_seat seats[THREADS];

    for (int i = 0; i < r->nthreads; i++)
        seats[i] = (struct relay_seat){.r = r};
    run_workers(relay_thread, seats, r->nthreads, sizeof seats[0]);
    assert_int_equal(r->turn, r->steps);
}

static void relay_free(struct relay *r)
{
    pthread_cond_destroy(&r->turn_changed);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

/*
 * After relay_run(): every step succeeded, on a thread outside any
 * coroutine before and after, and the steps ran on threads 0, 1, ...,
 * nthreads - 1, 0, 1, ..., which were all different. Resume k gave out[k]
 * and left the coroutine SUSPENDED, or DEAD if it was the last step (out[k]
 * of a destroy step is not read). The body called relay_note() notes
 * times.
 */
static void assert_relay_steps(const struct relay *r, int notes, const intptr_t *out)
{
    for (int k = 0; k < r->steps; k++) {
        const struct step *s = &r->step[k];

        assert_int_equal(s->error, 0);
        assert_null(s->current_before);
        assert_null(s->current_after);
        assert_true(pthread_equal(s->by, r->step[k % r->nthreads].by));
        if (!s->destroy) {
            assert_int_equal(s->out, out[k]);
            assert_int_equal(s->status_after, k < r->steps - 1 ? CORO_SUSPENDED : CORO_DEAD);
        }
    }
    for (int i = 0; i < r->nthreads; i++)
        for (int j = i + 1; j < r->nthreads; j++)
            assert_false(pthread_equal(r->step[i].by, r->step[j].by));
    assert_int_equal(r->noted, notes);
}

/* ---- many round trips on four threads at once --------------------------- */

#define TRIPS 10000

struct trip_worker {
    struct worker worker;
    coro_t *current_before;
    long bad_values, bad_current_inside, bad_current_outside, bad_errors;
    intptr_t result[2];
    enum coro_status end_status[2];
    int destroyed[2];
};

/* A running sum, until sent a negative number; checks coro_current() on
 * every resume. */
static void *trip_body(coro_t *co, void *arg)
{
    struct trip_worker *w = arg;
    intptr_t sum = 0, inc;

    while ((inc = PTR_TO_INT(coro_yield(co, INT_TO_PTR(sum)))) >= 0) {
        if (coro_current() != co)
            w->bad_current_inside++;
        sum += inc;
    }
    return INT_TO_PTR(sum);
}

static intptr_t trip_base(int index)
{
    return (intptr_t)(index + 1) * 1000000;
}

/* Two coroutines of this thread's own, resumed alternately TRIPS times. */
static void *trip_thread(void *arg)
{
    struct trip_worker *w = arg;
    coro_t *co[2];
    intptr_t expect[2] = {0, 0};
    void *out = NULL;

    w->current_before = coro_current();
    co[0] = coro_create(trip_body, w, 0);
    co[1] = coro_create(trip_body, w, 0);
    pthread_barrier_wait(w->worker.start);
    if (co[0] == NULL || co[1] == NULL) {
        w->bad_errors++;
        coro_destroy(co[0]);
        coro_destroy(co[1]);
        return NULL;
    }
    for (int c = 0; c < 2; c++)
        if (coro_resume(co[c], NULL, &out) != 0 || out != NULL)
            w->bad_errors++;
    for (intptr_t i = 1; i <= TRIPS; i++) {
        int c = (int)(i % 2);
        intptr_t inc = trip_base(w->worker.index) + i;

        if (coro_resume(co[c], INT_TO_PTR(inc), &out) != 0)
            w->bad_errors++;
        expect[c] += inc;
        if (PTR_TO_INT(out) != expect[c])
            w->bad_values++;
        if (coro_current() != NULL)
            w->bad_current_outside++;
    }
    for (int c = 0; c < 2; c++) {
        if (coro_resume(co[c], INT_TO_PTR(-1), &out) != 0)
            w->bad_errors++;
        w->result[c] = PTR_TO_INT(out);
        w->end_status[c] = coro_status(co[c]);
        w->destroyed[c] = coro_destroy(co[c]);
    }
    return NULL;
}

static void test_threads_round_trips_on_four_threads(void **state)
{
    /* Four threads each run their own coroutines through 10,000 round trips at once. */
    struct trip_worker w[THREADS] = {0};

    (void)state;
    run_workers(trip_thread, w, THREADS, sizeof w[0]);

    for (int i = 0; i < THREADS; i++) {
        intptr_t want[2] = {0, 0};

        for (intptr_t k = 1; k <= TRIPS; k++)
            want[k % 2] += trip_base(i) + k;
        assert_null(w[i].current_before);
        assert_int_equal(w[i].bad_errors, 0);
        assert_int_equal(w[i].bad_values, 0);
        assert_int_equal(w[i].bad_current_inside, 0);
        assert_int_equal(w[i].bad_current_outside, 0);
        for (int c = 0; c < 2; c++) {
            assert_int_equal(w[i].result[c], want[c]);
            assert_int_equal(w[i].end_status[c], CORO_DEAD);
            assert_int_equal(w[i].destroyed[c], 0);
        }
    }
    assert_null(coro_current());
}

/* ---- coro_current() is per thread --------------------------------------- */

struct inside_probe {
    struct worker worker;
    pthread_barrier_t *inside, *checked;
    coro_t *co;
    coro_t *inside_first, *inside_later, *outside_after;
    int created;
    int destroyed;
};

/* Waits inside the coroutine until main has looked, then looks again. */
static void *inside_probe_body(coro_t *co, void *arg)
{
    struct inside_probe *p = arg;

    (void)co;
    p->inside_first = coro_current();
    pthread_barrier_wait(p->inside);
    pthread_barrier_wait(p->checked);
    p->inside_later = coro_current();
    return NULL;
}

static void *inside_probe_thread(void *arg)
{
    struct inside_probe *p = arg;

    p->co = coro_create(inside_probe_body, p, 0);
    p->created = p->co != NULL;
    if (p->co == NULL) {
        /* Still meet the others, so nobody waits forever. */
        pthread_barrier_wait(p->inside);
        pthread_barrier_wait(p->checked);
        return NULL;
    }
    coro_resume(p->co, NULL, NULL);
    p->outside_after = coro_current();
    p->destroyed = coro_destroy(p->co);
    return NULL;
}

static void test_threads_current_is_per_thread(void **state)
{
    /* While two threads are inside coroutines, each sees its own and main sees NULL. */
    struct crew crew;
    struct inside_probe p[2] = {0};
    pthread_barrier_t inside, checked;
    coro_t *main_current;
    enum coro_status seen[2];

    (void)state;
    assert_int_equal(pthread_barrier_init(&inside, NULL, 3), 0);
    assert_int_equal(pthread_barrier_init(&checked, NULL, 3), 0);
    for (int i = 0; i < 2; i++) {
        p[i].inside = &inside;
        p[i].checked = &checked;
    }
    start_workers(&crew, inside_probe_thread, p, 2, sizeof p[0]);

    pthread_barrier_wait(&inside);
    /* Both threads are now inside their coroutines. */
    main_current = coro_current();
    for (int i = 0; i < 2; i++)
        seen[i] = coro_status(p[i].co);
    pthread_barrier_wait(&checked);
    join_workers(&crew);
    pthread_barrier_destroy(&checked);
    pthread_barrier_destroy(&inside);

    assert_null(main_current);
    for (int i = 0; i < 2; i++) {
        assert_true(p[i].created);
        assert_int_equal(seen[i], CORO_RUNNING);
        assert_ptr_equal(p[i].inside_first, p[i].co);
        assert_ptr_equal(p[i].inside_later, p[i].co);
        assert_null(p[i].outside_after);
        assert_int_equal(p[i].destroyed, 0);
    }
    assert_ptr_not_equal(p[0].co, p[1].co);
}

/* ---- one coroutine handed round four threads ----------------------------- */

#define HANDOFFS 2000
#define HANDOFF_LOCALS 16

/* A running sum of what it is sent, over the relay's steps: checks each
 * send and notes its thread at every resume, and keeps a local array,
 * adding each send to one of its elements, that it checks at the end. */
static void *handoff_body(coro_t *co, void *arg)
{
    struct relay *r = arg;
    volatile intptr_t local[HANDOFF_LOCALS];
    intptr_t sum = 0;

    for (int i = 0; i < HANDOFF_LOCALS; i++)
        local[i] = (intptr_t)i * i;
    relay_note(r, co);
    for (int k = 1; k < r->steps; k++) {
        intptr_t got = PTR_TO_INT(coro_yield(co, INT_TO_PTR(sum)));

        relay_note(r, co);
        body_assert_int_equal(got, r->step[k].send);
        sum += got;
        local[k % HANDOFF_LOCALS] += got;
    }
    for (int i = 0; i < HANDOFF_LOCALS; i++) {
        intptr_t want = (intptr_t)i * i;

        for (int k = i == 0 ? HANDOFF_LOCALS : i; k < r->steps; k += HANDOFF_LOCALS)
            want += r->step[k].send;
        body_assert_int_equal(local[i], want);
    }
    return INT_TO_PTR(sum);
}

/* handoff_body() resumed steps times, step k on thread k % THREADS and sent
 * send[k] (send[0], the start, is not sent), must yield out[k]. */
static void run_handoffs(int steps, const intptr_t *send, const intptr_t *out)
{
    struct relay *r = relay_new(steps, THREADS);

    r->co = must_create(handoff_body, r);
    for (int k = 1; k < steps; k++)
        r->step[k].send = send[k];
    relay_run(r);

    assert_relay_steps(r, steps, out);
    assert_null(coro_current());
    assert_int_equal(coro_destroy(r->co), 0);
    relay_free(r);
}

static void test_threads_resumed_on_each_thread_in_turn(void **state)
{
    /* One coroutine resumed once by each of four threads runs on each, state intact. */
    static const intptr_t send[THREADS] = {0, 5, 7, 9}, out[THREADS] = {0, 5, 12, 21};

    (void)state;
    run_handoffs(THREADS, send, out);
}

static void test_threads_handoff_stress(void **state)
{
    /* One coroutine handed round four threads 2,000 times stays right at every step. */
    intptr_t *send = calloc(HANDOFFS, sizeof *send), *out = calloc(HANDOFFS, sizeof *out);
    intptr_t sum = 0;

    (void)state;
    assert_non_null(send);
    assert_non_null(out);
    for (int k = 0; k < HANDOFFS; k++) {
        send[k] = k;
        sum += k;
        out[k] = sum;
    }
    assert_int_equal(sum, (intptr_t)HANDOFFS * (HANDOFFS - 1) / 2);
    run_handoffs(HANDOFFS, send, out);
    free(out);
    free(send);
}

/* ---- migrating at call depth --------------------------------------------- */

#define DEPTH_STEPS 8

/* Yields from the innermost of three frames, each with locals of its own
 * checked after the frames below return. Level 3 yields DEPTH_STEPS - 1
 * times, handing out the running sum of what it was sent. */
static intptr_t depth_level(coro_t *co, struct relay *r, int level)
{
    volatile intptr_t local[6];
    intptr_t result = 0;

    for (int i = 0; i < 6; i++)
        local[i] = 100 * level + i;
    if (level < 3) {
        result = depth_level(co, r, level + 1) + level;
    } else {
        relay_note(r, co);
        for (int i = 1; i < DEPTH_STEPS; i++) {
            result += PTR_TO_INT(coro_yield(co, INT_TO_PTR(result)));
            relay_note(r, co);
        }
    }
    for (int i = 0; i < 6; i++)
        body_assert_int_equal(local[i], 100 * level + i);
    return result;
}

static void *depth_body(coro_t *co, void *arg)
{
    return INT_TO_PTR(depth_level(co, arg, 1));
}

static void test_threads_migrate_at_call_depth(void **state)
{
    /* A coroutine suspended three calls deep keeps working as it moves between threads. */
    struct relay *r = relay_new(DEPTH_STEPS, THREADS);
    intptr_t out[DEPTH_STEPS], sum = 0;

    (void)state;
    r->co = must_create(depth_body, r);
    for (int k = 0; k < DEPTH_STEPS; k++) {
        r->step[k].send = 10 * k;
        sum += r->step[k].send;
        out[k] = sum;
    }
    /* The sum, plus 2 and 1 added by levels 2 and 1 on the way out. */
    out[DEPTH_STEPS - 1] += 3;
    relay_run(r);

    assert_relay_steps(r, DEPTH_STEPS, out);
    assert_int_equal(coro_destroy(r->co), 0);
    relay_free(r);
}

/* ---- migrating inside coro_yield_from() ---------------------------------- */

struct delegation {
    struct relay *r;
    coro_t *outer, *sub;
    int sub_notes, outer_notes;
};

/* Yields 10, 20, 30, checking each time that its delegator is NORMAL;
 * returns the sum of what it was sent. */
static void *deleg_sub(coro_t *co, void *arg)
{
    struct delegation *g = arg;
    intptr_t sum = 0;

    for (int i = 1; i <= 3; i++) {
        relay_note(g->r, co);
        g->sub_notes++;
        body_assert_int_equal(coro_status(g->outer), CORO_NORMAL);
        sum += PTR_TO_INT(coro_yield(co, INT_TO_PTR(10 * i)));
    }
    relay_note(g->r, co);
    g->sub_notes++;
    return INT_TO_PTR(sum);
}

/* Yields 1 and expects 100 back, then delegates to sub, then returns sub's
 * result plus 100 plus 1000. */
static void *deleg_outer(coro_t *co, void *arg)
{
    struct delegation *g = arg;
    intptr_t got, from_sub;

    relay_note(g->r, co);
    g->outer_notes++;
    got = PTR_TO_INT(coro_yield(co, INT_TO_PTR(1)));
    body_assert_int_equal(got, 100);
    relay_note(g->r, co);
    g->outer_notes++;
    from_sub = PTR_TO_INT(coro_yield_from(co, g->sub));
    relay_note(g->r, co);
    g->outer_notes++;
    body_assert_int_equal(coro_status(g->sub), CORO_DEAD);
    return INT_TO_PTR(from_sub + got + 1000);
}

static void test_threads_migrate_inside_yield_from(void **state)
{
    /* A coroutine suspended in coro_yield_from() keeps delegating as it moves threads. */
    static const intptr_t out[5] = {1, 10, 20, 30, 2 + 3 + 4 + 100 + 1000};
    struct relay *r = relay_new(5, THREADS);
    struct delegation g = {.r = r};

    (void)state;
    g.outer = must_create(deleg_outer, &g);
    g.sub = must_create(deleg_sub, &g);
    r->co = g.outer;
    r->step[1].send = 100; /* outer's own yield */
    r->step[2].send = 2;   /* the rest go into sub */
    r->step[3].send = 3;
    r->step[4].send = 4;
    relay_run(r);

    assert_relay_steps(r, 7, out);
    assert_int_equal(g.sub_notes, 4);
    assert_int_equal(g.outer_notes, 3);
    assert_int_equal(coro_status(g.sub), CORO_DEAD);
    assert_int_equal(coro_destroy(g.sub), 0);
    assert_int_equal(coro_destroy(g.outer), 0);
    relay_free(r);
}

/* ---- destroyed on another thread ---------------------------------------- */

struct remote_destroy {
    struct relay *r;
    int cleanups;
};

/* Runs on the thread that destroys the coroutine (step 1), not the one that
 * ran it (step 0), as the current coroutine. */
static void remote_destroy_cleanup(void *arg)
{
    struct remote_destroy *d = arg;

    d->cleanups++;
    body_assert_true(pthread_equal(self_fn(), d->r->step[1].by));
    body_assert_true(!pthread_equal(self_fn(), d->r->step[0].by));
    body_assert_ptr_equal(coro_current(), d->r->co);
}

static void *remote_destroy_body(coro_t *co, void *arg)
{
    coro_defer(co, remote_destroy_cleanup, arg);
    coro_yield(co, INT_TO_PTR(1));
    body_fail_msg("resumed after its yield: it is destroyed while suspended");
    return NULL;
}

static void test_threads_destroy_on_other_thread(void **state)
{
    /* Destroyed on another thread than it ran on, a coroutine runs its cleanup there. */
    static const intptr_t out[2] = {1, 0};
    struct relay *r = relay_new(2, 2);
    struct remote_destroy d = {.r = r};

    (void)state;
    r->co = must_create(remote_destroy_body, &d);
    r->step[1].destroy = 1;
    relay_run(r);

    assert_relay_steps(r, 0, out);
    assert_int_equal(d.cleanups, 1);
    relay_free(r);
}

/* ---- busy while running on another thread -------------------------------- */

struct gate {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int inside, release;
    coro_t *co;
    int error;
    intptr_t out;
};

/* Says it is inside, waits to be released, then yields 5 and returns what
 * it is sent. */
static void *gate_body(coro_t *co, void *arg)
{
    struct gate *g = arg;

    pthread_mutex_lock(&g->lock);
    g->inside = 1;
    pthread_cond_broadcast(&g->cond);
    while (!g->release)
        pthread_cond_wait(&g->cond, &g->lock);
    pthread_mutex_unlock(&g->lock);
    return coro_yield(co, INT_TO_PTR(5));
}

static void *gate_thread(void *arg)
{
    struct gate *g = arg;
    void *out = NULL;

    g->error = coro_resume(g->co, NULL, &out);
    g->out = PTR_TO_INT(out);
    return NULL;
}

static void never_called(void *arg)
{
    (void)arg;
}

static void test_threads_busy_while_running_elsewhere(void **state)
{
    /* A coroutine running on another thread is EBUSY/EPERM to main, and unchanged. */
    struct gate g = {.inside = 0};
    pthread_t t;
    coro_t *other = must_create(gate_body, &g);
    void *out = (void *)&g;
    void *yielded, *delegated;
    int yield_errno, delegate_errno;

    (void)state;
    assert_int_equal(pthread_mutex_init(&g.lock, NULL), 0);
    assert_int_equal(pthread_cond_init(&g.cond, NULL), 0);
    g.co = must_create(gate_body, &g);
    assert_int_equal(pthread_create(&t, NULL, gate_thread, &g), 0);

    pthread_mutex_lock(&g.lock);
    while (!g.inside)
        pthread_cond_wait(&g.cond, &g.lock);
    pthread_mutex_unlock(&g.lock);

    /* g.co runs on the other thread, blocked in its body. */
    assert_int_equal(coro_status(g.co), CORO_RUNNING);
    assert_null(coro_current());
    assert_int_equal(coro_resume(g.co, NULL, &out), EBUSY);
    assert_ptr_equal(out, &g);
    assert_int_equal(coro_close(g.co), EBUSY);
    assert_int_equal(coro_destroy(g.co), EBUSY);
    errno = 0;
    yielded = coro_yield(g.co, INT_TO_PTR(3));
    yield_errno = errno;
    errno = 0;
    delegated = coro_yield_from(g.co, other);
    delegate_errno = errno;
    assert_null(yielded);
    assert_int_equal(yield_errno, EPERM);
    assert_null(delegated);
    assert_int_equal(delegate_errno, EPERM);
    assert_int_equal(coro_defer(g.co, never_called, NULL), EPERM);
    assert_int_equal(coro_status(g.co), CORO_RUNNING);
    assert_int_equal(coro_status(other), CORO_CREATED);

    pthread_mutex_lock(&g.lock);
    g.release = 1;
    pthread_cond_broadcast(&g.cond);
    pthread_mutex_unlock(&g.lock);
    assert_int_equal(pthread_join(t, NULL), 0);

    assert_int_equal(g.error, 0);
    assert_int_equal(g.out, 5);
    assert_int_equal(coro_status(g.co), CORO_SUSPENDED);
    assert_int_equal(coro_resume(g.co, INT_TO_PTR(9), &out), 0);
    assert_int_equal(PTR_TO_INT(out), 9);
    assert_int_equal(coro_status(g.co), CORO_DEAD);
    assert_int_equal(coro_destroy(g.co), 0);
    assert_int_equal(coro_destroy(other), 0);
    pthread_cond_destroy(&g.cond);
    pthread_mutex_destroy(&g.lock);
}

/* ---- nested on one thread, resumed from another -------------------------- */

/* shared runs on one thread at a time (the worker's, joined, then main's),
 * so its body checks with body_assert_*(). */
struct crossing {
    coro_t *shared, *worker;
    pthread_t main_thread, worker_thread;
    intptr_t worker_result;
    int worker_destroyed;
};

/* Made by main; first resumed by a coroutine on another thread, then twice
 * by main itself, sent 20 and 22. */
static void *shared_body(coro_t *co, void *arg)
{
    struct crossing *x = arg;
    intptr_t got[2];

    body_assert_true(pthread_equal(self_fn(), x->worker_thread));
    body_assert_ptr_equal(coro_current(), co);
    body_assert_int_equal(coro_status(x->worker), CORO_NORMAL);
    got[0] = PTR_TO_INT(coro_yield(co, INT_TO_PTR(1)));
    body_assert_int_equal(got[0], 20);
    body_assert_true(pthread_equal(self_fn(), x->main_thread));
    body_assert_ptr_equal(coro_current(), co);
    got[1] = PTR_TO_INT(coro_yield(co, INT_TO_PTR(2)));
    body_assert_int_equal(got[1], 22);
    body_assert_true(pthread_equal(self_fn(), x->main_thread));
    body_assert_ptr_equal(coro_current(), co);
    return INT_TO_PTR(got[0] + got[1]);
}

/* Starts the shared coroutine from inside itself and returns its value. */
static void *crossing_worker(coro_t *co, void *arg)
{
    struct crossing *x = arg;
    intptr_t v = PTR_TO_INT(coro_next(x->shared));

    body_assert_ptr_equal(coro_current(), co);
    return INT_TO_PTR(v + 10);
}

static void *crossing_thread(void *arg)
{
    struct crossing *x = arg;
    void *out = NULL;

    x->worker_thread = pthread_self();
    x->worker = coro_create(crossing_worker, x, 0);
    if (x->worker != NULL && coro_resume(x->worker, NULL, &out) == 0)
        x->worker_result = PTR_TO_INT(out);
    x->worker_destroyed = coro_destroy(x->worker);
    x->worker = NULL;
    return NULL;
}

static void test_threads_nested_then_resumed_from_main(void **state)
{
    /* Resumed first inside a coroutine on another thread, then by main: yields follow. */
    struct crossing x = {0};
    pthread_t t;

    (void)state;
    x.main_thread = pthread_self();
    x.shared = must_create(shared_body, &x);
    assert_int_equal(pthread_create(&t, NULL, crossing_thread, &x), 0);
    assert_int_equal(pthread_join(t, NULL), 0);

    assert_int_equal(x.worker_result, 11);
    assert_int_equal(x.worker_destroyed, 0);
    assert_int_equal(coro_status(x.shared), CORO_SUSPENDED);

    assert_int_equal(PTR_TO_INT(coro_send(x.shared, INT_TO_PTR(20))), 2);
    assert_null(coro_current());
    assert_int_equal(PTR_TO_INT(coro_send(x.shared, INT_TO_PTR(22))), 42);
    assert_int_equal(coro_status(x.shared), CORO_DEAD);
    assert_int_equal(coro_destroy(x.shared), 0);
}

/* ---- concurrent creation and destruction --------------------------------- */

#define CHURN_ROUNDS 500
#define CHURN_BATCH 40

struct churn_worker;

struct churn_slot {
    struct churn_worker *w;
    intptr_t id;
    int cleaned;
};

struct churn_worker {
    struct worker worker;
    long created, failed, bad_values, bad_status, bad_errors, bad_cleanups;
};

static void churn_cleanup(void *arg)
{
    struct churn_slot *slot = arg;

    slot->cleaned++;
}

/* Fills some stack with a pattern made from its id, yields its id, and
 * returns id plus what it was sent, or -1 if the pattern changed. */
static void *churn_body(coro_t *co, void *arg)
{
    struct churn_slot *slot = arg;
    volatile intptr_t pattern[64];
    intptr_t got;

    for (int i = 0; i < 64; i++)
        pattern[i] = slot->id * 64 + i;
    if (coro_defer(co, churn_cleanup, slot) != 0)
        return INT_TO_PTR(-1);
    got = PTR_TO_INT(coro_yield(co, INT_TO_PTR(slot->id)));
    for (int i = 0; i < 64; i++)
        if (pattern[i] != slot->id * 64 + i)
            return INT_TO_PTR(-1);
    return INT_TO_PTR(slot->id + got);
}

/*
 * Rounds of: create a batch (three stack sizes, so both pool hits and
 * misses), start each, then end each a different way (run to the end,
 * close while suspended, destroy while suspended) and destroy them all.
 */
static void *churn_thread(void *arg)
{
    static const size_t sizes[3] = {0, CORO_MIN_STACK_SIZE, 32u * 1024u};
    struct churn_worker *w = arg;
    struct churn_slot slots[CHURN_BATCH];
    coro_t *co[CHURN_BATCH];
    void *out;

    pthread_barrier_wait(w->worker.start);
    for (int round = 0; round < CHURN_ROUNDS; round++) {
        for (int i = 0; i < CHURN_BATCH; i++) {
            slots[i] = (struct churn_slot){
                .w = w,
                .id = ((intptr_t)w->worker.index * CHURN_ROUNDS + round) * CHURN_BATCH + i,
            };
            co[i] = coro_create(churn_body, &slots[i], sizes[(round + i) % 3]);
            if (co[i] == NULL)
                w->failed++;
            else
                w->created++;
        }
        for (int i = 0; i < CHURN_BATCH; i++) {
            if (co[i] == NULL)
                continue;
            out = NULL;
            if (coro_resume(co[i], NULL, &out) != 0)
                w->bad_errors++;
            else if (PTR_TO_INT(out) != slots[i].id)
                w->bad_values++;
            if (coro_status(co[i]) != CORO_SUSPENDED)
                w->bad_status++;
        }
        for (int i = 0; i < CHURN_BATCH; i++) {
            if (co[i] == NULL)
                continue;
            switch ((round + i) % 3) {
            case 0:
                out = NULL;
                if (coro_resume(co[i], INT_TO_PTR(7), &out) != 0)
                    w->bad_errors++;
                else if (PTR_TO_INT(out) != slots[i].id + 7)
                    w->bad_values++;
                break;
            case 1:
                if (coro_close(co[i]) != 0)
                    w->bad_errors++;
                break;
            default:
                continue; /* destroyed while suspended, below */
            }
            if (coro_status(co[i]) != CORO_DEAD)
                w->bad_status++;
        }
        for (int i = CHURN_BATCH; i-- > 0;) {
            if (co[i] != NULL && coro_destroy(co[i]) != 0)
                w->bad_errors++;
            if (co[i] != NULL && slots[i].cleaned != 1)
                w->bad_cleanups++;
        }
    }
    return NULL;
}

static void test_threads_concurrent_create_destroy(void **state)
{
    /* Four threads create, run, close and destroy coroutines at once through the pool. */
    struct churn_worker w[THREADS] = {0};

    (void)state;
    run_workers(churn_thread, w, THREADS, sizeof w[0]);

    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(w[i].failed, 0);
        assert_int_equal(w[i].created, (long)CHURN_ROUNDS * CHURN_BATCH);
        assert_int_equal(w[i].bad_errors, 0);
        assert_int_equal(w[i].bad_values, 0);
        assert_int_equal(w[i].bad_status, 0);
        assert_int_equal(w[i].bad_cleanups, 0);
    }
    assert_null(coro_current());
}

#if defined(__linux__) && !defined(__GLIBC__)
/* ---- a thread that ends without unwinding (musl) ----------------------- */

struct ending_thread {
    coro_t *outer, *inner, *other;
    int cleanups;
};

/* Ends its thread from inside the coroutine that `outer` resumed. */
static void *end_the_thread(coro_t *co, void *arg)
{
    struct ending_thread *e = arg;

    if (coro_defer(co, count_cleanup, &e->cleanups) == 0)
        pthread_exit(INT_TO_PTR(7));
    return NULL;
}

static void *resume_inner(coro_t *co, void *arg)
{
    struct ending_thread *e = arg;

    (void)co;
    coro_next(e->inner);
    return NULL;
}

static void *run_then_end(void *arg)
{
    struct ending_thread *e = arg;

    coro_next(e->other);
    coro_next(e->outer);
    return NULL;
}

/* musl's pthread_exit() unwinds nothing: the thread ends at once, the
 * coroutines running on it stay as they were, with their stacks, and the
 * others go on (coro.h). */
static void test_threads_end_without_unwinding(void **state)
{
    struct ending_thread e = {0};
    pthread_t thread;
    void *result = NULL;

    (void)state;
    e.inner = coro_create(end_the_thread, &e, 0);
    e.outer = coro_create(resume_inner, &e, 0);
    e.other = coro_create(running_sum, NULL, 0);
    assert_non_null(e.inner);
    assert_non_null(e.outer);
    assert_non_null(e.other);
    assert_int_equal(pthread_create(&thread, NULL, run_then_end, &e), 0);
    assert_int_equal(pthread_join(thread, &result), 0);
    assert_int_equal(PTR_TO_INT(result), 7);
    assert_int_equal(coro_status(e.inner), CORO_RUNNING);
    assert_int_equal(coro_status(e.outer), CORO_NORMAL);
    assert_int_equal(e.cleanups, 0);
    assert_int_equal(coro_destroy(e.inner), EBUSY);
    assert_int_equal(coro_destroy(e.outer), EBUSY);
    assert_null(coro_current());
    assert_int_equal(PTR_TO_INT(coro_send(e.other, INT_TO_PTR(5))), 5);
    assert_int_equal(coro_destroy(e.other), 0);
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        body_checked_test(test_threads_round_trips_on_four_threads),
        body_checked_test(test_threads_current_is_per_thread),
        body_checked_test(test_threads_resumed_on_each_thread_in_turn),
        body_checked_test(test_threads_migrate_at_call_depth),
        body_checked_test(test_threads_migrate_inside_yield_from),
        body_checked_test(test_threads_handoff_stress),
        body_checked_test(test_threads_destroy_on_other_thread),
        body_checked_test(test_threads_busy_while_running_elsewhere),
        body_checked_test(test_threads_nested_then_resumed_from_main),
        body_checked_test(test_threads_concurrent_create_destroy),
#if defined(__linux__) && !defined(__GLIBC__)
        body_checked_test(test_threads_end_without_unwinding),
#endif
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
