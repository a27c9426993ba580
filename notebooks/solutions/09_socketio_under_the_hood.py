"""Solutions to the "Your turn" exercises of lesson 09 (09_socketio_under_the_hood.ipynb).

Try the exercises first. Each block below can be pasted into the notebook's exercise cell;
this file also runs on its own: python notebooks/solutions/09_socketio_under_the_hood.py
"""

import json

import helpers

# Exercise 09.1: Engine.IO message (4), EVENT (2), namespace, ack id, then the JSON data.
packet = '42/game,5["move",{"x":1,"y":2}]'

helpers.check("09.1", packet)


# Exercise 09.2: the open packet, CONNECT to "/", and the sid in the answer.
def join(websocket):
    """Open the Socket.IO session on websocket and return the Socket.IO sid."""
    websocket.recv(timeout=3)  # 0{"sid": ...}: the Engine.IO session
    websocket.send("40")
    answer = websocket.recv(timeout=3)  # 40{"sid": ...}: the Socket.IO session
    return json.loads(answer[2:])["sid"]


helpers.check("09.2", join)
