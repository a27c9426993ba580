"""Lesson 05's exercises: the mistakes learners make, each with its own message."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import runpy

import pytest
import websockets.exceptions
from conftest import NOTEBOOKS, not_yet

import helpers
from helpers.check import _exercises, grade

from .conftest import TIMEOUT

pytestmark = [
    pytest.mark.usefixtures("lab"),
    pytest.mark.filterwarnings("ignore:coroutine .* was never awaited:RuntimeWarning"),
]


def start(handler, name):
    return helpers.start_ws_server(handler, name=name)


@pytest.mark.parametrize("key", ["05.1", "05.2", "05.3"])
def test_an_unsolved_exercise_shows_its_nudge(key: str) -> None:
    assert grade(key, ...) == (False, f"{key} is not solved yet. {_exercises[key].nudge}")


def test_the_worked_answers_pass(capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_path(str(NOTEBOOKS / "solutions" / "05_websockets_server_push.py"))
    out = capsys.readouterr().out
    assert [line[:13] for line in out.splitlines()] == [f"✅ 05.{n} solved" for n in (1, 2, 3)]


# --- 05.1 ----------------------------------------------------------------------------------


async def waits_for_a_request(websocket):
    async for _ in websocket:
        for message in ["3", "2", "1", "liftoff"]:
            await websocket.send(message)


async def stays_open(websocket):
    for message in ["3", "2", "1", "liftoff"]:
        await websocket.send(message)
    await websocket.wait_closed()


async def forgets_await(websocket):
    for message in ["3", "2", "1", "liftoff"]:
        websocket.send(message)


async def sends_bytes(websocket):
    for message in [b"3", b"2", b"1", b"liftoff"]:
        await websocket.send(message)


async def sends_numbers(websocket):
    for message in [3, 2, 1, "liftoff"]:
        await websocket.send(message)


async def goes_away(websocket):
    for message in ["3", "2", "1", "liftoff"]:
        await websocket.send(message)
    await websocket.close(1001)


async def leaves(websocket):
    await websocket.close(1001)


async def one_too_many(websocket):
    for message in ["3", "2", "1", "liftoff", "and again"]:
        await websocket.send(message)


def refuse(connection, request):
    return connection.respond(403, "no entry\n")


async def counts_up(websocket):
    for message in ["1", "2", "3", "liftoff"]:
        await websocket.send(message)


def test_05_1_wrong_answers() -> None:
    not_yet("05.1", waits_for_a_request, "this is the handler itself")
    not_yet("05.1", helpers.start_ws_server(name="countdown"), "this is the lab's echo server")
    not_yet(
        "05.1", start(waits_for_a_request, "countdown"), f"nothing arrived within {TIMEOUT:g} s"
    )
    not_yet("05.1", start(stays_open, "countdown"), "and the connection stayed open")
    not_yet("05.1", start(forgets_await, "countdown"), "returned without sending")
    not_yet("05.1", start(sends_bytes, "countdown"), "bytes go out as binary messages")
    not_yet(
        "05.1",
        start(sends_numbers, "countdown"),
        "closed with 1011 (internal error) after []",
        "The server logged: websockets.server: connection handler failed (TypeError",
    )
    not_yet("05.1", start(goes_away, "countdown"), "ended with 1001 (going away), not 1000")
    not_yet("05.1", start(counts_up, "countdown"), "received ['1', '2', '3', 'liftoff'], expected")
    not_yet("05.1", start(one_too_many, "countdown"), "'liftoff', 'and again'], expected")
    refusing = helpers.start_ws_server(counts_up, name="countdown", process_request=refuse)
    not_yet("05.1", refusing, "could not connect", "HTTP 403")
    stopped = start(counts_up, "countdown")
    stopped.stop()
    not_yet("05.1", stopped, "pass the running Service")


# --- 05.2 ----------------------------------------------------------------------------------


async def ticker_only(websocket):
    for number in itertools.count(1):
        await websocket.send(f"tick {number}")
        await asyncio.sleep(0.1)


async def answers_only(websocket):
    async for message in websocket:
        await websocket.send(f"got {message}")


async def one_after_the_other(websocket):
    for number in range(1, 6):
        await websocket.send(f"tick {number}")
        await asyncio.sleep(0.1)
    async for message in websocket:
        await websocket.send(f"got {message}")


async def waits_between_ticks(websocket):
    for number in itertools.count(1):
        await websocket.send(f"tick {number}")
        message = await websocket.recv()
        await websocket.send(f"got {message}")


async def echoes(websocket):
    async def tick():
        for number in itertools.count(1):
            await websocket.send(f"tick {number}")
            await asyncio.sleep(0.1)

    async def answer():
        async for message in websocket:
            await websocket.send(message)

    await asyncio.gather(tick(), answer())


async def gather_without_except(websocket):
    async def tick():
        for number in itertools.count(1):
            await websocket.send(f"tick {number}")
            await asyncio.sleep(0.1)

    async def answer():
        async for message in websocket:
            await websocket.send(f"got {message}")

    await asyncio.gather(tick(), answer())


async def task_left_behind(websocket):
    async def tick():
        for number in itertools.count(1):
            await websocket.send(f"tick {number}")
            await asyncio.sleep(0.1)

    asyncio.create_task(tick())  # noqa: RUF006 - the mistake: nobody awaits or cancels it
    async for message in websocket:
        await websocket.send(f"got {message}")


async def ticking(websocket, then):
    async def tick():
        for number in itertools.count(1):
            await websocket.send(f"tick {number}")
            await asyncio.sleep(0.1)

    ticker = asyncio.create_task(tick())
    try:
        await then(websocket)
    finally:
        ticker.cancel()


async def hangs_up_on_hello(websocket):
    async def hang_up(websocket):
        await websocket.recv()
        await websocket.close(1008, "no talking")

    await ticking(websocket, hang_up)


async def answers_once(websocket):
    async def answer_once(websocket):
        await websocket.send(f"got {await websocket.recv()}")

    await ticking(websocket, answer_once)


async def says_more(websocket):
    async def answer_twice(websocket):
        await websocket.send(f"got {await websocket.recv()}")
        await websocket.send("anything else?")
        await websocket.wait_closed()

    await ticking(websocket, answer_twice)


async def never_stops(websocket):
    async def tick():
        for number in itertools.count(1):
            with contextlib.suppress(websockets.exceptions.ConnectionClosed):
                await websocket.send(f"tick {number}")
            await asyncio.sleep(0.1)

    async def answer():
        async for message in websocket:
            await websocket.send(f"got {message}")

    await asyncio.gather(tick(), answer())


async def two_ticks(websocket):
    for number in (1, 2):
        await websocket.send(f"tick {number}")
        await asyncio.sleep(0.1)


def test_05_2_wrong_answers() -> None:
    not_yet("05.2", ticker_only, "this is the handler itself")
    not_yet("05.2", start(ticker_only, "clock"), "no 'got hello'", "does not read")
    not_yet("05.2", start(answers_only, "clock"), "nothing arrived", "without waiting")
    not_yet("05.2", start(one_after_the_other, "clock"), "the ticks stopped", "took turns")
    not_yet("05.2", start(waits_between_ticks, "clock"), "got ['tick 1'] and then nothing")
    not_yet("05.2", start(echoes, "clock"), "got 'hello'; expected 'got hello'")
    not_yet(
        "05.2",
        start(gather_without_except, "clock"),
        "did not end quietly",
        "connection handler failed (ConnectionClosedOK",
    )
    not_yet(
        "05.2",
        start(task_left_behind, "clock"),
        "did not end quietly",
        "Task exception was never retrieved (ConnectionClosedOK",
    )
    not_yet(
        "05.2",
        start(never_stops, "clock"),
        f"{TIMEOUT:g} s after the client left the handler was still",
    )
    not_yet("05.2", start(counts_up, "clock"), "before the client said anything it got ['1']")
    not_yet("05.2", start(leaves, "clock"), "closed with 1001 (going away) after []")
    not_yet("05.2", start(hangs_up_on_hello, "clock"), "closed with 1008 (policy violation) after")
    not_yet("05.2", start(two_ticks, "clock"), "closed with 1000 (normal closure) after the client")
    not_yet("05.2", start(answers_once, "clock"), "closed with 1000 (normal closure) after 'got")
    not_yet("05.2", start(says_more, "clock"), "got 'anything else?', not the next tick")


# --- 05.3 ----------------------------------------------------------------------------------

TOTAL = 0


async def silent(websocket):
    async for _ in websocket:
        pass


async def echo_back(websocket):
    async for message in websocket:
        await websocket.send(message)


async def joins_text(websocket):
    total = ""
    async for message in websocket:
        total += message
        await websocket.send(total)


async def one_total_for_all(websocket):
    global TOTAL
    async for message in websocket:
        TOTAL += int(message)
        await websocket.send(str(TOTAL))


async def no_except(websocket):
    total = 0
    async for message in websocket:
        total += int(message)
        await websocket.send(str(total))


async def answers_the_error(websocket):
    total = 0
    async for message in websocket:
        try:
            total += int(message)
        except ValueError:
            await websocket.send("error: not a number")
        else:
            await websocket.send(str(total))


async def closes_with(websocket, text_code, text_reason, binary_code):
    total = 0
    async for message in websocket:
        if isinstance(message, bytes) and binary_code:
            await websocket.close(binary_code, "text only")
            return
        if not message.isdigit():
            await websocket.close(text_code, text_reason)
            return
        total += int(message)
        await websocket.send(str(total))


async def policy(websocket):
    await closes_with(websocket, 1008, "not a number", 1003)


async def no_reason(websocket):
    await closes_with(websocket, 1007, "", 1003)


async def no_type_check(websocket):
    await closes_with(websocket, 1007, "not a number", None)


async def bytes_are_invalid(websocket):
    total = 0
    async for message in websocket:
        if not isinstance(message, str) or not message.isdigit():
            await websocket.close(1007, "not a number")
            return
        total += int(message)
        await websocket.send(str(total))


def test_05_3_wrong_answers() -> None:
    not_yet("05.3", no_except, "this is the handler itself")
    not_yet("05.3", start(echo_back, "tally"), "sent '3' after ['2'] and got '3' back")
    not_yet("05.3", start(joins_text, "tally"), "got '23' back: the messages were joined")
    not_yet("05.3", start(one_total_for_all, "tally"), "carried over from the previous")
    not_yet(
        "05.3",
        start(no_except, "tally"),
        "closed with 1011 (internal error): your handler raised",
        "The server logged: websockets.server: connection handler failed (ValueError",
    )
    not_yet("05.3", start(answers_the_error, "tally"), "got 'error: not a number' back")
    not_yet("05.3", start(policy, "tally"), "closed with 1008 (policy violation); text that")
    not_yet("05.3", start(no_reason, "tally"), "closed with 1007, but gave no reason")
    not_yet("05.3", start(no_type_check, "tally"), "sent b'7' and got '7' back (int() accepts")
    not_yet("05.3", start(bytes_are_invalid, "tally"), "while 1007 is for text it cannot use")
    not_yet("05.3", start(ticker_only, "tally"), "sent '2' and got 'tick 1' back")
    not_yet("05.3", start(leaves, "tally"), "closed with 1001 (going away) when the client")
    not_yet("05.3", start(silent, "tally"), f"got nothing back within {TIMEOUT:g} s")
