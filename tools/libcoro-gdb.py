# gdb support for libcoro: list every coroutine of a process, and walk the
# stack of a suspended one with gdb's own commands (bt, frame, up, info
# locals), on a live process or a core file.
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
# It needs no debug information for libcoro, only its symbol table: it reads
# the descriptor `coro__debug` (src/debug.h), which says where the
# coroutines are and how their records and saved registers are laid out.

import os
import re
import struct

import gdb
import gdb.unwinder

DEBUG_VERSION = 1
STATES = ("created", "suspended", "running", "normal", "dead")
CREATED, SUSPENDED, RUNNING, NORMAL, DEAD = range(5)
MAX_REGISTERS = 14


class CoroError(gdb.GdbError):
    pass


def _memory():
    return gdb.selected_inferior()


def _read(address, size):
    return bytes(_memory().read_memory(address, size))


def _u16(data, at):
    return struct.unpack_from("<H", data, at)[0]


def _pointer(address):
    return struct.unpack("<Q", _read(address, 8))[0]


_symbols = {}


def _symbol(address):
    """The function at address, as name or name+offset, or None."""
    if address == 0:
        return None
    if address not in _symbols:
        try:
            text = str(gdb.parse_and_eval("(void (*)(void))%#x" % address))
            found = re.search(r"<(.+)>", text)
            _symbols[address] = found.group(1) if found else None
        except gdb.error:
            _symbols[address] = None
    return _symbols[address]


def _page_map():
    """The kernel's page map of the process, if it is a live one here."""
    inferior = gdb.selected_inferior()
    try:
        if inferior.connection.type != "native":
            return None
        return os.open("/proc/%d/pagemap" % inferior.pid, os.O_RDONLY)
    except (AttributeError, OSError):
        return None


class Library:
    """One copy of libcoro in the inferior, read from its coro__debug."""

    def __init__(self, address):
        root = _read(address, 128)
        self.address = address
        self.version, self.record_bytes = struct.unpack_from("<II", root, 0)
        if self.version != DEBUG_VERSION:
            raise CoroError(
                "libcoro at %#x has debug layout version %d; this script reads %d"
                % (address, self.version, DEBUG_VERSION)
            )
        self.registers = root[8:88].split(b"\0")[0].decode().split()
        stacks_at, context_at = struct.unpack_from("<QQ", root, 88)
        (self.off_fn, self.off_arg, self.off_status, self.off_delegate,
         self.off_delegator, self.off_resumer, self.off_stack_lo,
         self.off_stack_size, self.off_context) = struct.unpack_from("<9H", root, 104)

        stacks = _read(stacks_at, 24)
        self.slabs_head = struct.unpack_from("<Q", stacks, 0)[0]
        (self.slab_next, self.slab_base, self.slab_class, self.class_usable,
         self.class_slot_size, self.class_slot_count) = struct.unpack_from("<6H", stacks, 8)

        context = _read(context_at, 60)
        context_size = struct.unpack_from("<I", context, 0)[0]
        self.backend = context[4:16].split(b"\0")[0].decode()
        self.saved_self = struct.unpack_from("<3H", context, 16)
        self.saved_resumer = struct.unpack_from("<3H", context, 22)
        self.register_offsets = struct.unpack_from("<%dh" % MAX_REGISTERS, context, 28)
        self.sp_adjust = _u16(context, 56)
        self.stub_return = struct.unpack_from("<h", context, 58)[0]
        # As coro.c's record_bytes(): the record, then the context.
        self.record_total = self.record_bytes + ((context_size + 15) & ~15)
        self.can_walk = bool(self.registers) and self.register_offsets[0] >= 0

    def coroutines(self):
        """Every live coroutine, slab by slab, slot by slot."""
        found = []
        slab, seen = _pointer(self.slabs_head), set()
        while slab != 0 and slab not in seen:
            seen.add(slab)
            base = _pointer(slab + self.slab_base)
            size_class = _pointer(slab + self.slab_class)
            usable = _pointer(size_class + self.class_usable)
            slot_size = _pointer(size_class + self.class_slot_size)
            slot_count = struct.unpack("<I", _read(size_class + self.class_slot_count, 4))[0]
            for slot in range(slot_count):
                top = base + (slot + 1) * slot_size
                try:
                    co = Coroutine(self, top - self.record_total)
                except gdb.MemoryError:
                    continue  # not in a core file: never written
                # A live record names its own stack; a free slot reads as
                # zeros, a destroyed coroutine's record has no fn.
                if co.fn != 0 and co.stack_lo == top - usable and co.status < len(STATES):
                    found.append(co)
            slab = _pointer(slab + self.slab_next)
        return found

    def saved_registers(self, context, saved):
        """The registers saved at a side of the context at address context."""
        offset, indirect, adjust = saved
        block = context + offset
        if indirect:
            block = _pointer(block)
            if block == 0:
                return None
            block += adjust
        values = {}
        for name, at in zip(self.registers, self.register_offsets):
            values[name] = block + self.sp_adjust if at < 0 else _pointer(block + at)
        pc = self.registers[0]
        if self.stub_return >= 0 and "swapcontext" in (_symbol(values[pc]) or ""):
            # Saved in a stub that returns through the address kept
            # aside: the frame is its caller's, as it will be on return.
            values[pc] = values[self.registers[-1]] = _pointer(block + self.stub_return)
        return values


class Coroutine:
    def __init__(self, library, address):
        self.library = library
        self.address = address
        data = _read(address, library.record_bytes)
        lib = library
        self.fn = struct.unpack_from("<Q", data, lib.off_fn)[0]
        self.arg = struct.unpack_from("<Q", data, lib.off_arg)[0]
        self.status = struct.unpack_from("<i", data, lib.off_status)[0]
        self.delegate = struct.unpack_from("<Q", data, lib.off_delegate)[0]
        self.delegator = struct.unpack_from("<Q", data, lib.off_delegator)[0]
        self.resumer = struct.unpack_from("<Q", data, lib.off_resumer)[0]
        self.stack_lo = struct.unpack_from("<Q", data, lib.off_stack_lo)[0]
        self.stack_size = struct.unpack_from("<Q", data, lib.off_stack_size)[0]
        self.context = address + lib.off_context

    @property
    def state(self):
        return STATES[self.status]

    @property
    def stack_hi(self):
        return self.stack_lo + self.stack_size

    def resident(self, page_map):
        """Bytes of its stack in memory: of a live process, the pages the
        kernel's page map has present or swapped; of a core file, the pages
        it holds other than zeros (the kernel leaves out the rest)."""
        page = 4096
        if page_map is not None:
            first, count = self.stack_lo // page, self.stack_size // page
            entries = os.pread(page_map, 8 * count, 8 * first)
            flags = struct.unpack("<%dQ" % (len(entries) // 8), entries)
            return page * sum(1 for entry in flags if entry >> 62)
        resident = 0
        for start in range(self.stack_lo, self.stack_hi, page):
            try:
                if _read(start, page).strip(b"\0"):
                    resident += page
            except gdb.MemoryError:
                pass
        return resident

    def saved_registers(self, everyone):
        """Where it stands while switched out: its own saved registers when
        suspended; when normal, those saved in the context of the coroutine
        it resumed. None when it has no stack to show."""
        if self.status == SUSPENDED:
            return self.library.saved_registers(self.context, self.library.saved_self)
        if self.status == NORMAL:
            for other in everyone:
                if other.resumer == self.address and other.status in (RUNNING, NORMAL):
                    return other.library.saved_registers(other.context,
                                                         other.library.saved_resumer)
        return None


def libraries():
    """Each copy of libcoro that the inferior holds."""
    addresses = []
    for objfile in gdb.objfiles():
        try:
            symbol = objfile.lookup_global_symbol("coro__debug")
        except (AttributeError, gdb.error):
            symbol = None
        if symbol is not None:
            addresses.append(int(symbol.value().address))
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
    found = []
    for address in dict.fromkeys(addresses):
        try:
            found.append(Library(address))
        except gdb.MemoryError:
            pass  # a library not yet relocated (the program not started)
    return found


def all_coroutines():
    if not gdb.selected_inferior().threads():
        raise CoroError("No process or core file.")
    _symbols.clear()  # a new run may have loaded code elsewhere
    found = libraries()
    if not found:
        try:
            gdb.parse_and_eval("coro_create")
        except gdb.error:
            raise CoroError("No libcoro in this program (yet: a shared one loads at run).")
        raise CoroError("libcoro is here but not its symbol coro__debug: a stripped "
                        "libcoro, or one older than this script.")
    everyone = []
    for library in found:
        everyone.extend(library.coroutines())
    return everyone


def _newest_sp(thread):
    """The thread's own stack pointer (its innermost frame's)."""
    thread.switch()
    frame = gdb.newest_frame()
    return int(frame.read_register("sp"))


def running_threads(everyone):
    """Which thread each running coroutine runs on: the one whose stack
    pointer is inside its stack."""
    running = [co for co in everyone if co.status == RUNNING]
    if not running:
        return {}
    where = {}
    original = gdb.selected_thread()
    saved = _Selection.current
    _Selection.current = None  # the threads' own registers
    gdb.invalidate_cached_frames()
    try:
        frame_level = gdb.selected_frame().level() if original is not None else 0
    except gdb.error:
        frame_level = 0
    try:
        for thread in gdb.selected_inferior().threads():
            try:
                sp = _newest_sp(thread)
            except gdb.error:
                continue
            for co in running:
                if co.stack_lo <= sp < co.stack_hi:
                    where[co.address] = thread
    finally:
        _Selection.current = saved
        gdb.invalidate_cached_frames()
        if original is not None and original.is_valid():
            original.switch()
            try:
                gdb.execute("select-frame %d" % frame_level, to_string=True)
            except gdb.error:
                pass
    return where


class _Selection:
    """The coroutine whose stack gdb shows, for one thread."""

    current = None

    def __init__(self, co, number, thread, registers, level):
        self.co = co
        self.number = number
        self.thread = thread
        self.registers = registers
        # The thread's innermost real frame, whose caller becomes the
        # coroutine's innermost: 0, unless gdb shows inlined calls there.
        self.level = level


class _FrameId:
    def __init__(self, sp, pc):
        self.sp = sp
        self.pc = pc


class CoroutineUnwinder(gdb.unwinder.Unwinder):
    """With a coroutine selected, the thread's innermost frame (which gdb
    always reads from the thread itself) has the coroutine's switched-out
    frame as its caller: the frames above it are the coroutine's stack,
    unwound by gdb as usual from the registers the switch saved."""

    def __init__(self):
        super().__init__("libcoro")

    def __call__(self, pending_frame):
        selection = _Selection.current
        if selection is None or pending_frame.level() != selection.level:
            return None
        thread = gdb.selected_thread()
        if thread is None or thread.ptid != selection.thread:
            return None
        names = selection.co.library.registers
        pc = pending_frame.read_register(names[0])
        # Below the coroutine's stack pointer: gdb wants each caller's
        # frame to be outer (higher) than its callee's.
        unwind = pending_frame.create_unwind_info(
            _FrameId(gdb.Value(selection.registers[names[1]] - 16), pc))
        for name in names:
            value = gdb.Value(selection.registers[name])
            unwind.add_saved_register(name, value.cast(pending_frame.read_register(name).type))
        return unwind


class HideThreadFrame:
    """In bt, with a coroutine selected: the thread's innermost frame is
    left out, so that the backtrace is the coroutine's."""

    def __init__(self):
        self.name = "libcoro"
        self.priority = 100
        self.enabled = True
        gdb.frame_filters[self.name] = self

    def filter(self, frames):
        selection = _Selection.current
        if selection is None:
            return frames
        # Nor the null frame under glibc's __start_context (ucontext).
        return (frame for frame in frames
                if frame.inferior_frame().level() > selection.level
                and frame.inferior_frame().pc() != 0)


def _describe(co, number, threads, marked, page_map):
    function = _symbol(co.fn) or "%#x" % co.fn
    thread = threads.get(co.address)
    extra = []
    if thread is not None:
        extra.append("thread %d" % thread.num)
    if co.delegate:
        extra.append("delegate %#x" % co.delegate)
    if co.delegator:
        extra.append("delegated to by %#x" % co.delegator)
    try:
        size = "%d/%d KiB resident" % (co.resident(page_map) // 1024, co.stack_size // 1024)
    except (gdb.error, OSError):
        size = "%d KiB" % (co.stack_size // 1024)
    return "%s %-3d %#x %-9s %-24s [%#x-%#x] %s%s" % (
        "*" if marked else " ", number, co.address, co.state, function,
        co.stack_lo, co.stack_hi, size, (", " + ", ".join(extra)) if extra else "")


def _marked(co, threads):
    """The coroutine whose stack gdb shows now: the selected one, or the one
    running on the selected thread."""
    if _Selection.current is not None:
        return _Selection.current.co.address == co.address
    thread = threads.get(co.address)
    return thread is not None and thread == gdb.selected_thread()


class InfoCoroutines(gdb.Command):
    """List every coroutine of the process: number, address, state, body,
    stack range and how much of it is resident (of a core file: how much
    of it the core holds), the thread a running one runs on, and
    delegation links (coro_yield_from). `*` marks the one whose
    stack gdb shows (selected with `coroutine N`, or running on the
    selected thread)."""

    def __init__(self):
        super().__init__("info coroutines", gdb.COMMAND_STACK)

    def invoke(self, argument, from_tty):
        everyone = all_coroutines()
        if not everyone:
            gdb.write("No coroutines.\n")
            return
        threads = running_threads(everyone)
        page_map = _page_map()
        try:
            gdb.write("  Id  Address        State     Body                     Stack\n")
            for number, co in enumerate(everyone, 1):
                gdb.write(_describe(co, number, threads, _marked(co, threads), page_map) + "\n")
        finally:
            if page_map is not None:
                os.close(page_map)


def _deselect(announce):
    if _Selection.current is None:
        return
    thread = _Selection.current.thread
    _Selection.current = None
    gdb.invalidate_cached_frames()
    if announce:
        gdb.write("[Back to the stack of thread %s]\n" % _thread_number(thread))
        gdb.execute("frame")


def _thread_number(ptid):
    for thread in gdb.selected_inferior().threads():
        if thread.ptid == ptid:
            return thread.num
    return "?"


def _find(argument, everyone):
    argument = argument.strip()
    if re.fullmatch(r"\d+", argument):
        number = int(argument)
        if not 1 <= number <= len(everyone):
            raise CoroError("No coroutine %d: `info coroutines` lists %d." % (number, len(everyone)))
        return number, everyone[number - 1]
    address = int(gdb.parse_and_eval(argument).cast(gdb.lookup_type("unsigned long")))
    for number, co in enumerate(everyone, 1):
        if co.address == address:
            return number, co
    raise CoroError("No live coroutine at %#x." % address)


def select(co, number, everyone, announce=True):
    """Shows co's stack on the selected thread: frame 1 is its innermost."""
    if co.status == RUNNING:
        thread = running_threads(everyone).get(co.address)
        _deselect(False)
        if thread is None:
            raise CoroError("Coroutine %d is running, on no thread gdb knows of." % number)
        gdb.execute("thread %d" % thread.num)
        return
    if not co.library.can_walk:
        raise CoroError("This libcoro's saved registers are not known on this platform.")
    registers = co.saved_registers(everyone)
    if registers is None:
        raise CoroError("Coroutine %d is %s: it has no stack to show." % (number, co.state))
    thread = gdb.selected_thread()
    if thread is None:
        raise CoroError("No thread to show it on.")
    _deselect(False)
    level, frame = 0, gdb.newest_frame()
    while frame.type() == gdb.INLINE_FRAME and frame.older() is not None:
        level, frame = level + 1, frame.older()
    _Selection.current = _Selection(co, number, thread.ptid, registers, level)
    gdb.invalidate_cached_frames()
    if announce:
        gdb.write("[Coroutine %d (%#x, %s, %s); `coroutine` goes back to thread %d]\n"
                  % (number, co.address, co.state, _symbol(co.fn), thread.num))
    gdb.execute(("frame %d" if announce else "select-frame %d") % (level + 1))


class CoroutineCommand(gdb.Command):
    """Show a coroutine's stack: `coroutine N` (a number from `info
    coroutines`) or `coroutine ADDR` (an expression giving its address).
    Then bt, frame, up, down and info locals work on its suspended stack:
    frame 1 is its innermost frame (frame 0 stays the thread's, which bt
    leaves out; 1 more for each inlined call gdb shows there). A running coroutine's thread is selected instead.
    `coroutine` alone goes back to the thread's own stack;
    `coroutine bt-all` prints the backtrace of every suspended coroutine
    (arguments after bt-all go to bt, such as `full` or a frame count).
    gdb goes back to the thread's own stack by itself when the program
    runs again."""

    def __init__(self):
        super().__init__("coroutine", gdb.COMMAND_STACK)

    def invoke(self, argument, from_tty):
        argument = argument.strip()
        if argument == "":
            if _Selection.current is None:
                gdb.write("No coroutine is selected: gdb shows the threads' own stacks.\n")
            _deselect(True)
            return
        words = argument.split(None, 1)
        if words[0] == "bt-all":
            self.backtrace_all(words[1] if len(words) > 1 else "")
            return
        everyone = all_coroutines()
        number, co = _find(argument, everyone)
        select(co, number, everyone)

    @staticmethod
    def backtrace_all(bt_arguments):
        everyone = all_coroutines()
        previous = _Selection.current
        shown = 0
        try:
            for number, co in enumerate(everyone, 1):
                if co.status not in (SUSPENDED, NORMAL):
                    continue
                gdb.write("\nCoroutine %d (%#x, %s, %s):\n"
                          % (number, co.address, co.state, _symbol(co.fn)))
                select(co, number, everyone, announce=False)
                gdb.execute("bt " + bt_arguments)
                shown += 1
        finally:
            _Selection.current = previous
            gdb.invalidate_cached_frames()
        if shown == 0:
            gdb.write("No suspended coroutines.\n")


def _on_run_or_exit(event):
    _deselect(False)


def _register():
    gdb.unwinder.register_unwinder(None, CoroutineUnwinder(), replace=True)
    HideThreadFrame()
    InfoCoroutines()
    CoroutineCommand()
    # The selection ends when the program runs on or exits. Loaded twice
    # (auto-loaded and sourced), the handlers are connected once.
    if not getattr(gdb, "_libcoro_hooked", False):
        gdb.events.cont.connect(_on_run_or_exit)
        gdb.events.exited.connect(_on_run_or_exit)
        gdb._libcoro_hooked = True


_register()
