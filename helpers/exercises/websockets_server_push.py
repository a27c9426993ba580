"""Lesson 05 exercises: a pushing handler, a keepalive watchdog, a max_size limit."""

from __future__ import annotations

import time

from websockets.exceptions import (
    ConnectionClosed,
    ConnectionClosedError,
    ConnectionClosedOK,
    InvalidHandshake,
)
from websockets.sync.client import connect

from .. import raw, wire
from ..check import NotYet, exercise, running_service
from ..lab import Service

_WAIT = 3.0  # seconds any single step of a check may take


def _connect(server: Service, **options: object):
    try:
        return connect(server.url, open_timeout=_WAIT, close_timeout=1, **options)
    except (OSError, InvalidHandshake) as error:
        raise NotYet(
            f"could not connect to {server.url}: {type(error).__name__}: {error}"
        ) from None


@exercise(
    "05.1",
    nudge="async def countdown(websocket): send '3', '2', '1' and 'liftoff' with "
    "'await websocket.send(...)', without waiting for a message; returning from the handler "
    "closes with 1000. Then countdown_server = helpers.start_ws_server(countdown, "
    "name='countdown').",
)
def countdown(server: object) -> str:
    server = running_service(server, "helpers.start_ws_server(..., name='countdown')", "websockets")
    expected = ["3", "2", "1", "liftoff"]
    received: list[object] = []
    with _connect(server) as websocket:
        try:
            while len(received) <= len(expected):
                received.append(websocket.recv(timeout=_WAIT))
        except TimeoutError:
            if not received:
                raise NotYet(
                    f"nothing arrived within {_WAIT:g} s of connecting. A pushing handler sends "
                    "right away: it does not wait for a message from the client."
                ) from None
            raise NotYet(
                f"received {received} and then nothing for {_WAIT:g} s, and the connection "
                "stayed open. Return from the handler after 'liftoff' to close it."
            ) from None
        except ConnectionClosed as closed:
            if received != expected:
                raise NotYet(f"received {received}, expected {expected}.") from None
            if not isinstance(closed, ConnectionClosedOK) or closed.rcvd is None:
                raise NotYet(
                    f"the sequence is right, but the connection ended with: {closed}."
                ) from None
            if closed.rcvd.code != 1000:
                raise NotYet(
                    f"the sequence is right, but the server closed with {closed.rcvd}, not 1000."
                ) from None
            return "Your server pushed 3, 2, 1, liftoff with no request, and closed with 1000."
    raise NotYet(f"received {received}: more than {expected}.")


def _check_silent_client_is_dropped(server: Service, limit: float) -> None:
    """Connect a client that never answers pings; it must get 1011 within ``limit`` seconds."""
    start = time.monotonic()
    try:
        connection = raw.open_websocket(server.url, timeout=_WAIT)
    except (OSError, ValueError) as error:
        raise NotYet(f"could not connect to {server.url}: {error}") from None
    with connection:
        try:
            while True:
                left = start + limit + 0.5 - time.monotonic()
                if left <= 0:
                    raise TimeoutError
                connection.socket.settimeout(left)
                frame = connection.recv_frame()
                if frame.opcode == wire.CLOSE:
                    break
        except TimeoutError:
            raise NotYet(
                f"a client that never answered pings was still connected after {limit:g} s. "
                "Set ping_interval and ping_timeout (in seconds) so that their sum is under 2."
            ) from None
        except OSError as error:
            raise NotYet(f"the connection broke without a close frame: {error}.") from None
    code, reason = wire.parse_close(frame.payload)
    if (code, reason) != (1011, "keepalive ping timeout"):
        raise NotYet(
            f"the silent client was closed, but by {wire.describe(frame)!r}, not by the "
            "keepalive (1011, 'keepalive ping timeout'). Keep the handler running: the default "
            "echo handler does."
        )


@exercise(
    "05.2",
    nudge="helpers.start_ws_server(name='watchdog', ping_interval=..., ping_timeout=...) with "
    "two numbers of seconds that add up to less than 2, such as 0.5 and 0.5.",
)
def watchdog(server: object) -> str:
    server = running_service(server, "helpers.start_ws_server(..., name='watchdog')", "websockets")
    _check_silent_client_is_dropped(server, limit=2.0)
    with _connect(server) as websocket:
        time.sleep(1.5)  # a websockets client answers the pings meanwhile
        try:
            answered = websocket.ping(ack_on_close=True).wait(timeout=_WAIT)
        except ConnectionClosed:
            answered = False
        if not answered or websocket.close_code is not None:
            raise NotYet(
                "a client that answers every ping was dropped too. Give the pongs time to come "
                "back: a ping_timeout of at least 0.2 s."
            )
    return (
        "A client that stopped answering pings was closed with 1011 'keepalive ping timeout' "
        "within 2 s, and a client that answers stayed connected."
    )


@exercise(
    "05.3",
    nudge="max_size is the largest message a server accepts: "
    "helpers.start_ws_server(name='small', max_size=10).",
)
def small(server: object) -> str:
    server = running_service(server, "helpers.start_ws_server(..., name='small')", "websockets")
    with _connect(server, compression=None) as websocket:
        websocket.send("x" * 10)
        try:  # a pong means the server read the 10 bytes and kept the connection open
            pong = websocket.ping(ack_on_close=True)  # 4 random bytes: under any limit
        except ConnectionClosed as closed:
            raise NotYet(f"a 10-byte message closed the connection ({closed}); allow 10.") from None
        if not pong.wait(timeout=_WAIT):
            raise NotYet("after a 10-byte message the server stopped answering pings.")
        if websocket.close_code is not None:
            raise NotYet(
                f"a 10-byte message closed the connection with code {websocket.close_code}; "
                "10 bytes must still be allowed."
            )
        websocket.send("x" * 11)
        try:
            while True:
                websocket.recv(timeout=_WAIT)  # skip any replies to the first message
        except TimeoutError:
            raise NotYet(
                "an 11-byte message did not close the connection: set max_size=10."
            ) from None
        except ConnectionClosed as closed:
            code = closed.rcvd.code if closed.rcvd else None
            if not isinstance(closed, ConnectionClosedError) or code != 1009:
                raise NotYet(
                    f"the 11-byte message ended the connection with {closed}, not 1009."
                ) from None
    return "10 bytes pass, 11 bytes close the connection with 1009 (message too big)."
