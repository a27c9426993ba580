"""Lesson 03's exercises: the mistakes learners make, each with its own message."""

from __future__ import annotations

import base64
import hashlib
import logging

import pytest
from conftest import not_yet

import helpers
from helpers import wire

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
KEY = "x3JJHMbDL1EzLkh9GBhXDw=="
REQUEST = (
    "GET /chat HTTP/1.1\r\n"
    "Host: 127.0.0.1:8765\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    f"Sec-WebSocket-Key: {KEY}\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "\r\n"
)


pytestmark = pytest.mark.usefixtures("lab")


def read_head(sock) -> tuple[str, bytes]:
    """The lesson's read_head (its head as text): read up to the empty line, keep the rest."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("the connection closed before the head was complete")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head.decode("latin-1"), rest


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_03_1_wrong_answers() -> None:
    def accept(key: str) -> str:
        return b64(hashlib.sha1((key + GUID).encode()).digest())

    key = "dGhlIHNhbXBsZSBub25jZQ=="  # the notebook's variable, which a function may use by mistake
    known = {key: accept(key), KEY: accept(KEY)}

    not_yet("03.1", accept(KEY), "this is one value", "write a function accept_for(key)")
    not_yet("03.1", accept(KEY).encode(), "pass the function itself, accept_for, not b'")
    not_yet("03.1", lambda k: accept(k).encode(), "returned bytes", "decode it")
    not_yet("03.1", lambda k: b64(hashlib.sha1(k.encode()).digest()), "hashed the key alone")
    not_yet("03.1", lambda k: hashlib.sha1((k + GUID).encode()).hexdigest(), "the hexdigest")
    hexed = lambda k: b64(hashlib.sha1((k + GUID).encode()).hexdigest().encode())  # noqa: E731
    not_yet("03.1", hexed, "base64-encoded the hexdigest")
    not_yet("03.1", lambda k: b64((k + GUID).encode()), "without hashing it")
    decoded = lambda k: b64(hashlib.sha1(base64.b64decode(k) + GUID.encode()).digest())  # noqa: E731
    not_yet("03.1", decoded, "you decoded the key first")
    not_yet("03.1", lambda k: b64(hashlib.sha256((k + GUID).encode()).digest()), "SHA-256")
    not_yet("03.1", lambda k: b64(hashlib.sha1((GUID + k).encode()).digest()), "goes after")
    not_yet("03.1", lambda k: accept(key), "the answer for the lesson's key", "variable key")
    not_yet(
        "03.1",
        lambda k: known.get(k, "?"),
        "for the fresh key",
        "a real websockets server answered",
    )
    not_yet("03.1", lambda k: b64(hashlib.sha1(k.encode() + GUID).digest()), "raised TypeError")
    not_yet("03.1", lambda k: None, "returned None; return the accept value as a str")
    typo = GUID.replace("C5AB", "C5BA")
    not_yet(
        "03.1",
        lambda k: b64(hashlib.sha1((k + typo).encode()).digest()),
        "Is your GUID the lesson's",
    )


def test_03_2_wrong_answers() -> None:
    def without(line: str) -> bytes:
        return REQUEST.replace(line, "").encode()

    not_yet("03.2", REQUEST, "a socket sends bytes")
    not_yet("03.2", None, "put the request in a bytes value")
    not_yet("03.2", REQUEST.replace("\r\n", "\n").encode(), "not just \\n")
    not_yet("03.2", REQUEST.encode()[:-2], "ends with an empty line")
    not_yet("03.2", REQUEST.replace("/chat", "/").encode(), "'GET /chat HTTP/1.1', not b'GET /")
    not_yet("03.2", without("Host: 127.0.0.1:8765\r\n"), "requires a Host header")
    lesson_key = REQUEST.replace(KEY, "dGhlIHNhbXBsZSBub25jZQ==").encode()
    not_yet("03.2", lesson_key, "use the key 'x3JJHMbDL1EzLkh9GBhXDw=='")
    not_yet("03.2", without("Upgrade: websocket\r\n"), "426 Upgrade Required", "did not ask")
    version_8 = REQUEST.replace("Version: 13", "Version: 8").encode()
    not_yet("03.2", version_8, "400 Bad Request", "invalid Sec-WebSocket-Version header: 8")
    not_yet("03.2", without(f"Sec-WebSocket-Key: {KEY}\r\n"), "missing Sec-WebSocket-Key")
    no_colon = REQUEST.replace("Upgrade: websocket", "Upgrade websocket").encode()
    not_yet("03.2", no_colon, "without an answer", "invalid HTTP header line: Upgrade websocket")


def client(request: str = REQUEST, check: bool = True, give: str = "text"):
    """A first_push as learners write it: ``check`` the accept or not, and ``give`` back the
    frame's text, its payload, the frame, the head or the raw bytes."""

    def first_push(sock):
        sock.sendall(request.encode())
        head, rest = read_head(sock)
        lines = head.split("\r\n")
        headers = dict(line.split(": ", 1) for line in lines[1:])
        if check and headers.get("Sec-WebSocket-Accept") != wire.accept_key(KEY):
            return None if check == "quietly" else _refuse(lines[0])
        while True:
            try:
                frame, _ = wire.decode_frame(rest)
                break
            except wire.IncompleteFrame:
                rest += sock.recv(4096)
        answers = {"text": frame.text, "payload": frame.payload, "frame": frame}
        return answers.get(give, {"head": head, "raw": rest}.get(give))

    return first_push


def _refuse(status: str) -> None:
    raise ConnectionError(f"not a WebSocket server: {status}")


def test_03_3_wrong_answers() -> None:
    plain_get = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    not_yet("03.3", "hello from the check", "pass the function itself, first_push")
    not_yet("03.3", client(check=False), "and first_push returned 'trust me, I am", "must refuse")
    not_yet("03.3", client(check="quietly"), "returned None instead of raising")
    not_yet("03.3", client(give="payload"), "the payload as bytes", "return it as a str")
    not_yet("03.3", client(give="frame"), "returned the frame itself")
    not_yet("03.3", client(give="head"), "the server's handshake answer")
    not_yet("03.3", client(give="raw"), "the whole frame, header included")
    not_yet("03.3", lambda sock: "welcome", "returned 'welcome', but the server pushed 'hello")
    not_yet("03.3", client(REQUEST[:-2]), "timed out", "with an empty line at its end")
    not_yet("03.3", client(plain_get), "raised ConnectionError", "rejected (426 Upgrade Required)")
    garbage = REQUEST.replace("Upgrade: websocket", "Upgrade websocket")
    not_yet(
        "03.3",
        client(garbage),
        "the connection closed before the head",
        "garbage bytes, not an HTTP",
    )


def test_a_check_leaves_the_library_logs_as_they_were() -> None:
    helpers.library_logs("DEBUG", "websockets")
    try:
        not_yet("03.2", REQUEST.replace("Version: 13", "Version: 8").encode(), "400 Bad Request")
        assert logging.getLogger("websockets.server").level == logging.DEBUG
    finally:
        helpers.library_logs(False)
    not_yet("03.2", REQUEST.replace("Version: 13", "Version: 8").encode(), "400 Bad Request")
    assert logging.getLogger("websockets.server").level == logging.WARNING
