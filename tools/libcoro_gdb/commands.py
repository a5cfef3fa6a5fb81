# The commands: info coroutines, coroutine N | ADDR, coroutine,
# coroutine bt-all.

import os
import re

import gdb

from . import inferior
from . import layout
from . import state
from .inferior import CoroError, symbol
from .layout import NORMAL, RUNNING, SUSPENDED, printable, title


def list_coroutines():
    """Every coroutine, as `info coroutines` numbers them (from 1), once
    a selection a function gdb called has made stale is dropped."""
    state.drop_stale(True)
    return inferior.list_coroutines()


def describe(co, number, threads, marked, pages, page_size, name_width):
    """co's line of `info coroutines`; name_width: that of the Name
    column, or 0 for none."""
    function = symbol(co.fn) or "%#x" % co.fn
    thread = threads.get(co.address)
    extra = []
    if thread is not None:
        switching = "" if co.status == RUNNING else ", mid-switch"
        extra.append("thread %d%s" % (thread.num, switching))
    if co.delegate:
        extra.append("delegate %#x" % co.delegate)
    if co.delegator:
        extra.append("delegated to by %#x" % co.delegator)
    try:
        size = "%d/%d KiB resident" % (co.resident(pages, page_size) // 1024,
                                       co.stack_size // 1024)
    except (gdb.error, OSError, layout.Unreadable):
        size = "%d KiB" % (co.stack_size // 1024)
    name = "%-*s " % (name_width, printable(co.name)) if name_width else ""
    return "%s %-3d %#x %-9s %s%-24s [%#x-%#x] %s%s" % (
        "*" if marked else " ", number, co.address, co.state, name, function,
        co.stack_lo, co.stack_hi, size, (", " + ", ".join(extra)) if extra else "")


def shown(co, threads):
    """Whether co's stack is the one gdb shows: the selected coroutine on
    its thread, or the one the selected thread executes on."""
    selection = state.selection_here()
    if selection is not None:
        return selection.co.address == co.address
    thread = threads.get(co.address)
    return thread is not None and thread == gdb.selected_thread()


class InfoCoroutines(gdb.Command):
    """List every coroutine of the process: number, address, state,
    name (coro_set_name(); the column is left out when none has one),
    body, stack range and how much of it is resident (of a core file:
    how much of it the core holds), the thread that executes on it,
    and delegation links (coro_yield_from). `*` marks the one whose
    stack gdb shows (selected with `coroutine N`, or the one the
    selected thread executes on)."""

    def __init__(self):
        super().__init__("info coroutines", gdb.COMMAND_STACK)

    def invoke(self, argument, from_tty):
        if argument.strip():
            raise CoroError("info coroutines takes no argument.")
        coroutines = list_coroutines()
        if not coroutines:
            gdb.write("No coroutines.\n")
            return
        threads = inferior.threads_on_stacks(coroutines)
        pages, page_size = inferior.page_map()
        # A Name column as wide as the longest name, where one has a name.
        name_width = max(len(printable(co.name)) for co in coroutines)
        if name_width:
            name_width = max(name_width, len("Name"))
        try:
            gdb.write("  Id  Address        State     %sBody                     Stack\n"
                      % ("%-*s " % (name_width, "Name") if name_width else ""))
            for number, co in enumerate(coroutines, 1):
                gdb.write(describe(co, number, threads, shown(co, threads),
                                   pages, page_size, name_width) + "\n")
        finally:
            if pages is not None:
                os.close(pages)


def find(argument, coroutines):
    """The number and coroutine that argument names: a number from `info
    coroutines`, or an expression for its address."""
    if re.fullmatch(r"\d+", argument):
        number = int(argument)
        if not 1 <= number <= len(coroutines):
            raise CoroError("No coroutine %d: `info coroutines` lists %d."
                            % (number, len(coroutines)))
        return number, coroutines[number - 1]
    try:
        unsigned = gdb.selected_inferior().architecture().integer_type(64, False)
        address = int(gdb.parse_and_eval(argument).cast(unsigned))
    except gdb.error as error:
        raise CoroError("`%s` is neither a number from `info coroutines` nor an "
                        "expression for a coroutine's address (%s)." % (argument, error))
    for number, co in enumerate(coroutines, 1):
        if co.address == address:
            return number, co
    raise CoroError("No live coroutine at %#x." % address)


def select(co, number, coroutines, threads, announce=True):
    """Shows co's stack on the selected thread, from the frame above the
    thread's innermost. threads: inferior.threads_on_stacks(coroutines)."""
    thread = threads.get(co.address)
    if thread is not None:
        # Executing (or halfway through a switch): its stack is that
        # thread's, and its saved registers are stale.
        state.deselect(False)
        gdb.execute("thread %d" % thread.num, to_string=not announce)
        return
    if not co.library.can_walk:
        raise CoroError("Where this libcoro (%s backend) saves registers is not known "
                        "on this platform." % co.library.backend)
    if co.status == RUNNING:
        raise CoroError("%s is running, on no thread gdb knows of." % title(co, number))
    registers = co.switched_out_registers(coroutines)
    if registers is None:
        raise CoroError("%s is %s: it has no stack to show." % (title(co, number), co.state))
    thread = gdb.selected_thread()
    state.deselect(False)
    level, frame = 0, gdb.newest_frame()
    while frame.type() == gdb.INLINE_FRAME and frame.older() is not None:
        level, frame = level + 1, frame.older()
    thread_pc, thread_sp = state.thread_registers(gdb.newest_frame())
    state.selection = state.Selection(co, number, thread.ptid, registers,
                                      co.resumed_one(coroutines), level, thread_pc, thread_sp)
    gdb.invalidate_cached_frames()
    if announce:
        gdb.write("[%s (%#x, %s, %s); `coroutine` goes back to thread %d]\n"
                  % (title(co, number), co.address, co.state, symbol(co.fn), thread.num))
    gdb.execute(("frame %d" if announce else "select-frame %d") % (level + 1))


class CoroutineCommand(gdb.Command):
    """Show a coroutine's stack: `coroutine N` (a number from `info
    coroutines`) or `coroutine ADDR` (an expression giving its
    address). Then bt, frame, up, down and info locals work on its
    suspended stack, on this thread: its innermost frame is frame 1
    (frame 0 stays the thread's, which bt leaves out; one more for each
    inlined call gdb shows there). For a coroutine a thread executes
    on, that thread is selected instead.
    `coroutine` alone goes back to the thread's own stack, as does
    running the program on, or a function gdb calls in the program
    that runs or destroys the coroutine (from the next prompt, command
    or bt). `coroutine bt-all` prints the backtrace of every suspended
    coroutine (and of every normal one: waiting in a resume); what
    follows bt-all goes to bt, such as `full` or a frame count.
    Do not return, jump, finish, until or advance while a coroutine is
    selected (from any frame): gdb would apply it to the thread, with
    the coroutine's frames for the thread's callers. Run `coroutine`
    first."""

    def __init__(self):
        super().__init__("coroutine", gdb.COMMAND_STACK)

    def invoke(self, argument, from_tty):
        argument = argument.strip()
        state.drop_stale(True)
        if argument == "":
            if state.selection is None:
                gdb.write("No coroutine is selected: gdb shows the threads' own stacks.\n")
            state.deselect(True)
            return
        words = argument.split(None, 1)
        if words[0] == "bt-all":
            backtrace_all(words[1] if len(words) > 1 else "")
            return
        coroutines = list_coroutines()
        number, co = find(argument, coroutines)
        select(co, number, coroutines, inferior.threads_on_stacks(coroutines))


def backtrace_all(bt_arguments):
    coroutines = list_coroutines()
    threads = inferior.threads_on_stacks(coroutines)
    selected_before = state.selection
    try:
        original_frame = gdb.selected_frame()
    except gdb.error:
        original_frame = None
    shown_count = 0
    try:
        for number, co in enumerate(coroutines, 1):
            if co.status not in (SUSPENDED, NORMAL) or co.address in threads:
                continue
            gdb.write("\n%s (%#x, %s, %s):\n"
                      % (title(co, number), co.address, co.state, symbol(co.fn)))
            select(co, number, coroutines, threads, announce=False)
            try:
                gdb.execute("bt " + bt_arguments)
            except gdb.error as error:
                raise CoroError("bt %s: %s" % (bt_arguments, error))
            shown_count += 1
    finally:
        state.selection = selected_before
        gdb.invalidate_cached_frames()
        if original_frame is not None and original_frame.is_valid():
            original_frame.select()
    if shown_count == 0:
        gdb.write("No suspended coroutines.\n")


def register():
    InfoCoroutines()
    CoroutineCommand()
