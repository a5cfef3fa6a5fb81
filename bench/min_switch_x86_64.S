/*
 * coro-bench's baseline switches for x86-64 System V (see coro_bench.c).
 *
 * void bench_min_switch(void **save_sp, void *to_sp)
 *   The least any stackful switch does: pushes rbp, rbx and r12-r15, stores
 *   rsp in *save_sp, takes to_sp, pops the six and jumps to the popped
 *   return address. Frame at a saved stack pointer, 56 bytes:
 *     +0 r15  +8 r14  +16 r13  +24 r12  +32 rbx  +40 rbp  +48 return address
 *
 * void bench_fp_switch(void **save_sp, void *to_sp)
 *   The least an ABI-complete switch does: the same, and MXCSR and the x87
 *   control word (callee-saved too), as libcoro's src/switch_x86_64.S,
 *   into the same frame (src/switch_frame.h).
 *
 * Both end as src/switch_x86_64.S does, `popq %rcx; jmpq *%rcx`, not with
 * `ret`: the return-stack predictor expects this call's own caller, which a
 * switch never returns to, and a `ret` would charge the baseline a
 * misprediction that libcoro does not pay.
 *
 * void bench_min_start(void)
 *   Where either switch lands in a context's first frame (coro_bench.c lays
 *   it out, 16 bytes below a 16-byte aligned top, so that rsp % 16 == 0
 *   here): calls r13(r12), which never returns.
 */
#include "switch_frame.h"

    .text

    .globl bench_min_switch
    .hidden bench_min_switch
    .type bench_min_switch, @function
    .p2align 4
bench_min_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    popq %rcx
    jmpq *%rcx
    .size bench_min_switch, .-bench_min_switch

    .globl bench_fp_switch
    .hidden bench_fp_switch
    .type bench_fp_switch, @function
    .p2align 4
bench_fp_switch:
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
    movq %rsi, %rsp
    ldmxcsr CORO__FRAME_MXCSR(%rsp)
    fldcw CORO__FRAME_X87_CW(%rsp)
    addq $CORO__FRAME_FP_STATE_BYTES, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    popq %rcx
    jmpq *%rcx
    .size bench_fp_switch, .-bench_fp_switch

    .globl bench_min_start
    .hidden bench_min_start
    .type bench_min_start, @function
    .p2align 4
bench_min_start:
    .cfi_startproc
    .cfi_undefined rip /* the outermost frame: debuggers stop unwinding here */
    movq %r12, %rdi
    callq *%r13
    ud2
    .cfi_endproc
    .size bench_min_start, .-bench_min_start

    .section .note.GNU-stack,"",@progbits
