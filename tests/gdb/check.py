"""The gdb extension (tools/libcoro-gdb.py) against tests/gdb_target.c, run
by gdb itself:

    GDB_CHECK_PART=live|core GDB_CHECK_TARGET=<gdb_target>
    GDB_CHECK_STRIPPED=<gdb_stripped> GDB_CHECK_SCRIPT=<libcoro-gdb.py>
    GDB_CHECK_WORK_DIR=<dir> [GDB_CHECK_RUNNER='qemu-aarch64|-L|/']
    gdb -batch -nx -x tests/gdb/check.py

PART live runs the program under gdb and stops it in stop_here(); PART
core reads a core file of it (stop_here() executes an illegal
instruction). With RUNNER (an emulator and its arguments, `|`-separated),
the program runs under
qemu-user: gdb (gdb-multiarch) debugs it through qemu's gdb stub, and the
core file is the one qemu writes.

`info coroutines` must list each coroutine with its state, name and body,
and `coroutine N` + bt show its frames in order; with no live coroutine
(gdb_target none), say so, not fail; on the stripped program (STRIPPED,
the same built with -s), say why it finds no libcoro. Where the kernel
puts core files out of reach, it says SKIPPED, which ctest takes for a
skip. gdb exits 0 when every check passed, 1 when one failed (the core
files are then kept in WORK_DIR).

Each session loads a program (or a core file) afresh and sources the
extension again, then runs commands; their output, all of it and section
by section (from a "@@ name" entry to the next), is checked. Every check
counts, and the last line says how many passed.
"""

import glob
import os
import random
import re
import shutil
import subprocess
import tempfile
import traceback

import gdb

PART = os.environ.get("GDB_CHECK_PART", "")
TARGET = os.environ.get("GDB_CHECK_TARGET", "")
STRIPPED = os.environ.get("GDB_CHECK_STRIPPED", "")
SCRIPT = os.environ.get("GDB_CHECK_SCRIPT", "")
WORK_DIR = os.environ.get("GDB_CHECK_WORK_DIR", "")
RUNNER = [word for word in os.environ.get("GDB_CHECK_RUNNER", "").split("|") if word]

HEX = "0x[0-9a-f]+"
# gdb_target's names (its *_NAME): working's as coro_set_name() cut it.
PRODUCER, OUTER_NAME, WORKER = "producer", "\u00e4u\u00dfere", "worker-on-thread-2-with-a-long-"
THREAD_FRAMES = ["stop_here", "main"]

SETUP = ["set pagination off", "set width 0", "set confirm off", "source " + SCRIPT]

# The commands of a session on gdb_target stopped with a coroutine in
# every state.
COMMANDS = SETUP + [
    "@@ list", "info coroutines",
    "@@ recursing", "coroutine 1", "bt",
    "@@ up", "frame function descend", "info args", "up", "info args",
    "@@ by-address", "coroutine delegating", "bt",
    "@@ inner", "coroutine inner", "bt",
    "@@ normal", "coroutine outer", "bt",
    "@@ not-started", "coroutine fresh",
    "@@ back", "coroutine", "bt",
    "@@ all", "coroutine bt-all",
    "@@ worker", "coroutine working", "bt",
    # A selection is one thread's: another thread's bt is its own.
    "@@ switching", "thread 1", "coroutine 1", "thread 2", "@@ other-thread", "bt",
    "@@ switching", "thread 1", "@@ same-thread", "bt",
    # info coroutines leaves the selected frame as it was.
    "@@ kept-frame", "frame function recursing_body", "info coroutines", "frame",
    "@@ errors", "coroutine 99", "coroutine no_such_symbol", "coroutine 5",
    # Whatever the current language (Rust has no `void`).
    "@@ rust", "set language rust", "info coroutines", "coroutine 1", "set language auto",
    "@@ end"]

# The programs with nothing to list: gdb_target none (no live coroutine:
# `info coroutines` says so, as no error), and the stripped one.
NONE_COMMANDS = SETUP + ["@@ list", "info coroutines", "@@ all", "coroutine bt-all", "@@ end"]
STRIPPED_COMMANDS = SETUP + ["@@ list", "info coroutines", "@@ end"]

checked = 0
failed = 0


def say(text):
    gdb.write(text)
    gdb.flush()


def check(what, ok, detail=""):
    global checked, failed
    checked += 1
    if not ok:
        failed += 1
        say("FAILED: %s%s\n" % (what, ("\n" + detail) if detail else ""))


def expect(what, text, pattern, flags=0):
    """text must hold a match for pattern."""
    check(what, re.search(pattern, text, flags) is not None,
          "no match for %r in:\n%s" % (pattern, text))


def expect_start(what, text, pattern):
    """text must start with a match for pattern."""
    check(what, re.match(pattern, text) is not None,
          "no match for %r at the start of:\n%s" % (pattern, text))


def frame_names(text):
    """The function names of the frames of a bt, innermost first, without
    the suffixes of compilers' clones (coro_main.llvm.123, f.constprop.0)."""
    names = []
    for line in text.splitlines():
        found = (re.match(r"#[0-9]+ +0x[0-9a-f]+ in ([^ (]+) ", line)
                 or re.match(r"#[0-9]+ +([^ (]+) \(", line))
        if found:
            names.append(found.group(1).split(".")[0])
    return names


def expect_frames(what, text, expected, absent):
    """The bt in text must hold the names expected as consecutive frames,
    and none of the names in absent."""
    have = ",".join(frame_names(text))
    check(what, ",%s," % ",".join(expected) in ",%s," % have,
          "bt should hold %s in that order; it has %s" % (",".join(expected), have))
    for name in absent:
        check("%s: not %s" % (what, name), ",%s," % name not in ",%s," % have,
              "bt should not hold %s (the thread's own frames); it has %s" % (name, have))


def expect_in_order(what, text, expected):
    """The bt in text must hold the names expected in that order, other
    frames in between or not."""
    have = frame_names(text)
    at = 0
    for name in have:
        if at < len(expected) and name == expected[at]:
            at += 1
    check(what, at == len(expected),
          "bt should hold %s in that order; it has %s" % (",".join(expected), ",".join(have)))


class Session:
    """Commands run on one program or core file, and their output: all of
    it, and by section."""

    def __init__(self, name):
        self.name = name
        self.output = ""
        self.sections = {}
        self.section = None
        self.last_command = None
        self.last_error = None
        self.stops = []

    def run(self, commands):
        for command in commands:
            if command.startswith("@@ "):
                self.section = command[3:]
                self.sections[self.section] = ""
                continue
            say("(gdb) %s\n" % command)
            self.last_command = command
            text, self.last_error = execute(command)
            say(text)
            self.output += text
            if self.section is not None:
                self.sections[self.section] += text

    def __getitem__(self, section):
        return self.sections.get(section, "")

    def on_stop(self, event):
        """How the program stopped, as gdb words it: "Breakpoint N, name"
        or "Program received signal NAME"."""
        if isinstance(event, gdb.BreakpointEvent):
            text = "Breakpoint %d, %s" % (event.breakpoints[0].number, gdb.newest_frame().name())
        elif isinstance(event, gdb.SignalEvent):
            text = "Program received signal %s" % event.stop_signal
        else:
            return
        self.stops.append(text)
        self.output += "[stop: %s]\n" % text

    def finish(self):
        """The checks of every session: its final `kill`, if any, worked,
        and the extension raised no Python exception. (That gdb did not
        crash is its exit status.)"""
        if self.last_command == "kill":
            check("%s: gdb's last command (kill)" % self.name, self.last_error is None,
                  self.last_error or "")
        check("%s: the script raised no Python exception" % self.name,
              not re.search("Python Exception|Error occurred in Python", self.output),
              self.output)
        say("---- end of %s ----\n" % self.name)


def execute(command):
    """What gdb writes for command, as on its terminal, and its error
    message, if it failed (that is also in the text). Not from
    gdb.execute(to_string=True) or `set logging`: in gdb 13 both miss what
    the commands that select another frame or thread print."""
    for stream in (gdb.STDOUT, gdb.STDERR, gdb.STDLOG):
        gdb.flush(stream)
    with tempfile.TemporaryFile() as capture:
        saved = os.dup(1), os.dup(2)
        os.dup2(capture.fileno(), 1)
        os.dup2(capture.fileno(), 2)
        error = None
        try:
            gdb.execute(command)
        except gdb.error as raised:
            error = str(raised)
        finally:
            for stream in (gdb.STDOUT, gdb.STDERR, gdb.STDLOG):
                gdb.flush(stream)
            for fd, copy in zip((1, 2), saved):
                os.dup2(copy, fd)
                os.close(copy)
        capture.seek(0)
        text = capture.read().decode(errors="replace")
    if error is not None:
        text += error + "\n"
    return text, error


def quietly(command):
    """A command to make ready for the next session, whose output and
    failure do not matter."""
    try:
        gdb.execute(command, to_string=True)
    except gdb.error:
        pass


def reset():
    quietly("delete")
    if gdb.selected_inferior().pid != 0:
        quietly("kill")
    quietly("disconnect")
    quietly("core-file")


def run_gdb(name, commands):
    """A session: the commands, in a gdb fresh from the last session."""
    say("---- %s ----\n" % name)
    session = Session(name)
    session.run(commands)
    session.finish()
    reset()
    return session


def run_live(name, program, arguments, stopped, before, commands):
    """A session on program run with arguments (a list): the commands of
    before, the start, then commands once it has stopped, as the regular
    expression stopped says. Under RUNNER, through qemu's gdb stub, on a
    port of its own: ctest may run other tests at the same time. gdb
    retries the connection until qemu listens; a port already taken is
    tried again with another."""
    for attempt in range(3):
        say("---- %s ----\n" % name)
        session = Session(name)
        emulator = None
        if RUNNER:
            port = 20000 + random.randrange(10000)
            log = open(os.path.join(WORK_DIR, "%s-%d.log" % (name, attempt)), "wb")
            emulator = subprocess.Popen(RUNNER + ["-g", str(port), program] + arguments,
                                        stdin=subprocess.DEVNULL, stdout=log,
                                        stderr=subprocess.STDOUT, cwd=WORK_DIR)
            log.close()
            start = ["file " + program, "target remote :%d" % port] + before + ["continue"]
        else:
            start = ["file " + program] + before + ["run " + " ".join(arguments)]
        gdb.events.stop.connect(session.on_stop)
        try:
            session.run(start)
        finally:
            gdb.events.stop.disconnect(session.on_stop)
        session.run(commands)
        if emulator is not None:
            try:
                emulator.wait(timeout=60)
            except subprocess.TimeoutExpired:
                emulator.kill()
                emulator.wait()
        if not RUNNER or any(re.search(stopped, stop) for stop in session.stops):
            break
        reset()
    check("%s: the program stopped (%s)" % (name, stopped),
          any(re.search(stopped, stop) for stop in session.stops),
          "it stopped: %s" % (session.stops or "never"))
    session.finish()
    reset()
    return session


def check_listing(session):
    """The checks of a session of COMMANDS, live or on a core file."""
    name = session.name
    listing = session["list"]
    # Listed in creation order: each with its number, state, name (or
    # blanks) and body.
    entries = ["suspended +%s +recursing_body" % PRODUCER,
               "suspended +inner_body .*delegated to by",
               "suspended +delegating_body .*delegate " + HEX, "created +finished_body",
               "dead +finished_body", "running +running_body .*thread 1",
               "normal +%s +outer_body" % OUTER_NAME,
               "running +%s +working_body .*thread 2" % WORKER]
    for number, entry in enumerate(entries, 1):
        expect("%s: info coroutines, coroutine %d" % (name, number), listing,
               r"\n[* ] %d +%s %s[^\n]*\n" % (number, HEX, entry))
    # A Name column as wide as the longest name (the unnamed ones blank),
    # and every body in its column.
    header = re.search(r"^  Id  Address +State +Name {%d}Body +Stack$" % (len(WORKER) - 3),
                       listing, re.M)
    check("%s: info coroutines, a Name column as wide as the longest name" % name,
          header is not None, listing)
    body_at = header.group(0).find("Body") if header else 0
    lines = [line for line in listing.splitlines() if re.match(r"[* ] [0-9]", line)]
    check("%s: info coroutines, the bodies in their column" % name,
          len(lines) == 8 and all(re.match(r"[a-z]+_body ", line[body_at:]) for line in lines),
          listing)
    check("%s: info coroutines lists no destroyed coroutine" % name,
          not re.search(r"\n[* ] 9 ", listing) and "gone" not in listing, listing)
    expect("%s: the current coroutine is marked" % name, listing, r"\n\* 6 ")
    expect("%s: stack ranges and resident sizes" % name, listing,
           r"recursing_body +\[%s-%s\] [1-9][0-9]*/64 KiB resident" % (HEX, HEX))

    expect_start("%s: coroutine 1, named" % name, session["recursing"],
                 r"\[Coroutine 1 \"%s\" \(%s, suspended, recursing_body\); " % (PRODUCER, HEX))
    expect_start("%s: coroutine delegating, unnamed" % name, session["by-address"],
                 r"\[Coroutine 3 \(%s, suspended, delegating_body\); " % HEX)
    expect_frames("%s: coroutine 1" % name, session["recursing"],
                  ["descend", "descend", "descend", "recursing_body", "coro_main"], THREAD_FRAMES)
    expect("%s: frame function descend, up" % name, session["up"],
           r"depth = 0\n.*depth = 1\n", re.S)
    expect_frames("%s: coroutine delegating (an address)" % name, session["by-address"],
                  ["coro_yield_from", "delegating_body", "coro_main"], THREAD_FRAMES)
    expect_frames("%s: coroutine inner" % name, session["inner"],
                  ["inner_step", "inner_body", "coro_main"], THREAD_FRAMES + ["delegating_body"])
    # A normal coroutine's walk goes on into its resumer (main), where the
    # backend links the two: never into what it resumed.
    expect_frames("%s: coroutine outer (normal)" % name, session["normal"],
                  ["outer_body", "coro_main"], ["stop_here", "running_body"])
    expect("%s: coroutine fresh" % name, session["not-started"],
           "Coroutine 4 is created: it has no stack to show")
    expect_frames("%s: coroutine (back to the thread)" % name, session["back"],
                  ["stop_here", "running_body", "coro_main"], ["descend"])
    expect_frames("%s: coroutine working (thread 2)" % name, session["worker"],
                  ["wait_in_worker", "working_body", "coro_main"], ["stop_here"])

    # bt-all: the suspended and normal ones, each its own stack.
    all_text = session["all"]
    for entry in ['1 "%s" \\(%s, suspended, recursing_body' % (PRODUCER, HEX),
                  "2 \\(%s, suspended, inner_body" % HEX,
                  "3 \\(%s, suspended, delegating_body" % HEX,
                  '7 "%s" \\(%s, normal, outer_body' % (OUTER_NAME, HEX)]:
        expect("%s: coroutine bt-all" % name, all_text, r"\nCoroutine %s\):\n" % entry)
    first = re.search(r"\nCoroutine 1 [^\n]*\n(#[^\n]*\n)+", all_text)
    expect_frames("%s: bt-all, coroutine 1" % name, first.group(0) if first else "",
                  ["descend", "descend", "descend", "recursing_body"], THREAD_FRAMES)
    # A suspended coroutine's stack ends at its root, by name, though its
    # unwind rules mark it a signal frame (src/root_cfi.h).
    last = first.group(0).splitlines()[-1] if first else ""
    check("%s: bt-all, coroutine 1 ends at its root, named" % name,
          re.search(r"(coro__asm_start|coro__ucontext_root) \(", last) is not None
          and "<signal handler called>" not in all_text, all_text)
    check("%s: bt-all shows only suspended and normal coroutines" % name,
          not re.search(r"Coroutine [4568] ", all_text), all_text)

    expect_frames("%s: coroutine 1 on thread 1, bt on thread 2" % name, session["other-thread"],
                  ["wait_in_worker", "working_body", "coro_main"], ["descend"])
    expect_start("%s: thread 2's innermost frame is shown" % name, session["other-thread"], "#0 ")
    expect_frames("%s: back on thread 1, coroutine 1 again" % name, session["same-thread"],
                  ["descend", "descend", "descend", "recursing_body"], THREAD_FRAMES)
    expect("%s: info coroutines keeps the selected frame" % name, session["kept-frame"],
           r"\n\* 1 .*\n#[0-9]+ +[^\n]*recursing_body \(", re.S)
    errors = session["errors"]
    expect("%s: coroutine 99" % name, errors, "No coroutine 99: `info coroutines` lists 8")
    expect("%s: coroutine no_such_symbol" % name, errors,
           "`no_such_symbol` is neither a number from `info coroutines` nor an expression")
    expect("%s: coroutine 5" % name, errors, "Coroutine 5 is dead: it has no stack to show")
    expect("%s: under set language rust" % name, session["rust"],
           r"\n[* ] 1 +%s suspended +%s +recursing_body .*Coroutine 1 \"%s\" \(%s, "
           r"suspended, recursing_body\)" % (HEX, PRODUCER, PRODUCER, HEX), re.S)


def check_none(session):
    check("%s: info coroutines, no live coroutine" % session.name,
          session["list"] == "No coroutines.\n", session["list"])
    check("%s: coroutine bt-all, no live coroutine" % session.name,
          session["all"] == "No suspended coroutines.\n", session["all"])


def check_stripped(session):
    expect("%s: info coroutines, stripped" % session.name, session.output,
           r"No libcoro found: this program is stripped \(`strip` removes the symbols")
    check("%s: info coroutines on the stripped program does not say 'yet'" % session.name,
          "(yet: " not in session.output, session.output)


def live():
    # Stopped at the breakpoint; then a step ends the coroutine's
    # selection. A function called in the program leaves a selection in
    # place, unless it moves the coroutine: a fresh unwind (here after
    # switching threads) or a bt then shows the thread's own stack, and
    # says what happened.
    end_live = [
        "@@ calling", "coroutine 1", "print (int)getpid()", "@@ called", "bt",
        "coroutine outer", "print (int)getpid()", "@@ normal-called", "bt",
        "@@ moving", "coroutine 1", "print (void *)coro_next(recursing)", "thread 2", "thread 1",
        "@@ unwound", "frame 1", "@@ moving-list", "info coroutines",
        "@@ moved", "bt",
        "@@ destroying", "coroutine delegating", "print (int)coro_destroy(delegating)",
        "@@ destroyed", "bt",
        # Names given and taken away meanwhile; with none, no Name column.
        "@@ renamed", 'print (int)coro_set_name(inner, "consumer")', "info coroutines",
        "@@ unnamed", "print (int)coro_set_name(recursing, 0)",
        'print (int)coro_set_name(outer, "")', "print (int)coro_set_name(working, 0)",
        "print (int)coro_set_name(inner, 0)", "info coroutines",
        # A coroutine still alive, selected, and then a step.
        "coroutine outer", "@@ step-selected", "bt", "stepi", "@@ stepped", "bt", "kill"]
    gcore = os.path.join(WORK_DIR, "gcore.core")
    if not RUNNER:
        # And a core file from gdb's gcore, which lacks the coroutines' stacks.
        end_live.insert(0, "gcore " + gcore)
    at_stop_here = ["break stop_here"]
    session = run_live("live", TARGET, [], "Breakpoint [0-9]+, stop_here", at_stop_here,
                       COMMANDS + end_live)
    check_listing(session)
    expect_frames("live: selected before the step", session["step-selected"],
                  ["outer_body", "coro_main"], ["stop_here", "running_body"])
    expect_frames("live: stepping ends the selection", session["stepped"],
                  ["running_body", "coro_main"], [])
    expect_frames("live: a function call keeps the selection", session["called"],
                  ["descend", "descend", "descend", "recursing_body"], ["stop_here"])
    expect_frames("live: a function call keeps a normal coroutine's selection",
                  session["normal-called"], ["outer_body", "coro_main"],
                  ["stop_here", "running_body"])
    expect_start("live: a fresh unwind after the coroutine ran", session["unwound"],
                 r"#1 +[^\n]* in running_body \(")
    expect_start("live: the coroutine ended", session["moving-list"],
                 r"\[Coroutine 1 \"%s\" ended in a function gdb called: it is no longer "
                 r"selected\]\n" % PRODUCER)
    expect_frames("live: resuming the coroutine ends the selection", session["moved"],
                  ["stop_here", "running_body", "coro_main"], ["descend"])
    expect_start("live: bt after the coroutine was destroyed", session["destroyed"],
                 r"\[Coroutine 3 was destroyed by a function gdb called: it is no longer "
                 r"selected\]\n")
    expect_frames("live: bt after the coroutine was destroyed", session["destroyed"],
                  ["stop_here", "running_body", "coro_main"],
                  ["coro_yield_from", "delegating_body"])
    expect("live: a name given from gdb", session["renamed"],
           r"\n  2 +%s [a-z]+ +consumer +inner_body " % HEX)
    expect("live: no name left, no Name column", session["unnamed"],
           r"\n  Id  Address        State     Body                     Stack\n"
           r"  1 +%s dead +recursing_body " % HEX)
    check("live: no name left, no Name column", "Name" not in session["unnamed"],
          session["unnamed"])

    # gdb alone, without the extension: the running coroutine's frames go
    # on into the one that resumed it (outer, normal), and on to main, up
    # or down from one stack to the next (under qemu-user the main thread's
    # stack is below the coroutines'), past each root, which shows as a
    # signal frame (src/root_cfi.h).
    plain = run_live("plain", TARGET, [], "Breakpoint [0-9]+, stop_here", at_stop_here,
                     SETUP[:3] + ["@@ bt", "bt", "@@ end", "kill"])
    expect_in_order("plain gdb: bt from a running coroutine reaches its resumers", plain["bt"],
                    ["stop_here", "running_body", "coro_main", "outer_body", "coro_main", "main"])

    check_none(run_live("none", TARGET, ["none"], "Breakpoint [0-9]+, stop_here", at_stop_here,
                        NONE_COMMANDS + ["kill"]))
    check_stripped(run_live("stripped", STRIPPED, ["crash"], "SIGILL", [],
                            STRIPPED_COMMANDS + ["kill"]))
    if not RUNNER:
        session = run_gdb("gcore", ["file " + TARGET, "core-file " + gcore] + NONE_COMMANDS)
        expect("gcore's core file: why no coroutine is found", session.output,
               r"No coroutines found\. If this is a core file that gdb's gcore wrote")


def make_core(directory, program, arguments):
    """A core file of program run with crash and arguments (a list), in
    WORK_DIR/directory: its path, and why when there is none."""
    where = os.path.join(WORK_DIR, directory)
    os.makedirs(where, exist_ok=True)
    try:
        crashed = subprocess.run(RUNNER + [program, "crash"] + arguments, cwd=where,
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, timeout=120).returncode
    except subprocess.TimeoutExpired:
        crashed = "timeout"
    cores = glob.glob(os.path.join(where, "qemu_*.core" if RUNNER else "core*"))
    if len(cores) == 1:
        return cores[0], None
    emulator_cores = glob.glob(os.path.join(where, "core*")) if RUNNER else []
    if not cores and emulator_cores:
        # The kernel's core of the emulator itself (hundreds of MiB), not
        # of the program: qemu-user writes none for some architectures
        # (RISC-V in qemu 7.2).
        for name in emulator_cores:
            os.remove(name)
        return None, ("%s wrote no core file of %s, only the kernel one of itself: it "
                      "has no core dumps for this architecture" % (RUNNER[0], program))
    return None, ("the crash (%s) of %s left %d core files (core_pattern '%s'; is the hard "
                  "RLIMIT_CORE 0?)" % (crashed, program, len(cores), core_pattern()))


def core_pattern():
    try:
        with open("/proc/sys/kernel/core_pattern") as text:
            return text.read().strip()
    except OSError:
        return ""


def core():
    """A core file of the same program stopped by SIGILL in the same
    place: the kernel's, or qemu's. (gdb's own gcore cannot save these
    stacks: its reads of a guard region fail and it drops the rest of the
    mapping.) The reason, if skipped."""
    pattern = core_pattern()
    if not RUNNER and (pattern.startswith("|") or "/" in pattern):
        return "the kernel writes core files to '%s', not to the working directory" % pattern
    core_file, why = make_core("main", TARGET, [])
    if core_file is None:
        return why
    session = run_gdb("core", ["file " + TARGET, "core-file " + core_file] + COMMANDS)
    check_listing(session)
    expect("core: gdb read the core file", session.output,
           "Core was generated by .*gdb_target crash")
    # The others, where that one worked: each in a directory of its own.
    core_file, why = make_core("none", TARGET, ["none"])
    check("core_none: a core file", core_file is not None, why)
    if core_file is not None:
        check_none(run_gdb("core_none", ["file " + TARGET, "core-file " + core_file]
                           + NONE_COMMANDS))
    core_file, why = make_core("stripped", STRIPPED, [])
    check("core_stripped: a core file", core_file is not None, why)
    if core_file is not None:
        check_stripped(run_gdb("core_stripped", ["file " + STRIPPED, "core-file " + core_file]
                               + STRIPPED_COMMANDS))
    return None


def main():
    parts = {"live": live, "core": core}
    if PART not in parts:
        say("GDB_CHECK_PART is live or core, not '%s'\n" % PART)
        return 2
    shutil.rmtree(WORK_DIR, ignore_errors=True)
    os.makedirs(WORK_DIR)
    # Output as plain text, whatever the terminal.
    quietly("set style enabled off")
    skipped = parts[PART]()
    if skipped:
        say("SKIPPED: %s\n" % skipped)
        return 0
    if failed:
        say("%d of %d checks failed; the core files are in %s\n" % (failed, checked, WORK_DIR))
        return 1
    # Hundreds of MiB each (qemu's own core too): kept only for a failure.
    shutil.rmtree(WORK_DIR, ignore_errors=True)
    say("all %d gdb checks passed\n" % checked)
    return 0


try:
    status = main()
except Exception:  # a bug of this script, or gdb's Python
    say(traceback.format_exc())
    status = 1
gdb.execute("quit %d" % status)
