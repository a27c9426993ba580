"""Solutions to the "Your turn" exercises of lesson 00 (00_start_here.ipynb).

Try the exercises first. Each block below can be pasted into the notebook's exercise cell;
this file also runs on its own: python notebooks/solutions/00_start_here.py
"""

import websockets.sync.client

import helpers

echo = helpers.start_ws_server()

# Exercise 00.1: send "ping" to the echo server and keep the reply.
with websockets.sync.client.connect(echo.url) as websocket:
    websocket.send("ping")
    reply = websocket.recv()

helpers.check("00.1", reply)


# Exercise 00.2: a server that answers in capital letters.
async def shout(websocket):
    async for message in websocket:
        await websocket.send(message.upper())


shout_server = helpers.start_ws_server(shout, name="shout")

helpers.check("00.2", shout_server)
