"""Lesson 13's exercises: the mistakes learners make, each with its own message.

Each check runs the answer in real processes joined by the lab's Redis."""

from __future__ import annotations

import pytest
import socketio
from conftest import not_yet, require_redis

from helpers.check import grade

pytestmark = pytest.mark.usefixtures("lab")


@pytest.fixture(autouse=True)
def redis() -> None:
    """Redis is there, or the test is skipped."""
    require_redis()


# The wrong answers are top-level functions: a process gets a function's source only.


def team_node_without_import(redis_url):
    sio = socketio.AsyncServer(
        async_mode="aiohttp", client_manager=socketio.AsyncRedisManager(redis_url)
    )
    return sio  # the kernel has socketio; the process does not


def team_node_in_one_process(redis_url):
    import socketio

    return socketio.AsyncServer(async_mode="aiohttp")


def team_node_sync_manager(redis_url):
    import socketio

    return socketio.AsyncServer(
        async_mode="aiohttp", client_manager=socketio.RedisManager(redis_url)
    )


def team_node_write_only(redis_url):
    import socketio

    manager = socketio.AsyncRedisManager(redis_url, write_only=True)
    return socketio.AsyncServer(async_mode="aiohttp", client_manager=manager)


def team_node_sync_server(redis_url):
    import socketio

    return socketio.Server(client_manager=socketio.RedisManager(redis_url))


def team_node_returns_the_manager(redis_url):
    import socketio

    return socketio.AsyncRedisManager(redis_url)


def team_node_with_a_fixed_url(redis_url):
    import socketio

    manager = socketio.AsyncRedisManager("redis://localhost:6379/0")
    return socketio.AsyncServer(async_mode="aiohttp", client_manager=manager)


def team_node_unfinished(redis_url):
    """A Socket.IO server for a process: teams are rooms, and shouts go to a team."""
    ...


def team_node_that_raises(redis_url):
    raise ValueError("not written yet")


def shouts_to_all(redis_url):
    import socketio

    sio = socketio.AsyncServer(
        async_mode="aiohttp", client_manager=socketio.AsyncRedisManager(redis_url)
    )

    @sio.event
    async def team(sid, team):
        await sio.enter_room(sid, team)

    @sio.event
    async def shout(sid, data):
        await sio.emit("shouted", data["text"], skip_sid=sid)  # no to=: everyone

    return sio


def shouts_back_to_the_shouter(redis_url):
    import socketio

    sio = socketio.AsyncServer(
        async_mode="aiohttp", client_manager=socketio.AsyncRedisManager(redis_url)
    )

    @sio.event
    async def team(sid, team):
        await sio.enter_room(sid, team)

    @sio.event
    async def shout(sid, data):
        await sio.emit("shouted", data["text"], to=data["team"])  # no skip_sid

    return sio


def forgets_to_await_enter_room(redis_url):
    import socketio

    sio = socketio.AsyncServer(
        async_mode="aiohttp", client_manager=socketio.AsyncRedisManager(redis_url)
    )

    @sio.event
    async def team(sid, team):
        sio.enter_room(sid, team)  # a coroutine, never run: nobody enters the room

    @sio.event
    async def shout(sid, data):
        await sio.emit("shouted", data["text"], to=data["team"], skip_sid=sid)

    return sio


def forgets_to_await_emit(redis_url):
    import socketio

    sio = socketio.AsyncServer(
        async_mode="aiohttp", client_manager=socketio.AsyncRedisManager(redis_url)
    )

    @sio.event
    async def team(sid, team):
        await sio.enter_room(sid, team)

    @sio.event
    async def shout(sid, data):
        sio.emit("shouted", data["text"], to=data["team"], skip_sid=sid)  # never sent

    return sio


def shouts_to_the_text(redis_url):
    import socketio

    sio = socketio.AsyncServer(
        async_mode="aiohttp", client_manager=socketio.AsyncRedisManager(redis_url)
    )

    @sio.event
    async def team(sid, team):
        await sio.enter_room(sid, team)

    @sio.event
    async def shout(sid, data):
        await sio.emit("shouted", data["team"], to=data["text"], skip_sid=sid)  # swapped

    return sio


def shouts_under_another_name(redis_url):
    import socketio

    sio = socketio.AsyncServer(
        async_mode="aiohttp", client_manager=socketio.AsyncRedisManager(redis_url)
    )

    @sio.event
    async def team(sid, team):
        await sio.enter_room(sid, team)

    @sio.event
    async def shout(sid, data):
        await sio.emit("shout", data["text"], to=data["team"], skip_sid=sid)

    return sio


def has_no_team_listener(redis_url):
    import socketio

    return socketio.AsyncServer(
        async_mode="aiohttp", client_manager=socketio.AsyncRedisManager(redis_url)
    )


def test_13_1_what_is_built() -> None:
    not_yet("13.1", team_node_unfinished, "team_node() returned None")
    not_yet("13.1", team_node_that_raises, "team_node(redis_url) raised ValueError")
    not_yet("13.1", team_node_in_one_process, "AsyncManager, which keeps the clients")
    not_yet("13.1", team_node_sync_manager, "a RedisManager, the synchronous one")
    not_yet("13.1", team_node_write_only, "write-only", "leave write_only out")
    not_yet("13.1", team_node_sync_server, "a socketio.Server, the synchronous server")
    not_yet("13.1", team_node_returns_the_manager, "return a socketio.AsyncServer(")
    not_yet("13.1", team_node_with_a_fixed_url, "not to the lab's Redis", "use the argument")
    not_yet("13.1", team_node_unfinished(""), "pass the function itself, team_node")


def test_13_1_what_the_process_needs() -> None:
    not_yet("13.1", team_node_without_import, "failed in its process", "NameError", "import")
    not_yet("13.1", has_no_team_listener, "Is there a listener for 'team'")


def test_13_1_where_the_shout_goes() -> None:
    not_yet("13.1", shouts_back_to_the_shouter, "ada got her own shout", "'skip_sid': None")
    not_yet("13.1", shouts_to_all, "cy, in team 'blue', got", "'room': None")
    not_yet("13.1", forgets_to_await_enter_room, "Redis carried the shout to room 'red'")
    not_yet("13.1", forgets_to_await_emit, "Nothing went through Redis", "is it awaited?")
    not_yet("13.1", shouts_to_the_text, "'room': 'go red!'", "the room data['team']")
    not_yet("13.1", shouts_under_another_name, "expected [['shouted', 'go red!']]")


def notify_to_everyone(redis_url, user, text):
    import socketio

    socketio.RedisManager(redis_url, write_only=True).emit("notice", text)


def notify_swapped(redis_url, user, text):
    import socketio

    socketio.RedisManager(redis_url, write_only=True).emit("notice", user, to=text)


def notify_not_awaited(redis_url, user, text):
    import socketio

    socketio.AsyncRedisManager(redis_url, write_only=True).emit("notice", text, to=user)


def notify_without_import(redis_url, user, text):
    socketio.RedisManager(redis_url, write_only=True).emit("notice", text, to=user)


def notify_another_event(redis_url, user, text):
    import socketio

    socketio.RedisManager(redis_url, write_only=True).emit("notify", text, to=user)


def notify_another_namespace(redis_url, user, text):
    import socketio

    manager = socketio.RedisManager(redis_url, write_only=True)
    manager.emit("notice", text, to=user, namespace="/workers")


def notify_unfinished(redis_url, user, text):
    """A worker: tell user, wherever they are connected."""
    ...


def notify_not_write_only(redis_url, user, text):
    import socketio

    socketio.RedisManager(redis_url).emit("notice", text, to=user)


@pytest.mark.filterwarnings("ignore:coroutine .* was never awaited:RuntimeWarning")
def test_13_2_wrong_answers() -> None:
    not_yet("13.2", notify_to_everyone, "bob got [['notice'", "'room': None")
    not_yet("13.2", notify_swapped, "'room': 'your report is ready'", "named after her")
    not_yet("13.2", notify_not_awaited, "Nothing was published", "must be awaited")
    not_yet("13.2", notify_unfinished, "Nothing was published on the Redis channel 'socketio'")
    not_yet("13.2", notify_without_import, "failed in its process", "NameError")
    not_yet("13.2", notify_another_event, "ada got [['notify'")
    not_yet("13.2", notify_another_namespace, "'namespace': '/workers'")
    not_yet("13.2", lambda redis_url, user, text: None, "pass a function defined with 'def'")
    not_yet("13.2", "notify", "pass the function itself, notify")


def test_13_2_a_manager_that_is_not_write_only_still_works() -> None:
    solved, message = grade("13.2", notify_not_write_only)
    assert solved, message
    assert "also says write_only=True" in message


def test_13_without_a_redis(monkeypatch: pytest.MonkeyPatch) -> None:
    from helpers import broker
    from helpers.exercises import scaling_out

    def no_redis() -> broker.Redis:
        raise broker.RedisUnavailableError("Lesson 13 needs a Redis server, and none was found.")

    monkeypatch.setattr(scaling_out, "start_redis", no_redis)
    not_yet("13.2", notify_unfinished, "needs a Redis server, and none was found")
    monkeypatch.setattr(scaling_out, "start_redis", lambda: broker.Redis("redis://127.0.0.1:9", ""))
    not_yet("13.1", team_node_write_only, "write-only")  # looked at before any Redis is needed
    not_yet("13.2", notify_unfinished, "the lab's Redis at redis://127.0.0.1:9 did not answer")
