/*
 * The ucontext backend's root frame on RISC-V 64 (glibc): makecontext()
 * starts each coroutine here, and its unwind rules name the resumer as its
 * caller, as coro__asm_start's do for the asm backend.
 *
 * void coro__ucontext_root(int hi, int lo)
 *   Keeps the context's address (the two halves makecontext() passed) in
 *   its frame's lowest word and calls coro__ucontext_start(ctx, NULL),
 *   which never returns. The context's first word points at the resumer's
 *   side, whose ucontext_t (at its start) holds what swapcontext() saved:
 *   the CFA is its saved sp, and the registers are in it
 *   (ucontext_root.h). The frame pointer points at the context's frame
 *   record, a copy of the resume's: a frame-pointer walk goes on into the
 *   resumer's frames too.
 *   An exception that reaches this frame is caught here (unwind_root.c):
 *   the landing pad calls coro__ucontext_start(ctx, exception), on this
 *   stack.
 */
#include "root_cfi.h"
#include "ucontext_root.h"

/* DW_OP_breg2 (sp) 0, DW_OP_deref (the context), DW_OP_deref (the
 * resumer's side), DW_OP_plus_uconst at (ULEB128, 2 bytes): the address of
 * a register saved in the resumer's ucontext_t. */
#define SAVED_AT(at) 0x72, 0, 0x06, 0x06, 0x23, ((at) & 0x7f) | 0x80, (at) >> 7
#define GREG(n) (CORO__UC_GREGS + 8 * (n))

    .text
    .globl coro__ucontext_root
    .hidden coro__ucontext_root
    .type coro__ucontext_root, @function
    .p2align 4
coro__ucontext_root:
    .cfi_startproc
    .cfi_personality 0x1b, coro__unwind_personality /* pc-relative, 4 bytes */
    .cfi_lsda 0x1b, coro__ucontext_root_caught /* the landing pad */
    .cfi_undefined ra /* until the context is in place */
    addi sp, sp, -16
    slli a0, a0, 32
    slli a1, a1, 32 /* an int comes sign-extended: keep its 32 bits */
    srli a1, a1, 32
    or a0, a0, a1
    sd a0, 0(sp)
    addi s0, a0, CORO__UC_FRAME_RECORD + 16 /* just above the context's frame record */
    /* DW_CFA_def_cfa_expression: the saved sp. DW_CFA_expression for the
     * others, s0-s1 (DWARF 8-9) and s2-s11 (18-27). */
    .cfi_escape 0x0f, 8, SAVED_AT(CORO__UC_SP), 0x06
    /* The return address less one, as a signal frame's caller
     * (root_cfi.h): DW_CFA_val_expression. */
    .cfi_escape 0x16, 1, 8 + CORO__RA_BEFORE_CALL_BYTES, SAVED_AT(CORO__UC_RA), 0x06, CORO__RA_BEFORE_CALL
    .cfi_signal_frame
    .cfi_escape 0x10, 8, 7, SAVED_AT(GREG(8))
    .cfi_escape 0x10, 9, 7, SAVED_AT(GREG(9))
    .cfi_escape 0x10, 18, 7, SAVED_AT(GREG(18))
    .cfi_escape 0x10, 19, 7, SAVED_AT(GREG(19))
    .cfi_escape 0x10, 20, 7, SAVED_AT(GREG(20))
    .cfi_escape 0x10, 21, 7, SAVED_AT(GREG(21))
    .cfi_escape 0x10, 22, 7, SAVED_AT(GREG(22))
    .cfi_escape 0x10, 23, 7, SAVED_AT(GREG(23))
    .cfi_escape 0x10, 24, 7, SAVED_AT(GREG(24))
    .cfi_escape 0x10, 25, 7, SAVED_AT(GREG(25))
    .cfi_escape 0x10, 26, 7, SAVED_AT(GREG(26))
    .cfi_escape 0x10, 27, 7, SAVED_AT(GREG(27))
    /* What the ABI lets a call clobber is not the resumer's any more. */
    .irp r, t0, t1, t2, a0, a1, a2, a3, a4, a5, a6, a7, t3, t4, t5, t6
    .cfi_undefined \r
    .endr
    li a1, 0
    call coro__ucontext_start
    unimp
    .globl coro__ucontext_root_caught
    .hidden coro__ucontext_root_caught
coro__ucontext_root_caught:
    mv a1, a0
    ld a0, 0(sp)
    call coro__ucontext_start
    unimp
    .cfi_endproc
    .size coro__ucontext_root, .-coro__ucontext_root

    .section .note.GNU-stack,"",@progbits
