"""Solutions to the "Your turn" exercises of lesson 03 (03_http_and_the_upgrade.ipynb).

Try the exercises first. Each block below can be pasted into the notebook's exercise cell;
this file also runs on its own: python notebooks/solutions/03_http_and_the_upgrade.py
"""

import base64
import hashlib

import helpers

# Exercise 03.1: Sec-WebSocket-Accept for the key x3JJHMbDL1EzLkh9GBhXDw==, by hand.
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
key = "x3JJHMbDL1EzLkh9GBhXDw=="
digest = hashlib.sha1((key + GUID).encode("ascii")).digest()
accept = base64.b64encode(digest).decode("ascii")

helpers.check("03.1", accept)

# Exercise 03.2: the opening handshake for ws://127.0.0.1:8765/chat, as bytes.
request = (
    "GET /chat HTTP/1.1\r\n"
    "Host: 127.0.0.1:8765\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Key: x3JJHMbDL1EzLkh9GBhXDw==\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "\r\n"
).encode("ascii")

helpers.check("03.2", request)
