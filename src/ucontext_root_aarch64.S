/*
 * The ucontext backend's root frame on AArch64 (glibc): makecontext()
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
#include "branch_protection.h"
#include "root_cfi.h"
#include "ucontext_root.h"

/* DW_OP_breg31 (sp) 0, DW_OP_deref (the context), DW_OP_deref (the
 * resumer's side), DW_OP_plus_uconst at (ULEB128, 2 bytes): the address of
 * a register saved in the resumer's ucontext_t. */
#define SAVED_AT(at) 0x8f, 0, 0x06, 0x06, 0x23, ((at) & 0x7f) | 0x80, (at) >> 7
#define X(n) (CORO__UC_X0 + 8 * (n))

    .text
    .globl coro__ucontext_root
    .hidden coro__ucontext_root
    .type coro__ucontext_root, %function
    .p2align 4
coro__ucontext_root:
    .cfi_startproc
    CORO__PAD_CALL /* setcontext() jumps here */
    .cfi_personality 0x1b, coro__unwind_personality /* pc-relative, 4 bytes */
    .cfi_lsda 0x1b, coro__ucontext_root_caught /* the landing pad */
    .cfi_undefined x30 /* until the context is in place */
    sub sp, sp, #16
    mov w1, w1 /* an int's upper half is not defined */
    orr x0, x1, x0, lsl #32
    str x0, [sp]
    add x29, x0, #CORO__UC_FRAME_RECORD /* the context's frame record */
    /* DW_CFA_def_cfa_expression: the saved sp. DW_CFA_expression for the
     * others, x19-x29. */
    .cfi_escape 0x0f, 8, SAVED_AT(CORO__UC_SP), 0x06
    /* The return address less one, as a signal frame's caller
     * (root_cfi.h): DW_CFA_val_expression. */
    .cfi_escape 0x16, 30, 8 + CORO__RA_BEFORE_CALL_BYTES, SAVED_AT(CORO__UC_RA), 0x06, CORO__RA_BEFORE_CALL
    .cfi_signal_frame
    .cfi_escape 0x10, 29, 7, SAVED_AT(X(29))
    .cfi_escape 0x10, 19, 7, SAVED_AT(X(19))
    .cfi_escape 0x10, 20, 7, SAVED_AT(X(20))
    .cfi_escape 0x10, 21, 7, SAVED_AT(X(21))
    .cfi_escape 0x10, 22, 7, SAVED_AT(X(22))
    .cfi_escape 0x10, 23, 7, SAVED_AT(X(23))
    .cfi_escape 0x10, 24, 7, SAVED_AT(X(24))
    .cfi_escape 0x10, 25, 7, SAVED_AT(X(25))
    .cfi_escape 0x10, 26, 7, SAVED_AT(X(26))
    .cfi_escape 0x10, 27, 7, SAVED_AT(X(27))
    .cfi_escape 0x10, 28, 7, SAVED_AT(X(28))
    /* What the ABI lets a call clobber is not the resumer's any more. */
    .irp r, x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14, x15, x16, x17
    .cfi_undefined \r
    .endr
    mov x1, xzr
    bl coro__ucontext_start
    brk #0
    .globl coro__ucontext_root_caught
    .hidden coro__ucontext_root_caught
coro__ucontext_root_caught:
    CORO__PAD_JUMP
    mov x1, x0
    ldr x0, [sp]
    bl coro__ucontext_start
    brk #0
    .cfi_endproc
    .size coro__ucontext_root, .-coro__ucontext_root

    coro_property_note CORO__PROPERTY_BITS_UCONTEXT
    .section .note.GNU-stack,"",%progbits
