"""Lesson 09's exercises: the mistakes learners make, each with its own message."""

from __future__ import annotations

import json

import pytest
import socketio
from conftest import not_yet

import helpers
from helpers.exercises import socketio_under_the_hood

MOVE = '["move",{"x":1,"y":2}]'


def test_09_1_layers_and_types() -> None:
    not_yet("09.1", f"2/game,5{MOVE}", "the Socket.IO packet alone", "needs a 4 in front")
    not_yet("09.1", f"4/game,5{MOVE}", "one digit per layer")
    not_yet("09.1", f"22/game,5{MOVE}", "not a ping")
    not_yet("09.1", f"43/game,5{MOVE}", "its Socket.IO type is 3 (ACK)")
    not_yet("09.1", f"x/game,5{MOVE}", "not a valid packet", "a digit from 0 to 6, not 'x'")


def test_09_1_the_fields_in_their_places() -> None:
    not_yet("09.1", f"42game,5{MOVE}", "a namespace starts with a slash")
    not_yet("09.1", f"42/game5{MOVE}", "the namespace ends with a comma")
    not_yet("09.1", f"425/game,{MOVE}", "the namespace comes right after the two type digits")
    not_yet("09.1", f"42/game,{MOVE}", "it has no ack id")
    not_yet("09.1", f"42/game,7{MOVE}", "its ack id is 7")
    not_yet("09.1", f"42/chat,5{MOVE}", "its namespace is '/chat'")


def test_09_1_the_data() -> None:
    python_repr = "42/game,5" + str(["move", {"x": 1, "y": 2}])
    not_yet("09.1", python_repr, "single quotes are Python's repr")
    inner = json.dumps(json.dumps({"x": 1, "y": 2}))
    not_yet("09.1", f'42/game,5["move",{inner}]', "JSON inside JSON")
    not_yet("09.1", '42/game,5["move",{"x":2,"y":1}]', 'its data is ["move", {"x": 2, "y": 1}]')
    not_yet("09.1", '42/game,5{"move":{"x":1,"y":2}}', "a list that starts with the event name")


def test_09_1_not_a_str() -> None:
    not_yet("09.1", f"42/game,5{MOVE}".encode(), "is bytes", "write it as a str")
    not_yet("09.1", ["move", {"x": 1, "y": 2}], "write the packet as a string")


def test_09_2_not_a_plain_function() -> None:
    async def join(websocket):
        return "sid"

    not_yet("09.2", "join", "pass the function itself, join")
    not_yet("09.2", join, "join is an async def")


@pytest.mark.usefixtures("lab")
def test_09_2_the_wrong_sid() -> None:
    def engineio_sid(websocket):
        opened = websocket.recv(timeout=3)
        websocket.send("40")
        websocket.recv(timeout=3)
        return json.loads(opened[1:])["sid"]

    def whole_packet(websocket):
        websocket.recv(timeout=3)
        websocket.send("40")
        return websocket.recv(timeout=3)

    def the_dict(websocket):
        return json.loads(whole_packet(websocket)[2:])

    def unwritten(websocket):
        pass

    not_yet("09.2", engineio_sid, "is the Engine.IO session's id, from the open packet")
    not_yet("09.2", whole_packet, "returned the whole packet '40{")
    not_yet("09.2", the_dict, "join() returned {'sid': ", "return the sid itself")
    not_yet("09.2", unwritten, "join() returned None")
    not_yet("09.2", lambda websocket: "nobody", 'no Socket.IO client with the sid "nobody"')


@pytest.mark.usefixtures("lab")
def test_09_2_a_connect_never_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    def waits_for_ever(websocket):
        websocket.recv(timeout=3)
        return websocket.recv()  # no CONNECT sent: nothing comes, until the check closes

    def times_out(websocket):
        websocket.recv(timeout=3)
        return websocket.recv(timeout=0.5)

    monkeypatch.setattr(socketio_under_the_hood, "_PATIENCE", 1.0)
    not_yet("09.2", waits_for_ever, "join() waited for a packet that never came")
    not_yet("09.2", times_out, "send the CONNECT packet for '/'")


@pytest.mark.usefixtures("lab")
def test_09_2_breaks_on_the_packet() -> None:
    def loads_it_all(websocket):
        websocket.recv(timeout=3)
        websocket.send("40")
        return json.loads(websocket.recv(timeout=3))["sid"]

    not_yet("09.2", loads_it_all, "join() raised JSONDecodeError", "json.loads what follows")


@pytest.mark.usefixtures("lab")
def test_09_1_a_live_server_that_does_not_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_game_server():
        sio = socketio.AsyncServer(async_mode="aiohttp")  # no /game namespace: no answer
        return sio, helpers.start_sio_server(sio, name="check-09.1")

    monkeypatch.setattr(socketio_under_the_hood, "_game_server", no_game_server)
    not_yet("09.1", f"42/game,5{MOVE}", "a live server did not answer it")
