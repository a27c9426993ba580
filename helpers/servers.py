"""Start real ``websockets``, Socket.IO and aiohttp servers in the lab with one call.

Each function returns a :class:`~helpers.lab.Service`. The servers are the libraries' own:
``websockets.asyncio.server.serve``, ``socketio.AsyncServer`` attached to an
``aiohttp.web.Application``. The lab only picks the port, logs, and cleans up.
"""

from __future__ import annotations

import asyncio
import difflib
import inspect
import logging
import weakref
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import engineio
import socketio
from aiohttp import web
from socketio import packet as sio_packet
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosedError, InvalidMessage, PayloadTooBig
from websockets.exceptions import ProtocolError as WebSocketProtocolError
from websockets.frames import CloseCode
from websockets.protocol import Protocol

from . import eventlog
from ._util import describe
from .eventlog import current_service, log
from .lab import DEFAULT_HOST, STOP_GRACE, Closer, Service, close_with_grace, start_service

__all__ = ["demo_sio_server", "echo", "start_http_server", "start_sio_server", "start_ws_server"]

Handler = Callable[[ServerConnection], Awaitable[None]]

# What websockets' serve() accepts, and what it passes on to asyncio's loop.create_server().
_NOT_OPTIONS = {"handler", "host", "port", "args", "kwargs"}
_SERVE_OPTIONS = [name for name in inspect.signature(serve).parameters if name not in _NOT_OPTIONS]
_CREATE_SERVER_OPTIONS = [
    "backlog",
    "family",
    "flags",
    "reuse_address",
    "reuse_port",
    "sock",
    "ssl",
    "ssl_handshake_timeout",
    "ssl_shutdown_timeout",
]

_WEBSOCKETS_LOGGER = logging.getLogger("websockets.server")

#: The Socket.IO packet types a client may send (the others only come from a server).
_FROM_CLIENTS = {
    sio_packet.CONNECT,
    sio_packet.DISCONNECT,
    sio_packet.EVENT,
    sio_packet.ACK,
    sio_packet.BINARY_EVENT,
    sio_packet.BINARY_ACK,
}


def check_options(function: str, given: Iterable[str], allowed: Iterable[str], where: str) -> None:
    """Raise a helpful ``TypeError`` if ``given`` has an option that is not ``allowed``.

    ``function`` is the lab's function that was called, and ``where`` the library call it
    passes its keyword arguments on to; the message suggests the closest allowed name.
    """
    choices = sorted(set(allowed))
    for option in given:
        if option not in choices:
            close = difflib.get_close_matches(option, choices, n=1)
            guess = f" Did you mean {close[0]!r}?" if close else ""
            raise TypeError(
                f"{function}() got an unknown keyword argument {option!r}.{guess} "
                f"It passes keyword arguments on to {where}, which accepts: {', '.join(choices)}."
            )


async def echo(websocket: ServerConnection) -> None:
    """The default handler: send every message back to the client that sent it."""
    assert websocket.request is not None  # a handler runs once the handshake is done
    log("connected", path=websocket.request.path)
    try:
        async for message in websocket:
            log("echo", message=message)
            await websocket.send(message)
    except ConnectionClosedError:
        pass  # the client vanished without a close frame: the code below says so (1006)
    log("disconnected", code=int(websocket.close_code or 1006))


def _log_rejected(what: str) -> None:
    """Log that the running service rejected ``what`` a client sent."""
    eventlog.record(current_service.get(), "rejected", what)


def rejected_frames(protocol: Protocol) -> str | None:
    """What a connection's client sent that broke the WebSocket protocol, in words (or None).

    The library closes such a connection itself, with 1002, 1007 or 1009; a handler only sees
    ``ConnectionClosedError``. This names the cause: an unmasked frame, invalid UTF-8...
    """
    close = protocol.close_sent
    if close is None or protocol.close_rcvd_then_sent:  # no close, or the client's own
        return None
    if isinstance(protocol.parser_exc, PayloadTooBig):
        return f"an oversized frame ({close.reason})"
    if close.code == CloseCode.INVALID_DATA:
        return f"a text frame with invalid UTF-8 ({close.reason})"
    if isinstance(protocol.parser_exc, WebSocketProtocolError):
        if close.reason == "incorrect masking":
            return "an unmasked client frame"
        return f"a frame that breaks RFC 6455 ({close.reason})"
    return None


def rejected_handshake(protocol: Protocol) -> str | None:
    """What a client sent instead of an HTTP request, in words (or None if it was one).

    ``websockets`` answers a bad *request* (a missing header, say) with an HTTP error the client
    can read; bytes that are not a request at all get no answer, so only the log can say why.
    """
    error = protocol.handshake_exc
    if not isinstance(error, InvalidMessage):
        return None
    cause = error.__cause__
    if isinstance(cause, EOFError) and "line without CRLF" not in str(cause.__cause__):
        return f"a truncated handshake ({cause})"
    if isinstance(cause, EOFError):
        return f"garbage bytes, not an HTTP request (a line without CRLF; {cause})"
    readable = str(cause or error).encode("unicode_escape").decode("ascii")
    return f"garbage bytes, not an HTTP request ({readable})"


def _reporting(connection_class: type[ServerConnection], service: str) -> type[ServerConnection]:
    """``connection_class``, logging as ``service`` what its client sent that was rejected.

    A handshake that was not HTTP at all is always logged: the client got no answer. A frame
    that broke the protocol is logged once ``websockets``' INFO messages are let in
    (``helpers.library_logs("INFO", "websockets")``): the client got a close frame that says
    why, and the handler a ``ConnectionClosedError``.
    """

    class Reporting(connection_class):  # type: ignore[valid-type, misc]
        def connection_lost(self, exc: Exception | None) -> None:
            super().connection_lost(exc)
            rejected = rejected_handshake(self.protocol)
            if rejected is None and _WEBSOCKETS_LOGGER.isEnabledFor(logging.INFO):
                rejected = rejected_frames(self.protocol)
            if rejected:
                token = current_service.set(service)
                try:
                    _log_rejected(rejected)
                finally:
                    current_service.reset(token)

    return Reporting


def _is_async_function(handler: object) -> bool:
    return inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(
        getattr(handler, "__call__", None)  # noqa: B004 - an object with an async __call__
    )


def start_ws_server(
    handler: Handler | None = None,
    *,
    name: str = "ws",
    host: str = DEFAULT_HOST,
    port: int = 0,
    **serve_kwargs: Any,
) -> Service:
    """Start a ``websockets`` server and return it as a running :class:`Service`.

    ``handler`` is an async function called once per connection with the connection
    (``async def handler(websocket): ...``); leave it out for an echo server. Keyword
    arguments (``ping_interval``, ``max_size``, ``origins``, ``ssl``...) go to
    ``websockets.asyncio.server.serve``. ``port=0`` picks a free port.

    The event log names what the server rejected: bytes that were not an HTTP request, or a
    handshake cut short (``rejected: ...``); after ``helpers.library_logs("INFO",
    "websockets")``, also a frame that broke the protocol (oversized, unmasked, invalid UTF-8).
    """
    handler = echo if handler is None else handler
    if not _is_async_function(handler):
        raise TypeError(
            f"handler must be an async function, like 'async def handler(websocket): ...', "
            f"got {handler!r}"
        )
    check_options(
        "start_ws_server",
        serve_kwargs,
        _SERVE_OPTIONS + _CREATE_SERVER_OPTIONS,
        "websockets.asyncio.server.serve()",
    )

    connection_class = serve_kwargs.pop("create_connection", None) or ServerConnection
    serve_kwargs["create_connection"] = _reporting(connection_class, name)

    async def open_server() -> tuple[int, Closer]:
        server = await serve(handler, host, port, **serve_kwargs)

        def cut_off() -> None:
            for connection in list(server.all_connections):
                connection.transport.abort()

        async def close() -> None:
            server.close()
            await close_with_grace(server.wait_closed(), cut_off)

        return server.sockets[0].getsockname()[1], close

    kind = "websockets echo server" if handler is echo else "websockets server"
    scheme = "wss" if serve_kwargs.get("ssl") else "ws"
    return start_service(name, kind, scheme, host, port, open_server)


def start_http_server(
    app: web.Application,
    *,
    name: str = "http",
    host: str = DEFAULT_HOST,
    port: int = 0,
    kind: str = "aiohttp server",
    on_stop: Callable[[], Awaitable[None]] | None = None,
    ssl: Any = None,
) -> Service:
    """Serve an ``aiohttp.web.Application`` and return it as a running :class:`Service`.

    ``on_stop`` is awaited before the server shuts down (the Socket.IO server uses it to
    disconnect its clients first).
    """
    if not isinstance(app, web.Application):
        raise TypeError(f"app must be an aiohttp.web.Application, got {app!r}")

    async def open_server() -> tuple[int, Closer]:
        # A short shutdown_timeout: aiohttp otherwise waits up to 60 s for open requests,
        # such as a Socket.IO long-polling request that is parked on the server.
        runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=0.25)
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port, ssl_context=ssl).start()
        except BaseException:
            await runner.cleanup()
            raise

        async def close() -> None:
            if on_stop is not None:
                await on_stop()
            await close_with_grace(runner.cleanup(), lambda: None)

        return runner.addresses[0][1], close

    return start_service(name, kind, "https" if ssl else "http", host, port, open_server)


# --- python-socketio and python-engineio internals -----------------------------------------
#
# Everything in this section uses names that python-socketio and python-engineio do not document
# (private attributes, and the signatures of their base classes); the rest of the module uses
# only their public API. Checked against python-socketio 5.18 and python-engineio 4.15 (5.18.1
# and 4.15.1 in constraints.txt). A new minor release may rename any of these, so
# tests/test_servers.py fails, saying what to re-check, when the installed major.minor differs
# from INTERNALS_CHECKED_AGAINST; a patch release is not expected to change them.

#: The (major, minor) versions of the libraries whose internals this section was checked against.
INTERNALS_CHECKED_AGAINST = {"python-socketio": "5.18", "python-engineio": "4.15"}

#: The servers whose incoming packets are already checked (a server can be started again).
_CHECKED_SERVERS: weakref.WeakSet[socketio.AsyncServer] = weakref.WeakSet()


def _sio_options() -> list[str]:
    """The keyword arguments ``socketio.AsyncServer()`` accepts, its own and Engine.IO's: its
    ``__init__`` passes ``**kwargs`` on to base classes that are not public API."""
    names: set[str] = set()
    for cls in (
        socketio.AsyncServer,
        socketio.base_server.BaseServer,
        engineio.AsyncServer,
        engineio.base_server.BaseServer,
    ):
        names |= set(inspect.signature(cls.__init__).parameters)
    return sorted(names - {"self", "args", "kwargs", "async_mode"})


async def _shut_down(sio: socketio.AsyncServer) -> None:
    """Disconnect every client of ``sio``, stop its background tasks, and leave it ready to be
    started again.

    Like ``sio.eio.disconnect()``, which would wait for ever for a long-polling client that is
    gone to collect its close packet: this gives each client ``STOP_GRACE`` seconds to take it.
    """
    clients = list(sio.eio.sockets.values())
    for client in clients:
        await client.close(wait=False, reason=sio.eio.reason.SERVER_DISCONNECT)
    sio.eio.sockets.clear()
    if clients:
        flushed = [asyncio.ensure_future(client.queue.join()) for client in clients]
        await asyncio.wait(flushed, timeout=STOP_GRACE)
        for task in flushed:
            task.cancel()
    monitoring = sio.eio.service_task_handle is not None or sio.eio.start_service_task
    await sio.shutdown()
    # shutdown() is one-way: re-arm the client monitor for a restart of the same server.
    sio.eio.start_service_task = monitoring
    sio.eio.service_task_event = None


def _decode(sio: socketio.AsyncServer, data: str) -> sio_packet.Packet:
    """The Socket.IO packet ``data`` as ``sio``'s own parser reads it (it may raise anything)."""
    packet: sio_packet.Packet = sio.packet_class(encoded_packet=data)
    return packet


def _serves(sio: socketio.AsyncServer, namespace: str) -> bool:
    """Whether ``sio`` accepts a CONNECT to ``namespace``."""
    return (
        namespace in sio.handlers
        or namespace in sio.namespace_handlers
        or sio.namespaces == "*"
        or namespace in (sio.namespaces or [])
    )


def _check_packets(sio: socketio.AsyncServer, accept: Callable[[str], bool]) -> None:
    """Put ``accept`` in front of ``sio``'s handler of Engine.IO messages: each text packet a
    client sends (not the attachments of a binary one) reaches ``sio`` only if ``accept`` returns
    True. Done once per server: starting it again keeps the check it has."""
    if sio in _CHECKED_SERVERS:
        return
    _CHECKED_SERVERS.add(sio)
    handle = sio.eio.handlers["message"]

    async def checked(eio_sid: str, data: str | bytes) -> None:
        if isinstance(data, str) and eio_sid not in sio._binary_packet and not accept(data):
            return
        await handle(eio_sid, data)

    sio.eio.on("message", checked)


# --- Socket.IO servers (public API only, and the adapter above) ------------------------------


def start_sio_server(
    sio: socketio.AsyncServer | None = None,
    *,
    name: str = "sio",
    host: str = DEFAULT_HOST,
    port: int = 0,
    ssl: Any = None,
    **server_kwargs: Any,
) -> Service:
    """Start a Socket.IO server (``socketio.AsyncServer`` on aiohttp) as a :class:`Service`.

    Pass your own ``sio = socketio.AsyncServer(async_mode="aiohttp")`` with its handlers, or
    leave it out for the demo server (see :func:`demo_sio_server`); keyword arguments such as
    ``ping_interval`` are then given to ``socketio.AsyncServer``. ``ssl`` (an
    ``ssl.SSLContext`` with the server's certificate) serves it over TLS, at ``https://``.

    The event log names the packets the server rejects: a malformed Socket.IO packet, and for
    the demo server a CONNECT to a namespace it does not have.
    """
    demo = sio is None
    if sio is None:
        check_options("start_sio_server", server_kwargs, _sio_options(), "socketio.AsyncServer()")
        sio = demo_sio_server(**server_kwargs)
    elif server_kwargs:
        raise TypeError(
            f"start_sio_server() got options {sorted(server_kwargs)} and a server: give options "
            "to socketio.AsyncServer(...) when you create it, or leave sio out for the demo server"
        )
    elif not isinstance(sio, socketio.AsyncServer):
        raise TypeError(f"sio must be a socketio.AsyncServer (the lab runs asyncio), got {sio!r}")
    elif sio.async_mode != "aiohttp":
        raise ValueError(
            f"this server uses async_mode={sio.async_mode!r}; the lab serves it with aiohttp: "
            "create it with socketio.AsyncServer(async_mode='aiohttp')"
        )
    server = sio
    _check_packets(server, lambda data: _accept(server, data, unknown_namespaces=demo))
    app = web.Application()
    server.attach(app)

    async def disconnect_everyone() -> None:
        await _shut_down(server)

    return start_http_server(
        app,
        name=name,
        host=host,
        port=port,
        kind="Socket.IO server",
        on_stop=disconnect_everyone,
        ssl=ssl,
    )


def rejected_packet(sio: socketio.AsyncServer, data: str) -> str | None:
    """Why ``sio`` cannot handle the Socket.IO packet ``data``, in words (or None if it can).

    python-socketio itself would fail on it with an exception that names a detail of its
    parser (``KeyError: 0``), or skip it in silence; this names the packet.
    """
    try:
        packet = _decode(sio, data)
    except Exception as error:  # the library's parser raises ValueError, KeyError...
        return f"a malformed Socket.IO packet {data[:40]!r} ({describe(error)})"
    if packet.packet_type not in _FROM_CLIENTS:
        return f"a malformed Socket.IO packet {data[:40]!r} (not a type a client sends)"
    if packet.packet_type in (sio_packet.EVENT, sio_packet.BINARY_EVENT) and not (
        isinstance(packet.data, list) and packet.data and isinstance(packet.data[0], str)
    ):
        return f"a malformed Socket.IO packet {data[:40]!r} (an event is a list: name, args)"
    return None


def _unknown_namespace(sio: socketio.AsyncServer, data: str) -> str | None:
    """The namespace of a CONNECT packet ``data`` that ``sio`` does not serve, if it is one."""
    packet = _decode(sio, data)
    namespace = packet.namespace or "/"
    if packet.packet_type != sio_packet.CONNECT or _serves(sio, namespace):
        return None
    return namespace


def _accept(sio: socketio.AsyncServer, data: str, *, unknown_namespaces: bool) -> bool:
    """Whether ``sio`` should handle the packet ``data``; log it as "rejected" if not (it is
    dropped), and with ``unknown_namespaces`` also a CONNECT to a namespace it does not serve
    (which it then refuses as usual)."""
    rejected = rejected_packet(sio, data)
    if rejected:
        _log_rejected(rejected)
        return False
    namespace = _unknown_namespace(sio, data) if unknown_namespaces else None
    if namespace:
        _log_rejected(f"a CONNECT to an unknown namespace {namespace!r}")
    return True


def demo_sio_server(**options: Any) -> socketio.AsyncServer:
    """A small Socket.IO server: ``echo`` acknowledges with its argument; ``chat`` is
    broadcast to every client as ``chat``. Connections and events are logged."""
    sio = socketio.AsyncServer(async_mode="aiohttp", **options)

    @sio.event
    async def connect(sid: str, environ: dict, auth: object) -> None:
        log("connect", auth=auth)

    @sio.event
    async def disconnect(sid: str, reason: str) -> None:
        # Not the reason: whether a client's goodbye arrives as "client disconnect" or
        # "transport close" is a race inside the client, so it would make the log flaky.
        log("disconnect")

    @sio.event
    async def echo(sid: str, data: object) -> object:
        log("echo", data=data)
        return data

    @sio.event
    async def chat(sid: str, data: object) -> None:
        log("chat", data=data)
        await sio.emit("chat", data)

    return sio
