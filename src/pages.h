/*
 * The system calls that stack memory is made of: mapping, dropping pages,
 * guards. Everything pool.c and stack.c ask of the operating system goes
 * through here, so that a port to another system replaces this file.
 */
#ifndef CORO_PAGES_H
#define CORO_PAGES_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

/* The system's page size, read once: inline, as every create asks. */
extern atomic_size_t coro__page_size_known;
size_t coro__page_size_read(void);

static inline size_t coro__page_size(void)
{
    size_t size = atomic_load_explicit(&coro__page_size_known, memory_order_relaxed);

    return size != 0 ? size : coro__page_size_read();
}

/* bytes of fresh zeroed memory, readable and writable, committed only as it
 * is touched, a page at a time (never a huge page); or NULL. On Windows the
 * memory is only reserved: a stack in it is committed by
 * coro__pages_guard_stack(). */
void *coro__pages_map(size_t bytes);
void coro__pages_unmap(void *at, size_t bytes);

struct coro__pages_range {
    void *at;
    size_t bytes;
};

/* Gives the memory of each range back: it reads as zeros when next
 * touched (on Windows, as zeros or as it was). Best effort: where the
 * system refuses, the pages stay. */
void coro__pages_drop(const struct coro__pages_range *ranges, size_t count);

/* Makes each range resident and writable now, as a write to each of its
 * pages would, its contents unchanged: in one system call where the kernel
 * allows (Linux 5.14's MADV_POPULATE_WRITE), else by writing to each page.
 * Best effort: where memory runs short, the pages are left to fault in
 * when touched. */
void coro__pages_populate(const struct coro__pages_range *ranges, size_t count);

/* The offset from at (page-aligned) of the lowest page of [at, at + bytes)
 * that is in memory, or bytes when none is: touched, and not since
 * dropped or swapped out. Where the system cannot tell, the page it could
 * not ask about counts as in memory. Keeps errno as it was. */
size_t coro__pages_lowest_resident(const void *at, size_t bytes);

/*
 * Guards, pages that fault when touched, come in two kinds. Guard regions
 * (Linux 6.13 and later, MADV_GUARD_INSTALL) do not split a mapping, so a
 * mapping costs one map entry however many guards it holds, and are
 * installed when it is mapped. Elsewhere a guard is made for each stack
 * when the stack is first taken (coro__pages_guard_stack()): a PROT_NONE
 * page (mprotect), which splits the mapping, and the kernel's limit on map
 * entries (vm.max_map_count) caps how many there can be; on Windows, where
 * a mapping is only reserved, the stack committed above its guard.
 */
enum coro__guard_kind { CORO__GUARDS_UNKNOWN, CORO__GUARDS_REGIONS, CORO__GUARDS_PER_STACK };

/* Which kind this process uses, decided on the first call by trying a guard
 * region on a page of its own (UNKNOWN only where that page could not be
 * mapped, to be tried again). */
enum coro__guard_kind coro__pages_guard_kind(void);

/* Guard regions of guard_bytes at first, first + stride, ... (count of
 * them), in one system call where the kernel allows. 0 or ENOMEM. */
int coro__pages_install_guard_regions(char *first, size_t guard_bytes, size_t stride,
                                      unsigned count);

/* Makes [at, at + guard_bytes) a guard, and the stack_bytes above it
 * ready for use: an mprotect guard (the stack is ready as mapped); on
 * Windows the stack committed and its guard laid out as described below.
 * 0, or ENOMEM (at the map limit; on Windows, the commit limit). */
int coro__pages_guard_stack(void *at, size_t guard_bytes, size_t stack_bytes);

#if defined(_WIN32)
/*
 * Windows grows a thread's stack through a guard page below what it has
 * committed, and raises a stack overflow where the stack's reserve ends,
 * committing first the room it guarantees the handler (the thread
 * information block says where each is). A coroutine's stack is laid out
 * the same way: committed down to its lowest usable byte, below it a guard
 * page, and below that the rest of the guard reserved. This is the room
 * guaranteed, for a guard of guard_bytes: a touch of the guard page is then
 * an overflow at once, with all of the guard above its lowest page
 * committed for the handler.
 */
size_t coro__pages_stack_guarantee(size_t guard_bytes);
#endif
#endif /* CORO_PAGES_H */
