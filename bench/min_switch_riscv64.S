/*
 * coro-bench's baseline switches for RISC-V 64 (LP64D; see coro_bench.c).
 *
 * void bench_min_switch(void **save_sp, void *to_sp)
 *   The least any stackful switch does: stores s0-s11, ra and fs0-fs11
 *   below sp, stores sp in *save_sp, takes to_sp, loads the same set from
 *   there and jumps to the loaded ra. Frame at a saved stack pointer, 208
 *   bytes (8 unused after s11 keep sp 16-byte aligned):
 *     +0 s1 .. +80 s11 (8 bytes each)  +96 fs0 .. +184 fs11  +192 s0  +200 ra
 *
 * void bench_fp_switch(void **save_sp, void *to_sp)
 *   The least an ABI-complete switch does: the same, and the rounding mode
 *   frm (callee-saved too), as libcoro's src/switch_riscv64.S, into the
 *   same frame (src/switch_frame.h): the 208 above, then frm and 8 unused
 *   bytes.
 *
 * Both end as src/switch_riscv64.S does, with `jr t1`, not `ret` (which is
 * `jr ra`): the return-address stack expects this call's own caller, which
 * a switch never returns to, and a `ret` would charge the baseline a
 * misprediction that libcoro does not pay.
 *
 * void bench_min_start(void)
 *   Where either switch lands in a context's first frame (coro_bench.c lays
 *   it out TOP_GAP bytes below a 16-byte aligned top): calls s2(s1), which
 *   never returns.
 */
#include "switch_frame.h"

.if CORO__FRAME_SIZE - CORO__FRAME_FP_STATE_BYTES != 208 || CORO__FRAME_FP_STATE != 192 || CORO__FRAME_START_ARG != 0 || CORO__FRAME_START_FN != 8 || CORO__FRAME_PC != 216 || CORO__FRAME_S0 != 208 || CORO__FRAME_FS0 != 96
    .error "coro_bench.c's min frame (switch_frame.h's without its FP state) is not bench_min_switch's"
.endif

    .text

    .globl bench_min_switch
    .hidden bench_min_switch
    .type bench_min_switch, @function
    .p2align 4
bench_min_switch:
    addi sp, sp, -208
    sd s1, 0(sp)
    sd s2, 8(sp)
    sd s3, 16(sp)
    sd s4, 24(sp)
    sd s5, 32(sp)
    sd s6, 40(sp)
    sd s7, 48(sp)
    sd s8, 56(sp)
    sd s9, 64(sp)
    sd s10, 72(sp)
    sd s11, 80(sp)
    sd s0, 192(sp)
    sd ra, 200(sp)
    fsd fs0, 96(sp)
    fsd fs1, 104(sp)
    fsd fs2, 112(sp)
    fsd fs3, 120(sp)
    fsd fs4, 128(sp)
    fsd fs5, 136(sp)
    fsd fs6, 144(sp)
    fsd fs7, 152(sp)
    fsd fs8, 160(sp)
    fsd fs9, 168(sp)
    fsd fs10, 176(sp)
    fsd fs11, 184(sp)
    sd sp, 0(a0)
    mv sp, a1
    ld s1, 0(sp)
    ld s2, 8(sp)
    ld s3, 16(sp)
    ld s4, 24(sp)
    ld s5, 32(sp)
    ld s6, 40(sp)
    ld s7, 48(sp)
    ld s8, 56(sp)
    ld s9, 64(sp)
    ld s10, 72(sp)
    ld s11, 80(sp)
    ld s0, 192(sp)
    ld t1, 200(sp)
    fld fs0, 96(sp)
    fld fs1, 104(sp)
    fld fs2, 112(sp)
    fld fs3, 120(sp)
    fld fs4, 128(sp)
    fld fs5, 136(sp)
    fld fs6, 144(sp)
    fld fs7, 152(sp)
    fld fs8, 160(sp)
    fld fs9, 168(sp)
    fld fs10, 176(sp)
    fld fs11, 184(sp)
    addi sp, sp, 208
    jr t1
    .size bench_min_switch, .-bench_min_switch

    .globl bench_fp_switch
    .hidden bench_fp_switch
    .type bench_fp_switch, @function
    .p2align 4
bench_fp_switch:
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
    mv sp, a1
    ld t0, CORO__FRAME_FRM(sp)
    fsrm t0
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
    .size bench_fp_switch, .-bench_fp_switch

    .globl bench_min_start
    .hidden bench_min_start
    .type bench_min_start, @function
    .p2align 4
bench_min_start:
    .cfi_startproc
    .cfi_undefined ra /* the outermost frame: debuggers stop unwinding here */
    mv a0, s1
    jalr s2
    unimp
    .cfi_endproc
    .size bench_min_start, .-bench_min_start

    .section .note.GNU-stack,"",@progbits
