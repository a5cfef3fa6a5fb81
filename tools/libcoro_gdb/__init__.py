# gdb support for libcoro: list every coroutine of a process, and walk the
# stack of a suspended one with gdb's own commands (bt, frame, up, info
# locals), on a live process or a core file. docs/gdb.md is its manual.
#
#   layout     the debugger descriptor `coro__debug` and the slab walk, over
#              a read(address, length) callable: no gdb (unit-tested by
#              tests/gdb/test_layout.py)
#   inferior   the process through gdb: its memory, libcoro copies, threads
#   state      the selected coroutine, and the events that end it
#   unwind     its stack as the caller of the thread's innermost frame
#   commands   info coroutines, coroutine [N | ADDR | bt-all]
#
# gdb loads it through tools/libcoro-gdb.py (installed as
# <datadir>/libcoro/gdb/libcoro-gdb.py, and as the shared library's
# auto-load file), which calls register(). Only register() imports gdb:
# the package, and layout, import without it.

_registered = False


def register(selection=None):
    """Adds the commands, the unwinder and the frame filter to gdb, for
    every program it debugs. Again, it changes nothing. selection: the
    selected coroutine that another copy of this package, unregistered,
    had (a load from elsewhere replaces the first)."""
    global _registered
    if _registered:
        return
    import gdb

    from . import commands, state, unwind

    if selection is not None:
        state.selection = selection
    unwind.register()
    commands.register()
    for name in state.RUN_OR_EXIT_EVENTS:
        getattr(gdb.events, name).connect(state.on_run_or_exit)
    gdb.events.before_prompt.connect(state.on_prompt)
    _registered = True


def unregister():
    """Disconnects what register() connected to gdb's events (the
    commands, unwinder and frame filter are replaced by name by the next
    register()), and returns the selected coroutine, for it."""
    global _registered
    if not _registered:
        return None
    import gdb

    from . import state

    for name in state.RUN_OR_EXIT_EVENTS:
        getattr(gdb.events, name).disconnect(state.on_run_or_exit)
    gdb.events.before_prompt.disconnect(state.on_prompt)
    _registered = False
    return state.selection
