#!/usr/bin/env bash
# Builds cmocka for another target from Debian's source package, for the
# test suites of a cross or musl build, and prints the install prefix to
# give CMake as CMAKE_PREFIX_PATH (everything else goes to stderr):
#
#   .ci/cmocka.sh cmake/riscv64-linux-gnu.cmake
#
# The source is fetched once with `apt-get source cmocka` into
# build-cmocka/src (a deb-src entry for the configured archive is added if
# there is none: that needs root); each toolchain gets its own build and
# prefix under build-cmocka/<toolchain name>, reused when already built.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 TOOLCHAIN_FILE" >&2; exit 2; }
toolchain=$(realpath "$1")
root=$(realpath "$(dirname "$0")/..")/build-cmocka
name=$(basename "$toolchain" .cmake)
prefix=$root/$name/install
exec 3>&1 1>&2

if [ ! -f "$prefix/include/cmocka.h" ]; then
  source_dir=$(find "$root/src" -maxdepth 1 -type d -name 'cmocka-*' 2>/dev/null | head -n 1 || true)
  if [ -z "$source_dir" ]; then
    if ! apt-get source --print-uris cmocka >/dev/null 2>&1; then
      # Debian 12 lists its archive in deb822 form; older systems in
      # sources.list. The same archive, for sources.
      if [ -f /etc/apt/sources.list.d/debian.sources ]; then
        sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources \
          >/etc/apt/sources.list.d/libcoro-deb-src.sources
      else
        sed -n 's/^deb /deb-src /p' /etc/apt/sources.list >/etc/apt/sources.list.d/libcoro-deb-src.list
      fi
      apt-get update -qq
    fi
    command -v dpkg-source >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dpkg-dev
    mkdir -p "$root/src"
    (cd "$root/src" && apt-get source -qq cmocka)
    source_dir=$(find "$root/src" -maxdepth 1 -type d -name 'cmocka-*' | head -n 1)
    # cmocka.h (1.1.5) takes a 64-bit target without glibc's __WORDSIZE for
    # a 32-bit one unless it is x86-64, and its uintptr_t then clashes with
    # musl's on AArch64: ask the compiler for the pointer size instead.
    sed -i 's/|| defined(__sparc_v9__) || defined(__sparcv9)$/& || __SIZEOF_POINTER__ == 8/' \
      "$source_dir/include/cmocka.h"
  fi
  rm -rf "$root/$name"
  cmake -S "$source_dir" -B "$root/$name/build" -DCMAKE_TOOLCHAIN_FILE="$toolchain" \
    -DCMAKE_BUILD_TYPE=Release -DWITH_EXAMPLES=OFF -DCMAKE_INSTALL_PREFIX="$prefix" >/dev/null
  cmake --build "$root/$name/build" -j "$(nproc 2>/dev/null || echo 2)" >/dev/null
  cmake --install "$root/$name/build" >/dev/null
fi
echo "$prefix" >&3
