/*
 * The frame the asm backend's switch leaves at a switched-out side's saved
 * stack pointer, in bytes from it: the one statement of that layout, read
 * by switch_<arch>.S (which saves and restores it), context_asm.c (which
 * lays out a context's first frame and tells debuggers where each register
 * is) and coro-bench's baseline switches. Only #define lines, as the .S
 * files include it too.
 *
 * A side is saved as the address of the frame record in its frame (the
 * frame's address plus LINK): the saved frame pointer and return address,
 * as the architecture's frame-pointer walkers read them (a frame pointer
 * is the record's address plus RECORD_TO_FP). A coroutine's first frame
 * points its frame pointer (the FP slot) at its context, whose first two
 * words are a record that links to its resumer's: a walk goes on from the
 * coroutine's root into whoever resumed it (context_asm.c).
 *
 * A context's first frame is this frame with the return address
 * coro__asm_start, START_ARG and START_FN set, and TOP_GAP bytes between it
 * and the stack's 16-byte aligned top, of which the lowest word holds the
 * context's address: coro__asm_start's unwind rules reach the resumer
 * through it. coro__asm_start calls fn(arg).
 */
#ifndef CORO_SWITCH_FRAME_H
#define CORO_SWITCH_FRAME_H

#if defined(__x86_64__) && defined(_WIN64)
/* The Microsoft x64 convention (switch_x86_64_win64.S): the call's return
 * address, then pushes of rbp rbx rdi rsi r12 r13 r14 r15, then xmm6 to
 * xmm15, the floating-point control state, and the thread information
 * block's stack fields for the side (its stack's top, lowest committed
 * byte, lowest reserved byte and the room guaranteed to a stack overflow's
 * handler), which Windows reads to grow a stack, to check frames while it
 * unwinds and to raise a stack overflow. */
#define CORO__FRAME_XMM6 0 /* xmm6 to xmm15, 16 bytes each */
#define CORO__FRAME_MXCSR 160 /* 4 bytes */
#define CORO__FRAME_X87_CW 164 /* 2 bytes */
#define CORO__FRAME_TEB_DEALLOCATION_STACK 168
#define CORO__FRAME_TEB_STACK_LIMIT 176
#define CORO__FRAME_TEB_STACK_BASE 184
#define CORO__FRAME_TEB_GUARANTEED 192 /* 4 bytes, in 8 */
#define CORO__FRAME_R15 200
#define CORO__FRAME_R14 208
#define CORO__FRAME_R13 216
#define CORO__FRAME_R12 224
#define CORO__FRAME_RSI 232
#define CORO__FRAME_RDI 240
#define CORO__FRAME_RBX 248
#define CORO__FRAME_RBP 256
#define CORO__FRAME_PC 264 /* the return address, jumped to */
#define CORO__FRAME_SIZE 272
#define CORO__FRAME_SAVED_BELOW_PUSHES 200 /* bytes below the pushes */
#define CORO__FRAME_FP_STATE CORO__FRAME_MXCSR
#define CORO__FRAME_FP_STATE_BYTES 8
#define CORO__FRAME_START_ARG CORO__FRAME_R12
#define CORO__FRAME_START_FN CORO__FRAME_R13
#define CORO__FRAME_LINK CORO__FRAME_RBP
#define CORO__FRAME_FP CORO__FRAME_RBP
#define CORO__RECORD_TO_FP 0
/* coro__asm_start runs with rsp 16-byte aligned after the return address
 * is popped, at the gap, whose lowest word (0) the unwinder takes for its
 * return address; it gives what it calls the shadow space below. */
#define CORO__FRAME_TOP_GAP 16
/* Where the thread information block (at gs:0) keeps the fields above. */
#define CORO__TEB_STACK_BASE 0x08
#define CORO__TEB_STACK_LIMIT 0x10
#define CORO__TEB_DEALLOCATION_STACK 0x1478
#define CORO__TEB_GUARANTEED_STACK_BYTES 0x1748
#elif defined(__x86_64__)
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
/* The frame record (saved rbp, then the return address) that frame-pointer
 * walkers follow. */
#define CORO__FRAME_LINK CORO__FRAME_RBP
#define CORO__FRAME_FP CORO__FRAME_RBP
#define CORO__RECORD_TO_FP 0 /* rbp points at the record */
/* After the return address is popped coro__asm_start runs with rsp 16-byte
 * aligned, so that what it calls starts with rsp % 16 == 8, as the ABI
 * wants. */
#define CORO__FRAME_TOP_GAP 16

#elif defined(__aarch64__)
/* Stored in pairs by stp: x29 x30 (a frame record, first), x19 x20 ...
 * x27 x28, d8 d9 ... d14 d15, then FPCR and 8 unused bytes, to keep sp
 * 16-byte aligned. */
#define CORO__FRAME_X29 0
#define CORO__FRAME_X30 8 /* the link register, branched to */
#define CORO__FRAME_X19 16
#define CORO__FRAME_X20 24
#define CORO__FRAME_X21 32
#define CORO__FRAME_X22 40
#define CORO__FRAME_X23 48
#define CORO__FRAME_X24 56
#define CORO__FRAME_X25 64
#define CORO__FRAME_X26 72
#define CORO__FRAME_X27 80
#define CORO__FRAME_X28 88
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
#define CORO__FRAME_LINK CORO__FRAME_X29 /* the frame record: x29, then x30 */
#define CORO__FRAME_FP CORO__FRAME_X29
#define CORO__RECORD_TO_FP 0 /* x29 points at the record */
#define CORO__FRAME_TOP_GAP 16 /* the first frame's link slot (below) */

#elif defined(__riscv) && __riscv_xlen == 64
/* Stored one by one: s1-s11 and 8 unused bytes, fs0-fs11, the rounding
 * mode frm and 8 unused bytes, then s0 and ra, the frame record, last (a
 * RISC-V frame pointer points just above it): sp stays 16-byte aligned
 * with or without the FP state (coro-bench's min frame leaves it out). */
#define CORO__FRAME_S1 0
#define CORO__FRAME_S2 8
#define CORO__FRAME_S3 16
#define CORO__FRAME_S4 24
#define CORO__FRAME_S5 32
#define CORO__FRAME_S6 40
#define CORO__FRAME_S7 48
#define CORO__FRAME_S8 56
#define CORO__FRAME_S9 64
#define CORO__FRAME_S10 72
#define CORO__FRAME_S11 80
#define CORO__FRAME_FS0 96 /* fs0-fs11, 8 bytes each */
#define CORO__FRAME_FRM 192
#define CORO__FRAME_S0 208
#define CORO__FRAME_RA 216 /* jumped to */
#define CORO__FRAME_SIZE 224
#define CORO__FRAME_PC CORO__FRAME_RA
#define CORO__FRAME_FP_STATE CORO__FRAME_FRM
#define CORO__FRAME_FP_STATE_BYTES 16
#define CORO__FRAME_START_ARG CORO__FRAME_S1
#define CORO__FRAME_START_FN CORO__FRAME_S2
/* The frame pointer s0 points just above the record {s0, ra}. */
#define CORO__FRAME_LINK CORO__FRAME_SIZE
#define CORO__FRAME_FP CORO__FRAME_S0
#define CORO__RECORD_TO_FP 16
#define CORO__FRAME_TOP_GAP 16 /* the first frame's link slot (below) */
#endif

#endif /* CORO_SWITCH_FRAME_H */
