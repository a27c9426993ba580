"""Lesson 01 exercises: an event emitter whose off() knows once(), and an "add" event served
with Socket.IO (an acknowledgement) and with plain websockets (JSON and a dispatch by hand)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import socketio
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.sync.client import ClientConnection, connect

from .._util import describe
from ..check import NotYet, Visitor, exercise, running_service, visiting
from ..lab import Service
from . import check

# (numbers sent, sum expected) for exercises 01.2 and 01.3
SUMS: list[tuple[list[float], float]] = [
    ([2, 3], 5),
    ([1, 2, 3, 4], 10),
    ([], 0),
    ([0.5, 0.25], 0.75),
]

# What the lesson's own emitter says when off() is given a listener that was added with once().
_LESSON_BUG = (
    "That is the bug of the lesson's emitter: once registered its wrapper, so the list holds "
    "the wrapper and not the function you gave."
)


def _attempt(what: str, action: Callable[[], Any], why: str = "") -> Any:
    """Run ``action`` (the learner's code); if it raises, say what was being tried."""
    try:
        return action()
    except Exception as error:
        raise NotYet(f"{what} raised {describe(error)}. {why}".rstrip()) from None


def _emitter_class(answer: object) -> type:
    """``answer`` if it is a class with on, once, off and emit; else NotYet saying why."""
    if not isinstance(answer, type):
        given = f"an instance of {type(answer).__name__}"
        if answer is None or isinstance(answer, int | float | str | list | dict):
            given = repr(answer)
        raise NotYet(
            "put the class itself in emitter_class (like EventEmitter, without parentheses), "
            f"not {given}."
        )
    missing = [name for name in ("on", "once", "off", "emit") if not hasattr(answer, name)]
    if missing:
        raise NotYet(
            f"{answer.__name__} has no {', '.join(missing)}: start from the lesson's "
            "EventEmitter, which has all four."
        )
    return answer


def _new(emitter_class: type) -> Any:
    return _attempt(f"{emitter_class.__name__}()", emitter_class)


@exercise(
    "01.1",
    nudge="Mend the lesson's emitter so that off also removes a listener that was added with "
    "once, when you give off the function you gave once. Think about what once really "
    "registers, and how off could recognise it. Put the class itself in the answer, not an "
    "instance.",
    hints=[
        "off looks for the very function it is given, but once registered another function, "
        "its wrapper. Give the wrapper a way to say which listener it wraps, and let off look "
        "for that too.",
        "Functions are objects, so they can carry attributes: in once, store the original "
        "listener on the wrapper before registering it. In off, remove the first registered "
        "function that either is the listener or carries it in that attribute (getattr with "
        "a default, since plain listeners have no such attribute). Then pass the class, with "
        "no parentheses.",
    ],
)
def off_removes_once_listeners(answer: object) -> str:
    emitter_class = _emitter_class(answer)
    heard: list[str] = []

    def first(*args: object) -> None:
        heard.append("first")

    def second(*args: object) -> None:
        heard.append("second")

    emitter = _new(emitter_class)
    _attempt("once('news', listener)", lambda: emitter.once("news", first))
    _attempt(
        "off('news', listener) for a listener added with once",
        lambda: emitter.off("news", first),
        _LESSON_BUG,
    )
    _attempt("emit('news')", lambda: emitter.emit("news"))
    if heard:
        raise NotYet(
            "after once('news', listener) and off('news', listener), emit('news') still called "
            "the listener: off must find the wrapper that once registered."
        )
    _expect_once_runs_once(_new(emitter_class), first, heard)
    _expect_off_removes_only_its_listener(_new(emitter_class), first, second, heard)
    return "off now removes a once listener by the function you gave it, as Node's does."


def _expect_once_runs_once(emitter: Any, listener: Callable[..., None], heard: list[str]) -> None:
    _attempt("once('news', listener)", lambda: emitter.once("news", listener))
    _attempt("emit('news')", lambda: emitter.emit("news"))
    _attempt("emit('news') a second time", lambda: emitter.emit("news"))
    if heard != ["first"]:
        raise NotYet(
            f"a once listener must run the first time only: after two emits it ran "
            f"{len(heard)} times. Does the wrapper still remove itself before calling it?"
        )
    heard.clear()


def _expect_off_removes_only_its_listener(
    emitter: Any, a: Callable[..., None], b: Callable[..., None], heard: list[str]
) -> None:
    _attempt("on('news', a)", lambda: emitter.on("news", a))
    _attempt("once('news', b)", lambda: emitter.once("news", b))
    _attempt("off('news', b)", lambda: emitter.off("news", b))
    _attempt("emit('news')", lambda: emitter.emit("news"))
    if heard != ["first"]:
        raise NotYet(
            "with on('news', a), once('news', b) and off('news', b), emit('news') should call "
            f"a only, but the listeners called were {heard or 'none'}: off must remove the "
            "one listener it is given and leave the others."
        )
    _attempt("off('news', a)", lambda: emitter.off("news", a))
    _attempt("emit('news') again", lambda: emitter.emit("news"))
    if heard != ["first"]:
        raise NotYet(
            "after off('news', a), emit('news') still called a: off must also remove plain "
            "listeners, added with on."
        )


def _not_a_service(answer: object, start: str) -> None:
    """Say what to do with a handler or a server object that was not started in the lab."""
    if isinstance(answer, socketio.AsyncServer):
        raise NotYet(
            f"this is the Socket.IO server object; start it in the lab with {start} and pass "
            "the Service that call returns."
        )
    if callable(answer) and not isinstance(answer, Service):
        raise NotYet(
            f"this is the handler itself; start it with {start} and pass the Service that call "
            "returns."
        )


def _named(server: Service, name: str) -> None:
    if server.name != name:
        raise NotYet(
            f"your server runs under the name {server.name!r}; start it with name={name!r}, as "
            "the exercise asks, so that helpers.status() and show_events() show it by that name."
        )


def _expect_sum(numbers: list[float], answer: object, expected: float) -> None:
    if answer is None:
        raise NotYet(
            f"'add' with {numbers} was acknowledged with nothing (None): the acknowledgement is "
            "what the listener returns. Does it return the sum? (An emit from the listener is "
            "a separate event, which call does not wait for.)"
        )
    if isinstance(answer, str):
        raise NotYet(
            f"'add' with {numbers} was acknowledged with the text {answer!r}; return the number "
            f"itself ({expected}): Socket.IO carries numbers as numbers."
        )
    if isinstance(answer, bool) or answer != expected:
        raise NotYet(f"'add' with {numbers} was acknowledged with {answer!r}; expected {expected}.")


@exercise(
    "01.2",
    nudge="Build a Socket.IO server with a listener for the add event that answers with the "
    "sum of the numbers it gets. Use the acknowledgement: what a listener returns goes back "
    "to the sender, the way the lesson's chat listener sent back delivered. Start it in the "
    "lab under the name adder.",
    hints=[
        "A Socket.IO listener is called with the client's sid first and the event's data "
        "second (here, the list of numbers); its return value is the acknowledgement that the "
        "client's call waits for. Nothing needs to be emitted.",
        "Create a socketio.AsyncServer with async_mode 'aiohttp', register an async def named "
        "add (or name the event with the on decorator) that takes sid and the numbers and "
        "returns their sum, then pass the server to helpers.start_sio_server with the name "
        "'adder'.",
    ],
)
def socketio_adder(answer: object) -> str:
    start = "helpers.start_sio_server(sio, name='adder')"
    _not_a_service(answer, start)
    server = running_service(answer, start, "Socket.IO server")
    _named(server, "adder")
    with visiting(server) as clients:
        visitor = Visitor("the check")
        clients.append(visitor)
        visitor.connect(server.url)
        for numbers, expected in SUMS:
            _expect_sum(numbers, visitor.call("add", numbers), expected)
    return "Your 'add' listener acknowledges every list of numbers with its sum."


def _closed(sent: str, closed: ConnectionClosed) -> NotYet:
    """Explain why the connection closed while the check was waiting for a reply."""
    code = closed.rcvd.code if closed.rcvd else None
    if code == 1011:
        why = (
            "with 1011 (internal error): the handler raised an exception, which ends its connection"
        )
    elif code == 1000:
        why = (
            "normally (1000): the handler returned. A handler must keep reading messages for "
            "as long as the connection lasts, in a loop"
        )
    else:
        why = (
            f"({closed}): answer every message instead, with an error reply for a type the "
            "handler does not know, and leave the connection open"
        )
    return NotYet(f"sent {sent} and the server closed the connection {why}.")


def _ask(websocket: ClientConnection, message: Mapping[str, object], silence: str) -> object:
    """Send ``message`` as JSON and return the decoded reply, or raise NotYet."""
    sent = json.dumps(message)
    try:
        websocket.send(sent)
        reply = websocket.recv(timeout=check.TIMEOUT)
    except TimeoutError:
        raise NotYet(
            f"sent {sent} and got no reply within {check.TIMEOUT:g} s: {silence}"
        ) from None
    except ConnectionClosed as closed:
        raise _closed(sent, closed) from None
    if reply == sent:
        raise NotYet(
            f"sent {sent} and got it back unchanged: this is an echo server. Pass your handler "
            "to helpers.start_ws_server."
        )
    if isinstance(reply, bytes):
        raise NotYet(
            f"sent {sent} and the reply came as bytes, a binary message ({reply!r}): send the "
            "JSON text itself, a str, which goes as a text message."
        )
    try:
        return json.loads(reply)
    except ValueError:
        raise NotYet(
            f"sent {sent} and got {reply!r}, which is not JSON: encode the reply to JSON text."
        ) from None


def _add_and_fail(websocket: ClientConnection) -> None:
    for numbers, expected in SUMS:
        message = {"type": "add", "numbers": numbers}
        reply = _ask(websocket, message, "does the handler answer every 'add' message?")
        wanted = {"type": "sum", "result": expected}
        if reply != wanted:
            raise NotYet(f"'add' with {numbers} got {reply!r}; expected {wanted}.")
    unknown = {"type": "multiply", "numbers": [2, 3]}
    reply = _ask(
        websocket,
        unknown,
        "a message of a type the handler does not know must get an answer too, an error.",
    )
    if not isinstance(reply, dict) or reply.get("type") != "error":
        raise NotYet(
            "a message of an unknown type ('multiply') should get an answer like "
            f"{{'type': 'error', 'message': ...}}, not {reply!r}."
        )


@exercise(
    "01.3",
    nudge="Write a websockets handler that does by hand what Socket.IO did for you: read each "
    "message, decode its JSON, choose what to do by its type as the lesson's chat handler "
    "did, and answer every message, with an error for a type it does not know. Start it in "
    "the lab under the name ws-adder.",
    hints=[
        "One coroutine runs per connection and reads messages for as long as the connection "
        "lasts. Each message is JSON text: decode it, look at its type, and always send one "
        "JSON text back, even for a type you do not know.",
        "Loop with async for over the connection; json.loads each message; for the type "
        "'add' send json.dumps of a dict with the type 'sum' and the result, and otherwise "
        "json.dumps of a dict with the type 'error' and a message. Start it with "
        "helpers.start_ws_server, named 'ws-adder'.",
    ],
)
def websockets_adder(answer: object) -> str:
    start = "helpers.start_ws_server(handler, name='ws-adder')"
    _not_a_service(answer, start)
    server = running_service(answer, start, "websockets")
    _named(server, "ws-adder")
    problem: NotYet | None = None
    with visiting(server):
        try:
            with connect(server.url, open_timeout=check.TIMEOUT, close_timeout=1) as websocket:
                try:
                    _add_and_fail(websocket)
                except NotYet as reason:  # leave the block normally: the client closes with 1000
                    problem = reason
        except (OSError, InvalidHandshake) as error:
            raise NotYet(f"could not talk to {server.url} ({describe(error)}).") from None
        if problem is not None:
            raise problem
    return "Your handler adds, and answers an unknown type with an error instead of crashing."
