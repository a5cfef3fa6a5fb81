"""tools/libcoro_gdb/layout.py without gdb: the descriptor coro__debug
(src/debugger.h) built here with struct.pack, in a fake memory, and the
coroutines the slab walk finds in it.

    python3 -m unittest discover -s tests/gdb -p 'test_*.py'
    python3 tests/gdb/test_layout.py
"""

import os
import struct
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))

from libcoro_gdb import layout  # noqa: E402  (after the path it is found on)
from libcoro_gdb.layout import CREATED, DEAD, NORMAL, RUNNING, SUSPENDED  # noqa: E402


class Memory:
    """A process's memory: mapped regions; a read that leaves them raises
    layout.Unreadable, as gdb's does."""

    def __init__(self):
        self.regions = {}
        self.reads = 0

    def map(self, base, size):
        self.regions[base] = bytearray(size)

    def unmap(self, base):
        del self.regions[base]

    def write(self, address, data):
        for base, region in self.regions.items():
            if base <= address and address + len(data) <= base + len(region):
                region[address - base:address - base + len(data)] = data
                return
        raise AssertionError("write to %#x: not mapped" % address)

    def read(self, address, length):
        self.reads += 1
        for base, region in self.regions.items():
            if base <= address and address + length <= base + len(region):
                return bytes(region[address - base:address - base + length])
        raise layout.Unreadable("Cannot access memory at address %#x" % address)


# A layout shaped like the x86-64 ucontext backend's (struct coro of 144
# bytes; the fields' offsets in it, its name a char[32] at 72), with a
# context size and sides of this test's own: these tests check the reader
# against the image they lay out, and tests/gdb/check.py checks it against
# the library's real one.
REGISTERS = "rip rsp rbp rbx r12 r13 r14 r15"
RECORD = dict(fn=0, arg=8, status=16, delegate=32, delegator=40, resumer=136,
              stack_lo=104, stack_size=112, context_at=144, name=72)
NAME_MAX = 32
CORO_BYTES = 144
CONTEXT_SIZE = 1056
SLAB = dict(next=0, base=40, size_class=32)
SIZE_CLASS = dict(usable=16, slot_size=24, slot_count=32)
SELF_SIDE = (0, 0, 0)
RESUMER_SIDE = (1032, 1, 0)
REGISTER_OFFSETS = (168, 160, 120, 128, 72, 80, 88, 96)

DEBUG_AT, STACKS_AT, CONTEXT_AT, HEAD_AT = 0x1000, 0x1100, 0x1200, 0x1300
GUARD, USABLE = 0x1000, 0x10000
SLOT_SIZE = GUARD + USABLE


def debug_bytes(version=layout.DEBUG_VERSION, registers=REGISTERS, coro_bytes=CORO_BYTES):
    """struct coro__debug."""
    return (struct.pack("<II", version, coro_bytes)
            + registers.encode().ljust(80, b"\0")
            + struct.pack("<QQ", STACKS_AT, CONTEXT_AT)
            + struct.pack("<9H", *(RECORD[name] for name in (
                "fn", "arg", "status", "delegate", "delegator", "resumer",
                "stack_lo", "stack_size", "context_at")))
            + struct.pack("<2H", RECORD["name"], NAME_MAX)).ljust(128, b"\0")


def stacks_bytes():
    """struct coro__debug_stacks."""
    return struct.pack("<Q6H", HEAD_AT, SLAB["next"], SLAB["base"], SLAB["size_class"],
                       SIZE_CLASS["usable"], SIZE_CLASS["slot_size"],
                       SIZE_CLASS["slot_count"]).ljust(24, b"\0")


# CORO__DEBUG_MAX_REGISTERS: RISC-V's pc, sp, s0-s11 and ra.
MAX_REGISTERS = 15


def context_bytes(register_offsets=REGISTER_OFFSETS, backend=b"ucontext", sp_adjust=0,
                  stub_return=-1, self_side=SELF_SIDE, resumer_side=RESUMER_SIDE):
    """struct coro__debug_context, at the offsets debugger.h pins: the
    registers' at 28, sp_adjust at 58, stub_return at 60, 64 bytes."""
    offsets = tuple(register_offsets) + (0,) * (MAX_REGISTERS - len(register_offsets))
    return (struct.pack("<I", CONTEXT_SIZE) + backend.ljust(12, b"\0")
            + struct.pack("<2Hh", *self_side) + struct.pack("<2Hh", *resumer_side)
            + struct.pack("<%dh" % MAX_REGISTERS, *offsets)
            + struct.pack("<Hh", sp_adjust, stub_return)).ljust(64, b"\0")


RECORD_BYTES = CORO_BYTES + ((CONTEXT_SIZE + 15) & ~15)


class Process:
    """A fake process holding one copy of libcoro: its descriptor, and
    slabs of stacks with coroutine records at their tops."""

    def __init__(self, **context):
        self.memory = Memory()
        self.memory.map(0x1000, 0x1000)
        self.memory.write(DEBUG_AT, debug_bytes())
        self.memory.write(STACKS_AT, stacks_bytes())
        self.memory.write(CONTEXT_AT, context_bytes(**context))
        self.memory.write(HEAD_AT, struct.pack("<Q", 0))
        self.slabs = []  # (struct slab address, base)

    def add_slab(self, slab_at, base, slot_count):
        """A slab at slab_at (its struct, then its size class's) mapping
        slot_count slots from base, at the head of the list."""
        self.memory.map(slab_at, 0x100)
        class_at = slab_at + 0x80
        self.memory.write(class_at + SIZE_CLASS["usable"], struct.pack("<Q", USABLE))
        self.memory.write(class_at + SIZE_CLASS["slot_size"], struct.pack("<Q", SLOT_SIZE))
        self.memory.write(class_at + SIZE_CLASS["slot_count"], struct.pack("<I", slot_count))
        head = self.memory.read(HEAD_AT, 8)
        self.memory.write(slab_at + SLAB["next"], head)
        self.memory.write(slab_at + SLAB["base"], struct.pack("<Q", base))
        self.memory.write(slab_at + SLAB["size_class"], struct.pack("<Q", class_at))
        self.memory.write(HEAD_AT, struct.pack("<Q", slab_at))
        self.memory.map(base, slot_count * SLOT_SIZE)
        self.slabs.insert(0, (slab_at, base))

    @staticmethod
    def record_at(base, slot):
        return base + (slot + 1) * SLOT_SIZE - RECORD_BYTES

    def put_record(self, base, slot, fn=0x4010, status=SUSPENDED, delegate=0, delegator=0,
                   resumer=0, stack_lo=None, stack_size=USABLE, name=b""):
        """A coroutine's record at the top of a slot's stack; its address.
        name: the bytes of its name array (NUL-padded to its size)."""
        at = self.record_at(base, slot)
        top = base + (slot + 1) * SLOT_SIZE
        fields = dict(fn=fn, delegate=delegate, delegator=delegator, resumer=resumer,
                      stack_lo=top - USABLE if stack_lo is None else stack_lo,
                      stack_size=stack_size)
        for field, value in fields.items():
            self.memory.write(at + RECORD[field], struct.pack("<Q", value))
        self.memory.write(at + RECORD["status"], struct.pack("<i", status))
        self.memory.write(at + RECORD["name"], name.ljust(NAME_MAX, b"\0"))
        return at

    def library(self, symbol=layout.no_symbol):
        return layout.Library(DEBUG_AT, self.memory.read, symbol)


class ImportTest(unittest.TestCase):
    def test_layout_imports_without_gdb(self):
        # The package and layout, imported above, pulled in no gdb.
        self.assertNotIn("gdb", sys.modules)


class DescriptorTest(unittest.TestCase):
    def test_fields_are_read_from_their_offsets(self):
        library = Process(backend=b"asm", sp_adjust=8, stub_return=40).library()
        self.assertEqual(library.version, layout.DEBUG_VERSION)
        self.assertEqual(library.coro_bytes, CORO_BYTES)
        self.assertEqual(library.registers, REGISTERS.split())
        self.assertEqual((library.off_fn, library.off_status, library.off_delegate,
                          library.off_delegator, library.off_resumer, library.off_stack_lo,
                          library.off_stack_size, library.off_context, library.off_name,
                          library.name_max),
                         (0, 16, 32, 40, 136, 104, 112, 144, 72, 32))
        self.assertEqual(library.slabs_head, HEAD_AT)
        self.assertEqual((library.slab_next, library.slab_base, library.slab_class),
                         (SLAB["next"], SLAB["base"], SLAB["size_class"]))
        self.assertEqual((library.class_usable, library.class_slot_size,
                          library.class_slot_count), (16, 24, 32))
        self.assertEqual(library.backend, "asm")
        self.assertEqual(library.saved_self, SELF_SIDE)
        self.assertEqual(library.saved_resumer, RESUMER_SIDE)
        self.assertEqual(library.register_offsets[:8], REGISTER_OFFSETS)
        self.assertEqual(library.register_offsets[8:], (0,) * 7)
        self.assertEqual((library.sp_adjust, library.stub_return), (8, 40))
        self.assertTrue(library.can_walk)

    def test_this_script_reads_the_layout_of_this_test(self):
        self.assertEqual((layout.DEBUG_VERSION, layout.MAX_REGISTERS, layout.CONTEXT_BYTES),
                         (4, MAX_REGISTERS, len(context_bytes())))

    def test_record_bytes_rounds_the_context_up_to_16(self):
        self.assertEqual(Process().library().record_bytes, 144 + 1056)
        process = Process()
        context = bytearray(context_bytes())
        context[0:4] = struct.pack("<I", 1057)
        process.memory.write(CONTEXT_AT, bytes(context))
        self.assertEqual(process.library().record_bytes, 144 + 1072)

    def test_cannot_walk_without_registers_or_their_offsets(self):
        process = Process()
        process.memory.write(DEBUG_AT, debug_bytes(registers=""))
        self.assertFalse(process.library().can_walk)
        process = Process(register_offsets=(-1,) + REGISTER_OFFSETS[1:])
        self.assertFalse(process.library().can_walk)

    def test_another_version_is_refused_with_both_numbers(self):
        process = Process()
        process.memory.write(DEBUG_AT, debug_bytes(version=1))
        with self.assertRaises(layout.VersionMismatch) as raised:
            process.library()
        self.assertEqual(str(raised.exception),
                         "libcoro at 0x1000 has debug layout version 1; this script reads 4.")

    def test_an_unreadable_descriptor_is_unreadable(self):
        process = Process()
        with self.assertRaises(layout.Unreadable):
            layout.Library(0x9000, process.memory.read)
        # The descriptor readable, what it points at not (not relocated).
        process.memory.write(DEBUG_AT + 88, struct.pack("<Q", 0x9000))
        with self.assertRaises(layout.Unreadable):
            process.library()


class SlabWalkTest(unittest.TestCase):
    def test_no_slab(self):
        self.assertEqual(Process().library().find_coroutines(), ([], 0, 0))

    def test_live_records_in_slab_then_slot_order(self):
        process = Process()
        process.add_slab(0x3000, 0x100000, 3)  # listed second: the list's tail
        process.add_slab(0x3100, 0x200000, 2)
        first = process.put_record(0x200000, 1, status=NORMAL)
        second = process.put_record(0x100000, 0, status=CREATED)
        third = process.put_record(0x100000, 2, status=RUNNING, delegate=0x77)
        found, slots, blank = process.library().find_coroutines()
        self.assertEqual([co.address for co in found], [first, second, third])
        self.assertEqual((slots, blank), (5, 2))  # two slots read as zeros
        co = found[2]
        self.assertEqual((co.fn, co.status, co.state, co.delegate),
                         (0x4010, RUNNING, "running", 0x77))
        self.assertEqual((co.stack_lo, co.stack_hi), (0x100000 + 2 * SLOT_SIZE + GUARD,
                                                      0x100000 + 3 * SLOT_SIZE))
        self.assertEqual(co.context, third + RECORD["context_at"])

    def test_records_that_are_not_live_are_left_out(self):
        process = Process()
        process.add_slab(0x3000, 0x100000, 5)
        live = process.put_record(0x100000, 0)
        process.put_record(0x100000, 1, fn=0)  # destroyed: coro_destroy() cleared fn
        process.put_record(0x100000, 2, stack_lo=0x100000 + GUARD)  # not its own stack
        process.put_record(0x100000, 3, status=DEAD + 1)  # no state
        process.put_record(0x100000, 4, status=-1)
        found, slots, blank = process.library().find_coroutines()
        self.assertEqual([co.address for co in found], [live])
        self.assertEqual((slots, blank), (5, 0))

    def test_a_dead_coroutine_is_listed(self):
        process = Process()
        process.add_slab(0x3000, 0x100000, 1)
        process.put_record(0x100000, 0, status=DEAD)
        found, _, _ = process.library().find_coroutines()
        self.assertEqual([co.state for co in found], ["dead"])

    def test_a_cycle_in_the_slab_list_ends_the_walk(self):
        process = Process()
        process.add_slab(0x3000, 0x100000, 1)
        process.add_slab(0x3100, 0x200000, 1)
        process.memory.write(0x3000 + SLAB["next"], struct.pack("<Q", 0x3100))
        process.put_record(0x100000, 0)
        found, slots, blank = process.library().find_coroutines()
        self.assertEqual((len(found), slots, blank), (1, 2, 1))

    def test_unreadable_memory_counts_as_blank(self):
        process = Process()
        process.add_slab(0x3000, 0x100000, 2)
        process.add_slab(0x3100, 0x200000, 2)
        live = process.put_record(0x200000, 0)
        # The first slab's stacks are not in the core, nor is the second
        # slab's struct: what was found so far, and one more blank slot.
        process.memory.unmap(0x100000)
        process.memory.unmap(0x3000)
        found, slots, blank = process.library().find_coroutines()
        self.assertEqual([co.address for co in found], [live])
        self.assertEqual((slots, blank), (3, 2))
        process.memory.map(0x3000, 0x100)
        process.memory.write(0x3000 + SLAB["base"], struct.pack("<Q", 0x100000))
        process.memory.write(0x3000 + SLAB["size_class"], struct.pack("<Q", 0x3100 + 0x80))
        found, slots, blank = process.library().find_coroutines()
        self.assertEqual((len(found), slots, blank), (1, 4, 3))

    def test_an_unreadable_list_head_is_one_blank_slot(self):
        process = Process()
        process.memory.write(STACKS_AT, struct.pack("<Q", 0x9000))
        self.assertEqual(process.library().find_coroutines(), ([], 1, 1))


class NameTest(unittest.TestCase):
    """coro_set_name()'s name, read from the record: up to its NUL, as
    UTF-8."""

    def setUp(self):
        self.process = Process()
        self.process.add_slab(0x3000, 0x100000, 1)

    def name(self, data):
        self.process.put_record(0x100000, 0, name=data)
        found, _, _ = self.process.library().find_coroutines()
        return found[0].name

    def test_named_and_unnamed(self):
        self.assertEqual(self.name(b"producer"), "producer")
        self.assertEqual(self.name(b""), "")

    def test_up_to_the_nul(self):
        # A longer name's bytes left after a shorter one's NUL.
        self.assertEqual(self.name(b"ab\0cdef"), "ab")

    def test_the_longest_name_kept(self):
        self.assertEqual(self.name(b"n" * (NAME_MAX - 1)), "n" * (NAME_MAX - 1))

    def test_no_nul_in_the_array_reads_only_the_array(self):
        at = self.process.put_record(0x100000, 0, name=b"x" * NAME_MAX)
        self.process.memory.write(at + RECORD["name"] + NAME_MAX, b"y")
        co = layout.Coroutine(self.process.library(), at)
        self.assertEqual(co.name, "x" * NAME_MAX)

    def test_utf8_and_bytes_that_are_not(self):
        self.assertEqual(self.name("\u00e4u\u00dfere".encode()), "\u00e4u\u00dfere")
        # Cut inside a character (coro_set_name() cuts bytes), and not UTF-8.
        self.assertEqual(self.name(b"ab\xc3"), "ab\ufffd")
        self.assertEqual(self.name(b"\xff\xfe"), "\ufffd\ufffd")

    def test_printable_and_title(self):
        co = layout.Coroutine(self.process.library(), self.process.put_record(0x100000, 0))
        self.assertEqual(layout.title(co, 3), "Coroutine 3")
        co.name = "producer"
        self.assertEqual(layout.title(co, 3), 'Coroutine 3 "producer"')
        co.name = "a\tb\nc\x1b[0m\u00e4\ufffd"
        self.assertEqual(layout.printable(co.name), "a\\tb\\nc\\x1b[0m\u00e4\ufffd")
        self.assertEqual(layout.title(co, 1), 'Coroutine 1 "a\\tb\\nc\\x1b[0m\u00e4\ufffd"')


class RegistersTest(unittest.TestCase):
    def setUp(self):
        self.process = Process()
        self.process.add_slab(0x3000, 0x100000, 3)

    def write_registers(self, block, first):
        for number, offset in enumerate(REGISTER_OFFSETS):
            self.process.memory.write(block + offset, struct.pack("<Q", first + number))

    def test_a_suspended_coroutine_has_its_own_registers(self):
        at = self.process.put_record(0x100000, 0)
        self.write_registers(at + RECORD["context_at"], 0x500)
        found, _, _ = self.process.library().find_coroutines()
        registers = found[0].switched_out_registers(found)
        self.assertEqual(registers, {name: 0x500 + number
                                     for number, name in enumerate(REGISTERS.split())})

    def test_a_normal_one_has_them_in_the_context_of_the_one_it_resumed(self):
        outer = self.process.put_record(0x100000, 0, status=NORMAL)
        running = self.process.put_record(0x100000, 1, status=RUNNING, resumer=outer)
        block = 0x100000 + 2 * SLOT_SIZE  # where that side's pointer points
        self.process.memory.write(running + RECORD["context_at"] + RESUMER_SIDE[0],
                                  struct.pack("<Q", block))
        self.write_registers(block, 0x900)
        found, _, _ = self.process.library().find_coroutines()
        self.assertEqual(found[0].resumed_one(found).address, running)
        self.assertEqual(found[0].switched_out_registers(found)["rip"], 0x900)
        # Without the one it resumed, or with a null pointer there: none.
        self.assertIsNone(found[0].switched_out_registers([]))
        self.process.memory.write(running + RECORD["context_at"] + RESUMER_SIDE[0],
                                  struct.pack("<Q", 0))
        self.assertIsNone(found[0].switched_out_registers(found))

    def test_created_and_dead_ones_have_none(self):
        self.process.put_record(0x100000, 0, status=CREATED)
        self.process.put_record(0x100000, 1, status=DEAD)
        found, _, _ = self.process.library().find_coroutines()
        self.assertEqual([co.switched_out_registers(found) for co in found], [None, None])
        self.assertEqual([co.resumed_one(found) for co in found], [None, None])

    def test_the_stack_pointer_from_the_block_itself(self):
        process = Process(register_offsets=(8, -1, 16), sp_adjust=48)
        process.memory.write(DEBUG_AT, debug_bytes(registers="pc sp x29"))
        process.memory.map(0x50000, 0x100)
        process.memory.write(0x50008, struct.pack("<QQ", 0x4444, 0x5555))
        registers = process.library().registers_at(0x50000, SELF_SIDE)
        self.assertEqual(registers, {"pc": 0x4444, "sp": 0x50000 + 48, "x29": 0x5555})

    def test_an_indirect_side_saved_as_its_frame_record(self):
        # The asm backend keeps the address of the frame record, 48 bytes
        # into the x86-64 frame: adjust -48 goes back to the frame.
        process = Process(register_offsets=(56, -1, 48), sp_adjust=64)
        process.memory.write(DEBUG_AT, debug_bytes(registers="rip rsp rbp"))
        process.memory.map(0x50000, 0x100)
        process.memory.write(0x50000, struct.pack("<Q", 0x50080 + 48))
        process.memory.write(0x50080 + 48, struct.pack("<QQ", 0x5555, 0x4444))
        registers = process.library().registers_at(0x50000, (0, 1, -48))
        self.assertEqual(registers, {"rip": 0x4444, "rsp": 0x50080 + 64, "rbp": 0x5555})

    def test_riscv64_asm_all_fifteen_registers(self):
        # switch_frame.h's frame: s1-s11 from 0, s0 at 208, ra at 216 (the
        # pc too), 224 bytes in all.
        names = "pc sp s0 s1 s2 s3 s4 s5 s6 s7 s8 s9 s10 s11 ra"
        offsets = (216, -1, 208) + tuple(range(0, 88, 8)) + (216,)
        process = Process(backend=b"asm", register_offsets=offsets, sp_adjust=224)
        process.memory.write(DEBUG_AT, debug_bytes(registers=names))
        process.memory.map(0x50000, 0x100)
        process.memory.write(0x50000, struct.pack("<11Q", *range(0x801, 0x80c)))
        process.memory.write(0x50000 + 208, struct.pack("<2Q", 0x800, 0x80c))
        registers = process.library().registers_at(0x50000, SELF_SIDE)
        expected = {"s%d" % number: 0x800 + number for number in range(12)}
        expected.update(pc=0x80c, sp=0x50000 + 224, ra=0x80c)
        self.assertEqual(registers, expected)
        self.assertEqual(list(registers), names.split())

    def test_a_pc_in_swapcontext_stub_is_replaced_by_the_return_address(self):
        process = Process(register_offsets=(0, 8, 16), stub_return=24)
        process.memory.write(DEBUG_AT, debug_bytes(registers="pc sp x30"))
        process.memory.map(0x50000, 0x100)
        process.memory.write(0x50000, struct.pack("<QQQQ", 0x4444, 0x7000, 0x30, 0x6666))

        def symbol(address):
            return {0x4444: "__swapcontext+132"}.get(address)

        registers = process.library(symbol).registers_at(0x50000, SELF_SIDE)
        self.assertEqual(registers, {"pc": 0x6666, "sp": 0x7000, "x30": 0x6666})
        # Elsewhere, as saved.
        registers = process.library().registers_at(0x50000, SELF_SIDE)
        self.assertEqual(registers, {"pc": 0x4444, "sp": 0x7000, "x30": 0x30})

    def test_signed_return_addresses_are_stripped(self):
        # AArch64 with pointer authentication and 48-bit addresses: the
        # code is in bits 48-54 (and 56-63 for code).
        process = Process(register_offsets=(8, -1, 0, 8), sp_adjust=176)
        process.memory.write(DEBUG_AT, debug_bytes(registers="pc sp x29 x30"))
        process.memory.map(0x50000, 0x100)
        process.memory.write(0x50000, struct.pack("<QQ", 0x7000, 0x2f6d_0000_0040_1234))
        code_mask = 0xff7f_0000_0000_0000
        library = layout.Library(DEBUG_AT, process.memory.read, code_mask=code_mask)
        registers = library.registers_at(0x50000, SELF_SIDE)
        self.assertEqual(registers, {"pc": 0x40_1234, "sp": 0x50000 + 176, "x29": 0x7000,
                                     "x30": 0x40_1234})
        # Without a mask (no pointer authentication, or gdb not told),
        # as saved.
        registers = process.library().registers_at(0x50000, SELF_SIDE)
        self.assertEqual(registers["pc"], 0x2f6d_0000_0040_1234)

    def test_a_signed_pc_in_the_swapcontext_stub_is_found_by_its_stripped_address(self):
        process = Process(register_offsets=(0, 8, 16), stub_return=24)
        process.memory.write(DEBUG_AT, debug_bytes(registers="pc sp x30"))
        process.memory.map(0x50000, 0x100)
        process.memory.write(0x50000, struct.pack("<QQQQ", 0x0055_0000_0000_4444, 0x7000, 0x30,
                                                  0x0066_0000_0000_6666))

        def symbol(address):
            return {0x4444: "__swapcontext+132"}.get(address)

        library = layout.Library(DEBUG_AT, process.memory.read, symbol,
                                 code_mask=0x007f_0000_0000_0000)
        registers = library.registers_at(0x50000, SELF_SIDE)
        self.assertEqual(registers, {"pc": 0x6666, "sp": 0x7000, "x30": 0x6666})


class StalenessTest(unittest.TestCase):
    """What a function gdb called did to the selected coroutine."""

    def setUp(self):
        self.process = Process()
        self.process.add_slab(0x3000, 0x100000, 2)
        self.at = self.process.put_record(0x100000, 0)
        self.write_pc(0x500)
        found, _, _ = self.process.library().find_coroutines()
        self.co = found[0]
        self.registers = self.co.switched_out_registers(found)

    def write_pc(self, pc):
        self.process.memory.write(self.at + RECORD["context_at"] + REGISTER_OFFSETS[0],
                                  struct.pack("<Q", pc))

    def happened(self, resumed=None):
        return layout.what_happened(self.co, resumed, self.registers)

    def test_as_it_was(self):
        self.assertIsNone(self.happened())

    def test_it_ran(self):
        self.write_pc(0x600)
        self.assertEqual(self.happened(), "ran in")

    def test_its_state_changed(self):
        self.process.memory.write(self.at + RECORD["status"], struct.pack("<i", NORMAL))
        self.assertEqual(self.happened(), "ran in")

    def test_it_ended(self):
        self.process.memory.write(self.at + RECORD["status"], struct.pack("<i", DEAD))
        self.assertEqual(self.happened(), "ended in")

    def test_it_was_destroyed(self):
        self.process.memory.write(self.at + RECORD["fn"], struct.pack("<Q", 0))
        self.assertEqual(self.happened(), "was destroyed by")

    def test_its_stack_was_unmapped(self):
        self.process.memory.unmap(0x100000)
        self.assertEqual(self.happened(), "was destroyed by")

    def test_a_normal_one_whose_resumed_coroutine_went_on(self):
        process = Process()
        process.add_slab(0x3000, 0x100000, 3)
        outer = process.put_record(0x100000, 0, status=NORMAL)
        running = process.put_record(0x100000, 1, status=RUNNING, resumer=outer)
        block = 0x100000 + 2 * SLOT_SIZE
        process.memory.write(running + RECORD["context_at"] + RESUMER_SIDE[0],
                             struct.pack("<Q", block))
        found, _, _ = process.library().find_coroutines()
        co, resumed = found[0], found[0].resumed_one(found)
        registers = co.switched_out_registers(found)
        self.assertIsNone(layout.what_happened(co, resumed, registers))
        # It finished: the normal one no longer waits in its context.
        process.memory.write(running + RECORD["status"], struct.pack("<i", DEAD))
        self.assertEqual(layout.what_happened(co, resumed, registers), "ran in")


class ResidentTest(unittest.TestCase):
    def setUp(self):
        self.process = Process()
        self.process.add_slab(0x3000, 0x100000, 1)
        self.process.put_record(0x100000, 0)
        found, _, _ = self.process.library().find_coroutines()
        self.co = found[0]

    def test_of_a_core_the_pages_that_are_not_zeros(self):
        # The record's page, and two more.
        self.process.memory.write(self.co.stack_lo + 5, b"x")
        self.process.memory.write(self.co.stack_lo + 3 * 4096, b"y")
        self.assertEqual(self.co.resident(None, None), 3 * 4096)

    def test_of_a_core_with_pages_it_lacks_page_by_page(self):
        # The stack mapped in two pieces: one read fails, each page's not.
        memory = self.process.memory
        lo = self.co.stack_lo
        data = memory.read(lo, USABLE)
        memory.unmap(0x100000)
        memory.map(lo, 2 * 4096)
        memory.map(lo + 4 * 4096, USABLE - 4 * 4096)
        memory.write(lo, data[:2 * 4096])
        memory.write(lo + 4 * 4096, data[4 * 4096:])
        memory.write(lo + 4096, b"z")
        self.assertEqual(self.co.resident(None, None), 2 * 4096)

    def test_of_a_live_process_from_the_page_map(self):
        page_size = 4096
        first = self.co.stack_lo // page_size
        entries = [0] * (first + USABLE // page_size)
        entries[first] = 1 << 63  # present
        entries[first + 2] = 1 << 62  # swapped
        entries[first + 3] = (1 << 63) - 1 - (1 << 62)  # neither
        with tempfile.TemporaryFile() as pagemap:
            pagemap.write(struct.pack("<%dQ" % len(entries), *entries))
            pagemap.flush()
            self.assertEqual(self.co.resident(pagemap.fileno(), page_size), 2 * page_size)


class ElfTest(unittest.TestCase):
    def elf(self, section_types, magic=b"\x7fELF\x02"):
        sections = b"".join(struct.pack("<II", 0, kind).ljust(64, b"\0")
                            for kind in section_types)
        header = bytearray(magic.ljust(64, b"\0"))
        struct.pack_into("<Q", header, 0x28, 64)
        struct.pack_into("<HH", header, 0x3a, 64, len(section_types))
        handle, name = tempfile.mkstemp()
        os.write(handle, bytes(header) + sections)
        os.close(handle)
        self.addCleanup(os.unlink, name)
        return name

    def test_a_symbol_table_means_not_stripped(self):
        self.assertIs(layout.elf_stripped(self.elf([0, 1, 2, 3])), False)

    def test_no_symbol_table_means_stripped(self):
        self.assertIs(layout.elf_stripped(self.elf([0, 1, 11, 3])), True)

    def test_what_cannot_be_read_is_none(self):
        self.assertIsNone(layout.elf_stripped(self.elf([2], magic=b"\x7fELF\x01")))
        self.assertIsNone(layout.elf_stripped(os.path.join(tempfile.gettempdir(), "no/such")))
        self.assertIsNone(layout.elf_stripped(None))


if __name__ == "__main__":
    unittest.main()
