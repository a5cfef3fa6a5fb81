/*
 * The AArch64 (AAPCS64) context switch for the asm backend.
 *
 * void *coro__asm_switch(void **save_sp, void **to_sp, void *(*fn)(void *),
 *                        void *value)
 *   Stores what the ABI calls callee-saved (x19-x28, the frame pointer x29,
 *   the link register x30, d8-d15, and FPCR) below the stack pointer, stores
 *   the stack pointer in *save_sp, takes *to_sp, loads the same set from
 *   there and branches to the loaded x30 with value in x0 (a `br`, not
 *   `ret`: the return predictor expects this call's own caller). With fn
 *   not NULL, fn(value) is called first on the new stack, below the saved
 *   frame, and its result is what the pending switch there returns.
 *
 * The frame at a saved stack pointer is switch_frame.h's; the assembler
 * checks that each pair below is stored as it says. context_asm.c lays out
 * the same frame for a context's first switch.
 */
#include "switch_frame.h"

.if CORO__FRAME_X20 != CORO__FRAME_X19 + 8 || CORO__FRAME_X22 != CORO__FRAME_X21 + 8 || CORO__FRAME_X24 != CORO__FRAME_X23 + 8 || CORO__FRAME_X26 != CORO__FRAME_X25 + 8 || CORO__FRAME_X28 != CORO__FRAME_X27 + 8 || CORO__FRAME_X30 != CORO__FRAME_X29 + 8 || CORO__FRAME_SIZE % 16 != 0
    .error "switch_frame.h's frame is not the pairs coro__asm_switch stores"
.endif

    .text

    .globl coro__asm_switch
    .hidden coro__asm_switch
    .type coro__asm_switch, %function
    .p2align 6 /* a cache line of its own: see CORO_HOT_ENTRY */
coro__asm_switch:
    sub sp, sp, #CORO__FRAME_SIZE
    stp x19, x20, [sp, #CORO__FRAME_X19]
    stp x21, x22, [sp, #CORO__FRAME_X21]
    stp x23, x24, [sp, #CORO__FRAME_X23]
    stp x25, x26, [sp, #CORO__FRAME_X25]
    stp x27, x28, [sp, #CORO__FRAME_X27]
    stp x29, x30, [sp, #CORO__FRAME_X29]
    stp d8, d9, [sp, #CORO__FRAME_D8]
    stp d10, d11, [sp, #CORO__FRAME_D10]
    stp d12, d13, [sp, #CORO__FRAME_D12]
    stp d14, d15, [sp, #CORO__FRAME_D14]
    mrs x9, fpcr
    str x9, [sp, #CORO__FRAME_FPCR]
    mov x9, sp
    str x9, [x0]

    ldr x9, [x1]
    mov sp, x9
.Lrestore:
    ldr x9, [sp, #CORO__FRAME_FPCR]
    msr fpcr, x9
    mov x0, x3
    cbnz x2, .Lontop
.Lload:
    ldp x19, x20, [sp, #CORO__FRAME_X19]
    ldp x21, x22, [sp, #CORO__FRAME_X21]
    ldp x23, x24, [sp, #CORO__FRAME_X23]
    ldp x25, x26, [sp, #CORO__FRAME_X25]
    ldp x27, x28, [sp, #CORO__FRAME_X27]
    ldp x29, x30, [sp, #CORO__FRAME_X29]
    ldp d8, d9, [sp, #CORO__FRAME_D8]
    ldp d10, d11, [sp, #CORO__FRAME_D10]
    ldp d12, d13, [sp, #CORO__FRAME_D12]
    ldp d14, d15, [sp, #CORO__FRAME_D14]
    add sp, sp, #CORO__FRAME_SIZE
    br x30

/* sp is 16-byte aligned, as always; x30 is loaded after the call. */
.Lontop:
    blr x2
    b .Lload
    .size coro__asm_switch, .-coro__asm_switch

/* void coro__asm_jump(void **to_sp, void *value): the second half alone,
 * for a context that is left for good (nothing of it is saved). */
    .globl coro__asm_jump
    .hidden coro__asm_jump
    .type coro__asm_jump, %function
    .p2align 4
coro__asm_jump:
    mov x3, x1
    mov x2, xzr
    ldr x9, [x0]
    mov sp, x9
    b .Lrestore
    .size coro__asm_jump, .-coro__asm_jump

/* Where a new context's first switch lands: calls x20(x19), which never
 * returns. */
    .globl coro__asm_start
    .hidden coro__asm_start
    .type coro__asm_start, %function
    .p2align 4
coro__asm_start:
    .cfi_startproc
    .cfi_undefined x30 /* the outermost frame: debuggers stop unwinding here */
    mov x0, x19
    blr x20
    brk #0
    .cfi_endproc
    .size coro__asm_start, .-coro__asm_start

    .section .note.GNU-stack,"",%progbits
