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
 * Frame at a saved stack pointer, 64 bytes, 16-byte aligned:
 *   +0 MXCSR (4)  +4 x87 control word (2)  +8 r15  +16 r14  +24 r13
 *   +32 r12  +40 rbx  +48 rbp  +56 return address
 * context_asm.c lays out the same frame for a context's first switch, with
 * r12 = its argument, r13 = the function to call, and the return address
 * coro__asm_start.
 */
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
    subq $8, %rsp
    stmxcsr (%rsp)
    fnstcw 4(%rsp)
    movq %rsp, (%rdi)

    movq (%rsi), %rsp
.Lrestore:
    ldmxcsr (%rsp)
    fldcw 4(%rsp)
    movq %rcx, %rax
    testq %rdx, %rdx
    jnz .Lontop
.Lpop:
    addq $8, %rsp
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
