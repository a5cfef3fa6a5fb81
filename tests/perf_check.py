"""perf's call graphs of tests/perf_target.c, which spends its time in
spin(), inside a coroutine resumed from another coroutine resumed from
main():

- `--call-graph fp`: every sample in spin() walks out of both coroutines,
  through each root, into resumer() and main().
- `--call-graph dwarf`: every sample in spin() unwinds, by the DWARF rules,
  through the inner body to its root. perf copies only a slice of the
  sampled stack, from the stack pointer up, and unwinds inside that copy,
  so it cannot reach the resumer's frames on another stack: the chain ends
  at the root (docs/internals.md).

Usage: perf_check.py PERF TARGET WORK_DIR. Prints SKIPPED (which ctest
takes for a skip) when perf cannot sample here, and why.
"""

import os
import re
import subprocess
import sys

ROOT = re.compile(r"coro__(asm_start|ucontext_root)$")


def run(args):
    return subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True)


def record(perf, target, data, call_graph):
    # User-space samples of a software clock: allowed to any user with
    # perf_event_paranoid at Debian's default, and on machines with no
    # hardware counters.
    result = run([perf, "record", "-q", "-N", "-e", "cpu-clock:u", "-F", "2000",
                  "--call-graph", call_graph, "-o", data, "--", target])
    if result.returncode != 0:
        sys.exit("perf record --call-graph %s failed:\n%s" % (call_graph, result.stdout))


def chains(perf, data):
    """Each sample's call chain, innermost first, as symbol names."""
    result = subprocess.run([perf, "script", "-i", data, "-F", "ip,sym"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            universal_newlines=True)
    if result.returncode != 0:
        sys.exit("perf script failed:\n" + result.stderr)
    for block in result.stdout.split("\n\n"):
        frames = [line.split(None, 1) for line in block.strip().splitlines()]
        chain = [f[1].strip() if len(f) > 1 else "[unknown]" for f in frames]
        if chain:
            yield chain


def matches(symbol, name):
    # gcc may name a static function's clones spin.constprop.0 and the like
    return (symbol == name or symbol.startswith(name + ".")
            or (name == "ROOT" and ROOT.match(symbol) is not None))


def holds_in_order(chain, expected):
    position = 0
    for symbol in chain:
        if position < len(expected) and matches(symbol, expected[position]):
            position += 1
    return position == len(expected)


def check(perf, data, mode, expected):
    in_spin = [c for c in chains(perf, data) if matches(c[0], "spin")]
    # spin() runs for most of the program's time: a few hundred samples.
    if len(in_spin) < 20:
        sys.exit("--call-graph %s: %d samples in spin(), expected 20 or more"
                 % (mode, len(in_spin)))
    broken = [c for c in in_spin if not holds_in_order(c, expected)]
    if broken:
        sys.exit("--call-graph %s: %d of %d samples in spin() do not list %s in that "
                 "order; the first:\n  %s" % (mode, len(broken), len(in_spin),
                                              " <- ".join(expected), "\n  ".join(broken[0])))
    print("--call-graph %s: all %d samples in spin() list %s"
          % (mode, len(in_spin), " <- ".join(expected)))


def main():
    perf, target, work_dir = sys.argv[1:4]
    os.makedirs(work_dir, exist_ok=True)
    probe = run([perf, "record", "-q", "-N", "-e", "cpu-clock:u",
                 "-o", os.path.join(work_dir, "probe.data"), "--", "true"])
    if probe.returncode != 0:
        lines = probe.stdout.strip().splitlines() or ["(no message)"]
        print("SKIPPED: perf cannot sample here: " + lines[-1])
        return

    data = os.path.join(work_dir, "fp.data")
    record(perf, target, data, "fp")
    # A frame-pointer walk misses a leaf's caller when the leaf keeps no
    # frame (gcc's x86-64 -O2 code for spin()): middle() is not asked for.
    check(perf, data, "fp", ["spin", "inner_body", "ROOT", "outer_body", "ROOT",
                             "resumer", "main"])

    data = os.path.join(work_dir, "dwarf.data")
    record(perf, target, data, "dwarf")
    check(perf, data, "dwarf", ["spin", "middle", "inner_body", "ROOT"])


if __name__ == "__main__":
    main()
