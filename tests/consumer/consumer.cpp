// coro.h from C++: the declarations are extern "C" and link as such.
#include <coro.h>

#include <cstdint>
#include <cstdio>

static void *twice(coro_t *co, void *arg)
{
    std::intptr_t n = reinterpret_cast<std::intptr_t>(arg);
    coro_yield(co, reinterpret_cast<void *>(n * 2));
    return nullptr;
}

int main()
{
    coro_t *co = coro_create(twice, reinterpret_cast<void *>(21), 0);
    void *value = nullptr;

    if (co == nullptr || coro_resume(co, nullptr, &value) != 0 ||
        reinterpret_cast<std::intptr_t>(value) != 42 || coro_destroy(co) != 0) {
        std::fprintf(stderr, "consumer_cxx: failed\n");
        return 1;
    }
    std::printf("consumer_cxx: libcoro from C++ works\n");
    return 0;
}
