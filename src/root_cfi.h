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
 * Only #define lines, outside the assembler macro: the .S files include it.
 */
#ifndef CORO_ROOT_CFI_H
#define CORO_ROOT_CFI_H

/* DWARF expression operations, on the return address at the top of the
 * stack: v ? v - 1 : 0 (DW_OP_dup, DW_OP_bra +3, DW_OP_skip +2, DW_OP_lit1,
 * DW_OP_minus): 9 bytes. */
#define CORO__RA_BEFORE_CALL 0x12, 0x28, 0x03, 0x00, 0x2f, 0x02, 0x00, 0x31, 0x1c
#define CORO__RA_BEFORE_CALL_BYTES 9

#ifdef __ASSEMBLER__
/* For coro__asm_start: the resumer's return address less one, as a signal
 * frame's caller, and the mark. reg is the return address's DWARF number,
 * breg the DW_OP_breg of the stack pointer, pc and link switch_frame.h's
 * PC and LINK: the return address is pc - link bytes from the resumer's
 * saved record. DW_CFA_val_expression: DW_OP_breg (sp) 0, DW_OP_deref
 * (the context), DW_OP_deref (the resumer's record), DW_OP_consts
 * pc - link, DW_OP_plus, DW_OP_deref, then one less. */
.macro coro_asm_root_return_address reg, breg, pc, link
.if (\pc) - (\link) < -64 || (\pc) - (\link) > 63
    .error "the return address's offset is not one byte of SLEB128"
.endif
    .cfi_escape 0x16, \reg, 8 + CORO__RA_BEFORE_CALL_BYTES, \breg, 0, 0x06, 0x06, 0x11, ((\pc) - (\link)) & 0x7f, 0x22, 0x06, CORO__RA_BEFORE_CALL
    .cfi_signal_frame
.endm
#endif

#endif /* CORO_ROOT_CFI_H */
