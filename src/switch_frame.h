/*
 * The frame the asm backend's switch leaves at a switched-out side's saved
 * stack pointer, in bytes from it: the one statement of that layout, read
 * by switch_<arch>.S (which saves and restores it), context_asm.c (which
 * lays out a context's first frame and tells debuggers where each register
 * is) and coro-bench's baseline switches. Only #define lines, as the .S
 * files include it too.
 *
 * A context's first frame is this frame with the return address
 * coro__asm_start, START_ARG and START_FN set, and TOP_GAP bytes between it
 * and the stack's 16-byte aligned top; coro__asm_start calls fn(arg).
 */
#ifndef CORO_SWITCH_FRAME_H
#define CORO_SWITCH_FRAME_H

#if defined(__x86_64__)
/* The call's return address, then pushes of rbp rbx r12 r13 r14 r15, then 8
 * bytes of floating-point control state. */
#define CORO__FRAME_MXCSR 0  /* 4 bytes */
#define CORO__FRAME_X87_CW 4 /* 2 bytes */
#define CORO__FRAME_R15 8
#define CORO__FRAME_R14 16
#define CORO__FRAME_R13 24
#define CORO__FRAME_R12 32
#define CORO__FRAME_RBX 40
#define CORO__FRAME_RBP 48
#define CORO__FRAME_PC 56 /* the return address, jumped to */
#define CORO__FRAME_SIZE 64
#define CORO__FRAME_FP_STATE CORO__FRAME_MXCSR /* MXCSR and x87 control word */
#define CORO__FRAME_FP_STATE_BYTES 8
#define CORO__FRAME_START_ARG CORO__FRAME_R12
#define CORO__FRAME_START_FN CORO__FRAME_R13
/* After the return address is popped coro__asm_start runs with rsp 16-byte
 * aligned, so that what it calls starts with rsp % 16 == 8, as the ABI
 * wants. */
#define CORO__FRAME_TOP_GAP 16

#elif defined(__aarch64__)
/* Stored in pairs by stp: x19 x20 ... x29 x30, d8 d9 ... d14 d15, then
 * FPCR and 8 unused bytes, to keep sp 16-byte aligned. */
#define CORO__FRAME_X19 0
#define CORO__FRAME_X20 8
#define CORO__FRAME_X21 16
#define CORO__FRAME_X22 24
#define CORO__FRAME_X23 32
#define CORO__FRAME_X24 40
#define CORO__FRAME_X25 48
#define CORO__FRAME_X26 56
#define CORO__FRAME_X27 64
#define CORO__FRAME_X28 72
#define CORO__FRAME_X29 80
#define CORO__FRAME_X30 88 /* the link register, branched to */
#define CORO__FRAME_D8 96
#define CORO__FRAME_D10 112
#define CORO__FRAME_D12 128
#define CORO__FRAME_D14 144
#define CORO__FRAME_FPCR 160
#define CORO__FRAME_SIZE 176
#define CORO__FRAME_PC CORO__FRAME_X30
#define CORO__FRAME_FP_STATE CORO__FRAME_FPCR
#define CORO__FRAME_FP_STATE_BYTES 16
#define CORO__FRAME_START_ARG CORO__FRAME_X19
#define CORO__FRAME_START_FN CORO__FRAME_X20
#define CORO__FRAME_TOP_GAP 0 /* sp stays 16-byte aligned */

#elif defined(__riscv) && __riscv_xlen == 64
/* Stored one by one: s0-s11, ra, fs0-fs11 (200 bytes) and 8 unused, then
 * the rounding mode frm and 8 unused bytes: sp stays 16-byte aligned with
 * or without the FP state (coro-bench's min frame leaves it out). */
#define CORO__FRAME_S0 0
#define CORO__FRAME_S1 8
#define CORO__FRAME_S2 16
#define CORO__FRAME_S3 24
#define CORO__FRAME_S4 32
#define CORO__FRAME_S5 40
#define CORO__FRAME_S6 48
#define CORO__FRAME_S7 56
#define CORO__FRAME_S8 64
#define CORO__FRAME_S9 72
#define CORO__FRAME_S10 80
#define CORO__FRAME_S11 88
#define CORO__FRAME_RA 96 /* jumped to */
#define CORO__FRAME_FS0 104 /* fs0-fs11, 8 bytes each */
#define CORO__FRAME_FRM 208
#define CORO__FRAME_SIZE 224
#define CORO__FRAME_PC CORO__FRAME_RA
#define CORO__FRAME_FP_STATE CORO__FRAME_FRM
#define CORO__FRAME_FP_STATE_BYTES 16
/* Not s0, the frame pointer: it starts 0, the end of a frame-pointer
 * chain. */
#define CORO__FRAME_START_ARG CORO__FRAME_S1
#define CORO__FRAME_START_FN CORO__FRAME_S2
#define CORO__FRAME_TOP_GAP 0 /* sp stays 16-byte aligned */
#endif

#endif /* CORO_SWITCH_FRAME_H */
