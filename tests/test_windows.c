/*
 * What stands on Windows for the POSIX suites: the thread information
 * block's stack fields that follow each coroutine, the nonvolatile vector
 * registers across a switch, the guard below a stack and the overflow
 * report (a child process of this program overflows), per-thread state
 * freed when a thread of CreateThread() exits, a coroutine handed between
 * such threads, and a thread that ends inside a coroutine.
 */
#include "test_support.h"

#include <stdbool.h>
#include <stdlib.h>
#include <windows.h>

#include "pool.h"

/* The thread information block's stack fields (winnt.h's NT_TIB, and two
 * beyond it at their documented offsets). */
struct stack_fields {
    uintptr_t base, limit, deallocation;
    uint32_t guaranteed;
};

static struct stack_fields stack_fields_now(void)
{
    const char *teb;
    const NT_TIB *tib;
    struct stack_fields f;

    /* The block's own address, as NtCurrentTeb() reads it (which gcc 12
     * takes for an access out of bounds). */
    __asm__("movq %%gs:0x30, %0" : "=r"(teb));
    tib = (const NT_TIB *)teb;

    f.base = (uintptr_t)tib->StackBase;
    f.limit = (uintptr_t)tib->StackLimit;
    memcpy(&f.deallocation, teb + 0x1478, sizeof f.deallocation);
    memcpy(&f.guaranteed, teb + 0x1748, sizeof f.guaranteed);
    return f;
}

static void assert_fields_equal(struct stack_fields a, struct stack_fields b)
{
    assert_int_equal(a.base, b.base);
    assert_int_equal(a.limit, b.limit);
    assert_int_equal(a.deallocation, b.deallocation);
    assert_int_equal(a.guaranteed, b.guaranteed);
}

static bool same_fields(struct stack_fields a, struct stack_fields b)
{
    return a.base == b.base && a.limit == b.limit && a.deallocation == b.deallocation &&
           a.guaranteed == b.guaranteed;
}

static void *report_stack_fields(coro_t *co, void *arg)
{
    struct stack_fields *seen = arg;
    volatile char local = 0;

    for (int i = 0; i < 2; i++) {
        seen[i] = stack_fields_now();
        assert_true(seen[i].limit <= (uintptr_t)&local && (uintptr_t)&local < seen[i].base);
        coro_yield(co, (void *)&local);
    }
    return NULL;
}

/* In a coroutine the fields describe its stack: committed from its lowest
 * usable byte up, a 16 KiB guard below, of which all but the lowest page
 * is guaranteed to an overflow's handler; the thread's own come back with
 * every switch out. */
static void test_windows_stack_fields_follow_the_coroutine(void **state)
{
    struct stack_fields before = stack_fields_now(), seen[2], after;
    MEMORY_BASIC_INFORMATION guard, reserve, stack;
    coro_t *co = coro_create(report_stack_fields, seen, 64 * 1024);
    char *local;
    (void)state;

    assert_non_null(co);
    local = coro_next(co);
    after = stack_fields_now();
    assert_fields_equal(before, after);
    /* The stack asked for, less the coroutine's record at its top. */
    assert_true(seen[0].base - seen[0].limit <= 64 * 1024);
    assert_true(seen[0].base - seen[0].limit >= 60 * 1024);
    assert_int_equal(seen[0].limit - seen[0].deallocation, 16 * 1024);
    assert_int_equal(seen[0].guaranteed, 12 * 1024);
    assert_true(local > (char *)seen[0].limit);

    /* The page below the stack is a guard page; below it, reserved. */
    assert_int_not_equal(VirtualQuery((void *)(seen[0].limit - 1), &guard, sizeof guard), 0);
    assert_int_equal(guard.State, MEM_COMMIT);
    assert_true(guard.Protect & PAGE_GUARD);
    assert_int_not_equal(VirtualQuery((void *)seen[0].deallocation, &reserve, sizeof reserve), 0);
    assert_int_equal(reserve.State, MEM_RESERVE);
    assert_int_not_equal(VirtualQuery((void *)seen[0].limit, &stack, sizeof stack), 0);
    assert_int_equal(stack.State, MEM_COMMIT);
    assert_int_equal(stack.Protect, PAGE_READWRITE);

    assert_ptr_equal(coro_next(co), local);
    assert_fields_equal(seen[0], seen[1]);
    after = stack_fields_now();
    assert_fields_equal(before, after);
    assert_null(coro_next(co));
    assert_int_equal(coro_destroy(co), 0);
}

/* The ten nonvolatile vector registers, xmm6 to xmm15, set from and read
 * into ten doubles. Both in the one function that switches: a function of
 * their own would put the registers back as it returned. */
#define XMM_LIST "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15"
#define SET_XMM(v)                                                                                 \
    __asm__ volatile("movsd 0(%0), %%xmm6\n\tmovsd 8(%0), %%xmm7\n\t"                              \
                     "movsd 16(%0), %%xmm8\n\tmovsd 24(%0), %%xmm9\n\t"                             \
                     "movsd 32(%0), %%xmm10\n\tmovsd 40(%0), %%xmm11\n\t"                           \
                     "movsd 48(%0), %%xmm12\n\tmovsd 56(%0), %%xmm13\n\t"                           \
                     "movsd 64(%0), %%xmm14\n\tmovsd 72(%0), %%xmm15"                                \
                     :                                                                             \
                     : "r"(v)                                                                      \
                     : "memory", XMM_LIST)
#define GET_XMM(v)                                                                                 \
    __asm__ volatile("movsd %%xmm6, 0(%0)\n\tmovsd %%xmm7, 8(%0)\n\t"                              \
                     "movsd %%xmm8, 16(%0)\n\tmovsd %%xmm9, 24(%0)\n\t"                             \
                     "movsd %%xmm10, 32(%0)\n\tmovsd %%xmm11, 40(%0)\n\t"                           \
                     "movsd %%xmm12, 48(%0)\n\tmovsd %%xmm13, 56(%0)\n\t"                           \
                     "movsd %%xmm14, 64(%0)\n\tmovsd %%xmm15, 72(%0)"                                \
                     :                                                                             \
                     : "r"(v)                                                                      \
                     : "memory")

static TEST_NOINLINE void *next_holding_xmm(coro_t *co, const double *in, double *out)
{
    void *value;

    SET_XMM(in);
    value = coro_next(co);
    GET_XMM(out);
    return value;
}

/* Yields twice with other values in the registers, and checks they come
 * back. */
static void *clobber_xmm(coro_t *co, void *arg)
{
    double mine[10], back[10];
    (void)arg;

    for (int i = 0; i < 10; i++)
        mine[i] = -1.5 * (i + 1);
    SET_XMM(mine);
    coro_yield(co, NULL);
    GET_XMM(back);
    return memcmp(mine, back, sizeof mine) == 0 ? INT_TO_PTR(1) : INT_TO_PTR(0);
}

static void test_windows_nonvolatile_vector_registers_survive(void **state)
{
    double in[10], out[10];
    coro_t *co = coro_create(clobber_xmm, NULL, 0);
    (void)state;

    assert_non_null(co);
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 10; i++)
            in[i] = 100.25 * (i + 1) + round;
        assert_int_equal(PTR_TO_INT(next_holding_xmm(co, in, out)), round);
        assert_memory_equal(in, out, sizeof in);
    }
    assert_int_equal(coro_destroy(co), 0);
}

static uint16_t x87_control_word(void)
{
    uint16_t word;

    __asm__ volatile("fnstcw %0" : "=m"(word));
    return word;
}

static void set_x87_control_word(uint16_t word)
{
    __asm__ volatile("fldcw %0" : : "m"(word));
}

static void *report_x87_control_word(coro_t *co, void *arg)
{
    (void)co;
    (void)arg;
    return INT_TO_PTR(x87_control_word());
}

/* A coroutine starts with its creator's x87 control word (each C runtime
 * sets its own precision), whatever the thread that first resumes it has
 * by then. */
static void test_windows_x87_control_word_is_the_creators(void **state)
{
    uint16_t before = x87_control_word();
    uint16_t words[] = {0x027f, 0x037f}; /* double and extended precision */
    (void)state;

    for (int i = 0; i < 2; i++) {
        coro_t *co;

        set_x87_control_word(words[i]);
        co = coro_create(report_x87_control_word, NULL, 0);
        assert_non_null(co);
        set_x87_control_word(words[1 - i]);
        assert_int_equal(PTR_TO_INT(coro_next(co)), words[i]);
        assert_int_equal(x87_control_word(), words[1 - i]);
        assert_int_equal(coro_destroy(co), 0);
    }
    set_x87_control_word(before);
}

void coro__asm_start(void); /* the coroutine's root (src/switch_x86_64_win64.S) */

/* The frames of a walk up to the 0 that ends it, which wine lists, and
 * after which it may go on reading the stack as frames. */
static USHORT walk_length(void *const *frames, USHORT count)
{
    USHORT length = 0;

    while (length < count && frames[length] != NULL)
        length++;
    return length;
}

static TEST_NOINLINE void *walk_from_depth(int depth, USHORT *count, void **frames)
{
    void *result;

    if (depth > 0) {
        result = walk_from_depth(depth - 1, count, frames);
    } else {
        *count = CaptureStackBackTrace(0, 62, frames, NULL);
        result = NULL;
    }
    __asm__ volatile("" ::: "memory"); /* not a tail call */
    return result;
}

static void *walk_body(coro_t *co, void *arg)
{
    void **frames = arg;
    USHORT count = 0;

    (void)co;
    walk_from_depth(5, &count, frames);
    return INT_TO_PTR(count);
}

/* Windows' own stack walk from inside a coroutine goes through each frame
 * of the body to the root, and ends there. */
static void test_windows_stack_walk_ends_at_the_root(void **state)
{
    void *frames[62];
    coro_t *co = coro_create(walk_body, frames, 0);
    intptr_t count;
    uintptr_t root = (uintptr_t)coro__asm_start;
    (void)state;

    assert_non_null(co);
    count = PTR_TO_INT(coro_next(co));
    assert_true(count < 62);
    count = walk_length(frames, (USHORT)count);
    /* walk_from_depth six times, walk_body, the state machine's entry,
     * the root. */
    assert_true(count >= 9);
    assert_true((uintptr_t)frames[count - 1] > root && (uintptr_t)frames[count - 1] < root + 32);
    assert_int_equal(coro_destroy(co), 0);
}

struct walk {
    void *frames[62];
    USHORT count;
};

static void walk_in_cleanup(void *arg)
{
    struct walk *walk = arg;

    walk->count = CaptureStackBackTrace(0, 62, walk->frames, NULL);
}

static void *defer_walk_then_yield(coro_t *co, void *arg)
{
    if (coro_defer(co, walk_in_cleanup, arg) != 0)
        return INT_TO_PTR(-1);
    coro_yield(co, NULL);
    return NULL;
}

/* Whether address lies in the code of fn, taken to be under 512 bytes. */
static bool in_function(void *address, void (*fn)(void))
{
    return (uintptr_t)address > (uintptr_t)fn && (uintptr_t)address < (uintptr_t)fn + 512;
}

/* A cleanup that runs when a suspended coroutine is closed runs through
 * the switch's call on arrival, on the coroutine's stack: the walk from it
 * goes on from there into the body, suspended in its yield, and ends at
 * the root. */
static void test_windows_stack_walk_from_a_cleanup_reaches_the_body(void **state)
{
    struct walk walk = {.count = 0};
    coro_t *co = coro_create(defer_walk_then_yield, &walk, 0);
    bool body = false;
    (void)state;

    assert_non_null(co);
    assert_null(coro_next(co));
    assert_int_equal(coro_close(co), 0);
    assert_true(walk.count < 62);
    walk.count = walk_length(walk.frames, walk.count);
    assert_true(walk.count >= 5);
    for (USHORT i = 0; i < walk.count; i++)
        body = body || in_function(walk.frames[i], (void (*)(void))defer_walk_then_yield);
    assert_true(body);
    assert_true(in_function(walk.frames[walk.count - 1], coro__asm_start));
    assert_int_equal(coro_destroy(co), 0);
}

/* Calls itself with a page of locals each time, depth times: far more
 * than a stack holds. */
static TEST_NOINLINE int recurse(volatile char *up, int depth)
{
    volatile char page[4096];

    page[0] = up != NULL ? up[0] : 1;
    return depth == 0 ? page[0] : recurse(page, depth - 1) + page[4095];
}

static void *overflow_body(coro_t *co, void *arg)
{
    (void)co;
    (void)arg;
    return INT_TO_PTR(recurse(NULL, 1 << 20));
}

/* The child's part: says which coroutine will overflow, then overflows it. */
static int overflow_child(void)
{
    coro_t *co = coro_create(overflow_body, NULL, 32 * 1024);

    if (co == NULL)
        return 1;
    printf("%p\n", (void *)co);
    fflush(stdout);
    coro_next(co);
    return 2; /* not reached */
}

/* Runs this program with the argument, and returns its exit status, what
 * it wrote on stdout and on stderr. */
static DWORD run_child(const char *argument, char *out, size_t out_size, char *err,
                       size_t err_size)
{
    SECURITY_ATTRIBUTES inherit = {sizeof inherit, NULL, TRUE};
    HANDLE out_read, out_write, err_read, err_write;
    STARTUPINFOA startup = {.cb = sizeof startup};
    PROCESS_INFORMATION process;
    char path[MAX_PATH], command[MAX_PATH + 64];
    DWORD status, got;

    assert_int_not_equal(GetModuleFileNameA(NULL, path, sizeof path), 0);
    snprintf(command, sizeof command, "\"%s\" %s", path, argument);
    assert_true(CreatePipe(&out_read, &out_write, &inherit, 0));
    assert_true(CreatePipe(&err_read, &err_write, &inherit, 0));
    SetHandleInformation(out_read, HANDLE_FLAG_INHERIT, 0);
    SetHandleInformation(err_read, HANDLE_FLAG_INHERIT, 0);
    startup.dwFlags = STARTF_USESTDHANDLES;
    startup.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
    startup.hStdOutput = out_write;
    startup.hStdError = err_write;
    assert_true(CreateProcessA(NULL, command, NULL, NULL, TRUE, 0, NULL, NULL, &startup, &process));
    CloseHandle(out_write);
    CloseHandle(err_write);
    /* Small outputs: each fits its pipe, so reading one after the other
     * cannot block the child. */
    for (size_t len = 0; ReadFile(out_read, out + len, (DWORD)(out_size - 1 - len), &got, NULL) &&
                         got > 0;)
        out[len += got] = '\0';
    for (size_t len = 0; ReadFile(err_read, err + len, (DWORD)(err_size - 1 - len), &got, NULL) &&
                         got > 0;)
        err[len += got] = '\0';
    WaitForSingleObject(process.hProcess, INFINITE);
    assert_true(GetExitCodeProcess(process.hProcess, &status));
    CloseHandle(process.hProcess);
    CloseHandle(process.hThread);
    CloseHandle(out_read);
    CloseHandle(err_read);
    return status;
}

static void test_windows_overflow_is_named(void **state)
{
    char out[128] = "", err[512] = "", expected[160];
    void *co = NULL;
    DWORD status = run_child("--overflow-child", out, sizeof out, err, sizeof err);
    (void)state;

    assert_int_equal(sscanf(out, "%p", &co), 1);
    snprintf(expected, sizeof expected,
             "libcoro: stack overflow in coroutine 0x%llx (stack 32768 bytes)\n",
             (unsigned long long)(uintptr_t)co);
    assert_string_equal(err, expected);
    assert_int_equal(status, (DWORD)EXCEPTION_STACK_OVERFLOW);
}

static void *count_up(coro_t *co, void *arg)
{
    (void)arg;
    for (intptr_t i = 1;; i++)
        coro_yield(co, INT_TO_PTR(i));
    return NULL;
}

/* Creates and destroys coroutines, which leaves stacks in the thread's
 * cache. */
static DWORD WINAPI churn(void *arg)
{
    coro_t *cos[8];
    (void)arg;

    for (int round = 0; round < 4; round++) {
        for (int i = 0; i < 8; i++) {
            cos[i] = coro_create(count_up, NULL, 0);
            if (cos[i] == NULL || PTR_TO_INT(coro_next(cos[i])) != 1)
                return 1;
        }
        for (int i = 0; i < 8; i++)
            coro_destroy(cos[i]);
    }
    return 0;
}

static DWORD run_thread(LPTHREAD_START_ROUTINE fn, void *arg)
{
    HANDLE thread = CreateThread(NULL, 0, fn, arg, 0, NULL);
    DWORD status;

    assert_non_null(thread);
    WaitForSingleObject(thread, INFINITE);
    assert_true(GetExitCodeThread(thread, &status));
    CloseHandle(thread);
    return status;
}

/* The stacks a thread of CreateThread() kept go back to the pool when it
 * exits. */
static void test_windows_thread_exit_gives_back_its_stacks(void **state)
{
    size_t out_before, out_after, slabs, classes;
    (void)state;

    coro__pool_counts(&out_before, &slabs, &classes);
    assert_int_equal(run_thread(churn, NULL), 0);
    coro__pool_counts(&out_after, &slabs, &classes);
    assert_int_equal(out_after, out_before);
}

static DWORD WINAPI resume_once(void *arg)
{
    coro_t *co = arg;
    struct stack_fields before = stack_fields_now(), after;
    void *value = coro_next(co);

    after = stack_fields_now();
    if (!same_fields(before, after))
        return 1000; /* the thread's own fields did not come back */
    return (DWORD)PTR_TO_INT(value);
}

/* One coroutine resumed by three threads of CreateThread() in turn. */
static void test_windows_coroutine_moves_between_threads(void **state)
{
    coro_t *co = coro_create(count_up, NULL, 0);
    (void)state;

    assert_non_null(co);
    for (DWORD i = 1; i <= 3; i++)
        assert_int_equal(run_thread(resume_once, co), i);
    assert_int_equal(PTR_TO_INT(coro_next(co)), 4);
    assert_int_equal(coro_destroy(co), 0);
}

/* Uses libcoro, so that its exit runs libcoro's fiber-storage callback. */
static DWORD WINAPI use_then_exit(void *arg)
{
    coro_t *co = coro_create(count_up, NULL, CORO_MIN_STACK_SIZE);
    DWORD status = co != NULL && PTR_TO_INT(coro_next(co)) == 1 ? 0 : 1;

    (void)arg;
    coro_destroy(co);
    return status;
}

/* Threads start while others exit. The system runs fiber-storage callbacks
 * under its fiber-storage lock, and a starting thread holds the loader's
 * lock while it takes that one: a callback that asked the loader for
 * anything deadlocked the two, which then also held up process exit. A
 * deadlock cannot be failed and carried on from, so the process ends. */
static void test_windows_threads_start_while_others_exit(void **state)
{
    enum { IN_FLIGHT = 8, THREADS = 1500, WAIT_MS = 60 * 1000 };
    HANDLE threads[IN_FLIGHT];
    DWORD status, failed = 0;
    (void)state;

    for (int i = 0; i < THREADS + IN_FLIGHT; i++) {
        HANDLE *slot = &threads[i % IN_FLIGHT];

        if (i >= IN_FLIGHT) {
            if (WaitForSingleObject(*slot, WAIT_MS) != WAIT_OBJECT_0) {
                fprintf(stderr, "a thread did not end in %d s: deadlocked\n", WAIT_MS / 1000);
                TerminateProcess(GetCurrentProcess(), 3);
            }
            if (!GetExitCodeThread(*slot, &status) || status != 0)
                failed++;
            CloseHandle(*slot);
        }
        if (i < THREADS) {
            *slot = CreateThread(NULL, 0, use_then_exit, NULL, 0, NULL);
            assert_non_null(*slot);
        }
    }
    assert_int_equal(failed, 0);
}

/* Stack sizes no other test here uses: the stacks of each come from a slab
 * of their own, the first of them from its lowest slot. */
#define MADE_HERE_STACK ((size_t)96 * 1024)
#define MADE_ELSEWHERE_STACK ((size_t)112 * 1024)
enum { EXIT_INSIDE_COROUTINES = 8 };

struct exit_inside {
    coro_t *cos[EXIT_INSIDE_COROUTINES]; /* the first ends the thread */
    uintptr_t own_stack;                 /* the ending thread's own deallocation field */
};

static void *exit_thread_inside(coro_t *co, void *arg)
{
    (void)co;
    (void)arg;
    ExitThread(7);
    return NULL;
}

/* Where co's reservation starts, and where its guard does; false if the
 * system cannot say. */
static bool stack_bases(const coro_t *co, uintptr_t *allocation, uintptr_t *guard)
{
    MEMORY_BASIC_INFORMATION region;
    SYSTEM_INFO system;
    uintptr_t page, top;

    GetSystemInfo(&system);
    page = system.dwPageSize;
    top = ((uintptr_t)co + page - 1) & ~(page - 1); /* the record is in the top page */
    if (VirtualQuery(co, &region, sizeof region) == 0)
        return false;
    *allocation = (uintptr_t)region.AllocationBase;
    *guard = top - coro_stack_size(co) - CORO__STACK_GUARD_BYTES;
    return true;
}

static DWORD region_state(uintptr_t at)
{
    MEMORY_BASIC_INFORMATION region;

    return VirtualQuery((const void *)at, &region, sizeof region) != 0 ? region.State : 0;
}

/* Makes e's coroutines, the first to end the thread that resumes it, the
 * others resumed once: 0, or what failed. No assertion: it runs on
 * threads of its own too. */
static int make_coroutines(struct exit_inside *e, size_t stack_size)
{
    for (int i = 0; i < EXIT_INSIDE_COROUTINES; i++) {
        e->cos[i] = coro_create(i == 0 ? exit_thread_inside : count_up, NULL, stack_size);
        if (e->cos[i] == NULL)
            return 1;
        if (i > 0 && PTR_TO_INT(coro_next(e->cos[i])) != 1)
            return 2;
    }
    return 0;
}

static DWORD WINAPI resume_the_exiting_one(void *arg)
{
    struct exit_inside *e = arg;

    e->own_stack = stack_fields_now().deallocation;
    coro_next(e->cos[0]);
    return 3; /* not reached */
}

/* Has a stack cache, which a destroy makes, before it makes e's
 * coroutines. */
static DWORD WINAPI make_then_end_inside(void *arg)
{
    coro_t *first = coro_create(count_up, NULL, CORO_MIN_STACK_SIZE);
    int status;

    if (first == NULL || coro_destroy(first) != 0)
        return 6;
    status = make_coroutines(arg, MADE_HERE_STACK);
    return status != 0 ? (DWORD)status : resume_the_exiting_one(arg);
}

static DWORD WINAPI do_nothing(void *arg)
{
    (void)arg;
    return 0;
}

/* After the thread ended inside e's first coroutine: the system freed the
 * thread's own stack; no coroutine's guard begins its reservation, which
 * the system would have released whole had the exit gone unseen; the
 * coroutine stays running, with its stack, and the others go on, here on
 * another thread. */
static void check_after_exit(struct exit_inside *e)
{
    uintptr_t slab, guard;
    bool own_freed = false;
    int sharing = 0;

    /* Wine frees an ended thread's stack as a later thread ends. */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(run_thread(do_nothing, NULL), 0);
        own_freed = own_freed || region_state(e->own_stack) == MEM_FREE;
    }
    assert_true(own_freed);
    assert_true(stack_bases(e->cos[0], &slab, &guard));
    for (int i = 0; i < EXIT_INSIDE_COROUTINES; i++) {
        uintptr_t allocation;

        assert_int_equal(region_state((uintptr_t)e->cos[i]), MEM_COMMIT);
        assert_true(stack_bases(e->cos[i], &allocation, &guard));
        assert_true(guard > allocation);
        sharing += i > 0 && allocation == slab;
        if (i == 0) {
            assert_int_equal(coro_status(e->cos[i]), CORO_RUNNING);
            assert_int_equal(coro_destroy(e->cos[i]), EBUSY);
        } else {
            assert_int_equal(PTR_TO_INT(coro_next(e->cos[i])), 2);
            assert_int_equal(coro_destroy(e->cos[i]), 0);
        }
    }
    assert_true(sharing > 0);
}

/* A thread ends inside a coroutine. While a coroutine runs, the thread
 * information block names its stack as the one to free when the thread
 * ends: the system used to release the reservation the coroutine's guard
 * began, a whole slab under the other coroutines carved from it, and keep
 * the thread's own stack. */
static void test_windows_exit_thread_inside_a_coroutine(void **state)
{
    struct exit_inside e;
    (void)state;

    assert_int_equal(run_thread(make_then_end_inside, &e), 7);
    check_after_exit(&e);
}

/* The same from a thread that only resumes a coroutine made elsewhere, and
 * so has no stack cache of its own whose exit would be seen. */
static void test_windows_exit_thread_inside_a_coroutine_made_elsewhere(void **state)
{
    struct exit_inside e;
    (void)state;

    assert_int_equal(make_coroutines(&e, MADE_ELSEWHERE_STACK), 0);
    assert_int_equal(run_thread(resume_the_exiting_one, &e), 7);
    check_after_exit(&e);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_windows_stack_fields_follow_the_coroutine),
        cmocka_unit_test(test_windows_nonvolatile_vector_registers_survive),
        cmocka_unit_test(test_windows_x87_control_word_is_the_creators),
        cmocka_unit_test(test_windows_stack_walk_ends_at_the_root),
        cmocka_unit_test(test_windows_stack_walk_from_a_cleanup_reaches_the_body),
        cmocka_unit_test(test_windows_overflow_is_named),
        cmocka_unit_test(test_windows_thread_exit_gives_back_its_stacks),
        cmocka_unit_test(test_windows_coroutine_moves_between_threads),
        cmocka_unit_test(test_windows_threads_start_while_others_exit),
        cmocka_unit_test(test_windows_exit_thread_inside_a_coroutine),
        cmocka_unit_test(test_windows_exit_thread_inside_a_coroutine_made_elsewhere),
    };

    if (argc == 2 && strcmp(argv[1], "--overflow-child") == 0)
        return overflow_child();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
