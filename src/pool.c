/*
 * The process's pool of stacks (pool.h).
 *
 * Stacks of one usable size are slots of slabs: one mapping holds many
 * slots, each a guard (pool.h) and then the stack.
 *
 * With guard regions (pages.h) every guard of a slab, and one more at its
 * end, is installed when the slab is mapped, so that a run off either end
 * of a stack faults. With mprotect guards each slot's guard is made when
 * the slot is first handed out (the one below each stack in use; the page
 * above is a guard only once the next slot has been used), and the map
 * limit caps the stacks at about 32,000, where taking one fails with
 * ENOMEM.
 *
 * A stack given back has its pages dropped, so that a free slot costs no
 * memory; a slab none of whose slots is in use is unmapped, except a spare
 * per size within SPARE_BYTES in all, and a size with no slab left is
 * forgotten.
 *
 * Debuggers walk the slabs (coro__debug_stacks below, debugger.h): a change to
 * struct coro__slab or struct size_class that the descriptor cannot state
 * is a change of CORO__DEBUG_VERSION and of tools/libcoro-gdb.py.
 */
#include "pool.h"
#include "compiler.h"
#include "debugger.h"
#include "invariant.h"
#include "list.h"
#include "lock.h"
#include "pages.h"
#include "sanitizer.h"
#include "test_hooks.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#define SLAB_TARGET_BYTES CORO__POOL_SLAB_BYTES
#define SLAB_MAX_SLOTS 1000u /* its guards, plus the last one, in one IOV_MAX */
#define SPARE_BYTES CORO__POOL_SPARE_BYTES /* empty slabs kept mapped, in all */

struct size_class {
    struct coro__link link; /* in pool.classes */
    size_t usable;          /* bytes of one stack */
    size_t slot_size;       /* its guard and the stack */
    unsigned slot_count;    /* slots per slab */
    unsigned slabs;         /* mapped */
    struct coro__list available; /* slabs with a slot free and one in use */
    struct coro__slab *spare;    /* a slab with every slot free */
};

struct coro__slab {
    struct coro__link mapped; /* in pool.mapped; first, for debuggers */
    struct coro__link filed;  /* in size_class->available */
    struct size_class *size_class;
    char *base;
    size_t bytes;
    unsigned free_count;
    bool *guarded; /* mprotect guards only: whether slot i has its guard yet */
    uint16_t free_slots[]; /* the free slots' indices; the last is taken first */
};

_Static_assert(offsetof(struct coro__slab, mapped) == 0,
               "debuggers take a link of pool.mapped for its slab");

static struct {
    coro__lock_t lock;
    struct coro__list classes;
    struct coro__list mapped; /* every slab, for debuggers (debugger.h) */
    size_t slots_out;   /* not free in their slab: in use or cached */
    size_t slabs;       /* mapped */
    size_t class_count; /* sizes known: with a slab, or being given one */
    size_t spare_bytes;
} pool = {.lock = CORO__LOCK_INIT};

CORO_KEEP const struct coro__debug_stacks coro__debug_stacks = {
    .slabs = (const void *const *)&pool.mapped.first,
    .slab_next = offsetof(struct coro__slab, mapped.next),
    .slab_base = offsetof(struct coro__slab, base),
    .slab_class = offsetof(struct coro__slab, size_class),
    .class_usable = offsetof(struct size_class, usable),
    .class_slot_size = offsetof(struct size_class, slot_size),
    .class_slot_count = offsetof(struct size_class, slot_count),
};

/* The size class of stacks of usable bytes, made if there is none; it goes
 * when its last slab does (forget_slab()). Called with the lock held. */
static struct size_class *find_class(size_t usable)
{
    size_t guard = coro__stack_guard_size();
    struct size_class *c;

    for (struct coro__link *l = pool.classes.first; l != NULL; l = l->next) {
        c = CORO__ITEM(l, struct size_class, link);
        if (c->usable == usable)
            return c;
    }
    if (usable > SIZE_MAX - guard)
        return NULL;
    c = coro__fault_injected() ? NULL : calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    pool.class_count++;
    c->usable = usable;
    c->slot_size = usable + guard;
    c->slot_count = (unsigned)(SLAB_TARGET_BYTES / c->slot_size);
    if (c->slot_count == 0)
        c->slot_count = 1;
    if (c->slot_count > SLAB_MAX_SLOTS)
        c->slot_count = SLAB_MAX_SLOTS;
    coro__list_push(&pool.classes, &c->link);
    return c;
}

/* Takes c, which has no slab, off the list. Called with the lock held. */
static void forget_class(struct size_class *c)
{
    coro__list_remove(&pool.classes, &c->link);
    pool.class_count--;
    free(c);
}

/* Where the guard below slot i (or, for i == slot_count, the one at the
 * slab's end) starts. */
static char *guard_page(const struct coro__slab *slab, unsigned i)
{
    return slab->base + (size_t)i * slab->size_class->slot_size;
}

static void unmap_slab(struct coro__slab *slab)
{
    coro__pages_unmap(slab->base, slab->bytes);
    free(slab);
}

/* A new slab of c, every slot free, on no list but pool.mapped; or NULL.
 * Called with the lock held. */
static struct coro__slab *map_slab(struct size_class *c)
{
    enum coro__guard_kind guards = coro__pages_guard_kind();
    size_t guard = coro__stack_guard_size();
    unsigned n = c->slot_count;
    size_t flags = guards == CORO__GUARDS_PER_STACK ? n * sizeof(bool) : 0;
    struct coro__slab *slab;

    if (guards == CORO__GUARDS_UNKNOWN || c->slot_size > (SIZE_MAX - guard) / n)
        return NULL;
    slab = coro__fault_injected() ? NULL
                                  : malloc(sizeof *slab + n * sizeof slab->free_slots[0] + flags);
    if (slab == NULL)
        return NULL;
    *slab = (struct coro__slab){.size_class = c, .bytes = (size_t)n * c->slot_size + guard};
    slab->base = coro__pages_map(slab->bytes);
    if (slab->base == NULL) {
        free(slab);
        return NULL;
    }
    if (guards == CORO__GUARDS_REGIONS &&
        coro__pages_install_guard_regions(slab->base, guard, c->slot_size, n + 1) != 0) {
        unmap_slab(slab);
        return NULL;
    }
    if (flags != 0)
        slab->guarded = (bool *)&slab->free_slots[n];
    for (unsigned i = 0; i < n; i++) {
        slab->free_slots[i] = (uint16_t)(n - 1 - i); /* slot 0 is taken first */
        if (slab->guarded != NULL)
            slab->guarded[i] = false;
    }
    slab->free_count = n;
    coro__list_push(&pool.mapped, &slab->mapped);
    pool.slabs++;
    c->slabs++;
    coro__valgrind_unused(slab->base, slab->bytes);
    return slab;
}

/* Takes slab, about to be unmapped, off the list of mapped slabs, and
 * forgets its size if it was the last of it. Called with the lock held. */
static void forget_slab(struct coro__slab *slab)
{
    struct size_class *c = slab->size_class;

    coro__list_remove(&pool.mapped, &slab->mapped);
    pool.slabs--;
    if (--c->slabs == 0)
        forget_class(c);
}

/*
 * A slab's place follows from how many of its slots are free: with some
 * free and some in use, on its class's available list; with all free, its
 * class's spare, or unmapped; with none free, on no list. unfile() and
 * file(), around each change of free_count, are all that move a slab
 * between places. Called with the lock held.
 */
static void unfile(struct coro__slab *slab)
{
    struct size_class *c = slab->size_class;

    if (slab == c->spare) {
        c->spare = NULL;
        pool.spare_bytes -= slab->bytes;
    } else if (slab->free_count > 0 && slab->free_count < c->slot_count) {
        coro__list_remove(&c->available, &slab->filed);
    }
}

/* Returns false for an empty slab with no room as a spare: the caller
 * forgets it and unmaps it. */
static bool file(struct coro__slab *slab)
{
    struct size_class *c = slab->size_class;

    CORO_INVARIANT(slab->free_count <= c->slot_count);
    if (slab->free_count == 0)
        return true;
    if (slab->free_count < c->slot_count) {
        coro__list_push(&c->available, &slab->filed);
        return true;
    }
    if (c->spare == NULL && pool.spare_bytes + slab->bytes <= SPARE_BYTES) {
        c->spare = slab;
        pool.spare_bytes += slab->bytes;
        return true;
    }
    CORO_INVARIANT(slab != c->spare);
    return false;
}

/* Takes a free slot of slab into s. Called with the lock held. */
static int take_slot(struct coro__slab *slab, struct coro__stack *s)
{
    struct size_class *c = slab->size_class;
    size_t guard = coro__stack_guard_size();
    unsigned index;
    char *slot;

    CORO_INVARIANT(slab->free_count > 0);
    index = slab->free_slots[slab->free_count - 1];
    CORO_INVARIANT(index < c->slot_count);
    slot = guard_page(slab, index); /* and the stack above it */

    if (slab->guarded != NULL && !slab->guarded[index]) {
        /* Fails with ENOMEM at the map limit; the slot stays free. */
        if (coro__pages_guard_stack(slot, guard, c->usable) != 0)
            return ENOMEM;
        slab->guarded[index] = true;
    }
    unfile(slab);
    slab->free_count--;
    (void)file(slab); /* not empty now */
    pool.slots_out++;
    s->lo = slot + guard;
    s->size = c->usable;
    s->slab = slab;
    coro__valgrind_in_use(s->lo, s->size);
    s->valgrind_id = coro__valgrind_stack_register(s->lo, s->size);
    return 0;
}

/*
 * fork() copies the pool as it is, and only the forking thread: the pool's
 * lock is taken around fork() (thread.c installs these) so that the child
 * gets a pool no other thread was halfway through changing, and a lock it
 * can take.
 */
void coro__pool_lock_for_fork(void)
{
    coro__lock(&pool.lock);
}

void coro__pool_unlock_in_parent(void)
{
    coro__unlock(&pool.lock);
}

void coro__pool_unlock_in_child(void)
{
    /* Its owner was the forking thread, under the parent's thread id. */
    coro__lock_reset(&pool.lock);
}

/* A slab of c with a slot free, without mapping one; or NULL. Called
 * with the lock held. */
static struct coro__slab *slab_with_room(struct size_class *c)
{
    if (!coro__list_empty(&c->available))
        return CORO__ITEM(c->available.first, struct coro__slab, filed);
    return c->spare;
}

int coro__pool_take(struct coro__stack *stacks, unsigned *count, size_t usable)
{
    struct coro__slab *unwanted = NULL;
    struct size_class *c;
    unsigned taken = 0;

    coro__lock(&pool.lock);
    c = find_class(usable);
    if (c != NULL) {
        struct coro__slab *slab = slab_with_room(c);
        bool fresh = false;

        if (slab == NULL) {
            slab = map_slab(c);
            fresh = slab != NULL;
        }
        while (slab != NULL && taken < *count && take_slot(slab, &stacks[taken]) == 0) {
            taken++;
            slab = slab_with_room(c);
        }
        /* A new slab whose first slot could not be guarded. */
        if (taken == 0 && fresh && !file(slab)) {
            forget_slab(slab);
            unwanted = slab;
        } else if (c->slabs == 0) {
            forget_class(c); /* nothing of a failed create stays */
        }
    }
    coro__unlock(&pool.lock);
    if (unwanted != NULL)
        unmap_slab(unwanted);
    if (taken == 0)
        return ENOMEM;
    *count = taken;
    return 0;
}

void coro__pool_give_back(const struct coro__stack *stacks, size_t count)
{
    struct coro__pages_range ranges[CORO__POOL_GIVE_BACK_MAX];
    struct coro__slab *emptied[CORO__POOL_GIVE_BACK_MAX];
    size_t emptied_count = 0;

    if (count == 0)
        return;
    /* Before the lock: once back in a slab, another thread may take it. */
    for (size_t i = 0; i < count; i++)
        ranges[i] = (struct coro__pages_range){stacks[i].lo, stacks[i].size};
    coro__pages_drop(ranges, count);
    for (size_t i = 0; i < count; i++) {
        coro__valgrind_stack_deregister(stacks[i].valgrind_id);
        coro__valgrind_unused(stacks[i].lo, stacks[i].size);
    }
    coro__lock(&pool.lock);
    for (size_t i = 0; i < count; i++) {
        struct coro__slab *slab = stacks[i].slab;
        size_t offset = (size_t)((char *)stacks[i].lo - slab->base);

        CORO_INVARIANT(stacks[i].size == slab->size_class->usable);
        CORO_INVARIANT(offset % slab->size_class->slot_size == coro__stack_guard_size());
        CORO_INVARIANT(slab->free_count < slab->size_class->slot_count && pool.slots_out > 0);
        unfile(slab);
        slab->free_slots[slab->free_count++] =
            (uint16_t)(offset / slab->size_class->slot_size);
        pool.slots_out--;
        if (!file(slab)) {
            forget_slab(slab);
            emptied[emptied_count++] = slab;
        }
    }
    coro__unlock(&pool.lock);
    for (size_t i = 0; i < emptied_count; i++)
        unmap_slab(emptied[i]);
}

bool coro__pool_unmap_spares(void)
{
    struct coro__list spares = {NULL};
    bool any = false;

    coro__lock(&pool.lock);
    for (struct coro__link *l = pool.classes.first, *next; l != NULL; l = next) {
        struct size_class *c = CORO__ITEM(l, struct size_class, link);
        struct coro__slab *slab = c->spare;

        next = l->next; /* c goes with its last slab */
        if (slab == NULL)
            continue;
        unfile(slab);
        forget_slab(slab);
        coro__list_push(&spares, &slab->filed); /* off every other list now */
    }
    coro__unlock(&pool.lock);
    while (!coro__list_empty(&spares)) {
        struct coro__slab *slab = CORO__ITEM(spares.first, struct coro__slab, filed);

        coro__list_remove(&spares, &slab->filed);
        unmap_slab(slab);
        any = true;
    }
    return any;
}

void coro__pool_counts(size_t *out_of_slabs, size_t *slabs, size_t *classes)
{
    coro__lock(&pool.lock);
    *out_of_slabs = pool.slots_out;
    *slabs = pool.slabs;
    *classes = pool.class_count;
    coro__unlock(&pool.lock);
}

bool coro__pool_guard_regions(void)
{
    return coro__pages_guard_kind() == CORO__GUARDS_REGIONS;
}
