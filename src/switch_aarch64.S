/*
 * The AArch64 (AAPCS64) context switch for the asm backend.
 *
 * void *coro__asm_switch(void **save, void *to, void *(*fn)(void *),
 *                        void *value)
 *   Stores what the ABI calls callee-saved (x19-x28, the frame pointer x29,
 *   the link register x30, d8-d15, and FPCR) below the stack pointer,
 *   stores the frame's record (switch_frame.h) in *save, moves to the frame
 *   whose record is `to`, loads the same set from there and branches to
 *   the loaded x30 with value in x0 (a `br`, not `ret`: the return
 *   predictor expects this call's own caller; but a `ret` where BTI is on,
 *   see branch_protection.h). With fn not NULL, fn(value) is called first
 *   on the new stack, below the saved frame, and its result is what the
 *   pending switch there returns.
 *   Where the build signs return addresses (PAC), x30 is signed with the
 *   stack pointer at entry, which is where the stack pointer is again when
 *   the frame is loaded: a side's saved return address is checked when
 *   that side is switched to, and one overwritten in its frame faults.
 *
 * Unwind information: once the stack pointer has moved, the frame at it is
 * the other side's, of the same shape, so one description holds for the
 * whole switch: a walk from inside it (a signal handler, or an exception
 * raised by fn) goes on into the side switched to, where the pending
 * switch will return.
 *
 * The frame at a saved stack pointer is switch_frame.h's; the assembler
 * checks that each pair below is stored as it says. context_asm.c lays out
 * the same frame for a context's first switch.
 */
#include "branch_protection.h"
#include "root_cfi.h"
#include "switch_frame.h"

.if CORO__FRAME_X20 != CORO__FRAME_X19 + 8 || CORO__FRAME_X22 != CORO__FRAME_X21 + 8 || CORO__FRAME_X24 != CORO__FRAME_X23 + 8 || CORO__FRAME_X26 != CORO__FRAME_X25 + 8 || CORO__FRAME_X28 != CORO__FRAME_X27 + 8 || CORO__FRAME_X30 != CORO__FRAME_X29 + 8 || CORO__FRAME_SIZE % 16 != 0 || CORO__FRAME_LINK != CORO__FRAME_X29
    .error "switch_frame.h's frame is not the pairs coro__asm_switch stores"
.endif

/* Where a saved frame keeps each register, from the frame's CFA (the
 * stack pointer after the return); d8-d15 are DWARF registers 72-79. */
.macro frame_registers_cfi_offsets
    .cfi_offset x29, CORO__FRAME_X29 - CORO__FRAME_SIZE
    .cfi_offset x30, CORO__FRAME_X30 - CORO__FRAME_SIZE
    .cfi_offset x19, CORO__FRAME_X19 - CORO__FRAME_SIZE
    .cfi_offset x20, CORO__FRAME_X20 - CORO__FRAME_SIZE
    .cfi_offset x21, CORO__FRAME_X21 - CORO__FRAME_SIZE
    .cfi_offset x22, CORO__FRAME_X22 - CORO__FRAME_SIZE
    .cfi_offset x23, CORO__FRAME_X23 - CORO__FRAME_SIZE
    .cfi_offset x24, CORO__FRAME_X24 - CORO__FRAME_SIZE
    .cfi_offset x25, CORO__FRAME_X25 - CORO__FRAME_SIZE
    .cfi_offset x26, CORO__FRAME_X26 - CORO__FRAME_SIZE
    .cfi_offset x27, CORO__FRAME_X27 - CORO__FRAME_SIZE
    .cfi_offset x28, CORO__FRAME_X28 - CORO__FRAME_SIZE
    .cfi_offset 72, CORO__FRAME_D8 - CORO__FRAME_SIZE
    .cfi_offset 73, CORO__FRAME_D8 + 8 - CORO__FRAME_SIZE
    .cfi_offset 74, CORO__FRAME_D10 - CORO__FRAME_SIZE
    .cfi_offset 75, CORO__FRAME_D10 + 8 - CORO__FRAME_SIZE
    .cfi_offset 76, CORO__FRAME_D12 - CORO__FRAME_SIZE
    .cfi_offset 77, CORO__FRAME_D12 + 8 - CORO__FRAME_SIZE
    .cfi_offset 78, CORO__FRAME_D14 - CORO__FRAME_SIZE
    .cfi_offset 79, CORO__FRAME_D14 + 8 - CORO__FRAME_SIZE
.endm

/* The same, from a state where the return address was not signed: in the
 * frame it is, where the build signs. */
.macro frame_registers_cfi
.if CORO__PAC
    .cfi_negate_ra_state
.endif
    frame_registers_cfi_offsets
.endm

    .text

    .globl coro__asm_switch
    .hidden coro__asm_switch
    .type coro__asm_switch, %function
    .p2align 6 /* a cache line of its own: see CORO_HOT_ENTRY */
coro__asm_switch:
    .cfi_startproc
    CORO__PAC_KEY_CFI
    CORO__SIGN_RA /* a landing pad too, where it signs */
.if CORO__PAC
    .cfi_negate_ra_state
.else
    CORO__PAD_CALL
.endif
    sub sp, sp, #CORO__FRAME_SIZE
    .cfi_def_cfa_offset CORO__FRAME_SIZE
    stp x29, x30, [sp, #CORO__FRAME_X29]
    stp x19, x20, [sp, #CORO__FRAME_X19]
    stp x21, x22, [sp, #CORO__FRAME_X21]
    stp x23, x24, [sp, #CORO__FRAME_X23]
    stp x25, x26, [sp, #CORO__FRAME_X25]
    stp x27, x28, [sp, #CORO__FRAME_X27]
    stp d8, d9, [sp, #CORO__FRAME_D8]
    stp d10, d11, [sp, #CORO__FRAME_D10]
    stp d12, d13, [sp, #CORO__FRAME_D12]
    stp d14, d15, [sp, #CORO__FRAME_D14]
    frame_registers_cfi_offsets
    mrs x9, fpcr
    str x9, [sp, #CORO__FRAME_FPCR]
    add x9, sp, #CORO__FRAME_LINK
    str x9, [x0]

    sub sp, x1, #CORO__FRAME_LINK
/* The return address a coroutine's context gives for its resumer's frame
 * record (context_asm.c): the resumer waits in this switch. */
    .globl coro__asm_switch_resumed
    .hidden coro__asm_switch_resumed
coro__asm_switch_resumed:
.Lrestore:
    ldr x9, [sp, #CORO__FRAME_FPCR]
    msr fpcr, x9
    mov x0, x3
    cbnz x2, .Lontop
.Lload:
    .cfi_remember_state
    ldp x19, x20, [sp, #CORO__FRAME_X19]
    ldp x21, x22, [sp, #CORO__FRAME_X21]
    ldp x23, x24, [sp, #CORO__FRAME_X23]
    ldp x25, x26, [sp, #CORO__FRAME_X25]
    ldp x27, x28, [sp, #CORO__FRAME_X27]
    ldp d8, d9, [sp, #CORO__FRAME_D8]
    ldp d10, d11, [sp, #CORO__FRAME_D10]
    ldp d12, d13, [sp, #CORO__FRAME_D12]
    ldp d14, d15, [sp, #CORO__FRAME_D14]
    ldp x29, x30, [sp, #CORO__FRAME_X29]
    add sp, sp, #CORO__FRAME_SIZE
    .cfi_def_cfa_offset 0
    .cfi_restore x29
    .cfi_restore x30
    CORO__AUTH_RA
.if CORO__PAC
    .cfi_negate_ra_state
.endif
.if CORO__BTI
    ret
.else
    br x30
.endif
    .cfi_restore_state

/* sp is 16-byte aligned, as always; x30 is loaded after the call. */
.Lontop:
    blr x2
    b .Lload
    .cfi_endproc
    .size coro__asm_switch, .-coro__asm_switch

/* void coro__asm_jump(void *to, void *(*fn)(void *), void *value): the
 * second half alone, for a context that is left for good (nothing of it is
 * saved). */
    .globl coro__asm_jump
    .hidden coro__asm_jump
    .type coro__asm_jump, %function
    .p2align 4
coro__asm_jump:
    .cfi_startproc
    CORO__PAC_KEY_CFI
    CORO__PAD_CALL
    mov x3, x2
    mov x2, x1
    sub sp, x0, #CORO__FRAME_LINK
    .cfi_def_cfa_offset CORO__FRAME_SIZE
    frame_registers_cfi
    b .Lrestore
    .cfi_endproc
    .size coro__asm_jump, .-coro__asm_jump

/*
 * Where a new context's first switch lands, with sp 16 bytes below the
 * stack's top, where the context's address is, and x29 the context itself
 * (switch_frame.h): calls x20(x19, NULL), which never returns.
 *
 * Its caller, to an unwinder, is the resumer: the frame whose record the
 * context's first word holds (the terminal record while the coroutine is
 * not running): CFA = **sp + SIZE - LINK, and the registers in that frame
 * as the switch saved them. A frame-pointer walk takes the same way through
 * x29. An exception that reaches this frame is caught here
 * (unwind_root.c): the landing pad calls x20(x19, exception), on this
 * stack.
 */
    .globl coro__asm_start
    .hidden coro__asm_start
    .type coro__asm_start, %function
    .p2align 4
coro__asm_start:
    .cfi_startproc
    CORO__PAC_KEY_CFI
    .cfi_personality 0x1b, coro__unwind_personality /* pc-relative, 4 bytes */
    .cfi_lsda 0x1b, coro__asm_start_caught /* the landing pad: see unwind_root.c */
    /* DW_CFA_def_cfa_expression: DW_OP_breg31 (sp) 0, DW_OP_deref,
     * DW_OP_deref, DW_OP_plus_uconst SIZE - LINK (ULEB128, 2 bytes). */
    .cfi_escape 0x0f, 7, 0x8f, 0, 0x06, 0x06, 0x23, ((CORO__FRAME_SIZE - CORO__FRAME_LINK) & 0x7f) | 0x80, (CORO__FRAME_SIZE - CORO__FRAME_LINK) >> 7
    frame_registers_cfi
    /* What the ABI lets a call clobber is not the resumer's any more. */
    .irp r, x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14, x15, x16, x17
    .cfi_undefined \r
    .endr
    /* The resumer's return address less one (root_cfi.h), where it is not
     * signed. */
.if !CORO__PAC
    coro_asm_root_return_address 30, 0x8f, CORO__FRAME_PC, CORO__FRAME_LINK
.endif
    /* The switch returns here (a `ret` where BTI is on, which needs no
     * landing pad): one all the same, as for any code address C holds. */
    CORO__PAD_JUMP
    mov x0, x19
    mov x1, xzr
    blr x20
    brk #0
    .globl coro__asm_start_caught
    .hidden coro__asm_start_caught
coro__asm_start_caught:
    CORO__PAD_JUMP
    mov x1, x0
    mov x0, x19
    blr x20
    brk #0
    .cfi_endproc
    .size coro__asm_start, .-coro__asm_start

    coro_property_note
    .section .note.GNU-stack,"",%progbits
