# The one piece of state: the coroutine whose stack gdb shows (set by
# `coroutine N`), and the events that end its selection.

import gdb

from . import inferior
from . import layout


class Selection:
    """The coroutine whose stack gdb shows, on one thread."""

    def __init__(self, co, number, thread, registers, resumed, level, thread_pc, thread_sp):
        self.co = co
        self.number = number
        self.thread = thread  # the ptid of the thread it was made on
        # Its switched-out registers, and, if it is normal, the coroutine
        # it resumed, in whose context they are.
        self.registers = registers
        self.resumed = resumed
        # The thread's innermost real frame, whose caller becomes the
        # coroutine's innermost: 0, unless gdb shows inlined calls there.
        self.level = level
        # Where the thread stood: the selection holds only there (not
        # inside a function gdb calls in the program meanwhile).
        self.thread_pc = thread_pc
        self.thread_sp = thread_sp
        # Set when a function gdb called in the program moved the
        # coroutine, to what happened ("ran in", "ended in", "was
        # destroyed by"): the selection ends at the next prompt, command
        # or bt.
        self.stale = None
        # Whether gdb has selected again, after that call, the frame
        # selected before it.
        self.reselected = False


selection = None


def thread_registers(frame):
    """The pc and stack pointer of the thread, as frame (one of its
    innermost, which share them) has them."""
    return int(frame.read_register("pc")), int(frame.read_register("sp"))


def selection_here(frame=None):
    """The selection, if it is for the thread gdb is looking at and the
    thread stands where it stood; frame: the thread's innermost, else
    gdb's newest frame (not from inside an unwinder)."""
    if selection is None:
        return None
    thread = gdb.selected_thread()
    if thread is None or thread.ptid != selection.thread:
        return None
    try:
        here = thread_registers(frame if frame is not None else gdb.newest_frame())
    except gdb.error:
        return None
    if here != (selection.thread_pc, selection.thread_sp):
        return None
    return selection


def deselect(announce):
    global selection
    ended = selection
    if ended is None:
        return
    selection = None
    gdb.invalidate_cached_frames()
    if announce:
        gdb.write("[%s no longer selected: thread %s shows its own stack again]\n"
                  % (layout.title(ended.co, ended.number), inferior.thread_number(ended.thread)))
        gdb.execute("frame")


def drop_stale(announce):
    if selection is not None and selection.stale:
        if announce:
            gdb.write("[%s %s a function gdb called: it is no longer selected]\n"
                      % (layout.title(selection.co, selection.number), selection.stale))
        deselect(False)


def on_run_or_exit(event):
    """The program runs on (continue, step) or exits: the selection ends,
    as the stack it showed may be gone. After a function gdb called in the
    program, it ends only if the coroutine has moved (gdb rebuilds its
    frames after the call by itself)."""
    if selection is None:
        return
    if isinstance(event, gdb.InferiorCallPreEvent):
        return
    if isinstance(event, gdb.InferiorCallPostEvent):
        # gdb is about to select again the frame selected before the call,
        # which must still be there (gdb 13 fails an assertion when it is
        # not): the selection ends later, if the call moved the coroutine,
        # and the unwinder shows it once more till then (for each call).
        # Only memory is read here.
        try:
            happened = layout.what_happened(selection.co, selection.resumed, selection.registers)
        except gdb.error:
            happened = "was destroyed by"
        selection.stale = happened or selection.stale
        selection.reselected = False
        return
    deselect(False)


def on_prompt():
    drop_stale(True)


# The events that end a selection, for register() to connect.
RUN_OR_EXIT_EVENTS = ("cont", "exited", "inferior_call")
