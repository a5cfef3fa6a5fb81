/*
 * Branch protection in libcoro's assembly (switch_<arch>.S,
 * ucontext_root_<arch>.S), as the compiler gives C code: only when the
 * build asks for it (-mbranch-protection on AArch64, -fcf-protection on
 * x86-64), so that the objects agree with the C objects they are linked
 * with. The linker marks a program as protected only when every object is
 * marked (the GNU property note below): one unmarked object turns the
 * protection off for the whole program, and a marked one without its
 * landing pads crashes it.
 *
 * CORO__PAD_CALL and CORO__PAD_JUMP are the landing pads of code reached by
 * an indirect call or jump (BTI c / BTI j, ENDBR64). On AArch64,
 * CORO__SIGN_RA signs the return address in x30 with the stack pointer
 * before the switch stores it and CORO__AUTH_RA checks it after loading
 * (PAC; hint instructions, no-ops on processors without it), and the
 * switch returns by `ret` where BTI is on: a `br` needs a landing pad at
 * its target, and a return address has none.
 *
 * x86-64: the asm switch claims IBT only: it moves from one stack to
 * another without the CET shadow stack following, so it must not claim
 * SHSTK. The ucontext backend's root claims both where the build asks for
 * both: glibc's makecontext() gives each context a shadow stack and
 * swapcontext() switches it, and the root neither returns nor jumps by
 * `ret`.
 *
 * Only #define lines, outside the assembler macro: context_asm.c includes
 * it too.
 */
#ifndef CORO_BRANCH_PROTECTION_H
#define CORO_BRANCH_PROTECTION_H

#if defined(__aarch64__)

#if defined(__ARM_FEATURE_BTI_DEFAULT) && __ARM_FEATURE_BTI_DEFAULT
#define CORO__BTI 1
#define CORO__PAD_CALL hint 34 /* bti c */
#define CORO__PAD_JUMP hint 36 /* bti j */
#else
#define CORO__BTI 0
#define CORO__PAD_CALL
#define CORO__PAD_JUMP
#endif

/* The key the compiler signs with: A (bit 0) or B (bit 1). */
#if defined(__ARM_FEATURE_PAC_DEFAULT) && (__ARM_FEATURE_PAC_DEFAULT & 2)
#define CORO__PAC 1
#define CORO__SIGN_RA hint 27     /* pacibsp */
#define CORO__AUTH_RA hint 31     /* autibsp */
#define CORO__SIGN_X17_WITH_X16 "hint 10" /* pacib1716 */
#define CORO__PAC_KEY_CFI .cfi_b_key_frame
#elif defined(__ARM_FEATURE_PAC_DEFAULT) && (__ARM_FEATURE_PAC_DEFAULT & 1)
#define CORO__PAC 1
#define CORO__SIGN_RA hint 25     /* paciasp */
#define CORO__AUTH_RA hint 29     /* autiasp */
#define CORO__SIGN_X17_WITH_X16 "hint 8" /* pacia1716 */
#define CORO__PAC_KEY_CFI
#else
#define CORO__PAC 0
#define CORO__SIGN_RA
#define CORO__AUTH_RA
#define CORO__PAC_KEY_CFI
#endif

/* GNU_PROPERTY_AARCH64_FEATURE_1_AND: BTI is bit 0, PAC bit 1. */
#define CORO__PROPERTY_TYPE 0xc0000000
#define CORO__PROPERTY_BITS (CORO__BTI | (CORO__PAC << 1))
#define CORO__PROPERTY_BITS_UCONTEXT CORO__PROPERTY_BITS

#elif defined(__x86_64__)

#if defined(__CET__) && (__CET__ & 1)
#define CORO__IBT 1
#define CORO__PAD_CALL endbr64
#define CORO__PAD_JUMP endbr64
/* The switch's jump to a return address, which has no ENDBR64. */
#define CORO__UNTRACKED notrack
#else
#define CORO__IBT 0
#define CORO__PAD_CALL
#define CORO__PAD_JUMP
#define CORO__UNTRACKED
#endif

#if defined(__CET__) && (__CET__ & 2)
#define CORO__SHSTK 1
#else
#define CORO__SHSTK 0
#endif

/* GNU_PROPERTY_X86_FEATURE_1_AND: IBT is bit 0, SHSTK bit 1. */
#define CORO__PROPERTY_TYPE 0xc0000002
#define CORO__PROPERTY_BITS CORO__IBT
#define CORO__PROPERTY_BITS_UCONTEXT (CORO__IBT | (CORO__SHSTK << 1))

#else

#define CORO__PAD_CALL
#define CORO__PAD_JUMP
#define CORO__PROPERTY_BITS 0
#define CORO__PROPERTY_BITS_UCONTEXT 0

#endif

#ifdef __ASSEMBLER__
/* The NT_GNU_PROPERTY_TYPE_0 note that marks the object with `bits` (the
 * asm switch's, CORO__PROPERTY_BITS, unless told), when there are any. */
.macro coro_property_note bits=CORO__PROPERTY_BITS
.if \bits
    .pushsection .note.gnu.property, "a"
    .p2align 3
    .long 4 /* the name's size */
    .long 16 /* the description's: one property, padded to 8 */
    .long 5 /* NT_GNU_PROPERTY_TYPE_0 */
    .asciz "GNU"
    .long CORO__PROPERTY_TYPE
    .long 4 /* the property's data size */
    .long \bits
    .long 0
    .popsection
.endif
.endm
#endif

#endif /* CORO_BRANCH_PROTECTION_H */
