/*
 * What AddressSanitizer, ThreadSanitizer and valgrind must be told so that
 * they follow a coroutine switch. Each hook compiles to nothing unless the
 * build has the tool: the state machine and the backends call them
 * unconditionally and grow no #ifdef of their own.
 */
#ifndef CORO_SANITIZER_H
#define CORO_SANITIZER_H

#include <stddef.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CORO_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define CORO_TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(CORO_ASAN)
#define CORO_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__) && !defined(CORO_TSAN)
#define CORO_TSAN 1
#endif

#ifdef CORO_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#ifdef CORO_TSAN
#include <sanitizer/tsan_interface.h>
#endif
#ifdef CORO_HAVE_VALGRIND_H
#include <valgrind/valgrind.h>
#endif

/* --- AddressSanitizer: which stack is current, and fake stacks --- */

/* Before a switch to the stack [bottom, bottom + size). fake_stack_save
 * keeps the leaving side's fake stack; NULL when that side never comes back,
 * so ASan frees it. */
static inline void coro__asan_switch_begin(void **fake_stack_save, const void *bottom, size_t size)
{
#ifdef CORO_ASAN
    __sanitizer_start_switch_fiber(fake_stack_save, bottom, size);
#else
    (void)fake_stack_save, (void)bottom, (void)size;
#endif
}

/* On arrival: the stack just left is reported through from_bottom and
 * from_size (either may be NULL). */
static inline void coro__asan_switch_end(void *fake_stack, const void **from_bottom, size_t *from_size)
{
#ifdef CORO_ASAN
    __sanitizer_finish_switch_fiber(fake_stack, from_bottom, from_size);
#else
    (void)fake_stack, (void)from_bottom, (void)from_size;
#endif
}

/* A reused stack still carries the poison of the frames it was abandoned
 * with (a closed coroutine never returns from its frames). */
static inline void coro__asan_unpoison(void *lo, size_t size)
{
#ifdef CORO_ASAN
    ASAN_UNPOISON_MEMORY_REGION(lo, size);
#else
    (void)lo, (void)size;
#endif
}

/* --- ThreadSanitizer: one fiber per coroutine --- */

static inline void *coro__tsan_fiber_create(void)
{
#ifdef CORO_TSAN
    return __tsan_create_fiber(0);
#else
    return NULL;
#endif
}

static inline void coro__tsan_fiber_destroy(void *fiber)
{
#ifdef CORO_TSAN
    if (fiber != NULL)
        __tsan_destroy_fiber(fiber);
#else
    (void)fiber;
#endif
}

static inline void *coro__tsan_fiber_current(void)
{
#ifdef CORO_TSAN
    return __tsan_get_current_fiber();
#else
    return NULL;
#endif
}

/* Flags 0: the switch orders everything before it before everything after,
 * as the hand-over between threads that the caller did already. Always
 * inlined: an instrumented function of its own would push its frame on one
 * fiber's shadow stack and pop it from the other's. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void coro__tsan_fiber_switch(void *fiber)
{
#ifdef CORO_TSAN
    __tsan_switch_to_fiber(fiber, 0);
#else
    (void)fiber;
#endif
}

/* --- valgrind: stacks it must know, or it reports every switch --- */

static inline unsigned coro__valgrind_stack_register(void *lo, size_t size)
{
#ifdef CORO_HAVE_VALGRIND_H
    return VALGRIND_STACK_REGISTER(lo, (char *)lo + size);
#else
    (void)lo, (void)size;
    return 0;
#endif
}

static inline void coro__valgrind_stack_deregister(unsigned id)
{
#ifdef CORO_HAVE_VALGRIND_H
    VALGRIND_STACK_DEREGISTER(id);
#else
    (void)id;
#endif
}

#endif /* CORO_SANITIZER_H */
