/*
 * The front of stack memory (stack.h): each thread's cache before the
 * process's pool (pool.h).
 *
 * A released stack goes to its thread's cache, which the next create on
 * that thread takes from without a lock or a system call. What overflows a
 * cache goes back to the pool. Stacks come from the pool in batches that
 * fill the cache, the top page of each (the record, the context and the
 * first frames: what a new coroutine touches first) made resident for the
 * whole batch in one system call, instead of a page fault each. Where the
 * pool runs out of memory (an address-space limit, the map limit), the
 * thread's cache and every spare slab go back first and the pool is tried
 * once more (give_back_unused()).
 */
#include "stack.h"
#include "compiler.h"
#include "invariant.h"
#include "pages.h"
#include "pool.h"
#include "sanitizer.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

/* A cache (struct coro__stack_cache, which the caller keeps for the
 * thread: thread.h) is bounded in count, and a big stack keeps only its top
 * CACHE_KEEP_BYTES resident while cached. */
#define CACHE_SLOTS CORO__STACK_CACHE_SLOTS
#define CACHE_FLUSH 8 /* stacks a full cache hands to the pool at once */
#define CACHE_KEEP_BYTES ((size_t)64 * 1024)

void coro__stack_cache_drain(struct coro__stack_cache *cache)
{
    coro__pool_give_back(cache->stacks, cache->count);
    cache->count = 0;
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
    return coro__pool_unmap_spares() || any;
}

/*
 * s, and as many more stacks as the cache (if not NULL) has room for, from
 * the pool, the top page of each populated. The extra ones go into the
 * cache so that the next creates take them in the order of their
 * addresses. 0 or ENOMEM.
 */
static int take_from_pool(struct coro__stack_cache *cache, struct coro__stack *s, size_t usable)
{
    struct coro__stack batch[CACHE_SLOTS];
    struct coro__pages_range tops[CACHE_SLOTS];
    unsigned count = cache != NULL && cache->count < CACHE_SLOTS ? CACHE_SLOTS - cache->count : 1;
    size_t page = coro__page_size();
    int error = coro__pool_take(batch, &count, usable);

    if (error != 0)
        return error;
    for (unsigned i = 0; i < count; i++)
        tops[i] = (struct coro__pages_range){(char *)batch[i].lo + batch[i].size - page, page};
    coro__pages_populate(tops, count);
    *s = batch[0];
    for (unsigned i = count; i-- > 1;)
        cache->stacks[cache->count++] = batch[i];
    return 0;
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
    error = take_from_pool(cache, s, usable);
    /* A create must not fail for memory that only libcoro's caches hold. */
    if (error == ENOMEM && give_back_unused(cache))
        error = take_from_pool(cache, s, usable);
    errno = saved_errno;
    return error;
}

int coro__stack_acquire(struct coro__stack_cache *cache, struct coro__stack *s, size_t size)
{
    size_t page = coro__page_size();
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
        coro__pool_give_back(s, 1);
        errno = saved_errno;
        return;
    }
    if (cache->count == CACHE_SLOTS) {
        /* The oldest go: the coldest in the caches. */
        coro__pool_give_back(cache->stacks, CACHE_FLUSH);
        cache->count -= CACHE_FLUSH;
        memmove(&cache->stacks[0], &cache->stacks[CACHE_FLUSH],
                cache->count * sizeof cache->stacks[0]);
    }
    if (s->size > CACHE_KEEP_BYTES) {
        struct coro__pages_range below_top = {s->lo, s->size - CACHE_KEEP_BYTES};

        coro__pages_drop(&below_top, 1);
    }
    cache->stacks[cache->count++] = *s;
    errno = saved_errno;
}

void coro__stack_release(struct coro__stack_cache *cache, const struct coro__stack *s)
{
    if (s->lo == NULL)
        return;
    CORO_INVARIANT(cache == NULL || cache->count <= CACHE_SLOTS);
    if (cache != NULL && cache->count < CACHE_SLOTS && s->size <= CACHE_KEEP_BYTES)
        cache->stacks[cache->count++] = *s;
    else
        release_slowly(cache, s);
}

size_t coro__stack_touched(const struct coro__stack *s)
{
    return s->size - coro__pages_lowest_resident(s->lo, s->size);
}
