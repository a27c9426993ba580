"""The benchmark's server process: every server the cases talk to, on one event loop.

    python -m helpers.bench.server

It prints one line of JSON with the ports, then serves until its standard input closes (the
harness keeps the pipe open while it measures). It runs in its own process so the clients
that measure it never share a CPU-bound loop or the GIL with it.

Every message a server starts on its own for the delay case (``notify n``, the ``notify``
event, ``POST /notify``) carries the server's :func:`time.perf_counter` when it was sent: that
clock is the system-wide monotonic one (Linux, macOS, Windows), so the client process can
subtract it from its own reading of the same clock.

- ``tcp``: the floor, a raw TCP echo with asyncio streams; ``tcp_push`` sends ``n`` 5-byte
  messages after reading the line ``n``; ``tcp_fanout`` says ``+`` to each new client, then
  sends one byte to every connected client whenever any of them sends one.
- ``ws``: a ``websockets`` echo (permessage-deflate offered); ``push n`` sends n messages. At
  the path ``/fanout`` it says ``ready``, and ``go`` broadcasts ``news`` to every connection
  there with ``websockets.broadcast``. ``notify n`` sends n time stamps, one every
  :data:`GAP` seconds or so (at random), each as soon as it is made.
- ``http``: aiohttp with Socket.IO at ``/socket.io/`` (events ``echo`` with ack, ``push`` n,
  ``go`` broadcasting ``news``, ``notify`` n sending n ``stamp`` events as above), plus plain
  HTTP: ``POST /echo``, ``GET /poll``, and ``POST /notify?n=`` that makes n stamps at random
  times and keeps them until a ``GET /news`` takes them (what a polling loop reads).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import sys
import time
from collections.abc import AsyncIterator
from typing import cast

import socketio
from aiohttp import web
from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed

from .arithmetic import MESSAGE

GAP = (0.005, 0.045)
"""The server waits a random time in this range (seconds) before each message it starts."""


async def stamps(count: int) -> AsyncIterator[float]:
    """``count`` time stamps, each made after a random gap: when the server "has news"."""
    for _ in range(count):
        await asyncio.sleep(random.uniform(*GAP))
        yield time.perf_counter()


async def tcp_echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """The floor: send every chunk back as it is."""
    try:
        while data := await reader.read(65536):
            writer.write(data)
    except ConnectionError:
        pass
    writer.close()


async def tcp_push(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Read a count, then write that many messages as fast as the socket takes them."""
    while line := await reader.readline():
        for _ in range(int(line)):
            writer.write(MESSAGE.encode())
        await writer.drain()
    writer.close()


def tcp_fanout() -> type[asyncio.Protocol]:
    """A raw TCP broadcast: any byte from any client is sent on to all of them."""
    clients: set[asyncio.Transport] = set()

    class Fanout(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            # A TCP server's transport reads and writes: a full Transport, not just the base.
            self.transport = cast(asyncio.Transport, transport)
            clients.add(self.transport)
            self.transport.write(b"+")  # "you will get broadcasts"

        def data_received(self, data: bytes) -> None:
            for client in clients:
                client.write(b"!")

        def connection_lost(self, exc: Exception | None) -> None:
            clients.discard(self.transport)

    return Fanout


async def ws_handler(websocket: ServerConnection, connected: set[ServerConnection]) -> None:
    """Echo, or push ``n`` messages on ``push n``; at ``/fanout``, broadcast on ``go``."""
    if websocket.request and websocket.request.path == "/fanout":
        connected.add(websocket)
        await websocket.send("ready")  # the client waits for this: it will get broadcasts
    try:
        async for message in websocket:
            if message == "go":
                broadcast(connected, "news")
            elif isinstance(message, str) and message.startswith("notify "):
                async for stamp in stamps(int(message[7:])):
                    await websocket.send(repr(stamp))
            elif isinstance(message, str) and message.startswith("push "):
                for _ in range(int(message[5:])):
                    await websocket.send(MESSAGE)
            else:
                await websocket.send(message)
    except ConnectionClosed:
        pass
    finally:
        connected.discard(websocket)


def http_app() -> web.Application:
    """Socket.IO (echo with ack, push, go) and plain HTTP polling on one aiohttp app."""
    sio = socketio.AsyncServer(async_mode="aiohttp", ping_interval=25)
    app = web.Application()
    sio.attach(app)

    @sio.event
    async def echo(sid: str, data: object) -> object:
        return data

    @sio.event
    async def push(sid: str, count: int) -> None:  # a burst: all the emits at once
        await asyncio.gather(*(sio.emit("news", MESSAGE, to=sid) for _ in range(count)))

    @sio.event
    async def go(sid: str) -> None:
        await sio.emit("news", MESSAGE)

    @sio.event
    async def notify(sid: str, count: int) -> None:
        async def send() -> None:
            async for stamp in stamps(count):
                await sio.emit("stamp", stamp, to=sid)

        sio.start_background_task(send)

    news: list[float] = []
    makers: set[asyncio.Task] = set()

    async def http_notify(request: web.Request) -> web.Response:
        async def make() -> None:
            async for stamp in stamps(int(request.query["n"])):
                news.append(stamp)

        task = asyncio.ensure_future(make())
        makers.add(task)
        task.add_done_callback(makers.discard)
        return web.Response(text="OK")

    async def http_news(request: web.Request) -> web.Response:
        taken = [repr(stamp) for stamp in news]
        news.clear()
        return web.Response(text="\n".join(taken))

    async def http_echo(request: web.Request) -> web.Response:
        return web.Response(body=await request.read())

    async def http_poll(request: web.Request) -> web.Response:
        return web.Response(text=MESSAGE)

    app.router.add_post("/echo", http_echo)
    app.router.add_get("/poll", http_poll)
    app.router.add_post("/notify", http_notify)
    app.router.add_get("/news", http_news)
    return app


async def main() -> None:
    host = "127.0.0.1"
    connected: set[ServerConnection] = set()
    tcp = await asyncio.start_server(tcp_echo, host, 0)
    push = await asyncio.start_server(tcp_push, host, 0)
    loop = asyncio.get_running_loop()
    fanout = await loop.create_server(tcp_fanout(), host, 0, backlog=2048)
    ws = await serve(lambda c: ws_handler(c, connected), host, 0, backlog=2048, max_queue=None)
    runner = web.AppRunner(http_app(), handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, 0, backlog=2048)
    await site.start()
    ports = {
        "tcp": tcp.sockets[0].getsockname()[1],
        "tcp_push": push.sockets[0].getsockname()[1],
        "tcp_fanout": fanout.sockets[0].getsockname()[1],
        "ws": ws.sockets[0].getsockname()[1],
        "http": runner.addresses[0][1],
    }
    print(json.dumps(ports), flush=True)
    await loop.run_in_executor(None, sys.stdin.read)  # until the harness closes the pipe
    ws.close()
    await runner.cleanup()


if __name__ == "__main__":
    logging.disable(logging.CRITICAL)  # the harness reads stdout; nothing may go to stderr
    asyncio.run(main())
