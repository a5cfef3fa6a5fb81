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
# It needs no debug information for libcoro, only the symbol table it is
# linked into: it reads the descriptor `coro__debug` (src/debug.h), which
# says where the coroutines are and how their records and saved registers
# are laid out. Written for gdb 13; 64-bit little-endian programs.
#
# Everything is defined inside _libcoro_gdb(), which leaves nothing behind
# in gdb's Python namespace but gdb._libcoro (the state of the last load).


def _libcoro_gdb():
    import os
    import re
    import struct

    import gdb
    import gdb.unwinder
    from gdb.FrameDecorator import FrameDecorator
    from gdb.FrameIterator import FrameIterator

    DEBUG_VERSION = 1
    STATES = ("created", "suspended", "running", "normal", "dead")
    CREATED, SUSPENDED, RUNNING, NORMAL, DEAD = range(5)
    MAX_REGISTERS = 14
    SCAN_PAGE = 4096  # the granularity of the scan of a core file's stacks
    ZERO_PAGE = bytes(SCAN_PAGE)

    class CoroError(gdb.GdbError):
        pass

    def read(address, size):
        return bytes(gdb.selected_inferior().read_memory(address, size))

    def pointer(address):
        return struct.unpack("<Q", read(address, 8))[0]

    symbols = {}

    def symbol(address):
        """The function at address, as name or name+offset, or None: in
        gdb's own format, whatever the current language."""
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
        try:
            return gdb.selected_inferior().connection.type
        except AttributeError:
            return None

    def page_map():
        """The kernel's page map of the process and its page size, if it
        is a live process on this machine; else (None, None)."""
        inferior = gdb.selected_inferior()
        try:
            if inferior.connection.type != "native":
                return None, None
            return os.open("/proc/%d/pagemap" % inferior.pid, os.O_RDONLY), os.sysconf("SC_PAGE_SIZE")
        except (AttributeError, OSError, ValueError):
            return None, None

    def program_stripped():
        """Whether the program's file has no symbol table (.symtab), which
        `strip` removes; None when it cannot be read."""
        name = gdb.current_progspace().filename
        try:
            with open(name, "rb") as elf:
                header = elf.read(64)
                if header[:5] != b"\x7fELF\x02":
                    return None
                offset, = struct.unpack_from("<Q", header, 0x28)
                size, count = struct.unpack_from("<HH", header, 0x3a)
                elf.seek(offset)
                sections = elf.read(size * count)
        except (OSError, TypeError, struct.error):
            return None
        types = [struct.unpack_from("<I", sections, at + 4)[0]
                 for at in range(0, len(sections) - size + 1, size)]
        return bool(types) and 2 not in types  # SHT_SYMTAB

    def check_target():
        # Types from the registers and the architecture, not by name: names
        # depend on the current language (Rust has no `void`).
        if gdb.newest_frame().read_register("sp").type.sizeof != 8 or \
                "little endian" not in gdb.execute("show endian", to_string=True):
            raise CoroError("libcoro-gdb reads 64-bit little-endian programs only.")

    class Library:
        """One copy of libcoro in the inferior, read from its coro__debug."""

        def __init__(self, address):
            root = read(address, 128)
            self.address = address
            self.version, self.coro_bytes = struct.unpack_from("<II", root, 0)
            if self.version != DEBUG_VERSION:
                raise CoroError("libcoro at %#x has debug layout version %d; this script reads %d."
                                % (address, self.version, DEBUG_VERSION))
            self.registers = root[8:88].split(b"\0")[0].decode().split()
            stacks_at, context_at = struct.unpack_from("<QQ", root, 88)
            (self.off_fn, _, self.off_status, self.off_delegate,
             self.off_delegator, self.off_resumer, self.off_stack_lo,
             self.off_stack_size, self.off_context) = struct.unpack_from("<9H", root, 104)

            stacks = read(stacks_at, 24)
            self.slabs_head = struct.unpack_from("<Q", stacks, 0)[0]
            (self.slab_next, self.slab_base, self.slab_class, self.class_usable,
             self.class_slot_size, self.class_slot_count) = struct.unpack_from("<6H", stacks, 8)

            context = read(context_at, 60)
            context_size = struct.unpack_from("<I", context, 0)[0]
            self.backend = context[4:16].split(b"\0")[0].decode()
            self.saved_self = struct.unpack_from("<3H", context, 16)
            self.saved_resumer = struct.unpack_from("<3H", context, 22)
            self.register_offsets = struct.unpack_from("<%dh" % MAX_REGISTERS, context, 28)
            self.sp_adjust, self.stub_return = struct.unpack_from("<Hh", context, 56)
            # As coro.c's record_bytes(): struct coro, then the context.
            self.record_bytes = self.coro_bytes + ((context_size + 15) & ~15)
            self.can_walk = bool(self.registers) and self.register_offsets[0] >= 0

        def coroutines(self):
            """Every live coroutine, slab by slab, slot by slot; how many
            slots there are, and how many of them hold no record (could not
            be read, or read as zeros)."""
            found, slots, blank = [], 0, 0
            try:
                slab = pointer(self.slabs_head)
            except gdb.MemoryError:
                return found, 1, 1
            seen = set()
            while slab != 0 and slab not in seen:
                seen.add(slab)
                try:
                    base = pointer(slab + self.slab_base)
                    size_class = pointer(slab + self.slab_class)
                    usable = pointer(size_class + self.class_usable)
                    slot_size = pointer(size_class + self.class_slot_size)
                    slot_count = struct.unpack("<I", read(size_class + self.class_slot_count, 4))[0]
                    following = pointer(slab + self.slab_next)
                except gdb.MemoryError:
                    return found, slots + 1, blank + 1
                slots += slot_count
                for slot in range(slot_count):
                    top = base + (slot + 1) * slot_size
                    try:
                        co = Coroutine(self, top - self.record_bytes)
                    except gdb.MemoryError:
                        blank += 1
                        continue
                    if co.stack_lo == 0:
                        blank += 1
                    # A live record names its own stack; a free slot reads
                    # as zeros, a destroyed coroutine's record has no fn.
                    if co.fn != 0 and co.stack_lo == top - usable and 0 <= co.status < len(STATES):
                        found.append(co)
                slab = following
            return found, slots, blank

        def saved_registers(self, context, saved):
            """The registers saved at a side of the context at address context."""
            offset, indirect, adjust = saved
            block = context + offset
            if indirect:
                block = pointer(block)
                if block == 0:
                    return None
                block += adjust
            values = {}
            for name, at in zip(self.registers, self.register_offsets):
                values[name] = block + self.sp_adjust if at < 0 else pointer(block + at)
            pc = self.registers[0]
            if self.stub_return >= 0 and "swapcontext" in (symbol(values[pc]) or ""):
                # Saved in a stub that returns through the address kept
                # aside: the frame is its caller's, as it will be on return.
                values[pc] = values[self.registers[-1]] = pointer(block + self.stub_return)
            return values

    class Coroutine:
        def __init__(self, library, address):
            self.library = library
            self.address = address
            data = read(address, library.coro_bytes)
            lib = library

            def word(at):
                return struct.unpack_from("<Q", data, at)[0]

            self.fn = word(lib.off_fn)
            self.status = struct.unpack_from("<i", data, lib.off_status)[0]
            self.delegate = word(lib.off_delegate)
            self.delegator = word(lib.off_delegator)
            self.resumer = word(lib.off_resumer)
            self.stack_lo = word(lib.off_stack_lo)
            self.stack_size = word(lib.off_stack_size)
            self.context = address + lib.off_context

        @property
        def state(self):
            return STATES[self.status]

        @property
        def stack_hi(self):
            return self.stack_lo + self.stack_size

        def resident(self, pages, page_size):
            """Bytes of its stack in memory: of a live process, the pages
            the kernel's page map has present or swapped; of a core file,
            the pages it holds other than zeros (the kernel leaves out the
            rest)."""
            if pages is not None:
                first, count = self.stack_lo // page_size, self.stack_size // page_size
                entries = os.pread(pages, 8 * count, 8 * first)
                flags = struct.unpack("<%dQ" % (len(entries) // 8), entries)
                return page_size * sum(1 for entry in flags if entry >> 62)
            # The stack in one read where the core holds all of it (the
            # pages the kernel left out read as zeros): a read per page
            # made most of the time of a listing.
            try:
                data = read(self.stack_lo, self.stack_size)
            except gdb.MemoryError:
                data = None
            resident = 0
            for start in range(0, self.stack_size, SCAN_PAGE):
                if data is not None:
                    page = data[start:start + SCAN_PAGE]
                else:
                    try:
                        page = read(self.stack_lo + start, SCAN_PAGE)
                    except gdb.MemoryError:
                        continue
                if page != ZERO_PAGE:
                    resident += SCAN_PAGE
            return resident

        def saved_registers(self, everyone):
            """Where it stands while switched out: its own saved registers
            when suspended; when normal, those saved in the context of the
            coroutine it resumed. None when it has no stack to show."""
            if self.status == SUSPENDED:
                return self.library.saved_registers(self.context, self.library.saved_self)
            if self.status == NORMAL:
                for other in everyone:
                    if other.resumer == self.address and other.status in (RUNNING, NORMAL):
                        self.resumed = other
                        return other.library.saved_registers(other.context,
                                                             other.library.saved_resumer)
            return None

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
        # Copies without debug information: from the symbol table, where
        # gdb may spell the name coro.debug (it takes `__` for Ada's `.`).
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
                copies.append(Library(address))
            except gdb.MemoryError:
                pass  # a library not yet relocated (the program not started)
        return copies

    def all_coroutines():
        drop_stale(True)
        if not gdb.selected_inferior().threads():
            raise CoroError("No process or core file.")
        check_target()
        symbols.clear()  # a new run may have loaded code elsewhere
        copies = libraries()
        if not copies:
            try:
                gdb.parse_and_eval("coro_create")
            except gdb.error:
                pass
            else:
                raise CoroError("libcoro is here but not its symbol coro__debug: a stripped "
                                "program or libcoro, or a libcoro older than this script.")
            # A shared libcoro may be loaded later, but not in a core file.
            later = "" if connection_type() == "core" else " (yet: a shared one loads at run)"
            stripped = program_stripped()
            if stripped is False:
                raise CoroError("No libcoro in this program%s." % later)
            # A static libcoro leaves no trace in a stripped program.
            raise CoroError("No libcoro found: this program %s (`strip` removes the symbols "
                            "libcoro-gdb needs), or has no libcoro%s."
                            % ("is stripped" if stripped else "may be stripped",
                               "" if stripped else later))
        everyone, slots, blank = [], 0, 0
        for library in copies:
            found, more, missed = library.coroutines()
            everyone.extend(found)
            slots += more
            blank += missed
        # Stacks mapped, and in a core file not one record in them: gcore's
        # core, which has them as zeros or not at all. (A program with no
        # coroutine has no stacks mapped, or the records of destroyed ones
        # in its cache; live, a spare slab may read all as zeros.)
        if not everyone and slots and blank == slots and connection_type() == "core":
            raise CoroError("No coroutines found. If this is a core file that gdb's gcore "
                            "wrote, it lacks them: gcore cannot save stacks that have "
                            "guard regions (a core from the kernel has them).")
        return everyone

    def threads_on_stacks(everyone):
        """Which thread executes on each coroutine's stack: the one whose
        stack pointer is inside it. Normally the running coroutines; a
        suspended or normal one too while a thread is halfway through a
        switch into or out of it."""
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
                for co in everyone:
                    if co.stack_lo <= sp < co.stack_hi:
                        where[co.address] = thread
        finally:
            if original_thread is not None and original_thread.is_valid():
                original_thread.switch()
                if original_frame is not None and original_frame.is_valid():
                    original_frame.select()
        return where

    class Selection:
        """The coroutine whose stack gdb shows, on one thread."""

        def __init__(self, co, number, thread, registers, level, thread_pc, thread_sp):
            self.co = co
            self.number = number
            self.thread = thread
            self.registers = registers
            # The thread's innermost real frame, whose caller becomes the
            # coroutine's innermost: 0, unless gdb shows inlined calls there.
            self.level = level
            # Where the thread stood: the selection holds only there (not
            # inside a function gdb calls in the program meanwhile).
            self.thread_pc = thread_pc
            self.thread_sp = thread_sp
            # Set when a function gdb called in the program moved the
            # coroutine, to what happened ("ran in", "ended in", "was
            # destroyed by"):
            # the selection ends at the next prompt, command or bt.
            self.stale = None
            # Whether gdb has selected again, after that call, the frame
            # selected before it.
            self.reselected = False

    # A second load keeps the first's selection.
    state = getattr(gdb, "_libcoro", {}).get("state", {"selection": None})

    def thread_registers(frame):
        """The pc and stack pointer of the thread, as frame (one of its
        innermost, which share them) has them."""
        return int(frame.read_register("pc")), int(frame.read_register("sp"))

    def selection_here(frame=None):
        """The selection, if it is for the thread gdb is looking at and the
        thread stands where it stood; frame: the thread's innermost, else
        gdb's newest frame (not from inside an unwinder)."""
        selection = state["selection"]
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

    class FrameId:
        def __init__(self, sp, pc):
            self.sp = sp
            self.pc = pc

    class CoroutineUnwinder(gdb.unwinder.Unwinder):
        """With a coroutine selected, the thread's innermost frame (which
        gdb always reads from the thread itself) has the coroutine's
        switched-out frame as its caller: the frames above it are the
        coroutine's stack, unwound by gdb as usual from the registers the
        switch saved."""

        def __init__(self):
            super().__init__("libcoro")

        def __call__(self, pending_frame):
            if state["selection"] is None or pending_frame.level() != state["selection"].level:
                return None
            selection = selection_here(pending_frame)
            if selection is None:
                return None
            if selection.stale:
                # The first unwind after the call is gdb selecting again the
                # frame selected before it, which must be there (see
                # on_run_or_exit); any later one is the thread's own, not
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

    class HideThreadFrames:
        """In bt, with a coroutine selected on this thread: the thread's
        innermost frames are left out, so that the backtrace is the
        coroutine's; so is the null frame under glibc's __start_context."""

        def __init__(self):
            self.name = "libcoro"
            self.priority = 100
            self.enabled = True
            gdb.frame_filters[self.name] = self

        def filter(self, frames):
            selection = selection_here()
            if selection is None:
                return frames
            if selection.stale:
                # bt right after a function gdb called moved the coroutine
                # (a script runs no prompt in between): the thread's stack,
                # from frames unwound again.
                drop_stale(True)
                return (FrameDecorator(frame) for frame in FrameIterator(gdb.newest_frame()))
            return (frame for frame in frames
                    if frame.inferior_frame().level() > selection.level
                    and frame.inferior_frame().pc() != 0)

    def describe(co, number, threads, marked, pages, page_size):
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
        except (gdb.error, OSError):
            size = "%d KiB" % (co.stack_size // 1024)
        return "%s %-3d %#x %-9s %-24s [%#x-%#x] %s%s" % (
            "*" if marked else " ", number, co.address, co.state, function,
            co.stack_lo, co.stack_hi, size, (", " + ", ".join(extra)) if extra else "")

    def marked(co, threads):
        """Whether co's stack is the one gdb shows: the selected coroutine
        on its thread, or the one the selected thread executes on."""
        selection = selection_here()
        if selection is not None:
            return selection.co.address == co.address
        thread = threads.get(co.address)
        return thread is not None and thread == gdb.selected_thread()

    class InfoCoroutines(gdb.Command):
        """List every coroutine of the process: number, address, state,
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
            everyone = all_coroutines()
            if not everyone:
                gdb.write("No coroutines.\n")
                return
            threads = threads_on_stacks(everyone)
            pages, page_size = page_map()
            try:
                gdb.write("  Id  Address        State     Body                     Stack\n")
                for number, co in enumerate(everyone, 1):
                    gdb.write(describe(co, number, threads, marked(co, threads),
                                       pages, page_size) + "\n")
            finally:
                if pages is not None:
                    os.close(pages)

    def thread_number(ptid):
        for thread in gdb.selected_inferior().threads():
            if thread.ptid == ptid:
                return thread.num
        return "?"

    def deselect(announce):
        selection = state["selection"]
        if selection is None:
            return
        state["selection"] = None
        gdb.invalidate_cached_frames()
        if announce:
            gdb.write("[Coroutine %d no longer selected: thread %s shows its own stack again]\n"
                      % (selection.number, thread_number(selection.thread)))
            gdb.execute("frame")

    def find(argument, everyone):
        if re.fullmatch(r"\d+", argument):
            number = int(argument)
            if not 1 <= number <= len(everyone):
                raise CoroError("No coroutine %d: `info coroutines` lists %d."
                                % (number, len(everyone)))
            return number, everyone[number - 1]
        try:
            unsigned = gdb.selected_inferior().architecture().integer_type(64, False)
            address = int(gdb.parse_and_eval(argument).cast(unsigned))
        except gdb.error as error:
            raise CoroError("`%s` is neither a number from `info coroutines` nor an "
                            "expression for a coroutine's address (%s)." % (argument, error))
        for number, co in enumerate(everyone, 1):
            if co.address == address:
                return number, co
        raise CoroError("No live coroutine at %#x." % address)

    def select(co, number, everyone, threads, announce=True):
        """Shows co's stack on the selected thread, from the frame above
        the thread's innermost. threads: threads_on_stacks(everyone)."""
        thread = threads.get(co.address)
        if thread is not None:
            # Executing (or halfway through a switch): its stack is that
            # thread's, and its saved registers are stale.
            deselect(False)
            gdb.execute("thread %d" % thread.num, to_string=not announce)
            return
        if not co.library.can_walk:
            raise CoroError("Where this libcoro (%s backend) saves registers is not known "
                            "on this platform." % co.library.backend)
        if co.status == RUNNING:
            raise CoroError("Coroutine %d is running, on no thread gdb knows of." % number)
        registers = co.saved_registers(everyone)
        if registers is None:
            raise CoroError("Coroutine %d is %s: it has no stack to show." % (number, co.state))
        thread = gdb.selected_thread()
        deselect(False)
        level, frame = 0, gdb.newest_frame()
        while frame.type() == gdb.INLINE_FRAME and frame.older() is not None:
            level, frame = level + 1, frame.older()
        thread_pc, thread_sp = thread_registers(gdb.newest_frame())
        state["selection"] = Selection(co, number, thread.ptid, registers, level,
                                       thread_pc, thread_sp)
        gdb.invalidate_cached_frames()
        if announce:
            gdb.write("[Coroutine %d (%#x, %s, %s); `coroutine` goes back to thread %d]\n"
                      % (number, co.address, co.state, symbol(co.fn), thread.num))
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
            drop_stale(True)
            if argument == "":
                if state["selection"] is None:
                    gdb.write("No coroutine is selected: gdb shows the threads' own stacks.\n")
                deselect(True)
                return
            words = argument.split(None, 1)
            if words[0] == "bt-all":
                self.backtrace_all(words[1] if len(words) > 1 else "")
                return
            everyone = all_coroutines()
            number, co = find(argument, everyone)
            select(co, number, everyone, threads_on_stacks(everyone))

        @staticmethod
        def backtrace_all(bt_arguments):
            everyone = all_coroutines()
            threads = threads_on_stacks(everyone)
            previous = state["selection"]
            try:
                original_frame = gdb.selected_frame()
            except gdb.error:
                original_frame = None
            shown = 0
            try:
                for number, co in enumerate(everyone, 1):
                    if co.status not in (SUSPENDED, NORMAL) or co.address in threads:
                        continue
                    gdb.write("\nCoroutine %d (%#x, %s, %s):\n"
                              % (number, co.address, co.state, symbol(co.fn)))
                    select(co, number, everyone, threads, announce=False)
                    try:
                        gdb.execute("bt " + bt_arguments)
                    except gdb.error as error:
                        raise CoroError("bt %s: %s" % (bt_arguments, error))
                    shown += 1
            finally:
                state["selection"] = previous
                gdb.invalidate_cached_frames()
                if original_frame is not None and original_frame.is_valid():
                    original_frame.select()
            if shown == 0:
                gdb.write("No suspended coroutines.\n")

    def on_run_or_exit(event):
        """The program runs on (continue, step) or exits: the selection
        ends, as the stack it showed may be gone. After a function gdb
        called in the program, it ends only if the coroutine has moved
        (gdb rebuilds its frames after the call by itself)."""
        selection = state["selection"]
        if selection is None:
            return
        if isinstance(event, gdb.InferiorCallPreEvent):
            return
        if isinstance(event, gdb.InferiorCallPostEvent):
            # gdb is about to select again the frame selected before the
            # call, which must still be there (gdb 13 fails an assertion
            # when it is not): the selection ends later, if the call moved
            # the coroutine, and the unwinder shows it once more till then
            # (for each call). Only memory is read here.
            try:
                co = Coroutine(selection.co.library, selection.co.address)
                if co.fn != selection.co.fn:
                    what = "was destroyed by"  # coro_destroy() clears fn
                elif co.status == DEAD:
                    what = "ended in"  # returned, or closed
                else:
                    # Where it stands, read again: in its own context, or
                    # (normal) in that of the coroutine it resumed.
                    resumed = getattr(selection.co, "resumed", None)
                    others = [] if resumed is None else [Coroutine(resumed.library,
                                                                   resumed.address)]
                    if co.status != selection.co.status or \
                            co.saved_registers(others) != selection.registers:
                        what = "ran in"
                    else:
                        what = None
            except gdb.error:
                what = "was destroyed by"  # its stack unmapped
            selection.stale = what or selection.stale
            selection.reselected = False
            return
        deselect(False)

    def drop_stale(announce):
        selection = state["selection"]
        if selection is not None and selection.stale:
            if announce:
                gdb.write("[Coroutine %d %s a function gdb called: it is no longer "
                          "selected]\n" % (selection.number, selection.stale))
            deselect(False)

    def on_prompt():
        drop_stale(True)

    events = (gdb.events.cont, gdb.events.exited, gdb.events.inferior_call)
    # Loaded again (auto-loaded and sourced), this load replaces the last.
    previous = getattr(gdb, "_libcoro", None)
    if previous is not None:
        for event in events:
            try:
                event.disconnect(previous["on_run_or_exit"])
            except (ValueError, RuntimeError):
                pass
        try:
            gdb.events.before_prompt.disconnect(previous["on_prompt"])
        except (KeyError, ValueError, RuntimeError):
            pass
    gdb.unwinder.register_unwinder(None, CoroutineUnwinder(), replace=True)
    HideThreadFrames()
    InfoCoroutines()
    CoroutineCommand()
    for event in events:
        event.connect(on_run_or_exit)
    gdb.events.before_prompt.connect(on_prompt)
    gdb._libcoro = {"on_run_or_exit": on_run_or_exit, "on_prompt": on_prompt, "state": state}


_libcoro_gdb()
del _libcoro_gdb
