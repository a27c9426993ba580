"""How long starting a server from a cell takes: the lab against the bare libraries.

    python benchmarks/lab_startup.py [--rounds 200]

The bare figures time the libraries' own calls on a running loop (``websockets`` serve, and
aiohttp's runner and site for Socket.IO). The lab figures time ``start_ws_server`` and
``start_sio_server`` from ordinary code, as a cell calls them: a first start under a new name,
and a restart under the same name (which stops the running server first).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable

import socketio
from aiohttp import web
from websockets.asyncio.server import serve

import helpers


def milliseconds(samples: list[float]) -> str:
    ordered = sorted(samples)
    p90 = ordered[int(0.9 * (len(ordered) - 1))]
    return f"median {statistics.median(ordered) * 1000:6.2f} ms   p90 {p90 * 1000:6.2f} ms"


async def noop(websocket) -> None:
    await websocket.wait_closed()


async def bare_ws() -> Callable[[], Awaitable[None]]:
    server = await serve(noop, "127.0.0.1", 0)

    async def close() -> None:
        server.close()
        await server.wait_closed()

    return close


async def bare_sio() -> Callable[[], Awaitable[None]]:
    sio = socketio.AsyncServer(async_mode="aiohttp")
    app = web.Application()
    sio.attach(app)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner.cleanup


async def time_bare(start: Callable[[], Awaitable[Callable[[], Awaitable[None]]]], rounds: int):
    samples = []
    for _ in range(rounds):
        began = time.perf_counter()
        close = await start()
        samples.append(time.perf_counter() - began)
        await close()
    return samples


def time_lab(start: Callable[[int], object], rounds: int) -> list[float]:
    samples = []
    for index in range(rounds):
        began = time.perf_counter()
        start(index)
        samples.append(time.perf_counter() - began)
    helpers.stop_all()
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    rounds = parser.parse_args().rounds
    ws, sio = helpers.start_ws_server, helpers.start_sio_server
    results = {
        "bare websockets serve()": asyncio.run(time_bare(bare_ws, rounds)),
        "bare Socket.IO on aiohttp": asyncio.run(time_bare(bare_sio, rounds)),
        "start_ws_server, new name": time_lab(lambda i: ws(name=f"ws{i}"), rounds),
        "start_ws_server, restart": time_lab(lambda i: ws(), rounds),
        "start_sio_server, new name": time_lab(lambda i: sio(name=f"sio{i}"), rounds),
        "start_sio_server, restart": time_lab(lambda i: sio(), rounds),
    }
    print(f"{rounds} rounds each")
    for label, samples in results.items():
        print(f"{label:<28} {milliseconds(samples)}")


if __name__ == "__main__":
    main()
