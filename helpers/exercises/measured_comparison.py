"""Lesson 12 exercises: a round-trip timer of your own, and the bytes of a Socket.IO emit.

12.1 runs the learner's timer against an echo server that holds back one answer, behind a
tap, so that the check can say what went over the wire; 12.2 compares a predicted byte count
with the protocol arithmetic and with what a tap counts for a real emit.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import statistics
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import socketio
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from .. import wire
from .._util import describe
from ..bench.arithmetic import frame_size
from ..check import NotYet, exercise, function_answer, wait_until
from ..eventlog import events
from ..lab import stop
from ..servers import start_sio_server, start_ws_server
from ..tap import TO_CLIENT, TO_SERVER, Chunk, Tap, start_tap
from . import check

# --- 12.1 ----------------------------------------------------------------------------------

COUNT = 100  # round trips the check asks for
PAUSE_AT = 10  # the round trip whose answer the check's server holds back...
PAUSE = 0.05  # ...for this many seconds, like a garbage collection would
RUN_LIMIT = 5.0  # seconds round_trips(url, COUNT) may take


def _coroutine_function(answer: object) -> Callable[..., Coroutine[Any, Any, Any]]:
    """``answer`` if it is an ``async def`` function; otherwise what it is instead."""
    if inspect.iscoroutine(answer):
        answer.close()
        raise NotYet(
            "this is a coroutine object, what calling round_trips(...) gives; pass the "
            "function itself, round_trips, and the check calls it with its own server."
        )
    function = function_answer(answer, "round_trips")
    if not inspect.iscoroutinefunction(function):
        raise NotYet(
            f"{getattr(function, '__name__', 'this')} is a plain function (def): write it "
            "as a coroutine function (async def) that awaits the asyncio client, like the "
            "benchmark's client."
        )
    return function


def _pausing_echo(received: list[str]) -> Callable[[ServerConnection], Coroutine]:
    """An echo handler that counts the messages and holds back the answer to number PAUSE_AT."""

    async def handler(websocket: ServerConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for message in websocket:
                received.append(str(message))
                if len(received) == PAUSE_AT:
                    await asyncio.sleep(PAUSE)
                await websocket.send(message)

    return handler


@contextlib.contextmanager
def _paused_echo(received: list[str]) -> Iterator[Tap]:
    """A pausing echo server behind a tap; both stop afterwards, and their events are taken."""
    names = ["check-12.1", "check-12.1-tap"]
    try:
        server = start_ws_server(_pausing_echo(received), name=names[0])
        yield start_tap(server, name=names[1])
    finally:
        for name in names:
            stop(name)
            events(name, settle=0)


def _run_alone(coro: Coroutine[Any, Any, Any], limit: float) -> tuple[str, Any, float]:
    """Run ``coro`` on an event loop of its own, in a thread, so that a blocking call in it
    cannot stop the lab's servers. Returns ``(how, what, seconds)``: ``("returned", value)``,
    ``("raised", error)`` or ``("timed out", None)``."""
    box: dict[str, Any] = {}
    started = threading.Event()

    async def main() -> Any:
        box["task"] = asyncio.current_task()
        box["loop"] = asyncio.get_running_loop()
        started.set()
        return await coro

    def target() -> None:
        try:
            with asyncio.Runner() as runner:
                box["returned"] = runner.run(main())
        except BaseException as error:  # the learner's code: anything can come out of it
            box["raised"] = error
        finally:
            started.set()

    thread = threading.Thread(target=target, name="check-12.1", daemon=True)
    began = time.perf_counter()
    thread.start()
    thread.join(limit)
    seconds = time.perf_counter() - began
    if thread.is_alive():
        started.wait(check.TIMEOUT)
        if "loop" in box:
            box["loop"].call_soon_threadsafe(box["task"].cancel)
        thread.join(check.TIMEOUT)
        return "timed out", None, seconds
    if "raised" in box:
        return "raised", box["raised"], seconds
    return "returned", box.get("returned"), seconds


def _most_unanswered(chunks: list[Chunk]) -> int:
    """The most messages the client had sent, at any moment, that had no answer back yet.

    The tap records each chunk before it passes it on, in the order they pass: a client that
    waits for each answer before its next send never has more than one message unanswered.
    """
    buffers = {TO_SERVER: b"", TO_CLIENT: b""}
    opened = {TO_SERVER: False, TO_CLIENT: False}
    counted = {TO_SERVER: 0, TO_CLIENT: 0}
    most = 0
    for chunk in chunks:
        way = chunk.direction
        buffers[way] += chunk.data
        if not opened[way]:  # the HTTP handshake comes first
            _, found, rest = buffers[way].partition(b"\r\n\r\n")
            if not found:
                continue
            opened[way], buffers[way] = True, rest
        while buffers[way]:
            try:
                frame, buffers[way] = wire.decode_frame(buffers[way], deflate=True)
            except wire.WireError:
                break  # a frame cut in two: the rest comes with the next chunk
            if frame.opcode in (wire.TEXT, wire.BINARY):
                counted[way] += 1
                most = max(most, counted[TO_SERVER] - counted[TO_CLIENT])
    return most


def _expect_one_at_a_time(tap: Tap) -> None:
    """What the tap saw: one connection, and each answer awaited before the next send."""
    chunks = tap.chunks
    connections = max((chunk.connection for chunk in chunks), default=0)
    if connections > 1:
        each = "one per round trip" if connections >= COUNT else "more than one"
        raise NotYet(
            f"the tap saw {connections} connections for {COUNT} round trips, {each}: each "
            "connection costs a TCP and a WebSocket handshake. Open one connection, and make "
            "every round trip on it."
        )
    unanswered = _most_unanswered(chunks)
    if unanswered > 1:
        raise NotYet(
            f"at one moment the tap saw {unanswered} of your messages on their way to the "
            "server with no answer back yet: you sent without waiting for the answers (is an "
            "await missing before recv()?). A round trip is one send, then awaiting its answer."
        )


def _expect_count(received: list[str]) -> None:
    """The server received COUNT messages: no more, no fewer."""
    if len(received) != COUNT:
        raise NotYet(
            f"the server received {_messages(len(received))} for round_trips(url, {COUNT}): "
            f"make exactly {COUNT} round trips (no warm-up here: the check looks for one "
            "round trip it slowed down on purpose)."
        )


def _messages(count: int) -> str:
    return f"{count} message" + ("" if count == 1 else "s")


def _expect_samples(samples: object, seconds: float) -> list[float]:
    """The round-trip times, if they are a list of COUNT positive numbers of seconds."""
    if samples is None:
        raise NotYet("round_trips() returned None: return the list of round-trip times.")
    if isinstance(samples, int | float):
        raise NotYet(
            f"round_trips() returned one number, {samples!r}: return a list with one time "
            "per round trip, so that the median and the p99 can be read from it."
        )
    if not isinstance(samples, list | tuple) or not all(
        isinstance(s, int | float) and not isinstance(s, bool) for s in samples
    ):
        raise NotYet(f"round_trips() returned {samples!r:.80}: return a list of numbers.")
    if len(samples) != COUNT:
        raise NotYet(f"round_trips(url, {COUNT}) returned {len(samples)} times, not {COUNT}.")
    if min(samples) <= 0:
        raise NotYet(
            f"some of your times are zero or negative ({min(samples)!r}): take the clock "
            "just before each send and subtract it from the clock just after its answer."
        )
    if sum(samples) > seconds * 1.01 + 0.001:
        raise NotYet(
            f"your {COUNT} times add up to {sum(samples):g}, but the whole call took "
            f"{seconds:.3f} s: give each time in seconds (time.perf_counter() counts seconds)."
        )
    return [float(s) for s in samples]


def _expect_the_pause(samples: list[float]) -> None:
    """The check's server held back answer PAUSE_AT: a true round-trip time shows it."""
    held = samples[PAUSE_AT - 1]
    if held >= PAUSE:
        return
    slowest = max(range(COUNT), key=samples.__getitem__)
    where = (
        f" Your slowest is number {slowest + 1}: keep the times in the order you measured them."
        if samples[slowest] >= PAUSE
        else " Time from just before each send to just after its answer has arrived."
    )
    raise NotYet(
        f"the server held back its answer to round trip {PAUSE_AT} for {PAUSE * 1e3:.0f} ms, "
        f"but your time for it is {held * 1e3:.2f} ms.{where}"
    )


def _percentile(samples: list[float], fraction: float) -> float:
    """The percentile as helpers.bench computes it (the p99 of 100 samples is the worst)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


@exercise(
    "12.1",
    nudge="Build a small benchmark of your own: a coroutine that opens one connection to the "
    "given echo server, makes the asked number of round trips one after another and returns "
    "how long each took, in seconds, as the benchmark's client does before it reports a "
    "median and a p99.",
    hints=[
        "A round trip is one message sent and its answer received; take the clock just before "
        "the send and again once the answer is back, and keep each difference in a list.",
        "Use the asyncio client of websockets in an async with block, the one connection for "
        "every round trip; in a loop of count turns, read time.perf_counter(), await send() "
        "of 'hello', await recv(), and append the difference. Return the list.",
    ],
)
def round_trip_timer(answer: object) -> str:
    function = _coroutine_function(answer)
    received: list[str] = []
    with _paused_echo(received) as tap:
        try:
            coro = function(tap.url, COUNT)
        except Exception as error:  # a signature that does not take (url, count)
            raise NotYet(f"calling round_trips(url, {COUNT}) raised {error!r}.") from None
        how, samples, seconds = _run_alone(coro, RUN_LIMIT)
        _expect_one_at_a_time(tap)
        if how == "timed out":
            why = (
                "nothing reached the server: is an await missing before send()? A coroutine "
                "that is not awaited never runs."
                if not received
                else f"the server received {_messages(len(received))} and answered "
                f"{'it' if len(received) == 1 else 'each one'}: does your function wait for an "
                "answer it never asked for?"
            )
            raise NotYet(f"round_trips(url, {COUNT}) did not finish within {RUN_LIMIT:g} s; {why}")
        if how == "raised":
            raise NotYet(f"round_trips(url, {COUNT}) raised {describe(samples)}")
        _expect_count(received)
    times = _expect_samples(samples, seconds)
    _expect_the_pause(times)
    median, mean = statistics.median(times), statistics.mean(times)
    return (
        f"Your {COUNT} round trips: median {median * 1e6:.0f} µs, p99 "
        f"{_percentile(times, 0.99) * 1e3:.1f} ms. One answer was held back {PAUSE * 1e3:.0f} "
        f"ms: the p99 shows that pause, the median barely moves, and the mean went to "
        f"{mean * 1e6:.0f} µs, {mean / median:.1f}× the median. That is why benchmarks report "
        "the median for the usual case and the p99 for the rare slow one."
    )


# --- 12.2 ----------------------------------------------------------------------------------

EMITS = [("chat", "hi"), ("echo", "hello"), ("news", "x" * 200), ("news", "y" * 113)]
"""The emits 12.2 asks about; the last one's packet is exactly 126 bytes."""


def _packet(event: str, text: str) -> str:
    """What python-socketio's client sends for emit(event, text): Engine.IO 4 + its packet."""
    return "4" + socketio.packet.Packet(socketio.packet.EVENT, data=[event, text]).encode()


def _emitted_sizes() -> dict[tuple[str, str], int]:
    """The frame of each emit of EMITS as a tap counts it, in bytes (empty if that failed:
    the check then goes by the arithmetic alone)."""
    names = ["check-12.2", "check-12.2-tap"]
    client = socketio.Client(reconnection=False)
    sizes: dict[tuple[str, str], int] = {}
    try:
        tap = start_tap(start_sio_server(name=names[0]), name=names[1])
        client.connect(tap.url, transports=["websocket"], wait_timeout=check.TIMEOUT)
        for event, text in EMITS:
            tap.clear()
            client.emit(event, text)
            wait_until(lambda: _event_frame(tap.chunks) is not None)
            size = _event_frame(tap.chunks)
            if size is not None:
                sizes[(event, text)] = size
    except Exception:  # the lab could not measure: the arithmetic still decides
        pass
    finally:
        with contextlib.suppress(Exception):
            client.disconnect()
        for name in names:
            stop(name)
            events(name, settle=0)
    return sizes


def _event_frame(chunks: list[Chunk]) -> int | None:
    """Bytes of the first frame from the client whose payload is a Socket.IO EVENT (42...)."""
    data = b"".join(chunk.data for chunk in chunks if chunk.direction == TO_SERVER)
    while data:
        try:
            frame, rest = wire.decode_frame(data)
        except wire.WireError:
            return None
        if frame.payload.startswith(b"42"):
            return len(data) - len(rest)
        data = rest
    return None


def _why_not(got: int, packet: str, expected: int) -> str:
    """The usual mistake behind ``got``, for an emit whose packet is ``packet``."""
    payload = len(packet.encode())
    extended = payload >= 126
    if got == payload:
        return (
            "that is the packet alone; the WebSocket frame around it adds a header and, "
            "from a client, a 4-byte mask key."
        )
    if got == expected - 4:
        return "that is a frame without a mask key: every frame a client sends has 4 bytes of it."
    if extended and got in (expected - 2, expected - 6):
        return (
            f"the payload is {payload} bytes, more than the 125 that fit in the frame's first "
            "length field: then that field says 126 and 2 more bytes hold the length."
        )
    if got == expected + 1:
        return (
            "one byte more than on the wire: python-socketio writes compact JSON (no space "
            "after the comma), and an emit that asks for no ack carries no ack id."
        )
    if got == expected - 1:
        return (
            "one byte short: the packet starts with two digits, 4 (Engine.IO message) and "
            "2 (Socket.IO EVENT)."
        )
    return (
        f"the packet {packet[:24]!r}{'…' if len(packet) > 24 else ''} is {payload} bytes of "
        "UTF-8; add the frame's header, the client's mask key and, past 125 bytes, the "
        "extended length."
    )


@exercise(
    "12.2",
    nudge="Predict the bytes of one emit before the tap counts them: build the text the "
    "client sends from the two layers of packets the lesson's byte table takes apart, then "
    "wrap it in a frame from a client, as the lesson's first cells counted for the echo.",
    hints=[
        "Three things add up: the Engine.IO and Socket.IO packet types in front, the event "
        "and the text as a compact JSON list, and the WebSocket frame around that payload. "
        "An emit without an ack has no ack id.",
        "The packet is 42 followed by the JSON list of the event and the text with no spaces "
        "(json.dumps with separators=(',', ':')). The frame adds 2 bytes of header, 4 of mask "
        "key (a client masks), and 2 more when the payload is 126 bytes or longer.",
    ],
)
def check_event_bytes(answer: object) -> str:
    event_bytes = function_answer(answer, "event_bytes")
    measured = _emitted_sizes()
    for event, text in EMITS:
        packet = _packet(event, text)
        expected = frame_size(len(packet.encode()), masked=True)
        shown = f"event_bytes({event!r}, {text[:10]!r}{'…' if len(text) > 10 else ''})"
        try:
            got = event_bytes(event, text)
        except Exception as error:
            raise NotYet(f"{shown} raised {describe(error)}") from None
        if got is None:
            raise NotYet(f"{shown} returned None: return the number of bytes.")
        if not isinstance(got, int) or isinstance(got, bool):
            raise NotYet(f"{shown} returned {got!r}: return a whole number of bytes (an int).")
        if got != expected:
            tapped = measured.get((event, text), expected)
            raise NotYet(
                f"{shown} returned {got}; the tap counted {tapped} bytes for that emit: "
                f"{_why_not(got, packet, expected)}"
            )
    counted = ", ".join(str(measured[emit]) for emit in EMITS if emit in measured)
    seen = f" The tap counted the same: {counted} bytes." if len(measured) == len(EMITS) else ""
    return (
        "Your arithmetic matches the wire for all four emits, the 126-byte payload included."
        f"{seen} A call would add an ack id, and the ack would come back."
    )
