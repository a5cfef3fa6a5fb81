/*
 * What the overflow handlers of each system (overflow.c, overflow_win32.c)
 * share: the program's opt-out, and the words of a report, built without
 * snprintf, which is not async-signal-safe and wants more stack than a
 * handler has.
 */
#ifndef CORO_OVERFLOW_MESSAGE_H
#define CORO_OVERFLOW_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* CORO_NO_SIGNAL_HANDLER set to anything but "" or "0": no handler. */
static inline bool coro__overflow_opted_out(void)
{
    const char *value = getenv("CORO_NO_SIGNAL_HANDLER");

    return value != NULL && value[0] != '\0' && strcmp(value, "0") != 0;
}

/* Appends text to buf at *len. */
static inline void coro__overflow_append(char *buf, size_t cap, size_t *len, const char *text)
{
    while (*text != '\0' && *len + 1 < cap)
        buf[(*len)++] = *text++;
    buf[*len] = '\0';
}

static inline void coro__overflow_append_number(char *buf, size_t cap, size_t *len,
                                                uintmax_t value, unsigned base)
{
    char digits[sizeof(uintmax_t) * 8 + 1];
    size_t n = sizeof digits - 1;

    digits[n] = '\0';
    do {
        digits[--n] = "0123456789abcdef"[value % base];
        value /= base;
    } while (value != 0);
    coro__overflow_append(buf, cap, len, digits + n);
}

/* Appends name in quotes, its control characters as '?': a name is the
 * program's, and the report is one line. */
static inline void coro__overflow_append_name(char *buf, size_t cap, size_t *len, const char *name)
{
    coro__overflow_append(buf, cap, len, " \"");
    for (; *name != '\0' && *len + 1 < cap; name++) {
        unsigned char c = (unsigned char)*name;

        buf[(*len)++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    buf[*len] = '\0';
    coro__overflow_append(buf, cap, len, "\"");
}

/* "libcoro: stack overflow in coroutine 0x... (stack N bytes)\n" in buf,
 * with the coroutine's name in quotes after its address when it has one;
 * returns its length. */
static inline size_t coro__overflow_message(char *buf, size_t cap, const void *co,
                                            const char *name, size_t stack_bytes)
{
    size_t len = 0;

    coro__overflow_append(buf, cap, &len, "libcoro: stack overflow in coroutine 0x");
    coro__overflow_append_number(buf, cap, &len, (uintptr_t)co, 16);
    if (name[0] != '\0')
        coro__overflow_append_name(buf, cap, &len, name);
    coro__overflow_append(buf, cap, &len, " (stack ");
    coro__overflow_append_number(buf, cap, &len, stack_bytes, 10);
    coro__overflow_append(buf, cap, &len, " bytes)\n");
    return len;
}

#endif /* CORO_OVERFLOW_MESSAGE_H */
