/*
 * What the roots' unwind rules (switch_<arch>.S's coro__asm_start,
 * ucontext_root_<arch>.S) share, beyond the resumer's registers each reads.
 *
 * A root is marked a signal frame (.cfi_signal_frame): its caller,
 * the resumer, is on another stack, which may lie below the coroutine's,
 * and gdb stops a walk that goes down from a normal frame ("previous frame
 * inner to this frame"), but not one from a signal frame. So gdb shows the
 * root as "<signal handler called>" (the gdb extension names it again).
 * An unwinder takes the caller of a signal frame for interrupted there,
 * and looks its pc up as it is, not as a return address less one: so the
 * return address the rules give is the resumer's less one
 * (CORO__RA_BEFORE_CALL), inside its call, where a return address's
 * lookup would land; 0, the terminal record's, stays 0.
 *
 * Not where the return address is signed (AArch64 PAC): one less would not
 * authenticate. There the root is a normal frame, and gdb's walk stops
 * where it would go down.
 *
 * Only #define lines: the .S files include it.
 */
#ifndef CORO_ROOT_CFI_H
#define CORO_ROOT_CFI_H

/* DWARF expression operations, on the return address at the top of the
 * stack: v ? v - 1 : 0 (DW_OP_dup, DW_OP_bra +3, DW_OP_skip +2, DW_OP_lit1,
 * DW_OP_minus): 9 bytes. */
#define CORO__RA_BEFORE_CALL 0x12, 0x28, 0x03, 0x00, 0x2f, 0x02, 0x00, 0x31, 0x1c
#define CORO__RA_BEFORE_CALL_BYTES 9

#endif /* CORO_ROOT_CFI_H */
