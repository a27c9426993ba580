"""Lesson 01's exercises: the mistakes learners make, each with its own message."""

from __future__ import annotations

import json

import pytest
import socketio
from conftest import not_yet

import helpers

from .conftest import TIMEOUT


class LessonEmitter:
    """The lesson's emitter as it stands: once() registers a wrapper that off() cannot find."""

    def __init__(self):
        self.listeners = {}

    def on(self, event, listener):
        self.listeners.setdefault(event, []).append(listener)

    def off(self, event, listener):
        self.listeners[event].remove(listener)

    def once(self, event, listener):
        def wrapper(*args):
            self.off(event, wrapper)
            return listener(*args)

        self.on(event, wrapper)

    def emit(self, event, *args):
        called = list(self.listeners.get(event, []))
        for listener in called:
            listener(*args)
        return len(called)


class Tagged(LessonEmitter):
    """once() tags the wrapper with the listener; off() finds either."""

    def once(self, event, listener):
        def wrapper(*args):
            self.off(event, wrapper)
            return listener(*args)

        wrapper.listener = listener
        self.on(event, wrapper)

    def off(self, event, listener):
        for registered in self.listeners.get(event, []):
            if registered is listener or getattr(registered, "listener", None) is listener:
                self.listeners[event].remove(registered)
                return


def test_01_1_wrong_answers() -> None:
    class NeverForgets(Tagged):  # once() forgot to remove itself: the listener runs every time
        def once(self, event, listener):
            listener.listener = listener
            self.on(event, listener)

    class ClearsAll(Tagged):  # off() empties the whole event
        def off(self, event, listener):
            self.listeners[event] = []

    class OnlyOnce(LessonEmitter):  # off() only knows the wrappers of once: a plain one stays
        def __init__(self):
            super().__init__()
            self.wrappers = {}

        def once(self, event, listener):
            def wrapper(*args):
                self.off(event, listener)
                return listener(*args)

            self.wrappers[listener] = wrapper
            self.on(event, wrapper)

        def off(self, event, listener):
            wrapper = self.wrappers.pop(listener, None)
            if wrapper in self.listeners.get(event, []):
                self.listeners[event].remove(wrapper)

    class NoDefault(Tagged):  # off() reads the attribute that plain listeners do not have
        def off(self, event, listener):
            for registered in self.listeners.get(event, []):
                if registered is listener or registered.listener is listener:
                    self.listeners[event].remove(registered)
                    return

    class Quiet(LessonEmitter):  # off() no longer raises, but still cannot find the wrapper
        def off(self, event, listener):
            if listener in self.listeners.get(event, []):
                self.listeners[event].remove(listener)

    class NeedsArguments(Tagged):
        def __init__(self, name):
            super().__init__()

    not_yet("01.1", Tagged(), "not an instance of Tagged")
    not_yet("01.1", None, "not None")
    not_yet("01.1", dict, "dict has no on, once, off, emit")
    not_yet("01.1", LessonEmitter, "raised ValueError", "the bug of the lesson's emitter")
    not_yet("01.1", Quiet, "emit('news') still called the listener")
    not_yet("01.1", NeverForgets, "ran 2 times")
    not_yet("01.1", ClearsAll, "the listeners called were none")
    not_yet("01.1", OnlyOnce, "off must also remove plain listeners")
    not_yet("01.1", NoDefault, "off('news', b) raised AttributeError")
    not_yet("01.1", NeedsArguments, "NeedsArguments() raised TypeError")


def _adder(name: str = "adder", **listeners) -> helpers.Service:
    sio = socketio.AsyncServer(async_mode="aiohttp")
    for event, listener in listeners.items():
        sio.on(event, listener)
    return helpers.start_sio_server(sio, name=name)


@pytest.mark.usefixtures("lab")
def test_01_2_wrong_answers() -> None:
    async def add(sid, numbers):
        return sum(numbers)

    sio = socketio.AsyncServer(async_mode="aiohttp")
    sio.on("add", add)
    not_yet("01.2", sio, "this is the Socket.IO server object")
    not_yet("01.2", _adder("sio", add=add), "runs under the name 'sio'")
    not_yet("01.2", helpers.start_ws_server(name="adder"), "this service is a websockets")

    emitted_sio = socketio.AsyncServer(async_mode="aiohttp")

    async def add_by_emit(sid, numbers):
        await emitted_sio.emit("sum", sum(numbers), to=sid)

    emitted_sio.on("add", add_by_emit)
    emitted = helpers.start_sio_server(emitted_sio, name="adder")
    not_yet("01.2", emitted, "acknowledged with nothing (None)")

    async def add_text(sid, numbers):
        return str(sum(numbers))

    not_yet("01.2", _adder(add=add_text), "acknowledged with the text '5'")

    async def add_two(sid, numbers):
        return numbers[0] + numbers[1]

    not_yet("01.2", _adder(add=add_two), "with [1, 2, 3, 4] was acknowledged with 3; expected 10")

    async def add_without_sid(numbers):
        return sum(numbers)

    not_yet(
        "01.2",
        _adder(add=add_without_sid),
        f"no acknowledgement within {TIMEOUT:g} s",
        "The server logged: asyncio:",
        "TypeError",
    )

    async def refuse(sid, environ, auth):
        return False

    not_yet("01.2", _adder(connect=refuse), "could not connect")
    stopped = _adder(add=add)
    stopped.stop()
    not_yet("01.2", stopped, "pass the running Service")


@pytest.mark.usefixtures("lab")
def test_01_3_wrong_answers() -> None:
    async def sends_a_dict(websocket):
        async for message in websocket:
            event = json.loads(message)
            await websocket.send({"type": "sum", "result": sum(event["numbers"])})

    async def answers_once(websocket):
        event = json.loads(await websocket.recv())
        await websocket.send(json.dumps({"type": "sum", "result": sum(event["numbers"])}))

    async def ignores_unknown(websocket):
        async for message in websocket:
            event = json.loads(message)
            if event["type"] == "add":
                await websocket.send(json.dumps({"type": "sum", "result": sum(event["numbers"])}))

    async def sends_bytes(websocket):
        async for message in websocket:
            event = json.loads(message)
            reply = {"type": "sum", "result": sum(event["numbers"])}
            await websocket.send(json.dumps(reply).encode())

    async def sends_the_number(websocket):
        async for message in websocket:
            await websocket.send(str(sum(json.loads(message)["numbers"])))

    async def sums_everything(websocket):
        async for message in websocket:
            event = json.loads(message)
            await websocket.send(json.dumps({"type": "sum", "result": sum(event["numbers"])}))

    async def closes_on_unknown(websocket):
        async for message in websocket:
            event = json.loads(message)
            if event["type"] != "add":
                await websocket.close(1003, "unknown type")
                return
            await websocket.send(json.dumps({"type": "sum", "result": sum(event["numbers"])}))

    async def plain_text(websocket):
        async for _ in websocket:
            await websocket.send("five")

    start = helpers.start_ws_server
    not_yet("01.3", sends_a_dict, "this is the handler itself")
    not_yet("01.3", start(sends_a_dict, name="ws"), "runs under the name 'ws'")
    not_yet("01.3", _adder("ws-adder"), "this service is a Socket.IO server")
    not_yet("01.3", start(name="ws-adder"), "got it back unchanged: this is an echo server")
    not_yet(
        "01.3",
        start(sends_a_dict, name="ws-adder"),
        "closed the connection with 1011",
        "The server logged: websockets.server: connection handler failed (TypeError",
    )
    not_yet("01.3", start(answers_once, name="ws-adder"), "normally (1000): the handler returned")
    not_yet("01.3", start(ignores_unknown, name="ws-adder"), "must get an answer too, an error")
    not_yet("01.3", start(sends_bytes, name="ws-adder"), "the reply came as bytes")
    not_yet("01.3", start(sends_the_number, name="ws-adder"), "got 5; expected")
    not_yet(
        "01.3",
        start(sums_everything, name="ws-adder"),
        "unknown type ('multiply') should get an answer like",
    )
    not_yet("01.3", start(closes_on_unknown, name="ws-adder"), "received 1003", "leave the")
    not_yet("01.3", start(plain_text, name="ws-adder"), "'five', which is not JSON")
    refusing = start(sums_everything, name="ws-adder", origins=["https://example.com"])
    not_yet("01.3", refusing, "could not talk to", "InvalidStatus")
