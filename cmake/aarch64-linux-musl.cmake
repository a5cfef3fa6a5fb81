# Cross-compiling for AArch64 Linux with musl: Debian's gcc-aarch64-linux-gnu
# made to use musl by the specs file of the multiarch package musl-dev:arm64
# (with musl:arm64, its loader, for running the results under qemu-user,
# which ctest uses as the emulator). musl has no makecontext/swapcontext, so
# the default backend here is asm. The tests need cmocka built with musl:
# .ci/cmocka.sh builds it from Debian's source and prints the prefix to give:
#   cmake -S . -B build-aarch64-musl -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-musl.cmake \
#     -DCMAKE_PREFIX_PATH=$(.ci/cmocka.sh cmake/aarch64-linux-musl.cmake)
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_C_FLAGS_INIT "-specs /usr/lib/aarch64-linux-musl/musl-gcc.specs")
set(CMAKE_FIND_ROOT_PATH /usr/lib/aarch64-linux-musl)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64;-L;/)
# Debian has no C++ standard library for musl: no C++ test suite.
set(CORO_TEST_CXX OFF CACHE BOOL "Build the C++ exception suite")
