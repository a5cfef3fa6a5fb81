/*
 * Compiler attributes that libcoro's sources share; each is empty where the
 * compiler lacks it.
 */
#ifndef CORO_COMPILER_H
#define CORO_COMPILER_H

#if defined(__GNUC__)
/* Run when the library is loaded: thread.c's one-time setup (the
 * thread-exit key, the fork handlers) is then done before any thread of the
 * program can be halfway through it when another forks. (glibc's
 * pthread_once() survives that; TSan's does not, and the child waits for
 * it forever.) The setup still goes through pthread_once(), for compilers
 * without this. The signal handlers are installed on the first create
 * instead, so that a program may opt out until then (overflow.h). */
#define CORO_AT_LOAD __attribute__((constructor))
#define CORO_NOINLINE __attribute__((noinline))
#define CORO_ALWAYS_INLINE __attribute__((always_inline)) inline
/* The round trip's entry points each start a cache line: where the linker
 * happened to put them moved the asm round trip by a nanosecond (7%) from
 * one build to the next. */
#define CORO_HOT_ENTRY __attribute__((aligned(64)))
/* Static TLS even in a shared library: the overflow handler reads it from
 * a signal handler, where the lazy allocation of dynamic TLS could call
 * malloc() on a thread that has never run a coroutine, and a thread's first
 * touch of it allocates nothing. */
#define CORO_TLS_MODEL __attribute__((tls_model("initial-exec")))
/* Not checked by ASan: for accesses to memory that ASan may hold poisoned
 * from an earlier stack, and that the access leaves as it was. */
#define CORO_NO_ASAN __attribute__((no_sanitize_address))
/* Kept though nothing refers to it (debugger.h's descriptors, read only by a
 * debugger): `used` through link-time optimisation, `retain` through the
 * linker's --gc-sections. */
#if defined(__has_attribute) && !defined(_WIN32) /* an ELF attribute */
#if __has_attribute(retain)
#define CORO_KEEP __attribute__((used, retain))
#endif
#endif
#ifndef CORO_KEEP
#define CORO_KEEP __attribute__((used))
#endif
#else
#define CORO_AT_LOAD
#define CORO_NOINLINE
#define CORO_ALWAYS_INLINE inline
#define CORO_HOT_ENTRY
#define CORO_TLS_MODEL
#define CORO_NO_ASAN
#define CORO_KEEP
#endif

/* Bytes below the stack pointer that the ABI lets a function use without
 * moving it (x86-64's System V ABI: 128; Windows and the others: none). */
#if defined(__x86_64__) && !defined(_WIN64)
#define CORO__RED_ZONE_BYTES 128
#else
#define CORO__RED_ZONE_BYTES 0
#endif

#endif /* CORO_COMPILER_H */
