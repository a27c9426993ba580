"""Lesson 05 exercises: a handler that pushes, one that pushes and listens at once, and one that
ends a connection with the close code that says what was wrong.

Each check connects synchronous clients to the learner's running server, closes them whatever
happens, and takes the events their visit caused (see ``visiting``).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import re
import time
from collections.abc import Iterator

from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.sync.client import ClientConnection, connect

from .. import wire
from .._util import describe
from ..check import NotYet, exercise, running_service, visiting, wait_until
from ..eventlog import events
from ..lab import Service, run
from . import check

_SOON = 1.0  # seconds: how long a check waits for a tick, or for the next message of a burst


def _server(answer: object, name: str) -> Service:
    """``answer`` as the running websockets server ``name`` with a handler of the learner's."""
    start = f"helpers.start_ws_server(..., name={name!r})"
    if callable(answer) and not hasattr(answer, "url"):
        raise NotYet(
            f"this is the handler itself; start it with {start} and pass the Service that "
            "call returns."
        )
    server = running_service(answer, start, "websockets")
    if server.kind == "websockets echo server":
        raise NotYet(
            "this is the lab's echo server: start_ws_server was given no handler. Give it "
            f"yours first: {start.replace('...', 'your_handler')}."
        )
    return server


@contextlib.contextmanager
def _connect(server: Service) -> Iterator[ClientConnection]:
    try:
        websocket = connect(server.url, open_timeout=check.TIMEOUT, close_timeout=1)
    except (OSError, InvalidHandshake) as error:
        raise NotYet(f"could not connect to {server.url} ({describe(error)}).") from None
    with websocket:
        yield websocket


def _number(closed: ConnectionClosed) -> int:
    """The close code the client received (1006 when no close frame came)."""
    return closed.rcvd.code if closed.rcvd else 1006


def _code(closed: ConnectionClosed) -> str:
    """The close code the client received, with its name."""
    code = _number(closed)
    return f"{code} ({wire.CLOSE_CODES.get(code, 'no standard name')})"


def _closed_early(closed: ConnectionClosed, after: str) -> NotYet:
    """NotYet for a connection that ended ``after`` something, with what its code means."""
    why = {
        1000: " The handler returned.",
        1011: " The handler raised an exception.",
    }.get(_number(closed), "")
    return NotYet(f"the connection closed with {_code(closed)} {after}.{why}")


# --- 05.1 ----------------------------------------------------------------------------------

_COUNTDOWN = ["3", "2", "1", "liftoff"]


def _listen(websocket: ClientConnection, most: int) -> tuple[list[object], ConnectionClosed | None]:
    """Up to ``most`` messages, and how the connection closed (None: it is still open)."""
    received: list[object] = []
    try:
        while len(received) < most:
            received.append(websocket.recv(timeout=check.TIMEOUT if not received else _SOON))
    except ConnectionClosed as closed:
        return received, closed
    except TimeoutError:
        pass
    return received, None


def _countdown_problem(received: list[object], closed: ConnectionClosed | None) -> str | None:
    if not received and closed is None:
        return (
            f"nothing arrived within {check.TIMEOUT:g} s of connecting. A pushing handler sends "
            "right away: it does not wait for a message from the client."
        )
    if not received and closed is not None and _number(closed) == 1000:
        return (
            "the connection closed normally (1000) before any message arrived: the handler "
            "returned without sending. (A send that is not awaited never happens.)"
        )
    if any(isinstance(message, bytes) for message in received):
        return (
            f"received {received}: bytes go out as binary messages; send str, which goes as "
            "text messages."
        )
    if received != _COUNTDOWN and closed is not None and _number(closed) != 1000:
        return str(_closed_early(closed, f"after {received}"))
    if received != _COUNTDOWN:
        return f"received {received}, expected {_COUNTDOWN}."
    if closed is None:
        return (
            f"received {received} and then nothing for {_SOON:g} s, and the connection stayed "
            "open. Return from the handler after 'liftoff' to close it."
        )
    if _number(closed) != 1000:
        return f"the sequence is right, but the connection ended with {_code(closed)}, not 1000."
    return None


@exercise(
    "05.1",
    nudge="Write a handler that sends without being asked, as the lesson's ticker did, and then "
    "lets the connection end the way a handler ends it; start it in the lab under the name "
    "countdown.",
    hints=[
        "The handler sends its four messages one after the other as soon as it starts, and "
        "reads nothing. When a handler returns, the library closes the connection with 1000.",
        "An async def that awaits websocket.send for each of the four strings and then just "
        "ends; pass that function to helpers.start_ws_server, named countdown, and keep the "
        "Service it returns in countdown_server.",
    ],
)
def countdown(answer: object) -> str:
    server = _server(answer, "countdown")
    with visiting(server), _connect(server) as websocket:
        received, closed = _listen(websocket, most=len(_COUNTDOWN) + 1)
        problem = _countdown_problem(received, closed)
        if problem:
            raise NotYet(problem)
    return "Your server pushed 3, 2, 1, liftoff with no request, and closed with 1000."


# --- 05.2 ----------------------------------------------------------------------------------

_TICK = re.compile(r"tick \d+")


def _ticks(websocket: ClientConnection, count: int) -> list[object]:
    """``count`` tick messages, read before the client has said anything."""
    received: list[object] = []
    try:
        while len(received) < count:
            received.append(websocket.recv(timeout=_SOON))
            if not _TICK.fullmatch(str(received[-1])):
                raise NotYet(
                    f"before the client said anything it got {received}; expected 'tick 1', "
                    "'tick 2' and so on."
                )
    except TimeoutError:
        if not received:
            raise NotYet(
                f"connected and waited {_SOON:g} s: nothing arrived. The handler must push ticks "
                "from the moment the client connects, without waiting for a message."
            ) from None
        raise NotYet(
            f"got {received} and then nothing for {_SOON:g} s: the ticks stopped while the "
            "handler waited for something else, such as a message from the client. Ticking and "
            "listening must run side by side."
        ) from None
    except ConnectionClosed as closed:
        raise _closed_early(closed, f"after {received}") from None
    return received


def _reply(websocket: ClientConnection, text: str, expected: str) -> list[object]:
    """Send ``text``; read until ``expected`` comes back; return the ticks that came first."""
    ticks: list[object] = []
    deadline = time.monotonic() + _SOON
    try:
        websocket.send(text)
        while (message := websocket.recv(timeout=max(deadline - time.monotonic(), 0))) != expected:
            if not _TICK.fullmatch(str(message)):
                raise NotYet(f"sent {text!r} and got {message!r}; expected {expected!r}.")
            ticks.append(message)
    except TimeoutError:
        raise NotYet(
            f"sent {text!r} and in {_SOON:g} s got only {ticks}, no {expected!r}: the handler "
            "does not read what the client sends while it ticks."
        ) from None
    except ConnectionClosed as closed:
        raise _closed_early(closed, f"after the client sent {text!r}") from None
    return ticks


def _one_more_tick(websocket: ClientConnection, answer: str) -> None:
    try:
        message = websocket.recv(timeout=_SOON)
    except TimeoutError:
        raise NotYet(
            f"after {answer!r}, no tick came for {_SOON:g} s: the ticks stopped. The two jobs "
            "took turns instead of running side by side."
        ) from None
    except ConnectionClosed as closed:
        raise _closed_early(closed, f"after {answer!r}") from None
    if not _TICK.fullmatch(str(message)):
        raise NotYet(f"after {answer!r} the client got {message!r}, not the next tick.")


async def _running(service: str) -> list[asyncio.Task]:
    """The tasks that ``service`` has running on the lab's loop: its connection handlers and
    whatever tasks they started."""
    return [task for task in asyncio.all_tasks() if getattr(task, "service", None) == service]


def _ended_quietly(server: Service) -> None:
    """NotYet unless the handler ended, and without an error, once the client left."""
    if not wait_until(lambda: not run(_running(server.name))):
        raise NotYet(
            f"the ticks and the answers are right, but {check.TIMEOUT:g} s after the client left "
            "the handler was still running. When the connection is closed, both jobs must end."
        )
    gc.collect()  # a task that failed unnoticed is reported when it is collected
    errors = [e for e in events(server.name, settle=0.05) if e.name.split(".")[0] in _LIBRARIES]
    if errors:
        raise NotYet(
            f"the ticks and the answers are right, but when the client left the handler did not "
            f"end quietly: the server logged {errors[0]}. Once the connection is closed, the "
            "ticker's next send raises ConnectionClosed; catch it so that the handler ends "
            "without an error."
        )


_LIBRARIES = ("websockets", "asyncio")


@exercise(
    "05.2",
    nudge="Give the handler two jobs that run side by side, the way lesson 01's kitchen ran its "
    "listeners together: one pushes ticks like the lesson's ticker, the other answers each "
    "message as it comes; and let the handler end quietly when the client leaves.",
    hints=[
        "Write the two jobs as two small coroutines inside the handler, one that ticks for ever "
        "and one that answers messages for as long as the connection lasts, and run them "
        "together rather than one after the other.",
        "An asyncio.TaskGroup (or asyncio.gather) runs both. When the client leaves, the "
        "answering loop ends, and the ticker's next send raises ConnectionClosed: catch it "
        "around the group (a TaskGroup wraps it in an ExceptionGroup, so use except*).",
    ],
)
def clock(answer: object) -> str:
    server = _server(answer, "clock")
    with visiting(server):
        with _connect(server) as websocket:
            before = _ticks(websocket, 2)
            between = _reply(websocket, "hello", "got hello")
            _one_more_tick(websocket, "got hello")
        _ended_quietly(server)
    return (
        f"{', '.join(map(str, before + between))}, then 'got hello' and still more ticks: your "
        "handler pushes and listens at once, and ends quietly when the client leaves."
    )


# --- 05.3 ----------------------------------------------------------------------------------


def _exchange(websocket: ClientConnection, message: str | bytes) -> object:
    """Send ``message``; the reply, or the ConnectionClosed that came instead."""
    try:
        websocket.send(message)
        return websocket.recv(timeout=check.TIMEOUT)
    except TimeoutError:
        raise NotYet(
            f"sent {message!r} and got nothing back within {check.TIMEOUT:g} s, and the connection "
            "stayed open."
        ) from None
    except ConnectionClosed as closed:
        return closed


def _totals(websocket: ClientConnection, steps: list[tuple[str, str]], fresh: str = "") -> None:
    """Send each number of ``steps`` and expect its running total back."""
    sent: list[str] = []
    for number, total in steps:
        reply = _exchange(websocket, number)
        if isinstance(reply, ConnectionClosed):
            raise _closed_early(reply, f"when the client sent {number!r}")
        if reply == total:
            sent.append(number)
            continue
        after = f" after {sent}" if sent else f" as the first message of {fresh}" if fresh else ""
        said = f"sent {number!r}{after} and got {reply!r} back"
        if fresh and isinstance(reply, str) and reply.isdigit() and int(reply) > int(total):
            raise NotYet(
                f"{said}: the total carried over from the previous connection. Each connection "
                "needs its own total, one that lives as long as its handler does."
            )
        if sent and reply == "".join(sent) + number:
            raise NotYet(f"{said}: the messages were joined as text. Add them as numbers.")
        if reply == number:
            raise NotYet(f"{said}: the message itself. Answer with the total so far, {total!r}.")
        raise NotYet(f"{said}; expected the running total {total!r}.")


_RIGHT_CODE = {
    1007: "text that is not a whole number is payload this service cannot use: 1007 "
    "(invalid frame payload data)",
    1003: "a binary message is a kind of data this service does not take at all: 1003 "
    "(unsupported data), while 1007 is for text it cannot use",
}


def _closes(websocket: ClientConnection, message: str | bytes, code: int) -> None:
    """Send ``message``; the server must close the connection with ``code`` and a reason."""
    reply = _exchange(websocket, message)
    said = f"sent {message!r}"
    if not isinstance(reply, ConnectionClosed):
        bytes_too = " (int() accepts bytes too: look at the message's type)" if code == 1003 else ""
        raise NotYet(
            f"{said} and got {reply!r} back{bytes_too}, and the connection stayed open: end it "
            f"with {code} instead."
        )
    got = _number(reply)
    if got == code and not (reply.rcvd and reply.rcvd.reason):
        raise NotYet(
            f"{said} and the server closed with {code}, but gave no reason: the reason is the "
            "client's only clue to what it did wrong. Say it."
        )
    if got == 1011:
        raise NotYet(f"{said} and the server closed with {_code(reply)}: your handler raised "
                     f"an exception instead of closing with {code}.")  # fmt: skip
    if got != code:
        raise NotYet(f"{said} and the server closed with {_code(reply)}; {_RIGHT_CODE[code]}.")


@exercise(
    "05.3",
    nudge="Keep a total that belongs to one connection, the way each handler call in the lesson "
    "had its own path; answer each number with the total so far; and end a connection that "
    "sends the wrong thing with the close code that names the problem, as the lesson's "
    "moderator did for spam.",
    hints=[
        "A variable created inside the handler lives exactly as long as its connection. A text "
        "message arrives as a str and a binary one as bytes; int refuses text that is not a "
        "whole number with a ValueError.",
        "Look at the message's type first: for bytes, await websocket.close with 1003 and a "
        "reason, and return (reading a closed connection raises); for text, try int, and on "
        "ValueError close with 1007 and a reason and return; otherwise add it to the total and "
        "send the total back as a str.",
    ],
)
def tally(answer: object) -> str:
    server = _server(answer, "tally")
    with visiting(server):
        with _connect(server) as first:
            _totals(first, [("2", "2"), ("3", "5")])
        with _connect(server) as second:
            _totals(second, [("10", "10")], fresh="a new connection")
            _closes(second, "ten", 1007)
        with _connect(server) as third:
            _closes(third, b"7", 1003)
    return (
        "Each connection keeps its own total ('2', then '5'; a new one starts again at '10'), "
        "text that is not a number closes with 1007 and a binary message with 1003."
    )
