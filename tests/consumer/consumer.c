/* Links the installed libcoro and checks a generator's values and end. */
#include <coro.h>

#include <stdint.h>
#include <stdio.h>

static void *countdown(coro_t *co, void *arg)
{
    for (intptr_t n = (intptr_t)arg; n > 0; n--)
        coro_yield(co, (void *)n);
    return (void *)(intptr_t)-1;
}

int main(void)
{
    coro_t *co = coro_create(countdown, (void *)(intptr_t)3, 0);
    intptr_t expected[] = {3, 2, 1, -1};

    if (co == NULL) {
        perror("coro_create");
        return 1;
    }
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
        void *value;

        if (coro_resume(co, NULL, &value) != 0 || (intptr_t)value != expected[i]) {
            fprintf(stderr, "consumer: step %zu: wrong value\n", i);
            return 1;
        }
    }
    if (coro_status(co) != CORO_DEAD || coro_destroy(co) != 0)
        return 1;
    printf("consumer: libcoro (%s) works\n", coro_backend());
    return 0;
}
