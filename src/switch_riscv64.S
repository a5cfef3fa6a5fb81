/*
 * The RISC-V 64 (RV64GC, LP64D psABI) context switch for the asm backend.
 *
 * void *coro__asm_switch(void **save, void *to, void *(*fn)(void *),
 *                        void *value)
 *   Stores what the ABI calls callee-saved (s0-s11, fs0-fs11, and the
 *   return address ra) and the rounding mode frm below the stack pointer,
 *   stores the frame's record (switch_frame.h) in *save, moves to the frame
 *   whose record is `to`, loads the same set from there and jumps to the
 *   loaded return address with value in a0.
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
 * Unwind information: once the stack pointer has moved, the frame at it is
 * the other side's, of the same shape, so one description holds for the
 * whole switch: a walk from inside it (a signal handler, or an exception
 * raised by fn) goes on into the side switched to, where the pending
 * switch will return.
 *
 * The frame at a saved stack pointer is switch_frame.h's; the assembler
 * checks that it is the consecutive one the offsets below assume.
 * context_asm.c lays out the same frame for a context's first switch.
 */
#include "root_cfi.h"
#include "switch_frame.h"

#if __riscv_xlen != 64 || !defined(__riscv_float_abi_double)
#error "switch_riscv64.S is for RV64 with the LP64D ABI (double-precision FP registers)"
#endif

.if CORO__FRAME_S2 != CORO__FRAME_S1 + 8 || CORO__FRAME_S3 != CORO__FRAME_S2 + 8 || CORO__FRAME_S11 != CORO__FRAME_S1 + 80 || CORO__FRAME_FRM < CORO__FRAME_FS0 + 96 || CORO__FRAME_S0 < CORO__FRAME_FRM + 8 || CORO__FRAME_RA != CORO__FRAME_S0 + 8 || CORO__FRAME_SIZE != CORO__FRAME_RA + 8 || CORO__FRAME_LINK != CORO__FRAME_SIZE || CORO__FRAME_SIZE % 16 != 0
    .error "switch_frame.h's frame is not the one coro__asm_switch stores"
.endif

/* Where a saved frame keeps each register, from the frame's CFA (the
 * stack pointer after the return), by DWARF number. */
.macro frame_registers_cfi
    .cfi_offset 1, CORO__FRAME_RA - CORO__FRAME_SIZE /* ra */
    .cfi_offset 8, CORO__FRAME_S0 - CORO__FRAME_SIZE /* s0 */
    .cfi_offset 9, CORO__FRAME_S1 - CORO__FRAME_SIZE /* s1 */
    .cfi_offset 18, CORO__FRAME_S2 - CORO__FRAME_SIZE /* s2 */
    .cfi_offset 19, CORO__FRAME_S3 - CORO__FRAME_SIZE /* s3 */
    .cfi_offset 20, CORO__FRAME_S4 - CORO__FRAME_SIZE /* s4 */
    .cfi_offset 21, CORO__FRAME_S5 - CORO__FRAME_SIZE /* s5 */
    .cfi_offset 22, CORO__FRAME_S6 - CORO__FRAME_SIZE /* s6 */
    .cfi_offset 23, CORO__FRAME_S7 - CORO__FRAME_SIZE /* s7 */
    .cfi_offset 24, CORO__FRAME_S8 - CORO__FRAME_SIZE /* s8 */
    .cfi_offset 25, CORO__FRAME_S9 - CORO__FRAME_SIZE /* s9 */
    .cfi_offset 26, CORO__FRAME_S10 - CORO__FRAME_SIZE /* s10 */
    .cfi_offset 27, CORO__FRAME_S11 - CORO__FRAME_SIZE /* s11 */
    .cfi_offset 40, CORO__FRAME_FS0 + 0 - CORO__FRAME_SIZE /* fs0 */
    .cfi_offset 41, CORO__FRAME_FS0 + 8 - CORO__FRAME_SIZE /* fs1 */
    .cfi_offset 50, CORO__FRAME_FS0 + 16 - CORO__FRAME_SIZE /* fs2 */
    .cfi_offset 51, CORO__FRAME_FS0 + 24 - CORO__FRAME_SIZE /* fs3 */
    .cfi_offset 52, CORO__FRAME_FS0 + 32 - CORO__FRAME_SIZE /* fs4 */
    .cfi_offset 53, CORO__FRAME_FS0 + 40 - CORO__FRAME_SIZE /* fs5 */
    .cfi_offset 54, CORO__FRAME_FS0 + 48 - CORO__FRAME_SIZE /* fs6 */
    .cfi_offset 55, CORO__FRAME_FS0 + 56 - CORO__FRAME_SIZE /* fs7 */
    .cfi_offset 56, CORO__FRAME_FS0 + 64 - CORO__FRAME_SIZE /* fs8 */
    .cfi_offset 57, CORO__FRAME_FS0 + 72 - CORO__FRAME_SIZE /* fs9 */
    .cfi_offset 58, CORO__FRAME_FS0 + 80 - CORO__FRAME_SIZE /* fs10 */
    .cfi_offset 59, CORO__FRAME_FS0 + 88 - CORO__FRAME_SIZE /* fs11 */
.endm

    .text

    .globl coro__asm_switch
    .hidden coro__asm_switch
    .type coro__asm_switch, @function
    .p2align 6 /* a cache line of its own: see CORO_HOT_ENTRY */
coro__asm_switch:
    .cfi_startproc
    addi sp, sp, -CORO__FRAME_SIZE
    .cfi_def_cfa_offset CORO__FRAME_SIZE
    sd ra, CORO__FRAME_RA(sp)
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
    fsd fs0, CORO__FRAME_FS0 + 0(sp)
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
    frame_registers_cfi
    frrm t0
    sd t0, CORO__FRAME_FRM(sp)
    addi t0, sp, CORO__FRAME_LINK
    sd t0, 0(a0)

    addi sp, a1, -CORO__FRAME_LINK
/* The return address a coroutine's context gives for its resumer's frame
 * record (context_asm.c): the resumer waits in this switch. */
    .globl coro__asm_switch_resumed
    .hidden coro__asm_switch_resumed
coro__asm_switch_resumed:
.Lrestore:
    ld t0, CORO__FRAME_FRM(sp)
    fsrm t0
    mv a0, a3
    bnez a2, .Lontop
.Lload:
    .cfi_remember_state
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
    fld fs0, CORO__FRAME_FS0 + 0(sp)
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
    ld t1, CORO__FRAME_RA(sp)
    addi sp, sp, CORO__FRAME_SIZE
    .cfi_def_cfa_offset 0
    .cfi_register 1, 6 /* ra is in t1 */
    jr t1
    .cfi_restore_state

/* sp is 16-byte aligned, as always; the return address is loaded after
 * the call. */
.Lontop:
    jalr a2
    j .Lload
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
    mv a3, a2
    mv a2, a1
    addi sp, a0, -CORO__FRAME_LINK
    .cfi_def_cfa_offset CORO__FRAME_SIZE
    frame_registers_cfi
    j .Lrestore
    .cfi_endproc
    .size coro__asm_jump, .-coro__asm_jump

/*
 * Where a new context's first switch lands, with sp 16 bytes below the
 * stack's top, where the context's address is, and s0 16 bytes into the
 * context (switch_frame.h): calls s2(s1, NULL), which never returns.
 *
 * Its caller, to an unwinder, is the resumer: the frame whose record the
 * context's first word holds (the terminal record while the coroutine is
 * not running): CFA = **sp + SIZE - LINK, and the registers in that frame
 * as the switch saved them. A frame-pointer walk takes the same way through
 * s0. An exception that reaches this frame is caught here
 * (unwind_root.c): the landing pad calls s2(s1, exception), on this stack.
 */
    .globl coro__asm_start
    .hidden coro__asm_start
    .type coro__asm_start, @function
    .p2align 4
coro__asm_start:
    .cfi_startproc
    .cfi_personality 0x1b, coro__unwind_personality /* pc-relative, 4 bytes */
    .cfi_lsda 0x1b, coro__asm_start_caught /* the landing pad: see unwind_root.c */
    /* DW_CFA_def_cfa_expression: DW_OP_breg2 (sp) 0, DW_OP_deref,
     * DW_OP_deref, DW_OP_plus_uconst SIZE - LINK (ULEB128, 2 bytes). */
    .cfi_escape 0x0f, 7, 0x72, 0, 0x06, 0x06, 0x23, ((CORO__FRAME_SIZE - CORO__FRAME_LINK) & 0x7f) | 0x80, (CORO__FRAME_SIZE - CORO__FRAME_LINK) >> 7
    frame_registers_cfi
    /* What the ABI lets a call clobber is not the resumer's any more. */
    .irp r, t0, t1, t2, a0, a1, a2, a3, a4, a5, a6, a7, t3, t4, t5, t6
    .cfi_undefined \r
    .endr
    /* The resumer's return address less one (root_cfi.h). */
    coro_asm_root_return_address 1, 0x72, CORO__FRAME_PC, CORO__FRAME_LINK
    mv a0, s1
    li a1, 0
    jalr s2
    unimp
    .globl coro__asm_start_caught
    .hidden coro__asm_start_caught
coro__asm_start_caught:
    mv a1, a0
    mv a0, s1
    jalr s2
    unimp
    .cfi_endproc
    .size coro__asm_start, .-coro__asm_start

    .section .note.GNU-stack,"",@progbits
