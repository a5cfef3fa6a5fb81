# Cross-compiling for 32-bit ARM Linux (armhf: ARMv7, hard float) with Debian's gcc-arm-linux-gnueabihf (and
# libc6-dev-armhf-cross); the results run under qemu-user (package qemu-user), which
# ctest uses as the emulator. The tests need cmocka built for the target:
# .ci/cmocka.sh builds it from Debian's source and prints the prefix to give:
#   cmake -S . -B build-armv7l -DCMAKE_TOOLCHAIN_FILE=cmake/arm-linux-gnueabihf.cmake \
#     -DCMAKE_PREFIX_PATH=$(.ci/cmocka.sh cmake/arm-linux-gnueabihf.cmake)
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR armv7l)
set(CMAKE_C_COMPILER arm-linux-gnueabihf-gcc)
set(CMAKE_CXX_COMPILER arm-linux-gnueabihf-g++)
set(CMAKE_FIND_ROOT_PATH /usr/arm-linux-gnueabihf)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-arm;-L;/usr/arm-linux-gnueabihf)
