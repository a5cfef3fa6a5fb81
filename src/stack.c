#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, MAP_STACK with -std=c11 */

#include "stack.h"
#include "fault.h"
#include "sanitizer.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/*
 * Released stacks wait here for the next coroutine of the same size, so that
 * a warm create costs no system call and no page fault. Their touched pages
 * stay resident, so the pool is bounded in count and bytes, and once no
 * coroutine holds a stack (the program is idle of coroutines) it is trimmed
 * to a few.
 */
#define POOL_MAX_STACKS 64
#define POOL_MAX_BYTES (8u * 1024u * 1024u)
#define POOL_IDLE_STACKS 4

static struct {
    pthread_mutex_t lock;
    struct coro__stack stacks[POOL_MAX_STACKS];
    size_t count;
    size_t bytes;
    size_t in_use; /* handed out and not yet released */
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* glibc answers this from the auxiliary vector: no system call. */
static size_t page_size(void)
{
    long size = sysconf(_SC_PAGESIZE);

    return size > 0 ? (size_t)size : 4096u;
}

size_t coro__stack_rounded_size(size_t size)
{
    size_t page = page_size();

    if (size > SIZE_MAX - (page - 1))
        return 0;
    return (size + page - 1) / page * page;
}

static int take_from_pool(struct coro__stack *s, size_t size)
{
    int found = 0;

    pthread_mutex_lock(&pool.lock);
    for (size_t i = pool.count; i-- > 0;) {
        if (pool.stacks[i].size == size) {
            *s = pool.stacks[i];
            /* Keep the rest in the order they came back, oldest first. */
            memmove(&pool.stacks[i], &pool.stacks[i + 1], (--pool.count - i) * sizeof pool.stacks[0]);
            pool.bytes -= size;
            pool.in_use++;
            found = 1;
            break;
        }
    }
    pthread_mutex_unlock(&pool.lock);
    return found;
}

static void unmap_stack(const struct coro__stack *s)
{
    size_t guard = page_size();

    coro__valgrind_stack_deregister(s->valgrind_id);
    munmap((char *)s->lo - guard, guard + s->size);
}

static int map_stack(struct coro__stack *s, size_t size)
{
    size_t guard = page_size();
    char *mapping;

    if (size > SIZE_MAX - guard)
        return ENOMEM;
    mapping = coro__fault_injected() ? MAP_FAILED
                                     : mmap(NULL, guard + size, PROT_READ | PROT_WRITE,
                                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (mapping == MAP_FAILED)
        return ENOMEM;
    /* Stacks grow down: the guard goes at the low end. This splits the
     * mapping in two, which is what costs a map entry per stack, and fails
     * with ENOMEM at the kernel's limit of map entries. */
    if (coro__fault_injected() || mprotect(mapping, guard, PROT_NONE) != 0) {
        munmap(mapping, guard + size);
        return ENOMEM;
    }
    s->lo = mapping + guard;
    s->size = size;
    s->valgrind_id = coro__valgrind_stack_register(s->lo, size);
    return 0;
}

int coro__stack_acquire(struct coro__stack *s, size_t size)
{
    size_t rounded = coro__stack_rounded_size(size);

    if (rounded == 0)
        return ENOMEM;
    if (!take_from_pool(s, rounded)) {
        int error = map_stack(s, rounded);

        if (error != 0)
            return error;
        pthread_mutex_lock(&pool.lock);
        pool.in_use++;
        pthread_mutex_unlock(&pool.lock);
    }
    /* Whatever ASan knew of this memory belongs to an earlier stack. */
    coro__asan_unpoison(s->lo, s->size);
    return 0;
}

/* Takes the oldest pooled stack into *s when the pool holds more than it
 * should while idle; returns whether it did. */
static int take_idle_surplus(struct coro__stack *s)
{
    int taken = 0;

    pthread_mutex_lock(&pool.lock);
    if (pool.in_use == 0 && pool.count > POOL_IDLE_STACKS) {
        /* The front of the pool: the coldest in the caches. */
        *s = pool.stacks[0];
        memmove(&pool.stacks[0], &pool.stacks[1], --pool.count * sizeof pool.stacks[0]);
        pool.bytes -= s->size;
        taken = 1;
    }
    pthread_mutex_unlock(&pool.lock);
    return taken;
}

void coro__stack_release(struct coro__stack *s)
{
    struct coro__stack surplus;
    int kept = 0;

    if (s->lo == NULL)
        return;
    pthread_mutex_lock(&pool.lock);
    pool.in_use--;
    if (pool.count < POOL_MAX_STACKS && s->size <= POOL_MAX_BYTES - pool.bytes) {
        pool.stacks[pool.count++] = *s;
        pool.bytes += s->size;
        kept = 1;
    }
    pthread_mutex_unlock(&pool.lock);

    /* System calls outside the lock. */
    if (!kept)
        unmap_stack(s);
    while (take_idle_surplus(&surplus))
        unmap_stack(&surplus);
    s->lo = NULL;
    s->size = 0;
    s->valgrind_id = 0;
}
