# Building with musl instead of glibc, through Debian's musl-gcc wrapper
# (package musl-tools). musl has no makecontext/swapcontext, so the default
# backend here is asm. The tests need cmocka built with musl too:
# .ci/cmocka.sh builds it from Debian's source and prints the prefix to give:
#   cmake -S . -B build-musl -DCMAKE_TOOLCHAIN_FILE=cmake/x86_64-linux-musl.cmake \
#     -DCMAKE_PREFIX_PATH=$(.ci/cmocka.sh cmake/x86_64-linux-musl.cmake)
set(CMAKE_C_COMPILER musl-gcc)
# Debian has no C++ standard library for musl: no C++ test suite.
set(CORO_TEST_CXX OFF CACHE BOOL "Build the C++ exception suite")
