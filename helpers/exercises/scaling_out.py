"""Lesson 13 exercises: a room that spans two server processes, and a worker that notifies."""

from __future__ import annotations

import contextlib
import inspect
import time
from collections.abc import Callable
from typing import Any

import redis
import socketio

from ..broker import RedisUnavailableError, start_redis
from ..check import QUIET, TIMEOUT, NotYet, Visitor, exercise, function_answer, wait_until
from ..cluster import run_process, start_sio_process
from ..eventlog import events
from ..lab import stop


def _redis_url() -> str:
    try:
        return start_redis().url
    except RedisUnavailableError as error:
        raise NotYet(str(error)) from None


def _subscribers(url: str) -> Callable[[], int]:
    """A function that counts the processes subscribed to Socket.IO's channel right now."""
    client = redis.Redis.from_url(url)
    return lambda: dict(client.pubsub_numsub("socketio")).get(b"socketio", 0)


@contextlib.contextmanager
def _checking(names: list[str]):
    """Clients for the check; afterwards they disconnect, the check's processes stop, and
    their events are taken so that they stay out of the learner's show_events()."""
    people: list[Visitor] = []
    try:
        yield people
    finally:
        for person in people:
            person.disconnect()
        for name in names:
            stop(name)
            events(name, settle=0.05)


def _start(function: Callable[..., Any], url: str, name: str) -> Any:
    try:
        return start_sio_process(function, url, name=name)
    except (TypeError, ValueError, RuntimeError) as error:
        raise NotYet(
            f"starting {getattr(function, '__name__', function)} failed: {error}"
        ) from None


def _expect_redis_server(sio: object) -> None:
    """Look at what team_node built, here in the kernel, before starting processes."""
    if sio is None:
        raise NotYet(
            "team_node() returned None: write its body in place of the ... and return the server."
        )
    if not isinstance(sio, socketio.AsyncServer) or sio.async_mode != "aiohttp":
        raise NotYet(
            f"team_node() returned {sio!r}: return a socketio.AsyncServer(async_mode='aiohttp')."
        )
    if not isinstance(sio.manager, socketio.AsyncRedisManager):
        raise NotYet(
            f"the server's client manager is {type(sio.manager).__name__}, which keeps the "
            "clients in one process: give it client_manager=socketio.AsyncRedisManager(redis_url)."
        )


# --- 13.1 ----------------------------------------------------------------------------------


@exercise(
    "13.1",
    nudge="def team_node(redis_url): import socketio inside it; sio = socketio.AsyncServer("
    "async_mode='aiohttp', client_manager=socketio.AsyncRedisManager(redis_url)); a 'team' "
    "listener (sid, team) that awaits sio.enter_room(sid, team); a 'shout' listener (sid, data) "
    "that awaits sio.emit('shouted', data['text'], to=data['team'], skip_sid=sid); return sio.",
)
def team_across_processes(team_node: object) -> str:
    function_answer(team_node, "team_node")
    url = _redis_url()
    _expect_redis_server(team_node(url))
    names = ["check-13.1-a", "check-13.1-b"]
    with _checking(names) as people:
        first, second = (_start(team_node, url, name) for name in names)
        count = _subscribers(url)
        before = count()
        ada, bob, cy = (
            Visitor("ada"),
            Visitor("bob"),
            Visitor("cy"),
        )
        people.extend([ada, bob, cy])
        ada.connect(first.url)
        bob.connect(second.url)
        cy.connect(second.url)
        if not wait_until(lambda: count() >= before + 2):
            raise NotYet(
                "your processes did not subscribe to Redis: give the server "
                "client_manager=socketio.AsyncRedisManager(redis_url)."
            )
        for person, team in ((ada, "red"), (bob, "red"), (cy, "blue")):
            person.call("team", team)
        ada.call("shout", {"team": "red", "text": "go red!"})
        if not wait_until(lambda: bob.inbox):
            raise NotYet(
                "ada (first process) and bob (second process) are in team 'red'; ada shouted "
                f"and bob got nothing within {TIMEOUT} s. Emit 'shouted' to=data['team'] "
                "from a server whose client_manager is an AsyncRedisManager."
            )
        time.sleep(QUIET)
        if ada.inbox:
            raise NotYet(f"ada got her own shout back ({ada.inbox}): emit(..., skip_sid=sid).")
        if cy.inbox:
            raise NotYet(f"cy, in team 'blue', got {cy.inbox}: send to the team's room only.")
        if bob.inbox != [["shouted", "go red!"]]:
            raise NotYet(f"bob got {bob.inbox}; expected [['shouted', 'go red!']].")
    return "A room spans processes: Redis carried the shout to the process where bob was."


# --- 13.2 ----------------------------------------------------------------------------------


def _notice_node(redis_url):  # its source runs in a process: no annotations to import
    """The check's server: each client joins the room named after its auth 'name'."""
    import socketio

    manager = socketio.AsyncRedisManager(redis_url)
    sio = socketio.AsyncServer(async_mode="aiohttp", client_manager=manager)

    @sio.event
    async def connect(sid, environ, auth):
        await sio.enter_room(sid, auth["name"])

    return sio


@exercise(
    "13.2",
    nudge="def notify(redis_url, user, text): import socketio inside it; "
    "socketio.RedisManager(redis_url, write_only=True).emit('notice', text, to=user).",
)
def worker_notifies(notify: object) -> str:
    function_answer(notify, "notify")
    source = inspect.getsource(notify)  # type: ignore[arg-type]
    if "emit" not in source:
        raise NotYet("notify() emits nothing yet: write its body in place of the ...")
    if "write_only" not in source:
        raise NotYet("a worker is no server: use a write-only manager (write_only=True).")
    url = _redis_url()
    names = ["check-13.2", "check-13.2-worker"]
    with _checking(names) as people:
        server = _start(_notice_node, url, names[0])
        count = _subscribers(url)
        before = count()
        ada, bob = Visitor("ada"), Visitor("bob")
        people.extend([ada, bob])
        ada.connect(server.url)
        bob.connect(server.url)
        wait_until(lambda: count() >= before + 1)
        try:
            run_process(notify, url, "ada", "your report is ready", name=names[1])
        except (RuntimeError, TimeoutError, TypeError) as error:
            raise NotYet(f"running notify in a process failed: {error}") from None
        if not wait_until(lambda: ada.inbox):
            raise NotYet(
                f"notify(redis_url, 'ada', 'your report is ready') ran, and ada got nothing "
                f"within {TIMEOUT} s: emit 'notice' with the text, to=user."
            )
        time.sleep(QUIET)
        if bob.inbox:
            raise NotYet(f"bob got {bob.inbox}: send to the user's room only, to=user.")
        if ada.inbox != [["notice", "your report is ready"]]:
            raise NotYet(f"ada got {ada.inbox}; expected [['notice', 'your report is ready']].")
    return "A process with no server and no port reached ada, through Redis."
