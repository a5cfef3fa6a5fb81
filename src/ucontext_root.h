/*
 * Where glibc's swapcontext() leaves the registers of the side it saves, in
 * bytes from the start of its ucontext_t: what a coroutine's root frame
 * (ucontext_root_<arch>.S) tells unwinders about its resumer, who waits in
 * such a context. context_ucontext.c checks each against <ucontext.h>.
 * Only #define lines: the .S files include it too.
 *
 * RA is where the resumer's return address is: the saved pc itself on
 * x86-64 and RISC-V; on AArch64, glibc (2.35 on) saves as pc a stub of
 * its own, which returns through x1, and the return address in x1's slot.
 */
#ifndef CORO_UCONTEXT_ROOT_H
#define CORO_UCONTEXT_ROOT_H

/* Where the context keeps the frame record the root's frame pointer
 * points at (context_ucontext.c). */
#define CORO__UC_FRAME_RECORD 8

#if defined(__x86_64__)
#define CORO__UC_SP 160 /* gregs[REG_RSP] */
#define CORO__UC_RA 168 /* gregs[REG_RIP] */
#define CORO__UC_RBP 120
#define CORO__UC_RBX 128
#define CORO__UC_R12 72
#define CORO__UC_R13 80
#define CORO__UC_R14 88
#define CORO__UC_R15 96
#elif defined(__aarch64__)
#define CORO__UC_X0 184 /* regs[0]; regs[n] is 8 n bytes on */
#define CORO__UC_SP 432
#define CORO__UC_RA (CORO__UC_X0 + 8 * 1)
#elif defined(__riscv) && __riscv_xlen == 64
#define CORO__UC_GREGS 176 /* __gregs[0], the pc */
#define CORO__UC_SP (CORO__UC_GREGS + 8 * 2)
#define CORO__UC_RA CORO__UC_GREGS
#endif

#endif /* CORO_UCONTEXT_ROOT_H */
