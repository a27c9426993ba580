"""Lesson 08 exercises: rooms with skip_sid, and a class-based namespace that counts another."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

import socketio

from ..check import NotYet, exercise, running_service, visiting
from ..eventlog import events
from ..servers import start_sio_server

TIMEOUT = 3  # seconds: every client call in these checks gives up after this long
QUIET = 0.5  # seconds the checks wait to be sure that an event does NOT come


class _Person:
    """A socketio.Client with a name and an inbox of every event it receives."""

    def __init__(self, name: str, **auth: str) -> None:
        self.name = name
        self.auth = {"name": name, **auth}
        self.inbox: list[list[Any]] = []
        self.client = socketio.Client(reconnection=False)
        self.client.on("*", lambda event, *args: self.inbox.append([event, *args]))

    def connect(self, url: str, namespaces: list[str] | None = None) -> None:
        try:
            self.client.connect(
                url,
                namespaces=namespaces,
                auth=self.auth,
                transports=["websocket"],
                wait_timeout=TIMEOUT,
            )
        except socketio.exceptions.ConnectionError as error:
            where = f" to {', '.join(namespaces)}" if namespaces else ""
            raise NotYet(
                f"{self.name} could not connect{where} with auth={self.auth} ({error})."
            ) from None

    def call(self, event: str, data: object = None, namespace: str | None = None) -> object:
        shown = f"'{event}'" if data is None else f"'{event}' with {data!r}"
        try:
            return self.client.call(event, data, namespace=namespace, timeout=TIMEOUT)
        except socketio.exceptions.TimeoutError:
            raise NotYet(
                f"{self.name} called {shown} and got no acknowledgement within {TIMEOUT} s. Is "
                f"there a listener for '{event}', and does it finish without an error?"
            ) from None
        except Exception as error:
            raise NotYet(
                f"{self.name} calling {shown} failed ({type(error).__name__}: {error})."
            ) from None

    def disconnect(self) -> None:
        with contextlib.suppress(Exception):  # the check is over: a failed goodbye changes nothing
            self.client.disconnect()


def _wait_until(condition: Callable[[], bool], timeout: float = TIMEOUT) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


# --- 08.1 ----------------------------------------------------------------------------------


def _and(names: list[str]) -> str:
    return " and ".join(names) if len(names) < 3 else f"{', '.join(names[:-1])} and {names[-1]}"


def _expect(person: _Person, expected: list[list[Any]], why: str) -> None:
    if person.inbox != expected:
        got = person.inbox or "nothing"
        raise NotYet(f"{person.name} got {got}, expected {expected or 'nothing'}: {why}")


@exercise(
    "08.1",
    hint="a 'join' listener (sid, room) that awaits sio.enter_room(sid, room), and a 'say' "
    "listener (sid, data) that awaits sio.emit('said', data['text'], to=data['room'], "
    "skip_sid=sid). Start it with helpers.start_sio_server(sio, name='rooms').",
)
def room_talk(service: object) -> str:
    start = "helpers.start_sio_server(sio, name='rooms')"
    server = running_service(service, start, kind="Socket.IO server")
    with visiting(server) as people:
        ada, bob, cy = (_Person(name) for name in ("ada", "bob", "cy"))
        for person, room in ((ada, "lobby"), (bob, "lobby"), (cy, "garden")):
            people.append(person)
            person.connect(server.url)
            person.call("join", room)
        ada.call("say", {"room": "lobby", "text": "hello, lobby"})
        if not _wait_until(lambda: bob.inbox):
            raise NotYet(
                f"ada and bob joined 'lobby', ada said 'hello, lobby' there, and bob got nothing "
                f"within {TIMEOUT} s. Emit 'said' with to=data['room']."
            )
        bob.call("say", {"room": "lobby", "text": "hi, ada"})
        cy.call("say", {"room": "garden", "text": "anyone here?"})
        _wait_until(lambda: ada.inbox)
        time.sleep(QUIET)  # time for any event that should not come
        own = [
            p.name
            for p, text in ((ada, "hello, lobby"), (bob, "hi, ada"), (cy, "anyone here?"))
            if ["said", text] in p.inbox
        ]
        if own:
            raise NotYet(
                f"{_and(own)} got their own text back. Leave the sender out: "
                "emit(..., skip_sid=sid)."
            )
        if cy.inbox:
            raise NotYet(
                f"cy, alone in 'garden', got {cy.inbox} from the lobby. Send to the room only: "
                "emit(..., to=data['room'])."
            )
        _expect(bob, [["said", "hello, lobby"]], "the event 'said' with the text.")
        _expect(ada, [["said", "hi, ada"]], "the event 'said' with the text.")
    return "The room hears what is said in it, except the one who says it."


# --- 08.2 ----------------------------------------------------------------------------------


def _count(admin: _Person) -> object:
    return admin.call("count", namespace="/admin")


def _expect_count(admin: _Person, expected: int, situation: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while (got := _count(admin)) != expected:  # clients come and go in the background
        if got is None:
            raise NotYet(
                "'count' was acknowledged with None: does the class have an on_count method "
                "that returns the number?"
            )
        if time.monotonic() > deadline:
            raise NotYet(
                f"with {situation}, 'count' acknowledged {got!r}; expected {expected}. Count the "
                "participants of '/chat': self.server.manager.get_participants('/chat', None)."
            )
        time.sleep(0.05)


@exercise(
    "08.2",
    hint="class Counter(socketio.AsyncNamespace) with 'async def on_count(self, sid):' that "
    "returns len(list(self.server.manager.get_participants('/chat', None))). Then "
    "counter_class = Counter (the class, not an instance).",
)
def chat_counter(answer: object) -> str:
    if isinstance(answer, socketio.AsyncNamespace):
        raise NotYet("put the class itself in counter_class (Counter), not an instance of it.")
    if not (isinstance(answer, type) and issubclass(answer, socketio.AsyncNamespace)):
        raise NotYet(
            f"put a class in counter_class, a subclass of socketio.AsyncNamespace, not {answer!r}."
        )
    sio = socketio.AsyncServer(async_mode="aiohttp")

    @sio.on("connect", namespace="/chat")
    async def chat_connect(sid: str, environ: dict, auth: object) -> None:
        pass

    sio.register_namespace(answer("/admin"))
    server = start_sio_server(sio, name="check-08.2")
    try:
        with visiting(server) as people:
            admin = _Person("admin", token="open sesame")  # as the lesson's Admin wants
            people.append(admin)
            admin.connect(server.url, namespaces=["/", "/admin"])
            _expect_count(admin, 0, "only an admin connected (to '/' and '/admin')")
            ada, bob = _Person("ada"), _Person("bob")
            boss = _Person("boss", token="open sesame")
            people.extend([ada, bob, boss])
            ada.connect(server.url, namespaces=["/chat"])
            bob.connect(server.url, namespaces=["/chat"])
            _expect_count(admin, 2, "ada and bob connected to '/chat'")
            boss.connect(server.url, namespaces=["/chat", "/admin"])
            _expect_count(admin, 3, "ada, bob and the boss connected to '/chat'")
            ada.disconnect()
            _expect_count(admin, 2, "bob and the boss still in '/chat', after ada left")
    finally:
        server.stop()
        events(server.name)
    return "Your namespace counts the clients of '/chat' as they come and go."
