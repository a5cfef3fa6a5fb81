# Chooses the context-switch backend and sets CORO_BACKEND_NAME (what
# coro_backend() reports) and CORO_BACKEND_SOURCES. CORO_BACKEND is auto,
# ucontext or asm; auto takes ucontext where the C library provides
# makecontext/swapcontext (found by linking a program that calls them: musl
# declares them but defines none), else asm where libcoro has a switch for the
# architecture.
include(CheckCSourceCompiles)
check_c_source_compiles([[
#define _GNU_SOURCE
#include <ucontext.h>
static void entry(void) {}
int main(void)
{
    static char stack[16384];
    ucontext_t here, there;
    if (getcontext(&there) != 0)
        return 1;
    there.uc_stack.ss_sp = stack;
    there.uc_stack.ss_size = sizeof stack;
    there.uc_link = &here;
    makecontext(&there, entry, 0);
    return swapcontext(&here, &there);
}]] CORO_HAVE_UCONTEXT)

# The asm switch: src/switch_<arch>.S, for ELF targets with the System V
# (x86-64), AAPCS64 or RISC-V LP64D calling convention, and for x86-64
# Windows (the Microsoft x64 convention).
string(TOLOWER "${CMAKE_SYSTEM_PROCESSOR}" coro_processor)
set(CORO_ASM_ARCH "")
if(WIN32)
  # The Microsoft x64 convention: src/switch_x86_64_win64.S.
  if(coro_processor MATCHES "^(x86_64|amd64)$" AND CMAKE_SIZEOF_VOID_P EQUAL 8)
    set(CORO_ASM_ARCH x86_64_win64)
  endif()
elseif(NOT APPLE)
  if(coro_processor MATCHES "^(x86_64|amd64)$" AND CMAKE_SIZEOF_VOID_P EQUAL 8)
    set(CORO_ASM_ARCH x86_64)
  elseif(coro_processor MATCHES "^(aarch64|arm64)$")
    set(CORO_ASM_ARCH aarch64)
  elseif(coro_processor STREQUAL "riscv64")
    # The switch saves double-precision FP registers: the LP64D ABI only.
    check_c_source_compiles([[
#if !defined(__riscv_float_abi_double)
#error "not LP64D"
#endif
int main(void) { return 0; }]] CORO_RISCV_LP64D)
    if(CORO_RISCV_LP64D)
      set(CORO_ASM_ARCH riscv64)
    endif()
  endif()
endif()

if(CORO_BACKEND STREQUAL "auto")
  if(CORO_HAVE_UCONTEXT)
    set(CORO_BACKEND_NAME ucontext)
  elseif(CORO_ASM_ARCH)
    set(CORO_BACKEND_NAME asm)
  else()
    message(FATAL_ERROR "libcoro has no backend for this platform: the C library has no "
      "makecontext/swapcontext (CORO_BACKEND=ucontext), and CORO_BACKEND=asm supports x86-64, "
      "AArch64 and RISC-V 64 ELF targets and x86-64 Windows, not '${CMAKE_SYSTEM_PROCESSOR}' on "
      "${CMAKE_SYSTEM_NAME}")
  endif()
  message(STATUS "libcoro backend: ${CORO_BACKEND_NAME} (CORO_BACKEND=auto)")
elseif(CORO_BACKEND STREQUAL "ucontext")
  if(NOT CORO_HAVE_UCONTEXT)
    message(FATAL_ERROR "CORO_BACKEND=ucontext: the C library has no makecontext/swapcontext "
      "(musl leaves them out, POSIX.1-2008 removed them); use CORO_BACKEND=asm or auto")
  endif()
  set(CORO_BACKEND_NAME ucontext)
elseif(CORO_BACKEND STREQUAL "asm")
  if(NOT CORO_ASM_ARCH)
    message(FATAL_ERROR "CORO_BACKEND=asm supports x86-64, AArch64 and RISC-V 64 ELF targets "
      "(System V, AAPCS64 and LP64D calling conventions, e.g. Linux) and x86-64 Windows, not "
      "'${CMAKE_SYSTEM_PROCESSOR}' on ${CMAKE_SYSTEM_NAME}; use CORO_BACKEND=ucontext or auto")
  endif()
  set(CORO_BACKEND_NAME asm)
else()
  message(FATAL_ERROR "CORO_BACKEND=${CORO_BACKEND}: the choices are auto (the default), "
    "ucontext and asm")
endif()

# With glibc, on the architectures the asm switch knows, the ucontext
# backend starts each coroutine in a root frame of its own
# (src/ucontext_root_<arch>.S) whose unwind rules read the resumer's
# registers where swapcontext() saved them: walks and exceptions go on
# into the resumer (src/unwind_root.h). CORO_BACKEND_CATCHES says whether
# the chosen backend has such roots.
set(CORO_BACKEND_DEFINITIONS "")
set(CORO_BACKEND_CATCHES OFF)
if(CORO_BACKEND_NAME STREQUAL "ucontext")
  set(CORO_BACKEND_SOURCES ${PROJECT_SOURCE_DIR}/src/context_ucontext.c)
  if(CORO_ASM_ARCH)
    include(CheckSymbolExists)
    check_symbol_exists(__GLIBC__ "features.h" CORO_HAVE_GLIBC)
    if(CORO_HAVE_GLIBC)
      enable_language(ASM)
      list(APPEND CORO_BACKEND_SOURCES ${PROJECT_SOURCE_DIR}/src/ucontext_root_${CORO_ASM_ARCH}.S)
      set(CORO_BACKEND_DEFINITIONS CORO_UCONTEXT_ROOT=1)
      set(CORO_BACKEND_CATCHES ON)
    endif()
  endif()
else()
  # No roots on Windows: its unwinder is the system's (SEH), and the switch
  # gives it no unwind data.
  if(NOT WIN32)
    set(CORO_BACKEND_CATCHES ON)
  endif()
  enable_language(ASM)
  set(CORO_BACKEND_SOURCES ${PROJECT_SOURCE_DIR}/src/context_asm.c
    ${PROJECT_SOURCE_DIR}/src/switch_${CORO_ASM_ARCH}.S)
endif()

# The assembly gets the branch protection the C code gets
# (src/branch_protection.h): CMake compiles .S files with CMAKE_ASM_FLAGS,
# not CMAKE_C_FLAGS, and an object without it would turn the protection off
# for the whole program. (A compiler's own default reaches both.)
if(CORO_BACKEND_SOURCES MATCHES "\\.S")
  string(TOUPPER "${CMAKE_BUILD_TYPE}" build_type)
  string(REGEX MATCHALL "-mbranch-protection=[^ ]+|-f(no-)?cf-protection(=[^ ]+)?"
    CORO_ASM_PROTECTION_FLAGS "${CMAKE_C_FLAGS} ${CMAKE_C_FLAGS_${build_type}}")
  list(JOIN CORO_ASM_PROTECTION_FLAGS " " flags)
  string(APPEND CMAKE_ASM_FLAGS " ${flags}")
endif()
