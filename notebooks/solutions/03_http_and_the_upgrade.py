"""Solutions to the "Your turn" exercises of lesson 03 (03_http_and_the_upgrade.ipynb).

Try the exercises first. Each block below can be pasted into the notebook's exercise cell;
this file also runs on its own: python notebooks/solutions/03_http_and_the_upgrade.py
"""

import base64
import hashlib

import helpers
from helpers import wire

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


# Exercise 03.1: Sec-WebSocket-Accept for any key: base64(SHA-1(key + GUID)), the key as sent.
def accept_for(key):
    digest = hashlib.sha1((key + GUID).encode("ascii")).digest()
    return base64.b64encode(digest).decode("ascii")


helpers.check("03.1", accept_for)

# Exercise 03.2: the opening handshake for ws://127.0.0.1:8765/chat, as bytes.
chat_handshake = (
    "GET /chat HTTP/1.1\r\n"
    "Host: 127.0.0.1:8765\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Key: x3JJHMbDL1EzLkh9GBhXDw==\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "\r\n"
).encode("ascii")

helpers.check("03.2", chat_handshake)


# Exercise 03.3: a client by hand. The two readers are the lesson's, from its cells.
def read_head(sock):
    """Read an HTTP head from sock; return it and the bytes that came after it."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("the connection closed before the head was complete")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def read_frame(sock, buffer):
    """Read one frame; return it, its raw bytes, and the bytes that came after it."""
    while True:
        try:
            frame, rest = wire.decode_frame(buffer)
        except wire.IncompleteFrame:
            chunk = sock.recv(4096)
            if not chunk:
                raise ConnectionError("the connection closed in the middle of a frame") from None
            buffer += chunk
        else:
            return frame, buffer[: len(buffer) - len(rest)], rest


def first_push(sock):
    sock.sendall(chat_handshake)  # 03.2's request: any path will do for this server
    head, rest = read_head(sock)
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    if not lines[0].startswith("HTTP/1.1 101 "):
        raise ConnectionError(f"the server did not switch protocols: {lines[0]}")
    if headers.get("Sec-WebSocket-Accept") != accept_for("x3JJHMbDL1EzLkh9GBhXDw=="):
        raise ConnectionError("wrong Sec-WebSocket-Accept: this is no WebSocket server")
    frame = read_frame(sock, rest)[0]  # the frame (then its raw bytes, and what followed)
    return frame.text


helpers.check("03.3", first_push)
