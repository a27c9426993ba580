"""Lesson 10's exercises: the mistakes learners make, each with its own message."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
import socketio
from conftest import not_yet

from helpers.check import grade, wait_until
from helpers.exercises import reconnection_and_delivery

from .conftest import TIMEOUT


def deliver_with(*, same_id: bool = True, wrap: bool = True, retry: bool = True, attempts=None):
    """A deliver() for 10.1 with one of the usual mistakes."""

    def deliver(client, event, data, attempts_given=5):
        message_id = uuid.uuid4().hex
        for _ in range(attempts or attempts_given):
            if not same_id:
                message_id = uuid.uuid4().hex  # a new id for every attempt
            message = {"id": message_id, "data": data} if wrap else data
            try:
                return client.call(event, message, timeout=1)
            except socketio.exceptions.TimeoutError:
                if not retry:
                    raise
            except socketio.exceptions.BadNamespaceError:
                time.sleep(1)
        raise TimeoutError("no ack")

    return deliver


def test_10_1_not_a_plain_function() -> None:
    async def deliver(client, event, data, attempts=5):
        return await client.call(event, data)

    not_yet("10.1", deliver, "deliver is an async def")
    not_yet("10.1", "deliver", "pass the function itself, deliver")


@pytest.mark.usefixtures("lab")
def test_10_1_nothing_sent() -> None:
    def unwritten(client, event, data, attempts=5):
        pass

    not_yet("10.1", unwritten, "deliver() returned None and sent nothing")
    not_yet("10.1", lambda client, event, data, attempts=5: data, "without sending anything")


@pytest.mark.usefixtures("lab")
def test_10_1_the_message_itself() -> None:
    not_yet("10.1", deliver_with(same_id=False), "the copies carried different ids")
    not_yet("10.1", deliver_with(wrap=False), "send a dict with the message id and the data")


@pytest.mark.usefixtures("lab")
def test_10_1_no_retry() -> None:
    not_yet("10.1", deliver_with(retry=False), "deliver() raised TimeoutError", "send the same")

    def broken(client, event, data, attempts=5):
        return client.call(event, {"id": message_id, "data": data})  # noqa: F821 - the mistake

    not_yet(
        "10.1", broken, "deliver() raised NameError", "a mistake in its own code, not a lost ack"
    )


@pytest.mark.usefixtures("lab")
def test_10_1_returns_something_else() -> None:
    def returns_the_message(client, event, data, attempts=5):
        message = {"id": uuid.uuid4().hex, "data": data}
        for _ in range(attempts):
            try:
                client.call(event, message, timeout=1)
                return message
            except socketio.exceptions.TimeoutError:
                pass
            except socketio.exceptions.BadNamespaceError:
                time.sleep(1)
        raise TimeoutError

    def sends_once(client, event, data, attempts=5):
        client.emit(event, {"id": uuid.uuid4().hex, "data": data})
        return "sent"

    not_yet("10.1", returns_the_message, "the server's ack was {'text': 'hello', 'n': 1}")
    not_yet("10.1", sends_once, "received one copy and its ack was lost, yet deliver() returned")


@pytest.mark.usefixtures("lab")
def test_10_1_giving_up() -> None:
    def gives_up_quietly(client, event, data, attempts=5):
        try:
            return deliver_with()(client, event, data, attempts)
        except TimeoutError:
            return None

    def gives_up_loudly(client, event, data, attempts=5):
        try:
            return deliver_with()(client, event, data, attempts)
        except TimeoutError:
            raise RuntimeError("gave up") from None

    not_yet("10.1", gives_up_quietly, "the server never acked, yet deliver() returned None")
    not_yet("10.1", gives_up_loudly, "deliver() raised RuntimeError: gave up; raise TimeoutError")
    not_yet("10.1", deliver_with(attempts=5), "with attempts=3, the server received 5 copies")


@pytest.mark.usefixtures("lab")
def test_10_1_too_slow(monkeypatch: pytest.MonkeyPatch) -> None:
    def dawdles(client, event, data, attempts=5):
        time.sleep(1.5)

    monkeypatch.setattr(reconnection_and_delivery, "_RUN", 0.5)
    not_yet("10.1", dawdles, "deliver() was still running after 0.5 s")


@pytest.mark.usefixtures("lab")
def test_10_1_never_gives_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """A deliver() that ignores attempts runs on after the check, which cannot stop it: the
    check says so (grade, not not_yet, which would count its thread as left over)."""
    stop = threading.Event()

    def never_gives_up(client, event, data, attempts=5):
        message = {"id": uuid.uuid4().hex, "data": data}
        while not stop.is_set():
            try:
                return client.call(event, message, timeout=1)
            except socketio.exceptions.TimeoutError:
                pass
            except socketio.exceptions.BadNamespaceError:
                stop.wait(0.2)
        raise TimeoutError("stopped by the test")

    monkeypatch.setattr(reconnection_and_delivery, "_RUN", 4.0)
    solved, message = grade("10.1", never_gives_up)
    stop.set()
    assert not solved
    assert "with attempts=3 and no ack ever, deliver() still ran after 4 s" in message
    assert wait_until(lambda: "check-10.1" not in {t.name for t in threading.enumerate()})


def ledger(memory: str = "server", answers: tuple[object, object] = ("stored", "duplicate")):
    """A ledger_server() for 10.2 whose memory of ids lives in ``memory``: 'server', 'call' or
    'sid'; ``answers`` are what it acks for a new id and for a copy."""

    def ledger_server():
        sio = socketio.AsyncServer(async_mode="aiohttp")
        stored_ids, by_sid = set(), {}

        @sio.event
        async def store(sid, message):
            ids = {"server": stored_ids, "call": set(), "sid": by_sid.setdefault(sid, set())}
            seen = ids[memory]
            if message["id"] in seen:
                return answers[1]
            seen.add(message["id"])
            return answers[0]

        return sio

    return ledger_server


@pytest.mark.usefixtures("lab")
def test_10_2_where_the_memory_lives() -> None:
    not_yet("10.2", ledger("call"), "from the same connection was stored twice")
    not_yet("10.2", ledger("sid"), "a retry comes back with a new sid")


@pytest.mark.usefixtures("lab")
def test_10_2_the_acks() -> None:
    not_yet(
        "10.2", ledger(answers=("ok", "ok")), "→ 'ok'; expected 'stored'", "acked 'ok' for both"
    )
    not_yet("10.2", ledger(answers=("duplicate", "stored")), "had not been sent before")
    not_yet("10.2", ledger(answers=(None, None)), "The handler's return value is the ack")


@pytest.mark.usefixtures("lab")
def test_10_2_a_memory_that_is_not_asked_about_this_id() -> None:
    def ledger_server():
        sio = socketio.AsyncServer(async_mode="aiohttp")
        stored_ids = set()

        @sio.event
        async def store(sid, message):
            if stored_ids:  # the mistake: is anything stored, not is this id stored
                return "duplicate"
            stored_ids.add(message["id"])
            return "stored"

        return sio

    not_yet("10.2", ledger_server, "→ 'duplicate'; expected 'stored'", "had not been sent before")


@pytest.mark.usefixtures("lab")
def test_10_2_no_store_handler() -> None:
    def ledger_server():
        sio = socketio.AsyncServer(async_mode="aiohttp")

        @sio.event
        async def save(sid, message):
            return "stored"

        return sio

    not_yet("10.2", ledger_server, f"got no ack within {TIMEOUT:g} s: is there a 'store' handler")


def test_10_2_not_a_server() -> None:
    def unwritten():
        pass

    def broken():
        return sio  # noqa: F821 - the mistake under test

    not_yet("10.2", unwritten, "ledger_server() returned None")
    not_yet("10.2", broken, "ledger_server() raised NameError")
    not_yet("10.2", lambda: socketio.Server(), "return a socketio.AsyncServer(async_mode=")
    not_yet("10.2", socketio.AsyncServer(async_mode="aiohttp"), "pass the function itself")
