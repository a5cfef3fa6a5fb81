#!/usr/bin/env bash
# Fuzzes libcoro against the reference model in tests/fuzz_coro.c for a
# bounded time, starting from the committed seeds (and regress-* inputs) in
# tests/fuzz_corpus. Fails on any mismatch, crash, leak or hang; skips, with
# exit status 0, where clang or libFuzzer is missing.
#
#   FUZZ_SECONDS  how long to fuzz (default 60)
#   FUZZ_BACKEND  ucontext (default, as the library) or asm
#   FUZZ_DIR      where the binary, scratch corpus and crash files go
#                 (default build-fuzz, which git ignores)
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-60}
backend=${FUZZ_BACKEND:-ucontext}
dir=${FUZZ_DIR:-build-fuzz}

skip() {
  echo "fuzz: SKIPPED: $*"
  exit 0
}

command -v clang >/dev/null || skip "clang not found"

mkdir -p "$dir"
# clang links libFuzzer from its runtime package, which may not be installed.
printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
  'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }' \
  >"$dir/probe.c"
clang -fsanitize=fuzzer "$dir/probe.c" -o "$dir/probe" >"$dir/probe.log" 2>&1 ||
  skip "clang cannot link -fsanitize=fuzzer (libFuzzer missing): $(head -n 1 "$dir/probe.log")"

echo "fuzz: building tests/fuzz_coro.c with the $backend backend"
# libcoro and the target instrumented alike; CMake links the target itself
# with libFuzzer's main (CORO_BUILD_FUZZER).
CC=clang cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Debug -DCORO_BACKEND="$backend" \
  -DCORO_BUILD_FUZZER=ON -DCORO_BUILD_EXAMPLES=OFF -DCORO_BUILD_BENCH=OFF \
  "-DCMAKE_C_FLAGS=-O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined" \
  >"$dir/configure.log" 2>&1 || { cat "$dir/configure.log"; exit 1; }
cmake --build "$dir" --target fuzz_coro -j "$(nproc 2>/dev/null || echo 2)" >"$dir/build.log" 2>&1 ||
  { cat "$dir/build.log"; exit 1; }
cp "$dir/tests/fuzz_coro" "$dir/fuzz_coro"

# The fuzzer adds what it finds to its corpus: keep the committed one clean.
rm -rf "$dir/corpus"
mkdir -p "$dir/corpus"
cp tests/fuzz_corpus/* "$dir/corpus/"

echo "fuzz: running for ${seconds}s from $(find tests/fuzz_corpus -type f | wc -l) seed inputs"
status=0
"$dir/fuzz_coro" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
  -artifact_prefix="$dir/" "$dir/corpus" >"$dir/fuzz.log" 2>&1 || status=$?

runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/fuzz.log" | tail -n 1)
if [ "$status" -ne 0 ]; then
  # The first report of what differed, then libFuzzer's own summary.
  grep -m 1 -A 12 -E 'fuzz_coro: mismatch|ERROR: ' "$dir/fuzz.log" || tail -n 40 "$dir/fuzz.log"
  echo "fuzz: FAILED (status $status) after ${runs:-?} executions; full log: $dir/fuzz.log"
  for input in "$dir"/crash-* "$dir"/leak-* "$dir"/timeout-* "$dir"/oom-*; do
    [ -e "$input" ] && echo "fuzz: failing input: $input (replay: $dir/fuzz_coro $input)"
  done
  exit 1
fi
echo "fuzz: passed: ${runs:-?} executions in ${seconds}s ($backend backend)"
