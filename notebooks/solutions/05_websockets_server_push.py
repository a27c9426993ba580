"""Solutions to the "Your turn" exercises of lesson 05 (05_websockets_server_push.ipynb).

Try the exercises first. Each block below can be pasted into the notebook's exercise cell;
this file also runs on its own: python notebooks/solutions/05_websockets_server_push.py
"""

import asyncio

import websockets.exceptions

import helpers


# Exercise 05.1: push without waiting for a request; returning from the handler closes with 1000.
async def countdown(websocket):
    for message in ["3", "2", "1", "liftoff"]:
        await websocket.send(message)


countdown_server = helpers.start_ws_server(countdown, name="countdown")

helpers.check("05.1", countdown_server)


# Exercise 05.2: two jobs side by side, in a TaskGroup. When the client leaves, answer() ends
# and the ticker's next send raises ConnectionClosed, which the TaskGroup wraps in an
# ExceptionGroup: except* takes it out, and the handler ends without an error.
async def clock(websocket):
    async def tick():
        number = 0
        while True:
            number += 1
            await websocket.send(f"tick {number}")
            await asyncio.sleep(0.1)

    async def answer():
        async for message in websocket:
            await websocket.send(f"got {message}")

    try:
        async with asyncio.TaskGroup() as jobs:
            jobs.create_task(tick())
            jobs.create_task(answer())
    except* websockets.exceptions.ConnectionClosed:
        pass  # the client left: both jobs are over


clock_server = helpers.start_ws_server(clock, name="clock")

helpers.check("05.2", clock_server)


# Exercise 05.3: a running total per connection (a local variable of the handler), and the
# close code that names what was wrong: 1003 for a binary message, 1007 for text that is
# not a whole number.
async def tally(websocket):
    total = 0
    async for message in websocket:
        if isinstance(message, bytes):
            await websocket.close(1003, "send numbers as text")
            return
        try:
            total += int(message)
        except ValueError:
            await websocket.close(1007, "send whole numbers only")
            return
        await websocket.send(str(total))


tally_server = helpers.start_ws_server(tally, name="tally")

helpers.check("05.3", tally_server)
