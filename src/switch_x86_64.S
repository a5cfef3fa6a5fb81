/*
 * The x86-64 System V context switch for the asm backend.
 *
 * void *coro__asm_switch(void **save_sp, void **to_sp, void *(*fn)(void *),
 *                        void *value)
 *   Pushes what the ABI calls callee-saved (rbx, rbp, r12-r15, the x87
 *   control word and MXCSR), stores the stack pointer in *save_sp, takes
 *   *to_sp, pops the same set from there and jumps to the popped return
 *   address with value in rax: the pending switch there returns value.
 *   With fn not NULL, fn(value) is called first on the new stack, just
 *   below the saved frame, and its result is what gets returned.
 *   A jump rather than `ret`: the return-stack predictor expects this
 *   call's own caller, which a switch never returns to. When the switch is
 *   reached by tail calls only (coro_send(), coro_yield()), the popped
 *   address is the call site in user code, and no `ret` is out of step.
 *
 * The frame at a saved stack pointer is switch_frame.h's: the pushes below
 * make it, and the assembler checks that the two agree. context_asm.c lays
 * out the same frame for a context's first switch.
 */
#include "switch_frame.h"

.if CORO__FRAME_SIZE != CORO__FRAME_PC + 8 || CORO__FRAME_RBP != CORO__FRAME_PC - 8 || CORO__FRAME_RBX != CORO__FRAME_RBP - 8 || CORO__FRAME_R12 != CORO__FRAME_RBX - 8 || CORO__FRAME_R13 != CORO__FRAME_R12 - 8 || CORO__FRAME_R14 != CORO__FRAME_R13 - 8 || CORO__FRAME_R15 != CORO__FRAME_R14 - 8 || CORO__FRAME_FP_STATE != 0 || CORO__FRAME_R15 != CORO__FRAME_FP_STATE_BYTES
    .error "the pushes of coro__asm_switch do not make switch_frame.h's frame"
.endif

    .text

    .globl coro__asm_switch
    .hidden coro__asm_switch
    .type coro__asm_switch, @function
    .p2align 6 /* a cache line of its own: see CORO_HOT_ENTRY */
coro__asm_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq $CORO__FRAME_FP_STATE_BYTES, %rsp
    stmxcsr CORO__FRAME_MXCSR(%rsp)
    fnstcw CORO__FRAME_X87_CW(%rsp)
    movq %rsp, (%rdi)

    movq (%rsi), %rsp
.Lrestore:
    ldmxcsr CORO__FRAME_MXCSR(%rsp)
    fldcw CORO__FRAME_X87_CW(%rsp)
    movq %rcx, %rax
    testq %rdx, %rdx
    jnz .Lontop
.Lpop:
    addq $CORO__FRAME_FP_STATE_BYTES, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    popq %rcx
    jmpq *%rcx

/* rsp is 16-byte aligned here: fn starts with rsp % 16 == 8, as the ABI
 * wants. */
.Lontop:
    movq %rcx, %rdi
    callq *%rdx
    jmp .Lpop
    .size coro__asm_switch, .-coro__asm_switch

/* void coro__asm_jump(void **to_sp, void *value): the second half alone,
 * for a context that is left for good (nothing of it is saved). */
    .globl coro__asm_jump
    .hidden coro__asm_jump
    .type coro__asm_jump, @function
    .p2align 4
coro__asm_jump:
    movq %rsi, %rcx
    xorl %edx, %edx
    movq (%rdi), %rsp
    jmp .Lrestore
    .size coro__asm_jump, .-coro__asm_jump

/* Where a new context's first switch lands, with a 16-byte aligned stack:
 * calls r13(r12), which never returns. */
    .globl coro__asm_start
    .hidden coro__asm_start
    .type coro__asm_start, @function
    .p2align 4
coro__asm_start:
    .cfi_startproc
    .cfi_undefined rip /* the outermost frame: debuggers stop unwinding here */
    movq %r12, %rdi
    callq *%r13
    ud2
    .cfi_endproc
    .size coro__asm_start, .-coro__asm_start

    .section .note.GNU-stack,"",@progbits
