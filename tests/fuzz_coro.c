/*
 * libFuzzer target: libcoro checked, call by call, against a reference model
 * of its state machine as include/coro.h documents it.
 *
 * The input drives up to SLOT_COUNT coroutines. Each coroutine's body is a
 * small interpreter of a script taken from the input; scripts yield (with
 * coro_yield() or coro_suspend()), resume other slots, throw errors into
 * them with coro_throw(), delegate with coro_yield_from(), register
 * cleanups, close and destroy slots, create new coroutines and try every
 * kind of misuse. Every library call, from the driver, a body or a cleanup,
 * goes through a checked_* wrapper that asks the model first what must
 * happen (an error number, or a switch into some coroutine), makes the real
 * call, and then compares the result, errno, *out (*received), coro_current()
 * and coro_status() of every live slot. A throw is modelled as a resume whose
 * value is an error: it reaches the innermost delegate of a coro_yield_from
 * chain, whose pending yield must fail with it.
 * The first difference is printed with the model's state and aborts.
 *
 * Input format (a missing byte reads as 0; bytes are taken modulo the count):
 *   driver operation, one byte of DRIVER_OP_COUNT kinds, then:
 *     OP_CREATE   slot, flags (bit 0: smallest stack), length (0..MAX_STEPS),
 *                 then length steps of two bytes: step kind, step argument
 *     OP_NEXT     slot
 *     OP_SEND     slot, how (bits 0-1: next/send/resume/resume without out,
 *                 bit 2: send NULL rather than a fresh value)
 *     OP_CLOSE    slot
 *     OP_DESTROY  slot
 *     OP_MISUSE   kind, slot
 *     OP_THROW    slot, how (bits 0-2: the error, throw_errors[how & 7],
 *                 which has 0 and negative ones too; bit 3: out NULL)
 *   step arguments (slot = argument % SLOT_COUNT, rest = argument / SLOT_COUNT):
 *     STEP_YIELD       bit 0: yield NULL; bits 1-2: 0 coro_yield, 1
 *                      coro_suspend, 2 coro_suspend with received NULL, 3
 *                      coro_yield; bits 3-4: on a thrown error, 0 or 3 go
 *                      on with the next step, 1 return (void *)error, 2
 *                      yield (void *)error again (same call) until a value
 *                      is sent or the step bound is reached
 *     STEP_RESUME      slot; rest as OP_SEND's how
 *     STEP_YIELD_FROM  slot
 *     STEP_DEFER       slot; rest: cleanup action (CLEANUP_*), slot is its target
 *     STEP_CLOSE, STEP_DESTROY  slot
 *     STEP_SPAWN       slot; rest bit 0: smallest stack. The new coroutine's
 *                      script is the rest of this one's.
 *     STEP_MISUSE      slot; rest: misuse kind
 *     STEP_RETURN      bit 0: return NULL
 *     STEP_THROW       slot; rest as OP_THROW's how
 *
 * Work per input is bounded: MAX_DRIVER_OPS operations, MAX_STEPS_RUN body
 * steps in all (then bodies return; a yield again after a throw counts as a
 * step), MAX_RECORDS cleanups. Nested resumes and throws are bounded by the
 * slots themselves: a busy coroutine cannot be resumed or thrown into.
 */
#include "coro.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOT_COUNT 6
#define MAX_STEPS 8
#define MAX_DRIVER_OPS 200
#define MAX_STEPS_RUN 2000
#define MAX_RECORDS 128
#define NO_SLOT (-1) /* the thread itself as a resumer; no link */

/* New kinds go last, before the count: the committed seeds keep their meaning. */
enum driver_op {
    OP_CREATE,
    OP_NEXT,
    OP_SEND,
    OP_CLOSE,
    OP_DESTROY,
    OP_MISUSE,
    OP_THROW,
    DRIVER_OP_COUNT
};

enum step_kind {
    STEP_YIELD,
    STEP_RESUME,
    STEP_YIELD_FROM,
    STEP_DEFER,
    STEP_CLOSE,
    STEP_DESTROY,
    STEP_SPAWN,
    STEP_MISUSE,
    STEP_RETURN,
    STEP_THROW,
    STEP_KIND_COUNT
};

enum cleanup_action {
    CLEANUP_LOG,            /* only its place in the order is checked */
    CLEANUP_TRY_YIELD,      /* ECANCELED: the coroutine is ending */
    CLEANUP_TRY_YIELD_FROM, /* ECANCELED too */
    CLEANUP_RESUME,         /* a cleanup may run other coroutines */
    CLEANUP_CLOSE,
    CLEANUP_DESTROY,
    CLEANUP_DEFER_ANOTHER, /* registered while ending: runs next */
    CLEANUP_TRY_SUSPEND,   /* ECANCELED, as a yield */
    CLEANUP_TRY_THROW_SELF, /* EBUSY: the coroutine is running its cleanups */
    CLEANUP_THROW,         /* into another coroutine: as a resume */
    CLEANUP_ACTION_COUNT
};

enum misuse_kind {
    MISUSE_YIELD,      /* coro_yield on a slot: EPERM unless it is the running one */
    MISUSE_YIELD_FROM, /* coro_yield_from from a slot to the next one */
    MISUSE_DEFER,      /* coro_defer on a slot: EPERM unless running */
    MISUSE_DEFER_NULL_FN,
    MISUSE_NULL_ARGUMENTS,
    MISUSE_BAD_CREATE,
    MISUSE_SEND_VALUE, /* a non-NULL value: EINVAL for a CORO_CREATED one */
    MISUSE_SUSPEND,    /* coro_suspend on a slot: EPERM unless it is the running one */
    MISUSE_THROW_BAD_ERROR, /* coro_throw of 0, -1, INT_MIN into a slot: EINVAL */
    MISUSE_THROW,      /* coro_throw of a good error into a slot, whatever its state */
    MISUSE_KIND_COUNT
};

enum resume_api { API_NEXT, API_SEND, API_RESUME, API_RESUME_NO_OUT };

/* How a body yields: coro_yield, or coro_suspend with or without received. */
enum yield_api { YIELD_PLAIN, YIELD_SUSPEND, YIELD_SUSPEND_NO_RECEIVED };

/* What a yield step does when its yield fails with a thrown error. */
enum on_throw { ON_THROW_GO_ON, ON_THROW_RETURN, ON_THROW_YIELD_AGAIN, ON_THROW_GO_ON_TOO };

/* The errors a throw byte chooses from (its bits 0-2): 0 and the negative
 * ones are EINVAL; the others are delivered, also those that are error
 * numbers of the API itself (a thrown EPERM or ECANCELED must not be taken
 * for coro_suspend's own). */
static const int throw_errors[8] = {EPIPE, 0, ECANCELED, -1, EPERM, INT_MAX, INT_MIN, 1};

/* How a coroutine is ending, once `ending` is set. */
enum end_kind { END_RETURN, END_CLOSE };

struct step {
    uint8_t kind;
    uint8_t arg;
};

struct cleanup_record {
    int id; /* its index in world.records; -1 for one that must never run */
    int owner;
    uint8_t action;
    uint8_t target;
};

struct slot {
    /* The real coroutine (NULL: the slot is empty) and what its body runs. */
    coro_t *co;
    struct step script[MAX_STEPS];
    size_t script_len;
    size_t stack_size;
    uintptr_t body_frame; /* the body's first frame: cleanups run near it */

    /* The model: what the library must report for this coroutine. */
    enum coro_status status;
    int resumer; /* whom control goes back to on a yield or end */
    int delegate;
    int delegator;
    bool ending;
    enum end_kind end_kind;
    bool closed_by_delegator; /* its end lets the delegator go on ending */
    void *result;             /* what the body returns, when ending by return */
    void *sent;               /* what its pending coro_yield() must return */
    int thrown;               /* or the error it must fail with (0: none) */
    size_t pc;                /* the script step its body must run next */
    int cleanups[MAX_RECORDS]; /* record ids still to run, last one first */
    size_t cleanup_count;
};

static struct {
    struct slot slots[SLOT_COUNT];
    int current;    /* the running slot as the model sees it, or NO_SLOT */
    void *handback; /* what the last yield or end handed to its resumer */
    uintptr_t tokens;
    size_t op_index;
    size_t steps_run;
    struct cleanup_record records[MAX_RECORDS];
    size_t record_count;
    const char *call; /* the library call being checked, for reports */
    int call_slot;
} world;

/* A cleanup that the library refused to register: it must never run. */
static struct cleanup_record refused_record = {.id = -1, .owner = NO_SLOT};

static void *script_body(coro_t *co, void *arg);
static void scripted_cleanup(void *arg);
static int checked_destroy(int k);

/* ---------------------------------------------------------------- reports */

static const char *status_name(enum coro_status status)
{
    static const char *const names[] = {"CREATED", "SUSPENDED", "RUNNING", "NORMAL", "DEAD"};

    return (unsigned)status < sizeof names / sizeof names[0] ? names[status] : "?";
}

static int slot_of(const coro_t *co)
{
    for (int k = 0; k < SLOT_COUNT; k++)
        if (co != NULL && world.slots[k].co == co)
            return k;
    return NO_SLOT;
}

static void dump_world(void)
{
    fprintf(stderr, "  model: current slot %d; library: coro_current() is slot %d\n", world.current,
            slot_of(coro_current()));
    for (int k = 0; k < SLOT_COUNT; k++) {
        const struct slot *s = &world.slots[k];

        if (s->co == NULL) {
            fprintf(stderr, "  slot %d: empty\n", k);
            continue;
        }
        fprintf(stderr,
                "  slot %d: model %s, library %s; resumer %d, delegate %d, delegator %d,"
                " ending %d, pc %zu/%zu, %zu cleanups pending\n",
                k, status_name(s->status), status_name(coro_status(s->co)), s->resumer,
                s->delegate, s->delegator, s->ending, s->pc, s->script_len, s->cleanup_count);
    }
}

static _Noreturn void mismatch(const char *format, ...)
{
    va_list args;

    fprintf(stderr, "fuzz_coro: mismatch in driver operation %zu, checking %s (slot %d): ",
            world.op_index, world.call ? world.call : "-", world.call_slot);
    va_start(args, format);
    vfprintf(stderr, format, args);
    va_end(args);
    fputc('\n', stderr);
    dump_world();
    abort();
}

static void note_call(const char *call, int k)
{
    world.call = call;
    world.call_slot = k;
}

static void expect_int(const char *what, long actual, long expected)
{
    if (actual != expected)
        mismatch("%s: expected %ld, got %ld", what, expected, actual);
}

static void expect_ptr(const char *what, const void *actual, const void *expected)
{
    if (actual != expected)
        mismatch("%s: expected %p, got %p", what, expected, actual);
}

/* A pointer-returning call that must fail: NULL and errno. */
static void expect_failure(const char *what, const void *result, int expected_errno)
{
    int observed = errno;

    expect_ptr(what, result, NULL);
    expect_int(what, observed, expected_errno);
}

/* ------------------------------------------------------------- the model */

static struct slot *slot(int k)
{
    return &world.slots[k];
}

static bool live(int k)
{
    return k != NO_SLOT && slot(k)->co != NULL;
}

static coro_t *handle(int k)
{
    return live(k) ? slot(k)->co : NULL;
}

static void *new_token(void)
{
    /* Distinct, non-NULL, never dereferenced. */
    return (void *)(uintptr_t)(0x1000u + 16u * world.tokens++);
}

/* Everything the library reports must agree with the model. */
static void check_world(void)
{
    coro_t *expected_current = world.current == NO_SLOT ? NULL : slot(world.current)->co;

    for (int k = 0; k < SLOT_COUNT; k++)
        if (live(k) && coro_status(slot(k)->co) != slot(k)->status)
            mismatch("coro_status(slot %d): expected %s, got %s", k, status_name(slot(k)->status),
                     status_name(coro_status(slot(k)->co)));
    if (coro_current() != expected_current)
        mismatch("coro_current(): expected slot %d, got slot %d (%p)", world.current,
                 slot_of(coro_current()), (void *)coro_current());
}

/* After a call that may switch: control must be back with the caller. */
static void expect_back_in(int caller)
{
    if (world.current != caller)
        mismatch("the call returned to slot %d, but the model has slot %d running", caller,
                 world.current);
    check_world();
}

static bool busy(int k)
{
    const struct slot *s = slot(k);

    return s->status == CORO_RUNNING || s->status == CORO_NORMAL || s->delegator != NO_SLOT;
}

static int expected_resume_error(int k, const void *value)
{
    if (!live(k))
        return EINVAL;
    if (busy(k))
        return EBUSY;
    if (slot(k)->status == CORO_DEAD)
        return ESRCH;
    if (slot(k)->status == CORO_CREATED && value != NULL)
        return EINVAL;
    return 0;
}

/* EINVAL for a NULL coroutine or a bad error comes before EBUSY. */
static int expected_throw_error(int k, int error)
{
    if (!live(k) || error <= 0)
        return EINVAL;
    if (busy(k))
        return EBUSY;
    return slot(k)->status == CORO_DEAD ? ESRCH : 0;
}

static int expected_close_error(int k)
{
    if (!live(k))
        return EINVAL;
    return busy(k) ? EBUSY : 0;
}

/* "Not the running coroutine" is checked before "ending": a coroutine that
 * is ending but not running (it resumed another from a cleanup) gets EPERM. */
static int expected_yield_error(int k)
{
    if (!live(k))
        return EINVAL;
    if (k != world.current)
        return EPERM;
    return slot(k)->ending ? ECANCELED : 0;
}

static int expected_yield_from_error(int k, int sub)
{
    int error = live(sub) ? expected_yield_error(k) : EINVAL;

    return error != 0 ? error : expected_resume_error(sub, NULL);
}

static int expected_defer_error(int k, bool fn_is_null)
{
    if (!live(k) || fn_is_null)
        return EINVAL;
    return k != world.current ? EPERM : 0;
}

/* Control passes from the current coroutine into k with value; a delegating
 * coroutine passes it on down its chain to the innermost delegate. */
static void model_enter(int k, void *value)
{
    int from = world.current;

    if (from != NO_SLOT)
        slot(from)->status = CORO_NORMAL;
    slot(k)->resumer = from;
    while (slot(k)->delegate != NO_SLOT) {
        int sub = slot(k)->delegate;

        slot(k)->status = CORO_NORMAL;
        slot(sub)->resumer = k;
        k = sub;
    }
    slot(k)->status = CORO_RUNNING;
    slot(k)->sent = value;
    slot(k)->thrown = 0;
    world.current = k;
}

/* A throw into k: a CORO_CREATED one dies without running and hands back
 * NULL; a suspended one is entered as by a resume, and the pending yield of
 * the innermost coroutine of its delegate chain fails with error (every
 * coro_yield_from on the way passes it on). */
static void model_throw(int k, int error)
{
    if (slot(k)->status == CORO_CREATED) {
        slot(k)->status = CORO_DEAD;
        world.handback = NULL;
        return;
    }
    model_enter(k, NULL);
    slot(world.current)->thrown = error;
}

/* k hands value back to whoever resumed it. */
static void model_leave(int k, void *value)
{
    int resumer = slot(k)->resumer;

    world.current = resumer;
    if (resumer != NO_SLOT)
        slot(resumer)->status = CORO_RUNNING;
    world.handback = value;
}

/* k yields: its delegators suspend with it and the value passes through
 * them to the outermost one's resumer. */
static void model_yield(int k, void *value)
{
    slot(k)->status = CORO_SUSPENDED;
    while (slot(k)->delegator != NO_SLOT) {
        k = slot(k)->delegator;
        slot(k)->status = CORO_SUSPENDED;
    }
    model_leave(k, value);
}

static void model_begin_yield_from(int k, int sub)
{
    slot(k)->delegate = sub;
    slot(sub)->delegator = k;
    model_enter(sub, NULL);
}

/* k is ending and its delegate is closed: once its cleanups have run it is
 * dead. A delegate closed by its ending delegator hands control back to it,
 * which goes on with its own cleanups. Returns with the next cleanup due, or
 * control back with a resumer. */
static void model_settle(int k)
{
    for (;;) {
        struct slot *s = slot(k);

        if (s->cleanup_count > 0)
            return;
        s->status = CORO_DEAD;
        if (s->end_kind == END_RETURN) {
            if (s->delegator != NO_SLOT) {
                slot(s->delegator)->delegate = NO_SLOT;
                s->delegator = NO_SLOT;
            }
            model_leave(k, s->result);
            return;
        }
        model_leave(k, NULL);
        if (!s->closed_by_delegator)
            return;
        k = s->resumer;
    }
}

static void model_begin_return(int k, void *result)
{
    slot(k)->ending = true;
    slot(k)->end_kind = END_RETURN;
    slot(k)->result = result;
    model_settle(k);
}

/* The closer (the current coroutine) switches into k, which ends. */
static void model_start_ending_by_close(int k, bool by_delegator)
{
    struct slot *s = slot(k);

    model_enter(k, NULL);
    s->ending = true;
    s->end_kind = END_CLOSE;
    s->closed_by_delegator = by_delegator;
}

/* Closing a suspended k closes its delegate chain first, innermost first. */
static void model_begin_close(int k)
{
    int sub = slot(k)->delegate;

    if (slot(k)->status == CORO_CREATED || slot(k)->status == CORO_DEAD) {
        slot(k)->status = CORO_DEAD; /* never runs: no cleanups to run */
        return;
    }
    /* Unlinked first, so that model_enter goes into k itself. */
    slot(k)->delegate = NO_SLOT;
    model_start_ending_by_close(k, false);
    while (sub != NO_SLOT) {
        int next = slot(sub)->delegate;

        slot(sub)->delegator = NO_SLOT;
        slot(sub)->delegate = NO_SLOT;
        model_start_ending_by_close(sub, true);
        k = sub;
        sub = next;
    }
    model_settle(k);
}

static void model_reset_slot(int k)
{
    struct slot *s = slot(k);

    memset(s, 0, sizeof *s);
    s->resumer = s->delegate = s->delegator = NO_SLOT;
}

/* Where a body is, checked at each of its steps. */
static void model_step_starts(int k, size_t pc)
{
    if (world.current != k)
        mismatch("slot %d runs its step %zu, but the model has slot %d running", k, pc,
                 world.current);
    expect_int("the step the body runs next", (long)pc, (long)slot(k)->pc);
    check_world();
}

/* ------------------------------------------------- checked library calls */

static void call_resume(coro_t *co, void *value, enum resume_api api, int expected, int caller)
{
    void *const untouched = (void *)&refused_record;
    void *out = untouched;
    void *result;

    errno = 0;
    switch (api) {
    case API_NEXT:
    case API_SEND:
        result = api == API_NEXT ? coro_next(co) : coro_send(co, value);
        if (expected != 0)
            expect_failure("coro_send/coro_next", result, expected);
        else
            expect_ptr("the value coro_send/coro_next returned", result, world.handback);
        break;
    case API_RESUME:
        expect_int("coro_resume's error number", coro_resume(co, value, &out), expected);
        expect_ptr("coro_resume's *out", out, expected == 0 ? world.handback : untouched);
        break;
    default:
        expect_int("coro_resume(out NULL)'s error number", coro_resume(co, value, NULL), expected);
        break;
    }
    expect_back_in(caller);
}

static void checked_resume(int k, void *value, enum resume_api api)
{
    int caller = world.current;
    int expected;

    if (api == API_NEXT)
        value = NULL;
    expected = expected_resume_error(k, value);
    note_call("coro_resume", k);
    if (expected == 0)
        model_enter(k, value);
    call_resume(handle(k), value, api, expected, caller);
}

/* A resume described by a byte: the API in bits 0-1, NULL in bit 2. */
static void checked_resume_by(int k, unsigned how)
{
    checked_resume(k, (how & 4u) ? NULL : new_token(), (enum resume_api)(how & 3u));
}

/*
 * A yield by k with coro_yield() or coro_suspend(). Returns the error thrown
 * into its pending yield (the model says which), or 0: a value was sent, or
 * the call failed at once as it had to.
 */
static int checked_yield(int k, void *value, enum yield_api api)
{
    void *const untouched = (void *)&refused_record;
    void *received = untouched;
    void **receivedp = api == YIELD_SUSPEND_NO_RECEIVED ? NULL : &received;
    int expected = expected_yield_error(k);
    void *sent;
    int error, observed_errno, thrown;

    note_call(api == YIELD_PLAIN ? "coro_yield" : "coro_suspend", k);
    if (expected != 0) {
        errno = 0;
        if (api == YIELD_PLAIN) {
            expect_failure("coro_yield", coro_yield(handle(k), value), expected);
        } else {
            expect_int("coro_suspend's error number", coro_suspend(handle(k), value, receivedp),
                       expected);
            expect_ptr("coro_suspend's *received after its error", received, untouched);
        }
        check_world();
        return 0;
    }
    model_yield(k, value);
    /* Back only when resumed or thrown into: a close never returns here. */
    if (api == YIELD_PLAIN) {
        sent = coro_yield(handle(k), value);
        observed_errno = errno;
        note_call("coro_yield's return", k);
        expect_back_in(k);
        thrown = slot(k)->thrown;
        if (thrown != 0) {
            expect_ptr("the value coro_yield returned on a throw", sent, NULL);
            expect_int("errno after coro_yield got a throw", observed_errno, thrown);
        } else {
            expect_ptr("the value coro_yield returned", sent, slot(k)->sent);
        }
    } else {
        error = coro_suspend(handle(k), value, receivedp);
        note_call("coro_suspend's return", k);
        expect_back_in(k);
        thrown = slot(k)->thrown;
        expect_int("coro_suspend's return (the error thrown, or 0)", error, thrown);
        expect_ptr(thrown != 0 ? "coro_suspend's *received after a throw"
                               : "coro_suspend's *received (the value sent)",
                   received, thrown != 0 || receivedp == NULL ? untouched : slot(k)->sent);
    }
    slot(k)->thrown = 0;
    return thrown;
}

static void checked_throw(int k, int error, bool out_is_null)
{
    void *const untouched = (void *)&refused_record;
    void *out = untouched;
    int caller = world.current;
    int expected = expected_throw_error(k, error);

    note_call("coro_throw", k);
    if (expected == 0)
        model_throw(k, error);
    errno = 0; /* a plain coro_yield thrown into must set it */
    expect_int("coro_throw's error number", coro_throw(handle(k), error, out_is_null ? NULL : &out),
               expected);
    expect_ptr("coro_throw's *out", out, expected == 0 && !out_is_null ? world.handback : untouched);
    expect_back_in(caller);
}

/* A throw described by a byte: the error in bits 0-2, out NULL in bit 3. */
static void checked_throw_by(int k, unsigned how)
{
    checked_throw(k, throw_errors[how & 7u], (how & 8u) != 0);
}

static void checked_yield_from(int k, int sub)
{
    int expected = expected_yield_from_error(k, sub);
    void *result;

    note_call("coro_yield_from", k);
    if (expected != 0) {
        errno = 0;
        expect_failure("coro_yield_from", coro_yield_from(handle(k), handle(sub)), expected);
        check_world();
        return;
    }
    model_begin_yield_from(k, sub);
    result = coro_yield_from(handle(k), handle(sub));
    note_call("coro_yield_from's return", k);
    expect_back_in(k);
    expect_ptr("the value coro_yield_from returned (the delegate's result)", result,
               world.handback);
}

static struct cleanup_record *new_record(int owner, unsigned action, int target)
{
    struct cleanup_record *record;

    if (world.record_count == MAX_RECORDS)
        return NULL;
    record = &world.records[world.record_count];
    *record = (struct cleanup_record){
        .id = (int)world.record_count, .owner = owner, .action = (uint8_t)action, .target = (uint8_t)target};
    world.record_count++;
    return record;
}

static void checked_defer(int k, bool fn_is_null, unsigned action, int target)
{
    int expected = expected_defer_error(k, fn_is_null);
    struct cleanup_record *record = expected == 0 ? new_record(k, action, target) : &refused_record;

    if (record == NULL)
        return; /* out of records for this input: bounded work */
    note_call("coro_defer", k);
    expect_int("coro_defer's error number",
               coro_defer(handle(k), fn_is_null ? NULL : scripted_cleanup, record), expected);
    if (expected == 0)
        slot(k)->cleanups[slot(k)->cleanup_count++] = record->id;
    check_world();
}

static int checked_close(int k)
{
    int caller = world.current;
    int expected = expected_close_error(k);

    note_call("coro_close", k);
    if (expected == 0)
        model_begin_close(k);
    expect_int("coro_close's error number", coro_close(handle(k)), expected);
    expect_back_in(caller);
    return expected;
}

static int checked_destroy(int k)
{
    int caller = world.current;
    int expected = live(k) ? expected_close_error(k) : 0;

    note_call("coro_destroy", k);
    if (expected == 0 && live(k))
        model_begin_close(k);
    expect_int("coro_destroy's error number", coro_destroy(handle(k)), expected);
    if (expected == 0 && live(k))
        model_reset_slot(k);
    expect_back_in(caller);
    return expected;
}

static void checked_create(int k, const struct step *script, size_t len, bool smallest_stack)
{
    size_t stack_size = smallest_stack ? CORO_MIN_STACK_SIZE : 0;
    coro_t *co;

    note_call("coro_create", k);
    co = coro_create(script_body, (void *)(intptr_t)k, stack_size);
    if (co == NULL)
        mismatch("coro_create failed with errno %d", errno);
    model_reset_slot(k);
    slot(k)->co = co;
    slot(k)->status = CORO_CREATED;
    slot(k)->stack_size = smallest_stack ? CORO_MIN_STACK_SIZE : CORO_DEFAULT_STACK_SIZE;
    slot(k)->script_len = len;
    memcpy(slot(k)->script, script, len * sizeof *script);
    check_world();
}

/* Each NULL argument gets its documented answer, wherever it is called. */
static void check_null_arguments(void)
{
    void *const untouched = (void *)&refused_record;
    void *out = untouched;

    note_call("NULL arguments", world.current);
    errno = 0;
    expect_failure("coro_yield(NULL)", coro_yield(NULL, new_token()), EINVAL);
    errno = 0;
    expect_failure("coro_yield_from(current, NULL)", coro_yield_from(coro_current(), NULL), EINVAL);
    errno = 0;
    expect_failure("coro_yield_from(NULL, NULL)", coro_yield_from(NULL, NULL), EINVAL);
    errno = 0;
    expect_failure("coro_send(NULL)", coro_send(NULL, new_token()), EINVAL);
    errno = 0;
    expect_failure("coro_next(NULL)", coro_next(NULL), EINVAL);
    expect_int("coro_resume(NULL)", coro_resume(NULL, NULL, &out), EINVAL);
    expect_ptr("coro_resume(NULL)'s *out", out, untouched);
    expect_int("coro_close(NULL)", coro_close(NULL), EINVAL);
    expect_int("coro_destroy(NULL)", coro_destroy(NULL), 0);
    expect_int("coro_defer(NULL)", coro_defer(NULL, scripted_cleanup, &refused_record), EINVAL);
    expect_int("coro_status(NULL)", coro_status(NULL), CORO_DEAD);
    expect_int("coro_suspend(NULL)", coro_suspend(NULL, new_token(), &out), EINVAL);
    expect_ptr("coro_suspend(NULL)'s *received", out, untouched);
    expect_int("coro_suspend(NULL, received NULL)", coro_suspend(NULL, NULL, NULL), EINVAL);
    expect_int("coro_throw(NULL)", coro_throw(NULL, EPIPE, &out), EINVAL);
    expect_ptr("coro_throw(NULL)'s *out", out, untouched);
    expect_int("coro_throw(NULL, 0, NULL)", coro_throw(NULL, 0, NULL), EINVAL);
    check_world();
}

static void check_bad_create(void)
{
    note_call("coro_create with bad arguments", world.current);
    errno = 0;
    expect_failure("coro_create(NULL body)", coro_create(NULL, NULL, 0), EINVAL);
    errno = 0;
    expect_failure("coro_create(stack size 1)", coro_create(script_body, NULL, 1), EINVAL);
    errno = 0;
    expect_failure("coro_create(stack size CORO_MIN_STACK_SIZE - 1)",
                   coro_create(script_body, NULL, CORO_MIN_STACK_SIZE - 1), EINVAL);
    check_world();
}

static void misuse(unsigned kind, int target)
{
    switch ((enum misuse_kind)(kind % MISUSE_KIND_COUNT)) {
    case MISUSE_YIELD:
        checked_yield(target, new_token(), YIELD_PLAIN);
        break;
    case MISUSE_YIELD_FROM:
        checked_yield_from(target, (target + 1) % SLOT_COUNT);
        break;
    case MISUSE_DEFER:
        checked_defer(target, false, CLEANUP_LOG, 0);
        break;
    case MISUSE_DEFER_NULL_FN:
        checked_defer(target, true, CLEANUP_LOG, 0);
        break;
    case MISUSE_NULL_ARGUMENTS:
        check_null_arguments();
        break;
    case MISUSE_BAD_CREATE:
        check_bad_create();
        break;
    case MISUSE_SEND_VALUE:
        checked_resume(target, new_token(), API_RESUME);
        break;
    case MISUSE_SUSPEND:
        checked_yield(target, new_token(), YIELD_SUSPEND);
        break;
    case MISUSE_THROW_BAD_ERROR:
        checked_throw(target, 0, false);
        checked_throw(target, -1, false);
        checked_throw(target, INT_MIN, true);
        break;
    default:
        checked_throw(target, EPIPE, false);
        break;
    }
}

/* --------------------------------------------------- scripted cleanups */

static void model_cleanup_starts(const struct cleanup_record *record)
{
    int k = record->owner;

    note_call("a cleanup", k);
    if (record->id < 0)
        mismatch("a cleanup that coro_defer refused has run");
    if (world.current != k || !slot(k)->ending)
        mismatch("cleanup %d of slot %d runs, but the model has slot %d running (ending: %d)",
                 record->id, k, world.current, slot(k)->ending);
    if (slot(k)->cleanup_count == 0)
        mismatch("cleanup %d of slot %d runs, but the model expects no more", record->id, k);
    expect_int("which cleanup runs (last registered first)", record->id,
               slot(k)->cleanups[--slot(k)->cleanup_count]);
    check_world();
}

/* Cleanups run on the coroutine's own stack (coro_defer's contract): near
 * its body's first frame, never on the resumer's or the thread's stack. */
static void check_on_own_stack(int k, uintptr_t frame)
{
    uintptr_t body = slot(k)->body_frame;
    uintptr_t distance = frame > body ? frame - body : body - frame;

    if (distance >= slot(k)->stack_size)
        mismatch("cleanup of slot %d runs %#lx bytes from its body's frame: not on its stack", k,
                 (unsigned long)distance);
}

static void run_cleanup_action(const struct cleanup_record *record)
{
    int self = record->owner;
    int target = record->target % SLOT_COUNT;

    switch ((enum cleanup_action)record->action) {
    case CLEANUP_TRY_YIELD:
        checked_yield(self, new_token(), YIELD_PLAIN);
        break;
    case CLEANUP_TRY_SUSPEND:
        checked_yield(self, new_token(), YIELD_SUSPEND);
        break;
    case CLEANUP_TRY_THROW_SELF:
        checked_throw(self, ECONNRESET, false);
        break;
    case CLEANUP_THROW:
        checked_throw(target, ECONNRESET, false);
        break;
    case CLEANUP_TRY_YIELD_FROM:
        checked_yield_from(self, target);
        break;
    case CLEANUP_RESUME:
        checked_resume(target, NULL, API_NEXT);
        break;
    case CLEANUP_CLOSE:
        checked_close(target);
        break;
    case CLEANUP_DESTROY:
        checked_destroy(target);
        break;
    case CLEANUP_DEFER_ANOTHER:
        checked_defer(self, false, CLEANUP_LOG, 0);
        break;
    default:
        break;
    }
}

static void scripted_cleanup(void *arg)
{
    const struct cleanup_record *record = arg;

    model_cleanup_starts(record);
    check_on_own_stack(record->owner, (uintptr_t)__builtin_frame_address(0));
    run_cleanup_action(record);
    if (world.current != record->owner)
        mismatch("cleanup of slot %d ends, but the model has slot %d running", record->owner,
                 world.current);
    model_settle(record->owner);
}

/* ---------------------------------------------------- scripted bodies */

/* A new coroutine in slot target whose script is the rest of self's. */
static void spawn(int self, size_t pc, int target, bool smallest_stack)
{
    const struct slot *s = slot(self);

    if (live(target)) {
        check_bad_create();
        return;
    }
    checked_create(target, s->script + pc + 1, s->script_len - pc - 1, smallest_stack);
}

/*
 * A yield step: bit 0 of its argument yields NULL rather than a fresh
 * value, bits 1-2 choose the call (coro_yield, coro_suspend, coro_suspend
 * without received, coro_yield), bits 3-4 what a thrown error makes the body do
 * (enum on_throw): go on to its next step; return the error as its value;
 * or yield the error as a value again, with the same call, for as long as
 * errors are thrown in (each such yield counts as a step). True when the
 * body returns *result now.
 */
static bool yield_step(int self, unsigned arg, void **result)
{
    static const enum yield_api apis[4] = {YIELD_PLAIN, YIELD_SUSPEND, YIELD_SUSPEND_NO_RECEIVED,
                                           YIELD_PLAIN};
    enum yield_api api = apis[(arg >> 1) & 3u];
    enum on_throw on_throw = (enum on_throw)((arg >> 3) & 3u);
    int error = checked_yield(self, (arg & 1u) ? NULL : new_token(), api);

    if (on_throw == ON_THROW_YIELD_AGAIN)
        while (error != 0 && world.steps_run++ < MAX_STEPS_RUN)
            error = checked_yield(self, (void *)(intptr_t)error, api);
    if (error != 0 && on_throw == ON_THROW_RETURN) {
        *result = (void *)(intptr_t)error;
        return true;
    }
    return false;
}

/* Runs one step; true when the body returns *result now. */
static bool run_step(int self, size_t pc, void **result)
{
    struct step step = slot(self)->script[pc];
    int target = step.arg % SLOT_COUNT;
    unsigned rest = step.arg / SLOT_COUNT;

    switch ((enum step_kind)(step.kind % STEP_KIND_COUNT)) {
    case STEP_YIELD:
        return yield_step(self, step.arg, result);
    case STEP_RESUME:
        checked_resume_by(target, rest);
        break;
    case STEP_YIELD_FROM:
        checked_yield_from(self, target);
        break;
    case STEP_DEFER:
        checked_defer(self, false, rest % CLEANUP_ACTION_COUNT, target);
        break;
    case STEP_CLOSE:
        checked_close(target);
        break;
    case STEP_DESTROY:
        checked_destroy(target);
        break;
    case STEP_SPAWN:
        spawn(self, pc, target, rest & 1u);
        break;
    case STEP_MISUSE:
        misuse(rest, target);
        break;
    case STEP_THROW:
        checked_throw_by(target, rest);
        break;
    default:
        *result = (step.arg & 1u) ? NULL : new_token();
        return true;
    }
    return false;
}

static void *body_returns(int self, void *result)
{
    note_call("a body's return", self);
    model_begin_return(self, result);
    return result;
}

static void *script_body(coro_t *co, void *arg)
{
    int self = (int)(intptr_t)arg;
    void *result;

    note_call("a body's start", self);
    expect_ptr("the coroutine a body is started with", co, handle(self));
    slot(self)->body_frame = (uintptr_t)__builtin_frame_address(0);
    for (size_t pc = 0; pc < slot(self)->script_len; pc++) {
        if (world.steps_run++ >= MAX_STEPS_RUN)
            break;
        model_step_starts(self, pc);
        if (run_step(self, pc, &result))
            return body_returns(self, result);
        slot(self)->pc++;
    }
    return body_returns(self, new_token());
}

/* ------------------------------------------------------------ the driver */

struct reader {
    const uint8_t *data;
    size_t size;
    size_t pos;
};

static uint8_t take(struct reader *in)
{
    return in->pos < in->size ? in->data[in->pos++] : 0;
}

static int take_slot(struct reader *in)
{
    return take(in) % SLOT_COUNT;
}

static void driver_create(struct reader *in)
{
    int k = take_slot(in);
    bool smallest_stack = take(in) & 1u;
    size_t len = take(in) % (MAX_STEPS + 1);
    struct step script[MAX_STEPS];

    for (size_t i = 0; i < len; i++) {
        script[i].kind = take(in);
        script[i].arg = take(in);
    }
    /* An occupied slot is emptied first, unless it is being delegated to.
     * Its cleanups may resume a body that spawns into it again. */
    while (live(k))
        if (checked_destroy(k) != 0)
            return;
    checked_create(k, script, len, smallest_stack);
}

static void run_driver_op(struct reader *in)
{
    switch ((enum driver_op)(take(in) % DRIVER_OP_COUNT)) {
    case OP_CREATE:
        driver_create(in);
        break;
    case OP_NEXT:
        checked_resume(take_slot(in), NULL, API_NEXT);
        break;
    case OP_SEND: {
        int k = take_slot(in);

        checked_resume_by(k, take(in));
        break;
    }
    case OP_CLOSE:
        checked_close(take_slot(in));
        break;
    case OP_DESTROY:
        checked_destroy(take_slot(in));
        break;
    case OP_MISUSE: {
        unsigned kind = take(in);

        misuse(kind, take_slot(in));
        break;
    }
    default: {
        int k = take_slot(in);

        checked_throw_by(k, take(in));
        break;
    }
    }
}

static bool any_live(void)
{
    for (int k = 0; k < SLOT_COUNT; k++)
        if (live(k))
            return true;
    return false;
}

/* A delegate cannot be destroyed while delegated to, so delegators go first
 * (destroying one closes its delegate). Cleanups may spawn more coroutines;
 * the step bound ends that. */
static void destroy_all(void)
{
    world.op_index++;
    for (size_t round = 0; any_live(); round++) {
        if (round > MAX_STEPS_RUN + SLOT_COUNT)
            mismatch("teardown cannot destroy every coroutine");
        for (int k = 0; k < SLOT_COUNT; k++)
            if (live(k) && slot(k)->delegator == NO_SLOT)
                checked_destroy(k);
    }
}

static void world_reset(void)
{
    memset(&world, 0, sizeof world);
    world.current = NO_SLOT;
    for (int k = 0; k < SLOT_COUNT; k++)
        model_reset_slot(k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct reader in = {data, size, 0};

    world_reset();
    check_world();
    while (in.pos < in.size && world.op_index < MAX_DRIVER_OPS) {
        world.op_index++;
        run_driver_op(&in);
    }
    destroy_all();
    check_world();
    return 0;
}
