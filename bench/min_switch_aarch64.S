/*
 * coro-bench's baseline switches for AArch64 (AAPCS64; see coro_bench.c).
 *
 * void bench_min_switch(void **save_sp, void *to_sp)
 *   The least any stackful switch does: stores x19-x30 and d8-d15 below sp,
 *   stores sp in *save_sp, takes to_sp, loads the same set from there and
 *   branches to the loaded x30. Frame at a saved stack pointer, 160 bytes:
 *     +0 x29 x30  +16 x19 x20  +32 x21 x22  +48 x23 x24  +64 x25 x26
 *     +80 x27 x28  +96 d8 d9  +112 d10 d11  +128 d12 d13  +144 d14 d15
 *
 * void bench_fp_switch(void **save_sp, void *to_sp)
 *   The least an ABI-complete switch does: the same, and FPCR (callee-saved
 *   too), as libcoro's src/switch_aarch64.S, into the same frame
 *   (src/switch_frame.h): the 160 above, then FPCR and 8 unused bytes.
 *
 * Both end as src/switch_aarch64.S does, with `br x30`, not `ret`: the
 * return predictor expects this call's own caller, which a switch never
 * returns to, and a `ret` would charge the baseline a misprediction that
 * libcoro does not pay.
 *
 * void bench_min_start(void)
 *   Where either switch lands in a context's first frame (coro_bench.c lays
 *   it out TOP_GAP bytes below a 16-byte aligned top): calls x20(x19),
 *   which never returns.
 */
#include "switch_frame.h"

.if CORO__FRAME_X29 != 0 || CORO__FRAME_X19 != 16 || CORO__FRAME_X27 != 80 || CORO__FRAME_D8 != 96 || CORO__FRAME_FPCR != 160
    .error "bench_min_switch's frame is not switch_frame.h's without FPCR"
.endif

    .text

    .globl bench_min_switch
    .hidden bench_min_switch
    .type bench_min_switch, %function
    .p2align 4
bench_min_switch:
    sub sp, sp, #160
    stp x29, x30, [sp, #0]
    stp x19, x20, [sp, #16]
    stp x21, x22, [sp, #32]
    stp x23, x24, [sp, #48]
    stp x25, x26, [sp, #64]
    stp x27, x28, [sp, #80]
    stp d8, d9, [sp, #96]
    stp d10, d11, [sp, #112]
    stp d12, d13, [sp, #128]
    stp d14, d15, [sp, #144]
    mov x9, sp
    str x9, [x0]
    mov sp, x1
    ldp x29, x30, [sp, #0]
    ldp x19, x20, [sp, #16]
    ldp x21, x22, [sp, #32]
    ldp x23, x24, [sp, #48]
    ldp x25, x26, [sp, #64]
    ldp x27, x28, [sp, #80]
    ldp d8, d9, [sp, #96]
    ldp d10, d11, [sp, #112]
    ldp d12, d13, [sp, #128]
    ldp d14, d15, [sp, #144]
    add sp, sp, #160
    br x30
    .size bench_min_switch, .-bench_min_switch

    .globl bench_fp_switch
    .hidden bench_fp_switch
    .type bench_fp_switch, %function
    .p2align 4
bench_fp_switch:
    sub sp, sp, #CORO__FRAME_SIZE
    stp x19, x20, [sp, #CORO__FRAME_X19]
    stp x21, x22, [sp, #CORO__FRAME_X21]
    stp x23, x24, [sp, #CORO__FRAME_X23]
    stp x25, x26, [sp, #CORO__FRAME_X25]
    stp x27, x28, [sp, #CORO__FRAME_X27]
    stp x29, x30, [sp, #CORO__FRAME_X29]
    stp d8, d9, [sp, #CORO__FRAME_D8]
    stp d10, d11, [sp, #CORO__FRAME_D10]
    stp d12, d13, [sp, #CORO__FRAME_D12]
    stp d14, d15, [sp, #CORO__FRAME_D14]
    mrs x9, fpcr
    str x9, [sp, #CORO__FRAME_FPCR]
    mov x9, sp
    str x9, [x0]
    mov sp, x1
    ldr x9, [sp, #CORO__FRAME_FPCR]
    msr fpcr, x9
    ldp x19, x20, [sp, #CORO__FRAME_X19]
    ldp x21, x22, [sp, #CORO__FRAME_X21]
    ldp x23, x24, [sp, #CORO__FRAME_X23]
    ldp x25, x26, [sp, #CORO__FRAME_X25]
    ldp x27, x28, [sp, #CORO__FRAME_X27]
    ldp x29, x30, [sp, #CORO__FRAME_X29]
    ldp d8, d9, [sp, #CORO__FRAME_D8]
    ldp d10, d11, [sp, #CORO__FRAME_D10]
    ldp d12, d13, [sp, #CORO__FRAME_D12]
    ldp d14, d15, [sp, #CORO__FRAME_D14]
    add sp, sp, #CORO__FRAME_SIZE
    br x30
    .size bench_fp_switch, .-bench_fp_switch

    .globl bench_min_start
    .hidden bench_min_start
    .type bench_min_start, %function
    .p2align 4
bench_min_start:
    .cfi_startproc
    .cfi_undefined x30 /* the outermost frame: debuggers stop unwinding here */
    mov x0, x19
    blr x20
    brk #0
    .cfi_endproc
    .size bench_min_start, .-bench_min_start

    .section .note.GNU-stack,"",%progbits
