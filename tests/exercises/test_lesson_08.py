"""Lesson 08's exercises: the mistakes learners make, each with its own message."""

from __future__ import annotations

import pytest
import socketio
from conftest import not_yet

import helpers

from .conftest import TIMEOUT


def rooms_server(*, to_room: bool = True, skip_sender: bool = True, await_join: bool = True):
    """A server for 08.1 with one of the usual mistakes, started as 'rooms'."""
    sio = socketio.AsyncServer(async_mode="aiohttp")

    @sio.event
    async def join(sid, room):
        if await_join:
            await sio.enter_room(sid, room)

    @sio.event
    async def say(sid, data):
        where = {"to": data["room"]} if to_room else {}
        await sio.emit("said", data["text"], skip_sid=sid if skip_sender else None, **where)

    return sio


@pytest.mark.usefixtures("lab")
def test_08_1_wrong_answers() -> None:
    sio = rooms_server()
    not_yet("08.1", sio, "this is the socketio.AsyncServer itself")
    stopped = helpers.start_sio_server(sio, name="rooms")
    stopped.stop()
    not_yet("08.1", stopped, "pass the running Service")
    not_yet("08.1", helpers.start_ws_server(name="rooms"), "this service is a websockets")
    everyone = helpers.start_sio_server(rooms_server(to_room=False), name="rooms")
    not_yet("08.1", everyone, "cy, alone in 'garden', got [['said', 'hello, lobby']")
    not_yet(
        "08.1",
        helpers.start_sio_server(rooms_server(skip_sender=False), name="rooms"),
        "ada, bob and cy got their own text back",
    )


@pytest.mark.usefixtures("lab")
@pytest.mark.filterwarnings("ignore:coroutine .* was never awaited:RuntimeWarning")
def test_08_1_a_room_never_entered() -> None:
    forgetful = helpers.start_sio_server(rooms_server(await_join=False), name="rooms")
    not_yet(
        "08.1", forgetful, f"bob got nothing within {TIMEOUT:g} s", "without await they do nothing"
    )


@pytest.mark.usefixtures("lab")
def test_08_1_the_wrong_event() -> None:
    sio = socketio.AsyncServer(async_mode="aiohttp")

    @sio.event
    async def join(sid, room):
        await sio.enter_room(sid, room)

    @sio.event
    async def say(sid, data):
        await sio.emit("message", data, to=data["room"], skip_sid=sid)

    not_yet(
        "08.1",
        helpers.start_sio_server(sio, name="rooms"),
        "bob got [['message', {'room': 'lobby', 'text': 'hello, lobby'}]], expected "
        "[['said', 'hello, lobby']]",
    )


class Online(socketio.AsyncNamespace):
    """08.2's answer, to be spoiled by the subclasses below."""

    def __init__(self, namespace):
        super().__init__(namespace)
        self.names = {}

    async def on_connect(self, sid, environ, auth):
        self.names[sid] = auth["name"]
        await self.emit("online", sorted(self.names.values()))

    async def on_disconnect(self, sid, reason):
        self.names.pop(sid, None)
        await self.emit("online", sorted(self.names.values()))


def test_08_2_not_the_class() -> None:
    not_yet("08.2", Online("/chat"), "this is an instance of your class")
    not_yet("08.2", {"online": []}, "put a class in online_class")

    class Bare(socketio.AsyncNamespace):
        def __init__(self):
            super().__init__("/chat")

    not_yet("08.2", Bare, "Bare('/chat') raised TypeError", "an __init__ of its own")


@pytest.mark.usefixtures("lab")
def test_08_2_a_list_for_the_whole_class() -> None:
    class SharedOnline(Online):
        names = {}  # noqa: RUF012 - the mistake under test: one dict for every instance

        def __init__(self, namespace):
            socketio.AsyncNamespace.__init__(self, namespace)

    not_yet("08.2", SharedOnline, "cy connected to /team", "they share one list")


@pytest.mark.usefixtures("lab")
def test_08_2_never_forgets() -> None:
    class Forgetful(Online):
        async def on_disconnect(self, sid, reason):
            await self.emit("online", sorted(self.names.values()))

    class Silent(Online):
        async def on_disconnect(self, sid, reason):
            self.names.pop(sid, None)

    not_yet("08.2", Forgetful, "after ada disconnected", "ada is still listed")
    not_yet("08.2", Silent, "after ada disconnected from /chat, bob got no 'online' event")


@pytest.mark.usefixtures("lab")
def test_08_2_tells_the_newcomer_only() -> None:
    class ToTheNewcomer(Online):
        async def on_connect(self, sid, environ, auth):
            self.names[sid] = auth["name"]
            await self.emit("online", sorted(self.names.values()), to=sid)

    not_yet("08.2", ToTheNewcomer, "when bob joined ada in /chat, ada got no 'online' event")


@pytest.mark.usefixtures("lab")
def test_08_2_asks_the_manager() -> None:
    class AsksTheManager(socketio.AsyncNamespace):
        async def names(self):
            found = []
            for sid, _ in self.server.manager.get_participants(self.namespace, None):
                session = await self.get_session(sid)
                found.append(session["name"])
            return sorted(found)

        async def on_connect(self, sid, environ, auth):
            await self.save_session(sid, {"name": auth["name"]})
            await self.emit("online", await self.names())

        async def on_disconnect(self, sid, reason):
            await self.emit("online", await self.names())

    not_yet("08.2", AsksTheManager, "asked the server's manager", "it still lists the")


@pytest.mark.usefixtures("lab")
def test_08_2_counts_with_the_manager() -> None:
    class CountsWithTheManager(Online):
        async def on_connect(self, sid, environ, auth):
            await super().on_connect(sid, environ, auth)
            count = len(list(self.server.manager.get_participants(self.namespace, None)))
            helpers.log("online", count=count)

    not_yet("08.2", CountsWithTheManager, "asked the server's manager", "Add a name in on_connect")


@pytest.mark.usefixtures("lab")
def test_08_2_a_list_that_is_not_the_names() -> None:
    class BySid(Online):
        async def on_connect(self, sid, environ, auth):
            self.names[sid] = auth["name"]
            await self.emit("online", self.names)

    not_yet("08.2", BySid, "when ada connected to /chat alone, ada got 'online' with {")
