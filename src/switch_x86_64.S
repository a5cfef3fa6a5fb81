/*
 * The x86-64 System V context switch for the asm backend.
 *
 * void *coro__asm_switch(void **save, void *to, void *(*fn)(void *),
 *                        void *value)
 *   Pushes what the ABI calls callee-saved (rbx, rbp, r12-r15, the x87
 *   control word and MXCSR), stores the frame's record (switch_frame.h) in
 *   *save, moves to the frame whose record is `to`, pops the same set from
 *   there and jumps to the popped return address with value in rax: the
 *   pending switch there returns value. With fn not NULL, fn(value) is
 *   called first on the new stack, just below the saved frame, and its
 *   result is what gets returned.
 *   A jump rather than `ret`: the return-stack predictor expects this
 *   call's own caller, which a switch never returns to. When the switch is
 *   reached by tail calls only (coro_send(), coro_yield()), the popped
 *   address is the call site in user code, and no `ret` is out of step.
 *   Where IBT is on, the jump is `notrack`: a return address has no
 *   ENDBR64 (branch_protection.h).
 *
 * Unwind information: once the stack pointer has moved, the frame at it is
 * the other side's, of the same shape, so one description holds for the
 * whole switch: a walk from inside it (a signal handler, or an exception
 * raised by fn) goes on into the side switched to, where the pending
 * switch will return.
 *
 * The frame is switch_frame.h's: the pushes below make it, and the
 * assembler checks that the two agree. context_asm.c lays out the same
 * frame for a context's first switch.
 */
#include "branch_protection.h"
#include "root_cfi.h"
#include "switch_frame.h"

.if CORO__FRAME_SIZE != CORO__FRAME_PC + 8 || CORO__FRAME_RBP != CORO__FRAME_PC - 8 || CORO__FRAME_RBX != CORO__FRAME_RBP - 8 || CORO__FRAME_R12 != CORO__FRAME_RBX - 8 || CORO__FRAME_R13 != CORO__FRAME_R12 - 8 || CORO__FRAME_R14 != CORO__FRAME_R13 - 8 || CORO__FRAME_R15 != CORO__FRAME_R14 - 8 || CORO__FRAME_FP_STATE != 0 || CORO__FRAME_R15 != CORO__FRAME_FP_STATE_BYTES || CORO__FRAME_LINK != CORO__FRAME_RBP
    .error "the pushes of coro__asm_switch do not make switch_frame.h's frame"
.endif

/* Where a saved frame keeps each register, from the frame's CFA (the
 * stack pointer after the return). */
.macro frame_registers_cfi
    .cfi_offset rip, CORO__FRAME_PC - CORO__FRAME_SIZE
    .cfi_offset rbp, CORO__FRAME_RBP - CORO__FRAME_SIZE
    .cfi_offset rbx, CORO__FRAME_RBX - CORO__FRAME_SIZE
    .cfi_offset r12, CORO__FRAME_R12 - CORO__FRAME_SIZE
    .cfi_offset r13, CORO__FRAME_R13 - CORO__FRAME_SIZE
    .cfi_offset r14, CORO__FRAME_R14 - CORO__FRAME_SIZE
    .cfi_offset r15, CORO__FRAME_R15 - CORO__FRAME_SIZE
.endm

    .text

    .globl coro__asm_switch
    .hidden coro__asm_switch
    .type coro__asm_switch, @function
    .p2align 6 /* a cache line of its own: see CORO_HOT_ENTRY */
coro__asm_switch:
    .cfi_startproc
    CORO__PAD_CALL
    pushq %rbp
    .cfi_adjust_cfa_offset 8
    .cfi_offset rbp, -16
    pushq %rbx
    .cfi_adjust_cfa_offset 8
    .cfi_offset rbx, -24
    pushq %r12
    .cfi_adjust_cfa_offset 8
    .cfi_offset r12, -32
    pushq %r13
    .cfi_adjust_cfa_offset 8
    .cfi_offset r13, -40
    pushq %r14
    .cfi_adjust_cfa_offset 8
    .cfi_offset r14, -48
    pushq %r15
    .cfi_adjust_cfa_offset 8
    .cfi_offset r15, -56
    subq $CORO__FRAME_FP_STATE_BYTES, %rsp
    .cfi_adjust_cfa_offset CORO__FRAME_FP_STATE_BYTES
    stmxcsr CORO__FRAME_MXCSR(%rsp)
    fnstcw CORO__FRAME_X87_CW(%rsp)
    leaq CORO__FRAME_LINK(%rsp), %rax
    movq %rax, (%rdi)

    leaq -CORO__FRAME_LINK(%rsi), %rsp
/* The return address a coroutine's context gives for its resumer's frame
 * record (context_asm.c): the resumer waits in this switch. */
    .globl coro__asm_switch_resumed
    .hidden coro__asm_switch_resumed
coro__asm_switch_resumed:
.Lrestore:
    ldmxcsr CORO__FRAME_MXCSR(%rsp)
    fldcw CORO__FRAME_X87_CW(%rsp)
    movq %rcx, %rax
    testq %rdx, %rdx
    jnz .Lontop
.Lpop:
    .cfi_remember_state
    addq $CORO__FRAME_FP_STATE_BYTES, %rsp
    .cfi_adjust_cfa_offset -CORO__FRAME_FP_STATE_BYTES
    popq %r15
    .cfi_adjust_cfa_offset -8
    .cfi_restore r15
    popq %r14
    .cfi_adjust_cfa_offset -8
    .cfi_restore r14
    popq %r13
    .cfi_adjust_cfa_offset -8
    .cfi_restore r13
    popq %r12
    .cfi_adjust_cfa_offset -8
    .cfi_restore r12
    popq %rbx
    .cfi_adjust_cfa_offset -8
    .cfi_restore rbx
    popq %rbp
    .cfi_adjust_cfa_offset -8
    .cfi_restore rbp
    popq %rcx
    .cfi_adjust_cfa_offset -8
    .cfi_register rip, rcx
    CORO__UNTRACKED jmpq *%rcx
    .cfi_restore_state

/* rsp is 16-byte aligned here: fn starts with rsp % 16 == 8, as the ABI
 * wants. */
.Lontop:
    movq %rcx, %rdi
    callq *%rdx
    jmp .Lpop
    .cfi_endproc
    .size coro__asm_switch, .-coro__asm_switch

/* void coro__asm_jump(void *to, void *(*fn)(void *), void *value): the
 * second half alone, for a context that is left for good (nothing of it is
 * saved). */
    .globl coro__asm_jump
    .hidden coro__asm_jump
    .type coro__asm_jump, @function
    .p2align 4
coro__asm_jump:
    .cfi_startproc
    CORO__PAD_CALL
    movq %rdx, %rcx
    movq %rsi, %rdx
    leaq -CORO__FRAME_LINK(%rdi), %rsp
    .cfi_def_cfa_offset CORO__FRAME_SIZE
    frame_registers_cfi
    jmp .Lrestore
    .cfi_endproc
    .size coro__asm_jump, .-coro__asm_jump

/*
 * Where a new context's first switch lands, with a 16-byte aligned stack
 * whose lowest word is the context's address and rbp the context itself
 * (switch_frame.h): calls r13(r12, NULL), which never returns.
 *
 * Its caller, to an unwinder, is the resumer: the frame whose record the
 * context's first word holds (the terminal record while the coroutine is
 * not running): CFA = **rsp + SIZE - LINK, and the registers in that frame
 * as the switch saved them. A frame-pointer walk takes the same way through
 * rbp. An exception that reaches this frame is caught here
 * (unwind_root.c): the landing pad calls r13(r12, exception), on this stack.
 */
    .globl coro__asm_start
    .hidden coro__asm_start
    .type coro__asm_start, @function
    .p2align 4
coro__asm_start:
    .cfi_startproc
    .cfi_personality 0x1b, coro__unwind_personality /* pc-relative, 4 bytes */
    .cfi_lsda 0x1b, coro__asm_start_caught /* the landing pad: see unwind_root.c */
    /* DW_CFA_def_cfa_expression: DW_OP_breg7 (rsp) 0, DW_OP_deref,
     * DW_OP_deref, DW_OP_plus_uconst SIZE - LINK (ULEB128, 2 bytes). */
    .cfi_escape 0x0f, 7, 0x77, 0, 0x06, 0x06, 0x23, ((CORO__FRAME_SIZE - CORO__FRAME_LINK) & 0x7f) | 0x80, (CORO__FRAME_SIZE - CORO__FRAME_LINK) >> 7
    frame_registers_cfi
    /* What the ABI lets a call clobber is not the resumer's any more. */
    .irp r, rax, rdx, rcx, rsi, rdi, r8, r9, r10, r11
    .cfi_undefined \r
    .endr
    /* The resumer's return address less one (root_cfi.h). */
    coro_asm_root_return_address 16, 0x77, CORO__FRAME_PC, CORO__FRAME_LINK
    CORO__PAD_JUMP /* the switch jumps here */
    movq %r12, %rdi
    xorl %esi, %esi
    callq *%r13
    ud2
    .globl coro__asm_start_caught
    .hidden coro__asm_start_caught
coro__asm_start_caught:
    CORO__PAD_JUMP
    movq %r12, %rdi
    movq %rax, %rsi
    callq *%r13
    ud2
    .cfi_endproc
    .size coro__asm_start, .-coro__asm_start

    coro_property_note
    .section .note.GNU-stack,"",@progbits
