/* What every test suite includes: cmocka needs these headers first. */
#ifndef CORO_TEST_SUPPORT_H
#define CORO_TEST_SUPPORT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <coro.h>

/* The tools a suite may run under, for the few tests that must know:
 * RUNNING_ON_VALGRIND (0 without valgrind's header), UNDER_ASAN,
 * UNDER_TSAN. */
#ifdef CORO_HAVE_VALGRIND_H
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#endif
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UNDER_TSAN 1
#endif
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__) && !defined(UNDER_TSAN)
#define UNDER_TSAN 1
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(UNDER_ASAN)
#define UNDER_ASAN 1
#endif

/* Integers through the value slot, as the accumulator in coro.h does. */
#define INT_TO_PTR(i) ((void *)(intptr_t)(i))
#define PTR_TO_INT(p) ((intptr_t)(p))

#endif /* CORO_TEST_SUPPORT_H */
