"""Lesson 11 exercises: a key checked in the handshake, origins and auth in Socket.IO, and a
per-connection rate limit on a Socket.IO server."""

from __future__ import annotations

import contextlib
import inspect
import time
from collections.abc import Callable
from typing import Any

import socketio
import websockets.exceptions
import websockets.sync.client
from websockets.http11 import Response
from websockets.typing import Origin

from .._util import describe
from ..check import NotYet, exercise, function_answer, visiting, wait_until
from ..eventlog import events
from ..lab import Service
from ..servers import start_sio_server, start_ws_server
from . import check

_KEY = "letmein"
_NO_ANSWER = 0  # the "status" of a handshake that got no valid HTTP response at all


def _status(
    url: str, *, origin: str | None = None, additional_headers: dict[str, str] | None = None
) -> int:
    """The HTTP status a WebSocket handshake to ``url`` gets (101 when it is accepted), sent
    with this ``origin`` (None: no Origin header) and ``additional_headers``."""
    try:
        with websockets.sync.client.connect(
            url,
            origin=None if origin is None else Origin(origin),
            additional_headers=additional_headers,
            open_timeout=check.TIMEOUT,
            close_timeout=1,
        ):
            return 101
    except websockets.exceptions.InvalidStatus as error:
        return error.response.status_code
    except (websockets.exceptions.InvalidHandshake, OSError, TimeoutError, EOFError):
        return _NO_ANSWER


def _not_a_service(answer: object, name: str) -> Callable[..., Any]:
    if isinstance(answer, Service):
        raise NotYet(
            f"this is a running server; pass the function {name} itself: the check starts a "
            "server of its own with it."
        )
    return function_answer(answer, name)


# --- 11.1 ----------------------------------------------------------------------------------


def _watched(require_key: Callable[..., Any]) -> tuple[Callable[..., Any], list[tuple[str, Any]]]:
    """A process_request that calls ``require_key`` and notes what it returned or raised."""
    seen: list[tuple[str, Any]] = []

    async def process_request(connection: Any, request: Any) -> Any:
        try:
            result = require_key(connection, request)
            if inspect.isawaitable(result):
                result = await result
        except Exception as error:
            seen.append(("raised", error))
            raise
        seen.append(("returned", result))
        return result

    return process_request, seen


def _returned_problem(what: str, value: object) -> str:
    """What to say when require_key returned something that is neither None nor a Response."""
    said = f"for the handshake {what}, require_key returned {value!r}"
    if isinstance(value, tuple):
        return (
            f"{said}: (status, headers, body) is the legacy websockets API. Return None to go "
            "on, or the Response that connection.respond(status, text) makes."
        )
    return f"{said}: return None to go on, or the Response that connection.respond(...) makes."


def _status_problem(what: str, status: int, expected: int) -> str:
    said = f"a handshake {what} got {status}, expected {expected}"
    if status == 403:
        return (
            f"{said}: 403 Forbidden says 'I know who you are, and no'; a missing or wrong key "
            "is 401 Unauthorized, 'who are you?'."
        )
    if status == 101:
        return f"{said}: it was let in (101 Switching Protocols) without the right key."
    if expected == 101:
        return (
            f"{said}: the right key was refused. The client sends it in the header X-Api-Key; "
            f"compare that header's value with {_KEY!r}."
        )
    return f"{said} (101 means accepted)."


@exercise(
    "11.1",
    nudge="Guard a websockets server's door: write the function that looks at each opening "
    "handshake before the server accepts it, lets it go on when it carries the right key, and "
    "answers 401 otherwise, as the lesson's vault did with its bearer token.",
    hints=[
        "That function is the server's process_request. It gets the connection and the HTTP "
        "request, and what it returns decides: nothing means go on; an HTTP response ends the "
        "handshake with that response.",
        "Read the header X-Api-Key from the request's headers with get() and a default of "
        "'' (a client may send none), compare it with letmein (hmac.compare_digest, on "
        "bytes, as the lesson did), return None when it matches, and otherwise return what "
        "the connection's respond method makes from http.HTTPStatus.UNAUTHORIZED and a short "
        "text.",
    ],
)
def key_check(require_key: object) -> str:
    function = _not_a_service(require_key, "require_key")
    process_request, seen = _watched(function)
    server = start_ws_server(name="check-11.1", process_request=process_request)
    tries: dict[str, dict[str, str]] = {
        "without the header": {},
        "with X-Api-Key: wrong": {"X-Api-Key": "wrong"},
        f"with X-Api-Key: {_KEY}": {"X-Api-Key": _KEY},
    }
    try:
        with visiting(server):
            for what, headers in tries.items():
                status = _status(server.url, additional_headers=headers)
                _judge_key(what, status, 101 if headers.get("X-Api-Key") == _KEY else 401, seen)
    finally:
        server.stop()
    return "No key or a wrong key: 401. The right key: 101 Switching Protocols."


def _judge_key(what: str, status: int, expected: int, seen: list[tuple[str, Any]]) -> None:
    kind, value = seen[-1] if seen else ("returned", None)
    if kind == "raised":
        fix = ""
        if isinstance(value, KeyError):
            fix = (
                " A header the client did not send is not in request.headers: read it with "
                "get(), which gives None (or the default you pass it) instead."
            )
        raise NotYet(
            f"a handshake {what} got {status}: require_key raised "
            f"{type(value).__name__}: {value}.{fix}"
        )
    if value is not None and not isinstance(value, Response):
        raise NotYet(_returned_problem(what, value))
    if status != expected:
        raise NotYet(_status_problem(what, status, expected))


# --- 11.2 ----------------------------------------------------------------------------------


def _server_from(make: object, name: str) -> socketio.AsyncServer:
    """Call the learner's function ``make`` and return the Socket.IO server it made."""
    function = _not_a_service(make, name)
    try:
        sio = function()
    except Exception as error:
        raise NotYet(f"{name}() raised {describe(error)}.") from None
    if not isinstance(sio, socketio.AsyncServer):
        raise NotYet(
            f"{name}() returned {sio!r}: write its body in place of the ... and return the "
            "socketio.AsyncServer."
        )
    if sio.async_mode != "aiohttp":
        raise NotYet(
            f"{name}() made a server with async_mode={sio.async_mode!r}; the lab serves "
            "Socket.IO with aiohttp: create it with async_mode='aiohttp'."
        )
    return sio


def _engineio_status(url: str, origin: str | None) -> int:
    ws_url = url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    return _status(ws_url, origin=origin)


def _origin_problem(sio: socketio.AsyncServer, origin: str | None, status: int) -> str:
    setting = sio.eio.cors_allowed_origins
    verdict = "was let in" if status == 101 else f"was refused ({status})"
    said = f"a handshake with Origin {origin} {verdict}"
    if setting == []:
        return (
            f"{said}: cors_allowed_origins=[] does not mean 'no origin': python-engineio reads "
            "an empty list as 'do not check origins at all'. List the origin you allow."
        )
    if setting == "*" or (isinstance(setting, list | tuple) and "*" in setting):
        return f"{said}: '*' lets every page in. List the one origin you allow."
    if setting is None:
        return (
            f"{said}: your server's cors_allowed_origins is not set, so it allows only its own "
            "origin. If you did set it, check the option's spelling: python-socketio hands the "
            "options it does not know to python-engineio, which ignores them without a word."
        )
    return (
        f"{said}: your server's cors_allowed_origins is {setting!r}. Each entry is compared "
        "exactly with the Origin header, which is scheme://host (and :port, if any), with no "
        "path and no slash at the end."
    )


def _try_auth(url: str, auth: object, clients: list[Any]) -> tuple[bool, list[object]]:
    """Connect a script-like client (no Origin) with ``auth``: (connected, connect_error data)."""
    # websocket-client would send the server's own origin: like a script, send none
    client = socketio.Client(reconnection=False, websocket_extra_options={"suppress_origin": True})
    reasons: list[object] = []
    client.on("connect_error", reasons.append)
    clients.append(client)
    with contextlib.suppress(socketio.exceptions.ConnectionError):
        client.connect(url, auth=auth, transports=["websocket"], wait_timeout=check.TIMEOUT)
    return client.connected, reasons


def _auth_problem(auth: object, allowed: bool, connected: bool, reasons: list[object]) -> str:
    if connected:
        return f"a client with auth={auth!r} was let in: only the token {_KEY!r} may pass."
    if allowed:
        return f"a client with auth={auth!r}, the right token, was refused ({reasons})."
    if not reasons:
        return (
            f"a client with auth={auth!r} got no answer to its CONNECT within {check.TIMEOUT:g} s: "
            "the connect handler raised. A client may send no auth at all: check what it is "
            "before you read from it."
        )
    return (
        f"a client with auth={auth!r} was refused with the default reason {reasons[0]}, "
        "which tells it nothing: that is what returning False, raising "
        "socketio.exceptions.ConnectionRefusedError without a reason, and raising Python's "
        "built-in ConnectionRefusedError send. Raise socketio's, with a reason of your own."
    )


# What a client hears when the connect handler returns False or raises socketio's
# ConnectionRefusedError without a reason, and when it raises Python's built-in one.
_DEFAULT_REFUSALS = [
    {"message": "Connection rejected by server"},
    {"message": "Connection refused by server"},
]


@exercise(
    "11.2",
    nudge="Build a Socket.IO server for one site's pages and its members only: it turns away "
    "pages from other sites at the handshake, and clients without the right token when they "
    "connect, saying why, as the lesson's sections on origins and on auth showed.",
    hints=[
        "Two different checks at two moments: the Origin header is checked by the server's "
        "own setting for allowed origins, before any handler runs; the token comes in the "
        "auth of the CONNECT packet, and your connect handler decides.",
        "Create the AsyncServer with cors_allowed_origins set to a list holding "
        "https://chat.example. In its connect handler, take the token from auth (which may be "
        "None), and unless it is letmein, raise socketio.exceptions.ConnectionRefusedError with "
        "a reason. Return the server from the function.",
    ],
)
def members(members_only: object) -> str:
    sio = _server_from(members_only, "members_only")
    server = start_sio_server(sio, name="check-11.2")
    try:
        with visiting(server) as clients:
            for origin, allowed in (
                ("https://evil.example", False),
                ("https://chat.example", True),
                (None, True),
            ):
                status = _engineio_status(server.url, origin)
                events(server.name, settle=0.05)  # a refusal is logged: expected, not news
                if (status == 101) != allowed:
                    raise NotYet(_origin_problem(sio, origin, status))
            for auth, allowed in (
                (None, False),
                ({"token": "wrong"}, False),
                ({"token": _KEY}, True),
            ):
                connected, reasons = _try_auth(server.url, auth, clients)
                default = bool(reasons) and reasons[0] in _DEFAULT_REFUSALS
                if connected != allowed or not (connected or reasons) or default:
                    raise NotYet(_auth_problem(auth, allowed, connected, reasons))
    finally:
        server.stop()
    return "Foreign pages and clients without the token are refused, and told why; members get in."


# --- 11.3 ----------------------------------------------------------------------------------

_CALM = 7  # messages the quiet client sends before the flood, one every _PACE seconds
_PACE = 0.25
_FLOOD = 40  # events the flooder emits as fast as it can
_BURST_AFTER = 4  # messages the quiet client then sends at once, within its own burst of 5


class _Sender:
    """A checker's client that notes why it was disconnected."""

    def __init__(self, name: str, clients: list[Any]) -> None:
        self.name = name
        self.reasons: list[str] = []
        self.client = socketio.Client(reconnection=False)
        self.client.on("disconnect", self.reasons.append)
        clients.append(self.client)

    def connect(self, url: str) -> None:
        try:
            self.client.connect(url, transports=["websocket"], wait_timeout=check.TIMEOUT)
        except socketio.exceptions.ConnectionError as error:
            raise NotYet(f"the {self.name} client could not connect ({error}).") from None

    def echo(self, text: str) -> object:
        """The ack of an 'echo' of ``text`` (None for an empty one), or _CUT_OFF if the server
        disconnected this client; NotYet if no ack comes while it stays connected."""
        acks: list[tuple[Any, ...]] = []
        with contextlib.suppress(socketio.exceptions.BadNamespaceError):  # cut off already
            self.client.emit("echo", text, callback=lambda *args: acks.append(args))
        wait_until(lambda: acks or not self.client.connected)
        if acks:
            return acks[0][0] if acks[0] else None
        if not self.client.connected:
            return _CUT_OFF
        raise NotYet(
            f"the {self.name} client's echo of {text!r} got no acknowledgement within "
            f"{check.TIMEOUT:g} s: is there an 'echo' handler, and does it finish without an "
            "error? Its return value is the ack."
        )


_CUT_OFF = object()  # what _Sender.echo returns once the server has disconnected it


@exercise(
    "11.3",
    nudge="Stop a flooder without slowing anyone else, as the lesson's token bucket did for "
    "websockets, but on a Socket.IO server: each connection gets its own allowance, and a "
    "connection that overspends it is disconnected by the server.",
    hints=[
        "The allowance belongs to the connection, so it lives where the server keeps things per "
        "connection (lesson 08's session). A bucket has a level and the time it was last "
        "filled: each message first adds what the elapsed time earned, then costs one.",
        "In the echo handler, open the sid's session with async with, and compute the new "
        "level: the stored one (5 at first) plus 5 per second since the stored time, at most "
        "5, minus 1. Store the level and the time. When it went below 0, await the server's "
        "disconnect of that sid and return nothing; otherwise return the data.",
    ],
)
def rate_limited(limited_server: object) -> str:
    sio = _server_from(limited_server, "limited_server")
    server = start_sio_server(sio, name="check-11.3")
    try:
        with visiting(server) as clients:
            quiet, flooder = _Sender("quiet", clients), _Sender("flooding", clients)
            quiet.connect(server.url)
            flooder.connect(server.url)
            _calm(quiet)
            _flood(flooder)
            _burst(quiet)
    finally:
        server.stop()
        events(server.name)
    return (
        f"The flooder was disconnected after its burst ({flooder.reasons[0]}); the quiet "
        f"client, at {1 / _PACE:g} messages a second and then {_BURST_AFTER} at once, kept its "
        "connection and got every echo."
    )


def _calm(quiet: _Sender) -> None:
    for number in range(1, _CALM + 1):
        text = f"calm {number}"
        answer = quiet.echo(text)
        if answer is _CUT_OFF:
            raise NotYet(
                f"the quiet client, alone and sending {1 / _PACE:g} messages a second, was "
                f"disconnected at message {number} ({quiet.reasons}). Under the limit (5 a "
                "second, 5 at once) a connection must keep going: the bucket refills with the "
                "time that passes."
            )
        if answer is None:
            raise NotYet(
                f"the echo of {text!r} was acknowledged with nothing: the 'echo' handler's "
                "return value is the ack, so return the text."
            )
        if answer != text:
            raise NotYet(f"the echo of {text!r} was acknowledged with {answer!r}: return the text.")
        time.sleep(_PACE)


def _flood(flooder: _Sender) -> None:
    for number in range(_FLOOD):
        with contextlib.suppress(socketio.exceptions.BadNamespaceError):  # cut off already
            flooder.client.emit("echo", f"spam {number}")
    if not wait_until(lambda: not flooder.client.connected):
        raise NotYet(
            f"the flooding client emitted {_FLOOD} events as fast as it could and was still "
            f"connected {check.TIMEOUT:g} s later. When a connection's bucket runs dry, disconnect "
            "it from the server: the server's disconnect is a coroutine, so await it."
        )


def _burst(quiet: _Sender) -> None:
    for number in range(1, _BURST_AFTER + 1):
        if quiet.echo(f"burst {number}") is _CUT_OFF:
            raise NotYet(
                f"once the flooder was cut off, the quiet client sent {_BURST_AFTER} messages at "
                f"once and was disconnected at message {number}, though its own bucket was "
                "full: the connections share one bucket. Keep one per connection, in its "
                "session (or a dict by sid)."
            )
