/*
 * The ucontext backend's root frame on x86-64 (glibc): makecontext() starts
 * each coroutine here, and its unwind rules name the resumer as its
 * caller, as coro__asm_start's do for the asm backend.
 *
 * void coro__ucontext_root(int hi, int lo)
 *   Keeps the context's address (the two halves makecontext() passed) in
 *   its frame's lowest word and calls coro__ucontext_start(ctx, NULL),
 *   which never returns. The context's first word points at the resumer's
 *   side, whose ucontext_t (at its start) holds what swapcontext() saved:
 *   the CFA is its saved rsp, and the registers are in it
 *   (ucontext_root.h). The frame pointer points at the context's frame
 *   record, a copy of the resume's: a frame-pointer walk goes on into the
 *   resumer's frames too.
 *   An exception that reaches this frame is caught here
 *   (unwind_root.c): the landing pad calls coro__ucontext_start(ctx,
 *   exception), on this stack.
 */
#include "branch_protection.h"
#include "root_cfi.h"
#include "ucontext_root.h"

/* DW_OP_breg7 (rsp) 0, DW_OP_deref (the context), DW_OP_deref (the
 * resumer's side), DW_OP_plus_uconst at (ULEB128, 2 bytes): the address of
 * a register saved in the resumer's ucontext_t. */
#define SAVED_AT(at) 0x77, 0, 0x06, 0x06, 0x23, ((at) & 0x7f) | 0x80, (at) >> 7

    .text
    .globl coro__ucontext_root
    .hidden coro__ucontext_root
    .type coro__ucontext_root, @function
    .p2align 4
coro__ucontext_root:
    .cfi_startproc
    CORO__PAD_CALL /* setcontext() jumps here */
    .cfi_personality 0x1b, coro__unwind_personality /* pc-relative, 4 bytes */
    .cfi_lsda 0x1b, coro__ucontext_root_caught /* the landing pad */
    .cfi_undefined rip /* until the context is in place */
    subq $8, %rsp /* rsp % 16 == 0: what it calls starts as the ABI wants */
    shlq $32, %rdi
    movl %esi, %esi
    orq %rsi, %rdi
    movq %rdi, (%rsp)
    leaq CORO__UC_FRAME_RECORD(%rdi), %rbp /* the context's frame record */
    /* DW_CFA_def_cfa_expression: the saved rsp. DW_CFA_expression for the
     * others (DWARF numbers: rbp 6, rbx 3, r12-r15 12-15). */
    .cfi_escape 0x0f, 8, SAVED_AT(CORO__UC_SP), 0x06
    /* The return address less one, as a signal frame's caller
     * (root_cfi.h): DW_CFA_val_expression. */
    .cfi_escape 0x16, 16, 8 + CORO__RA_BEFORE_CALL_BYTES, SAVED_AT(CORO__UC_RA), 0x06, CORO__RA_BEFORE_CALL
    .cfi_signal_frame
    .cfi_escape 0x10, 6, 7, SAVED_AT(CORO__UC_RBP)
    .cfi_escape 0x10, 3, 7, SAVED_AT(CORO__UC_RBX)
    .cfi_escape 0x10, 12, 7, SAVED_AT(CORO__UC_R12)
    .cfi_escape 0x10, 13, 7, SAVED_AT(CORO__UC_R13)
    .cfi_escape 0x10, 14, 7, SAVED_AT(CORO__UC_R14)
    .cfi_escape 0x10, 15, 7, SAVED_AT(CORO__UC_R15)
    /* What the ABI lets a call clobber is not the resumer's any more. */
    .irp r, rax, rdx, rcx, rsi, rdi, r8, r9, r10, r11
    .cfi_undefined \r
    .endr
    xorl %esi, %esi
    call coro__ucontext_start
    ud2
    .globl coro__ucontext_root_caught
    .hidden coro__ucontext_root_caught
coro__ucontext_root_caught:
    CORO__PAD_JUMP
    movq (%rsp), %rdi
    movq %rax, %rsi
    call coro__ucontext_start
    ud2
    .cfi_endproc
    .size coro__ucontext_root, .-coro__ucontext_root

    coro_property_note CORO__PROPERTY_BITS_UCONTEXT
    .section .note.GNU-stack,"",@progbits
