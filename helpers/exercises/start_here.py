"""Lesson 00 exercises."""

from __future__ import annotations

from websockets.sync.client import connect

from ..check import NotYet, exercise
from ..lab import Service


@exercise(
    "00.1",
    hint="open the connection in a 'with websockets.sync.client.connect(echo.url) as websocket:' "
    "block, then use websocket.send() and websocket.recv().",
)
def echo_reply(reply: object) -> str:
    if reply != "ping":
        raise NotYet(
            f"an echo server sends back exactly what it gets: expected 'ping', not {reply!r}."
        )
    return "The echo server sent 'ping' straight back."


@exercise(
    "00.2",
    hint="a handler is an 'async def' that takes the connection; loop with "
    "'async for message in websocket:' and send message.upper(). Start it with "
    "helpers.start_ws_server(your_handler, name='shout').",
)
def shouting_server(server: object) -> str:
    if not isinstance(server, Service) or server.stopped:
        raise NotYet(f"pass the running Service that start_ws_server returned, not {server!r}.")
    with connect(server.url, open_timeout=3, close_timeout=1) as websocket:
        websocket.send("hello, lab")
        answer = websocket.recv(timeout=3)
    if answer != "HELLO, LAB":
        raise NotYet(f"sent 'hello, lab' and got {answer!r} back; expected 'HELLO, LAB'.")
    return "Your server shouts: 'hello, lab' came back as 'HELLO, LAB'."
