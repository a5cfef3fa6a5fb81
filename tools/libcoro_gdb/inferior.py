# The process (or core file) gdb is looking at: its memory for layout.py,
# the copies of libcoro it holds, its coroutines and its threads.

import os
import re

import gdb

from . import layout


class CoroError(gdb.GdbError):
    """An error gdb shows as it is, without a Python backtrace."""


def read(address, size):
    try:
        return bytes(gdb.selected_inferior().read_memory(address, size))
    except gdb.MemoryError as error:
        raise layout.Unreadable(str(error)) from error


# The function at each address asked for, until the next listing: a new
# run may load code elsewhere.
symbols = {}


def symbol(address):
    """The function at address, as name or name+offset, or None: in gdb's
    own format, whatever the current language."""
    if address == 0:
        return None
    if address not in symbols:
        name = None
        try:
            if hasattr(gdb, "format_address"):
                found = re.search(r"<(.+)>", gdb.format_address(address))
                name = found.group(1) if found else None
            else:
                text = gdb.execute("info symbol %#x" % address, to_string=True)
                found = re.match(r"(\S+)(?: \+ (\d+))? in section", text)
                if found:
                    name = found.group(1) + ("+" + found.group(2) if found.group(2) else "")
        except gdb.error:
            pass
        symbols[address] = name
    return symbols[address]


def connection_type():
    """How gdb reaches the inferior ("native", "core", "remote"...), or
    None where it cannot tell."""
    try:
        return gdb.selected_inferior().connection.type
    except AttributeError:
        return None


def page_map():
    """The kernel's page map of the process, open, and its page size, if
    it is a live process on this machine; else (None, None)."""
    if connection_type() != "native":
        return None, None
    try:
        pid = gdb.selected_inferior().pid
        return os.open("/proc/%d/pagemap" % pid, os.O_RDONLY), os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return None, None


def check_target():
    # Types from the registers and the architecture, not by name: names
    # depend on the current language (Rust has no `void`). The descriptor
    # of a 32-bit libcoro has other offsets than layout.py reads (and a
    # debugger.h that pins none).
    frame = gdb.newest_frame()
    if frame.read_register("sp").type.sizeof != 8 or \
            "little endian" not in gdb.execute("show endian", to_string=True):
        raise CoroError("libcoro-gdb supports x86-64, AArch64 and RISC-V 64 programs "
                        "(64-bit little-endian), not this %s one."
                        % frame.architecture().name())


def code_mask():
    """Where return addresses may be signed (AArch64 with pointer
    authentication), the bits that hold the code, as the target tells
    gdb; else 0. (qemu 7.2's gdb stub tells nothing.)"""
    try:
        return int(gdb.newest_frame().read_register("pauth_cmask"))
    except (gdb.error, ValueError):
        return 0


def libraries():
    """Each copy of libcoro that the inferior holds."""
    addresses = []
    for objfile in gdb.objfiles():
        try:
            found = objfile.lookup_global_symbol("coro__debug")
        except (AttributeError, gdb.error):
            found = None
        if found is not None:
            addresses.append(int(found.value().address))
    # Copies without debug information: from the symbol table, where gdb
    # may spell the name coro.debug (it takes `__` for Ada's `.`).
    try:
        listing = gdb.execute("info variables ^coro.*debug$", to_string=True)
    except gdb.error:
        listing = ""
    for line in listing.splitlines():
        found = re.match(r"^(0x[0-9a-f]+)\s+coro(__|\.)debug$", line.strip())
        if found:
            addresses.append(int(found.group(1), 16))
    copies = []
    for address in dict.fromkeys(addresses):
        try:
            copies.append(layout.Library(address, read, symbol, code_mask()))
        except layout.Unreadable:
            pass  # a library not yet relocated (the program not started)
        except layout.VersionMismatch as error:
            raise CoroError(str(error))
    return copies


def no_libcoro_error():
    """The error for a process in which no copy of libcoro is found:
    why, as far as can be told."""
    try:
        gdb.parse_and_eval("coro_create")
    except gdb.error:
        pass
    else:
        return CoroError("libcoro is here but not its symbol coro__debug: a stripped "
                         "program or libcoro, or a libcoro older than this script.")
    # A shared libcoro may be loaded later, but not in a core file.
    later = "" if connection_type() == "core" else " (yet: a shared one loads at run)"
    stripped = layout.elf_stripped(gdb.current_progspace().filename)
    if stripped is False:
        return CoroError("No libcoro in this program%s." % later)
    # A static libcoro leaves no trace in a stripped program.
    return CoroError("No libcoro found: this program %s (`strip` removes the symbols "
                     "libcoro-gdb needs), or has no libcoro%s."
                     % ("is stripped" if stripped else "may be stripped",
                        "" if stripped else later))


def list_coroutines():
    """Every live coroutine of the inferior, in the order `info
    coroutines` numbers them (from 1)."""
    if not gdb.selected_inferior().threads():
        raise CoroError("No process or core file.")
    check_target()
    symbols.clear()
    copies = libraries()
    if not copies:
        raise no_libcoro_error()
    coroutines, slots, blank = [], 0, 0
    for library in copies:
        found, more, missed = library.find_coroutines()
        coroutines.extend(found)
        slots += more
        blank += missed
    # Stacks mapped, and in a core file not one record in them: gcore's
    # core, which has them as zeros or not at all. (A program with no
    # coroutine has no stacks mapped, or the records of destroyed ones in
    # its cache; live, a spare slab may read all as zeros.)
    if not coroutines and slots and blank == slots and connection_type() == "core":
        raise CoroError("No coroutines found. If this is a core file that gdb's gcore "
                        "wrote, it lacks them: gcore cannot save stacks that have "
                        "guard regions (a core from the kernel has them).")
    return coroutines


def threads_on_stacks(coroutines):
    """Which thread executes on each coroutine's stack, by the
    coroutine's address: the one whose stack pointer is inside it.
    Normally the running coroutines; a suspended or normal one too while
    a thread is halfway through a switch into or out of it."""
    where = {}
    original_thread = gdb.selected_thread()
    try:
        original_frame = gdb.selected_frame()
    except gdb.error:
        original_frame = None
    try:
        for thread in gdb.selected_inferior().threads():
            try:
                thread.switch()
                # The newest frame's registers are the thread's own,
                # whatever coroutine is selected.
                sp = int(gdb.newest_frame().read_register("sp"))
            except gdb.error:
                continue
            for co in coroutines:
                if co.stack_lo <= sp < co.stack_hi:
                    where[co.address] = thread
    finally:
        if original_thread is not None and original_thread.is_valid():
            original_thread.switch()
            if original_frame is not None and original_frame.is_valid():
                original_frame.select()
    return where


def thread_number(ptid):
    for thread in gdb.selected_inferior().threads():
        if thread.ptid == ptid:
            return thread.num
    return "?"
