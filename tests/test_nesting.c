/*
 * Nesting: coroutines that create, resume and destroy other coroutines, the
 * statuses and coro_current() seen at every level, yielding from deep
 * recursion on a coroutine's own stack, many coroutines alive at once, and
 * several coroutines interleaved by one driver.
 */
#include "test_support.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- three deep: main -> A -> B -> C ------------------------------------ */

/* What one level saw at one moment: who is current, and every status. */
struct view {
    coro_t *current;
    enum coro_status a, b, c;
};

struct chain {
    coro_t *a, *b, *c;
    struct view c_start, c_after, b_after_c, a_after_b, b_end, a_end;
    int c_resume_a, c_resume_b; /* coro_resume() of ancestors from inside C */
    int c_close_a, c_destroy_b, c_destroy_c; /* and closing or destroying them, or C */
    void *c_yield_b;            /* coro_yield(B) from inside C */
    int c_yield_b_errno;
    intptr_t c_got, b_got, a_got;           /* what each yield returned */
    intptr_t b_from_c, a_from_b;            /* what each got from its child's yield */
    intptr_t b_result_c, a_result_b;        /* each child's return value */
    enum coro_status b_c_end, a_b_end;      /* the child's status after it returned */
    int b_destroy_c, a_destroy_b;
};

static void look(struct view *v, const struct chain *ch)
{
    v->current = coro_current();
    v->a = coro_status(ch->a);
    v->b = coro_status(ch->b);
    v->c = coro_status(ch->c);
}

/* C yields 3 to B; gets what B sends and returns it plus 1. */
static void *chain_c(coro_t *co, void *arg)
{
    struct chain *ch = arg;

    look(&ch->c_start, ch);
    /* Ancestors and C itself are busy, and only C may yield here. */
    ch->c_resume_a = coro_resume(ch->a, NULL, NULL);
    ch->c_resume_b = coro_resume(ch->b, NULL, NULL);
    ch->c_close_a = coro_close(ch->a);
    ch->c_destroy_b = coro_destroy(ch->b);
    ch->c_destroy_c = coro_destroy(co);
    errno = 0;
    ch->c_yield_b = coro_yield(ch->b, INT_TO_PTR(99));
    ch->c_yield_b_errno = errno;
    look(&ch->c_after, ch);
    ch->c_got = PTR_TO_INT(coro_yield(co, INT_TO_PTR(3)));
    return INT_TO_PTR(ch->c_got + 1);
}

/* B makes C, yields C's value plus 20 to A; forwards what A sends plus 10
 * into C, destroys C and returns C's result plus 20. */
static void *chain_b(coro_t *co, void *arg)
{
    struct chain *ch = arg;
    intptr_t v;

    ch->c = coro_create(chain_c, ch, 0);
    if (ch->c == NULL)
        return INT_TO_PTR(-1);
    ch->b_from_c = PTR_TO_INT(coro_next(ch->c));
    look(&ch->b_after_c, ch);
    ch->b_got = PTR_TO_INT(coro_yield(co, INT_TO_PTR(ch->b_from_c + 20)));
    v = PTR_TO_INT(coro_send(ch->c, INT_TO_PTR(ch->b_got + 10)));
    ch->b_result_c = v;
    ch->b_c_end = coro_status(ch->c);
    look(&ch->b_end, ch);
    ch->b_destroy_c = coro_destroy(ch->c);
    ch->c = NULL; /* freed: later looks read a NULL coroutine as DEAD */
    return INT_TO_PTR(v + 20);
}

/* A makes B, yields B's value plus 300 to main; forwards what main sends
 * plus 100 into B, destroys B and returns B's result plus 300. */
static void *chain_a(coro_t *co, void *arg)
{
    struct chain *ch = arg;
    intptr_t v;

    ch->b = coro_create(chain_b, ch, 0);
    if (ch->b == NULL)
        return INT_TO_PTR(-1);
    ch->a_from_b = PTR_TO_INT(coro_next(ch->b));
    look(&ch->a_after_b, ch);
    ch->a_got = PTR_TO_INT(coro_yield(co, INT_TO_PTR(ch->a_from_b + 300)));
    v = PTR_TO_INT(coro_send(ch->b, INT_TO_PTR(ch->a_got + 100)));
    ch->a_result_b = v;
    ch->a_b_end = coro_status(ch->b);
    look(&ch->a_end, ch);
    ch->a_destroy_b = coro_destroy(ch->b);
    return INT_TO_PTR(v + 300);
}

static void assert_view(const struct view *v, coro_t *current, enum coro_status a,
                        enum coro_status b, enum coro_status c)
{
    assert_ptr_equal(v->current, current);
    assert_int_equal(v->a, a);
    assert_int_equal(v->b, b);
    assert_int_equal(v->c, c);
}

static void test_nesting_three_deep_statuses(void **state)
{
    /* Inside C (main -> A -> B -> C) C is current and RUNNING, A and B NORMAL and untouchable. */
    struct chain ch = {0};

    (void)state;
    ch.a = must_create(chain_a, &ch);
    assert_int_equal(PTR_TO_INT(coro_next(ch.a)), 323);

    assert_view(&ch.c_start, ch.c, CORO_NORMAL, CORO_NORMAL, CORO_RUNNING);
    assert_int_equal(ch.c_resume_a, EBUSY);
    assert_int_equal(ch.c_resume_b, EBUSY);
    assert_int_equal(ch.c_close_a, EBUSY);
    assert_int_equal(ch.c_destroy_b, EBUSY);
    assert_int_equal(ch.c_destroy_c, EBUSY);
    assert_null(ch.c_yield_b);
    assert_int_equal(ch.c_yield_b_errno, EPERM);
    /* The failed calls changed nothing. */
    assert_view(&ch.c_after, ch.c, CORO_NORMAL, CORO_NORMAL, CORO_RUNNING);

    /* Main may destroy the suspended children it never made, deepest
     * first. */
    assert_int_equal(coro_destroy(ch.c), 0);
    assert_int_equal(coro_destroy(ch.b), 0);
    assert_int_equal(coro_destroy(ch.a), 0);
}

static void test_nesting_yield_returns_one_level(void **state)
{
    /* Each yield returns one level up: B, then A, then main become current and RUNNING again. */
    struct chain ch = {0};

    (void)state;
    ch.a = must_create(chain_a, &ch);
    assert_int_equal(PTR_TO_INT(coro_next(ch.a)), 323);

    assert_view(&ch.b_after_c, ch.b, CORO_NORMAL, CORO_RUNNING, CORO_SUSPENDED);
    assert_view(&ch.a_after_b, ch.a, CORO_RUNNING, CORO_SUSPENDED, CORO_SUSPENDED);
    assert_null(coro_current());
    assert_int_equal(coro_status(ch.a), CORO_SUSPENDED);
    assert_int_equal(coro_status(ch.b), CORO_SUSPENDED);
    assert_int_equal(coro_status(ch.c), CORO_SUSPENDED);

    /* Destroying A closes only A; B and C are A's business, so finish the
     * chain instead and let each level destroy its child. */
    assert_int_equal(PTR_TO_INT(coro_send(ch.a, INT_TO_PTR(1000))), 1431);
    assert_int_equal(coro_destroy(ch.a), 0);
}

static void test_nesting_values_flow_through_levels(void **state)
{
    /* Values flow down and up through three levels; parents destroy children; main ends outside. */
    struct chain ch = {0};
    void *out = NULL;

    (void)state;
    ch.a = must_create(chain_a, &ch);

    /* Up: C yields 3, B adds 20, A adds 300. */
    assert_int_equal(coro_resume(ch.a, NULL, &out), 0);
    assert_int_equal(PTR_TO_INT(out), 323);
    assert_int_equal(ch.b_from_c, 3);
    assert_int_equal(ch.a_from_b, 23);

    /* Down: main sends 1000, A adds 100, B adds 10, C adds 1 and returns;
     * back up: B adds 20, A adds 300. */
    assert_int_equal(coro_resume(ch.a, INT_TO_PTR(1000), &out), 0);
    assert_int_equal(ch.a_got, 1000);
    assert_int_equal(ch.b_got, 1100);
    assert_int_equal(ch.c_got, 1110);
    assert_int_equal(ch.b_result_c, 1111);
    assert_int_equal(ch.a_result_b, 1131);
    assert_int_equal(PTR_TO_INT(out), 1431);

    assert_int_equal(ch.b_c_end, CORO_DEAD);
    assert_view(&ch.b_end, ch.b, CORO_NORMAL, CORO_RUNNING, CORO_DEAD);
    assert_int_equal(ch.a_b_end, CORO_DEAD);
    assert_int_equal(ch.b_destroy_c, 0);
    assert_int_equal(ch.a_destroy_b, 0);
    assert_view(&ch.a_end, ch.a, CORO_RUNNING, CORO_DEAD, CORO_DEAD);

    assert_int_equal(coro_status(ch.a), CORO_DEAD);
    assert_null(coro_current());
    assert_int_equal(coro_destroy(ch.a), 0);
}

/* ---- children made inside a coroutine ----------------------------------- */

struct inner_log {
    coro_t *outer, *inner;
    char events[8];
    int n;
    coro_t *cleanup_current;
    enum coro_status cleanup_outer;
    coro_t *after_current;
    enum coro_status created_status;
    int destroy_created, destroy_suspended;
};

static void inner_cleanup(void *arg)
{
    struct inner_log *log = arg;

    log->events[log->n++] = 'c';
    log->cleanup_current = coro_current();
    log->cleanup_outer = coro_status(log->outer);
}

/* Registers a cleanup, then yields until sent something. */
static void *inner_body(coro_t *co, void *arg)
{
    struct inner_log *log = arg;

    log->events[log->n++] = 'i';
    coro_defer(co, inner_cleanup, log);
    while (coro_yield(co, NULL) == NULL)
        continue;
    return NULL;
}

/* Makes one child it never starts and one it suspends, destroys both. */
static void *outer_destroys_body(coro_t *co, void *arg)
{
    struct inner_log *log = arg;
    coro_t *unstarted = coro_create(inner_body, log, 0);

    (void)co;
    log->inner = coro_create(inner_body, log, 0);
    if (unstarted == NULL || log->inner == NULL) {
        coro_destroy(unstarted);
        coro_destroy(log->inner);
        return INT_TO_PTR(-1);
    }
    log->created_status = coro_status(unstarted);
    log->destroy_created = coro_destroy(unstarted);
    coro_next(log->inner);
    log->events[log->n++] = 'o';
    log->destroy_suspended = coro_destroy(log->inner);
    log->after_current = coro_current();
    log->events[log->n++] = 'e';
    return INT_TO_PTR(5);
}

static void test_nesting_child_destroyed_by_parent(void **state)
{
    /* A child made and destroyed inside a coroutine: its cleanup runs as current, parent NORMAL. */
    struct inner_log log = {0};
    void *out = NULL;

    (void)state;
    log.outer = must_create(outer_destroys_body, &log);
    assert_int_equal(coro_resume(log.outer, NULL, &out), 0);
    assert_int_equal(PTR_TO_INT(out), 5);
    assert_int_equal(coro_status(log.outer), CORO_DEAD);

    assert_int_equal(log.created_status, CORO_CREATED);
    assert_int_equal(log.destroy_created, 0);
    assert_int_equal(log.destroy_suspended, 0);
    /* One child started ('i'), the parent went on ('o'), the child's cleanup
     * ran ('c'), the parent finished ('e'); the unstarted child never ran. */
    assert_int_equal(log.n, 4);
    assert_memory_equal(log.events, "ioce", 4);
    assert_ptr_equal(log.cleanup_current, log.inner);
    assert_int_equal(log.cleanup_outer, CORO_NORMAL);
    assert_ptr_equal(log.after_current, log.outer);
    assert_null(coro_current());
    assert_int_equal(coro_destroy(log.outer), 0);
}

struct handed {
    coro_t *parent;
    coro_t *seen_current[3];
    enum coro_status seen_parent[3];
    intptr_t got[2];
};

/* Yields 1, then 2, then returns the sum of what it was sent. */
static void *handed_body(coro_t *co, void *arg)
{
    struct handed *h = arg;

    h->seen_current[0] = coro_current();
    h->seen_parent[0] = coro_status(h->parent);
    h->got[0] = PTR_TO_INT(coro_yield(co, INT_TO_PTR(1)));
    h->seen_current[1] = coro_current();
    h->seen_parent[1] = coro_status(h->parent);
    h->got[1] = PTR_TO_INT(coro_yield(co, INT_TO_PTR(2)));
    h->seen_current[2] = coro_current();
    h->seen_parent[2] = coro_status(h->parent);
    return INT_TO_PTR(h->got[0] + h->got[1]);
}

/* Makes the child, runs it to its first yield, and returns it. */
static void *parent_body(coro_t *co, void *arg)
{
    struct handed *h = arg;
    coro_t *child = coro_create(handed_body, h, 0);

    (void)co;
    if (child != NULL && PTR_TO_INT(coro_next(child)) != 1) {
        coro_destroy(child);
        child = NULL;
    }
    return child;
}

static void test_nesting_child_resumed_from_main(void **state)
{
    /* A child started inside a coroutine, resumed later from main, yields to main and finishes. */
    struct handed h = {0};
    coro_t *child;

    (void)state;
    h.parent = must_create(parent_body, &h);
    child = coro_next(h.parent);
    assert_non_null(child);
    assert_int_equal(coro_status(h.parent), CORO_DEAD);
    assert_int_equal(coro_status(child), CORO_SUSPENDED);
    assert_ptr_equal(h.seen_current[0], child);
    assert_int_equal(h.seen_parent[0], CORO_NORMAL);

    assert_int_equal(PTR_TO_INT(coro_send(child, INT_TO_PTR(30))), 2);
    assert_null(coro_current());
    assert_int_equal(PTR_TO_INT(coro_send(child, INT_TO_PTR(12))), 42);
    assert_int_equal(coro_status(child), CORO_DEAD);
    assert_int_equal(h.got[0], 30);
    assert_int_equal(h.got[1], 12);
    assert_ptr_equal(h.seen_current[1], child);
    assert_ptr_equal(h.seen_current[2], child);
    assert_int_equal(h.seen_parent[1], CORO_DEAD);
    assert_int_equal(h.seen_parent[2], CORO_DEAD);

    assert_int_equal(coro_destroy(child), 0);
    assert_int_equal(coro_destroy(h.parent), 0);
}

/* ---- whoever resumes gets the yield ------------------------------------- */

struct relay_log {
    coro_t *x, *p, *q;
    coro_t *x_current[3];
    enum coro_status x_saw_p[3], x_saw_q[3];
    intptr_t x_got[3];
};

/* Records who is current and the statuses of p and q, three times. */
static void *relay_x(coro_t *co, void *arg)
{
    struct relay_log *r = arg;
    intptr_t v = 0;

    for (int i = 0; i < 3; i++) {
        r->x_current[i] = coro_current();
        r->x_saw_p[i] = coro_status(r->p);
        r->x_saw_q[i] = coro_status(r->q);
        v = PTR_TO_INT(coro_yield(co, INT_TO_PTR(10 * (i + 1))));
        r->x_got[i] = v;
    }
    return INT_TO_PTR(v);
}

/* Resumes x once and returns what x yielded, plus arg's tag. */
static void *relay_resumer(coro_t *co, void *arg)
{
    struct relay_log *r = arg;
    intptr_t tag = co == r->p ? 1 : 2;

    return INT_TO_PTR(PTR_TO_INT(coro_send(r->x, INT_TO_PTR(tag))) + tag);
}

static void test_nesting_yield_goes_to_latest_resumer(void **state)
{
    /* A yield goes back to whoever resumed last: coroutine p, then main, then coroutine q. */
    struct relay_log r = {0};

    (void)state;
    r.x = must_create(relay_x, &r);
    r.p = must_create(relay_resumer, &r);
    r.q = must_create(relay_resumer, &r);

    /* Main starts x; then p, main and q resume it in turn. */
    assert_int_equal(PTR_TO_INT(coro_next(r.x)), 10);
    assert_ptr_equal(r.x_current[0], r.x);
    assert_int_equal(r.x_saw_p[0], CORO_CREATED);

    assert_int_equal(PTR_TO_INT(coro_next(r.p)), 20 + 1); /* x yields 20 to p */
    assert_int_equal(coro_status(r.p), CORO_DEAD);
    assert_int_equal(r.x_got[0], 1);
    assert_ptr_equal(r.x_current[1], r.x);
    assert_int_equal(r.x_saw_p[1], CORO_NORMAL);
    assert_int_equal(r.x_saw_q[1], CORO_CREATED);

    assert_int_equal(PTR_TO_INT(coro_send(r.x, INT_TO_PTR(7))), 30); /* to main */
    assert_int_equal(r.x_got[1], 7);
    assert_ptr_equal(r.x_current[2], r.x);
    assert_int_equal(r.x_saw_p[2], CORO_DEAD);
    assert_int_equal(r.x_saw_q[2], CORO_CREATED);

    assert_int_equal(PTR_TO_INT(coro_next(r.q)), 2 + 2); /* x returns 2 to q */
    assert_int_equal(r.x_got[2], 2);
    assert_int_equal(coro_status(r.x), CORO_DEAD);
    assert_int_equal(coro_status(r.q), CORO_DEAD);
    assert_null(coro_current());

    assert_int_equal(coro_destroy(r.q), 0);
    assert_int_equal(coro_destroy(r.p), 0);
    assert_int_equal(coro_destroy(r.x), 0);
}

/* ---- deep recursion ------------------------------------------------------ */

#define DEEP_MAX 1000
/* Sanitizer builds have big frames; untouched stack pages cost nothing. */
#define DEEP_STACK (4u * 1024u * 1024u)

/* The depths at which the recursion yields, on the way down and up. */
static const int deep_marks[] = {1, 10, 100, 500, 999, 1000};
#define DEEP_MARKS ((int)(sizeof deep_marks / sizeof deep_marks[0]))

struct deep {
    int bad_sends;   /* a yield returned something other than what was sent */
    int bad_frames;  /* a frame's locals changed across the yields below it */
    int deepest;
};

static int deep_is_mark(int depth)
{
    for (int i = 0; i < DEEP_MARKS; i++)
        if (deep_marks[i] == depth)
            return 1;
    return 0;
}

/* Each frame keeps a small array on the stack; it yields +depth on the way
 * down and -depth on the way up at the marked depths, expects 2 * depth
 * back, and returns the sum of its array plus the sums below it. */
static long deep_recurse(coro_t *co, struct deep *d, int depth)
{
    volatile long local[8];
    long below = 0, sum = 0;

    for (int i = 0; i < 8; i++)
        local[i] = 8L * depth + i;
    if (depth > d->deepest)
        d->deepest = depth;
    if (deep_is_mark(depth) && PTR_TO_INT(coro_yield(co, INT_TO_PTR(depth))) != 2 * depth)
        d->bad_sends++;
    if (depth < DEEP_MAX)
        below = deep_recurse(co, d, depth + 1);
    if (deep_is_mark(depth) && PTR_TO_INT(coro_yield(co, INT_TO_PTR(-depth))) != 2 * depth)
        d->bad_sends++;
    for (int i = 0; i < 8; i++) {
        if (local[i] != 8L * depth + i)
            d->bad_frames++;
        sum += local[i];
    }
    return below + sum;
}

static void *deep_body(coro_t *co, void *arg)
{
    return INT_TO_PTR(deep_recurse(co, arg, 1));
}

static void test_nesting_yield_from_deep_recursion(void **state)
{
    /* Yields from 1,000 frames deep keep every frame intact and unwind to the right sum. */
    struct deep d = {0};
    long expected = 0;
    void *out = NULL;
    coro_t *co;

    (void)state;
    co = must_create_sized(deep_body, &d, DEEP_STACK);

    for (int i = 0; i < DEEP_MARKS; i++) {
        int depth = deep_marks[i];
        void *send = i == 0 ? NULL : INT_TO_PTR(2 * deep_marks[i - 1]);

        assert_int_equal(coro_resume(co, send, &out), 0);
        assert_int_equal(PTR_TO_INT(out), depth);
        assert_int_equal(coro_status(co), CORO_SUSPENDED);
    }
    for (int i = DEEP_MARKS - 1; i >= 0; i--) {
        int sent = i == DEEP_MARKS - 1 ? deep_marks[i] : deep_marks[i + 1];

        assert_int_equal(coro_resume(co, INT_TO_PTR(2 * sent), &out), 0);
        assert_int_equal(PTR_TO_INT(out), -deep_marks[i]);
        assert_int_equal(coro_status(co), CORO_SUSPENDED);
    }
    assert_int_equal(coro_resume(co, INT_TO_PTR(2 * deep_marks[0]), &out), 0);
    assert_int_equal(coro_status(co), CORO_DEAD);

    for (long depth = 1; depth <= DEEP_MAX; depth++)
        for (long i = 0; i < 8; i++)
            expected += 8 * depth + i;
    assert_int_equal(PTR_TO_INT(out), expected);
    assert_int_equal(d.deepest, DEEP_MAX);
    assert_int_equal(d.bad_sends, 0);
    assert_int_equal(d.bad_frames, 0);
    assert_null(coro_current());
    assert_int_equal(coro_destroy(co), 0);
}

/* ---- a recursive generator ---------------------------------------------- */

struct node {
    int key;
    struct node *left, *right;
};

#define TREE_SIZE 15

struct walk {
    struct node *root;
    int depth_of[TREE_SIZE]; /* the recursion depth each key was yielded at */
    int n;
};

static void tree_insert(struct node **at, struct node *n)
{
    while (*at != NULL)
        at = n->key < (*at)->key ? &(*at)->left : &(*at)->right;
    *at = n;
}

/* In-order: left subtree, this key, right subtree, each yield from the
 * frame of the node itself. */
static void walk_node(coro_t *co, struct walk *w, const struct node *n, int depth)
{
    if (n == NULL)
        return;
    walk_node(co, w, n->left, depth + 1);
    if (w->n < TREE_SIZE)
        w->depth_of[w->n] = depth;
    w->n++;
    coro_yield(co, INT_TO_PTR(n->key));
    walk_node(co, w, n->right, depth + 1);
}

static void *walk_body(coro_t *co, void *arg)
{
    struct walk *w = arg;

    walk_node(co, w, w->root, 0);
    return INT_TO_PTR(-1);
}

static void test_nesting_recursive_tree_walk(void **state)
{
    /* A generator yielding from every level of a tree recursion hands out the keys sorted. */
    static const int keys[TREE_SIZE] = {50, 20, 80, 10, 30, 70, 90, 5, 25, 35, 60, 75, 85, 95, 1};
    struct node nodes[TREE_SIZE];
    struct walk w = {0};
    int got[TREE_SIZE];
    int count = 0, deepest = 0, levels_seen[TREE_SIZE] = {0};
    void *out = NULL;
    coro_t *co;

    (void)state;
    for (int i = 0; i < TREE_SIZE; i++) {
        nodes[i] = (struct node){.key = keys[i]};
        tree_insert(&w.root, &nodes[i]);
    }
    co = must_create(walk_body, &w);

    for (;;) {
        assert_int_equal(coro_resume(co, NULL, &out), 0);
        if (coro_status(co) == CORO_DEAD)
            break;
        assert_true(count < TREE_SIZE);
        got[count++] = (int)PTR_TO_INT(out);
    }
    assert_int_equal(PTR_TO_INT(out), -1);
    assert_int_equal(count, TREE_SIZE);
    assert_int_equal(w.n, TREE_SIZE);
    for (int i = 1; i < count; i++)
        assert_true(got[i - 1] < got[i]);
    for (int i = 0; i < TREE_SIZE; i++) {
        int found = 0;

        for (int j = 0; j < count; j++)
            found += got[j] == keys[i];
        assert_int_equal(found, 1);
    }
    /* The tree is four levels deep, and keys came from all of them. */
    for (int i = 0; i < TREE_SIZE; i++) {
        levels_seen[w.depth_of[i]] = 1;
        if (w.depth_of[i] > deepest)
            deepest = w.depth_of[i];
    }
    assert_int_equal(deepest, 4);
    for (int level = 0; level <= deepest; level++)
        assert_int_equal(levels_seen[level], 1);
    assert_int_equal(coro_destroy(co), 0);
}

/* ---- many at once -------------------------------------------------------- */

#define MANY 10000

/* Holds state made from its id on its own stack across one yield; returns a
 * value made from that state and what it was sent. */
static void *many_body(coro_t *co, void *arg)
{
    intptr_t id = PTR_TO_INT(arg);
    volatile intptr_t keep[4] = {id, 3 * id + 1, id ^ 0x5a5a, -id};
    intptr_t sent = PTR_TO_INT(coro_yield(co, INT_TO_PTR(id)));

    if (keep[0] != id || keep[1] != 3 * id + 1 || keep[2] != (id ^ 0x5a5a) || keep[3] != -id)
        return INT_TO_PTR(-1);
    return INT_TO_PTR(keep[1] + sent);
}

static int compare_ptrs(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)*(void *const *)a, y = (uintptr_t)*(void *const *)b;

    return (x > y) - (x < y);
}

static void test_nesting_ten_thousand_alive(void **state)
{
    /* 10,000 distinct coroutines suspended at once each keep their own state and end DEAD. */
    coro_t **cos = calloc(MANY, sizeof *cos);
    coro_t **sorted = calloc(MANY, sizeof *sorted);
    void *out = NULL;

    (void)state;
    assert_non_null(cos);
    assert_non_null(sorted);
    for (intptr_t i = 0; i < MANY; i++) {
        cos[i] = must_create_sized(many_body, INT_TO_PTR(i), CORO_MIN_STACK_SIZE);
    }
    memcpy(sorted, cos, MANY * sizeof *cos);
    qsort(sorted, MANY, sizeof *sorted, compare_ptrs);
    for (int i = 1; i < MANY; i++)
        assert_ptr_not_equal(sorted[i - 1], sorted[i]);

    for (intptr_t i = 0; i < MANY; i++) {
        assert_int_equal(coro_resume(cos[i], NULL, &out), 0);
        assert_int_equal(PTR_TO_INT(out), i);
    }
    for (intptr_t i = 0; i < MANY; i++)
        assert_int_equal(coro_status(cos[i]), CORO_SUSPENDED);
    /* Second round in reverse order of creation. */
    for (intptr_t i = MANY - 1; i >= 0; i--) {
        assert_int_equal(coro_resume(cos[i], INT_TO_PTR(7 * i), &out), 0);
        assert_int_equal(PTR_TO_INT(out), 3 * i + 1 + 7 * i);
        assert_int_equal(coro_status(cos[i]), CORO_DEAD);
    }
    for (int i = 0; i < MANY; i++)
        assert_int_equal(coro_destroy(cos[i]), 0);
    assert_null(coro_current());
    free(sorted);
    free(cos);
}

/* ---- interleaving -------------------------------------------------------- */

/* Yields start, start + step, start + 2 * step, ... until sent something. */
static void *arith_body(coro_t *co, void *arg)
{
    const intptr_t *p = arg;
    intptr_t value = p[0];

    while (coro_yield(co, INT_TO_PTR(value)) == NULL)
        value += p[1];
    return NULL;
}

/* Yields the Fibonacci numbers 0, 1, 1, 2, 3, ... until sent something. */
static void *fib_body(coro_t *co, void *arg)
{
    intptr_t a = 0, b = 1;

    (void)arg;
    while (coro_yield(co, INT_TO_PTR(a)) == NULL) {
        intptr_t next = a + b;

        a = b;
        b = next;
    }
    return NULL;
}

static void test_nesting_interleaved_generators(void **state)
{
    /* Generators resumed in turn, evenly and unevenly, keep independent state. */
    intptr_t up[2] = {0, 1}, down[2] = {100, -3};
    coro_t *g1 = must_create(arith_body, up);
    coro_t *g2 = must_create(arith_body, down);
    coro_t *g3 = must_create(fib_body, NULL);
    intptr_t n1 = 0, n2 = 0, n3 = 0, fa = 0, fb = 1;

    (void)state;
    for (int round = 0; round < 40; round++) {
        /* Round robin first; later rounds skip some generators. */
        if (round < 20 || round % 2 == 0) {
            assert_int_equal(PTR_TO_INT(coro_next(g1)), n1);
            n1++;
        }
        if (round < 20 || round % 3 == 0) {
            assert_int_equal(PTR_TO_INT(coro_next(g2)), 100 - 3 * n2);
            n2++;
        }
        if (round < 30) {
            intptr_t next = fa + fb;

            assert_int_equal(PTR_TO_INT(coro_next(g3)), fa);
            fa = fb;
            fb = next;
            n3++;
        }
    }
    assert_int_equal(n1, 30);
    assert_int_equal(n2, 27);
    assert_int_equal(n3, 30);
    assert_int_equal(fa, 832040); /* F(30) */
    assert_int_equal(coro_destroy(g1), 0);
    assert_int_equal(coro_destroy(g2), 0);
    assert_int_equal(coro_destroy(g3), 0);
}

/* ---- ping-pong ----------------------------------------------------------- */

#define PING_ROUNDS 6

struct rally {
    char who[2 * PING_ROUNDS + 2];
    intptr_t ball[2 * PING_ROUNDS + 2];
    int n;
};

static void rally_note(struct rally *r, char who, intptr_t ball)
{
    if (r->n < (int)sizeof r->who) {
        r->who[r->n] = who;
        r->ball[r->n] = ball;
    }
    r->n++;
}

/* Adds 1 to each ball it gets, PING_ROUNDS times, then returns the last. */
static void *ping_body(coro_t *co, void *arg)
{
    struct rally *r = arg;
    intptr_t ball = 0;

    for (int i = 0; i < PING_ROUNDS; i++) {
        rally_note(r, 'i', ball);
        ball = PTR_TO_INT(coro_yield(co, INT_TO_PTR(ball + 1)));
    }
    rally_note(r, 'i', ball);
    return INT_TO_PTR(ball);
}

/* Doubles each ball it gets, until it gets a negative one. */
static void *pong_body(coro_t *co, void *arg)
{
    struct rally *r = arg;
    intptr_t ball = PTR_TO_INT(coro_yield(co, NULL)); /* ready */

    while (ball >= 0) {
        rally_note(r, 'o', ball);
        ball = PTR_TO_INT(coro_yield(co, INT_TO_PTR(2 * ball)));
    }
    return INT_TO_PTR(ball);
}

static void test_nesting_ping_pong_driver(void **state)
{
    /* A driver loop bounces a value between two coroutines; each sees what the other sent. */
    struct rally r = {0};
    coro_t *ping = must_create(ping_body, &r);
    coro_t *pong = must_create(pong_body, &r);
    intptr_t ball, expect = 0;
    int rounds = 0;

    (void)state;
    assert_null(coro_next(pong));
    assert_int_equal(coro_status(pong), CORO_SUSPENDED);

    ball = PTR_TO_INT(coro_next(ping));
    while (coro_status(ping) != CORO_DEAD) {
        ball = PTR_TO_INT(coro_send(pong, INT_TO_PTR(ball)));
        ball = PTR_TO_INT(coro_send(ping, INT_TO_PTR(ball)));
        rounds++;
    }
    assert_int_equal(rounds, PING_ROUNDS);

    /* The log alternates ping, pong, ... and ends with ping's return. */
    assert_int_equal(r.n, 2 * PING_ROUNDS + 1);
    for (int i = 0; i < r.n; i++) {
        assert_int_equal(r.who[i], i % 2 == 0 ? 'i' : 'o');
        assert_int_equal(r.ball[i], expect);
        expect = i % 2 == 0 ? expect + 1 : 2 * expect;
    }
    assert_int_equal(ball, r.ball[r.n - 1]);
    assert_int_equal(ball, 126); /* 0 -> 1 -> 2 -> 3 -> 6 -> 7 -> 14 ... */
    assert_int_equal(coro_status(pong), CORO_SUSPENDED);
    assert_int_equal(coro_destroy(pong), 0);
    assert_int_equal(coro_destroy(ping), 0);
}

/* ---- resuming from a cleanup --------------------------------------------- */

struct hook {
    coro_t *a, *b;
    char events[8];
    int n;
    coro_t *b_current, *b_current_late;
    enum coro_status b_saw_a, b_saw_a_late;
    coro_t *cleanup_current_after;
    intptr_t cleanup_got;
    int cleanup_resume_dead;
};

/* Yields once per resume, noting each run. */
static void *hooked_b(coro_t *co, void *arg)
{
    struct hook *h = arg;

    h->events[h->n++] = 'b';
    h->b_current = coro_current();
    h->b_saw_a = coro_status(h->a);
    coro_yield(co, INT_TO_PTR(77));
    h->events[h->n++] = 'B';
    h->b_current_late = coro_current();
    h->b_saw_a_late = coro_status(h->a);
    return INT_TO_PTR(88);
}

/* A's cleanup resumes B to its end, then finds B dead. */
static void a_cleanup(void *arg)
{
    struct hook *h = arg;

    h->events[h->n++] = 'c';
    h->cleanup_got = PTR_TO_INT(coro_next(h->b));
    h->cleanup_current_after = coro_current();
    h->cleanup_resume_dead = coro_resume(h->b, NULL, NULL);
}

static void *hooked_a(coro_t *co, void *arg)
{
    struct hook *h = arg;

    coro_defer(co, a_cleanup, h);
    h->events[h->n++] = 'a';
    coro_yield(co, NULL);
    h->events[h->n++] = 'X'; /* never: A is closed while suspended */
    return NULL;
}

static void test_nesting_resume_from_cleanup(void **state)
{
    /* A cleanup may resume another coroutine; the closing coroutine is NORMAL meanwhile. */
    struct hook h = {0};

    (void)state;
    h.a = must_create(hooked_a, &h);
    h.b = must_create(hooked_b, &h);
    assert_null(coro_next(h.a));
    assert_int_equal(PTR_TO_INT(coro_next(h.b)), 77); /* B waits in its yield */
    assert_ptr_equal(h.b_current, h.b);
    assert_int_equal(h.b_saw_a, CORO_SUSPENDED);

    assert_int_equal(coro_close(h.a), 0);
    assert_int_equal(coro_status(h.a), CORO_DEAD);
    assert_int_equal(h.n, 4);
    assert_memory_equal(h.events, "abcB", 4);
    assert_int_equal(h.cleanup_got, 88);
    assert_ptr_equal(h.b_current_late, h.b);
    assert_int_equal(h.b_saw_a_late, CORO_NORMAL);
    assert_ptr_equal(h.cleanup_current_after, h.a);
    assert_int_equal(h.cleanup_resume_dead, ESRCH);
    assert_int_equal(coro_status(h.b), CORO_DEAD);
    assert_null(coro_current());
    assert_int_equal(coro_destroy(h.b), 0);
    assert_int_equal(coro_destroy(h.a), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nesting_three_deep_statuses),
        cmocka_unit_test(test_nesting_yield_returns_one_level),
        cmocka_unit_test(test_nesting_values_flow_through_levels),
        cmocka_unit_test(test_nesting_child_destroyed_by_parent),
        cmocka_unit_test(test_nesting_child_resumed_from_main),
        cmocka_unit_test(test_nesting_yield_goes_to_latest_resumer),
        cmocka_unit_test(test_nesting_yield_from_deep_recursion),
        cmocka_unit_test(test_nesting_recursive_tree_walk),
        cmocka_unit_test(test_nesting_ten_thousand_alive),
        cmocka_unit_test(test_nesting_interleaved_generators),
        cmocka_unit_test(test_nesting_ping_pong_driver),
        cmocka_unit_test(test_nesting_resume_from_cleanup),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
