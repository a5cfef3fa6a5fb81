/*
 * An in-order walk of a binary search tree that yields each key from inside
 * plain recursion. A Python generator can yield only from its own frame, so
 * every level of the recursion has to be a generator that re-yields what the
 * level below it yields:
 *
 *     def walk(node):
 *         if node:
 *             yield from walk(node.left)
 *             yield node.key
 *             yield from walk(node.right)
 *
 * A libcoro coroutine runs on a stack of its own, so walk() below is an
 * ordinary recursive C function: coro_yield() suspends the whole chain of
 * calls at whatever depth it is made, and the next resume carries on there.
 *
 * The second use is the "same fringe" problem: do two trees hold the same
 * keys in the same order, whatever their shapes? Two walks advanced in
 * lockstep answer it, stopping at the first difference, without ever
 * copying either tree into a list.
 */
#include <coro.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct node {
    int key;
    struct node *left, *right;
};

/* Returns 0, or -1 when out of memory (the tree is left as it was). */
static int insert(struct node **link, int key)
{
    while (*link != NULL)
        link = key < (*link)->key ? &(*link)->left : &(*link)->right;
    *link = malloc(sizeof **link);
    if (*link == NULL)
        return -1;
    **link = (struct node){.key = key};
    return 0;
}

static void free_tree(struct node *node)
{
    if (node != NULL) {
        free_tree(node->left);
        free_tree(node->right);
        free(node);
    }
}

static struct node *build(const int *keys, size_t count)
{
    struct node *root = NULL;

    for (size_t i = 0; i < count; i++) {
        if (insert(&root, keys[i]) != 0) {
            free_tree(root);
            return NULL;
        }
    }
    return root;
}

/* No generator in sight: the yield is just a call, at any depth. Each level
 * does cost the coroutine's stack a frame: a very deep tree would need a
 * bigger stack_size from coro_create(). */
static void walk(coro_t *co, struct node *node)
{
    if (node == NULL)
        return;
    walk(co, node->left);
    coro_yield(co, &node->key);
    walk(co, node->right);
}

static void *walk_body(coro_t *co, void *root)
{
    walk(co, root);
    return NULL;
}

/*
 * The next key of gen in *key: returns 1, or 0 when the walk is over, or -1
 * (with a message) on a libcoro error. A key is never NULL, so a NULL from a
 * walk that is not dead is an error.
 */
static int next_key(coro_t *gen, int *key)
{
    const int *value = coro_next(gen);

    if (coro_status(gen) == CORO_DEAD)
        return 0;
    if (value == NULL) {
        fprintf(stderr, "tree_walk: coro_next: %s\n", strerror(errno));
        return -1;
    }
    *key = *value;
    return 1;
}

static int destroy(coro_t *co)
{
    int err = coro_destroy(co);

    if (err != 0)
        fprintf(stderr, "tree_walk: coro_destroy: %s\n", strerror(err));
    return err;
}

/* Returns 1 when a and b have the same fringe, 0 when not, -1 on error. */
static int same_fringe(struct node *a, struct node *b)
{
    coro_t *walk_a = coro_create(walk_body, a, 0);
    coro_t *walk_b = NULL;
    int result = -1;

    if (walk_a == NULL || (walk_b = coro_create(walk_body, b, 0)) == NULL) {
        fprintf(stderr, "tree_walk: coro_create: %s\n", strerror(errno));
        goto out;
    }
    for (;;) {
        int key_a = 0, key_b = 0;
        int more_a = next_key(walk_a, &key_a);
        int more_b = next_key(walk_b, &key_b);

        if (more_a < 0 || more_b < 0)
            goto out;
        if (more_a != more_b || key_a != key_b) {
            result = 0;
            break;
        }
        if (!more_a) {
            result = 1;
            break;
        }
    }
out:
    /* Stopping early is fine: destroying a suspended walk closes it. */
    if (destroy(walk_a) != 0)
        result = -1;
    if (destroy(walk_b) != 0)
        result = -1;
    return result;
}

static int depth(const struct node *node)
{
    int left, right;

    if (node == NULL)
        return 0;
    left = depth(node->left);
    right = depth(node->right);
    return 1 + (left > right ? left : right);
}

static int compare(const char *name_a, struct node *a, const char *name_b, struct node *b)
{
    int same = same_fringe(a, b);

    if (same < 0)
        return -1;
    printf("%s (depth %d) and %s (depth %d): %s\n", name_a, depth(a), name_b, depth(b),
           same ? "fringes equal" : "fringes not equal");
    return 0;
}

int main(void)
{
    static const int balanced_keys[] = {50, 30, 70, 20, 40, 60, 80, 35, 45, 65};
    static const int sorted_keys[] = {20, 30, 35, 40, 45, 50, 60, 65, 70, 80};
    static const int other_keys[] = {50, 30, 70, 20, 40, 60, 80, 35, 45, 66};
    enum { COUNT = sizeof balanced_keys / sizeof balanced_keys[0] };
    struct node *balanced = build(balanced_keys, COUNT);
    struct node *sorted = build(sorted_keys, COUNT);
    struct node *other = build(other_keys, COUNT);
    coro_t *gen = NULL;
    int key, more, status = 1;

    if (balanced == NULL || sorted == NULL || other == NULL) {
        perror("tree_walk");
        goto out;
    }

    gen = coro_create(walk_body, balanced, 0);
    if (gen == NULL) {
        fprintf(stderr, "tree_walk: coro_create: %s\n", strerror(errno));
        goto out;
    }
    printf("in order:");
    while ((more = next_key(gen, &key)) > 0)
        printf(" %d", key);
    printf("\n");
    if (more < 0)
        goto out;

    /* Same keys, different shapes (the sorted inserts make a list); then
     * one key differs. */
    if (compare("balanced", balanced, "sorted", sorted) != 0 ||
        compare("balanced", balanced, "other", other) != 0)
        goto out;
    status = 0;
out:
    if (destroy(gen) != 0)
        status = 1;
    free_tree(balanced);
    free_tree(sorted);
    free_tree(other);
    return status;
}
