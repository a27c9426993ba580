"""The tap: a relay you put between a client and a server to see every byte they exchange.

    echo = helpers.start_ws_server()
    tap = helpers.start_tap(echo)              # listens on its own port, forwards to echo
    with websockets.sync.client.connect(tap.url) as websocket:
        websocket.send("Hello")
        websocket.recv()
    tap.show("websocket")                      # the handshake, then every frame, decoded
    tap.diagram("websocket")                   # the same exchange as a sequence diagram

The client talks to the tap as if it were the server; the tap passes every chunk on
unchanged and writes it down with its direction. Nothing is altered, so what you see is what
the two programs really sent (including the tap's port in the ``Host`` header).
"""

from __future__ import annotations

import asyncio
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Protocol

from . import wire
from .diagram import PAUSE, Diagram, Message, choose_connections, name_clients
from .eventlog import log
from .lab import DEFAULT_HOST, Closer, Service, start_service

__all__ = [
    "TO_CLIENT",
    "TO_SERVER",
    "Chunk",
    "Reading",
    "Tap",
    "diagram_of",
    "start_tap",
    "transcript",
]

TO_SERVER = "client → server"
TO_CLIENT = "server → client"


@dataclass(frozen=True)
class Chunk:
    """Bytes the tap passed on: which connection, which way, when, and what.

    An empty ``data`` marks the end of that direction's stream (the sender closed it).
    """

    connection: int
    direction: str
    data: bytes
    time: float


@dataclass
class _Recording:
    chunks: list[Chunk] = field(default_factory=list)
    connections: int = 0
    started: float = field(default_factory=time.monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def new_connection(self) -> int:
        with self.lock:
            self.connections += 1
            return self.connections

    def add(self, connection: int, direction: str, data: bytes) -> None:
        with self.lock:
            now = time.monotonic() - self.started
            self.chunks.append(Chunk(connection, direction, data, now))


class Tap:
    """A running tap: connect clients to :attr:`url`, then :meth:`show` what passed."""

    def __init__(self, service: Service, target: str, recording: _Recording) -> None:
        self.service = service
        self.target = target
        self._recording = recording

    @property
    def url(self) -> str:
        """Where clients connect instead of the server."""
        return self.service.url

    @property
    def port(self) -> int:
        return self.service.port

    @property
    def chunks(self) -> list[Chunk]:
        """Everything recorded so far, in the order it passed."""
        with self._recording.lock:
            return list(self._recording.chunks)

    def clear(self) -> None:
        """Forget what was recorded; connection numbers start again at 1."""
        with self._recording.lock:
            self._recording.chunks.clear()
            self._recording.connections = 0

    def total(self, direction: str | None = None) -> int:
        """Bytes recorded, in one direction (``tap.TO_SERVER``/``TO_CLIENT``) or both."""
        return sum(len(c.data) for c in self.chunks if direction in (None, c.direction))

    def show(
        self,
        decode: str = "websocket",
        *,
        only: str | None = None,
        headers: bool = True,
        wait: float = 0.2,
    ) -> None:
        """Print what passed through the tap since it started (or since :meth:`clear`).

        ``decode`` says how to read the bytes: ``"raw"`` (hex and text), ``"http"``
        (request and status lines, headers, bodies), ``"websocket"`` (the opening
        handshake, then each frame decoded; the size in brackets is the whole frame on the
        wire), ``"socketio"`` (the same, with the Engine.IO and Socket.IO packets inside
        long-polling bodies and WebSocket frames read too) or ``"redis"`` (each command and
        reply of Redis's protocol, RESP, as ``redis-cli`` writes them). ``only=TO_SERVER`` (or
        ``TO_CLIENT``) shows one direction: each direction's order is fixed, while the
        interleaving of the two can differ from run to run. ``headers=False`` shows only the
        first line of each HTTP head (the request or status line), with a count of the header
        lines left out. It first waits until nothing has passed for ``wait`` seconds.
        """
        _check_decode(decode)
        if only not in (None, TO_SERVER, TO_CLIENT):
            raise ValueError(f"only must be {TO_SERVER!r} or {TO_CLIENT!r}, not {only!r}")
        self._settle(wait)
        print(transcript(self.chunks, decode, only, headers=headers))

    def diagram(
        self,
        decode: str = "websocket",
        *,
        connections: int | Iterable[int] | None = None,
        first: int | None = None,
        last: int | None = None,
        client: str | Mapping[int, str] | None = None,
        server: str = "server",
        pause: float | None = PAUSE,
        wait: float = 0.2,
    ) -> Diagram:
        """A sequence diagram of what passed: one arrow per message, read as ``decode`` reads it.

        ``decode`` is as in :meth:`show`. The arrows carry the request or status line (with
        the body's reading below), each frame, or each Socket.IO packet (with its frame
        below), and their bytes on the wire. ``connections`` keeps some connections (a
        number or a list, numbered as :meth:`show` numbers them). Each connection has a
        client lifeline of its own (``client``, or ``client 1``, ``client 2``...) unless
        ``client`` names the one client of them all or maps numbers to names; ``server``
        names the other end. ``first``/``last`` keep that many messages from each end;
        ``pause`` is the gap in seconds that gets a note. It first waits like :meth:`show`.

        The arrows are in the order the tap passed the messages: where two connections or
        directions race, that order can change from run to run (as in :meth:`show`).
        In a notebook the diagram shows as a picture; ``print()`` it for the text.
        """
        _check_decode(decode)
        self._settle(wait)
        return diagram_of(
            self.chunks,
            decode,
            connections=connections,
            first=first,
            last=last,
            client=client,
            server=server,
            pause=pause,
            started=self._recording.started,
        )

    def _settle(self, wait: float, timeout: float = 3.0) -> None:
        deadline = time.monotonic() + timeout
        seen = -1
        while time.monotonic() < deadline and seen != len(self._recording.chunks):
            seen = len(self._recording.chunks)
            time.sleep(wait)

    def stop(self) -> None:
        """Stop the tap (the server behind it keeps running)."""
        self.service.stop()

    def __repr__(self) -> str:
        return f"<Tap {self.service.name!r}: {self.url} → {self.target}>"


def start_tap(target: Service | int, *, name: str = "tap", scheme: str | None = None) -> Tap:
    """Start a tap in front of ``target`` (a running service, or a port on 127.0.0.1).

    Clients connect to the returned tap's ``url``; its scheme is the target's (``ws``,
    ``http``...) unless you give ``scheme``.
    """
    if isinstance(target, Service):
        host, port, scheme = target.host, target.port, scheme or target.scheme
    elif isinstance(target, int):
        host, port, scheme = DEFAULT_HOST, target, scheme or "tcp"
    else:
        raise TypeError(f"a tap needs a running Service or a port to forward to, not {target!r}")
    recording = _Recording()

    async def open_tap() -> tuple[int, Closer]:
        writers: set[asyncio.StreamWriter] = set()

        async def relay(client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter) -> None:
            number = recording.new_connection()
            try:
                server_in, server_out = await asyncio.open_connection(host, port)
            except OSError as error:
                log("cannot reach the server", target=f"{host}:{port}", error=str(error))
                client_out.close()
                return
            pair = {client_out, server_out}
            writers.update(pair)
            await asyncio.gather(
                _pump(client_in, server_out, lambda data: recording.add(number, TO_SERVER, data)),
                _pump(server_in, client_out, lambda data: recording.add(number, TO_CLIENT, data)),
            )
            for writer in pair:
                writer.close()
            writers.difference_update(pair)

        server = await asyncio.start_server(relay, DEFAULT_HOST, 0)

        async def close() -> None:
            server.close()
            for writer in list(writers):
                writer.transport.abort()
            await server.wait_closed()

        return server.sockets[0].getsockname()[1], close

    service = start_service(
        name, f"tap → {scheme}://{host}:{port}", scheme, DEFAULT_HOST, 0, open_tap
    )
    return Tap(service, f"{scheme}://{host}:{port}", recording)


async def _pump(
    source: asyncio.StreamReader, sink: asyncio.StreamWriter, record: Callable[[bytes], None]
) -> None:
    """Copy ``source`` to ``sink`` chunk by chunk, recording each; pass the end on too."""
    try:
        while data := await source.read(65536):
            record(data)
            sink.write(data)
            await sink.drain()
        record(b"")
        if sink.can_write_eof():
            sink.write_eof()
    except (ConnectionError, OSError):
        sink.transport.abort()  # one side broke off: break off the other side as well


# --- Reading a recording ------------------------------------------------------------------

_INDENT = " " * (len(TO_SERVER) + 4)
NOT_YET = "(nothing has passed through the tap: connect a client to tap.url first)"


@dataclass(frozen=True)
class Reading:
    """One thing a reader found in a stream: a ``"head"`` (HTTP start line and headers), a
    ``"body"``, a ``"frame"``, a Redis ``"value"``, raw ``"bytes"``, an ``"invalid"`` frame or
    value, or the ``"end"``.

    ``text`` is what :meth:`Tap.show` prints; ``label`` and ``detail`` are the one-line
    versions on a diagram's arrow, ``size`` its bytes on the wire (``None`` for the end).
    """

    kind: str
    text: str
    size: int | None = None
    label: str = ""
    detail: str = ""


_END = Reading("end", "end of stream", label="end of stream")


def transcript(
    chunks: list[Chunk], decode: str, only: str | None = None, *, headers: bool = True
) -> str:
    """The annotated transcript of ``chunks``, connection by connection (one direction if
    ``only`` names it; HTTP heads cut to their first line unless ``headers``)."""
    if not chunks:
        return "(nothing has passed through the tap)"
    lines: list[str] = []
    for number, readings in _connections(chunks, decode):
        lines.append(f"connection {number}")
        for direction, reading, _ in readings:
            if only not in (None, direction):
                continue
            first, *rest = reading.text.splitlines() or [""]
            if reading.kind == "head" and not headers and rest:
                rest = [f"({len(rest)} header lines)"]
            lines.append(f"  {direction}  {first}")
            lines.extend(_INDENT + line for line in rest)
    return "\n".join(lines)


def diagram_of(
    chunks: list[Chunk],
    decode: str,
    *,
    connections: int | Iterable[int] | None = None,
    first: int | None = None,
    last: int | None = None,
    client: str | Mapping[int, str] | None = None,
    server: str = "server",
    pause: float | None = PAUSE,
    started: float = 0.0,
) -> Diagram:
    """The sequence diagram of ``chunks`` (what :meth:`Tap.diagram` draws, which explains the
    options). ``started`` is added to the chunks' times: a tap passes the
    ``time.monotonic()`` of its start, so that the diagrams of several taps can be merged."""
    _check_decode(decode)
    if not chunks:
        return Diagram([], [name_clients(client, [1])[1], server], empty=NOT_YET)
    chosen = choose_connections(connections, sorted({c.connection for c in chunks}))
    clients = name_clients(client, chosen)
    if server in clients.values():
        raise ValueError(f"the server and a client are both called {server!r}: rename one")
    messages: list[Message] = []
    for number, readings in _connections(chunks, decode, timed=True):
        if number in clients:
            messages += _messages(readings, (clients[number], server), started)
    messages.sort(key=lambda message: message.time or 0.0)
    parties = [*dict.fromkeys(clients.values()), server]
    return Diagram(messages, parties, first=first, last=last, pause=pause, empty=NOT_YET)


def _connections(
    chunks: list[Chunk], decode: str, *, timed: bool = False
) -> Iterator[tuple[int, Iterator[tuple[str, Reading, float]]]]:
    """Each connection's number, and its readings: (direction, reading, time), in order."""
    for number in sorted({chunk.connection for chunk in chunks}):
        yield number, _read(decode, [c for c in chunks if c.connection == number], timed)


def _read(
    decode: str, chunks: list[Chunk], timed: bool = False
) -> Iterator[tuple[str, Reading, float]]:
    """The readings of one connection's ``chunks``. ``timed`` (for diagrams) feeds the reader
    chunk by chunk, so that each reading has the time of the chunk that completed it, even
    when one side sent several messages in a row, seconds apart; ``"raw"`` reads whole pieces
    (see :func:`_merged`) either way, as the transcript does."""
    reader = _READERS[decode]()
    one_by_one = timed and decode != "raw"
    pieces = ((c.direction, c.data, c.time) for c in chunks) if one_by_one else _merged(chunks)
    for direction, data, when in pieces:
        for reading in reader.feed(direction, data):
            yield direction, reading, when


def _merged(chunks: Iterable[Chunk]) -> Iterator[tuple[str, bytes, float]]:
    """Join back-to-back chunks of one direction: how TCP cut them up is not the message.

    Each piece comes with the time of its last chunk.
    """
    direction, data, when = None, b"", 0.0
    for chunk in chunks:
        if chunk.direction == direction and chunk.data:
            data, when = data + chunk.data, chunk.time
            continue
        if direction is not None and data:
            yield direction, data, when
        direction, data, when = chunk.direction, chunk.data, chunk.time
        if not chunk.data:
            yield direction, b"", when
            direction = None
    if direction is not None and data:
        yield direction, data, when


def _messages(
    readings: Iterable[tuple[str, Reading, float]], ends: tuple[str, str], started: float
) -> list[Message]:
    """A connection's readings as a diagram's messages; an HTTP body joins its head's arrow.

    ``ends`` names the client and the server; ``started`` is added to every time.
    """
    messages: list[Message] = []
    heads: dict[str, int] = {}  # direction -> its latest head, while a body may follow
    for direction, reading, when in readings:
        head = heads.pop(direction, None)
        if reading.kind == "body" and head is not None:
            size = (messages[head].size or 0) + (reading.size or 0)
            messages[head] = replace(messages[head], size=size, detail=reading.detail)
            continue
        if reading.kind == "head":
            heads[direction] = len(messages)
        to_server = direction == TO_SERVER
        sender, receiver = ends if to_server else ends[::-1]
        messages.append(
            Message(
                sender,
                receiver,
                reading.label,
                reading.size,
                reading.detail,
                started + when,
                to_server,
                dashed=reading.kind == "end",
            )
        )
    return messages


class _Raw:
    """Hex and text, 16 bytes a line."""

    def feed(self, direction: str, data: bytes) -> list[Reading]:
        if not data:
            return [_END]
        rows = [data[i : i + 16] for i in range(0, len(data), 16)]
        text = f"{len(data)} bytes\n" + "\n".join(_hex_row(row) for row in rows)
        return [Reading("bytes", text, len(data), label=_bytes_label(data))]


def _bytes_label(data: bytes, limit: int = 120) -> str:
    return repr(data[:limit]) + ("…" if len(data) > limit else "")


def _hex_row(row: bytes) -> str:
    text = "".join(chr(b) if 32 <= b < 127 else "." for b in row)
    return f"{row.hex(' '):<47}  {text}"


class _Http:
    """HTTP/1.1 messages: start line, headers, and the body (by Content-Length or to the end)."""

    def __init__(self) -> None:
        self.buffers: dict[str, bytes] = {TO_SERVER: b"", TO_CLIENT: b""}
        self.body_left: dict[str, int | None] = {TO_SERVER: None, TO_CLIENT: None}

    def feed(self, direction: str, data: bytes) -> list[Reading]:
        if not data:
            rest = self.buffers[direction]
            self.buffers[direction] = b""
            return ([self.body(rest)] if rest else []) + [_END]
        self.buffers[direction] += data
        return self.messages(direction)

    def messages(self, direction: str) -> list[Reading]:
        entries: list[Reading] = []
        while True:
            buffer = self.buffers[direction]
            left = self.body_left[direction]
            if left is not None:
                if len(buffer) < left:
                    return entries
                if left:
                    entries.append(self.body(buffer[:left]))
                self.buffers[direction], self.body_left[direction] = buffer[left:], None
                continue
            try:
                head = wire.parse_http_head(buffer)
            except wire.IncompleteHead:
                return entries
            self.buffers[direction] = buffer[head.size :]
            entries.append(Reading("head", head.text, head.size, head.start_line))
            self.body_left[direction] = self.after_head(direction, head)
            if self.body_left[direction] is None:  # the rest is not HTTP any more
                return entries + self.after_upgrade(direction)

    def after_head(self, direction: str, head: wire.HttpHead) -> int | None:
        """How many body bytes follow ``head`` (0 if none)."""
        return int(head.header("content-length") or 0)

    def after_upgrade(self, direction: str) -> list[Reading]:
        return []

    def body(self, data: bytes) -> Reading:
        text = data.decode("utf-8", errors="replace")
        shown = text if len(text) <= 200 else text[:200] + "…"
        label = f"body, {len(data)} bytes"
        return Reading("body", f"{label}: {shown!r}", len(data), label, f"body {shown!r}")


class _Inflater(Protocol):
    """What ``zlib.decompressobj()`` returns (its class is private to zlib)."""

    def decompress(self, data: bytes, /) -> bytes: ...


class _WebSocket(_Http):
    """The opening handshake as HTTP, then frames (inflated under permessage-deflate)."""

    def __init__(self) -> None:
        super().__init__()
        self.framing: set[str] = set()
        self.deflate: dict[str, _Inflater] = {}
        self.reset_after_message: set[str] = set()
        self.inflating: set[str] = set()

    def feed(self, direction: str, data: bytes) -> list[Reading]:
        if direction not in self.framing:
            return super().feed(direction, data)
        if not data:
            return [_END]
        self.buffers[direction] += data
        return self.frames(direction)

    def after_head(self, direction: str, head: wire.HttpHead) -> int | None:
        upgrading = (head.header("upgrade") or "").lower() == "websocket"
        switching = head.start_line.startswith("HTTP/1.1 101")
        if (direction == TO_SERVER and upgrading) or (direction == TO_CLIENT and switching):
            self.framing.add(direction)
            if direction == TO_CLIENT:
                self.negotiate(head.header("sec-websocket-extensions") or "")
            return None
        return super().after_head(direction, head)

    def negotiate(self, extensions: str) -> None:
        if not extensions.startswith("permessage-deflate"):
            return
        for direction, side in ((TO_SERVER, "client"), (TO_CLIENT, "server")):
            self.deflate[direction] = zlib.decompressobj(wbits=-15)
            if f"{side}_no_context_takeover" in extensions:
                self.reset_after_message.add(direction)

    def after_upgrade(self, direction: str) -> list[Reading]:
        return self.frames(direction)

    def frames(self, direction: str) -> list[Reading]:
        entries: list[Reading] = []
        while self.buffers[direction]:
            buffer = self.buffers[direction]
            try:
                frame, rest = wire.decode_frame(buffer, deflate=direction in self.deflate)
            except wire.IncompleteFrame:
                break
            except wire.ProtocolError as problem:
                self.buffers[direction] = b""
                label, start = f"not a valid frame ({problem})", buffer[:16].hex(" ")
                entries.append(Reading("invalid", f"{label}: {start}", len(buffer), label, start))
                break
            self.buffers[direction] = rest
            entries.append(self.reading(direction, frame, len(buffer) - len(rest)))
        return entries

    def reading(self, direction: str, frame: wire.Frame, size: int) -> Reading:
        """A frame of ``size`` bytes on the wire, read aloud."""
        described = self.read(direction, frame)
        return Reading("frame", f"[{size} bytes] {described}", size, label=described)

    def read(self, direction: str, frame: wire.Frame) -> str:
        """``describe(frame)``, with a compressed message's payload inflated."""
        if frame.compressed:
            self.inflating.add(direction)
        if direction not in self.inflating or frame.opcode.is_control:  # control: never deflated
            return wire.describe(frame)
        inflater = self.deflate[direction]
        tail = b"\x00\x00\xff\xff" if frame.fin else b""
        plain = inflater.decompress(frame.payload + tail)
        if frame.fin:
            self.inflating.discard(direction)
            if direction in self.reset_after_message:
                self.deflate[direction] = zlib.decompressobj(wbits=-15)
        shown = wire.Frame(frame.fin, frame.opcode, frame.masked, frame.mask_key, plain)
        return f"{wire.describe(shown)} (deflated to {len(frame.payload)} bytes)"


class _SocketIO(_WebSocket):
    """Socket.IO: Engine.IO packets in polling bodies and in WebSocket frames, read aloud."""

    def body(self, data: bytes) -> Reading:
        try:
            text = data.decode("utf-8")
            packets = text.split(wire.RECORD_SEPARATOR)
            readings = [wire.describe_packet(packet) for packet in packets]
        except (UnicodeDecodeError, wire.PacketError):
            return super().body(data)
        label = f"body, {len(data)} bytes"
        shown = "\n".join(readings)
        return Reading("body", f"{label}: {shown}", len(data), label, "; ".join(readings))

    def reading(self, direction: str, frame: wire.Frame, size: int) -> Reading:
        """The frame, and the Engine.IO (and Socket.IO) packet it carries, if it is one: on a
        diagram's arrow the packet is the label and the frame the line below."""
        reading = super().reading(direction, frame, size)
        if frame.opcode not in (wire.TEXT, wire.BINARY) or frame.compressed or not frame.fin:
            return reading
        try:
            payload = frame.payload if frame.opcode == wire.BINARY else frame.payload.decode()
            packet = wire.describe_packet(payload)
        except (UnicodeDecodeError, wire.PacketError):
            return reading
        return Reading("frame", f"{reading.text}\n→ {packet}", size, packet, reading.label)


class _Incomplete(Exception):
    """The buffer ends in the middle of a RESP value."""


@dataclass(frozen=True)
class _RespError:
    message: str


@dataclass(frozen=True)
class _RespMap:
    pairs: list[tuple[object, object]]


class _Redis:
    """Redis's protocol, RESP (2 and 3): each command and each reply (or pushed message) read
    as ``redis-cli`` would write it, ``PUBLISH socketio {...}``, ``(integer) 2``."""

    LABEL = 120  # characters of a diagram's label at most: a long payload is cut
    SHOWN = 200  # characters of one string in the transcript at most

    def __init__(self) -> None:
        self.buffers: dict[str, bytes] = {TO_SERVER: b"", TO_CLIENT: b""}

    def feed(self, direction: str, data: bytes) -> list[Reading]:
        if not data:
            rest, self.buffers[direction] = self.buffers[direction], b""
            cut = [self.invalid("the stream ended inside a value", rest)] if rest else []
            return [*cut, _END]
        self.buffers[direction] += data
        entries: list[Reading] = []
        while buffer := self.buffers[direction]:
            try:
                value, end = _resp_value(buffer, 0, inline=direction == TO_SERVER)
            except _Incomplete:
                break
            except (ValueError, RecursionError) as problem:
                self.buffers[direction] = b""
                entries.append(self.invalid(str(problem), buffer))
                break
            self.buffers[direction] = buffer[end:]
            full, short = _resp_text(value, self.SHOWN), _resp_text(value, self.LABEL)
            label = short if len(short) <= self.LABEL else short[: self.LABEL - 1] + "…"
            entries.append(Reading("value", f"[{end} bytes] {full}", end, label))
        return entries

    @staticmethod
    def invalid(problem: str, data: bytes) -> Reading:
        label, start = f"not RESP ({problem})", data[:16].hex(" ")
        return Reading("invalid", f"{label}: {start}", len(data), label, start)


def _resp_line(buffer: bytes, start: int) -> tuple[bytes, int]:
    end = buffer.find(b"\r\n", start)
    if end < 0:
        raise _Incomplete
    return buffer[start:end], end + 2


def _resp_number(line: bytes, what: str) -> int:
    try:
        return int(line)
    except ValueError:
        raise ValueError(f"{what} {line[:20]!r} is not a number") from None


def _resp_value(buffer: bytes, start: int, *, inline: bool = False) -> tuple[object, int]:
    """The RESP value at ``start`` in ``buffer`` and where it ends; an inline command (words
    on a line, as typed into telnet) too, where ``inline``."""
    if start >= len(buffer):
        raise _Incomplete
    kind = buffer[start : start + 1]
    if inline and kind not in b"*$":
        line, end = _resp_line(buffer, start)
        return [word.encode() for word in line.decode("latin-1").split()], end
    if kind not in b"+-:,#_$!=(*~>%|":
        raise ValueError(f"{kind!r} does not start a RESP value")
    line, end = _resp_line(buffer, start + 1)
    if kind in b"+(":  # a simple string; a big number
        return line.decode("utf-8", "backslashreplace"), end
    if kind == b"-":
        return _RespError(line.decode("utf-8", "backslashreplace")), end
    if kind == b":":
        return _resp_number(line, "the integer"), end
    if kind == b",":
        return float(line.decode("latin-1")), end
    if kind == b"#":
        return line == b"t", end
    if kind == b"_":
        return None, end
    if kind in b"$!=":  # a bulk string; a bulk error; a verbatim string ("txt:...")
        size = _resp_number(line, "the length")
        if size < 0:
            return None, end
        if len(buffer) < end + size + 2:
            raise _Incomplete
        data = buffer[end : end + size]
        if kind == b"!":
            return _RespError(data.decode("utf-8", "backslashreplace")), end + size + 2
        return data[4:] if kind == b"=" else data, end + size + 2
    if kind in b"*~>%|":  # an array; a set; a push; a map; attributes
        count = _resp_number(line, "the count")
        if count < 0:
            return None, end
        items = []
        for _ in range(count * (2 if kind in b"%|" else 1)):
            item, end = _resp_value(buffer, end)
            items.append(item)
        if kind == b"|":  # attributes come before the value they describe
            return _resp_value(buffer, end)
        if kind == b"%":
            return _RespMap(list(zip(items[::2], items[1::2], strict=True))), end
        return items, end
    raise AssertionError("unreachable")


def _resp_text(value: object, limit: int, top: bool = True) -> str:
    """``value`` on one line: strings as they are (cut at ``limit`` characters), words of an
    array (a command, a pushed message) side by side, and redis-cli's ``(integer)``,
    ``(error)``, ``(nil)`` at the top."""
    if isinstance(value, bytes):
        text = value.decode("utf-8", "backslashreplace")
        return (text if len(text) <= limit else text[:limit] + "…") if text else '""'
    if isinstance(value, str):
        return value
    if isinstance(value, _RespError):
        return f"(error) {value.message}"
    if value is None:
        return "(nil)"
    if isinstance(value, bool):
        return f"({str(value).lower()})"
    if isinstance(value, int | float):
        return f"(integer) {value}" if top and isinstance(value, int) else str(value)
    if isinstance(value, _RespMap):
        pairs = (
            f"{_resp_text(k, limit, False)}: {_resp_text(v, limit, False)}" for k, v in value.pairs
        )
        return "{" + ", ".join(pairs) + "}"
    assert isinstance(value, list)
    words = " ".join(_resp_text(item, limit, False) for item in value)
    return words if top else f"[{words}]"


_READERS: dict[str, Callable[[], _Raw | _Http | _Redis]] = {
    "raw": _Raw,
    "http": _Http,
    "websocket": _WebSocket,
    "socketio": _SocketIO,
    "redis": _Redis,
}

DECODERS = tuple(_READERS)
"""The ways :meth:`Tap.show` and :meth:`Tap.diagram` can read the bytes (their ``decode``)."""


def _check_decode(decode: str) -> None:
    if decode not in DECODERS:
        raise ValueError(f"unknown decode {decode!r}: choose one of {', '.join(DECODERS)}")
