"""Lesson 00 exercises."""

from __future__ import annotations

from websockets.sync.client import connect

from ..check import NotYet, exercise
from ..lab import Service


@exercise("00.1", hint="Connect with websockets.sync.client.connect(echo.url), send 'ping', "
          "and put what recv() returns in reply.")
def echo_reply(reply: object) -> str:
    if reply != "ping":
        raise NotYet(f"the echo server sends back exactly what it gets, so expect 'ping', not {reply!r}.")
    return "The echo server sent 'ping' straight back."


@exercise("00.2", hint="Write 'async def shout(websocket):' that sends message.upper() for each "
          "message, then shout_server = helpers.start_ws_server(shout, name='shout').")
def shouting_server(server: object) -> str:
    if not isinstance(server, Service) or server.stopped:
        raise NotYet(f"pass the running Service that start_ws_server returned, not {server!r}.")
    with connect(server.url, open_timeout=3, close_timeout=1) as websocket:
        websocket.send("hello, lab")
        answer = websocket.recv(timeout=3)
    if answer != "HELLO, LAB":
        raise NotYet(f"sent 'hello, lab' and got {answer!r} back; expected 'HELLO, LAB'.")
    return "Your server shouts: 'hello, lab' came back as 'HELLO, LAB'."
