# gdb support for libcoro: list every coroutine of a process, and walk the
# stack of a suspended one with gdb's own commands (bt, frame, up, info
# locals), on a live process or a core file (docs/gdb.md).
#
#   info coroutines        every coroutine, one line each
#   coroutine N | ADDR     show coroutine N of that list (or the one at ADDR,
#                          any expression) to bt, frame, up, info locals...
#   coroutine              back to the thread's own stack
#   coroutine bt-all       a backtrace of every suspended coroutine
#
# gdb loads this file by itself for a shared libcoro installed under its
# auto-load directory; otherwise: source <prefix>/share/libcoro/gdb/libcoro-gdb.py
#
# This file only finds the package libcoro_gdb and registers it: beside
# this file (the checkout's tools/, or <datadir>/libcoro/gdb/ as
# installed), or, for the copy gdb auto-loads from
# <datadir>/gdb/auto-load/<the library's path>-gdb.py, in
# <datadir>/libcoro/gdb/. Loaded again, it changes nothing, unless the
# package it finds is another copy than the one loaded: that one then
# replaces it.


def _load_libcoro_gdb():
    import os
    import sys

    # This file's path as gdb ran it (__file__ is the outer script's when
    # a Python script has gdb source this one).
    here = os.path.dirname(os.path.abspath(_load_libcoro_gdb.__code__.co_filename))
    places = [here]
    if "/gdb/auto-load/" in here:
        places.append(os.path.join(here.split("/gdb/auto-load/")[0], "libcoro", "gdb"))
    for place in places:
        if os.path.isfile(os.path.join(place, "libcoro_gdb", "__init__.py")):
            break
    else:
        import gdb
        raise gdb.GdbError("libcoro-gdb: no package libcoro_gdb in %s." % " or ".join(places))
    selection = None
    loaded = sys.modules.get("libcoro_gdb")
    if loaded is not None and os.path.dirname(loaded.__path__[0]) != place:
        selection = loaded.unregister()
        for name in [name for name in sys.modules if name.split(".")[0] == "libcoro_gdb"]:
            del sys.modules[name]
    if place in sys.path:
        sys.path.remove(place)
    sys.path.insert(0, place)
    import libcoro_gdb
    libcoro_gdb.register(selection)


_load_libcoro_gdb()
del _load_libcoro_gdb
