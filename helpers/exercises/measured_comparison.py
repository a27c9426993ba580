"""Lesson 12 exercises: a ratio to the floor, and the bytes of a Socket.IO event by hand."""

from __future__ import annotations

import statistics
from collections.abc import Callable

import socketio

from ..bench.arithmetic import frame_size
from ..check import NotYet, exercise, function_answer


@exercise(
    "12.1",
    nudge="the median of the samples divided by the median of the floor's samples "
    "(statistics.median); more than 1 means slower than the floor.",
)
def check_ratio(ratio: Callable[[list[float], list[float]], float]) -> str:
    cases = [
        ([2.0, 3.0, 100.0], [1.0, 1.0, 1.0]),
        ([0.5, 0.2, 0.4, 0.3], [0.1, 0.1, 0.2, 0.1]),
        ([7e-5, 8e-5, 9e-5], [7e-5, 8e-5, 9e-5]),
    ]
    function_answer(ratio, "ratio")
    for samples, floor in cases:
        expected = statistics.median(samples) / statistics.median(floor)
        got = ratio(list(samples), list(floor))
        if got is None:
            raise NotYet(
                "ratio() returned None: write its body in place of the ... and return the ratio."
            )
        if not isinstance(got, int | float) or abs(got - expected) > 1e-9 * expected:
            raise NotYet(f"ratio({samples}, {floor}) returned {got!r}, expected {expected:g}.")
    return "A median ignores the rare slow round trip (100.0 above); the p99 shows it instead."


@exercise(
    "12.2",
    nudge="the Engine.IO message 4, the EVENT 2, then the JSON list of the event name and the "
    "text; the frame adds 2 bytes of header, 2 more past 125 bytes, and a 4-byte mask.",
)
def check_event_bytes(event_bytes: Callable[[str, str], int]) -> str:
    function_answer(event_bytes, "event_bytes")
    for event, text in (("chat", "hi"), ("echo", "hello"), ("news", "x" * 200)):
        packet = "4" + socketio.packet.Packet(socketio.packet.EVENT, data=[event, text]).encode()
        expected = frame_size(len(packet.encode()), masked=True)
        got = event_bytes(event, text)
        if got is None:
            raise NotYet(
                "event_bytes() returned None: write its body in place of the ... and "
                "return the number of bytes."
            )
        if got != expected:
            raise NotYet(
                f"event_bytes({event!r}, {text[:10]!r}{'…' if len(text) > 10 else ''}) "
                f"returned {got!r}; the frame is {expected} bytes: the packet {packet[:24]!r}"
                f"{'…' if len(packet) > 24 else ''} is {len(packet.encode())} bytes of UTF-8."
            )
    return "An emit without an ack has no ack id; a call adds one, and the ack comes back."
