"""Lesson 06 exercises: a "whisper" and a "who" message type for the chat built by hand.

Both checkers drive the learner's running chat server with three synchronous clients that
speak the lesson's protocol (JSON messages with a "type"; a client's name is its URL path).
They start no server of their own; every wait has a timeout, and the clients always close.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from typing import Any, NoReturn

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from .._util import describe
from ..check import NotYet, exercise
from ..lab import Service
from . import check

SERVICE_HINT = "helpers.show_events('chat') shows what your server did."

Message = dict[str, Any]


class _Silence(NotYet):
    """A checker client waited in vain: no message of the kind it wanted came in time."""


def _running_chat(service: object, variable: str) -> Service:
    if callable(service) and not isinstance(service, Service):
        raise NotYet(
            f"this is a function; register it in HANDLERS (the running server uses it from the "
            f"next message on), then put the running chat server in {variable}."
        )
    if isinstance(service, Service) and service.stopped:
        raise NotYet(f"{service.name!r} has stopped: run the cell that starts chat_server again.")
    if not isinstance(service, Service):
        raise NotYet(
            f"put the running chat server in {variable} ({variable} = chat_server), "
            f"not {service!r}."
        )
    if not service.kind.startswith("websockets"):
        raise NotYet(f"{service.name!r} is a {service.kind}; pass the lesson's chat_server.")
    return service


class _Client:
    """One checker client: its name is the path it connects to, as in the lesson."""

    def __init__(self, stack: contextlib.ExitStack, service: Service, name: str) -> None:
        self.name = name
        try:
            self.websocket: ClientConnection = stack.enter_context(
                connect(f"{service.url}/{name}", open_timeout=check.TIMEOUT, close_timeout=1)
            )
        except Exception as error:
            raise NotYet(f"could not connect to {service.url} ({describe(error)}).") from None

    def send(self, **message: str) -> None:
        # A closed connection is reported by the next until(), with what it was waiting for.
        with contextlib.suppress(ConnectionClosed):
            self.websocket.send(json.dumps(message))

    def until(self, wanted: Callable[[Message], bool], waiting_for: str) -> list[Message]:
        """Read messages until one is ``wanted``; return every message read, that one last."""
        seen: list[Message] = []
        while True:
            try:
                text = self.websocket.recv(timeout=check.TIMEOUT)
            except TimeoutError:
                got = f"; it got {_listed(seen)}" if seen else ""
                raise _Silence(
                    f"{self.name} waited {check.TIMEOUT:g} s for {waiting_for}{got}. {SERVICE_HINT}"
                ) from None
            except ConnectionClosed as closed:
                raise NotYet(
                    f"the server closed {self.name}'s connection ({closed}) while it waited for "
                    f"{waiting_for}: did your function raise something other than ValueError? "
                    f"{SERVICE_HINT}"
                ) from None
            try:
                message = json.loads(text)
            except ValueError:
                raise NotYet(f"{self.name} got {text!r}, which is not JSON.") from None
            seen.append(message if isinstance(message, dict) else {"not an object": message})
            if isinstance(message, dict) and wanted(message):
                return seen

    def said(self, text: str) -> list[Message]:
        """Read up to the 'said' message carrying ``text``; return everything read."""
        return self.until(
            lambda m: m.get("type") == "said" and m.get("text") == text,
            f"the 'said' message of {text!r}",
        )

    def join(self, room: str) -> None:
        self.send(type="join", room=room)
        self.until(
            lambda m: m.get("type") == "joined" and m.get("name") == self.name,
            f"its 'joined' message after joining {room!r} (is this the lesson's chat server?)",
        )


def _listed(messages: list[Message]) -> str:
    return ", ".join(json.dumps(message) for message in messages)


def _of_type(messages: list[Message], kind: str) -> list[Message]:
    return [message for message in messages if message.get("type") == kind]


def _unknown_type(messages: list[Message], kind: str) -> None:
    """Raise NotYet if the server answered that ``kind`` is not a type it knows."""
    for error in _of_type(messages, "error"):
        text = str(error.get("message", ""))
        if "unknown type" in text:
            raise NotYet(
                f"the server answered {json.dumps(error)}: register your function with "
                f"HANDLERS[{kind!r}] = {kind}."
            )
        raise NotYet(f"the server answered a {kind!r} message with {json.dumps(error)}.")


def _clients(service: Service, names: list[str], checker: Callable[..., str]) -> str:
    """Open a client per name, run ``checker`` with them, and close them whatever happens."""
    with contextlib.ExitStack() as stack:
        clients = [_Client(stack, service, name) for name in names]
        problem: NotYet | None = None
        try:
            return checker(*clients)
        except NotYet as reason:  # leave the block normally: the clients close with 1000
            problem = reason
    raise problem


@exercise(
    "06.1",
    nudge="Add a message type the way the lesson added say and rename: a plain function that "
    "finds the connections going by the name the message gives, among the names the server "
    "keeps, and sends the whisper to them alone. Refuse an unknown name the way the other types "
    "refuse a message, then register the function.",
    hints=[
        "A whisper goes to a set of connections, like a room does: the connections whose name "
        "is the one in 'to'. When that set is empty, raise ValueError, and dispatch tells the "
        "sender.",
        "whisper takes the connection, to and text: a set comprehension over NAMES.items() "
        "keeps the connections named to; if it is empty, raise ValueError; otherwise broadcast "
        "json.dumps of the whisper message (type, from: the sender's name in NAMES, text) to "
        "that set. Register it in HANDLERS under 'whisper'.",
    ],
)
def whisper(service: object) -> str:
    server = _running_chat(service, "whispering_chat")
    return _clients(server, ["ada-06", "bob-06", "cy-06"], _check_whisper)


def _check_whisper(ada: _Client, bob: _Client, cy: _Client) -> str:
    room = "whisper-check"
    for client in (ada, bob, cy):
        client.join(room)
    ada.send(type="whisper", to="bob-06", text="psst")
    ada.send(type="say", room=room, text="done")  # everyone's next 'said': the whisper is before
    sent = ada.said("done")
    _unknown_type(sent, "whisper")
    if _of_type(sent, "whisper"):
        raise NotYet("the sender got its own whisper back; send it to the named user only.")
    whispers = _of_type(bob.said("done"), "whisper")
    expected = {"type": "whisper", "from": "ada-06", "text": "psst"}
    if not whispers:
        raise NotYet(
            "ada-06 whispered 'psst' to bob-06, but bob-06 got no message of type 'whisper'. "
            "(If whisper is an async def, dispatch calls it but never awaits it, so its body "
            "never runs: make it a plain def.)"
        )
    if len(whispers) > 1 or {key: whispers[0].get(key) for key in expected} != expected:
        raise NotYet(f"bob-06 got {_listed(whispers)}; expected one {json.dumps(expected)}.")
    if _of_type(cy.said("done"), "whisper"):
        raise NotYet("cy-06 got the whisper too: send it only to the connections named 'bob-06'.")
    ada.send(type="whisper", to="nobody-06", text="hello?")
    ada.send(type="say", room=room, text="after")
    errors = _of_type(ada.said("after"), "error")
    if not errors:
        raise NotYet(
            "a whisper to 'nobody-06', a name nobody has, should answer the sender with an "
            "error: raise ValueError in whisper() when no connection has that name."
        )
    return (
        "bob-06 heard the whisper, cy-06 and the sender did not, and an unknown name is an error."
    )


@exercise(
    "06.2",
    nudge="Answer a question to the one who asked, the way the chat's errors go to the sender "
    "only: find the people in the room through the two dictionaries the server keeps, give "
    "their names in alphabetical order, and register the new type.",
    hints=[
        "ROOMS gives the connections in a room (none, for a room nobody is in) and NAMES the "
        "name of each connection. A plain function cannot await a send, but a broadcast to a "
        "set that holds only the asker reaches the asker alone.",
        "who takes the connection and room: the sorted NAMES of the connections in "
        "ROOMS.get(room, set()), sent as json.dumps of the who message (type, room, names) "
        "by broadcast to the set of just websocket. Register it in HANDLERS under 'who'.",
    ],
)
def who(service: object) -> str:
    server = _running_chat(service, "chat_with_who")
    return _clients(server, ["zoe-06", "amy-06", "ben-06"], _check_who)


def _ask_who(client: _Client, room: str, expected: list[str]) -> None:
    client.send(type="who", room=room)
    seen = client.until(
        lambda m: m.get("type") in ("who", "error"), f"an answer to who in {room!r}"
    )
    _unknown_type(seen, "who")
    answer = seen[-1]
    wanted = {"type": "who", "room": room, "names": expected}
    if {key: answer.get(key) for key in wanted} != wanted:
        raise NotYet(f"asked who is in {room!r} and got {json.dumps(answer)}; "
                     f"expected {json.dumps(wanted)}.")  # fmt: skip


def _unanswered(silence: _Silence, room: str, members: list[_Client]) -> NoReturn:
    """Say why ben-06 got no answer (``silence``): did it go to the room's ``members``?"""
    members[0].send(type="say", room=room, text="done")
    if any(_of_type(member.said("done"), "who") for member in members):
        raise NotYet(
            f"ben-06 asked who is in {room!r}, and the answer went to the people in that room "
            "instead of to ben-06, who asked: send it to the asker alone."
        ) from None
    raise NotYet(
        f"{silence} (If who is an async def, dispatch calls it but never awaits it, so its body "
        "never runs: make it a plain def.)"
    ) from None


def _check_who(zoe: _Client, amy: _Client, ben: _Client) -> str:
    room, other = "who-check", "who-other"
    zoe.join(room)
    amy.join(room)
    ben.join(other)
    try:
        _ask_who(ben, room, ["amy-06", "zoe-06"])
    except _Silence as silence:
        _unanswered(silence, room, [amy, zoe])
    amy.send(type="say", room=room, text="done")
    for client in (amy, zoe):
        if _of_type(client.said("done"), "who"):
            raise NotYet(
                f"{client.name} got the answer to ben-06's question too: send it to the asker only."
            )
    _ask_who(amy, "who-empty-06", [])
    zoe.send(type="leave", room=room)
    zoe.until(lambda m: m.get("type") == "left", f"its 'left' message after leaving {room!r}")
    _ask_who(amy, room, ["amy-06"])
    return "who answers the asker alone, with the room's names in order, and [] for an empty room."
