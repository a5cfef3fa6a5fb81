# Cross-compiling for RISC-V 64 Linux (RV64GC, LP64D) with Debian's gcc-riscv64-linux-gnu (and
# libc6-dev-riscv64-cross); the results run under qemu-user (package qemu-user), which
# ctest uses as the emulator. The tests need cmocka built for the target:
# .ci/cmocka.sh builds it from Debian's source and prints the prefix to give:
#   cmake -S . -B build-riscv64 -DCMAKE_TOOLCHAIN_FILE=cmake/riscv64-linux-gnu.cmake \
#     -DCMAKE_PREFIX_PATH=$(.ci/cmocka.sh cmake/riscv64-linux-gnu.cmake)
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR riscv64)
set(CMAKE_C_COMPILER riscv64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER riscv64-linux-gnu-g++)
set(CMAKE_FIND_ROOT_PATH /usr/riscv64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-riscv64;-L;/usr/riscv64-linux-gnu)
