"""Lesson 03 exercises: Sec-WebSocket-Accept as a function, the opening handshake as bytes, and
a WebSocket client by hand that checks the server's answer before it trusts it."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable, Iterator

from websockets.asyncio.server import ServerConnection

from .. import wire
from .._util import describe
from ..check import NotYet, exercise, function_answer
from ..eventlog import events, log
from ..lab import stop
from ..servers import start_ws_server
from . import check

#: The key of exercise 03.2 (the lesson itself uses RFC 6455's example key).
KEY = "x3JJHMbDL1EzLkh9GBhXDw=="
LESSON_KEY = "dGhlIHNhbXBsZSBub25jZQ=="  # the lesson's key (RFC 6455, section 1.3)
PATH = "/chat"
HOST = "127.0.0.1:8765"
WELCOME = "welcome to /chat: you shook hands by hand"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _fresh_key() -> str:
    """A new Sec-WebSocket-Key, as a real client makes one: 16 random bytes, in base64."""
    return _b64(os.urandom(16))


def _pushing(text: str) -> Callable[[ServerConnection], Awaitable[None]]:
    """A handler that pushes ``text`` as soon as the connection opens, then waits."""

    async def push(websocket: ServerConnection) -> None:
        log("open", path=websocket.request.path if websocket.request else "")
        await websocket.send(text)
        await websocket.wait_closed()

    return push


@contextlib.contextmanager
def _real_server(name: str, text: str) -> Iterator[tuple[str, int, list[str]]]:
    """A fresh websockets server that pushes ``text``: yield its host, port and a list that
    holds, afterwards, what its log said about rejected requests (as the library's INFO
    messages say them). The server stops and its events are taken: they are not the lesson's.

    The server listens on a port of its own: websockets does not compare the Host header
    with its address, so any Host works.
    """
    library = logging.getLogger("websockets.server")
    level = library.level
    if not logging.NOTSET < level <= logging.INFO:  # to hear "connection rejected (400 ...)"
        library.setLevel(logging.INFO)
    said: list[str] = []
    try:
        server = start_ws_server(_pushing(text), name=name)
        yield server.host, server.port, said
    finally:
        stop(name)
        library.setLevel(level)
        taken = events(name, settle=0.05)
        said += [e.detail for e in taken if e.name == "rejected" or "rejected" in e.detail]


def _read_answer(sock: socket.socket, enough: int) -> bytes:
    """What the server sends: the head of its answer, then up to ``enough`` bytes after a 101
    (an error's body: all of it), or less if it goes quiet for check.TIMEOUT seconds."""
    data = b""
    with contextlib.suppress(TimeoutError):
        while _wants_more(data, enough):
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    return data


def _wants_more(data: bytes, enough: int) -> bool:
    head = _head(data)
    return head is None or not _switched(head) or len(data) - head.size < enough


def _head(data: bytes) -> wire.HttpHead | None:
    """The HTTP head at the front of ``data``; None while the blank line that ends it is missing."""
    try:
        return wire.parse_http_head(data)
    except wire.IncompleteHead:
        return None


def _switched(head: wire.HttpHead) -> bool:
    return head.start_line.startswith("HTTP/1.1 101 ")


def _exchange(request: bytes, name: str) -> tuple[bytes, list[str]]:
    """Send ``request`` to a fresh websockets server; return its answer and its log."""
    with (
        _real_server(name, WELCOME) as (host, port, said),
        socket.create_connection((host, port), timeout=check.TIMEOUT) as sock,
    ):
        sock.sendall(request)
        answer = _read_answer(sock, 2 + len(WELCOME))
    return answer, said


def _accept_mistake(key: str, got: str) -> str | None:
    """What a wrong accept value for ``key`` says about how it was made (None: nothing known)."""
    joined = (key + wire.GUID).encode("ascii")
    sha1 = hashlib.sha1(joined)
    known = {
        _b64(hashlib.sha1(key.encode("ascii")).digest()): "you hashed the key alone: append "
        "the GUID to the key first",
        sha1.hexdigest(): "that is the hexdigest (40 hex characters): take the digest (20 raw "
        "bytes) and base64-encode it",
        _b64(sha1.hexdigest().encode("ascii")): "you base64-encoded the hexdigest: encode the "
        "digest itself, the 20 raw bytes",
        _b64(joined): "you base64-encoded key + GUID without hashing it: take its SHA-1 "
        "digest first",
        _b64(hashlib.sha1(base64.b64decode(key) + wire.GUID.encode()).digest()): "you decoded "
        "the key first; the recipe uses the key exactly as the client sent it, as base64 text",
        _b64(hashlib.sha256(joined).digest()): "that is SHA-256; the recipe uses SHA-1",
        _b64(hashlib.sha1((wire.GUID + key).encode("ascii")).digest()): "the GUID goes after "
        "the key, not before it",
    }
    return known.get(got)


def _accept_of(accept_for: Callable[[str], object], key: str) -> str:
    """The learner's ``accept_for(key)``, as text; NotYet for anything else."""
    try:
        got = accept_for(key)
    except Exception as error:
        raise NotYet(f"accept_for({key!r}) raised {describe(error)}.") from None
    if isinstance(got, bytes):
        raise NotYet(
            f"accept_for({key!r}) returned bytes, {got!r}; a header value is text: decode it "
            "from ASCII."
        )
    if not isinstance(got, str):
        raise NotYet(f"accept_for({key!r}) returned {got!r}; return the accept value as a str.")
    return got


def _expect_accept(accept_for: Callable[[str], object], key: str) -> None:
    got = _accept_of(accept_for, key)
    expected = wire.accept_key(key)
    if got == expected:
        return
    said = f"accept_for({key!r}) returned {got!r}"
    if key != LESSON_KEY and got == wire.accept_key(LESSON_KEY):
        raise NotYet(
            f"{said}, the answer for the lesson's key: does your function use the key it is "
            "given, or the notebook's variable key?"
        )
    mistake = _accept_mistake(key, got)
    if mistake:
        raise NotYet(f"{said}: {mistake}.")
    raise NotYet(
        f"{said}, not base64(SHA-1(key + GUID)), {expected!r}. Is your GUID the lesson's, "
        "letter by letter?"
    )


def _accept_on_the_wire(accept_for: Callable[[str], object]) -> tuple[str, str]:
    """Shake hands with a real server with a fresh key; return the key and what it answered."""
    key = _fresh_key()
    host = "127.0.0.1"
    answer, _ = _exchange(_request(host, PATH, key), "check-03.1")
    head = _head(answer)
    accept = (head.header("Sec-WebSocket-Accept") if head else None) or None
    got = _accept_of(accept_for, key)
    if got != accept:
        raise NotYet(
            f"for the fresh key {key!r}, a real websockets server answered {accept!r}, but "
            f"accept_for returned {got!r}: compute the value from the key, for any key."
        )
    return key, accept


def _request(host: str, path: str, key: str) -> bytes:
    """The bytes of an opening handshake request with ``key`` (the checks' own)."""
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}", "Upgrade: websocket"]
    lines += ["Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


@exercise(
    "03.1",
    nudge="Write the server's half of the handshake as a function: from any client's key, "
    "compute the Sec-WebSocket-Accept value the way the lesson's cell did for the RFC's key, "
    "with the fixed GUID, SHA-1 and base64, by hand. The check tries it on other keys, and "
    "against a real server.",
    hints=[
        "The recipe takes the key exactly as it arrives, as text: append the GUID, hash the "
        "result with SHA-1, and base64-encode the 20 raw bytes of the hash. The answer is "
        "text too, 28 characters.",
        "Encode the key plus the GUID to bytes (ASCII), take hashlib.sha1 of that and its "
        "digest (not the hexdigest), base64.b64encode the digest, and decode the result to a "
        "str. Use the function's own argument, not the notebook's variable key.",
    ],
)
def accept_for_any_key(answer: object) -> str:
    if isinstance(answer, str):
        raise NotYet(
            f"this is one value, {answer!r}; write a function accept_for(key) that computes it "
            "for any key, and pass the function itself."
        )
    accept_for = function_answer(answer, "accept_for")
    for key in (LESSON_KEY, KEY):
        _expect_accept(accept_for, key)
    key, accept = _accept_on_the_wire(accept_for)
    return (
        f"accept_for gives the RFC's value for its key, and for the fresh key {key!r} the same "
        f"{accept!r} as a real websockets server answered."
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


# What a websockets server's refusal means, by its status code.
_REFUSALS = {
    400: "the request asks to switch, but one of its WebSocket headers is missing or wrong",
    426: "this address speaks only WebSocket, and the request did not ask to switch: it needs "
    "both 'Upgrade: websocket' and 'Connection: Upgrade'",
}


def _refused(status: str, body: bytes) -> NotYet:
    """Explain a server's answer that is not 101: its status line, then its body."""
    code = status.split(" ")[1] if status.count(" ") >= 2 else ""
    meaning = _REFUSALS.get(int(code) if code.isdigit() else 0, "")
    reason = body.decode("utf-8", errors="replace").strip().splitlines()
    told = f" It explains: {reason[0]!r}" if reason else ""
    return NotYet(
        f"the server answered {status!r}, not 101" + (f": {meaning}." if meaning else ".") + told
    )


@exercise(
    "03.2",
    nudge="Write the opening handshake for the exercise's address yourself, as bytes, as the "
    "lesson's handshake cell did for the pusher: the request line, the headers that ask to "
    "switch to WebSocket with the exercise's key, and the empty line that ends the head.",
    hints=[
        "It is an HTTP GET for the path /chat with the Host header, plus the four headers the "
        "lesson lists for the upgrade. Every line ends in carriage return and line feed, and "
        "an empty line ends the head.",
        "Build a str from the lines GET /chat HTTP/1.1, Host, Upgrade: websocket, Connection: "
        "Upgrade, Sec-WebSocket-Key with the exercise's key and Sec-WebSocket-Version: 13, "
        "each followed by \\r\\n, then one more \\r\\n; encode it to bytes (ASCII).",
    ],
)
def handshake_request(request: object) -> str:
    if isinstance(request, str):
        raise NotYet("a socket sends bytes: encode your text to bytes (ASCII).")
    if not isinstance(request, bytes):
        raise NotYet(f"put the request in a bytes value (b'GET ...'), not {request!r}.")
    _check_shape(request)
    answer, said = _exchange(request, "check-03.2")
    head = _head(answer)
    if head is None:
        logged = f" Its log says: {said[-1]}." if said else ""
        raise NotYet(
            "the server closed the connection without an answer: it could not read your bytes "
            f"as an HTTP request (is every header line 'Name: value'?).{logged}"
        )
    pushed = answer[head.size :]
    if not _switched(head):
        raise _refused(head.start_line, pushed)
    text = _pushed_text(pushed)
    return (
        "A real websockets server answered 101 Switching Protocols with the Sec-WebSocket-Accept "
        "of 03.1" + (f", then pushed {text!r} without being asked." if text else ".")
    )


def _pushed_text(data: bytes) -> str:
    """The text of the frame at the start of ``data`` ("" if it is not a whole text frame)."""
    try:
        return wire.decode_frame(data)[0].text
    except (wire.WireError, ValueError):
        return ""


def _raised(error: Exception, said: list[str]) -> NotYet:
    """Explain what the learner's client raised while talking to a real server."""
    logged = f" The server's log says: {'; '.join(said)}." if said else ""
    if isinstance(error, TimeoutError):
        return NotYet(
            f"first_push waited {check.TIMEOUT:g} s for the server and timed out: it answers only "
            "once the request's head is complete, with an empty line at its end, and then pushes "
            f"at once.{logged}"
        )
    return NotYet(
        f"first_push raised {type(error).__name__} ({error}) with a real websockets server, "
        f"which answers a good handshake with 101 and then pushes a greeting.{logged}"
    )


def _expect_greeting(got: object, greeting: str) -> None:
    """NotYet unless ``got`` is the text the server pushed, saying what it is instead."""
    if got == greeting:
        return
    said = f"first_push returned {_short(got)}"
    if isinstance(got, wire.Frame):
        raise NotYet("first_push returned the frame itself; return the text it carries.")
    if got == greeting.encode():
        raise NotYet(
            f"{said}: the payload as bytes. A text frame carries UTF-8: return it as a str."
        )
    if isinstance(got, bytes | str) and got[:9] in (b"HTTP/1.1 ", "HTTP/1.1 "):
        raise NotYet(
            f"{said}: the server's handshake answer. The greeting comes after it, in a frame."
        )
    if isinstance(got, bytes) and got.endswith(greeting.encode()):
        raise NotYet(
            f"{said}: the whole frame, header included. Decode it (the lesson's read_frame) and "
            "return its text."
        )
    raise NotYet(f"{said}, but the server pushed {greeting!r}.")


def _short(value: object, limit: int = 100) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def _push_from_real_server(first_push: Callable[[socket.socket], object], greeting: str) -> None:
    """Run the learner's client against a real websockets server that pushes ``greeting``."""
    got: object = None
    problem: Exception | None = None
    with _real_server("check-03.3", greeting) as (host, port, said):
        sock = socket.create_connection((host, port), timeout=check.TIMEOUT)
        try:
            got = first_push(sock)
        except Exception as error:
            problem = error
        finally:
            sock.close()
    if problem is not None:
        raise _raised(problem, said)
    _expect_greeting(got, greeting)


IMPOSTOR = "trust me, I am a WebSocket server"


def _key_sent(request: bytes) -> str:
    head = _head(request)
    return (head.header("Sec-WebSocket-Key") if head else None) or "none"


def _expect_refusal(first_push: Callable[[socket.socket], object]) -> None:
    """Run the learner's client against an impostor that answers 101 with a wrong accept."""
    wrong = wire.accept_key(_fresh_key())
    answer = (
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Accept: {wrong}\r\n\r\n"
    ).encode("ascii") + wire.encode_frame(IMPOSTOR)
    with socket.create_server(("127.0.0.1", 0)) as listener:
        sock = socket.create_connection(listener.getsockname(), timeout=check.TIMEOUT)
        impostor, _ = listener.accept()
        with sock, impostor:
            impostor.sendall(answer)  # it answers at once, whatever the request says
            try:
                got = first_push(sock)
            except Exception:
                return  # refused, as a client must
            impostor.settimeout(0.2)
            request = _read_answer(impostor, 0)
    did = "returned None instead of raising" if got is None else f"returned {_short(got)}"
    raise NotYet(
        f"a server answered 101 with Sec-WebSocket-Accept {wrong!r}, which is not the answer "
        f"to the key your client sent ({_key_sent(request)}), and first_push {did}. A client "
        "must refuse such a server, by raising an exception (ConnectionError, say): it did not "
        "prove that it read the key and speaks WebSocket."
    )


@exercise(
    "03.3",
    nudge="Write a WebSocket client by hand, as the lesson's handshake cells did, packed in "
    "one function: send the opening handshake on the socket it is given, check the server's "
    "answer the way a client must before trusting it, then return the text of the first "
    "message that the server pushes without being asked.",
    hints=[
        "Three steps: the request (your answer to 03.2 will do), the head of the answer (the "
        "lesson's read_head, keeping what came after it) and a frame (the lesson's "
        "read_frame). Between the second and the third, refuse anything but a 101 whose "
        "accept matches your key.",
        "Send the handshake with sendall; read_head the socket; the head's first line must "
        "start with HTTP/1.1 101 and its Sec-WebSocket-Accept must equal accept_for of the "
        "key you sent, else raise ConnectionError. Then read_frame from the socket and what "
        "read_head left over, and return the frame's text.",
    ],
)
def client_by_hand(answer: object) -> str:
    first_push = function_answer(answer, "first_push")
    greeting = f"hello from the check, {secrets.token_hex(4)}"
    _push_from_real_server(first_push, greeting)
    _expect_refusal(first_push)
    return (
        f"Your client shook hands with a real server and got {greeting!r} without asking, "
        "and it refused a server whose Sec-WebSocket-Accept was wrong, as a browser would."
    )
