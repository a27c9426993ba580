"""Lesson 08 exercises: rooms with skip_sid, and a class-based namespace that keeps its own list
of who is online (instead of asking the server's manager, as the lesson's ``who`` did)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable
from typing import Any

import socketio

from .._util import describe
from ..check import NotYet, Visitor, exercise, running_service, visiting, wait_until
from ..eventlog import events
from ..servers import start_sio_server
from . import check

# --- 08.1 ----------------------------------------------------------------------------------


def _and(names: list[str]) -> str:
    return " and ".join(names) if len(names) < 3 else f"{', '.join(names[:-1])} and {names[-1]}"


def _expect(person: Visitor, expected: list[list[Any]], why: str) -> None:
    if person.inbox != expected:
        got = person.inbox or "nothing"
        raise NotYet(f"{person.name} got {got}, expected {expected or 'nothing'}: {why}")


def _rooms_service(answer: object) -> Any:
    """The running Socket.IO service of the answer, or a hint about what was passed instead."""
    if isinstance(answer, socketio.AsyncServer):
        raise NotYet(
            "this is the socketio.AsyncServer itself, which does not run yet; start it with "
            "helpers.start_sio_server(..., name='rooms') and pass the Service that call returns."
        )
    return running_service(answer, "helpers.start_sio_server(sio, name='rooms')", "Socket.IO")


@exercise(
    "08.1",
    nudge="Build a small room service: one event puts the client in the room it names, another "
    "passes a text on to everyone in a room except the one who said it. Start it in the lab "
    "under the name rooms, as the lesson started the square.",
    hints=[
        "Rooms live on the server: the join listener asks the server to put this sid in the "
        "room, and the say listener sends to that room. The lesson's table of ways to address "
        "an emit has the option that leaves one client out.",
        "Two async listeners on a socketio.AsyncServer: join awaits enter_room with the sid "
        "and the room name; say awaits emit of the event 'said' with the data's text, to the "
        "data's room, with skip_sid set to the sender's sid. Start the server with "
        "helpers.start_sio_server, named rooms, and pass what it returns.",
    ],
)
def room_talk(answer: object) -> str:
    server = _rooms_service(answer)
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
                f"within {check.TIMEOUT:g} s. Did join put the client in the room, and did say "
                "emit 'said' to that room? enter_room and emit are coroutines: without await they "
                "do nothing."
            )
        bob.call("say", {"room": "lobby", "text": "hi, ada"})
        cy.call("say", {"room": "garden", "text": "anyone here?"})
        wait_until(lambda: ada.inbox)
        time.sleep(check.QUIET)  # time for any event that should not come
        own = [
            p.name
            for p, text in ((ada, "hello, lobby"), (bob, "hi, ada"), (cy, "anyone here?"))
            if ["said", text] in p.inbox
        ]
        if own:
            raise NotYet(
                f"{_and(own)} got their own text back: an emit to a room reaches every member, "
                "the sender included, unless you leave the sender out."
            )
        if cy.inbox:
            raise NotYet(
                f"cy, alone in 'garden', got {cy.inbox}, said in the lobby: an emit without a "
                "room reaches every client. Send to the room named in the data."
            )
        _expect(bob, [["said", "hello, lobby"]], "the event 'said' with the text alone.")
        _expect(ada, [["said", "hi, ada"]], "the event 'said' with the text alone.")
    return "The room hears what is said in it, except the one who says it."


# --- 08.2 ----------------------------------------------------------------------------------

_NAMESPACES = ("/chat", "/team")


class _WatchedManager(socketio.AsyncManager):
    """The default manager, noting whether code outside the libraries asked it for a room's
    participants (the lesson's ``who`` did), where the exercise keeps its own list instead."""

    asked_from_outside = False

    def get_participants(self, namespace: str, room: Any) -> Iterable[tuple[str, str]]:
        caller = sys._getframe(1).f_globals.get("__name__", "")
        if not caller.startswith(("socketio", "engineio")):
            self.asked_from_outside = True
        return super().get_participants(namespace, room)


def _namespace_class(answer: object) -> type[socketio.AsyncNamespace]:
    if isinstance(answer, socketio.AsyncNamespace):
        raise NotYet(
            "this is an instance of your class; put the class itself in online_class: the check "
            "makes one instance per namespace it registers."
        )
    if not (isinstance(answer, type) and issubclass(answer, socketio.AsyncNamespace)):
        raise NotYet(
            f"put a class in online_class, a subclass of socketio.AsyncNamespace, not {answer!r}."
        )
    return answer


def _register(sio: socketio.AsyncServer, namespace_class: type) -> None:
    for namespace in _NAMESPACES:
        try:
            sio.register_namespace(namespace_class(namespace))
        except Exception as error:
            raise NotYet(
                f"{namespace_class.__name__}({namespace!r}) raised {describe(error)}. If your "
                "class has an __init__ of its own, it must take the namespace and hand it on to "
                "the base class's __init__."
            ) from None


def _online(person: Visitor, index: int) -> object:
    """The list of names in ``person``'s ``index``-th 'online' event (None if it never came)."""
    wait_until(lambda: len([e for e in person.inbox if e[0] == "online"]) > index)
    found = [event for event in person.inbox if event[0] == "online"]
    if len(found) <= index:
        return None
    return found[index][1] if len(found[index]) == 2 else found[index][1:]


def _expect_online(person: Visitor, index: int, expected: list[str], moment: str) -> None:
    got = _online(person, index)
    if got is None:
        raise NotYet(
            f"{moment}, {person.name} got no 'online' event within {check.TIMEOUT:g} s (got "
            f"{person.inbox or 'nothing'}). Emit 'online' with the list of names to every client "
            "of the namespace, from the method that runs when a client connects and from the "
            "one that runs when it disconnects. (The namespace object's own emit sends in its "
            "namespace; the server's emit sends in '/' unless told otherwise.)"
        )
    if not isinstance(got, list) or sorted(map(str, got)) != expected:
        raise NotYet(f"{moment}, {person.name} got 'online' with {got!r}; expected {expected}.")


@exercise(
    "08.2",
    nudge="Keep the list of who is online yourself, in a class-based namespace: note each "
    "client's name when it connects and forget it when it leaves, and tell everyone in the "
    "namespace each time. Write it as the lesson wrote its Admin class, and pass the class "
    "itself.",
    hints=[
        "A namespace class has one method per event, named on_ and the event; connect and "
        "disconnect are events too. The name comes in the client's auth, and the record must "
        "belong to the one namespace object, not to the class.",
        "In a subclass of socketio.AsyncNamespace, give each instance its own dict from sid to "
        "name (an __init__ that calls the base class's first). on_connect(self, sid, environ, "
        "auth) stores auth's name, on_disconnect(self, sid, reason) pops the sid, and both then "
        "await self.emit of 'online' with the sorted names (a namespace's emit reaches all its "
        "clients).",
    ],
)
def who_is_online(answer: object) -> str:
    namespace_class = _namespace_class(answer)
    manager = _WatchedManager()
    sio = socketio.AsyncServer(async_mode="aiohttp", client_manager=manager)
    _register(sio, namespace_class)
    server = start_sio_server(sio, name="check-08.2")
    try:
        with visiting(server) as people:
            try:
                _visit(people, server.url)
            except NotYet:
                if manager.asked_from_outside:
                    raise NotYet(_ASKED_THE_MANAGER) from None
                raise
        if manager.asked_from_outside:
            raise NotYet(_ASKED_THE_MANAGER)
    finally:
        server.stop()
        events(server.name)
    return (
        "Your namespace keeps its own list of who is online, and tells everyone when it "
        "changes. (That list lives in this one process, like every room; lesson 13 comes back "
        "to that, with several server processes sharing the clients.)"
    )


_ASKED_THE_MANAGER = (
    "your namespace asked the server's manager for the participants. "
    "This exercise keeps the list itself instead: the manager's list is how the server files "
    "its rooms (everyone is in the room None), and while on_disconnect runs it still lists the "
    "client that is leaving. Add a name in on_connect, remove it in on_disconnect."
)


def _visit(people: list[Any], url: str) -> None:
    ada, bob, cy = Visitor("ada"), Visitor("bob"), Visitor("cy")
    for person in (ada, bob, cy):
        for namespace in _NAMESPACES:
            person.client.on(
                "*", lambda event, *args, p=person: p.inbox.append([event, *args]), namespace
            )
        people.append(person)
    ada.connect(url, namespaces=["/chat"])
    _expect_online(ada, 0, ["ada"], "when ada connected to /chat alone")
    cy.connect(url, namespaces=["/team"])
    got = _online(cy, 0)
    if isinstance(got, list) and "ada" in got:
        raise NotYet(
            f"cy connected to /team and got 'online' with {got!r}: ada, who is in "
            "/chat, is listed there too. The check registered two instances of your class, one "
            "per namespace, and they share one list: keep it on each instance (made in "
            "__init__), not on the class or in a global."
        )
    _expect_online(cy, 0, ["cy"], "when cy connected to /team")
    bob.connect(url, namespaces=["/chat"])
    _expect_online(bob, 0, ["ada", "bob"], "when bob joined ada in /chat")
    _expect_online(ada, 1, ["ada", "bob"], "when bob joined ada in /chat")
    ada.disconnect()
    got = _online(bob, 1)
    if isinstance(got, list) and "ada" in got:
        raise NotYet(
            f"after ada disconnected, bob got 'online' with {got!r}: ada is still listed. "
            "Forget a client's name when it disconnects, before you tell the others."
        )
    _expect_online(bob, 1, ["bob"], "after ada disconnected from /chat")
