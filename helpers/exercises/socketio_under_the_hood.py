"""Lesson 09 exercises: a Socket.IO packet written by hand (and sent to a live server), and
joining a Socket.IO session by hand over a plain WebSocket."""

from __future__ import annotations

import contextlib
import json
import re
import threading
from collections.abc import Callable, Iterator

import socketio
import websockets.exceptions
import websockets.sync.client

from .. import wire
from .._util import describe
from ..check import NotYet, exercise, function_answer
from ..eventlog import events
from ..lab import Service
from ..servers import start_sio_server
from . import check

# --- 09.1 ----------------------------------------------------------------------------------

_WANTED = wire.SocketPacket(wire.SocketPacketType.EVENT, "/game", 5, ["move", {"x": 1, "y": 2}])


def _engineio_url(server: Service) -> str:
    return server.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"


def _layout_problem(packet: str) -> str | None:
    """What is wrong with the order of the fields after '42', if a usual mistake shows."""
    if not packet[1:2].isdigit():
        return (
            "after the Engine.IO type 4 comes the Socket.IO packet's own type, a digit: the "
            "packet has one digit per layer."
        )
    rest = packet[2:]
    if re.match(r"game\b", rest):
        return "a namespace starts with a slash: '/game', not 'game'."
    if rest.startswith("/game") and not rest.startswith("/game,"):
        return "the namespace ends with a comma: '/game,' and then the ack id."
    if re.match(r"\d+/", rest):
        return "the namespace comes right after the two type digits; the ack id after its comma."
    if "'" in rest:
        return (
            "JSON writes its strings in double quotes; single quotes are Python's repr, "
            "which a Socket.IO peer cannot read. json.dumps writes JSON for you."
        )
    return None


def _field_problem(found: wire.SocketPacket) -> str | None:
    """The first field of ``found`` that differs from the wanted packet, said plainly."""
    if found.type != _WANTED.type:
        return f"its Socket.IO type is {found.type} ({found.name}); an event is 2 (EVENT)."
    if found.namespace != _WANTED.namespace:
        return f"its namespace is {found.namespace!r}; it should be '/game'."
    if found.id is None:
        return (
            "it has no ack id, so the server would not acknowledge it: the id goes between "
            "the namespace's comma and the JSON."
        )
    if found.id != _WANTED.id:
        return f"its ack id is {found.id}; it should be 5."
    data = found.data
    if len(data) == 2 and isinstance(data[1], str) and data[1].lstrip().startswith("{"):
        return (
            f"its argument is the string {data[1]!r}, JSON inside JSON: put the object itself "
            'in the list, ["move",{…}].'
        )
    if data != _WANTED.data:
        return f"its data is {json.dumps(data)}; it should be {json.dumps(_WANTED.data)}."
    return None


def _parse(packet: str) -> wire.SocketPacket:
    try:
        engine = wire.parse_engineio(packet)
        if engine.type != 4 or not isinstance(engine.data, str):
            raise NotYet(f"an event travels in an Engine.IO message (4), not a {engine.name}.")
        problem = _layout_problem(packet)
        if problem:
            raise NotYet(problem)
        return wire.parse_socketio(engine.data)
    except wire.PacketError as problem:
        raise NotYet(f"that is not a valid packet: {problem}.") from None


def _game_server() -> tuple[socketio.AsyncServer, Service]:
    sio = socketio.AsyncServer(async_mode="aiohttp")

    @sio.on("move", namespace="/game")
    async def move(sid: str, where: dict) -> str:
        return f"moved to {where['x']},{where['y']}"

    return sio, start_sio_server(sio, name="check-09.1")


def _send_to_live_server(packet: str) -> str:
    """Send ``packet`` by hand to a server with a /game namespace; return its answer."""
    _, server = _game_server()
    try:
        with websockets.sync.client.connect(
            _engineio_url(server), open_timeout=check.TIMEOUT, close_timeout=1
        ) as websocket:
            websocket.recv(timeout=check.TIMEOUT)  # the open packet
            websocket.send("40/game,")
            websocket.recv(timeout=check.TIMEOUT)  # the CONNECT answer
            websocket.send(packet)
            return str(websocket.recv(timeout=check.TIMEOUT))
    except (TimeoutError, OSError, websockets.exceptions.WebSocketException) as error:
        raise NotYet(
            f"the packet looks right, but a live server did not answer it ({error})."
        ) from None
    finally:
        server.stop()
        events(server.name)


@exercise(
    "09.1",
    nudge="Write the packet by hand, as the lesson's table of packet types reads them: one "
    "layer inside the other, then the namespace, the acknowledgement id and the data, in the "
    "order the lesson's examples show.",
    hints=[
        "Two digits come first, one per layer: the Engine.IO type that carries a Socket.IO "
        "packet, then the Socket.IO type of an event. Then everything that names where the "
        "event goes and how it will be answered, and the JSON last.",
        "The layout is: Engine.IO message (4), Socket.IO EVENT (2), the namespace followed by a "
        "comma, the ack id 5, then a JSON list whose first item is the event name and whose "
        "second is the argument object, all in double quotes. The lesson printed 4217 for an "
        "echo with ack id 17 on the namespace /.",
    ],
)
def move_packet(packet: object) -> str:
    if isinstance(packet, bytes | bytearray):
        raise NotYet(
            f"{bytes(packet)!r} is bytes: a packet without binary attachments travels in a text "
            "frame, so write it as a str."
        )
    if not isinstance(packet, str):
        raise NotYet(f"write the packet as a string, not {packet!r}.")
    if packet.startswith("2/"):
        raise NotYet(
            "that is the Socket.IO packet alone: over WebSocket it travels inside an "
            "Engine.IO message, so it needs a 4 in front."
        )
    problem = _field_problem(_parse(packet))
    if problem:
        raise NotYet(problem)
    answer = _send_to_live_server(packet)
    return (
        f"{packet} is the EVENT 'move' on /game with ack id 5. Sent by hand to a live server, "
        f"it was answered with {answer}: the ACK (3) for id 5, on /game."
    )


# --- 09.2 ----------------------------------------------------------------------------------

_PATIENCE = 5.0  # seconds join() may take before the check closes the connection under it


@contextlib.contextmanager
def _closed_after(websocket: websockets.sync.client.ClientConnection) -> Iterator[None]:
    """Close ``websocket`` if the block takes longer than ``_PATIENCE``: a recv() that waits
    for a packet that never comes then ends instead of blocking the check for ever."""
    timer = threading.Timer(_PATIENCE, websocket.close)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def _call_join(
    join: Callable[[object], object], url: str, sio: socketio.AsyncServer
) -> tuple[object, bool, set[str]]:
    """Run ``join`` on a fresh connection. Return what it returned, whether the server has
    a Socket.IO client with that sid, and the server's Engine.IO sids at that moment."""
    try:
        with (
            websockets.sync.client.connect(url, open_timeout=check.TIMEOUT, close_timeout=1) as ws,
            _closed_after(ws),
        ):
            sid = join(ws)
            engineio_sids = set(sio.eio.sockets)
            connected = isinstance(sid, str) and sio.manager.is_connected(sid, "/")
    except (TimeoutError, websockets.exceptions.ConnectionClosed):
        raise NotYet(
            "join() waited for a packet that never came. After the open packet the server says "
            "nothing more until the client asks to join a namespace: send the CONNECT packet "
            "for '/' (Engine.IO message, Socket.IO CONNECT) before you read again."
        ) from None
    except Exception as error:
        raise NotYet(
            f"join() raised {describe(error)}. Each packet is text: a type digit "
            "per layer, then JSON; json.loads what follows the digits."
        ) from None
    return sid, connected, engineio_sids


@exercise(
    "09.2",
    nudge="Do by hand what a Socket.IO client does when it joins: read what the server says "
    "first, ask to join the default namespace, and return the session id of the answer, as "
    "the lesson's section on speaking Socket.IO by hand did.",
    hints=[
        "Two ids are in play: the open packet carries the Engine.IO session's, the answer to "
        "your CONNECT carries the Socket.IO session's. The check wants the second one.",
        "Receive the open packet, send the two-character CONNECT for the namespace / (message "
        "4, CONNECT 0), receive the answer 40 followed by a JSON object, and return the value "
        "of its sid key (json.loads the text after the first two characters).",
    ],
)
def join_by_hand(answer: object) -> str:
    join = function_answer(
        answer,
        "join",
        plain_def="the check gives it a connection of websockets' synchronous client, whose "
        "recv() and send() are plain calls",
    )
    sio = socketio.AsyncServer(async_mode="aiohttp")
    server = start_sio_server(sio, name="check-09.2")
    try:
        sid, connected, engineio_sids = _call_join(join, _engineio_url(server), sio)
    finally:
        server.stop()
        events(server.name, settle=0.05)
    if connected:
        return "Your join() opened a Socket.IO session by hand, and the server agrees."
    raise NotYet(_wrong_sid(sid, engineio_sids))


def _wrong_sid(sid: object, engineio_sids: set[str]) -> str:
    if sid is None:
        return "join() returned None: write its body in place of the ... and return the sid."
    if isinstance(sid, str) and sid in engineio_sids:
        return (
            f"{json.dumps(sid)} is the Engine.IO session's id, from the open packet. Return the "
            "sid of the answer to your CONNECT (40{...}), the Socket.IO session's."
        )
    if isinstance(sid, str) and sid[:1].isdigit():
        return f"join() returned the whole packet {sid!r}: return only the sid inside its JSON."
    if isinstance(sid, dict):
        return f"join() returned {sid!r}: return the sid itself, the string in it."
    shown = json.dumps(sid) if isinstance(sid, str) else repr(sid)
    return (
        f"the server has no Socket.IO client with the sid {shown}: return the sid of the "
        "CONNECT answer (40{...})."
    )
