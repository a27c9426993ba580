"""Lesson 07 exercises: a first Socket.IO server: who may come in, an acknowledgement for the
sender and an event for everyone else, and a server that asks a client back.

Each check connects ``socketio.Client`` visitors to the learner's running server and
disconnects them whatever happens (see ``visiting``).
"""

from __future__ import annotations

from typing import Any

import socketio

from ..check import NotYet, Visitor, exercise, running_service, visiting, wait_until
from ..lab import Service
from . import check


def _server(answer: object, name: str) -> Service:
    """``answer`` as the running Socket.IO server ``name``."""
    start = f"helpers.start_sio_server(sio, name={name!r})"
    if isinstance(answer, socketio.AsyncServer):
        raise NotYet(
            f"this is the server object itself, not running yet: start it with {start} and "
            "pass the Service that call returns."
        )
    return running_service(answer, start, "Socket.IO")


def _visitor(clients: list[Any], url: str, name: str) -> Visitor:
    """A connected visitor called ``name`` (sent as auth), disconnected after the check."""
    visitor = Visitor(name)
    clients.append(visitor)
    visitor.connect(url)
    return visitor


# --- 07.1 ----------------------------------------------------------------------------------


def _must_be_refused(clients: list[Any], url: str, auth: object) -> None:
    client = socketio.Client(reconnection=False)
    refusals: list[object] = []
    client.on("connect_error", refusals.append)
    clients.append(client)
    try:
        client.connect(url, auth=auth, wait_timeout=check.TIMEOUT)
    except socketio.exceptions.ConnectionError:
        if not refusals:
            raise NotYet(
                f"a client with auth={auth!r} was turned away without a message: the connect "
                "listener failed with an error instead of refusing the client. Remember that "
                "auth may be None."
            ) from None
        return
    raise NotYet(
        f"a client with auth={auth!r} was let in. The connect listener must refuse every client "
        "whose auth has no 'name', as the lesson's guarded server refused a wrong token."
    )


@exercise(
    "07.1",
    nudge="Turn clients away at the door the way the lesson's guarded server did, but look for a "
    "name instead of a token; remember each member's name by the client's session id, as the "
    "lobby did, and answer whoami from there.",
    hints=[
        "The connect listener sees auth, which may be None, a dict without 'name', or a good "
        "dict. Refuse the first two by raising; a listener's return value is the "
        "acknowledgement a caller gets.",
        "Raise socketio.exceptions.ConnectionRefusedError in connect unless auth is a dict with "
        "a 'name', and keep a dict from sid to that name; the whoami listener returns the name "
        "stored for its sid. Start it with helpers.start_sio_server(sio, name='members').",
    ],
)
def members_only(answer: object) -> str:
    server = _server(answer, "members")
    with visiting(server) as clients:
        for auth in (None, {}, {"nickname": "ada"}):
            _must_be_refused(clients, server.url, auth)
        ada = _visitor(clients, server.url, "ada")
        grace = _visitor(clients, server.url, "grace")
        for visitor in (grace, ada):
            answer = visitor.call("whoami")
            if answer is None:
                raise NotYet(
                    f"{visitor.name} called 'whoami' and its acknowledgement was None: the "
                    "answer a caller gets is what the listener returns."
                )
            if answer != visitor.name:
                raise NotYet(
                    f"a client that connected with auth={visitor.auth} called 'whoami' and got "
                    f"{answer!r}. Keep each client's name by its sid, so that every member gets "
                    "its own."
                )
    return "Clients without a name are refused, and 'whoami' tells each member its own name."


# --- 07.2 ----------------------------------------------------------------------------------


def _add(visitor: Visitor, number: int) -> int | float:
    """Call 'add' with ``number``; the acknowledgement, which must be a number."""
    total = visitor.call("add", number)
    said = f"{visitor.name} called 'add' with {number} and the acknowledgement was {total!r}"
    if total is None:
        raise NotYet(f"{said}: the answer a caller gets is what the listener returns.")
    if not isinstance(total, int | float) or isinstance(total, bool):
        raise NotYet(f"{said}, a {type(total).__name__}: keep the total as a number.")
    return total


def _told(visitor: Visitor, total: object, adder: str) -> None:
    """``visitor`` must receive the event 'total' with ``total`` (after ``adder`` added)."""
    wanted = ["total", total]
    if wait_until(lambda: wanted in visitor.inbox):
        return
    got = f"it got {visitor.inbox}" if visitor.inbox else "it got no event at all"
    raise NotYet(
        f"{adder} added, and {visitor.name} was not told: {got}, and no {wanted} within "
        f"{check.TIMEOUT:g} s. (On an AsyncServer, emit is a coroutine: without await it sends "
        "nothing.)"
    )


def _not_told_twice(added: list[tuple[Visitor, object]]) -> None:
    """No visitor that ``added`` (and got its total as an acknowledgement) gets a 'total' event
    with that total as well."""
    if not wait_until(lambda: any(["total", t] in v.inbox for v, t in added), timeout=check.QUIET):
        return
    visitor, total = next((v, t) for v, t in added if ["total", t] in v.inbox)
    raise NotYet(
        f"{visitor.name} got {['total', total]} as an event too, on top of the acknowledgement "
        "that already told it the total. Tell everyone else: the lesson's table of receivers "
        "has a way to skip the sender."
    )


@exercise(
    "07.2",
    nudge="Two audiences, two ways of answering: the client that adds gets the new total as the "
    "acknowledgement of its event, and every other client hears about it through an event, "
    "as the lesson's hello listener told the others about a newcomer.",
    hints=[
        "Keep the total outside the listener, so that it outlives one call and every client "
        "adds to the same one. The listener's return value goes to the caller alone; an emit "
        "goes to whoever its arguments choose.",
        "In an async listener for 'add', add the number to the total, await sio.emit of "
        "'total' with the new total and skip_sid=sid, then return the new total.",
    ],
)
def shared_counter(answer: object) -> str:
    server = _server(answer, "counter")
    with visiting(server) as clients:
        ada = _visitor(clients, server.url, "ada")
        bob = _visitor(clients, server.url, "bob")
        first = _add(ada, 2)
        _told(bob, first, "ada")
        second = _add(bob, 3)
        if second != first + 3:
            again = " The total started over: keep it outside the listener." if second == 3 else ""
            raise NotYet(
                f"ada added 2 and got {first}, then bob added 3 and got {second}, not "
                f"{first + 3}.{again}"
            )
        _told(ada, second, "bob")
        _not_told_twice([(ada, first), (bob, second)])
    return (
        f"ada added 2 and got {first}, bob was told ['total', {first}]; bob added 3 and got "
        f"{second}, ada was told. Nobody heard their own total twice."
    )


# --- 07.3 ----------------------------------------------------------------------------------


def _greeting(clients: list[Any], url: str, name: str) -> None:
    """A visitor whose 'name' listener answers ``name`` calls 'greet'."""
    asked: list[tuple] = []

    def answer(*data: object) -> str:
        asked.append(data)
        return name

    visitor = Visitor(name)
    visitor.client.on("name", answer)
    clients.append(visitor)
    visitor.connect(url)
    reply = visitor.call("greet")
    said = f"a client whose 'name' listener answers {name!r} called 'greet' and got {reply!r}"
    if "coroutine object" in str(reply):
        raise NotYet(f"{said}: sio.call is a coroutine, and without await it never asks.")
    if not asked:
        raise NotYet(
            f"{said}, and its 'name' listener never ran: the 'greet' listener must ask the "
            "client, the way the lesson's server asked dan its question."
        )
    if reply == "hello, None":
        raise NotYet(
            f"{said}: the client was asked, but the server did not wait for its answer. emit "
            "never waits; call does, and returns the client's acknowledgement."
        )
    if reply != f"hello, {name}":
        raise NotYet(f"{said}; expected 'hello, {name}'.")


@exercise(
    "07.3",
    nudge="Inside the listener for greet, turn the tables: the server asks the client a question "
    "and waits for its acknowledgement, as the lesson's server asked dan what 6 times 7 is, "
    "then answers greet with what it heard.",
    hints=[
        "Only one of the server's ways to send waits for an answer; use it on the client that "
        "sent greet (its sid), and give it a timeout.",
        "In the async greet listener, await sio.call of 'name' with to=sid and timeout=3, then "
        "return 'hello, ' followed by the answer.",
    ],
)
def asks_back(answer: object) -> str:
    server = _server(answer, "greeter")
    with visiting(server) as clients:
        for name in ("ada", "grace"):
            _greeting(clients, server.url, name)
    return "Your server asks each client for its name, and greets it by the answer."
