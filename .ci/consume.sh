#!/usr/bin/env bash
# Builds libcoro static or shared, installs it into DIR/prefix, then builds
# programs outside the tree against the installed library, through
# find_package(coro) and through pkg-config, and checks that gdb loads the
# installed extension for them. The shared library must export only coro_*
# and have a SONAME.
#
#   .ci/consume.sh static|shared [DIR]    (DIR: default build-install-KIND)
set -euo pipefail
cd "$(dirname "$0")/.."

kind=${1:-}
case $kind in
  static) shared=OFF ;;
  shared) shared=ON ;;
  *) echo "usage: $0 static|shared [DIR]" >&2; exit 2 ;;
esac
dir=${2:-build-install-$kind}
prefix=$PWD/$dir/prefix

rm -rf "$dir"
# PIC asked for: the static library must then link into a shared object.
cmake -S . -B "$dir" -DBUILD_SHARED_LIBS=$shared -DCMAKE_POSITION_INDEPENDENT_CODE=ON \
  -DCORO_BUILD_TESTS=OFF -DCORO_BUILD_EXAMPLES=OFF -DCORO_BUILD_BENCH=OFF
cmake --build "$dir" -j "$(nproc 2>/dev/null || echo 2)"
cmake --install "$dir" --prefix "$prefix"
libdir=$(dirname "$(find "$prefix" -name coro.pc)")/..
if [ "$kind" = shared ]; then
  exported=$(nm -D --defined-only "$libdir"/libcoro.so | awk '{print $3}')
  echo "$exported"
  if echo "$exported" | grep -v '^coro_'; then echo "exports beyond coro_*"; exit 1; fi
  objdump -p "$libdir"/libcoro.so | grep -E 'SONAME +libcoro\.so\.[0-9]+$'
fi

# find_package(coro), from C and from C++.
cmake -S tests/consumer -B "$dir/consumer" -DCMAKE_PREFIX_PATH="$prefix"
cmake --build "$dir/consumer"
LD_LIBRARY_PATH=$libdir "$dir/consumer/consumer"
LD_LIBRARY_PATH=$libdir "$dir/consumer/consumer_cxx"

# The gdb extension as installed: auto-loaded with the shared library from
# the prefix's auto-load directory, sourced for the static one.
if [ "$kind" = shared ]; then
  gdb_load=(-iex "add-auto-load-scripts-directory $prefix/share/gdb/auto-load"
    -iex "add-auto-load-safe-path $prefix")
else
  gdb_load=(-ex "source $prefix/share/libcoro/gdb/libcoro-gdb.py")
fi
LD_LIBRARY_PATH=$libdir gdb -batch -nx "${gdb_load[@]}" -ex "break coro_yield" -ex run \
  -ex "info coroutines" "$dir/consumer/consumer" 2>&1 | tee "$dir/gdb.log"
grep -E '^\* 1 +0x[0-9a-f]+ running +countdown ' "$dir/gdb.log"

# pkg-config, and a shared object linking the library.
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Werror -o "$dir/consumer-pc" tests/consumer/consumer.c \
  $(PKG_CONFIG_PATH=$libdir/pkgconfig pkg-config --cflags --libs coro)
LD_LIBRARY_PATH=$libdir "$dir/consumer-pc"
cc -shared -fPIC -Iinclude -o "$dir/plugin.so" tests/consumer/consumer.c -L"$libdir" -lcoro
echo "consume ($kind): passed"
