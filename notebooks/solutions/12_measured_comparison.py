"""Solutions to the "Your turn" exercises of lesson 12 (12_measured_comparison.ipynb).

Try the exercises first. Each block below can be pasted into the notebook's exercise cell;
this file also runs on its own: python notebooks/solutions/12_measured_comparison.py
"""

import json
import time

import websockets.asyncio.client

import helpers


# Exercise 12.1: one connection, and each round trip timed from its send to its answer.
async def round_trips(url, count):
    """The times, in seconds, of count round trips of "hello" on one connection to url."""
    times = []
    async with websockets.asyncio.client.connect(url, compression=None) as websocket:
        for _ in range(count):
            start = time.perf_counter()
            await websocket.send("hello")
            await websocket.recv()
            times.append(time.perf_counter() - start)
    return times


helpers.check("12.1", round_trips)


# Exercise 12.2: the Engine.IO message 4 + the Socket.IO EVENT 2 + compact JSON, in a masked frame.
def event_bytes(event, text):
    """Bytes on the wire for emit(event, text) from a Socket.IO client over WebSocket."""
    packet = "42" + json.dumps([event, text], separators=(",", ":"))
    payload = len(packet.encode())
    extended = 0 if payload < 126 else 2 if payload < 65536 else 8
    return 2 + extended + 4 + payload  # header, extended length, mask key, payload


helpers.check("12.2", event_bytes)
helpers.stop_all()
