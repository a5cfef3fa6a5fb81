# Cross-compiling for 64-bit Windows with Debian's mingw-w64 (packages
# gcc-mingw-w64-x86-64 and g++-mingw-w64-x86-64); the results run under wine
# (package wine64), which ctest uses as the emulator. The tests need cmocka
# built for the target: .ci/cmocka.sh builds it from Debian's source and
# prints the prefix to give:
#   cmake -S . -B build-mingw -DCMAKE_TOOLCHAIN_FILE=cmake/x86_64-w64-mingw32.cmake \
#     -DCMAKE_PREFIX_PATH=$(.ci/cmocka.sh cmake/x86_64-w64-mingw32.cmake)
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR AMD64)
set(CMAKE_C_COMPILER x86_64-w64-mingw32-gcc)
set(CMAKE_CXX_COMPILER x86_64-w64-mingw32-g++)
set(CMAKE_RC_COMPILER x86_64-w64-mingw32-windres)
set(CMAKE_FIND_ROOT_PATH /usr/x86_64-w64-mingw32)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
# The programs carry the compiler's runtime (libgcc, libstdc++, winpthreads)
# inside, so that wine runs them without a path to mingw's DLLs.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-static-libgcc")
# Debian installs wine64 outside PATH. WINEDEBUG=-all: wine's own
# diagnostics would mix with the tests' output.
find_program(CORO_WINE64 NAMES wine64 PATHS /usr/lib/wine NO_DEFAULT_PATH)
if(NOT CORO_WINE64)
  find_program(CORO_WINE64 NAMES wine64 wine)
endif()
if(CORO_WINE64)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${CMAKE_COMMAND};-E;env;WINEDEBUG=-all;${CORO_WINE64})
endif()
