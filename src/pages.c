/*
 * Stack memory's system calls on Linux and other POSIX systems (pages.h).
 */
#define _GNU_SOURCE /* MAP_ANONYMOUS, MAP_NORESERVE, MAP_STACK, MADV_NOHUGEPAGE */

#include "pages.h"
#include "compiler.h"
#include "test_hooks.h"
#include "sanitizer.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
/* process_madvise() on the calling thread's memory, which is the process's,
 * without opening a pidfd: PIDFD_SELF_THREAD of recent kernels. */
#define PIDFD_SELF_THREAD_ID (-10000)

/* Ranges given to the kernel at once by coro__pages_drop() and
 * coro__pages_populate(). */
#define ADVICE_BATCH 16

static atomic_bool no_process_madvise;
static atomic_bool no_populate_advice; /* kernels before 5.14 */
static _Atomic enum coro__guard_kind guard_kind;

atomic_size_t coro__page_size_known;

/* Once: sysconf() is a call and a switch. */
size_t coro__page_size_read(void)
{
    long answer = sysconf(_SC_PAGESIZE);
    size_t size = answer > 0 ? (size_t)answer : 4096u;

    atomic_store_explicit(&coro__page_size_known, size, memory_order_relaxed);
    return size;
}

void *coro__pages_map(size_t bytes)
{
    void *at = coro__fault_injected()
                   ? MAP_FAILED
                   : mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);

    if (at == MAP_FAILED)
        return NULL;
    /* A touched byte must cost a page, not a huge page (Linux 6.7 and later
     * imply this from MAP_STACK). */
    (void)madvise(at, bytes, MADV_NOHUGEPAGE);
    return at;
}

void coro__pages_unmap(void *at, size_t bytes)
{
    munmap(at, bytes);
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
        /* An older kernel: one range at a time from now on. Each advice
         * used here may be given twice. A want of memory is the memory's,
         * and goes on to the ranges one by one. */
        if (done < 0 && errno != ENOMEM && errno != EAGAIN)
            atomic_store_explicit(&no_process_madvise, true, memory_order_relaxed);
    }
#endif
    for (size_t i = 0; i < count; i++) {
        if (madvise(ranges[i].iov_base, ranges[i].iov_len, advice) != 0)
            return errno;
    }
    return 0;
}

/* Gives each range the advice, ADVICE_BATCH ranges a system call. Returns
 * 0 or the first error. */
static int advise(const struct coro__pages_range *ranges, size_t count, int advice)
{
    struct iovec batch[ADVICE_BATCH];
    int error = 0;

    while (count > 0 && error == 0) {
        size_t n = count < ADVICE_BATCH ? count : ADVICE_BATCH;

        for (size_t i = 0; i < n; i++)
            batch[i] = (struct iovec){ranges[i].at, ranges[i].bytes};
        error = advise_ranges(batch, n, advice);
        ranges += n;
        count -= n;
    }
    return error;
}

void coro__pages_drop(const struct coro__pages_range *ranges, size_t count)
{
    (void)advise(ranges, count, MADV_DONTNEED); /* else they stay resident */
}

/* A write to each page of the range of the byte it holds. (An atomic
 * or-with-0 would fault once, not twice, but needs libatomic on RISC-V,
 * and on AArch64 libgcc's outline atomics, which need glibc.) */
static CORO_NO_ASAN void touch_pages(const struct coro__pages_range *range, size_t page)
{
    for (size_t offset = 0; offset < range->bytes; offset += page) {
        volatile char *byte = (char *)range->at + offset;

        *byte = *byte;
    }
}

void coro__pages_populate(const struct coro__pages_range *ranges, size_t count)
{
    if (!atomic_load_explicit(&no_populate_advice, memory_order_relaxed) &&
        !coro__test_forces_populate_by_touch()) {
        int error = advise(ranges, count, MADV_POPULATE_WRITE);

        if (error != EINVAL)
            return; /* done, or short of memory */
        atomic_store_explicit(&no_populate_advice, true, memory_order_relaxed);
    }
    for (size_t i = 0; i < count; i++)
        touch_pages(&ranges[i], coro__page_size());
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

static enum coro__guard_kind probe_guard_kind(void)
{
    size_t page = coro__page_size();
    enum coro__guard_kind kind = CORO__GUARDS_PER_STACK;
    char *probe;

    if (coro__test_forces_mprotect_guards())
        return kind;
    probe = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (probe == MAP_FAILED)
        return CORO__GUARDS_UNKNOWN;
    if (madvise(probe, page, MADV_GUARD_INSTALL) == 0 && guard_holds(probe))
        kind = CORO__GUARDS_REGIONS;
    munmap(probe, page);
    return kind;
}

/* Two threads may both probe at first: they find the same answer. */
enum coro__guard_kind coro__pages_guard_kind(void)
{
    enum coro__guard_kind kind = atomic_load_explicit(&guard_kind, memory_order_relaxed);

    if (kind == CORO__GUARDS_UNKNOWN) {
        kind = probe_guard_kind();
        atomic_store_explicit(&guard_kind, kind, memory_order_relaxed);
    }
    return kind;
}

int coro__pages_install_guard_regions(char *first, size_t guard_bytes, size_t stride,
                                      unsigned count)
{
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
            ranges[i] = (struct iovec){first + (size_t)i * stride, guard_bytes};
        error = advise_ranges(ranges, count, MADV_GUARD_INSTALL);
        free(ranges);
    } else {
        for (unsigned i = 0; i < count && error == 0; i++) {
            if (madvise(first + (size_t)i * stride, guard_bytes, MADV_GUARD_INSTALL) != 0)
                error = errno;
        }
    }
    return error == 0 ? 0 : ENOMEM;
}

int coro__pages_guard_stack(void *at, size_t guard_bytes, size_t stack_bytes)
{
    (void)stack_bytes; /* ready as mapped */
    if (coro__fault_injected() || mprotect(at, guard_bytes, PROT_NONE) != 0)
        return ENOMEM;
    return 0;
}

size_t coro__pages_lowest_resident(const void *at, size_t bytes)
{
    size_t page = coro__page_size();
    unsigned char in_memory[256]; /* a page each: 1 MiB asked at a time */
    int saved_errno = errno;
    size_t done = 0;

    while (done < bytes) {
        size_t pages = (bytes - done) / page;

        if (pages > sizeof in_memory)
            pages = sizeof in_memory;
        if (mincore((char *)at + done, pages * page, in_memory) != 0)
            break;
        for (size_t i = 0; i < pages; i++) {
            if (in_memory[i] & 1) {
                errno = saved_errno;
                return done + i * page;
            }
        }
        done += pages * page;
    }
    errno = saved_errno;
    return done;
}
