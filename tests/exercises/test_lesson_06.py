"""Lesson 06's exercises: the mistakes learners make, each with its own message.

The checks drive the lesson's chat server; the tests build it from the worked answers' file,
which starts with the chat as the notebook builds it, and plug wrong functions into it.
"""

from __future__ import annotations

import json
import runpy
from typing import Any

import pytest
import socketio
from conftest import NOTEBOOKS, not_yet
from websockets.asyncio.server import broadcast

import helpers
from helpers.check import _exercises, grade

SOLUTION = NOTEBOOKS / "solutions" / "06_broadcast_and_chat_by_hand.py"

pytestmark = [
    pytest.mark.usefixtures("lab"),
    pytest.mark.filterwarnings("ignore:coroutine .* was never awaited:RuntimeWarning"),
]


@pytest.fixture
def chat() -> dict[str, Any]:
    """The lesson's chat server and its globals (HANDLERS, NAMES, ROOMS...), running."""
    text = SOLUTION.read_text()
    lesson: dict[str, Any] = {"__name__": "lesson_06"}
    exec(compile(text[: text.index("\n# Exercise 06.1")], str(SOLUTION), "exec"), lesson)
    return lesson


@pytest.mark.parametrize("key", ["06.1", "06.2"])
def test_an_unsolved_exercise_shows_its_nudge(key: str) -> None:
    assert grade(key, ...) == (False, f"{key} is not solved yet. {_exercises[key].nudge}")


def test_the_worked_answers_pass(capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_path(str(SOLUTION))
    out = capsys.readouterr().out
    assert [line[:13] for line in out.splitlines()] == [f"✅ 06.{n} solved" for n in (1, 2)]


def test_06_1_wrong_answers(chat: dict[str, Any]) -> None:
    names, handlers, server = chat["NAMES"], chat["HANDLERS"], chat["chat_server"]

    def whisper_to_all(websocket, to, text):
        message = {"type": "whisper", "from": names[websocket], "text": text}
        broadcast(names, json.dumps(message))

    def whisper_to_the_others(websocket, to, text):
        message = {"type": "whisper", "from": names[websocket], "text": text}
        broadcast(set(names) - {websocket}, json.dumps(message))

    def whisper_without_from(websocket, to, text):
        targets = {connection for connection, name in names.items() if name == to}
        if not targets:
            raise ValueError(f"nobody here is called {to!r}")
        broadcast(targets, json.dumps({"type": "whisper", "to": to, "text": text}))

    def whisper_to_nobody_quietly(websocket, to, text):
        message = {"type": "whisper", "from": names[websocket], "text": text}
        broadcast({c for c, name in names.items() if name == to}, json.dumps(message))

    def whisper_by_lookup(websocket, to, text):
        target = {name: connection for connection, name in names.items()}[to]  # KeyError
        message = {"type": "whisper", "from": names[websocket], "text": text}
        broadcast({target}, json.dumps(message))

    async def async_whisper(websocket, to, text):
        whisper_to_nobody_quietly(websocket, to, text)

    not_yet("06.1", whisper_to_all, "this is a function; register it in HANDLERS")
    not_yet("06.1", server, "register your function with HANDLERS['whisper'] = whisper")
    for wrong, message in [
        (whisper_to_all, "the sender got its own whisper back"),
        (whisper_to_the_others, "cy-06 got the whisper too"),
        (whisper_without_from, 'expected one {"type": "whisper", "from": "ada-06"'),
        (whisper_to_nobody_quietly, "should answer the sender with an error"),
        (whisper_by_lookup, "did your function raise something other than ValueError?"),
        (async_whisper, "If whisper is an async def, dispatch calls it but never awaits it"),
    ]:
        handlers["whisper"] = wrong
        not_yet("06.1", server, message)
    not_yet("06.1", "chat_server", "put the running chat server in whispering_chat")
    server.stop()
    not_yet("06.1", server, "'chat' has stopped: run the cell that starts chat_server again")


async def hello_first(websocket):
    await websocket.send("hello, who are you?")
    await websocket.wait_closed()


def refuse(connection, request):
    return connection.respond(403, "no entry\n")


def test_06_1_other_servers() -> None:
    not_yet("06.1", helpers.start_sio_server(name="chat"), "is a Socket.IO server")
    not_yet("06.1", helpers.start_ws_server(hello_first, name="chat"), "which is not JSON")
    not_yet("06.1", helpers.start_ws_server(name="chat"), "(is this the lesson's chat server?)")
    refusing = helpers.start_ws_server(name="chat", process_request=refuse)
    not_yet("06.1", refusing, "could not connect", "HTTP 403")


def test_06_2_wrong_answers(chat: dict[str, Any]) -> None:
    names, rooms, handlers = chat["NAMES"], chat["ROOMS"], chat["HANDLERS"]
    server, send_to_room = chat["chat_server"], chat["send_to_room"]

    def names_in(room):
        return sorted(names[connection] for connection in rooms.get(room, set()))

    def who_to_the_room(websocket, room):
        send_to_room(room, {"type": "who", "room": room, "names": names_in(room)})

    def who_to_everyone(websocket, room):
        message = {"type": "who", "room": room, "names": names_in(room)}
        broadcast(set(names), json.dumps(message))

    def who_backwards(websocket, room):
        message = {"type": "who", "room": room, "names": names_in(room)[::-1]}
        broadcast({websocket}, json.dumps(message))

    def who_without_the_room(websocket, room):
        broadcast({websocket}, json.dumps({"type": "who", "names": names_in(room)}))

    def who_in_a_room_that_must_exist(websocket, room):
        inside = sorted(names[connection] for connection in rooms[room])  # KeyError
        broadcast({websocket}, json.dumps({"type": "who", "room": room, "names": inside}))

    def who_says_error(websocket, room):
        raise ValueError("who is not ready yet")

    async def async_who(websocket, room):
        who_backwards(websocket, room)

    not_yet("06.2", who_backwards, "this is a function; register it in HANDLERS")
    not_yet("06.2", server, "register your function with HANDLERS['who'] = who")
    for wrong, message in [
        (who_to_the_room, "the answer went to the people in that room instead of to ben-06"),
        (who_to_everyone, "amy-06 got the answer to ben-06's question too"),
        (who_backwards, '"names": ["zoe-06", "amy-06"]}; expected'),
        (who_without_the_room, 'expected {"type": "who", "room": "who-check"'),
        (who_in_a_room_that_must_exist, "the server closed amy-06's connection"),
        (who_says_error, 'answered a \'who\' message with {"type": "error"'),
        (async_who, "If who is an async def, dispatch calls it but never awaits it"),
    ]:
        handlers["who"] = wrong
        not_yet("06.2", server, message)
    not_yet("06.2", socketio.AsyncServer(), "put the running chat server in chat_with_who")
