"""Lesson 00's exercises: the mistakes learners make, each with its own message."""

from __future__ import annotations

import pytest
from conftest import not_yet

import helpers


def test_00_1_wrong_answers() -> None:
    not_yet("00.1", "pong", "expected 'ping', not 'pong'")
    not_yet("00.1", b"ping", "b'ping' is bytes")

    async def recv() -> str:
        return "ping"

    not_yet("00.1", recv(), "a coroutine, not a reply")


@pytest.mark.usefixtures("lab")
def test_00_2_wrong_answers() -> None:
    async def shout(websocket) -> None:
        async for message in websocket:
            await websocket.send(message.upper())

    async def echo_once(websocket) -> None:
        await websocket.send((await websocket.recv()).upper())

    not_yet("00.2", shout, "this is the handler itself")
    not_yet("00.2", helpers.start_ws_server(name="shout"), "got ['hello, lab', 'again'] back")
    not_yet("00.2", helpers.start_ws_server(echo_once, name="shout"), "the connection ended")
    stopped = helpers.start_ws_server(shout, name="shout")
    stopped.stop()
    not_yet("00.2", stopped, "pass the running Service")
