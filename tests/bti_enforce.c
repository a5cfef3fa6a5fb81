/*
 * Linked into every test program of a build configured with
 * -DCORO_TEST_ENFORCE_BTI=ON (AArch64, everything built with
 * -mbranch-protection=standard): before main(), the code segment that
 * holds libcoro (libcoro.so's, or the program's own where libcoro is linked
 * in) is mapped again with PROT_BTI, so that an indirect branch into it
 * that lands anywhere but on a landing pad faults (SIGILL).
 *
 * The program is not marked as a whole, which would have the loader do
 * this everywhere: Debian's startup files (crt1.o, crti.o, crtbegin*.o)
 * have no landing pads. The same files are why the pages lose PROT_BTI
 * again when exit() starts: the C library then calls their destructors and
 * _fini, which share the segment, through pointers.
 */
#define _GNU_SOURCE
#include <coro.h>

#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef PROT_BTI
#define PROT_BTI 0x10
#endif
#ifndef HWCAP2_BTI
#define HWCAP2_BTI (1UL << 17)
#endif

struct segment {
    uintptr_t holds; /* an address in libcoro's code */
    uintptr_t start, end;
    int prot;
};

static struct segment libcoro_code;

static int find_segment(struct dl_phdr_info *info, size_t size, void *data)
{
    struct segment *segment = data;

    (void)size;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *phdr = &info->dlpi_phdr[i];
        uintptr_t start = info->dlpi_addr + phdr->p_vaddr;

        if (phdr->p_type != PT_LOAD || !(phdr->p_flags & PF_X) || segment->holds < start ||
            segment->holds >= start + phdr->p_memsz)
            continue;
        uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
        segment->start = start & ~(page - 1);
        segment->end = (start + phdr->p_memsz + page - 1) & ~(page - 1);
        segment->prot = PROT_EXEC | ((phdr->p_flags & PF_R) ? PROT_READ : 0);
        return 1;
    }
    return 0;
}

static void protect(int extra)
{
    if (mprotect((void *)libcoro_code.start, libcoro_code.end - libcoro_code.start,
                 libcoro_code.prot | extra) != 0) {
        perror("bti_enforce: mprotect");
        abort();
    }
}

static void stop_enforcing(void)
{
    protect(0);
}

__attribute__((constructor)) static void enforce_bti(void)
{
    if (!(getauxval(AT_HWCAP2) & HWCAP2_BTI)) {
        fputs("bti_enforce: this processor has no BTI (under qemu: -cpu max)\n", stderr);
        abort();
    }
    libcoro_code.holds = (uintptr_t)coro_create;
    if (!dl_iterate_phdr(find_segment, &libcoro_code)) {
        fputs("bti_enforce: libcoro's code segment not found\n", stderr);
        abort();
    }
    protect(PROT_BTI);
    if (atexit(stop_enforcing) != 0)
        abort();
}
