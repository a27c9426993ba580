"""Lesson 03 exercises: the WebSocket opening handshake by hand."""

from __future__ import annotations

import base64
import hashlib
import socket

from websockets.asyncio.server import ServerConnection

from .. import wire
from ..check import NotYet, exercise
from ..eventlog import events, log
from ..lab import stop
from ..servers import start_ws_server

#: The key of both exercises (the lesson itself uses RFC 6455's example key).
KEY = "x3JJHMbDL1EzLkh9GBhXDw=="
LESSON_KEY = "dGhlIHNhbXBsZSBub25jZQ=="  # the lesson's key (RFC 6455, section 1.3)
PATH = "/chat"
HOST = "127.0.0.1:8765"
WELCOME = "welcome to /chat: you shook hands by hand"
TIMEOUT = 3.0
CHECK_SERVER = "check-03.2"


def _b64_sha1(text: str) -> str:
    return base64.b64encode(hashlib.sha1(text.encode("ascii")).digest()).decode("ascii")


@exercise(
    "03.1",
    nudge=f"append the GUID 258EAFA5-E914-47DA-95CA-C5AB0DC85B11 to the key {KEY!r}, take "
    "hashlib.sha1(...).digest() of it (as bytes) and base64-encode that digest.",
)
def accept_for_key(answer: object) -> str:
    expected = wire.accept_key(KEY)
    if isinstance(answer, bytes):
        raise NotYet(f"that is bytes, {answer!r}; a header value is text: add .decode('ascii').")
    if not isinstance(answer, str):
        raise NotYet(f"put the Sec-WebSocket-Accept value in a string, not {answer!r}.")
    answer = answer.strip()
    if answer == expected:
        return f"Sec-WebSocket-Accept for {KEY!r} is {expected!r}, just like a server computes it."
    if answer == wire.accept_key(LESSON_KEY):
        raise NotYet(f"that is the accept value of the lesson's key; compute it for {KEY!r}.")
    if answer == _b64_sha1(KEY):
        raise NotYet("close: you hashed the key alone. Append the GUID to the key first.")
    sha = hashlib.sha1((KEY + wire.GUID).encode("ascii"))
    if answer in (sha.hexdigest(), base64.b64encode(sha.hexdigest().encode()).decode()):
        raise NotYet("use .digest() (20 raw bytes), not .hexdigest(), and base64-encode it.")
    if answer == base64.b64encode((KEY + wire.GUID).encode()).decode():
        raise NotYet("you base64-encoded key + GUID; take its SHA-1 digest first.")
    raise NotYet(f"{answer!r} is not it: base64(SHA-1(key + GUID)) is 28 characters ending in '='.")


@exercise(
    "03.2",
    nudge="build bytes like the lesson's handshake: a request line 'GET /chat HTTP/1.1', then "
    "Host, Upgrade, Connection, Sec-WebSocket-Key and Sec-WebSocket-Version lines, each ending "
    "in \\r\\n, and one empty line (\\r\\n) at the end.",
)
def handshake_request(request: object) -> str:
    if isinstance(request, str):
        raise NotYet("a socket sends bytes: end your text with .encode('ascii').")
    if not isinstance(request, bytes):
        raise NotYet(f"put the request in a bytes value (b'GET ...'), not {request!r}.")
    _check_shape(request)
    head, pushed = _send_to_a_real_server(request)
    lines = head.decode("latin-1").split("\r\n")
    if lines[0] != "HTTP/1.1 101 Switching Protocols":
        body = pushed.decode("utf-8", errors="replace").strip().splitlines()
        reason = f" It explains: {body[0]!r}" if body else ""
        raise NotYet(f"the server answered {lines[0]!r}, not 101.{reason}")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    if headers.get("Sec-WebSocket-Accept") != wire.accept_key(KEY):
        raise NotYet("the server answered 101, but its Sec-WebSocket-Accept is not for your key.")
    try:
        frame, _ = wire.decode_frame(pushed)
    except wire.WireError:
        return "The server answered 101 Switching Protocols with the Sec-WebSocket-Accept of 03.1."
    return (
        "A real websockets server answered 101 Switching Protocols with the "
        f"Sec-WebSocket-Accept of 03.1, then pushed {frame.text!r} without being asked."
    )


def _check_shape(request: bytes) -> None:
    """Problems a server would only answer with silence or a 400: say them plainly first."""
    if b"\n" in request and b"\r\n" not in request:
        raise NotYet("HTTP lines end in \\r\\n (carriage return, line feed), not just \\n.")
    if not request.endswith(b"\r\n\r\n"):
        raise NotYet(
            "the head of a request ends with an empty line: finish with \\r\\n\\r\\n "
            "(the last header's \\r\\n, then the empty line's)."
        )
    lines = request[:-4].split(b"\r\n")
    if lines[0] != f"GET {PATH} HTTP/1.1".encode():
        raise NotYet(f"the first line should be 'GET {PATH} HTTP/1.1', not {lines[0]!r}.")
    names = {line.split(b":", 1)[0].strip().lower(): line for line in lines[1:]}
    if b"host" not in names:
        raise NotYet(f"HTTP/1.1 requires a Host header: add 'Host: {HOST}'.")
    key = names.get(b"sec-websocket-key", b"").partition(b":")[2].strip()
    if key and key != KEY.encode():
        raise NotYet(f"use the key {KEY!r}, so that you can check the answer against 03.1.")


def _send_to_a_real_server(request: bytes) -> tuple[bytes, bytes]:
    """Send ``request`` to a fresh websockets server; return its answer's head and what followed.

    The server listens on a port of its own: websockets does not compare the Host header
    with its address, so the Host of the exercise works.
    """

    async def welcome(websocket: ServerConnection) -> None:
        log("open", path=websocket.request.path)
        await websocket.send(WELCOME)
        await websocket.wait_closed()

    server = start_ws_server(welcome, name=CHECK_SERVER)
    try:
        with socket.create_connection((server.host, server.port), timeout=TIMEOUT) as sock:
            sock.sendall(request)
            return _read_answer(sock)
    finally:
        stop(CHECK_SERVER)
        events(CHECK_SERVER, settle=0.05)  # the check's own events are not the lesson's


def _read_answer(sock: socket.socket) -> tuple[bytes, bytes]:
    """Read the head of the answer, then a little of what follows (a body or a frame)."""
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        while len(rest) < 2 + len(WELCOME):  # a 101's pushed frame, or an error's body
            chunk = sock.recv(4096)
            if not chunk:
                break
            rest += chunk
    except TimeoutError:
        if b"\r\n\r\n" not in data:
            raise NotYet(
                f"the server said nothing within {TIMEOUT:.0f} s: it is still waiting for the "
                "end of your request's head (an empty line, \\r\\n)."
            ) from None
    except OSError as error:
        raise NotYet(f"the connection failed: {type(error).__name__}: {error}.") from None
    if b"\r\n\r\n" not in data:
        raise NotYet("the server closed the connection without an answer.")
    return head, rest
