"""Lesson 07 exercises: a first Socket.IO server: auth, acknowledgements and emitting by sid."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import socketio

from ..check import NotYet, exercise, running_service, visiting

TIMEOUT = 3  # seconds: every client call in these checks gives up after this long
QUIET = 0.5  # seconds a client listens to be sure that an event does NOT come


def _client(clients: list[Any], **handlers: Callable[..., Any]) -> tuple[socketio.Client, list]:
    """A socketio.Client (kept in ``clients``) with ``handlers``; also returns the list
    that collects what its ``connect_error`` listener receives."""
    client = socketio.Client(reconnection=False)
    refusals: list[object] = []
    client.on("connect_error", refusals.append)
    for event, handler in handlers.items():
        client.on(event, handler)
    clients.append(client)
    return client, refusals


def _connect(client: socketio.Client, url: str, auth: object) -> None:
    try:
        client.connect(url, auth=auth, wait_timeout=TIMEOUT)
    except socketio.exceptions.ConnectionError as error:
        raise NotYet(
            f"a client with auth={auth!r} could not connect ({error}). Does your connect "
            "listener accept it?"
        ) from None


def _call(client: socketio.Client | socketio.SimpleClient, event: str, what: str) -> object:
    try:
        return client.call(event, timeout=TIMEOUT)
    except socketio.exceptions.TimeoutError:
        raise NotYet(
            f"{what} called '{event}' and got no acknowledgement within {TIMEOUT} s. Is there a "
            f"listener for '{event}', and does it return a value?"
        ) from None
    except Exception as error:
        raise NotYet(
            f"{what} calling '{event}' failed ({type(error).__name__}: {error})."
        ) from None


# --- 07.1 ----------------------------------------------------------------------------------


def _must_be_refused(clients: list[Any], url: str, auth: object) -> None:
    client, refusals = _client(clients)
    try:
        client.connect(url, auth=auth, wait_timeout=TIMEOUT)
    except socketio.exceptions.ConnectionError:
        if not refusals:
            raise NotYet(
                f"a client with auth={auth!r} got no answer at all: the connect listener must "
                "raise socketio.exceptions.ConnectionRefusedError, not another error (auth "
                "may be None)."
            ) from None
        return
    raise NotYet(
        f"a client with auth={auth!r} was let in. In connect(sid, environ, auth), raise "
        "socketio.exceptions.ConnectionRefusedError(...) when auth has no 'name'."
    )


@exercise(
    "07.1",
    nudge="in connect(sid, environ, auth), raise socketio.exceptions.ConnectionRefusedError('...') "
    "unless auth is a dict with a 'name'; else keep names[sid] = auth['name']. A 'whoami' "
    "listener returns names[sid]. Start it with helpers.start_sio_server(sio, name='members').",
)
def members_only(service: object) -> str:
    server = running_service(service, "helpers.start_sio_server(sio, name='members')", "Socket.IO")
    with visiting(server) as clients:
        for auth in (None, {}, {"nickname": "ada"}):
            _must_be_refused(clients, server.url, auth)
        ada, _ = _client(clients)
        _connect(ada, server.url, {"name": "ada"})
        grace, _ = _client(clients)
        _connect(grace, server.url, {"name": "grace"})
        for client, name in ((grace, "grace"), (ada, "ada")):
            answer = _call(client, "whoami", f"a client that connected as {name!r}")
            if answer != name:
                raise NotYet(
                    f"a client that connected with auth={{'name': {name!r}}} called 'whoami' "
                    f"and got {answer!r}. Keep each client's name by its sid (a dict)."
                )
    return "Clients without a name are refused, and 'whoami' tells each member its own name."


# --- 07.2 ----------------------------------------------------------------------------------


def _welcome(client: socketio.SimpleClient, timeout: float) -> list | None:
    """The next 'welcome' event this client receives within ``timeout`` s, or None."""
    try:
        while True:
            event = client.receive(timeout=timeout)
            if event and event[0] == "welcome":
                return event
    except socketio.exceptions.TimeoutError:
        return None


def _subscribe(subscriber: tuple[str, Any], other: tuple[str, Any], topic: str) -> None:
    (name, client), (other_name, other_client) = subscriber, other
    client.emit("subscribe", topic)
    got = _welcome(client, TIMEOUT)
    if got is None:
        raise NotYet(
            f"{name} emitted 'subscribe' with {topic!r} and got no 'welcome' event within "
            f"{TIMEOUT} s. Emit it from the 'subscribe' listener with to=sid."
        )
    if got != ["welcome", topic]:
        raise NotYet(
            f"{name} subscribed to {topic!r} and got {got!r}; expected ['welcome', {topic!r}]."
        )
    stray = _welcome(other_client, QUIET)
    if stray is not None:
        raise NotYet(
            f"{name} subscribed, and {other_name} got {stray!r} too. Send 'welcome' to the "
            "subscriber only: sio.emit('welcome', topic, to=sid)."
        )


@exercise(
    "07.2",
    nudge="a listener async def subscribe(sid, topic) that does await sio.emit('welcome', topic, "
    "to=sid). Start it with helpers.start_sio_server(sio, name='news').",
)
def welcome_one(service: object) -> str:
    server = running_service(service, "helpers.start_sio_server(sio, name='news')", "Socket.IO")
    with visiting(server) as clients:
        readers = []
        for name in ("ada", "bob"):
            client = socketio.SimpleClient(reconnection=False)
            clients.append(client)
            try:
                client.connect(server.url, auth={"name": name}, wait_timeout=TIMEOUT)
            except socketio.exceptions.ConnectionError as error:
                raise NotYet(f"a client could not connect to {server.url} ({error}).") from None
            readers.append((name, client))
        _subscribe(readers[0], readers[1], "weather")
        _subscribe(readers[1], readers[0], "sports")
    return "Each subscriber got its own 'welcome', and the other client got nothing."


# --- 07.3 ----------------------------------------------------------------------------------


@exercise(
    "07.3",
    nudge="in the 'greet' listener: name = await sio.call('name', to=sid, timeout=3), then "
    "return f'hello, {name}'. Start it with helpers.start_sio_server(sio, name='greeter').",
)
def asks_back(service: object) -> str:
    server = running_service(service, "helpers.start_sio_server(sio, name='greeter')", "Socket.IO")
    with visiting(server) as clients:
        for name in ("ada", "grace"):
            asked: list[tuple] = []

            def answer(*data: object, name: str = name, asked: list = asked) -> str:
                asked.append(data)
                return name

            client, _ = _client(clients, name=answer)
            _connect(client, server.url, None)
            reply = _call(client, "greet", f"a client that answers 'name' with {name!r}")
            if not asked:
                raise NotYet(
                    f"the client's 'name' listener never ran, and 'greet' was acknowledged with "
                    f"{reply!r}. Inside the 'greet' listener, ask the client with "
                    "await sio.call('name', to=sid) and use its answer."
                )
            if reply != f"hello, {name}":
                raise NotYet(
                    f"a client that answers 'name' with {name!r} called 'greet' and got "
                    f"{reply!r}; expected 'hello, {name}'."
                )
    return "Your server asks each client for its name, and greets it by the answer."
