"""Lesson 04's exercises: the mistakes learners make, each with its own message."""

from __future__ import annotations

import runpy

import pytest
from conftest import NOTEBOOKS, not_yet

from helpers import wire
from helpers.check import _exercises, grade

KEY = bytes.fromhex("37fa213d")
pytestmark = pytest.mark.usefixtures("lab")


@pytest.mark.parametrize("key", ["04.1", "04.2", "04.3"])
def test_an_unsolved_exercise_shows_its_nudge(key: str) -> None:
    assert grade(key, ...) == (False, f"{key} is not solved yet. {_exercises[key].nudge}")


def test_the_worked_answers_pass(capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_path(str(NOTEBOOKS / "solutions" / "04_frames_by_hand.py"))
    out = capsys.readouterr().out
    assert [line[:13] for line in out.splitlines()] == [f"✅ 04.{n} solved" for n in (1, 2, 3)]


def test_04_1_wrong_answers() -> None:
    not_yet("04.1", 208, "put two whole numbers in sizes")
    not_yet("04.1", ("208", "204"), "put two whole numbers in sizes")
    not_yet("04.1", (200, 200), "200 bytes is the payload alone")
    not_yet("04.1", (206, 204), "200 is more than 125, so it does not fit in the 7-bit length")
    not_yet("04.1", (208, 202), "server's frame is not 202 bytes: 200 is more than 125")
    not_yet("04.1", (204, 204), "client's frame is not 204 bytes: it forgot what every client")
    not_yet("04.1", (208, 208), "counts a masking key, but servers never mask")
    not_yet("04.1", (204, 208), "the right pair the wrong way round")
    not_yet("04.1", (300, 204), "the client's frame has fewer than 300 bytes")


def test_04_2_wrong_answers() -> None:
    def stub(data):
        pass

    def whole_byte_opcode(data):
        return bool(data[0] >> 7), data[0], bool(data[1] >> 7), data[1] & 0x7F

    def length_with_mask_bit(data):
        return bool(data[0] >> 7), data[0] & 0x0F, bool(data[1] >> 7), data[1]

    def seven_bits_only(data):
        return bool(data[0] >> 7), data[0] & 0x0F, bool(data[1] >> 7), data[1] & 0x7F

    def little_endian(data):
        length = data[1] & 0x7F
        if length > 125:
            length = int.from_bytes(data[2 : 4 if length == 126 else 10], "little")
        return bool(data[0] >> 7), data[0] & 0x0F, bool(data[1] >> 7), length

    def fin_as_a_bit(data):
        return data[0] & 0x80, data[0] & 0x0F, bool(data[1] >> 7), data[1] & 0x7F

    def mask_as_a_bit(data):
        return bool(data[0] >> 7), data[0] & 0x0F, data[1] & 0x80, data[1] & 0x7F

    def one_too_many(data):
        return bool(data[0] >> 7), data[0] & 0x0F, bool(data[1] >> 7), (data[1] & 0x7F) + 1

    def three_fields(data):
        return bool(data[0] >> 7), data[0] & 0x0F, data[1] & 0x7F

    def crashes(data):
        return data[0], data[1], data[2], data[200]

    not_yet("04.2", (True, 1, False, 5), "pass the function itself, read_header")
    not_yet("04.2", stub, "read_header() returned None")
    not_yet("04.2", whole_byte_opcode, "the opcode is its low 4 bits, 1, not 129")
    not_yet("04.2", length_with_mask_bit, "its top bit is MASK", "you read 133 where")
    not_yet("04.2", seven_bits_only, "which is not a length but a marker", "next 2 bytes")
    not_yet("04.2", little_endian, "the least significant byte first", "big-endian")
    not_yet("04.2", fin_as_a_bit, "FIN is its top bit, so fin is True, not 128")
    not_yet("04.2", mask_as_a_bit, "MASK is its top bit, so masked is True")
    not_yet("04.2", one_too_many, "its payload is 5 bytes, but you returned the length 6")
    not_yet("04.2", three_fields, "not (fin, opcode, masked, length)")
    not_yet("04.2", crashes, "read_header raised IndexError")


def frames(*specs: tuple[str, int, bool]) -> list[bytes]:
    return [wire.encode_frame(text, opcode=op, fin=fin, mask_key=KEY) for text, op, fin in specs]


T, C, B = wire.TEXT, wire.CONTINUATION, wire.BINARY


def test_04_3_wrong_answers() -> None:
    all_text = frames(("Web", T, False), ("Sock", T, False), ("et", T, True))
    fin_first = frames(("Web", T, True), ("Sock", C, False), ("et", C, True))
    no_end = frames(("Web", T, False), ("Sock", C, False), ("et", C, False))
    unmasked = [wire.encode_frame("Web", fin=False), wire.encode_frame("et", opcode=C)]
    binary = frames(("Web", B, False), ("Sock", C, False), ("et", C, True))
    one_frame = frames(("WebSocket", T, True))
    not_yet("04.3", all_text, "with 1002 ('expected a continuation frame')", "only the first")
    # The echo of 'Web' may or may not come first: the 1002 and its reason always do.
    not_yet("04.3", fin_first, "('unexpected continuation frame')", "does not have FIN set")
    not_yet("04.3", no_end, "it is still waiting for the end of the message")
    not_yet("04.3", unmasked, "('incorrect masking'): a client must mask every frame")
    not_yet("04.3", binary, "the echo came back as binary", "should be text")
    not_yet("04.3", one_frame, "you sent the fragments ['WebSocket']")
    not_yet("04.3", ["Web", "Sock", "et"], "frame 1 is 'Web', a str")
    not_yet("04.3", wire.decode_frame(one_frame[0])[0], "this is one decoded frame")
    not_yet("04.3", b"".join(all_text), "put the frames in a list")
    not_yet("04.3", [bytes.fromhex("83 00")], "frame 1 is not a valid frame: opcode 3")
    not_yet("04.3", [b"".join(all_text)], "frame 1 holds more than one frame")
