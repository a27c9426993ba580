"""Lesson 01 exercises: an event emitter, and an "add" event with Socket.IO and websockets."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from typing import Any

import socketio
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from ..check import NotYet, exercise, running_service

TIMEOUT = 3  # seconds: every client call in these checks gives up after this long

# (numbers sent, sum expected) for exercises 01.2 and 01.3
SUMS = [([2, 3], 5), ([1, 2, 3, 4], 10), ([], 0), ([0.5, 0.25], 0.75)]


def _attempt(what: str, action: Callable[[], Any]) -> Any:
    """Run ``action``; if the learner's code raises, say what was being tried."""
    try:
        return action()
    except Exception as error:
        raise NotYet(f"{what} raised {type(error).__name__}: {error}") from None


@exercise(
    "01.1",
    nudge="in once(), keep the original function on the wrapper (for example "
    "wrapper.listener = listener), so that off() can recognise the wrapper by it. Then put the "
    "class itself in emitter_class: emitter_class = YourEmitter.",
)
def off_removes_once_listeners(emitter_class: object) -> str:
    if not isinstance(emitter_class, type):
        given = f"an instance of {type(emitter_class).__name__}"
        if emitter_class is None or isinstance(emitter_class, (int, float, str, list, dict)):
            given = repr(emitter_class)
        raise NotYet(
            "put the class itself in emitter_class (like EventEmitter, without parentheses), "
            f"not {given}."
        )
    missing = [name for name in ("on", "once", "off", "emit") if not hasattr(emitter_class, name)]
    if missing:
        raise NotYet(f"{emitter_class.__name__} has no {', '.join(missing)}(): start from ours.")

    def new() -> Any:
        return _attempt(f"{emitter_class.__name__}()", emitter_class)

    heard: list[str] = []

    def first(*args: object) -> None:
        heard.append("first")

    def second(*args: object) -> None:
        heard.append("second")

    emitter = new()
    _attempt("once('news', listener)", lambda: emitter.once("news", first))
    _attempt("off('news', listener) for a once() listener", lambda: emitter.off("news", first))
    _attempt("emit('news')", lambda: emitter.emit("news"))
    if heard:
        raise NotYet(
            "after once('news', listener) and off('news', listener), emit('news') still called "
            "the listener: off() must find the wrapper that once() registered."
        )

    emitter = new()
    emitter.once("news", first)
    _attempt("emit('news')", lambda: emitter.emit("news"))
    _attempt("emit('news') a second time", lambda: emitter.emit("news"))
    if heard != ["first"]:
        raise NotYet(
            f"a once() listener must run the first time only: after two emits it ran "
            f"{len(heard)} times."
        )

    heard.clear()
    emitter = new()
    _attempt("on('news', listener)", lambda: emitter.on("news", first))
    _attempt("once('news', another)", lambda: emitter.once("news", second))
    _attempt("off('news', another)", lambda: emitter.off("news", second))
    _attempt("emit('news')", lambda: emitter.emit("news"))
    _attempt("off('news', listener)", lambda: emitter.off("news", first))
    _attempt("emit('news') again", lambda: emitter.emit("news"))
    if heard != ["first"]:
        raise NotYet(
            "with on('news', a), once('news', b) and off('news', b), emit('news') should call "
            f"only a, and after off('news', a) nothing: the listeners called were {heard}."
        )
    return "off() now removes a once() listener by the function you gave it, as Node's does."


@exercise(
    "01.2",
    nudge="register a listener for 'add' on a socketio.AsyncServer(async_mode='aiohttp'), with "
    "@sio.event or @sio.on('add'); whatever it returns is the acknowledgement. Start it with "
    "helpers.start_sio_server(sio, name='adder').",
)
def socketio_adder(service: object) -> str:
    server = running_service(
        service, "helpers.start_sio_server(sio, name='adder')", "Socket.IO server"
    )
    client = socketio.SimpleClient()
    try:
        try:
            client.connect(server.url, wait_timeout=TIMEOUT)
        except Exception as error:
            raise NotYet(
                f"could not connect a Socket.IO client to {server.url} "
                f"({type(error).__name__}: {error}). Does your connect listener accept it?"
            ) from None
        for numbers, expected in SUMS:
            try:
                answer = client.call("add", numbers, timeout=TIMEOUT)
            except socketio.exceptions.TimeoutError:
                raise NotYet(
                    f"sent the event 'add' with {numbers} and got no acknowledgement within "
                    f"{TIMEOUT} s. Is there a listener for 'add', and does it return the sum?"
                ) from None
            except Exception as error:
                raise NotYet(
                    f"sending 'add' with {numbers} failed ({type(error).__name__}: {error})."
                ) from None
            if isinstance(answer, bool) or answer != expected:
                raise NotYet(
                    f"'add' with {numbers} was acknowledged with {answer!r}; expected {expected}."
                )
    finally:
        with contextlib.suppress(Exception):  # the check is over: a failed goodbye changes nothing
            client.disconnect()
    return "Your 'add' listener acknowledges every list of numbers with its sum."


def _ask(websocket: Any, message: dict[str, object]) -> object:
    """Send ``message`` as JSON and return the decoded reply, or raise NotYet."""
    sent = json.dumps(message)
    try:
        websocket.send(sent)
        reply = websocket.recv(timeout=TIMEOUT)
    except TimeoutError:
        raise NotYet(f"sent {sent} and got no reply within {TIMEOUT} s.") from None
    except ConnectionClosed as closed:
        raise NotYet(
            f"sent {sent} and the server closed the connection ({closed}). "
            "Did the handler raise? Look at helpers.show_events()."
        ) from None
    try:
        return json.loads(reply)
    except (TypeError, ValueError):
        raise NotYet(f"sent {sent} and got {reply!r}, which is not JSON: use json.dumps.") from None


def _add_and_fail(websocket: Any) -> None:
    for numbers, expected in SUMS:
        reply = _ask(websocket, {"type": "add", "numbers": numbers})
        wanted = {"type": "sum", "result": expected}
        if not isinstance(reply, dict) or reply != wanted:
            raise NotYet(f"'add' with {numbers} got {reply!r}; expected {wanted}.")
    reply = _ask(websocket, {"type": "multiply", "numbers": [2, 3]})
    if not isinstance(reply, dict) or reply.get("type") != "error":
        raise NotYet(
            "a message of an unknown type ('multiply') should get an answer like "
            f"{{'type': 'error', 'message': ...}}, not {reply!r}."
        )


@exercise(
    "01.3",
    nudge="in the handler, read with 'async for message in websocket:', decode with json.loads, "
    "choose on the 'type' with if/else, and send json.dumps(...) back in both branches. Start it "
    "with helpers.start_ws_server(handler, name='ws-adder').",
)
def websockets_adder(service: object) -> str:
    server = running_service(
        service, "helpers.start_ws_server(handler, name='ws-adder')", "websockets"
    )
    problem = None
    try:
        with connect(server.url, open_timeout=TIMEOUT, close_timeout=1) as websocket:
            try:
                _add_and_fail(websocket)
            except NotYet as reason:  # leave the block normally: the client closes with 1000
                problem = reason
    except Exception as error:
        raise NotYet(f"talking to {server.url} failed ({type(error).__name__}: {error}).") from None
    if problem is not None:
        raise problem
    return "Your handler adds, and answers an unknown type with an error instead of crashing."
