# How gdb shows a selected coroutine's stack: an unwinder that gives the
# thread's innermost frame the coroutine's switched-out frame as its
# caller, and a frame filter that leaves the thread's own frames out of bt.

import gdb
import gdb.unwinder
from gdb.FrameDecorator import FrameDecorator
from gdb.FrameIterator import FrameIterator

from . import inferior, state

NAME = "libcoro"


class FrameId:
    def __init__(self, sp, pc):
        self.sp = sp
        self.pc = pc


class CoroutineUnwinder(gdb.unwinder.Unwinder):
    """With a coroutine selected, the thread's innermost frame (which gdb
    always reads from the thread itself) has the coroutine's switched-out
    frame as its caller: the frames above it are the coroutine's stack,
    unwound by gdb as usual from the registers the switch saved."""

    def __init__(self):
        super().__init__(NAME)

    def __call__(self, pending_frame):
        if state.selection is None or pending_frame.level() != state.selection.level:
            return None
        selection = state.selection_here(pending_frame)
        if selection is None:
            return None
        if selection.stale:
            # The first unwind after the call is gdb selecting again the
            # frame selected before it, which must be there (see
            # state.on_run_or_exit); any later one is the thread's own, not
            # a walk of a stack the call freed or moved.
            if selection.reselected:
                return None
            selection.reselected = True
        names = selection.co.library.registers
        pc = pending_frame.read_register(names[0])
        # Below the coroutine's stack pointer: gdb wants each caller's
        # frame to be outer (higher) than its callee's.
        unwind = pending_frame.create_unwind_info(
            FrameId(gdb.Value(selection.registers[names[1]] - 16), pc))
        for name in names:
            value = gdb.Value(selection.registers[name])
            unwind.add_saved_register(name, value.cast(pending_frame.read_register(name).type))
        return unwind


# The roots' unwind rules mark them as signal frames (src/root_cfi.h), for
# gdb to walk on into the resumer's stack: by name, not "<signal handler
# called>".
ROOTS = ("coro__asm_start", "coro__asm_start_caught", "coro__ucontext_root",
         "coro__ucontext_root_caught")


def root_name(frame):
    """The name of the libcoro root that frame is, or None. By its symbol:
    gdb names a signal frame after no function, and may show a name with
    "__" as "." (Ada's decoding) where there is no debug information."""
    if frame.type() != gdb.SIGTRAMP_FRAME:
        return None
    name = inferior.symbol(frame.pc())
    if name is None:
        return None
    name = name.split("+")[0].replace(".", "__")
    return name if name in ROOTS else None


class NamedRoot(FrameDecorator):
    def __init__(self, frame, name):
        super().__init__(frame)
        self.name = name

    def function(self):
        return self.name


def name_roots(frames):
    for frame in frames:
        name = root_name(frame.inferior_frame())
        yield NamedRoot(frame, name) if name else frame


def until_null(frames, after_level):
    """The frames above after_level, up to the first whose pc is 0: where a
    suspended coroutine's stack ends (its root's caller, the terminal
    record) or glibc's __start_context does. Beyond it, gdb would guess."""
    for frame in frames:
        inferior = frame.inferior_frame()
        if inferior.pc() == 0:
            return
        if inferior.level() > after_level:
            yield frame


class HideThreadFrames:
    """In bt, with a coroutine selected on this thread: the thread's
    innermost frames are left out, so that the backtrace is the
    coroutine's; so is the null frame under glibc's __start_context."""

    def __init__(self):
        self.name = NAME
        self.priority = 100
        self.enabled = True

    def filter(self, frames):
        selection = state.selection_here()
        if selection is None:
            return name_roots(frames)
        if selection.stale:
            # bt right after a function gdb called moved the coroutine (a
            # script runs no prompt in between): the thread's stack, from
            # frames unwound again.
            state.drop_stale(True)
            return name_roots(FrameDecorator(frame) for frame in FrameIterator(gdb.newest_frame()))
        return name_roots(until_null(frames, selection.level))


def register():
    gdb.unwinder.register_unwinder(None, CoroutineUnwinder(), replace=True)
    gdb.frame_filters[NAME] = HideThreadFrames()
