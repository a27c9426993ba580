"""Lesson 04 exercises: predict a frame's size, read a frame header, send fragments by hand.

04.1 and 04.3 send frames to an echo server of the check's own (``check-04``), which is
stopped, and its events taken, before the check returns, whatever happened.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence

from .. import raw, wire
from .._util import describe
from ..check import NotYet, exercise, function_answer
from ..eventlog import events
from ..servers import start_ws_server
from . import check

CHECK_SERVER = "check-04"


@contextlib.contextmanager
def _echo_connection() -> Iterator[raw.RawWebSocket]:
    """A raw connection to an echo server that lives as long as the ``with`` block."""
    server = start_ws_server(name=CHECK_SERVER)
    try:
        with raw.open_websocket(server.url, timeout=check.TIMEOUT) as connection:
            yield connection
    finally:
        server.stop()
        events(CHECK_SERVER, settle=0.05)  # the check's own events are not the lesson's


# --- 04.1 ----------------------------------------------------------------------------------

_TEXT = "a" * 200


def _sizes(answer: object) -> tuple[int, int]:
    """``answer`` as (client, server) byte counts, or NotYet saying what shape it should have."""
    if (
        isinstance(answer, tuple | list)
        and len(answer) == 2
        and all(isinstance(n, int) and not isinstance(n, bool) for n in answer)
    ):
        return answer[0], answer[1]
    raise NotYet(
        f"put two whole numbers in sizes, (client, server): the bytes of the client's frame "
        f"and of the server's, not {answer!r}."
    )


def _on_the_wire(text: str) -> tuple[bytes, wire.Frame]:
    """Send ``text`` in one masked frame to an echo server; the bytes sent and the echo."""
    sent = wire.encode_frame(text, mask_key=os.urandom(4))
    with _echo_connection() as connection:
        connection.send(sent)
        return sent, connection.recv_frame()


def _size_problem(side: str, guess: int, real: int, masked: bool) -> str | None:
    """Why ``guess`` is not the size of ``side``'s frame (``real`` bytes), or None if it is."""
    if guess == real:
        return None
    if guess == len(_TEXT):
        return f"{guess} bytes is the payload alone: the {side}'s frame has a header too."
    if not masked and guess == real + 4:
        return (
            f"{guess} bytes for the server's frame counts a masking key, but servers never "
            "mask: only clients do."
        )
    missing = real - guess
    if missing in (2, 6):
        return (
            f"the {side}'s frame is not {guess} bytes: {len(_TEXT)} is more than 125, so it does "
            "not fit in the 7-bit length of byte 1. Which extra length field follows then?"
        )
    if masked and missing == 4:
        return (
            f"the client's frame is not {guess} bytes: it forgot what every client frame "
            "carries in front of its (masked) payload."
        )
    more_or_less = "fewer" if guess > real else "more"
    return f"the {side}'s frame has {more_or_less} than {guess} bytes. Count the header again."


@exercise(
    "04.1",
    nudge="Predict before you measure: a frame is a header plus the payload, and what the "
    "header holds depends on how long the payload is and on who sends it. The lesson's "
    "sections on masking and on the three sizes of length have all you need.",
    hints=[
        "Count the header piece by piece, as the table of the 'Three sizes of length' cell "
        "did: two bytes always, then whatever the length and the masking add.",
        "200 does not fit in 7 bits, so byte 1 holds the marker 126 and two more bytes hold "
        "the length; the client's frame also carries its 4-byte masking key, the server's "
        "frame has none.",
    ],
)
def predicted_sizes(answer: object) -> str:
    client, server = _sizes(answer)
    if (client, server) == (2 + 2 + len(_TEXT), 2 + 2 + 4 + len(_TEXT)):
        raise NotYet(
            f"({client}, {server}) is the right pair the wrong way round: the masked frame, "
            "the bigger one, is the client's."
        )
    sent, echo = _on_the_wire(_TEXT)
    echoed = wire.encode_frame(echo.payload, opcode=echo.opcode)  # servers don't mask: exact
    for side, guess, real, masked in (
        ("client", client, len(sent), True),
        ("server", server, len(echoed), False),
    ):
        problem = _size_problem(side, guess, real, masked)
        if problem:
            raise NotYet(problem)
    return (
        f"On the wire the client's frame was {len(sent)} bytes (header {sent[:4].hex(' ')}, "
        f"then the key {sent[4:8].hex(' ')} and the masked payload), and the echo "
        f"{len(echoed)} bytes (header {echoed[:4].hex(' ')}, no key)."
    )


# --- 04.2 ----------------------------------------------------------------------------------

_KEYS = [bytes.fromhex("37fa213d"), b"\x00\x00\x00\x00", b"\xff\x01\x80\x7f"]


def _frames() -> list[bytes]:
    frames = [
        wire.encode_frame("Hello"),
        wire.encode_frame("Hello", mask_key=_KEYS[0]),
        wire.encode_frame("Hel", fin=False),
        wire.encode_frame(b"ping!", opcode=wire.PING, mask_key=_KEYS[2]),
    ]
    for size in (125, 126, 300, 65535, 65536):
        frames.append(wire.encode_frame(bytes(size), opcode=wire.BINARY, mask_key=_KEYS[1]))
    return frames


def _length_problem(data: bytes, length: object, expected: int) -> str | None:
    """A specific explanation of a wrong length read from ``data``, or None."""
    if length == expected:
        return None
    marker = data[1] & 0x7F
    extended = data[2 : 4 if marker == 126 else 10]
    if length == data[1] and data[1] & 0x80:
        return (
            f"byte 1 is {data[1]:08b}: its top bit is MASK, and only the 7 bits after it are "
            f"the length, so you read {length} where the length is {marker}."
        )
    if marker > 125 and length == marker:
        return (
            f"the 7-bit length says {marker}, which is not a length but a marker: the real "
            f"length follows in the next {len(extended)} bytes."
        )
    if marker > 125 and length == int.from_bytes(extended, "little"):
        return (
            f"you read the {len(extended)}-byte length {extended.hex(' ')} as {length}, the "
            "least significant byte first; the wire sends the most significant byte first "
            "(big-endian, 'network order')."
        )
    return f"its payload is {expected} bytes, but you returned the length {length!r}."


def _header_problem(data: bytes, got: Sequence[object], expected: tuple) -> str | None:
    """What is wrong with ``got`` as the header of ``data``, in words, or None if it is right."""
    fin, opcode, masked, length = got
    if fin != expected[0]:
        return f"byte 0 is {data[0]:08b}: FIN is its top bit, so fin is {expected[0]}, not {fin!r}."
    if opcode != expected[1]:
        return (
            f"byte 0 is {data[0]:08b}: the opcode is its low 4 bits, {expected[1]}, not "
            f"{opcode!r} (the high 4 bits are FIN and RSV1-3)."
        )
    if masked != expected[2]:
        return f"byte 1 is {data[1]:08b}: MASK is its top bit, so masked is {expected[2]}."
    return _length_problem(data, length, expected[3])


def _read(function: Callable[[bytes], object], data: bytes) -> Sequence[object]:
    """``function(data)`` as a 4-item sequence; NotYet for anything else, or an exception."""
    shown = f"a frame starting {data[:10].hex(' ')}"
    try:
        got = function(data)
    except Exception as error:
        raise NotYet(f"read_header raised {describe(error)}, for {shown}.") from None
    if got is None:
        raise NotYet("read_header() returned None: write its body in place of the ...")
    if not isinstance(got, tuple | list) or len(got) != 4:
        raise NotYet(
            f"for {shown} read_header returned {got!r}, not (fin, opcode, masked, length)."
        )
    return got


@exercise(
    "04.2",
    nudge="Read the header the way the lesson read the first two bytes of its Hello frame, bit "
    "by bit; then the length, which may take more bytes than the first two.",
    hints=[
        "FIN and the opcode share byte 0, MASK and the 7-bit length share byte 1: shifts and "
        "bit masks pull them apart, as the lesson's cell under 'The layout of a frame' did.",
        "When the 7 bits say 126 the length is in bytes 2-3, when they say 127 in bytes 2-9, "
        "both as big-endian numbers; int.from_bytes reads them with the byte order 'big'.",
    ],
)
def read_header(function: object) -> str:
    function = function_answer(function, "read_header")
    for data in _frames():
        frame, _ = wire.decode_frame(data)
        expected = (frame.fin, int(frame.opcode), frame.masked, len(frame.payload))
        problem = _header_problem(data, _read(function, data), expected)
        if problem:
            raise NotYet(f"for a frame starting {data[:10].hex(' ')}: {problem}")
    return "read_header() reads all three sizes of length, masked or not."


# --- 04.3 ----------------------------------------------------------------------------------


def _decoded(fragments: object) -> list[tuple[bytes, wire.Frame]]:
    """Each of ``fragments``, a list of bytes, with the frame it holds; or NotYet saying what
    is wrong with it."""
    if isinstance(fragments, wire.Frame):
        raise NotYet(
            "this is one decoded frame, such as recv_frame() returns; put the bytes of the "
            "frames you build (wire.encode_frame gives bytes) in a list."
        )
    if not isinstance(fragments, list | tuple) or not fragments:
        raise NotYet(f"put the frames in a list, [first, second, third], not {fragments!r:.80}.")
    frames: list[tuple[bytes, wire.Frame]] = []
    for number, data in enumerate(fragments, start=1):
        if not isinstance(data, bytes | bytearray):
            raise NotYet(
                f"frame {number} is {data!r:.40}, a {type(data).__name__}: each item must be "
                "the bytes of a whole frame, built with wire.encode_frame."
            )
        try:
            frame, rest = wire.decode_frame(bytes(data))
        except wire.WireError as error:
            raise NotYet(f"frame {number} is not a valid frame: {error}.") from None
        if rest:
            raise NotYet(f"frame {number} holds more than one frame: one frame per item.")
        frames.append((bytes(data), frame))
    return frames


def _replies(connection: raw.RawWebSocket, fragments: Sequence[bytes]) -> list[wire.Frame]:
    """Send ``fragments`` and read what the echo server sends back, up to its close frame or
    until it has been quiet for a moment (it may be waiting for more)."""
    for data in fragments:
        connection.send(data)
    replies: list[wire.Frame] = []
    connection.socket.settimeout(check.QUIET * 2)
    with contextlib.suppress(TimeoutError, ConnectionError):
        while not replies or replies[-1].opcode != wire.CLOSE:
            replies.append(connection.recv_frame())
            connection.socket.settimeout(check.QUIET / 2)  # a refusal comes right after an echo
    return replies


_REFUSALS = {
    "incorrect masking": "a client must mask every frame it sends, each fragment included.",
    "expected a continuation frame": "after the first fragment, each fragment is a "
    "continuation frame: only the first one carries the message's opcode.",
    "unexpected continuation frame": "a continuation frame came when no message was "
    "under way: the first fragment carries the message's opcode and does not have FIN set.",
}


def _refusal(close: wire.Frame, before: list[wire.Frame]) -> str:
    code, reason = wire.parse_close(close.payload)
    echoed = f"echoed {wire.describe(before[0])}, then " if before else ""
    why = _REFUSALS.get(reason, "that frame broke a rule of RFC 6455.")
    return f"the server {echoed}closed the connection with {code} ({reason!r}): {why}"


@exercise(
    "04.3",
    nudge="Build the three frames of one message by hand, as the lesson split Hello in two: "
    "think about which opcode and which FIN each fragment needs, and what every frame a "
    "client sends must have.",
    hints=[
        "Only the first fragment says what kind of message this is; the ones after it say "
        "'I continue the message', and only the last one says 'I am the end'.",
        "Text opcode with fin=False for 'Web', CONTINUATION with fin=False for 'Sock', "
        "CONTINUATION with FIN set for 'et'; every one gets a mask_key, as a client's frames must.",
    ],
)
def fragmented_echo(fragments: object) -> str:
    decoded = _decoded(fragments)
    with _echo_connection() as connection:
        replies = _replies(connection, [data for data, _ in decoded])
    closes = [reply for reply in replies if reply.opcode == wire.CLOSE]
    if closes:
        raise NotYet(_refusal(closes[0], replies[:-1]))
    if not replies:
        raise NotYet(
            f"the server sent nothing back within {check.QUIET * 2:g} s: it is still waiting for "
            "the end of the message. Which fragment says it is the last?"
        )
    echo = replies[0]
    if echo.opcode != wire.TEXT:
        raise NotYet(
            f"the echo came back as {wire.describe(echo)}: the first fragment's opcode decides "
            "the message's type, and this one should be text."
        )
    parts = [frame.payload.decode("utf-8", "replace") for _, frame in decoded]
    if echo.payload != b"WebSocket" or parts != ["Web", "Sock", "et"]:
        raise NotYet(
            f"you sent the fragments {parts} and the server joined them into "
            f"{echo.payload.decode('utf-8', 'replace')!r}; send 'Web', 'Sock' and 'et'."
        )
    return (
        f"Three fragments went out, and one whole message came back: {wire.describe(echo)}. "
        "The server's handler never saw the pieces."
    )
