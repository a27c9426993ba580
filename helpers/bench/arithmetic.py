"""Bytes on the wire, by the protocols' arithmetic, checked against what the tap counted.

For one echo of ``"hello"`` (5 bytes) each layer adds its own bytes:

- a WebSocket frame adds 2 bytes of header (more for payloads over 125 bytes) and, from
  client to server only, a 4-byte mask key;
- Socket.IO over Engine.IO wraps the event: ``4`` (Engine.IO message), ``2`` (EVENT) or
  ``3`` (ACK), the ack id, and the JSON list: ``421["echo","hello"]``, ``431["hello"]``;
- HTTP adds a request or status line and headers to every body, every time.

:func:`expected_bytes` reads what the tap recorded, builds the expected frames and packets from
these rules, and says whether they add up to exactly what passed (``matches``).
"""

from __future__ import annotations

import json
import zlib
from typing import TypedDict

from .. import wire
from ..tap import TO_CLIENT, TO_SERVER
from .figures import Counted, Layers

MESSAGE = "hello"

__all__ = ["MESSAGE", "deflated", "expected_bytes", "frame_size", "socketio_packets"]


def frame_size(payload: int, *, masked: bool) -> int:
    """Bytes of a WebSocket frame with a ``payload``-byte payload (RFC 6455, section 5.2)."""
    extended = 0 if payload < 126 else 2 if payload < 65536 else 8
    return 2 + extended + (4 if masked else 0) + payload


def deflated(text: str) -> bytes:
    """``text`` compressed as permessage-deflate sends a message on a fresh context
    (RFC 7692: raw deflate, sync flush, the final ``00 00 ff ff`` removed)."""
    encoder = zlib.compressobj(wbits=-15)
    data = encoder.compress(text.encode()) + encoder.flush(zlib.Z_SYNC_FLUSH)
    return data[:-4]


def socketio_packets(ack_id: int = 1) -> tuple[str, str]:
    """The Engine.IO packets of ``call("echo", "hello")``: the event and its ack."""
    compact = (",", ":")  # no spaces after , and :, as in the packets on the wire
    return (
        f"42{ack_id}" + json.dumps(["echo", MESSAGE], separators=compact),
        f"43{ack_id}" + json.dumps([MESSAGE], separators=compact),
    )


def _http_messages(data: bytes) -> list[tuple[int, bytes]]:
    """Split an HTTP/1.1 byte stream into (head size, body) pairs, bodies by Content-Length."""
    messages: list[tuple[int, bytes]] = []
    while data:
        try:
            head = wire.parse_http_head(data)
        except wire.IncompleteHead:  # not HTTP: counted 4 bytes long, so the total cannot add up
            return [*messages, (len(data) + 4, b"")]
        end = head.size + int(head.header("content-length") or 0)
        messages.append((head.size, data[head.size : end]))
        data = data[end:]
    return messages


def _frames(data: bytes) -> list[wire.Frame]:
    """The frames in ``data``; none if it does not cut into whole frames."""
    frames = []
    while data:
        try:
            frame, data = wire.decode_frame(data, deflate=True)
        except wire.WireError:
            return []
        frames.append(frame)
    return frames


class _Found(TypedDict):
    """Bytes by layer each way, and whether they add up to what the tap counted."""

    layers: Layers
    matches: bool


def _layers(message: int, packet: int, frame: int, http: int) -> dict[str, int]:
    """Bytes by layer: the message, Socket.IO + Engine.IO, the WebSocket frame, HTTP."""
    return {
        "message": message,
        "Socket.IO + Engine.IO": packet - message,
        "WebSocket frame": frame - packet,
        "HTTP": http,
    }


def _websocket(
    echo: dict[str, bytes], up: str | bytes, down: str | bytes, *, packets: bool = False
) -> _Found:
    """A frame each way whose payloads are ``up`` and ``down`` (Socket.IO ``packets``, or
    the message itself, compressed or not)."""
    layers: Layers = {}
    matches = True
    for way, payload, masked in ((TO_SERVER, up, True), (TO_CLIENT, down, False)):
        payload = payload.encode() if isinstance(payload, str) else payload
        frames = _frames(echo[way])
        matches &= [(f.payload, f.masked) for f in frames] == [(payload, masked)]
        size = frame_size(len(payload), masked=masked)
        matches &= size == len(echo[way])
        message = len(MESSAGE) if packets else len(payload)
        layers[way] = _layers(message, len(payload), size, 0)
    return {"layers": layers, "matches": matches}


def _http(echo: dict[str, bytes], up: list[str], down: list[str]) -> _Found:
    """HTTP messages each way whose non-empty bodies are ``up`` and ``down``."""
    layers: Layers = {}
    matches = True
    for way, bodies in ((TO_SERVER, up), (TO_CLIENT, down)):
        messages = _http_messages(echo[way])
        found = sorted(body.decode() for _, body in messages if body)
        matches &= found == sorted(bodies)
        heads = sum(size for size, _ in messages)
        body_bytes = sum(len(b.encode()) for b in bodies)
        matches &= heads + body_bytes == len(echo[way])
        packets = [b for b in bodies if b.startswith("4")]
        packet = len(packets[0]) if packets else len(MESSAGE)
        layers[way] = _layers(len(MESSAGE), packet, packet, heads + body_bytes - packet)
    return {"layers": layers, "matches": matches}


def expected_bytes(case: str, phases: dict[str, dict[str, bytes]]) -> Counted:
    """Bytes of ``case``'s opening and echo as the tap saw them, with the arithmetic check.

    ``phases`` holds each direction's bytes for ``"opened"`` (the opening handshake) and
    ``"echoed"`` (one echo of "hello").
    """
    echo = phases["echoed"]
    event, ack = socketio_packets()
    if case == "tcp":
        found: _Found = {
            "layers": {way: _layers(5, 5, 5, 0) for way in (TO_SERVER, TO_CLIENT)},
            "matches": echo[TO_SERVER] == echo[TO_CLIENT] == MESSAGE.encode(),
        }
    elif case == "websockets":
        found = _websocket(echo, MESSAGE, MESSAGE)
    elif case == "websockets-deflate":
        found = _websocket(echo, deflated(MESSAGE), deflated(MESSAGE))
    elif case == "socketio-ws":
        found = _websocket(echo, event, ack, packets=True)
    elif case == "socketio-polling":  # a POST carries the event; the parked GET the ack
        found = _http(echo, [event], [ack, "OK"])
    elif case == "http-request":
        found = _http(echo, [MESSAGE], [MESSAGE])
    else:
        raise ValueError(f"unknown case {case!r}")
    return {
        "up": len(echo[TO_SERVER]),
        "down": len(echo[TO_CLIENT]),
        "handshake_up": len(phases["opened"][TO_SERVER]),
        "handshake_down": len(phases["opened"][TO_CLIENT]),
        **found,
    }
