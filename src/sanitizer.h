/*
 * What AddressSanitizer, ThreadSanitizer and valgrind must be told so that
 * they follow a coroutine switch and see stacks for what they are. Each
 * hook compiles to nothing unless the build has the tool: the backends (for
 * switches) and pool.c (for stack memory) call them unconditionally and
 * grow no #ifdef of their own.
 */
#ifndef CORO_SANITIZER_H
#define CORO_SANITIZER_H

#include <stdbool.h>
#include <stddef.h>

#include "compiler.h"

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

/* Whether contexts carry sanitizer state, which coro__context_must_finish()
 * and coro__context_release() deal with: without, those calls are skipped. */
#if defined(CORO_ASAN) || defined(CORO_TSAN)
#define CORO_SANITIZER_FIBERS 1
#else
#define CORO_SANITIZER_FIBERS 0
#endif

#ifdef CORO_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#ifdef CORO_TSAN
#include <sanitizer/tsan_interface.h>
#endif
#ifdef CORO_HAVE_VALGRIND_H
#include <valgrind/memcheck.h>
#include <valgrind/valgrind.h>
#endif

/*
 * --- Switches: what each backend's context keeps for ASan and TSan ---
 *
 * ASan must be told, around every switch, which stack becomes current; it
 * keeps a fake stack per context for use-after-return detection, and it
 * reports on arrival which stack was left, which is how a context saved by
 * a switch (a resumer's, whose stack libcoro did not make) learns its bounds.
 * TSan has a fiber per coroutine; a resumer's context runs on whatever fiber
 * saved it.
 */
#if CORO_SANITIZER_FIBERS
/* A context keeps its fiber state in CORO__FIBER_FIELD(name), and passes
 * CORO__FIBER(its field) to the calls below: without ASan and TSan the
 * field is not there and the calls do nothing. */
#define CORO__FIBER_FIELD(name) struct coro__sanitizer_fiber name;
#define CORO__FIBER(field) (&(field))

struct coro__sanitizer_fiber {
    const void *stack_bottom;
    size_t stack_size;
    void *fake_stack;
    void *tsan_fiber;
    struct coro__sanitizer_fiber *switched_from;
    bool arriving; /* switched to, its arrival not yet reported to ASan */
};

/* A context that will run on the stack [lo, lo + size). */
static inline void coro__fiber_init(struct coro__sanitizer_fiber *fiber, const void *lo, size_t size)
{
    fiber->stack_bottom = lo;
    fiber->stack_size = size;
    fiber->fake_stack = NULL;
    fiber->switched_from = NULL;
    fiber->arriving = false;
#ifdef CORO_TSAN
    fiber->tsan_fiber = __tsan_create_fiber(0);
#else
    fiber->tsan_fiber = NULL;
#endif
}

/* A context whose stack the switch that saves it will tell (a resumer's). */
static inline void coro__fiber_init_unknown(struct coro__sanitizer_fiber *fiber)
{
    *fiber = (struct coro__sanitizer_fiber){0};
}

/* The lowest byte of the stack fiber's side runs on, where a switch from
 * it taught ASan's, or NULL. */
static inline const void *coro__fiber_stack_bottom(const struct coro__sanitizer_fiber *fiber)
{
    return fiber->stack_bottom;
}

/* A fiber on the stack that on_stack's side runs on (which a switch from
 * it taught), below top. */
static inline void coro__fiber_init_below(struct coro__sanitizer_fiber *fiber,
                                          const struct coro__sanitizer_fiber *on_stack, void *top)
{
    const char *bottom = on_stack->stack_bottom;

    coro__fiber_init(fiber, bottom, bottom != NULL ? (size_t)((char *)top - bottom) : 0);
}

static inline void coro__fiber_release(struct coro__sanitizer_fiber *fiber)
{
#ifdef CORO_TSAN
    if (fiber->tsan_fiber != NULL)
        __tsan_destroy_fiber(fiber->tsan_fiber);
#endif
    fiber->tsan_fiber = NULL;
}

/*
 * Just before the switch from save to to; save is NULL when the running
 * context is left for good, so that ASan frees its fake stack.
 * Always inlined: TSan's switch must not happen inside an instrumented
 * function of its own, which would push its frame on one fiber's shadow
 * stack and pop it from the other's.
 */
static CORO_ALWAYS_INLINE void coro__fiber_leave(struct coro__sanitizer_fiber *save,
                                                 struct coro__sanitizer_fiber *to)
{
#ifdef CORO_ASAN
    to->switched_from = save;
    to->arriving = true;
    __sanitizer_start_switch_fiber(save != NULL ? &save->fake_stack : NULL, to->stack_bottom,
                                   to->stack_size);
#endif
#ifdef CORO_TSAN
    if (save != NULL)
        save->tsan_fiber = __tsan_get_current_fiber();
    /* Flags 0: the switch orders what came before it before what follows. */
    __tsan_switch_to_fiber(to->tsan_fiber, 0);
#endif
    (void)save, (void)to;
}

/* First thing on arrival in self, the first arrival in a new context too.
 * Once per switch: a second call (a backend that ran a function on arrival
 * reports the arrival there, then again where the switch returns) does
 * nothing. */
static CORO_ALWAYS_INLINE void coro__fiber_arrive(struct coro__sanitizer_fiber *self)
{
#ifdef CORO_ASAN
    struct coro__sanitizer_fiber *from = self->switched_from;

    if (!self->arriving)
        return;
    self->arriving = false;
    __sanitizer_finish_switch_fiber(self->fake_stack, from ? &from->stack_bottom : NULL,
                                    from ? &from->stack_size : NULL);
#endif
    (void)self;
}

/* A context that was left holding a fake stack: ASan frees it only when the
 * context is left for good (coro__fiber_leave() with save NULL). */
static inline bool coro__fiber_holds_fake_stack(const struct coro__sanitizer_fiber *fiber)
{
#ifdef CORO_ASAN
    return fiber->fake_stack != NULL;
#else
    (void)fiber;
    return false;
#endif
}

#else
#define CORO__FIBER_FIELD(name)
#define CORO__FIBER(field) ((struct coro__sanitizer_fiber *)NULL)
struct coro__sanitizer_fiber;

static inline void coro__fiber_init(struct coro__sanitizer_fiber *fiber, const void *lo, size_t size)
{
    (void)fiber, (void)lo, (void)size;
}

static inline void coro__fiber_init_unknown(struct coro__sanitizer_fiber *fiber)
{
    (void)fiber;
}

static inline void coro__fiber_init_below(struct coro__sanitizer_fiber *fiber,
                                          const struct coro__sanitizer_fiber *on_stack, void *top)
{
    (void)fiber, (void)on_stack, (void)top;
}

static inline const void *coro__fiber_stack_bottom(const struct coro__sanitizer_fiber *fiber)
{
    (void)fiber;
    return NULL;
}

static inline void coro__fiber_release(struct coro__sanitizer_fiber *fiber)
{
    (void)fiber;
}

static inline void coro__fiber_leave(struct coro__sanitizer_fiber *save,
                                     struct coro__sanitizer_fiber *to)
{
    (void)save, (void)to;
}

static inline void coro__fiber_arrive(struct coro__sanitizer_fiber *self)
{
    (void)self;
}

static inline bool coro__fiber_holds_fake_stack(const struct coro__sanitizer_fiber *fiber)
{
    (void)fiber;
    return false;
}
#endif

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

/* --- valgrind: stacks it must know, or it reports every switch --- */

/* Each function marks its parameters used: valgrind.h's requests expand to
 * nothing of them on an architecture valgrind does not run on. */
static inline unsigned coro__valgrind_stack_register(void *lo, size_t size)
{
    (void)lo, (void)size;
#ifdef CORO_HAVE_VALGRIND_H
    return VALGRIND_STACK_REGISTER(lo, (char *)lo + size);
#else
    return 0;
#endif
}

static inline void coro__valgrind_stack_deregister(unsigned id)
{
    (void)id;
#ifdef CORO_HAVE_VALGRIND_H
    VALGRIND_STACK_DEREGISTER(id);
#endif
}

/*
 * Memory no stack is using (free slots, guard pages): memcheck then reports
 * any access to it, and its leak check skips it rather than read through
 * slabs of untouched pages and guard regions (which took one suite's check
 * from 1 s to 40 s). Handed out again, it is undefined until written.
 */
/* valgrind 3.19 does not know process_madvise(), and says so on stderr. */
static inline bool coro__running_on_valgrind(void)
{
#ifdef CORO_HAVE_VALGRIND_H
    return RUNNING_ON_VALGRIND != 0;
#else
    return false;
#endif
}

static inline void coro__valgrind_unused(void *lo, size_t size)
{
    (void)lo, (void)size;
#ifdef CORO_HAVE_VALGRIND_H
    (void)VALGRIND_MAKE_MEM_NOACCESS(lo, size);
#endif
}

static inline void coro__valgrind_in_use(void *lo, size_t size)
{
    (void)lo, (void)size;
#ifdef CORO_HAVE_VALGRIND_H
    (void)VALGRIND_MAKE_MEM_UNDEFINED(lo, size);
#endif
}

#endif /* CORO_SANITIZER_H */
