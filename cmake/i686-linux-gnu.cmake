# Cross-compiling for 32-bit x86 Linux (i686) with Debian's gcc-i686-linux-gnu (and
# libc6-dev-i386-cross); the results run under qemu-user (package qemu-user, and
# libc6:i386 for the libraries they load), which ctest uses as the emulator. The tests need cmocka built for the target:
# .ci/cmocka.sh builds it from Debian's source and prints the prefix to give:
#   cmake -S . -B build-i686 -DCMAKE_TOOLCHAIN_FILE=cmake/i686-linux-gnu.cmake \
#     -DCMAKE_PREFIX_PATH=$(.ci/cmocka.sh cmake/i686-linux-gnu.cmake)
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR i686)
set(CMAKE_C_COMPILER i686-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER i686-linux-gnu-g++)
set(CMAKE_FIND_ROOT_PATH /usr/i686-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
# The programs run with Debian's multiarch libc6:i386 (its loader and
# libraries under /): with the cross toolchain's own copy
# (-L /usr/i686-linux-gnu), pthread_create() hangs under qemu-user 7.2.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-i386;-L;/)
