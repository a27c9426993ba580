"""Lesson 04 exercises: masking, reading a frame header, a fragmented message."""

from __future__ import annotations

import os
from collections.abc import Callable

from .. import wire
from ..check import NotYet, exercise, function_answer

_KEYS = [bytes.fromhex("37fa213d"), b"\x00\x00\x00\x00", b"\xff\x01\x80\x7f"]
_PAYLOADS = [b"", b"Hello", bytes(range(256)), os.urandom(37)]


@exercise("04.1", nudge="loop over enumerate(payload) with byte ^ key[i % 4], gather it in bytes()")
def mask(function: Callable[[bytes, bytes], bytes]) -> str:
    function_answer(function, "mask")
    for key in _KEYS:
        for payload in _PAYLOADS:
            got = function(payload, key)
            if got is None:
                raise NotYet("mask() returned None: write its body in place of the ...")
            expected = wire.apply_mask(payload, key)
            if got != expected:
                raise NotYet(
                    f"mask({payload[:8]!r}..., {key.hex(' ')}) gave {got!r:.60}, "
                    f"expected {expected!r:.60}."
                )
    return "Your mask() matches wire.apply_mask on every payload and key tried."


def _frames() -> list[bytes]:
    frames = [
        wire.encode_frame("Hello"),
        wire.encode_frame("Hello", mask_key=_KEYS[0]),
        wire.encode_frame("Hel", fin=False),
        wire.encode_frame(b"ping!", opcode=wire.PING, mask_key=_KEYS[2]),
    ]
    for size in (125, 126, 65535, 65536):
        frames.append(wire.encode_frame(bytes(size), opcode=wire.BINARY, mask_key=_KEYS[1]))
    return frames


@exercise(
    "04.2",
    nudge="FIN is data[0] >> 7, the opcode data[0] & 0x0F, MASK data[1] >> 7 and the length "
    "data[1] & 0x7F, unless that is 126 (next 2 bytes) or 127 (next 8 bytes): int.from_bytes.",
)
def read_header(function: Callable[[bytes], tuple[bool, int, bool, int]]) -> str:
    function_answer(function, "read_header")
    for data in _frames():
        frame, _ = wire.decode_frame(data)
        expected = (frame.fin, int(frame.opcode), frame.masked, len(frame.payload))
        got = function(data)
        if got is None:
            raise NotYet("read_header() returned None: write its body in place of the ...")
        if tuple(got) != expected:
            raise NotYet(f"for a frame starting {data[:10].hex(' ')} you returned {got!r}, "
                         f"expected {expected}.")  # fmt: skip
    return "read_header() reads all three sizes of length, masked or not."


@exercise(
    "04.3",
    nudge="send encode_frame('Web', fin=False, mask_key=KEY), then two CONTINUATION frames, the "
    "last with fin=True; then echoed = connection.recv_frame().",
)
def fragmented_echo(echoed: object) -> str:
    if not isinstance(echoed, wire.Frame):
        raise NotYet(f"put the wire.Frame that recv_frame() returned in echoed, not {echoed!r}.")
    if echoed.opcode != wire.TEXT or echoed.payload != b"WebSocket":
        raise NotYet(f"the echo should be one text frame 'WebSocket'; got {wire.describe(echoed)}")
    return "Three fragments went out, and one whole message came back."
