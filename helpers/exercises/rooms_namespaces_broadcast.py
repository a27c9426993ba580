"""Lesson 08 exercises: rooms with skip_sid, and a class-based namespace that counts another."""

from __future__ import annotations

import time
from typing import Any

import socketio

from ..check import QUIET, TIMEOUT, NotYet, Visitor, exercise, running_service, visiting, wait_until
from ..eventlog import events
from ..servers import start_sio_server

# --- 08.1 ----------------------------------------------------------------------------------


def _and(names: list[str]) -> str:
    return " and ".join(names) if len(names) < 3 else f"{', '.join(names[:-1])} and {names[-1]}"


def _expect(person: Visitor, expected: list[list[Any]], why: str) -> None:
    if person.inbox != expected:
        got = person.inbox or "nothing"
        raise NotYet(f"{person.name} got {got}, expected {expected or 'nothing'}: {why}")


@exercise(
    "08.1",
    nudge="a 'join' listener (sid, room) that awaits sio.enter_room(sid, room), and a 'say' "
    "listener (sid, data) that awaits sio.emit('said', data['text'], to=data['room'], "
    "skip_sid=sid). Start it with helpers.start_sio_server(sio, name='rooms').",
)
def room_talk(service: object) -> str:
    start = "helpers.start_sio_server(sio, name='rooms')"
    server = running_service(service, start, kind="Socket.IO server")
    with visiting(server) as people:
        ada, bob, cy = (Visitor(name) for name in ("ada", "bob", "cy"))
        for person, room in ((ada, "lobby"), (bob, "lobby"), (cy, "garden")):
            people.append(person)
            person.connect(server.url)
            person.call("join", room)
        ada.call("say", {"room": "lobby", "text": "hello, lobby"})
        if not wait_until(lambda: bob.inbox):
            raise NotYet(
                f"ada and bob joined 'lobby', ada said 'hello, lobby' there, and bob got nothing "
                f"within {TIMEOUT} s. Emit 'said' with to=data['room']."
            )
        bob.call("say", {"room": "lobby", "text": "hi, ada"})
        cy.call("say", {"room": "garden", "text": "anyone here?"})
        wait_until(lambda: ada.inbox)
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


def _count(admin: Visitor) -> object:
    return admin.call("count", namespace="/admin")


def _expect_count(admin: Visitor, expected: int, situation: str) -> None:
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
    nudge="class Counter(socketio.AsyncNamespace) with 'async def on_count(self, sid):' that "
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
            admin = Visitor("admin", token="open sesame")  # as the lesson's Admin wants
            people.append(admin)
            admin.connect(server.url, namespaces=["/", "/admin"])
            _expect_count(admin, 0, "only an admin connected (to '/' and '/admin')")
            ada, bob = Visitor("ada"), Visitor("bob")
            boss = Visitor("boss", token="open sesame")
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
