"""Lesson 09 exercises: a Socket.IO packet written by hand, and joining a session by hand."""

from __future__ import annotations

import json
from collections.abc import Callable

import socketio
import websockets.sync.client

from .. import wire
from ..check import NotYet, exercise, function_answer
from ..eventlog import events
from ..servers import start_sio_server

_WANTED = wire.SocketPacket(2, "/game", 5, ["move", {"x": 1, "y": 2}])


@exercise(
    "09.1",
    nudge="an Engine.IO message (4), then the Socket.IO EVENT (2), the namespace and a comma, "
    "the ack id, and the JSON list of the event name and its argument.",
)
def move_packet(packet: object) -> str:
    if not isinstance(packet, str):
        raise NotYet(f"write the packet as a string, not {packet!r}.")
    if packet.startswith("2/"):
        raise NotYet(
            "that is the Socket.IO packet alone: over WebSocket it travels inside an "
            "Engine.IO message, so it needs a 4 in front."
        )
    try:
        engine = wire.parse_engineio(packet)
        if engine.type != 4 or not isinstance(engine.data, str):
            raise NotYet(f"an event travels in an Engine.IO message (4), not a {engine.name}.")
        found = wire.parse_socketio(engine.data)
    except wire.PacketError as problem:
        raise NotYet(f"that is not a valid packet: {problem}.") from None
    for field in ("type", "namespace", "id", "data"):
        if getattr(found, field) != getattr(_WANTED, field):
            got, wanted = getattr(found, field), getattr(_WANTED, field)
            raise NotYet(f"its {field} is {got!r}; it should be {wanted!r}.")
    return f"{packet} is the EVENT 'move' on /game with ack id 5."


@exercise(
    "09.2",
    nudge="websocket.recv() gives the open packet; send '40'; the next recv() is "
    "'40{\"sid\":...}': json.loads what follows the '40' and return its 'sid'.",
)
def join_by_hand(join: Callable[[object], object]) -> str:
    function_answer(join, "join")
    sio = socketio.AsyncServer(async_mode="aiohttp")
    server = start_sio_server(sio, name="check-09.2")
    url = server.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    try:
        with websockets.sync.client.connect(url, open_timeout=3, close_timeout=1) as websocket:
            sid = join(websocket)
            connected = isinstance(sid, str) and sio.manager.is_connected(sid, "/")
    finally:
        server.stop()
        events("check-09.2", settle=0.05)
    if sid is None:
        raise NotYet("join() returned None: write its body in place of the ... and return the sid.")
    if not connected:
        shown = json.dumps(sid) if isinstance(sid, str) else repr(sid)
        raise NotYet(
            f"the server has no Socket.IO client with the sid {shown}: return the sid of the "
            "CONNECT answer (40{...}), not the Engine.IO one of the open packet."
        )
    return "Your join() opened a Socket.IO session by hand, and the server agrees."
