/*
 * Nesting: coroutines that create, resume and destroy other coroutines, the
 * statuses and coro_current() seen at every level, yielding from deep
 * recursion on a coroutine's own stack, many coroutines alive at once, and
 * several coroutines interleaved by one driver.
 *
 * Bodies check what they see in place, with body_assert_*() (see
 * test_support.h): every test is a body_checked_test() or logged_test().
 */
#include "event_log.h"
#include "test_support.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- three deep: main -> A -> B -> C ------------------------------------ */

/*
 * Up: C yields 3, B adds 20, A adds 300, so main gets 323. Down: main
 * sends 1000, A adds 100, B adds 10, C adds 1 and returns; back up, B adds
 * 20 and A 300, so main gets 1431. Every level checks what it gets and the
 * statuses it sees; the three tests below run the same chain and check
 * different things from main.
 */
struct chain {
    coro_t *a, *b, *c;
};

/* Inside a body: who is current, and the statuses of A, B and C. */
#define body_assert_chain(ch, current, a, b, c)                                \
    body_assert_chain_at((ch), (current), (a), (b), (c), __FILE__, __LINE__)

static void body_assert_chain_at(const struct chain *ch, coro_t *current, enum coro_status a,
                                 enum coro_status b, enum coro_status c, const char *file, int line)
{
    body_assert_ptrs(coro_current(), current, "coro_current()", file, line);
    body_assert_ints(coro_status(ch->a), a, "coro_status(A)", file, line);
    body_assert_ints(coro_status(ch->b), b, "coro_status(B)", file, line);
    body_assert_ints(coro_status(ch->c), c, "coro_status(C)", file, line);
}

/* C yields 3 to B; gets what B sends and returns it plus 1. */
static void *chain_c(coro_t *co, void *arg)
{
    struct chain *ch = arg;
    intptr_t got;

    /* Inside C (main -> A -> B -> C) C is current and RUNNING, A and B
     * NORMAL and untouchable, and only C may yield here. */
    body_assert_chain(ch, co, CORO_NORMAL, CORO_NORMAL, CORO_RUNNING);
    body_assert_int_equal(coro_resume(ch->a, NULL, NULL), EBUSY);
    body_assert_int_equal(coro_resume(ch->b, NULL, NULL), EBUSY);
    body_assert_int_equal(coro_close(ch->a), EBUSY);
    body_assert_int_equal(coro_destroy(ch->b), EBUSY);
    body_assert_int_equal(coro_destroy(co), EBUSY);
    errno = 0;
    body_assert_null(coro_yield(ch->b, INT_TO_PTR(99)));
    body_assert_int_equal(errno, EPERM);
    /* The failed calls changed nothing. */
    body_assert_chain(ch, co, CORO_NORMAL, CORO_NORMAL, CORO_RUNNING);

    got = PTR_TO_INT(coro_yield(co, INT_TO_PTR(3)));
    body_assert_int_equal(got, 1110);
    return INT_TO_PTR(got + 1);
}

/* B makes C, yields C's value plus 20 to A; forwards what A sends plus 10
 * into C, destroys C and returns C's result plus 20. */
static void *chain_b(coro_t *co, void *arg)
{
    struct chain *ch = arg;
    intptr_t from_c, got, v;

    ch->c = coro_create(chain_c, ch, 0);
    body_assert_non_null(ch->c);
    if (ch->c == NULL)
        return INT_TO_PTR(-1);
    from_c = PTR_TO_INT(coro_next(ch->c));
    body_assert_int_equal(from_c, 3);
    /* C's yield came back one level, to B. */
    body_assert_chain(ch, co, CORO_NORMAL, CORO_RUNNING, CORO_SUSPENDED);

    got = PTR_TO_INT(coro_yield(co, INT_TO_PTR(from_c + 20)));
    body_assert_int_equal(got, 1100);
    v = PTR_TO_INT(coro_send(ch->c, INT_TO_PTR(got + 10)));
    body_assert_int_equal(v, 1111);
    body_assert_int_equal(coro_status(ch->c), CORO_DEAD);
    body_assert_chain(ch, co, CORO_NORMAL, CORO_RUNNING, CORO_DEAD);
    body_assert_int_equal(coro_destroy(ch->c), 0);
    ch->c = NULL; /* freed: later checks read a NULL coroutine as DEAD */
    return INT_TO_PTR(v + 20);
}

/* A makes B, yields B's value plus 300 to main; forwards what main sends
 * plus 100 into B, destroys B and returns B's result plus 300. */
static void *chain_a(coro_t *co, void *arg)
{
    struct chain *ch = arg;
    intptr_t from_b, got, v;

    ch->b = coro_create(chain_b, ch, 0);
    body_assert_non_null(ch->b);
    if (ch->b == NULL)
        return INT_TO_PTR(-1);
    from_b = PTR_TO_INT(coro_next(ch->b));
    body_assert_int_equal(from_b, 23);
    body_assert_chain(ch, co, CORO_RUNNING, CORO_SUSPENDED, CORO_SUSPENDED);

    got = PTR_TO_INT(coro_yield(co, INT_TO_PTR(from_b + 300)));
    body_assert_int_equal(got, 1000);
    v = PTR_TO_INT(coro_send(ch->b, INT_TO_PTR(got + 100)));
    body_assert_int_equal(v, 1131);
    body_assert_int_equal(coro_status(ch->b), CORO_DEAD);
    body_assert_chain(ch, co, CORO_RUNNING, CORO_DEAD, CORO_DEAD);
    body_assert_int_equal(coro_destroy(ch->b), 0);
    return INT_TO_PTR(v + 300);
}

static void test_nesting_three_deep_statuses(void **state)
{
    /* Inside C (main -> A -> B -> C) C is current and RUNNING, A and B NORMAL and untouchable
     * (checked in chain_c). */
    struct chain ch = {0};

    (void)state;
    ch.a = must_create(chain_a, &ch);
    assert_int_equal(PTR_TO_INT(coro_next(ch.a)), 323);

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

    /* Each level checks what it got from below and from above. */
    assert_int_equal(coro_resume(ch.a, NULL, &out), 0);
    assert_int_equal(PTR_TO_INT(out), 323);
    assert_int_equal(coro_resume(ch.a, INT_TO_PTR(1000), &out), 0);
    assert_int_equal(PTR_TO_INT(out), 1431);

    assert_null(ch.c);
    assert_int_equal(coro_status(ch.a), CORO_DEAD);
    assert_null(coro_current());
    assert_int_equal(coro_destroy(ch.a), 0);
}

/* ---- children made inside a coroutine ----------------------------------- */

/* The events of test_nesting_child_destroyed_by_parent(). */
enum { CHILD_STARTED = 'i', PARENT_ON = 'o', CHILD_CLEANUP = 'c', PARENT_END = 'e' };

struct family {
    coro_t *outer, *inner;
};

/* Runs as the child it was deferred by, its parent NORMAL. */
static void inner_cleanup(void *arg)
{
    struct family *f = arg;

    record(CHILD_CLEANUP);
    body_assert_ptr_equal(coro_current(), f->inner);
    body_assert_int_equal(coro_status(f->outer), CORO_NORMAL);
}

/* Registers a cleanup, then yields until sent something. */
static void *inner_body(coro_t *co, void *arg)
{
    record(CHILD_STARTED);
    coro_defer(co, inner_cleanup, arg);
    while (coro_yield(co, NULL) == NULL)
        continue;
    return NULL;
}

/* Makes one child it never starts and one it suspends, destroys both. */
static void *outer_destroys_body(coro_t *co, void *arg)
{
    struct family *f = arg;
    coro_t *unstarted = coro_create(inner_body, f, 0);

    f->inner = coro_create(inner_body, f, 0);
    body_assert_non_null(unstarted);
    body_assert_non_null(f->inner);
    if (unstarted == NULL || f->inner == NULL) {
        coro_destroy(unstarted);
        coro_destroy(f->inner);
        return INT_TO_PTR(-1);
    }
    body_assert_int_equal(coro_status(unstarted), CORO_CREATED);
    body_assert_int_equal(coro_destroy(unstarted), 0);
    coro_next(f->inner);
    record(PARENT_ON);
    body_assert_int_equal(coro_destroy(f->inner), 0);
    body_assert_ptr_equal(coro_current(), co);
    record(PARENT_END);
    return INT_TO_PTR(5);
}

static void test_nesting_child_destroyed_by_parent(void **state)
{
    /* A child made and destroyed inside a coroutine: its cleanup runs as current, parent NORMAL. */
    /* One child started, the parent went on, the child's cleanup ran, the
     * parent finished; the unstarted child never ran. */
    static const int expected[] = {CHILD_STARTED, PARENT_ON, CHILD_CLEANUP, PARENT_END};
    struct family f = {0};
    void *out = NULL;

    (void)state;
    f.outer = must_create(outer_destroys_body, &f);
    assert_int_equal(coro_resume(f.outer, NULL, &out), 0);
    assert_int_equal(PTR_TO_INT(out), 5);
    assert_int_equal(coro_status(f.outer), CORO_DEAD);
    assert_log(expected, 4);
    assert_null(coro_current());
    assert_int_equal(coro_destroy(f.outer), 0);
}

/* Yields 1, then 2, then returns the sum of what it was sent (30 and 12):
 * current every time, its parent NORMAL at first and DEAD later. */
static void *handed_body(coro_t *co, void *arg)
{
    coro_t *parent = arg;
    intptr_t got[2];

    body_assert_ptr_equal(coro_current(), co);
    body_assert_int_equal(coro_status(parent), CORO_NORMAL);
    got[0] = PTR_TO_INT(coro_yield(co, INT_TO_PTR(1)));
    body_assert_int_equal(got[0], 30);
    body_assert_ptr_equal(coro_current(), co);
    body_assert_int_equal(coro_status(parent), CORO_DEAD);
    got[1] = PTR_TO_INT(coro_yield(co, INT_TO_PTR(2)));
    body_assert_int_equal(got[1], 12);
    body_assert_ptr_equal(coro_current(), co);
    body_assert_int_equal(coro_status(parent), CORO_DEAD);
    return INT_TO_PTR(got[0] + got[1]);
}

/* Makes the child, runs it to its first yield, and returns it. */
static void *parent_body(coro_t *co, void *arg)
{
    coro_t *child = coro_create(handed_body, co, 0);

    (void)arg;
    if (child != NULL && PTR_TO_INT(coro_next(child)) != 1) {
        coro_destroy(child);
        child = NULL;
    }
    return child;
}

static void test_nesting_child_resumed_from_main(void **state)
{
    /* A child started inside a coroutine, resumed later from main, yields to main and finishes. */
    coro_t *parent, *child;

    (void)state;
    parent = must_create(parent_body, NULL);
    child = coro_next(parent);
    assert_non_null(child);
    assert_int_equal(coro_status(parent), CORO_DEAD);
    assert_int_equal(coro_status(child), CORO_SUSPENDED);

    assert_int_equal(PTR_TO_INT(coro_send(child, INT_TO_PTR(30))), 2);
    assert_null(coro_current());
    assert_int_equal(PTR_TO_INT(coro_send(child, INT_TO_PTR(12))), 42);
    assert_int_equal(coro_status(child), CORO_DEAD);

    assert_int_equal(coro_destroy(child), 0);
    assert_int_equal(coro_destroy(parent), 0);
}

/* ---- whoever resumes gets the yield ------------------------------------- */

struct relay_log {
    coro_t *x, *p, *q;
};

/* Yields 10, 20, 30 to whoever resumed it: main, then p, then main; q
 * resumes it last. Checks, each time, that it is current and the statuses
 * of p and q, and what it was sent (p sends 1, main 7, q 2). */
static void *relay_x(coro_t *co, void *arg)
{
    static const enum coro_status p_status[3] = {CORO_CREATED, CORO_NORMAL, CORO_DEAD};
    static const intptr_t sent[3] = {1, 7, 2};
    struct relay_log *r = arg;
    intptr_t v = 0;

    for (int i = 0; i < 3; i++) {
        body_assert_ptr_equal(coro_current(), co);
        body_assert_int_equal(coro_status(r->p), p_status[i]);
        body_assert_int_equal(coro_status(r->q), CORO_CREATED);
        v = PTR_TO_INT(coro_yield(co, INT_TO_PTR(10 * (i + 1))));
        body_assert_int_equal(v, sent[i]);
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
    assert_int_equal(PTR_TO_INT(coro_next(r.p)), 20 + 1); /* x yields 20 to p */
    assert_int_equal(coro_status(r.p), CORO_DEAD);
    assert_int_equal(PTR_TO_INT(coro_send(r.x, INT_TO_PTR(7))), 30); /* to main */
    assert_int_equal(PTR_TO_INT(coro_next(r.q)), 2 + 2);             /* x returns 2 to q */
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
 * down and -depth on the way up at the marked depths, checks that it gets
 * 2 * depth back and that its array is intact after the frames below it
 * yielded, and returns the sum of its array plus the sums below it. */
static long deep_recurse(coro_t *co, struct deep *d, int depth)
{
    volatile long local[8];
    long below = 0, sum = 0;
    intptr_t got;

    for (int i = 0; i < 8; i++)
        local[i] = 8L * depth + i;
    if (depth > d->deepest)
        d->deepest = depth;
    if (deep_is_mark(depth)) {
        got = PTR_TO_INT(coro_yield(co, INT_TO_PTR(depth)));
        body_assert_int_equal(got, 2 * depth);
    }
    if (depth < DEEP_MAX)
        below = deep_recurse(co, d, depth + 1);
    if (deep_is_mark(depth)) {
        got = PTR_TO_INT(coro_yield(co, INT_TO_PTR(-depth)));
        body_assert_int_equal(got, 2 * depth);
    }
    for (int i = 0; i < 8; i++) {
        body_assert_int_equal(local[i], 8L * depth + i);
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

/* The events of test_nesting_resume_from_cleanup(). */
enum { A_RAN = 'a', B_RAN = 'b', A_CLEANUP = 'c', B_RESUMED = 'B', A_RESUMED = 'X' };

struct hook {
    coro_t *a, *b;
};

/* Yields 77, then returns 88: current both times, A SUSPENDED at first,
 * then NORMAL (B is resumed from A's cleanup). */
static void *hooked_b(coro_t *co, void *arg)
{
    struct hook *h = arg;

    record(B_RAN);
    body_assert_ptr_equal(coro_current(), co);
    body_assert_int_equal(coro_status(h->a), CORO_SUSPENDED);
    coro_yield(co, INT_TO_PTR(77));
    record(B_RESUMED);
    body_assert_ptr_equal(coro_current(), co);
    body_assert_int_equal(coro_status(h->a), CORO_NORMAL);
    return INT_TO_PTR(88);
}

/* A's cleanup resumes B to its end, is current again after, then finds B
 * dead. */
static void a_cleanup(void *arg)
{
    struct hook *h = arg;

    record(A_CLEANUP);
    body_assert_int_equal(PTR_TO_INT(coro_next(h->b)), 88);
    body_assert_ptr_equal(coro_current(), h->a);
    body_assert_int_equal(coro_resume(h->b, NULL, NULL), ESRCH);
}

static void *hooked_a(coro_t *co, void *arg)
{
    coro_defer(co, a_cleanup, arg);
    record(A_RAN);
    coro_yield(co, NULL);
    record(A_RESUMED); /* never: A is closed while suspended */
    return NULL;
}

static void test_nesting_resume_from_cleanup(void **state)
{
    /* A cleanup may resume another coroutine; the closing coroutine is NORMAL meanwhile. */
    static const int expected[] = {A_RAN, B_RAN, A_CLEANUP, B_RESUMED};
    struct hook h = {0};

    (void)state;
    h.a = must_create(hooked_a, &h);
    h.b = must_create(hooked_b, &h);
    assert_null(coro_next(h.a));
    assert_int_equal(PTR_TO_INT(coro_next(h.b)), 77); /* B waits in its yield */

    assert_int_equal(coro_close(h.a), 0);
    assert_int_equal(coro_status(h.a), CORO_DEAD);
    assert_log(expected, 4);
    assert_int_equal(coro_status(h.b), CORO_DEAD);
    assert_null(coro_current());
    assert_int_equal(coro_destroy(h.b), 0);
    assert_int_equal(coro_destroy(h.a), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        logged_test(test_nesting_three_deep_statuses),
        logged_test(test_nesting_yield_returns_one_level),
        logged_test(test_nesting_values_flow_through_levels),
        logged_test(test_nesting_child_destroyed_by_parent),
        logged_test(test_nesting_child_resumed_from_main),
        logged_test(test_nesting_yield_goes_to_latest_resumer),
        logged_test(test_nesting_yield_from_deep_recursion),
        logged_test(test_nesting_recursive_tree_walk),
        logged_test(test_nesting_ten_thousand_alive),
        logged_test(test_nesting_interleaved_generators),
        logged_test(test_nesting_ping_pong_driver),
        logged_test(test_nesting_resume_from_cleanup),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
