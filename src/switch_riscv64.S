/*
 * The RISC-V 64 (RV64GC, LP64D psABI) context switch for the asm backend.
 *
 * void *coro__asm_switch(void **save_sp, void **to_sp, void *(*fn)(void *),
 *                        void *value)
 *   Stores what the ABI calls callee-saved (s0-s11, fs0-fs11, and the
 *   return address ra) and the rounding mode frm below the stack pointer,
 *   stores the stack pointer in *save_sp, takes *to_sp, loads the same set
 *   from there and jumps to the loaded return address with value in a0.
 *   The jump goes through t1: `jr ra` is `ret`, which the return-address
 *   stack takes for a return to this call's own caller, and a switch never
 *   returns there (a jump through a register other than ra or t0 neither
 *   pushes nor pops). With fn not NULL, fn(value) is called first on the
 *   new stack, below the saved frame, and its result is what the pending
 *   switch there returns.
 *
 * frm is each side's, as the x87 control word, MXCSR and FPCR are on the
 * other architectures; the accrued exception flags (fflags) are status,
 * not control, and stay the thread's, as FPSR does on AArch64.
 *
 * The frame at a saved stack pointer is switch_frame.h's; the assembler
 * checks that it is the consecutive one the offsets below assume.
 * context_asm.c lays out the same frame for a context's first switch.
 */
#include "switch_frame.h"

#if __riscv_xlen != 64 || !defined(__riscv_float_abi_double)
#error "switch_riscv64.S is for RV64 with the LP64D ABI (double-precision FP registers)"
#endif

.if CORO__FRAME_S0 != 0 || CORO__FRAME_S1 != 8 || CORO__FRAME_S2 != 16 || CORO__FRAME_S3 != 24 || CORO__FRAME_S4 != 32 || CORO__FRAME_S5 != 40 || CORO__FRAME_S6 != 48 || CORO__FRAME_S7 != 56 || CORO__FRAME_S8 != 64 || CORO__FRAME_S9 != 72 || CORO__FRAME_S10 != 80 || CORO__FRAME_S11 != 88 || CORO__FRAME_RA != 96 || CORO__FRAME_FS0 != 104 || CORO__FRAME_FRM < CORO__FRAME_FS0 + 96 || CORO__FRAME_FRM + 8 > CORO__FRAME_SIZE || CORO__FRAME_SIZE % 16 != 0
    .error "switch_frame.h's frame is not the one coro__asm_switch stores"
.endif

    .text

    .globl coro__asm_switch
    .hidden coro__asm_switch
    .type coro__asm_switch, @function
    .p2align 6 /* a cache line of its own: see CORO_HOT_ENTRY */
coro__asm_switch:
    addi sp, sp, -CORO__FRAME_SIZE
    sd s0, CORO__FRAME_S0(sp)
    sd s1, CORO__FRAME_S1(sp)
    sd s2, CORO__FRAME_S2(sp)
    sd s3, CORO__FRAME_S3(sp)
    sd s4, CORO__FRAME_S4(sp)
    sd s5, CORO__FRAME_S5(sp)
    sd s6, CORO__FRAME_S6(sp)
    sd s7, CORO__FRAME_S7(sp)
    sd s8, CORO__FRAME_S8(sp)
    sd s9, CORO__FRAME_S9(sp)
    sd s10, CORO__FRAME_S10(sp)
    sd s11, CORO__FRAME_S11(sp)
    sd ra, CORO__FRAME_RA(sp)
    fsd fs0, CORO__FRAME_FS0(sp)
    fsd fs1, CORO__FRAME_FS0 + 8(sp)
    fsd fs2, CORO__FRAME_FS0 + 16(sp)
    fsd fs3, CORO__FRAME_FS0 + 24(sp)
    fsd fs4, CORO__FRAME_FS0 + 32(sp)
    fsd fs5, CORO__FRAME_FS0 + 40(sp)
    fsd fs6, CORO__FRAME_FS0 + 48(sp)
    fsd fs7, CORO__FRAME_FS0 + 56(sp)
    fsd fs8, CORO__FRAME_FS0 + 64(sp)
    fsd fs9, CORO__FRAME_FS0 + 72(sp)
    fsd fs10, CORO__FRAME_FS0 + 80(sp)
    fsd fs11, CORO__FRAME_FS0 + 88(sp)
    frrm t0
    sd t0, CORO__FRAME_FRM(sp)
    sd sp, 0(a0)

    ld sp, 0(a1)
.Lrestore:
    ld t0, CORO__FRAME_FRM(sp)
    fsrm t0
    mv a0, a3
    bnez a2, .Lontop
.Lload:
    ld s0, CORO__FRAME_S0(sp)
    ld s1, CORO__FRAME_S1(sp)
    ld s2, CORO__FRAME_S2(sp)
    ld s3, CORO__FRAME_S3(sp)
    ld s4, CORO__FRAME_S4(sp)
    ld s5, CORO__FRAME_S5(sp)
    ld s6, CORO__FRAME_S6(sp)
    ld s7, CORO__FRAME_S7(sp)
    ld s8, CORO__FRAME_S8(sp)
    ld s9, CORO__FRAME_S9(sp)
    ld s10, CORO__FRAME_S10(sp)
    ld s11, CORO__FRAME_S11(sp)
    ld t1, CORO__FRAME_RA(sp)
    fld fs0, CORO__FRAME_FS0(sp)
    fld fs1, CORO__FRAME_FS0 + 8(sp)
    fld fs2, CORO__FRAME_FS0 + 16(sp)
    fld fs3, CORO__FRAME_FS0 + 24(sp)
    fld fs4, CORO__FRAME_FS0 + 32(sp)
    fld fs5, CORO__FRAME_FS0 + 40(sp)
    fld fs6, CORO__FRAME_FS0 + 48(sp)
    fld fs7, CORO__FRAME_FS0 + 56(sp)
    fld fs8, CORO__FRAME_FS0 + 64(sp)
    fld fs9, CORO__FRAME_FS0 + 72(sp)
    fld fs10, CORO__FRAME_FS0 + 80(sp)
    fld fs11, CORO__FRAME_FS0 + 88(sp)
    addi sp, sp, CORO__FRAME_SIZE
    jr t1

/* sp is 16-byte aligned, as always; the return address is loaded after
 * the call. */
.Lontop:
    jalr a2
    j .Lload
    .size coro__asm_switch, .-coro__asm_switch

/* void coro__asm_jump(void **to_sp, void *value): the second half alone,
 * for a context that is left for good (nothing of it is saved). */
    .globl coro__asm_jump
    .hidden coro__asm_jump
    .type coro__asm_jump, @function
    .p2align 4
coro__asm_jump:
    mv a3, a1
    li a2, 0
    ld sp, 0(a0)
    j .Lrestore
    .size coro__asm_jump, .-coro__asm_jump

/* Where a new context's first switch lands: calls s2(s1), which never
 * returns. */
    .globl coro__asm_start
    .hidden coro__asm_start
    .type coro__asm_start, @function
    .p2align 4
coro__asm_start:
    .cfi_startproc
    .cfi_undefined ra /* the outermost frame: debuggers stop unwinding here */
    mv a0, s1
    jalr s2
    unimp
    .cfi_endproc
    .size coro__asm_start, .-coro__asm_start

    .section .note.GNU-stack,"",@progbits
