"""The tap: a relay you put between a client and a server to see every byte they exchange.

    echo = helpers.start_ws_server()
    tap = helpers.start_tap(echo)              # listens on its own port, forwards to echo
    with websockets.sync.client.connect(tap.url) as websocket:
        websocket.send("Hello")
        websocket.recv()
    tap.show("websocket")                      # the handshake, then every frame, decoded

The client talks to the tap as if it were the server; the tap passes every chunk on
unchanged and writes it down with its direction. Nothing is altered, so what you see is what
the two programs really sent (including the tap's port in the ``Host`` header).
"""

from __future__ import annotations

import asyncio
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from . import wire
from .eventlog import log
from .lab import DEFAULT_HOST, Closer, Service, start_service

__all__ = ["TO_CLIENT", "TO_SERVER", "Chunk", "Tap", "start_tap", "transcript"]

TO_SERVER = "client → server"
TO_CLIENT = "server → client"
DECODERS = ("raw", "http", "websocket", "socketio")


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
        self, decode: str = "websocket", *, only: str | None = None, wait: float = 0.2
    ) -> None:
        """Print what passed through the tap since it started (or since :meth:`clear`).

        ``decode`` says how to read the bytes: ``"raw"`` (hex and text), ``"http"``
        (request and status lines, headers, bodies), ``"websocket"`` (the opening
        handshake, then each frame decoded; the size in brackets is the whole frame on the
        wire) or ``"socketio"`` (the same, with the Engine.IO and Socket.IO packets inside
        long-polling bodies and WebSocket frames read too). ``only=TO_SERVER`` (or
        ``TO_CLIENT``) shows one direction: each direction's order is fixed, while the
        interleaving of the two can differ from run to run. It first waits until nothing has
        passed for ``wait`` seconds.
        """
        if decode not in DECODERS:
            raise ValueError(f"unknown decode {decode!r}: choose one of {', '.join(DECODERS)}")
        if only not in (None, TO_SERVER, TO_CLIENT):
            raise ValueError(f"only must be {TO_SERVER!r} or {TO_CLIENT!r}, not {only!r}")
        self._settle(wait)
        print(transcript(self.chunks, decode, only))

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


def transcript(chunks: list[Chunk], decode: str, only: str | None = None) -> str:
    """The annotated transcript of ``chunks``, connection by connection (one direction if
    ``only`` names it)."""
    if not chunks:
        return "(nothing has passed through the tap)"
    lines: list[str] = []
    for number in sorted({chunk.connection for chunk in chunks}):
        lines.append(f"connection {number}")
        reader = _READERS[decode]()
        for direction, data in _merged(c for c in chunks if c.connection == number):
            entries = reader.feed(direction, data)
            if only not in (None, direction):
                continue
            for entry in entries:
                first, *rest = entry.splitlines() or [""]
                lines.append(f"  {direction}  {first}")
                lines.extend(_INDENT + line for line in rest)
    return "\n".join(lines)


def _merged(chunks: Iterator[Chunk]) -> Iterator[tuple[str, bytes]]:
    """Join back-to-back chunks of one direction: how TCP cut them up is not the message."""
    direction, data = None, b""
    for chunk in chunks:
        if chunk.direction == direction and chunk.data:
            data += chunk.data
            continue
        if direction is not None and data:
            yield direction, data
        direction, data = chunk.direction, chunk.data
        if not chunk.data:
            yield direction, b""
            direction = None
    if direction is not None and data:
        yield direction, data


class _Raw:
    """Hex and text, 16 bytes a line."""

    def feed(self, direction: str, data: bytes) -> list[str]:
        if not data:
            return ["end of stream"]
        rows = [data[i : i + 16] for i in range(0, len(data), 16)]
        return [f"{len(data)} bytes\n" + "\n".join(_hex_row(row) for row in rows)]


def _hex_row(row: bytes) -> str:
    text = "".join(chr(b) if 32 <= b < 127 else "." for b in row)
    return f"{row.hex(' '):<47}  {text}"


class _Http:
    """HTTP/1.1 messages: start line, headers, and the body (by Content-Length or to the end)."""

    def __init__(self) -> None:
        self.buffers: dict[str, bytes] = {TO_SERVER: b"", TO_CLIENT: b""}
        self.body_left: dict[str, int | None] = {TO_SERVER: None, TO_CLIENT: None}

    def feed(self, direction: str, data: bytes) -> list[str]:
        if not data:
            rest = self.buffers[direction]
            self.buffers[direction] = b""
            return ([self.body(rest)] if rest else []) + ["end of stream"]
        self.buffers[direction] += data
        return self.messages(direction)

    def messages(self, direction: str) -> list[str]:
        entries = []
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
            head, found, rest = buffer.partition(b"\r\n\r\n")
            if not found:
                return entries
            self.buffers[direction] = rest
            entries.append(head.decode("latin-1"))
            self.body_left[direction] = self.after_head(direction, head)
            if self.body_left[direction] is None:  # the rest is not HTTP any more
                return entries + self.after_upgrade(direction)

    def after_head(self, direction: str, head: bytes) -> int | None:
        """How many body bytes follow ``head`` (0 if none)."""
        return int(_header(head, "content-length") or 0)

    def after_upgrade(self, direction: str) -> list[str]:
        return []

    def body(self, data: bytes) -> str:
        text = data.decode("utf-8", errors="replace")
        shown = text if len(text) <= 200 else text[:200] + "…"
        return f"body, {len(data)} bytes: {shown!r}"


def _header(head: bytes, name: str) -> str | None:
    for line in head.decode("latin-1").split("\r\n")[1:]:
        key, _, value = line.partition(":")
        if key.strip().lower() == name:
            return value.strip()
    return None


class _WebSocket(_Http):
    """The opening handshake as HTTP, then frames (inflated under permessage-deflate)."""

    def __init__(self) -> None:
        super().__init__()
        self.framing: set[str] = set()
        self.deflate: dict[str, zlib._Decompress | None] = {}
        self.reset_after_message: set[str] = set()
        self.inflating: set[str] = set()

    def feed(self, direction: str, data: bytes) -> list[str]:
        if direction not in self.framing:
            return super().feed(direction, data)
        if not data:
            return ["end of stream"]
        self.buffers[direction] += data
        return self.frames(direction)

    def after_head(self, direction: str, head: bytes) -> int | None:
        upgrading = (_header(head, "upgrade") or "").lower() == "websocket"
        switching = head.startswith(b"HTTP/1.1 101")
        if (direction == TO_SERVER and upgrading) or (direction == TO_CLIENT and switching):
            self.framing.add(direction)
            if direction == TO_CLIENT:
                self.negotiate(_header(head, "sec-websocket-extensions") or "")
            return None
        return super().after_head(direction, head)

    def negotiate(self, extensions: str) -> None:
        if not extensions.startswith("permessage-deflate"):
            return
        for direction, side in ((TO_SERVER, "client"), (TO_CLIENT, "server")):
            self.deflate[direction] = zlib.decompressobj(wbits=-15)
            if f"{side}_no_context_takeover" in extensions:
                self.reset_after_message.add(direction)

    def after_upgrade(self, direction: str) -> list[str]:
        return self.frames(direction)

    def frames(self, direction: str) -> list[str]:
        entries = []
        while self.buffers[direction]:
            buffer = self.buffers[direction]
            try:
                frame, rest = wire.decode_frame(buffer, deflate=direction in self.deflate)
            except wire.IncompleteFrame:
                break
            except wire.ProtocolError as problem:
                self.buffers[direction] = b""
                entries.append(f"not a valid frame ({problem}): {buffer[:16].hex(' ')}")
                break
            self.buffers[direction] = rest
            entries.append(f"[{len(buffer) - len(rest)} bytes] {self.read(direction, frame)}")
        return entries

    def read(self, direction: str, frame: wire.Frame) -> str:
        """``describe(frame)``, with a compressed message's payload inflated."""
        if frame.compressed:
            self.inflating.add(direction)
        if direction not in self.inflating or frame.opcode not in (wire.TEXT, wire.BINARY, 0):
            return wire.describe(frame)
        inflater = self.deflate[direction]
        assert inflater is not None
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

    def body(self, data: bytes) -> str:
        try:
            text = data.decode("utf-8")
            packets = text.split(wire.RECORD_SEPARATOR)
            readings = [wire.describe_packet(packet) for packet in packets]
        except (UnicodeDecodeError, wire.PacketError):
            return super().body(data)
        return f"body, {len(data)} bytes: " + "\n".join(readings)

    def read(self, direction: str, frame: wire.Frame) -> str:
        reading = super().read(direction, frame)
        if frame.opcode not in (wire.TEXT, wire.BINARY) or frame.compressed or not frame.fin:
            return reading
        payload = frame.payload if frame.opcode == wire.BINARY else frame.payload.decode()
        try:
            return f"{reading}\n→ {wire.describe_packet(payload)}"
        except (UnicodeDecodeError, wire.PacketError):
            return reading


_READERS: dict[str, Callable[[], _Raw | _Http]] = {
    "raw": _Raw,
    "http": _Http,
    "websocket": _WebSocket,
    "socketio": _SocketIO,
}
