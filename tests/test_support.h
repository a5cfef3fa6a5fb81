/* What every test suite includes: cmocka needs these headers first. */
#ifndef CORO_TEST_SUPPORT_H
#define CORO_TEST_SUPPORT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <coro.h>

/* Integers through the value slot, as the accumulator in coro.h does. */
#define INT_TO_PTR(i) ((void *)(intptr_t)(i))
#define PTR_TO_INT(p) ((intptr_t)(p))

#endif /* CORO_TEST_SUPPORT_H */
