"""Does helpers.bench distort what it measures? The same figures from the bare libraries.

    python benchmarks/bare_libraries.py [--quick] [--rounds 3]

This script uses ``websockets`` and python-socketio directly, with nothing of ``helpers``: it
starts its own servers in a child process (this file with ``--serve``), then times, from this
process, a ``websockets`` echo of "hello" and a Socket.IO ``call("echo", "hello")`` over
WebSocket (median round trip of 2,000 after 200 to warm up), and 5,000 messages pushed to one
client (after a push of 10 to warm up, as the harness does). In the same run it alternates
with ``helpers.bench.run()`` (bare, harness, bare, ..., bare: ``--rounds`` harness runs
between ``rounds + 1`` bare ones), and prints the median of each side's figures: within 15%
of each other is the target. Alternating and taking medians matters: on a shared 2-core
machine one run can differ from the next by 20%.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import socketio
from aiohttp import web
from websockets.asyncio.client import connect
from websockets.asyncio.server import serve

COUNT, WARMUP, PUSH = 2000, 200, 5000


async def serve_forever() -> None:
    """The bare servers: a websockets echo (``push n`` pushes), a Socket.IO echo and push."""

    async def echo(websocket) -> None:
        async for message in websocket:
            if message.startswith("push "):
                for _ in range(int(message[5:])):
                    await websocket.send("hello")
            else:
                await websocket.send(message)

    sio = socketio.AsyncServer(async_mode="aiohttp")
    app = web.Application()
    sio.attach(app)
    sio.on("echo", lambda sid, data: data)

    @sio.on("push")
    async def push(sid: str, count: int) -> None:
        await asyncio.gather(*(sio.emit("news", "hello", to=sid) for _ in range(count)))

    async with serve(echo, "127.0.0.1", 0) as ws_server:
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        ports = [ws_server.sockets[0].getsockname()[1], runner.addresses[0][1]]
        print(json.dumps(ports), flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        await runner.cleanup()


async def measure(ws_port: int, sio_port: int, count: int, push: int) -> dict[str, float]:
    """Median round trips (µs) and push rates (messages/s) with the bare clients."""
    figures = {}
    async with connect(f"ws://127.0.0.1:{ws_port}/", compression=None, max_queue=None) as ws:
        samples = []
        for index in range(WARMUP + count):
            began = time.perf_counter()
            await ws.send("hello")
            await ws.recv()
            if index >= WARMUP:
                samples.append(time.perf_counter() - began)
        figures["websockets round trip µs"] = statistics.median(samples) * 1e6
        await ws.send("push 10")  # warm up, as the harness does
        for _ in range(10):
            await ws.recv()
        began = time.perf_counter()
        await ws.send(f"push {push}")
        for _ in range(push):
            await ws.recv()
        figures["websockets push msg/s"] = push / (time.perf_counter() - began)

    client = socketio.AsyncClient()
    received, wanted, done = [0], [10], asyncio.Event()

    @client.on("news")
    async def news(data: str) -> None:
        received[0] += 1
        if received[0] == wanted[0]:
            done.set()

    await client.connect(f"http://127.0.0.1:{sio_port}", transports=["websocket"])
    samples = []
    for index in range(WARMUP + count):
        began = time.perf_counter()
        await client.call("echo", "hello")
        if index >= WARMUP:
            samples.append(time.perf_counter() - began)
    figures["Socket.IO round trip µs"] = statistics.median(samples) * 1e6
    await client.emit("push", 10)  # warm up, as the harness does
    await done.wait()
    received[0], wanted[0] = 0, push
    done.clear()
    began = time.perf_counter()
    await client.emit("push", push)
    await done.wait()
    figures["Socket.IO push msg/s"] = push / (time.perf_counter() - began)
    await client.disconnect()
    return figures


def bare(count: int, push: int) -> dict[str, float]:
    """Start the bare servers in a child process, measure, stop them."""
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        ws_port, sio_port = json.loads(server.stdout.readline())
        return asyncio.run(measure(ws_port, sio_port, count, push))
    finally:
        server.communicate(timeout=10)


def harness(quick: bool) -> dict[str, float]:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from helpers import bench

    results = bench.run(quick=quick, progress=False)
    rtt, rate = results["rtt"], results["push"]
    return {
        "websockets round trip µs": rtt["websockets"]["median_us"],
        "websockets push msg/s": rate["websockets"]["per_s"],
        "Socket.IO round trip µs": rtt["socketio-ws"]["median_us"],
        "Socket.IO push msg/s": rate["socketio-ws"]["per_s"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small counts")
    parser.add_argument("--rounds", type=int, default=3, help="harness runs (default 3)")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.serve:
        asyncio.run(serve_forever())
        return
    count, push = (100, 200) if options.quick else (COUNT, PUSH)
    bare_runs, harness_runs = [bare(count, push)], []
    for _ in range(options.rounds):
        harness_runs.append(harness(options.quick))
        bare_runs.append(bare(count, push))
    print(f"{'figure':<26} {'bare':>8} {'helpers.bench':>14} {'difference':>10}   (medians)")
    for name in harness_runs[0]:
        plain = statistics.median(run[name] for run in bare_runs)
        value = statistics.median(run[name] for run in harness_runs)
        difference = value / plain - 1
        verdict = "ok" if abs(difference) <= 0.15 else "over 15%"
        print(f"{name:<26} {plain:8.0f} {value:14.0f} {difference:+10.1%}   {verdict}")
        each = ", ".join(f"{run[name]:.0f}" for run in bare_runs)
        print(
            f"{'':<26} bare: {each}; harness: "
            + ", ".join(f"{run[name]:.0f}" for run in harness_runs)
        )


if __name__ == "__main__":
    main()
