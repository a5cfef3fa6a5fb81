/*
 * What a debugger reads to find every coroutine of a process and the
 * registers of a switched-out one: tools/libcoro-gdb.py, on a live process
 * or a core file. Plain addresses, sizes and offsets, so that it needs no
 * debug information for libcoro (a Release build has none), only its
 * symbol table: it finds `coro__debug` by name, in each copy of libcoro
 * that a process holds.
 *
 * Finding them costs the running program nothing: live coroutines are the
 * records at the top of the slots of the slabs pool.c has mapped (a slab
 * list it keeps under its lock when it maps or unmaps one), and a record
 * is live while its fn is not NULL (coro_destroy() clears it before the
 * stack goes back to a cache or a slab; a slot never used reads as zeros).
 *
 * Any change to these structures, or to what they describe, changes
 * CORO__DEBUG_VERSION, which the script checks.
 */
#ifndef CORO_DEBUGGER_H
#define CORO_DEBUGGER_H

#include <stdint.h>

#define CORO__DEBUG_VERSION 4u

/* Registers of a switched-out side, in this order for the architecture,
 * as gdb names them (RISC-V's s0 is an alias of its fp). */
#if defined(__x86_64__)
#define CORO__DEBUG_REGISTERS "rip rsp rbp rbx r12 r13 r14 r15"
#elif defined(__aarch64__)
#define CORO__DEBUG_REGISTERS "pc sp x19 x20 x21 x22 x23 x24 x25 x26 x27 x28 x29 x30"
#elif defined(__riscv) && __riscv_xlen == 64
#define CORO__DEBUG_REGISTERS "pc sp s0 s1 s2 s3 s4 s5 s6 s7 s8 s9 s10 s11 ra"
#else
#define CORO__DEBUG_REGISTERS ""
#endif
#define CORO__DEBUG_MAX_REGISTERS 15

/* Where a side's saved registers start: at context + offset, or, with
 * `indirect`, at *(void **)(context + offset) + adjust. */
struct coro__debug_saved {
    uint16_t offset;
    uint16_t indirect;
    int16_t adjust;
};

/* The backend's context (context_<backend>.c). */
struct coro__debug_context {
    uint32_t size;  /* bytes, before coro.c rounds it up to 16 */
    char backend[12];
    /* The coroutine's own registers while it is suspended, and those of
     * the side that resumed it while it runs (a coroutine in CORO_NORMAL
     * waits in the context of the one it resumed). */
    struct coro__debug_saved self, resumer;
    /* Offsets of each register of CORO__DEBUG_REGISTERS in the saved
     * block; the stack pointer's entry is -1 where the stack pointer is the
     * block's own address plus sp_adjust (the asm frame). */
    int16_t registers[CORO__DEBUG_MAX_REGISTERS];
    uint16_t sp_adjust;
    /* The offset of where the caller's return address is when the saved pc
     * is in a stub of the switch's own, or -1. glibc's AArch64
     * swapcontext() saves as pc a stub that returns through x1, and the
     * return address in x1's slot; older ones save the return address. */
    int16_t stub_return;
};

/* Stack memory (pool.c): a list of the mapped slabs, each slot of which
 * is a guard and then a stack of `usable` bytes. */
struct coro__debug_stacks {
    const void *const *slabs; /* the first mapped slab, or NULL */
    uint16_t slab_next;       /* struct coro__slab: the next mapped one */
    uint16_t slab_base;       /* char *: its mapping */
    uint16_t slab_class;      /* struct size_class * */
    uint16_t class_usable;    /* size_t */
    uint16_t class_slot_size; /* size_t */
    uint16_t class_slot_count; /* unsigned */
};

/* The root (coro.c): a coroutine's record ends at the top of its stack and
 * takes its record_bytes: coro_bytes (struct coro) + the context's size
 * rounded up to 16. */
struct coro__debug {
    uint32_t version;
    uint32_t coro_bytes;
    char registers[80]; /* CORO__DEBUG_REGISTERS */
    const struct coro__debug_stacks *stacks;
    const struct coro__debug_context *context;
    /* Offsets in the record; `status` is an enum coro_status (int), the
     * others are pointers or size_t. */
    uint16_t fn, arg, status, delegate, delegator, resumer, stack_lo, stack_size, context_at;
    /* coro_set_name()'s name: a NUL-terminated char array of name_max. */
    uint16_t name, name_max;
};

/*
 * tools/libcoro_gdb/layout.py reads these by byte offset (it has no debug
 * information to go by), on 64-bit targets: each offset it reads is pinned
 * here, and a change to any is a change of CORO__DEBUG_VERSION and of the
 * script.
 */
#if UINTPTR_MAX == UINT64_MAX
#include <stddef.h>
#define CORO__DEBUG_AT(type, field, at)                                        \
    _Static_assert(offsetof(struct type, field) == (at), "libcoro_gdb/layout.py reads " #field " there")
CORO__DEBUG_AT(coro__debug, version, 0);
CORO__DEBUG_AT(coro__debug, coro_bytes, 4);
CORO__DEBUG_AT(coro__debug, registers, 8);
CORO__DEBUG_AT(coro__debug, stacks, 88);
CORO__DEBUG_AT(coro__debug, context, 96);
CORO__DEBUG_AT(coro__debug, fn, 104);
CORO__DEBUG_AT(coro__debug, arg, 106);
CORO__DEBUG_AT(coro__debug, status, 108);
CORO__DEBUG_AT(coro__debug, delegate, 110);
CORO__DEBUG_AT(coro__debug, delegator, 112);
CORO__DEBUG_AT(coro__debug, resumer, 114);
CORO__DEBUG_AT(coro__debug, stack_lo, 116);
CORO__DEBUG_AT(coro__debug, stack_size, 118);
CORO__DEBUG_AT(coro__debug, context_at, 120);
CORO__DEBUG_AT(coro__debug, name, 122);
CORO__DEBUG_AT(coro__debug, name_max, 124);
_Static_assert(sizeof(struct coro__debug) <= 128, "libcoro_gdb/layout.py reads 128 bytes of it");
CORO__DEBUG_AT(coro__debug_stacks, slabs, 0);
CORO__DEBUG_AT(coro__debug_stacks, slab_next, 8);
CORO__DEBUG_AT(coro__debug_stacks, slab_base, 10);
CORO__DEBUG_AT(coro__debug_stacks, slab_class, 12);
CORO__DEBUG_AT(coro__debug_stacks, class_usable, 14);
CORO__DEBUG_AT(coro__debug_stacks, class_slot_size, 16);
CORO__DEBUG_AT(coro__debug_stacks, class_slot_count, 18);
_Static_assert(sizeof(struct coro__debug_stacks) <= 24, "libcoro_gdb/layout.py reads 24 bytes of it");
CORO__DEBUG_AT(coro__debug_context, size, 0);
CORO__DEBUG_AT(coro__debug_context, backend, 4);
CORO__DEBUG_AT(coro__debug_context, self, 16);
CORO__DEBUG_AT(coro__debug_context, resumer, 22);
CORO__DEBUG_AT(coro__debug_context, registers, 28);
CORO__DEBUG_AT(coro__debug_context, sp_adjust, 58);
CORO__DEBUG_AT(coro__debug_context, stub_return, 60);
_Static_assert(sizeof(struct coro__debug_context) <= 64, "libcoro_gdb/layout.py reads 64 bytes of it");
_Static_assert(sizeof(struct coro__debug_saved) == 6, "libcoro_gdb/layout.py reads three uint16_t");
#undef CORO__DEBUG_AT
#endif

extern const struct coro__debug_stacks coro__debug_stacks;
extern const struct coro__debug_context coro__debug_context;

#endif /* CORO_DEBUGGER_H */
