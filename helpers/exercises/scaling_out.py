"""Lesson 13 exercises: a room that spans two server processes, and a worker that notifies.

Both checks run the learner's function in real processes joined by the lab's Redis, with
clients of their own, and listen on the Redis channel too: what went through it (or did not)
says where a message was lost.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import redis
import socketio

from .._util import describe
from ..broker import RedisUnavailableError, start_redis
from ..check import NotYet, Visitor, exercise, function_answer, wait_until
from ..cluster import run_process, start_sio_process
from ..eventlog import events
from ..lab import services, stop
from . import check

CHANNEL = "socketio"  # python-socketio's channel unless a manager is given another


@contextlib.contextmanager
def _lab_redis() -> Iterator[str]:
    """The URL of the lab's Redis; one that the check had to start stops afterwards."""
    running = any(service.name == "redis" for service in services())
    try:
        found = start_redis()
    except RedisUnavailableError as error:
        raise NotYet(str(error)) from None
    try:
        yield found.url
    finally:
        if found.service is not None and not running:
            found.service.stop()
            events(found.service.name, settle=0)


class _Channel:
    """The check's own subscription to a Redis channel: what the processes published on it,
    and how many subscribers it has."""

    def __init__(self, url: str, channel: str) -> None:
        self.channel = channel
        self.client = redis.Redis.from_url(url)
        self.spy = self.client.pubsub()
        self.spy.subscribe(channel)
        self.spy.get_message(timeout=check.TIMEOUT)  # the confirmation: subscribed from here on
        self.emits: list[dict[str, Any]] = []

    def subscribers(self) -> int:
        """Subscribers of the channel now, the check's own included."""
        return dict(self.client.pubsub_numsub(self.channel)).get(self.channel.encode(), 0)

    def published(self) -> list[dict[str, Any]]:
        """Every emit published on the channel so far, decoded from JSON."""
        while (message := self.spy.get_message(timeout=0.1)) is not None:
            if message["type"] == "message":
                with contextlib.suppress(ValueError, TypeError):
                    decoded = json.loads(message["data"])
                    if isinstance(decoded, dict) and decoded.get("method") == "emit":
                        self.emits.append(decoded)
        return self.emits

    def close(self) -> None:
        with contextlib.suppress(Exception):  # the check is over: a failed goodbye is fine
            self.spy.close()
            self.client.close()


@contextlib.contextmanager
def _checking(url: str, channel: str, names: list[str]) -> Iterator[tuple[_Channel, list]]:
    """The channel, and a list for the check's clients; afterwards the clients disconnect, the
    check's processes stop, and their events are taken, to stay out of show_events()."""
    people: list[Visitor] = []
    try:
        listening = _Channel(url, channel)
    except (redis.RedisError, OSError) as error:
        raise NotYet(f"the lab's Redis at {url} did not answer the check ({error}).") from None
    try:
        yield listening, people
    finally:
        for person in people:
            person.disconnect()
        for name in names:
            stop(name)
            events(name, settle=0.05)
        listening.close()


def _start(function: Callable[..., Any], url: str, name: str) -> Any:
    try:
        return start_sio_process(function, url, name=name)
    except (TypeError, ValueError, RuntimeError, TimeoutError) as error:
        raise NotYet(
            f"starting {getattr(function, '__name__', function)} in a process failed: {error}"
        ) from None


def _summary(emit: dict[str, Any]) -> str:
    """An emit as it went through Redis, in short."""
    fields = ("event", "data", "room", "skip_sid", "namespace")
    return "{" + ", ".join(f"{key!r}: {emit.get(key)!r}" for key in fields) + "}"


# --- 13.1 ----------------------------------------------------------------------------------


def _built(team_node: Callable[..., Any], url: str) -> object:
    """Call team_node here, in the kernel, to look at the server before starting processes."""
    try:
        return team_node(url)
    except Exception as error:
        raise NotYet(f"team_node(redis_url) raised {describe(error)}") from None


def _expect_redis_server(sio: object, url: str) -> str:
    """What team_node built must be an AsyncServer whose manager publishes and listens through
    Redis; returns the manager's channel."""
    if sio is None:
        raise NotYet("team_node() returned None: return the server it builds.")
    if isinstance(sio, socketio.Server):
        raise NotYet(
            "team_node() returned a socketio.Server, the synchronous server; the lab's "
            "processes serve with asyncio and aiohttp: build a socketio.AsyncServer."
        )
    if not isinstance(sio, socketio.AsyncServer) or sio.async_mode != "aiohttp":
        raise NotYet(
            f"team_node() returned {sio!r}: return a socketio.AsyncServer(async_mode='aiohttp')."
        )
    manager = sio.manager
    if isinstance(manager, socketio.RedisManager):
        raise NotYet(
            "the server's client manager is a RedisManager, the synchronous one, for a "
            "socketio.Server or a worker; an AsyncServer needs its asyncio twin, "
            "AsyncRedisManager."
        )
    if not isinstance(manager, socketio.AsyncRedisManager):
        raise NotYet(
            f"the server's client manager is {type(manager).__name__}, which keeps the clients "
            "in its own process: give the server a manager that goes through Redis."
        )
    if manager.redis_url != url:
        raise NotYet(
            f"the server's manager connects to {manager.redis_url}, not to the lab's Redis, "
            f"which the check gave team_node as redis_url ({url}): use the argument."
        )
    if manager.write_only:
        raise NotYet(
            "the server's Redis manager is write-only: it would publish its emits but never "
            "hear the other process's. A server's manager must also listen (leave write_only out)."
        )
    return manager.channel


def _why_bob_missed(emits: list[dict[str, Any]]) -> str:
    """Why bob (second process, team 'red') got nothing when ada (first process) shouted."""
    said = (
        "ada (first process) and bob (second process) are in team 'red'; ada shouted and bob "
        f"got nothing within {check.TIMEOUT:g} s."
    )
    if not emits:
        return (
            f"{said} Nothing went through Redis: the 'shout' listener emitted nothing. "
            "AsyncServer.emit is a coroutine: is it awaited?"
        )
    rooms = sorted({str(emit.get("room")) for emit in emits})
    if "red" not in rooms:
        return f"{said} Through Redis went {_summary(emits[0])}: send it to the room data['team']."
    return (
        f"{said} Redis carried the shout to room 'red' ({_summary(emits[0])}), and no process "
        "delivered it to bob: is bob in that room? The 'team' listener must put the client in "
        "the room named by the team, and enter_room is a coroutine: await it."
    )


def _expect_shout(ada: Visitor, bob: Visitor, cy: Visitor, emits: list[dict[str, Any]]) -> None:
    """ada shouted to 'red' with bob (another process) in it, cy in 'blue'."""
    sent = _summary(emits[0]) if emits else "nothing"
    if ada.inbox:
        raise NotYet(
            f"ada got her own shout back ({ada.inbox}); through Redis went {sent}: leave the "
            "shouter out (skip_sid)."
        )
    if cy.inbox:
        raise NotYet(
            f"cy, in team 'blue', got {cy.inbox}; through Redis went {sent}: send to the "
            "team's room only."
        )
    if bob.inbox != [["shouted", "go red!"]]:
        raise NotYet(f"bob got {bob.inbox}; expected [['shouted', 'go red!']].")


@exercise(
    "13.1",
    nudge="Write the function that builds one server process's Socket.IO server, as the "
    "lesson's chat node does: teams are rooms, and a shout goes to everyone in the shouter's "
    "team but the shouter, whichever process they are connected to. The client manager "
    "decides whether a room reaches past its own process.",
    hints=[
        "Start from the lesson's chat node: everything the process needs is imported inside "
        "the function; the server's client manager goes through Redis; one listener puts the "
        "client in a room, the other emits to a room and leaves one client out.",
        "Inside team_node, import socketio and build an AsyncServer(async_mode='aiohttp') with "
        "client_manager=socketio.AsyncRedisManager(redis_url). An async 'team' listener (sid, "
        "team) awaits sio.enter_room; an async 'shout' listener (sid, data) awaits sio.emit of "
        "'shouted' with data['text'], to=data['team'] and skip_sid=sid. Return the server.",
    ],
)
def team_across_processes(answer: object) -> str:
    team_node = function_answer(answer, "team_node")
    names = ["check-13.1-a", "check-13.1-b"]
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(_lab_redis())
        channel = _expect_redis_server(_built(team_node, url), url)
        listening, people = stack.enter_context(_checking(url, channel, names))
        before = listening.subscribers()
        first, second = (_start(team_node, url, name) for name in names)
        ada, bob, cy = Visitor("ada"), Visitor("bob"), Visitor("cy")
        people.extend([ada, bob, cy])
        ada.connect(first.url)
        bob.connect(second.url)
        cy.connect(second.url)
        if not wait_until(lambda: listening.subscribers() >= before + 2):
            raise NotYet(
                f"your processes did not subscribe to the channel {channel!r} of the lab's "
                f"Redis at {url} within {check.TIMEOUT:g} s, though clients connected to both."
            )
        for person, team in ((ada, "red"), (bob, "red"), (cy, "blue")):
            person.call("team", team)
        ada.call("shout", {"team": "red", "text": "go red!"})
        arrived = wait_until(lambda: bob.inbox)
        time.sleep(check.QUIET)
        if not arrived:
            raise NotYet(_why_bob_missed(listening.published()))
        _expect_shout(ada, bob, cy, listening.published())
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


NOTICE = "your report is ready"


def _why_ada_missed(emits: list[dict[str, Any]]) -> str:
    """Why ada got nothing when notify(redis_url, 'ada', NOTICE) ran in a process."""
    said = (
        f"notify(redis_url, 'ada', {NOTICE!r}) ran in its process and ada got nothing "
        f"within {check.TIMEOUT:g} s."
    )
    if not emits:
        return (
            f"{said} Nothing was published on the Redis channel {CHANNEL!r}, where the servers "
            "listen: did notify emit? An AsyncRedisManager's emit is a coroutine that must be "
            "awaited; the synchronous RedisManager's is not."
        )
    emit = emits[0]
    if emit.get("room") != "ada":
        return f"{said} It published {_summary(emit)}: ada is in the room named after her, user."
    return f"{said} It published {_summary(emit)}: ada's server delivers to the namespace '/'."


def _says_write_only(notify: Callable[..., Any]) -> bool:
    with contextlib.suppress(OSError, TypeError):
        return re.search(r"write_only\s*=\s*True", inspect.getsource(notify)) is not None
    return False


@exercise(
    "13.2",
    nudge="Write a worker, a function that runs in a process of its own with no server and no "
    "port, that tells one user something wherever they are connected, as the lesson's "
    "finished-job worker does: it only publishes to Redis, and the server processes deliver.",
    hints=[
        "The worker imports what it uses inside the function, builds a manager that only "
        "publishes to Redis, and emits through it, to the room that carries the user's name.",
        "Inside notify, import socketio; socketio.RedisManager(redis_url, write_only=True) is "
        "a manager that only publishes; call its emit with the event 'notice', the text, and "
        "to=user.",
    ],
)
def worker_notifies(answer: object) -> str:
    notify = function_answer(answer, "notify")
    names = ["check-13.2", "check-13.2-worker"]
    with _lab_redis() as url, _checking(url, CHANNEL, names) as (listening, people):
        before = listening.subscribers()
        server = _start(_notice_node, url, names[0])
        ada, bob = Visitor("ada"), Visitor("bob")
        people.extend([ada, bob])
        ada.connect(server.url)
        bob.connect(server.url)
        wait_until(lambda: listening.subscribers() >= before + 1)
        try:
            run_process(notify, url, "ada", NOTICE, name=names[1])
        except (RuntimeError, TimeoutError, TypeError) as error:
            raise NotYet(f"running notify in a process failed: {error}") from None
        arrived = wait_until(lambda: ada.inbox)
        time.sleep(check.QUIET)
        if not arrived:
            raise NotYet(_why_ada_missed(listening.published()))
        if bob.inbox:
            sent = _summary(listening.published()[0])
            raise NotYet(f"bob got {bob.inbox}; notify published {sent}: send to user only.")
        if ada.inbox != [["notice", NOTICE]]:
            raise NotYet(f"ada got {ada.inbox}; expected [['notice', {NOTICE!r}]].")
    aside = (
        ""
        if _says_write_only(notify)
        else " The lesson's worker also says write_only=True, as python-socketio's "
        "documentation does for external processes: a manager that only publishes."
    )
    return f"A process with no server and no port reached ada, through Redis.{aside}"
