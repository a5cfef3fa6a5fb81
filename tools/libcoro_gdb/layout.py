# What libcoro's debugger descriptor says, and the coroutines it leads to,
# read from a process's memory: pure Python over a callable
# read(address, length) -> bytes, which raises Unreadable where memory
# cannot be read. No gdb here: tests/gdb/test_layout.py runs it on fake
# memory.
#
# The descriptor is `coro__debug` (src/debugger.h, which pins every byte
# offset read here with a _Static_assert): where the coroutines are (the
# records at the top of the stacks of the slabs the allocator has mapped)
# and how their records and saved registers are laid out. 64-bit
# little-endian programs only.

import os
import struct

DEBUG_VERSION = 4  # CORO__DEBUG_VERSION
STATES = ("created", "suspended", "running", "normal", "dead")
CREATED, SUSPENDED, RUNNING, NORMAL, DEAD = range(5)
MAX_REGISTERS = 15  # CORO__DEBUG_MAX_REGISTERS
SCAN_PAGE = 4096  # the granularity of the scan of a core file's stacks
ZERO_PAGE = bytes(SCAN_PAGE)

# What is read of each structure: src/debugger.h asserts each fits.
DEBUG_BYTES, STACKS_BYTES, CONTEXT_BYTES = 128, 24, 64


class Unreadable(Exception):
    """Memory that read() could not read."""


class VersionMismatch(Exception):
    """A descriptor of a layout version this package does not read."""


def pointer(read, address):
    return struct.unpack("<Q", read(address, 8))[0]


def no_symbol(address):
    return None


def strip_signature(address, code_mask):
    """A user-space code address without its pointer authentication code:
    every bit from code_mask's lowest up is the code's, or 0."""
    return address & ((code_mask & -code_mask) - 1)


class Library:
    """One copy of libcoro in a process, read from its coro__debug at
    address. symbol(address) names the function at an address (or None):
    the switch's saved pc is told apart by it where it is in a stub.
    code_mask: the bits of a return address that hold its pointer
    authentication code (AArch64 -mbranch-protection; gdb's $pauth_cmask),
    or 0."""

    def __init__(self, address, read, symbol=no_symbol, code_mask=0):
        self.address = address
        self.read = read
        self.symbol = symbol
        self.code_mask = code_mask
        root = read(address, DEBUG_BYTES)
        self.version, self.coro_bytes = struct.unpack_from("<II", root, 0)
        if self.version != DEBUG_VERSION:
            raise VersionMismatch("libcoro at %#x has debug layout version %d; this script "
                                  "reads %d." % (address, self.version, DEBUG_VERSION))
        self.registers = root[8:88].split(b"\0")[0].decode().split()
        stacks_at, context_at = struct.unpack_from("<QQ", root, 88)
        (self.off_fn, _, self.off_status, self.off_delegate,
         self.off_delegator, self.off_resumer, self.off_stack_lo,
         self.off_stack_size, self.off_context, self.off_name,
         self.name_max) = struct.unpack_from("<11H", root, 104)

        stacks = read(stacks_at, STACKS_BYTES)
        self.slabs_head = struct.unpack_from("<Q", stacks, 0)[0]
        (self.slab_next, self.slab_base, self.slab_class, self.class_usable,
         self.class_slot_size, self.class_slot_count) = struct.unpack_from("<6H", stacks, 8)

        context = read(context_at, CONTEXT_BYTES)
        context_size = struct.unpack_from("<I", context, 0)[0]
        self.backend = context[4:16].split(b"\0")[0].decode()
        self.saved_self = struct.unpack_from("<2Hh", context, 16)
        self.saved_resumer = struct.unpack_from("<2Hh", context, 22)
        self.register_offsets = struct.unpack_from("<%dh" % MAX_REGISTERS, context, 28)
        self.sp_adjust, self.stub_return = struct.unpack_from("<Hh", context,
                                                              28 + 2 * MAX_REGISTERS)
        # As coro.c's record_bytes(): struct coro, then the context.
        self.record_bytes = self.coro_bytes + ((context_size + 15) & ~15)
        self.can_walk = bool(self.registers) and self.register_offsets[0] >= 0

    def pointer(self, address):
        return pointer(self.read, address)

    def find_coroutines(self):
        """Every live coroutine, slab by slab, slot by slot; how many
        slots there are, and how many of them hold no record (could not
        be read, or read as zeros)."""
        found, slots, blank = [], 0, 0
        try:
            slab = self.pointer(self.slabs_head)
        except Unreadable:
            return found, 1, 1
        seen = set()
        while slab != 0 and slab not in seen:
            seen.add(slab)
            try:
                base = self.pointer(slab + self.slab_base)
                size_class = self.pointer(slab + self.slab_class)
                usable = self.pointer(size_class + self.class_usable)
                slot_size = self.pointer(size_class + self.class_slot_size)
                slot_count, = struct.unpack("<I", self.read(size_class + self.class_slot_count, 4))
                following = self.pointer(slab + self.slab_next)
            except Unreadable:
                return found, slots + 1, blank + 1
            slots += slot_count
            for slot in range(slot_count):
                top = base + (slot + 1) * slot_size
                try:
                    co = Coroutine(self, top - self.record_bytes)
                except Unreadable:
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

    def registers_at(self, context, side):
        """The registers that one side of the context at address context
        saved (side: saved_self or saved_resumer), by name; None where
        that side has saved none."""
        offset, indirect, adjust = side
        block = context + offset
        if indirect:
            block = self.pointer(block)
            if block == 0:
                return None
            block += adjust
        values = {}
        for name, at in zip(self.registers, self.register_offsets):
            values[name] = block + self.sp_adjust if at < 0 else self.pointer(block + at)
        pc, link = self.registers[0], self.registers[-1]
        if self.stub_return >= 0 and "swapcontext" in (self.symbol(self.code(values[pc])) or ""):
            # Saved in a stub that returns through the address kept
            # aside: the frame is its caller's, as it will be on return.
            values[pc] = values[link] = self.pointer(block + self.stub_return)
        # gdb strips the return addresses it unwinds itself, not a pc and
        # link register it is given.
        values[pc], values[link] = self.code(values[pc]), self.code(values[link])
        return values

    def code(self, address):
        """A code address as the switch saved it, without its signature."""
        return strip_signature(address, self.code_mask) if self.code_mask else address


class Coroutine:
    """A coroutine's record (struct coro) at address, as last read."""

    def __init__(self, library, address):
        self.library = library
        self.address = address
        data = library.read(address, library.coro_bytes)

        def word(at):
            return struct.unpack_from("<Q", data, at)[0]

        self.fn = word(library.off_fn)
        self.status = struct.unpack_from("<i", data, library.off_status)[0]
        self.delegate = word(library.off_delegate)
        self.delegator = word(library.off_delegator)
        self.resumer = word(library.off_resumer)
        self.stack_lo = word(library.off_stack_lo)
        self.stack_size = word(library.off_stack_size)
        self.context = address + library.off_context
        # coro_set_name()'s: up to its NUL ("" for none), as UTF-8.
        name = data[library.off_name:library.off_name + library.name_max]
        self.name = name.split(b"\0")[0].decode("utf-8", "replace")

    def read_again(self):
        """The same record, read again."""
        return Coroutine(self.library, self.address)

    @property
    def state(self):
        return STATES[self.status]

    @property
    def stack_hi(self):
        return self.stack_lo + self.stack_size

    def resumed_one(self, coroutines):
        """Of coroutines, the one this one resumed and waits for, if it is
        normal: its registers are in that one's context. Else None."""
        if self.status == NORMAL:
            for other in coroutines:
                if other.resumer == self.address and other.status in (RUNNING, NORMAL):
                    return other
        return None

    def switched_out_registers(self, coroutines):
        """Where it stands while switched out: its own saved registers
        when suspended; when normal, those saved in the context of the
        coroutine it resumed (found in coroutines). None when it has no
        stack to show."""
        if self.status == SUSPENDED:
            return self.library.registers_at(self.context, self.library.saved_self)
        resumed = self.resumed_one(coroutines)
        if resumed is not None:
            return resumed.library.registers_at(resumed.context, resumed.library.saved_resumer)
        return None

    def resident(self, pages, page_size):
        """Bytes of its stack in memory: of a live process, the pages the
        kernel's page map (the open file pages) has present or swapped; of
        a core file (pages None), the pages it holds other than zeros (the
        kernel leaves out the rest)."""
        if pages is not None:
            first, count = self.stack_lo // page_size, self.stack_size // page_size
            entries = os.pread(pages, 8 * count, 8 * first)
            flags = struct.unpack("<%dQ" % (len(entries) // 8), entries)
            return page_size * sum(1 for entry in flags if entry >> 62)
        # The stack in one read where the core holds all of it (the
        # pages the kernel left out read as zeros): a read per page
        # made most of the time of a listing.
        read = self.library.read
        try:
            data = read(self.stack_lo, self.stack_size)
        except Unreadable:
            data = None
        resident = 0
        for start in range(0, self.stack_size, SCAN_PAGE):
            if data is not None:
                page = data[start:start + SCAN_PAGE]
            else:
                try:
                    page = read(self.stack_lo + start, SCAN_PAGE)
                except Unreadable:
                    continue
            if page != ZERO_PAGE:
                resident += SCAN_PAGE
        return resident


def printable(name):
    """A coroutine's name as shown: the characters that do not print
    (a newline, an escape) as a Python string literal writes them."""
    return "".join(character if character.isprintable()
                   else character.encode("unicode_escape").decode("ascii")
                   for character in name)


def title(co, number):
    """How a message names co, number `number` of `info coroutines`:
    Coroutine N, then its name quoted, if it has one."""
    return "Coroutine %d" % number + (' "%s"' % printable(co.name) if co.name else "")


def what_happened(co, resumed, registers):
    """What became of co since it was read, switched out with registers
    (and, if it was normal, having resumed `resumed`), read again from
    memory: "was destroyed by", "ended in" or "ran in" (the words of the
    message that a function gdb called did it); None if it is as it was."""
    try:
        now = co.read_again()
        if now.fn != co.fn:
            return "was destroyed by"  # coro_destroy() clears fn
        if now.status == DEAD:
            return "ended in"  # returned, or closed
        # Where it stands, read again: in its own context, or (normal) in
        # that of the coroutine it resumed.
        others = [] if resumed is None else [resumed.read_again()]
        if now.status != co.status or now.switched_out_registers(others) != registers:
            return "ran in"
        return None
    except Unreadable:
        return "was destroyed by"  # its stack unmapped


def elf_stripped(name):
    """Whether the ELF file name (64-bit, little-endian) has no symbol
    table (.symtab), which `strip` removes; None when it cannot be
    read."""
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
    if size == 0:
        return None
    types = [struct.unpack_from("<I", sections, at + 4)[0]
             for at in range(0, len(sections) - size + 1, size)]
    return bool(types) and 2 not in types  # SHT_SYMTAB
