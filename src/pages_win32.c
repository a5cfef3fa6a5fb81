/*
 * Stack memory's system calls on Windows (pages.h): slabs are reserved
 * address space; a stack is committed, with the guard below it laid out as
 * Windows lays out a thread's stack, when its slot is first taken.
 */
#include "pages.h"
#include "test_hooks.h"

#include <errno.h>
#include <stdint.h>
#include <windows.h>
/* QueryWorkingSetEx() as kernel32 exports it (K32QueryWorkingSetEx): no
 * psapi.dll to link. */
#define PSAPI_VERSION 2
#include <psapi.h>

atomic_size_t coro__page_size_known;

size_t coro__page_size_read(void)
{
    SYSTEM_INFO info;
    size_t size;

    GetSystemInfo(&info);
    size = info.dwPageSize != 0 ? info.dwPageSize : 4096u;
    atomic_store_explicit(&coro__page_size_known, size, memory_order_relaxed);
    return size;
}

/*
 * A page reserved below what is asked for, never used: no stack's guard
 * then begins its reservation. A thread that ends inside a coroutine frees
 * the reservation its information block names, the coroutine's guard,
 * unless libcoro's exit callback sees it first (thread.c); unseen, that
 * release now fails, leaking the thread's own stack, instead of releasing
 * a slab under the stacks of other coroutines.
 */
void *coro__pages_map(size_t bytes)
{
    size_t page = coro__page_size();
    char *reserved;

    if (coro__fault_injected() || bytes > SIZE_MAX - page)
        return NULL;
    reserved = VirtualAlloc(NULL, page + bytes, MEM_RESERVE, PAGE_READWRITE);
    return reserved != NULL ? reserved + page : NULL;
}

void coro__pages_unmap(void *at, size_t bytes)
{
    (void)bytes; /* a reservation is released whole */
    VirtualFree((char *)at - coro__page_size(), 0, MEM_RELEASE);
}

/* MEM_RESET: the pages stay committed, and the system may take them back
 * without writing them out. VirtualUnlock() of pages that are not locked
 * takes them out of the working set now (and fails, saying they were not
 * locked), so that they no longer count as touched
 * (coro__pages_lowest_resident()). */
void coro__pages_drop(const struct coro__pages_range *ranges, size_t count)
{
    DWORD saved_error = GetLastError();

    for (size_t i = 0; i < count; i++) {
        (void)VirtualAlloc(ranges[i].at, ranges[i].bytes, MEM_RESET, PAGE_READWRITE);
        (void)VirtualUnlock(ranges[i].at, ranges[i].bytes);
    }
    SetLastError(saved_error);
}

/* Committed pages become resident at their first touch, which costs what
 * making them resident ahead would: nothing to do. */
void coro__pages_populate(const struct coro__pages_range *ranges, size_t count)
{
    (void)ranges;
    (void)count;
}

enum coro__guard_kind coro__pages_guard_kind(void)
{
    return CORO__GUARDS_PER_STACK;
}

int coro__pages_install_guard_regions(char *first, size_t guard_bytes, size_t stride,
                                      unsigned count)
{
    (void)first;
    (void)guard_bytes;
    (void)stride;
    (void)count;
    return ENOMEM; /* no guard regions here (pages.h) */
}

size_t coro__pages_stack_guarantee(size_t guard_bytes)
{
    return guard_bytes - coro__page_size();
}

/*
 * [at, at + guard_bytes): reserved, but for its top page, a guard page
 * (PAGE_GUARD), which the system turns into a stack overflow (pages.h).
 * Above it the stack, committed: only the pages touched become resident,
 * and the thread information block's stack limit stays the stack's lowest
 * byte however deep the coroutine goes. Uncommitted memory would have to
 * grow, and a stack reused from the cache would start with a limit that is
 * not where its guard is.
 */
int coro__pages_guard_stack(void *at, size_t guard_bytes, size_t stack_bytes)
{
    size_t page = coro__page_size();
    char *guard_page = (char *)at + guard_bytes - page;

    if (coro__fault_injected())
        return ENOMEM;
    if (VirtualAlloc(guard_page + page, stack_bytes, MEM_COMMIT, PAGE_READWRITE) == NULL)
        return ENOMEM;
    if (VirtualAlloc(guard_page, page, MEM_COMMIT, PAGE_READWRITE | PAGE_GUARD) == NULL) {
        VirtualFree(guard_page + page, stack_bytes, MEM_DECOMMIT);
        return ENOMEM;
    }
    return 0;
}

/* A page is in memory while it is in the process's working set. */
size_t coro__pages_lowest_resident(const void *at, size_t bytes)
{
    size_t page = coro__page_size();
    PSAPI_WORKING_SET_EX_INFORMATION pages[64];
    DWORD saved_error = GetLastError();
    size_t done = 0;

    while (done < bytes) {
        size_t count = (bytes - done) / page;

        if (count > sizeof pages / sizeof pages[0])
            count = sizeof pages / sizeof pages[0];
        for (size_t i = 0; i < count; i++)
            pages[i].VirtualAddress = (char *)at + done + i * page;
        if (!QueryWorkingSetEx(GetCurrentProcess(), pages, (DWORD)(count * sizeof pages[0])))
            break;
        for (size_t i = 0; i < count; i++) {
            if (pages[i].VirtualAttributes.Valid) {
                SetLastError(saved_error);
                return done + i * page;
            }
        }
        done += count * page;
    }
    SetLastError(saved_error);
    return done;
}
