"""Lesson 00 exercises: a reply from the echo server, and a server of your own."""

from __future__ import annotations

import inspect

from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.sync.client import connect

from ..check import NotYet, exercise, running_service
from . import check


@exercise(
    "00.1",
    nudge="Be the client: open a connection to the echo server with the synchronous client, as "
    "the lesson's first cells do, send the word ping and keep what comes back.",
    hints=[
        "The synchronous client is used in a with block, so the connection closes by itself "
        "when the block ends; inside it, one method sends and another waits for the reply.",
        "Open websockets.sync.client.connect(echo.url) in a with block; inside it, send() the "
        "text, then keep what recv() returns in reply.",
    ],
)
def echo_reply(reply: object) -> str:
    if inspect.iscoroutine(reply):
        reply.close()
        raise NotYet(
            "this is a coroutine, not a reply: an asyncio client's recv() must be awaited. "
            "Use the synchronous client here, or 'await' the call."
        )
    if hasattr(reply, "recv"):
        raise NotYet("this is the connection itself; keep what its recv() returns instead.")
    if reply == b"ping":
        raise NotYet(
            "b'ping' is bytes, so it went out as a binary message and came back as one; "
            "send the text 'ping' (a str), which goes as a text message."
        )
    if reply != "ping":
        raise NotYet(
            f"an echo server sends back exactly what it gets: expected 'ping', not {reply!r}."
        )
    return "The echo server sent 'ping' straight back."


@exercise(
    "00.2",
    nudge="Write a handler of your own, a coroutine that the server runs once per connection, "
    "that answers each message in capital letters; start it in the lab under the name shout, "
    "as the lesson started its servers.",
    hints=[
        "A handler reads messages for as long as the connection lasts, and sends one answer "
        "for each; a str has a method that makes it upper case.",
        "An async def that takes the connection and loops over it with async for, sending "
        "each message's upper() back; pass that function (not a call of it) to "
        "helpers.start_ws_server, named shout.",
    ],
)
def shouting_server(server: object) -> str:
    if callable(server) and not hasattr(server, "url"):
        raise NotYet(
            "this is the handler itself; start it with helpers.start_ws_server(...) and pass "
            "the Service that call returns."
        )
    server = running_service(server, "helpers.start_ws_server(..., name='shout')", "websockets")
    answers = []
    try:
        with connect(server.url, open_timeout=check.TIMEOUT, close_timeout=1) as websocket:
            for text in ("hello, lab", "again"):
                websocket.send(text)
                answers.append(websocket.recv(timeout=check.TIMEOUT))
    except TimeoutError:
        raise NotYet(
            f"sent {('hello, lab', 'again')[len(answers)]!r} and got no answer within "
            f"{check.TIMEOUT:g} s (answers so far: {answers}). Does the handler send one answer "
            "per message?"
        ) from None
    except (ConnectionClosed, InvalidHandshake, OSError) as error:
        raise NotYet(
            f"after the answers {answers}, the connection ended: {error}. Keep the handler "
            "reading messages for as long as the connection is open (a loop over websocket)."
        ) from None
    if answers != ["HELLO, LAB", "AGAIN"]:
        raise NotYet(
            f"sent 'hello, lab' and 'again', got {answers} back; expected ['HELLO, LAB', 'AGAIN']."
        )
    return "Your server shouts: 'hello, lab' came back as 'HELLO, LAB', and 'again' as 'AGAIN'."
