"""Lesson 07's exercises: the mistakes learners make, each with its own message."""

from __future__ import annotations

import runpy
from collections.abc import Callable

import pytest
import socketio
from conftest import NOTEBOOKS, not_yet

import helpers
from helpers.check import _exercises, grade

from .conftest import TIMEOUT

pytestmark = [
    pytest.mark.usefixtures("lab"),
    pytest.mark.filterwarnings("ignore:coroutine .* was never awaited:RuntimeWarning"),
]


def server(name: str, **listeners: Callable) -> helpers.Service:
    """A Socket.IO server with ``listeners`` (event name -> function), started as ``name``."""
    sio = socketio.AsyncServer(async_mode="aiohttp")
    for event, listener in listeners.items():
        sio.on(event, listener)
    return helpers.start_sio_server(sio, name=name)


@pytest.mark.parametrize("key", ["07.1", "07.2", "07.3"])
def test_an_unsolved_exercise_shows_its_nudge(key: str) -> None:
    assert grade(key, ...) == (False, f"{key} is not solved yet. {_exercises[key].nudge}")


def test_the_worked_answers_pass(capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_path(str(NOTEBOOKS / "solutions" / "07_socketio_first_server.py"))
    out = capsys.readouterr().out
    assert [line[:13] for line in out.splitlines()] == [f"✅ 07.{n} solved" for n in (1, 2, 3)]


# --- 07.1 ----------------------------------------------------------------------------------


def test_07_1_wrong_answers() -> None:
    names: dict[str, str] = {}
    last = {"name": None}

    async def lets_everyone_in(sid, environ, auth):
        pass

    async def reads_the_name_blindly(sid, environ, auth):
        names[sid] = last["name"] = auth["name"]  # TypeError when auth is None

    async def refuses_only_no_auth(sid, environ, auth):
        if not auth:
            raise socketio.exceptions.ConnectionRefusedError("who are you?")
        names[sid] = last["name"] = auth.get("name")

    async def checks(sid, environ, auth):
        if not isinstance(auth, dict) or "name" not in auth:
            raise socketio.exceptions.ConnectionRefusedError("tell us your name")
        names[sid] = last["name"] = auth["name"]

    async def whoami(sid):
        return names[sid]

    async def whoami_last(sid):
        return last["name"]

    async def whoami_forgets_return(sid):
        names[sid]

    sio = socketio.AsyncServer(async_mode="aiohttp")
    not_yet("07.1", sio, "this is the server object itself, not running yet")
    not_yet("07.1", helpers.start_ws_server(name="members"), "this service is a websockets")
    not_yet("07.1", server("members", connect=lets_everyone_in), "auth=None was let in")
    not_yet(
        "07.1",
        server("members", connect=reads_the_name_blindly, whoami=whoami),
        "auth=None was turned away without a message",
        "The server logged: engineio.server: message async handler error (TypeError",
    )
    not_yet(
        "07.1",
        server("members", connect=refuses_only_no_auth, whoami=whoami),
        "auth={'nickname': 'ada'} was let in",
    )
    not_yet(
        "07.1",
        server("members", connect=checks, whoami=whoami_last),
        "auth={'name': 'ada'} called 'whoami' and got 'grace'",
        "Keep each client's name by its sid",
    )
    not_yet(
        "07.1",
        server("members", connect=checks, whoami=whoami_forgets_return),
        "grace called 'whoami' and its acknowledgement was None",
    )
    not_yet(
        "07.1",
        server("members", connect=checks),
        f"grace called 'whoami' and got no acknowledgement within {TIMEOUT:g} s",
    )


# --- 07.2 ----------------------------------------------------------------------------------


def counter(add: Callable) -> helpers.Service:
    """A counter server whose 'add' listener is ``add(sio, state, sid, number)``."""
    sio = socketio.AsyncServer(async_mode="aiohttp")
    state = {"total": 0}

    async def listener(sid, number):
        return await add(sio, state, sid, number)

    sio.on("add", listener)
    return helpers.start_sio_server(sio, name="counter")


async def to_everyone(sio, state, sid, number):
    state["total"] += number
    await sio.emit("total", state["total"])
    return state["total"]


async def forgets_return(sio, state, sid, number):
    state["total"] += number
    await sio.emit("total", state["total"], skip_sid=sid)


async def starts_over(sio, state, sid, number):
    total = number
    await sio.emit("total", total, skip_sid=sid)
    return total


async def as_text(sio, state, sid, number):
    state["total"] += number
    await sio.emit("total", state["total"], skip_sid=sid)
    return str(state["total"])


async def forgets_await(sio, state, sid, number):
    state["total"] += number
    sio.emit("total", state["total"], skip_sid=sid)
    return state["total"]


async def only_to_the_sender(sio, state, sid, number):
    state["total"] += number
    await sio.emit("total", state["total"], to=sid)
    return state["total"]


async def other_event(sio, state, sid, number):
    state["total"] += number
    await sio.emit("count", state["total"], skip_sid=sid)
    return state["total"]


async def old_total(sio, state, sid, number):
    await sio.emit("total", state["total"], skip_sid=sid)
    state["total"] += number
    return state["total"]


def test_07_2_wrong_answers() -> None:
    not_yet("07.2", counter(to_everyone), "ada got ['total', 2] as an event too", "skip")
    not_yet("07.2", counter(forgets_return), "the acknowledgement was None")
    not_yet("07.2", counter(starts_over), "bob added 3 and got 3, not 5. The total started over")
    not_yet("07.2", counter(as_text), "the acknowledgement was '2', a str")
    not_yet("07.2", counter(forgets_await), "it got no event at all", "without await")
    not_yet("07.2", counter(only_to_the_sender), "bob was not told: it got no event at all")
    not_yet("07.2", counter(other_event), "bob was not told: it got [['count', 2]]")
    not_yet("07.2", counter(old_total), "it got [['total', 0]], and no ['total', 2]")
    not_yet("07.2", server("counter"), "ada called 'add' with 2 and got no acknowledgement")


# --- 07.3 ----------------------------------------------------------------------------------


def greeter(ask: Callable) -> helpers.Service:
    """A greeter server whose 'greet' listener returns ``await ask(sio, sid)``."""
    sio = socketio.AsyncServer(async_mode="aiohttp")

    async def greet(sid):
        return await ask(sio, sid)

    sio.on("greet", greet)
    return helpers.start_sio_server(sio, name="greeter")


async def with_emit(sio, sid):
    name = await sio.emit("name", to=sid)
    return f"hello, {name}"


async def without_await(sio, sid):
    name = sio.call("name", to=sid, timeout=3)
    return f"hello, {name}"


async def without_to(sio, sid):
    name = await sio.call("name", timeout=3)
    return f"hello, {name}"


async def name_only(sio, sid):
    return await sio.call("name", to=sid, timeout=3)


async def never_asks(sio, sid):
    return "hello, stranger"


def test_07_3_wrong_answers() -> None:
    not_yet("07.3", greeter(with_emit), "got 'hello, None'", "emit never waits")
    not_yet("07.3", greeter(without_await), "sio.call is a coroutine, and without await")
    not_yet(
        "07.3",
        greeter(without_to),
        f"got no acknowledgement within {TIMEOUT:g} s",
        "(ValueError: Cannot use call() to broadcast.)",
    )
    not_yet("07.3", greeter(name_only), "and got 'ada'; expected 'hello, ada'")
    not_yet("07.3", greeter(never_asks), "its 'name' listener never ran")
    stopped = greeter(never_asks)
    stopped.stop()
    not_yet("07.3", stopped, "pass the running Service")
