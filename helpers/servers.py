"""Start real ``websockets``, Socket.IO and aiohttp servers in the lab with one call.

Each function returns a :class:`~helpers.lab.Service`. The servers are the libraries' own:
``websockets.asyncio.server.serve``, ``socketio.AsyncServer`` attached to an
``aiohttp.web.Application``. The lab only picks the port, logs, and cleans up.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

import engineio
import socketio
from aiohttp import web
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosedError

from .eventlog import log
from .lab import (
    DEFAULT_HOST,
    STOP_GRACE,
    Closer,
    Service,
    check_options,
    close_with_grace,
    start_service,
)

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


async def echo(websocket: ServerConnection) -> None:
    """The default handler: send every message back to the client that sent it."""
    log("connected", path=websocket.request.path)
    try:
        async for message in websocket:
            log("echo", message=message)
            await websocket.send(message)
    except ConnectionClosedError:
        pass  # the client vanished without a close frame: the code below says so (1006)
    log("disconnected", code=int(websocket.close_code or 1006))


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


def _sio_options() -> list[str]:
    names: set[str] = set()
    for cls in (socketio.AsyncServer, socketio.base_server.BaseServer, engineio.AsyncServer):
        names |= set(inspect.signature(cls.__init__).parameters)
    names |= set(inspect.signature(engineio.base_server.BaseServer.__init__).parameters)
    return sorted(names - {"self", "args", "kwargs", "async_mode"})


def start_sio_server(
    sio: socketio.AsyncServer | None = None,
    *,
    name: str = "sio",
    host: str = DEFAULT_HOST,
    port: int = 0,
    **server_kwargs: Any,
) -> Service:
    """Start a Socket.IO server (``socketio.AsyncServer`` on aiohttp) as a :class:`Service`.

    Pass your own ``sio = socketio.AsyncServer(async_mode="aiohttp")`` with its handlers, or
    leave it out for the demo server (see :func:`demo_sio_server`); keyword arguments such as
    ``ping_interval`` are then given to ``socketio.AsyncServer``.
    """
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
    app = web.Application()
    sio.attach(app)

    async def disconnect_everyone() -> None:
        # Like sio.eio.disconnect(), which would wait for ever for a long-polling client that
        # is gone to collect its close packet: give each client STOP_GRACE seconds to take it.
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

    return start_http_server(
        app, name=name, host=host, port=port, kind="Socket.IO server", on_stop=disconnect_everyone
    )


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
