/*
 * The Microsoft x64 context switch for the asm backend on Windows.
 *
 * void *coro__asm_switch(void **save, void *to, void *(*fn)(void *),
 *                        void *value)
 *   As switch_x86_64.S does for System V, with what this convention calls
 *   nonvolatile: rbx, rbp, rdi, rsi, r12-r15, xmm6-xmm15, MXCSR and the x87
 *   control word; and with the thread information block's stack fields,
 *   which belong to the stack that runs: Windows grows a stack, checks the
 *   frames it unwinds and raises a stack overflow by them. The frame is
 *   switch_frame.h's; context_asm.c lays out a context's first one.
 *   Arguments come in rcx, rdx, r8 and r9. A call to fn gets the 32 bytes
 *   of shadow space the convention gives every callee.
 *
 * Unwind data for coro__asm_start, the coroutine's root, whose caller's
 * return address is 0: Windows' unwinder ends a walk there (C++
 * exceptions do not leave a coroutine on Windows: see the README); and for
 * the call of fn on arrival, which goes on into the side switched to.
 */
#include "switch_frame.h"

.if CORO__FRAME_SIZE != CORO__FRAME_PC + 8 || CORO__FRAME_RBP != CORO__FRAME_PC - 8 || CORO__FRAME_RBX != CORO__FRAME_RBP - 8 || CORO__FRAME_RDI != CORO__FRAME_RBX - 8 || CORO__FRAME_RSI != CORO__FRAME_RDI - 8 || CORO__FRAME_R12 != CORO__FRAME_RSI - 8 || CORO__FRAME_R13 != CORO__FRAME_R12 - 8 || CORO__FRAME_R14 != CORO__FRAME_R13 - 8 || CORO__FRAME_R15 != CORO__FRAME_R14 - 8 || CORO__FRAME_R15 != CORO__FRAME_SAVED_BELOW_PUSHES || CORO__FRAME_XMM6 != 0 || CORO__FRAME_SAVED_BELOW_PUSHES % 16 != 8
    .error "the pushes of coro__asm_switch do not make switch_frame.h's frame"
.endif

    .text
    .globl coro__asm_switch
    .def coro__asm_switch; .scl 2; .type 32; .endef
    .p2align 6 /* a cache line of its own: see CORO_HOT_ENTRY */
coro__asm_switch:
    pushq %rbp
    pushq %rbx
    pushq %rdi
    pushq %rsi
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq $CORO__FRAME_SAVED_BELOW_PUSHES, %rsp
    /* rsp is 16-byte aligned here: the call left it at 8 mod 16. */
    movaps %xmm6, CORO__FRAME_XMM6 + 0(%rsp)
    movaps %xmm7, CORO__FRAME_XMM6 + 16(%rsp)
    movaps %xmm8, CORO__FRAME_XMM6 + 32(%rsp)
    movaps %xmm9, CORO__FRAME_XMM6 + 48(%rsp)
    movaps %xmm10, CORO__FRAME_XMM6 + 64(%rsp)
    movaps %xmm11, CORO__FRAME_XMM6 + 80(%rsp)
    movaps %xmm12, CORO__FRAME_XMM6 + 96(%rsp)
    movaps %xmm13, CORO__FRAME_XMM6 + 112(%rsp)
    movaps %xmm14, CORO__FRAME_XMM6 + 128(%rsp)
    movaps %xmm15, CORO__FRAME_XMM6 + 144(%rsp)
    stmxcsr CORO__FRAME_MXCSR(%rsp)
    fnstcw CORO__FRAME_X87_CW(%rsp)
    movq %gs:CORO__TEB_DEALLOCATION_STACK, %rax
    movq %rax, CORO__FRAME_TEB_DEALLOCATION_STACK(%rsp)
    movq %gs:CORO__TEB_STACK_LIMIT, %rax
    movq %rax, CORO__FRAME_TEB_STACK_LIMIT(%rsp)
    movq %gs:CORO__TEB_STACK_BASE, %rax
    movq %rax, CORO__FRAME_TEB_STACK_BASE(%rsp)
    movl %gs:CORO__TEB_GUARANTEED_STACK_BYTES, %eax
    movq %rax, CORO__FRAME_TEB_GUARANTEED(%rsp)
    leaq CORO__FRAME_LINK(%rsp), %rax
    movq %rax, (%rcx)
    leaq -CORO__FRAME_LINK(%rdx), %rsp
.Lrestore:
    movaps CORO__FRAME_XMM6 + 0(%rsp), %xmm6
    movaps CORO__FRAME_XMM6 + 16(%rsp), %xmm7
    movaps CORO__FRAME_XMM6 + 32(%rsp), %xmm8
    movaps CORO__FRAME_XMM6 + 48(%rsp), %xmm9
    movaps CORO__FRAME_XMM6 + 64(%rsp), %xmm10
    movaps CORO__FRAME_XMM6 + 80(%rsp), %xmm11
    movaps CORO__FRAME_XMM6 + 96(%rsp), %xmm12
    movaps CORO__FRAME_XMM6 + 112(%rsp), %xmm13
    movaps CORO__FRAME_XMM6 + 128(%rsp), %xmm14
    movaps CORO__FRAME_XMM6 + 144(%rsp), %xmm15
    ldmxcsr CORO__FRAME_MXCSR(%rsp)
    fldcw CORO__FRAME_X87_CW(%rsp)
    movq CORO__FRAME_TEB_DEALLOCATION_STACK(%rsp), %rax
    movq %rax, %gs:CORO__TEB_DEALLOCATION_STACK
    movq CORO__FRAME_TEB_STACK_LIMIT(%rsp), %rax
    movq %rax, %gs:CORO__TEB_STACK_LIMIT
    movq CORO__FRAME_TEB_STACK_BASE(%rsp), %rax
    movq %rax, %gs:CORO__TEB_STACK_BASE
    movl CORO__FRAME_TEB_GUARANTEED(%rsp), %eax
    movl %eax, %gs:CORO__TEB_GUARANTEED_STACK_BYTES
    movq %r9, %rax
    testq %r8, %r8
    jnz coro__asm_call_on_arrival
.Lpop:
    addq $CORO__FRAME_SAVED_BELOW_PUSHES, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rsi
    popq %rdi
    popq %rbx
    popq %rbp
    /* A jump rather than `ret`, as on System V: the return-stack predictor
     * expects this call's own caller. */
    popq %rcx
    jmpq *%rcx

/* fn(value), for a switch with fn, below the saved frame (16-byte aligned,
 * its registers restored), with the shadow space: a function of its own
 * whose unwind data describe the saved frame above it as its own prologue's
 * pushes and saves, so that a walk from fn, or an exception's search, goes
 * on into the side switched to, where the pending switch will return (as
 * on System V). Those codes are at offset 0: the frame is there before
 * this code runs. */
    .def coro__asm_call_on_arrival; .scl 3; .type 32; .endef
    .p2align 4
coro__asm_call_on_arrival:
    .seh_proc coro__asm_call_on_arrival
    .seh_pushreg %rbp
    .seh_pushreg %rbx
    .seh_pushreg %rdi
    .seh_pushreg %rsi
    .seh_pushreg %r12
    .seh_pushreg %r13
    .seh_pushreg %r14
    .seh_pushreg %r15
    .seh_stackalloc CORO__FRAME_SAVED_BELOW_PUSHES
    subq $32, %rsp
    .seh_stackalloc 32
    .seh_savexmm %xmm6, 32 + CORO__FRAME_XMM6 + 0
    .seh_savexmm %xmm7, 32 + CORO__FRAME_XMM6 + 16
    .seh_savexmm %xmm8, 32 + CORO__FRAME_XMM6 + 32
    .seh_savexmm %xmm9, 32 + CORO__FRAME_XMM6 + 48
    .seh_savexmm %xmm10, 32 + CORO__FRAME_XMM6 + 64
    .seh_savexmm %xmm11, 32 + CORO__FRAME_XMM6 + 80
    .seh_savexmm %xmm12, 32 + CORO__FRAME_XMM6 + 96
    .seh_savexmm %xmm13, 32 + CORO__FRAME_XMM6 + 112
    .seh_savexmm %xmm14, 32 + CORO__FRAME_XMM6 + 128
    .seh_savexmm %xmm15, 32 + CORO__FRAME_XMM6 + 144
    .seh_endprologue
    movq %r9, %rcx
    callq *%r8
    addq $32, %rsp
    jmp .Lpop
    .seh_endproc

/* The return address a coroutine's context gives for its resumer's frame
 * record (context_asm.c): the resumer waits in this switch. */
    .globl coro__asm_switch_resumed
coro__asm_switch_resumed = .Lrestore

/* void coro__asm_jump(void *to, void *(*fn)(void *), void *value): the
 * second half alone, for a context that is left for good. */
    .globl coro__asm_jump
    .def coro__asm_jump; .scl 2; .type 32; .endef
    .p2align 4
coro__asm_jump:
    movq %r8, %r9
    movq %rdx, %r8
    leaq -CORO__FRAME_LINK(%rcx), %rsp
    jmp .Lrestore

/*
 * Where a new context's first switch lands, with rsp 16-byte aligned at the
 * stack's top gap (switch_frame.h), whose lowest word, 0, is its return
 * address to the unwinder: calls r13(r12, NULL), which never returns, with
 * the shadow space below that word.
 */
    .globl coro__asm_start
    .def coro__asm_start; .scl 2; .type 32; .endef
    .p2align 4
coro__asm_start:
    .seh_proc coro__asm_start
    subq $48, %rsp
    .seh_stackalloc 48
    .seh_endprologue
    movq %r12, %rcx
    xorl %edx, %edx
    callq *%r13
    ud2
    .seh_endproc
