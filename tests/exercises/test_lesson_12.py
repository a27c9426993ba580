"""Lesson 12's exercises: the mistakes learners make, each with its own message."""

from __future__ import annotations

import json
import time

import pytest
import websockets.asyncio.client
import websockets.sync.client
from conftest import not_yet

pytestmark = pytest.mark.usefixtures("lab")


def connect(url):
    return websockets.asyncio.client.connect(url, compression=None)


async def right(url, count):
    times = []
    async with connect(url) as websocket:
        for _ in range(count):
            start = time.perf_counter()
            await websocket.send("hello")
            await websocket.recv()
            times.append(time.perf_counter() - start)
    return times


def test_12_1_what_is_passed() -> None:
    def plain(url, count):  # the synchronous client, in a plain def
        with websockets.sync.client.connect(url) as websocket:
            for _ in range(count):
                websocket.send("hello")
                websocket.recv()
        return []

    not_yet("12.1", right("ws://127.0.0.1:9", 100), "a coroutine object")
    not_yet("12.1", plain, "is a plain function (def)", "async def")
    not_yet("12.1", 0.0123, "pass the function itself, round_trips")

    async def url_only(url):
        return []

    not_yet("12.1", url_only, "calling round_trips(url, 100) raised TypeError")


def test_12_1_what_the_wire_shows() -> None:
    async def pipelined(url, count):  # every send first, then every answer
        times = []
        async with connect(url) as websocket:
            start = time.perf_counter()
            for _ in range(count):
                await websocket.send("hello")
            for _ in range(count):
                await websocket.recv()
                times.append(time.perf_counter() - start)
        return times

    async def pipelined_and_compressed(url, count):  # permessage-deflate, the default
        async with websockets.asyncio.client.connect(url) as websocket:
            for _ in range(count):
                await websocket.send("hello")
            return [await websocket.recv() and 0.001 for _ in range(count)]

    async def one_connection_each(url, count):
        times = []
        for _ in range(count):
            start = time.perf_counter()
            async with connect(url) as websocket:
                await websocket.send("hello")
                await websocket.recv()
            times.append(time.perf_counter() - start)
        return times

    async def warmed_up(url, count):
        times = []
        async with connect(url) as websocket:
            for turn in range(count + 10):
                start = time.perf_counter()
                await websocket.send("hello")
                await websocket.recv()
                if turn >= 10:  # the first 10 warm up
                    times.append(time.perf_counter() - start)
        return times

    async def warmed_up_apart(url, count):
        async with connect(url) as websocket:
            await websocket.send("hello")
            await websocket.recv()
        return await right(url, count)

    not_yet("12.1", pipelined, "of your messages on their way to the server")
    not_yet("12.1", pipelined_and_compressed, "of your messages on their way to the server")
    not_yet("12.1", one_connection_each, "the tap saw 100 connections", "one per round trip")
    not_yet("12.1", warmed_up_apart, "the tap saw 2 connections", "more than one")
    not_yet("12.1", warmed_up, "the server received 110 messages", "no warm-up")


@pytest.mark.filterwarnings("ignore:coroutine .* was never awaited:RuntimeWarning")
def test_12_1_missing_awaits() -> None:
    async def no_await_on_recv(url, count):
        times = []
        async with connect(url) as websocket:
            for _ in range(count):
                start = time.perf_counter()
                await websocket.send("hello")
                websocket.recv()  # the mistake under test: not awaited
                times.append(time.perf_counter() - start)
        return times

    async def no_await_on_send(url, count):
        times = []
        async with connect(url) as websocket:
            for _ in range(count):
                start = time.perf_counter()
                websocket.send("hello")  # the mistake under test: not awaited
                await websocket.recv()
                times.append(time.perf_counter() - start)
        return times

    async def two_answers_each(url, count):
        async with connect(url) as websocket:
            for _ in range(count):
                await websocket.send("hello")
                await websocket.recv()
                await websocket.recv()
        return []

    not_yet("12.1", no_await_on_recv, "is an await missing before recv()?")
    not_yet("12.1", no_await_on_send, "nothing reached the server", "before send()")
    not_yet("12.1", two_answers_each, "the server received 1 message and answered it")


def test_12_1_what_comes_back() -> None:
    async def total(url, count):
        return sum(await right(url, count))

    async def nothing(url, count):
        await right(url, count)

    async def milliseconds(url, count):
        return [t * 1000 for t in await right(url, count)]

    async def reversed_clock(url, count):
        return [-t for t in await right(url, count)]

    async def texts(url, count):
        return [f"{t:.6f}" for t in await right(url, count)]

    async def one_short(url, count):
        return (await right(url, count))[1:]

    async def broken(url, count):
        raise ConnectionError("no route")

    not_yet("12.1", total, "returned one number")
    not_yet("12.1", nothing, "returned None")
    not_yet("12.1", milliseconds, "give each time in seconds")
    not_yet("12.1", reversed_clock, "zero or negative")
    not_yet("12.1", texts, "return a list of numbers")
    not_yet("12.1", one_short, "returned 99 times, not 100")
    not_yet("12.1", broken, "raised ConnectionError: no route")


def test_12_1_times_that_miss_the_pause() -> None:
    async def send_only(url, count):  # the clock stops before the answer is back
        times = []
        async with connect(url) as websocket:
            for _ in range(count):
                start = time.perf_counter()
                await websocket.send("hello")
                times.append(time.perf_counter() - start)
                await websocket.recv()
        return times

    async def sorted_times(url, count):
        return sorted(await right(url, count))

    not_yet("12.1", send_only, "held back its answer to round trip 10", "just before each send")
    not_yet("12.1", sorted_times, "Your slowest is number 100", "in the order you measured")


def packet(event, text, **dumps):
    return "42" + json.dumps([event, text], **({"separators": (",", ":")} | dumps))


def frame(payload, *, mask=4, extended_from=126):
    return 2 + (2 if payload >= extended_from else 0) + mask + payload


def test_12_2_wrong_answers() -> None:
    not_yet("12.2", lambda e, t: len(packet(e, t)), "the packet alone")
    not_yet("12.2", lambda e, t: frame(len(packet(e, t)), mask=0), "without a mask key")
    not_yet("12.2", lambda e, t: 6 + len(packet(e, t)), "213 bytes, more than the 125")
    not_yet("12.2", lambda e, t: frame(len(packet(e, t)), extended_from=127), "126 bytes")
    not_yet("12.2", lambda e, t: frame(len(packet(e, t, separators=None))), "compact JSON")
    not_yet("12.2", lambda e, t: frame(len("1" + packet(e, t))), "no ack id")
    not_yet("12.2", lambda e, t: frame(len(packet(e, t)[1:])), "one byte short")
    not_yet("12.2", lambda e, t: frame(len(e) + len(t)), "is 15 bytes of UTF-8")
    not_yet("12.2", lambda e, t: str(frame(len(packet(e, t)))), "return a whole number")
    not_yet("12.2", lambda e, t: None, "returned None")
    not_yet("12.2", lambda e: 21, "raised TypeError")
    not_yet("12.2", 21, "pass the function itself, event_bytes, not 21")


def test_12_2_the_tap_counts_the_emit() -> None:
    message = not_yet("12.2", lambda e, t: len(packet(e, t)), "the tap counted 21 bytes")
    assert "event_bytes('chat', 'hi') returned 15" in message
