#define _GNU_SOURCE /* MAP_ANONYMOUS, MAP_NORESERVE, MAP_STACK, MADV_NOHUGEPAGE */

#include "stack.h"
#include "compiler.h"
#include "debug.h"
#include "fault.h"
#include "sanitizer.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

/*
 * Stacks of one usable size are slots of slabs: one mapping holds many
 * slots, each a guard (GUARD_BYTES, at least a page) and then the stack.
 * The guard is bigger than a page because what lies below it is the top
 * of the next stack down, which holds that coroutine's record: a frame
 * must be bigger than the guard to jump over it. With guard regions, the
 * guard above each stack (the next slot's, or one more at the slab's end)
 * is in place too, so that a run off either end faults.
 *
 * Guard pages come in two kinds, chosen when the first slab is mapped.
 * Linux 6.13 and later have guard regions (madvise MADV_GUARD_INSTALL):
 * they fault like PROT_NONE but do not split the mapping, so a slab costs
 * one map entry however many stacks it holds, and its guards are installed
 * when it is mapped, in one system call where the kernel takes
 * process_madvise() on this process. They are used once one is seen to
 * hold (guard_holds()). Elsewhere each guard is made
 * PROT_NONE with mprotect() when its slot is first handed out (the one
 * below each stack in use; the page above is a guard only once the next
 * slot has been used); each splits the mapping, and the kernel's limit on
 * map entries (vm.max_map_count, 65530 by default) caps the stacks at about
 * 32,000, where acquiring fails with ENOMEM.
 *
 * A released stack goes to its thread's cache, which the next create on
 * that thread takes from without a lock or a system call. What overflows a
 * cache goes back to its slab, its pages dropped first (MADV_DONTNEED), so
 * that a free slot costs no memory; a slab none of whose slots is in use is
 * unmapped, except a spare per size within SPARE_BYTES in all, and a size
 * with no slab left is forgotten. Where the pool runs out of memory (an
 * address-space limit, the map limit), the thread's cache and every spare
 * go back first and the pool is tried once more (give_back_unused()).
 */
#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif
#ifndef MADV_GUARD_REMOVE
#define MADV_GUARD_REMOVE 103
#endif
/* process_madvise() on the calling thread's memory, which is the process's,
 * without opening a pidfd: PIDFD_SELF_THREAD of recent kernels. */
#define PIDFD_SELF_THREAD_ID (-10000)

#define SLAB_TARGET_BYTES CORO__STACK_SLAB_BYTES
#define SLAB_MAX_SLOTS 1000u /* its guards, plus the last one, in one IOV_MAX */
#define SPARE_BYTES CORO__STACK_SPARE_BYTES /* empty slabs kept mapped, in all */
#define GUARD_BYTES ((size_t)16 * 1024) /* rounded up to whole pages */

/* Per thread (struct coro__stack_cache, which the caller keeps for the
 * thread: thread.h): stacks kept as they are, pages and all. Bounded in count, and a big stack keeps only
 * its top CACHE_KEEP_BYTES resident while cached. */
#define CACHE_SLOTS CORO__STACK_CACHE_SLOTS
#define CACHE_FLUSH 8 /* stacks a full cache hands to the pool at once */
#define CACHE_KEEP_BYTES ((size_t)64 * 1024)

enum guard_kind { GUARDS_UNKNOWN, GUARDS_REGIONS, GUARDS_MPROTECT };

struct size_class {
    struct size_class *next;
    size_t usable;    /* bytes of one stack */
    size_t slot_size; /* its guard and the stack */
    unsigned slot_count; /* slots per slab */
    unsigned slabs;      /* mapped */
    struct coro__slab *available; /* slabs with a slot free and one in use */
    struct coro__slab *spare;     /* a slab with every slot free */
};

struct coro__slab {
    struct size_class *size_class;
    struct coro__slab *prev, *next; /* in size_class->available */
    struct coro__slab *mapped_prev, *mapped_next; /* in pool.mapped */
    char *base;
    size_t bytes;
    unsigned free_count;
    bool *guarded; /* mprotect guards: whether slot i has its guard yet */
    uint16_t free_slots[]; /* the free slots' indices; the last is taken first */
};

static struct {
    pthread_mutex_t lock;
    struct size_class *classes;
    struct coro__slab *mapped; /* every slab, for debuggers (debug.h) */
    enum guard_kind guards;
    size_t slots_out; /* not free in their slab: in use or cached */
    size_t slabs;     /* mapped */
    size_t class_count; /* sizes known: with a slab, or being given one */
    size_t spare_bytes;
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER};

CORO_KEEP const struct coro__debug_stacks coro__debug_stacks = {
    .slabs = (const void *const *)&pool.mapped,
    .slab_next = offsetof(struct coro__slab, mapped_next),
    .slab_base = offsetof(struct coro__slab, base),
    .slab_class = offsetof(struct coro__slab, size_class),
    .class_usable = offsetof(struct size_class, usable),
    .class_slot_size = offsetof(struct size_class, slot_size),
    .class_slot_count = offsetof(struct size_class, slot_count),
};

static atomic_bool no_process_madvise;

/* Read once: sysconf() is a call and a switch on every create. */
static size_t page_size(void)
{
    static atomic_size_t cached;
    size_t size = atomic_load_explicit(&cached, memory_order_relaxed);

    if (size == 0) {
        long answer = sysconf(_SC_PAGESIZE);

        size = answer > 0 ? (size_t)answer : 4096u;
        atomic_store_explicit(&cached, size, memory_order_relaxed);
    }
    return size;
}

/* Gives each range the advice, in one system call where the kernel takes
 * process_madvise() for it. Returns 0 or the error of a madvise(). */
static int advise_ranges(struct iovec *ranges, size_t count, int advice)
{
#ifdef SYS_process_madvise
    if (count > 1 && !atomic_load_explicit(&no_process_madvise, memory_order_relaxed) &&
        !coro__running_on_valgrind()) {
        size_t total = 0;
        long done;

        for (size_t i = 0; i < count; i++)
            total += ranges[i].iov_len;
        done = syscall(SYS_process_madvise, PIDFD_SELF_THREAD_ID, ranges, count, advice, 0);
        if (done >= 0 && (size_t)done == total)
            return 0;
        /* An older kernel (or valgrind): one range at a time from now on.
         * Both advices used here may be given twice. */
        if (done < 0)
            atomic_store_explicit(&no_process_madvise, true, memory_order_relaxed);
    }
#endif
    for (size_t i = 0; i < count; i++) {
        if (madvise(ranges[i].iov_base, ranges[i].iov_len, advice) != 0)
            return errno;
    }
    return 0;
}

size_t coro__stack_guard_size(void)
{
    size_t page = page_size();

    return (GUARD_BYTES + page - 1) & ~(page - 1);
}

/* Drops the pages of each stack: they read as zeros when next touched. */
static void drop_pages(const struct coro__stack *stacks, size_t count)
{
    struct iovec ranges[CACHE_SLOTS];

    for (size_t i = 0; i < count; i++)
        ranges[i] = (struct iovec){stacks[i].lo, stacks[i].size};
    (void)advise_ranges(ranges, count, MADV_DONTNEED); /* else they stay resident */
}

/* The size class of stacks of usable bytes, made if there is none; it goes
 * when its last slab does (forget_class()). */
static struct size_class *find_class(size_t usable)
{
    size_t guard = coro__stack_guard_size();
    struct size_class *c;

    for (c = pool.classes; c != NULL; c = c->next) {
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
    c->next = pool.classes;
    pool.classes = c;
    return c;
}

/*
 * Whether the page at guard is one the kernel refuses to touch. An emulator
 * (qemu-user) may answer MADV_GUARD_INSTALL with success and do nothing;
 * the kernel's own read of the page, through process_vm_readv() on this
 * process, fails with EFAULT only if the guard is really there.
 */
static bool guard_holds(char *guard)
{
    char byte;
    struct iovec local = {&byte, 1}, remote = {guard, 1};

    return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) < 0 && errno == EFAULT;
}

static void choose_guards(char *first_guard, size_t page)
{
    if (pool.guards != GUARDS_UNKNOWN)
        return;
    pool.guards = GUARDS_MPROTECT;
    if (coro__fault_no_guard_regions() || madvise(first_guard, page, MADV_GUARD_INSTALL) != 0)
        return;
    if (guard_holds(first_guard))
        pool.guards = GUARDS_REGIONS;
    else
        (void)madvise(first_guard, page, MADV_GUARD_REMOVE);
}

/* Takes c, which has no slab, off the list. Called with the lock held. */
static void forget_class(struct size_class *c)
{
    struct size_class **link = &pool.classes;

    while (*link != c)
        link = &(*link)->next;
    *link = c->next;
    pool.class_count--;
    free(c);
}

/* Where the guard below slot i (or, for i == slot_count, the one at the
 * slab's end) starts. */
static char *guard_page(const struct coro__slab *slab, unsigned i)
{
    return slab->base + (size_t)i * slab->size_class->slot_size;
}

/* Guards every slot of a new slab, and its end, with guard regions. */
static int install_guard_regions(struct coro__slab *slab, size_t guard)
{
    unsigned count = slab->size_class->slot_count + 1;
    /* Up to 16 KiB: too much for the stack of a coroutine that creates
     * another. Without it, one madvise() per guard. */
    struct iovec *ranges = malloc(count * sizeof *ranges);
    int error = 0;

    if (coro__fault_injected()) {
        free(ranges);
        return ENOMEM;
    }
    if (ranges != NULL) {
        for (unsigned i = 0; i < count; i++)
            ranges[i] = (struct iovec){guard_page(slab, i), guard};
        error = advise_ranges(ranges, count, MADV_GUARD_INSTALL);
        free(ranges);
    } else {
        for (unsigned i = 0; i < count && error == 0; i++)
            error = madvise(guard_page(slab, i), guard, MADV_GUARD_INSTALL) == 0 ? 0 : errno;
    }
    return error == 0 ? 0 : ENOMEM;
}

static void unmap_slab(struct coro__slab *slab)
{
    munmap(slab->base, slab->bytes);
    free(slab);
}

/* A new slab of c, every slot free, or NULL. Called with the lock held. */
static struct coro__slab *map_slab(struct size_class *c)
{
    size_t page = page_size();
    size_t guard = coro__stack_guard_size();
    unsigned n = c->slot_count;
    struct coro__slab *slab;
    char *mapping;

    if (c->slot_size > (SIZE_MAX - guard) / n)
        return NULL;
    slab = coro__fault_injected() ? NULL
                                  : malloc(sizeof *slab + n * sizeof slab->free_slots[0] +
                                           n * sizeof slab->guarded[0]);
    if (slab == NULL)
        return NULL;
    *slab = (struct coro__slab){.size_class = c, .bytes = (size_t)n * c->slot_size + guard};
    mapping = coro__fault_injected()
                  ? MAP_FAILED
                  : mmap(NULL, slab->bytes, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (mapping == MAP_FAILED) {
        free(slab);
        return NULL;
    }
    slab->base = mapping;
    /* A touched byte must cost a page, not a huge page (Linux 6.7 and later
     * imply this from MAP_STACK). */
    (void)madvise(mapping, slab->bytes, MADV_NOHUGEPAGE);
    choose_guards(mapping, page);
    if (pool.guards == GUARDS_REGIONS && install_guard_regions(slab, guard) != 0) {
        unmap_slab(slab);
        return NULL;
    }
    slab->guarded = (bool *)&slab->free_slots[n];
    for (unsigned i = 0; i < n; i++) {
        slab->free_slots[i] = (uint16_t)(n - 1 - i); /* slot 0 is taken first */
        slab->guarded[i] = false;
    }
    slab->free_count = n;
    slab->mapped_next = pool.mapped;
    if (pool.mapped != NULL)
        pool.mapped->mapped_prev = slab;
    pool.mapped = slab;
    pool.slabs++;
    c->slabs++;
    coro__valgrind_unused(slab->base, slab->bytes);
    return slab;
}

/* Takes slab, about to be unmapped, off the list of mapped slabs. Called
 * with the lock held. */
static void forget_slab(struct coro__slab *slab)
{
    if (slab->mapped_prev != NULL)
        slab->mapped_prev->mapped_next = slab->mapped_next;
    else
        pool.mapped = slab->mapped_next;
    if (slab->mapped_next != NULL)
        slab->mapped_next->mapped_prev = slab->mapped_prev;
    pool.slabs--;
}

static void list_insert(struct coro__slab **head, struct coro__slab *slab)
{
    slab->prev = NULL;
    slab->next = *head;
    if (*head != NULL)
        (*head)->prev = slab;
    *head = slab;
}

static void list_remove(struct coro__slab **head, struct coro__slab *slab)
{
    if (slab->prev != NULL)
        slab->prev->next = slab->next;
    else
        *head = slab->next;
    if (slab->next != NULL)
        slab->next->prev = slab->prev;
    slab->prev = slab->next = NULL;
}

/* Takes a free slot of slab into s. Called with the lock held. */
static int take_slot(struct coro__slab *slab, struct coro__stack *s)
{
    struct size_class *c = slab->size_class;
    size_t guard = coro__stack_guard_size();
    unsigned index = slab->free_slots[slab->free_count - 1];
    char *slot = guard_page(slab, index); /* and the stack above it */

    if (pool.guards == GUARDS_MPROTECT && !slab->guarded[index]) {
        /* Fails with ENOMEM at the map limit; the slot stays free. */
        if (coro__fault_injected() || mprotect(slot, guard, PROT_NONE) != 0)
            return ENOMEM;
        slab->guarded[index] = true;
    }
    if (slab == c->spare) {
        c->spare = NULL;
        pool.spare_bytes -= slab->bytes;
        if (c->slot_count > 1)
            list_insert(&c->available, slab);
    } else if (slab->free_count == 1) {
        list_remove(&c->available, slab);
    }
    slab->free_count--;
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
void coro__stack_pool_lock_for_fork(void)
{
    pthread_mutex_lock(&pool.lock);
}

void coro__stack_pool_unlock_in_parent(void)
{
    pthread_mutex_unlock(&pool.lock);
}

void coro__stack_pool_unlock_in_child(void)
{
    /* Its owner was the forking thread, under the parent's thread id. */
    pthread_mutex_init(&pool.lock, NULL);
}

static int take_from_pool(struct coro__stack *s, size_t usable)
{
    struct size_class *c;
    struct coro__slab *slab;
    int error = ENOMEM;

    pthread_mutex_lock(&pool.lock);
    c = find_class(usable);
    if (c != NULL) {
        slab = c->available != NULL ? c->available : c->spare;
        if (slab == NULL && (slab = map_slab(c)) != NULL) {
            /* The spare until its first slot is taken just below. */
            c->spare = slab;
            pool.spare_bytes += slab->bytes;
        }
        if (slab != NULL)
            error = take_slot(slab, s);
        if (c->slabs == 0)
            forget_class(c); /* nothing of a failed create stays */
    }
    pthread_mutex_unlock(&pool.lock);
    return error;
}

/* Gives count stacks back to their slabs; slabs left with no slot in use
 * are unmapped, but for a spare per size. */
static void return_to_pool(const struct coro__stack *stacks, size_t count)
{
    struct coro__slab *emptied[CACHE_SLOTS];
    size_t emptied_count = 0;

    /* Before the lock: once back in a slab, another thread may take it. */
    drop_pages(stacks, count);
    for (size_t i = 0; i < count; i++) {
        coro__valgrind_stack_deregister(stacks[i].valgrind_id);
        coro__valgrind_unused(stacks[i].lo, stacks[i].size);
    }
    pthread_mutex_lock(&pool.lock);
    for (size_t i = 0; i < count; i++) {
        struct coro__slab *slab = stacks[i].slab;
        struct size_class *c = slab->size_class;
        size_t offset = (size_t)((char *)stacks[i].lo - slab->base);

        if (slab->free_count == 0 && c->slot_count > 1)
            list_insert(&c->available, slab);
        slab->free_slots[slab->free_count++] = (uint16_t)(offset / c->slot_size);
        pool.slots_out--;
        if (slab->free_count == c->slot_count) {
            if (c->slot_count > 1)
                list_remove(&c->available, slab);
            if (c->spare == NULL && pool.spare_bytes + slab->bytes <= SPARE_BYTES) {
                c->spare = slab;
                pool.spare_bytes += slab->bytes;
            } else {
                emptied[emptied_count++] = slab;
                forget_slab(slab);
                if (--c->slabs == 0)
                    forget_class(c);
            }
        }
    }
    pthread_mutex_unlock(&pool.lock);
    for (size_t i = 0; i < emptied_count; i++)
        unmap_slab(emptied[i]);
}

void coro__stack_cache_drain(struct coro__stack_cache *cache)
{
    return_to_pool(cache->stacks, cache->count);
    cache->count = 0;
}

/* Unmaps every spare slab, forgetting sizes left with none; returns
 * whether there was one. */
static bool unmap_spares(void)
{
    struct coro__slab *spares = NULL;
    bool any = false;

    pthread_mutex_lock(&pool.lock);
    for (struct size_class *c = pool.classes, *next; c != NULL; c = next) {
        struct coro__slab *slab = c->spare;

        next = c->next;
        if (slab == NULL)
            continue;
        c->spare = NULL;
        pool.spare_bytes -= slab->bytes;
        forget_slab(slab);
        slab->next = spares; /* off every other list now */
        spares = slab;
        if (--c->slabs == 0)
            forget_class(c);
    }
    pthread_mutex_unlock(&pool.lock);
    while (spares != NULL) {
        struct coro__slab *next = spares->next;

        unmap_slab(spares);
        spares = next;
        any = true;
    }
    return any;
}

/*
 * After the pool failed for want of memory: gives back what libcoro itself
 * holds unused, the calling thread's cached stacks (cache, if not NULL: each
 * may keep a whole slab mapped) and every spare slab. Returns whether
 * anything went, and so whether trying again may succeed. Other threads'
 * caches are theirs alone.
 */
static bool give_back_unused(struct coro__stack_cache *cache)
{
    bool any = false;

    if (cache != NULL && cache->count > 0) {
        coro__stack_cache_drain(cache);
        any = true;
    }
    return unmap_spares() || any;
}

/* A stack of usable bytes from anywhere in the thread's cache, else from
 * the pool. The system calls on the way keep errno as it was: a create
 * that succeeds leaves it alone. */
static CORO_NOINLINE int acquire_slowly(struct coro__stack_cache *cache, struct coro__stack *s,
                                        size_t usable)
{
    int saved_errno = errno;
    int error;

    if (cache != NULL) {
        for (unsigned i = cache->count; i-- > 0;) {
            if (cache->stacks[i].size == usable) {
                *s = cache->stacks[i];
                cache->count--;
                memmove(&cache->stacks[i], &cache->stacks[i + 1],
                        (cache->count - i) * sizeof cache->stacks[0]);
                return 0;
            }
        }
    }
    error = take_from_pool(s, usable);
    /* A create must not fail for memory that only libcoro's caches hold. */
    if (error == ENOMEM && give_back_unused(cache))
        error = take_from_pool(s, usable);
    errno = saved_errno;
    return error;
}

int coro__stack_acquire(struct coro__stack_cache *cache, struct coro__stack *s, size_t size)
{
    size_t page = page_size();
    size_t usable;

    if (size > SIZE_MAX - (page - 1))
        return ENOMEM;
    usable = (size + page - 1) & ~(page - 1); /* a multiple of the page size */
    /* The warm path: the stack released last on this thread fits. */
    if (cache != NULL && cache->count > 0 && cache->stacks[cache->count - 1].size == usable) {
        *s = cache->stacks[--cache->count];
    } else {
        int error = acquire_slowly(cache, s, usable);

        if (error != 0)
            return error;
    }
    /* Whatever ASan knew of this memory belongs to an earlier stack. */
    coro__asan_unpoison(s->lo, s->size);
    return 0;
}

/* Into a cache that is full, or yet to be made, or for a big stack: with
 * system calls, which keep errno as it was. */
static CORO_NOINLINE void release_slowly(struct coro__stack_cache *cache,
                                         const struct coro__stack *s)
{
    int saved_errno = errno;

    if (cache == NULL) {
        return_to_pool(s, 1);
        errno = saved_errno;
        return;
    }
    if (cache->count == CACHE_SLOTS) {
        /* The oldest go: the coldest in the caches. */
        return_to_pool(cache->stacks, CACHE_FLUSH);
        cache->count -= CACHE_FLUSH;
        memmove(&cache->stacks[0], &cache->stacks[CACHE_FLUSH],
                cache->count * sizeof cache->stacks[0]);
    }
    if (s->size > CACHE_KEEP_BYTES)
        (void)madvise(s->lo, s->size - CACHE_KEEP_BYTES, MADV_DONTNEED);
    cache->stacks[cache->count++] = *s;
    errno = saved_errno;
}

void coro__stack_release(struct coro__stack_cache *cache, const struct coro__stack *s)
{
    if (s->lo == NULL)
        return;
    if (cache != NULL && cache->count < CACHE_SLOTS && s->size <= CACHE_KEEP_BYTES)
        cache->stacks[cache->count++] = *s;
    else
        release_slowly(cache, s);
}

void coro__stack_counts(size_t *slots_out, size_t *slabs, size_t *sizes)
{
    pthread_mutex_lock(&pool.lock);
    *slots_out = pool.slots_out;
    *slabs = pool.slabs;
    *sizes = pool.class_count;
    pthread_mutex_unlock(&pool.lock);
}

bool coro__stack_guard_regions(void)
{
    bool regions;

    pthread_mutex_lock(&pool.lock);
    regions = pool.guards == GUARDS_REGIONS;
    pthread_mutex_unlock(&pool.lock);
    return regions;
}
