"""Reliability: many connections leave nothing behind, and bad input is rejected, named in the
event log, and does not disturb the other clients of the same server."""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import threading
import time
from collections.abc import Awaitable, Callable, Iterator

import psutil
import pytest
import socketio
import trustme
import websockets.asyncio.client
import websockets.sync.client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import helpers
from helpers import raw, wire

pytestmark = pytest.mark.usefixtures("lab")

CONNECTIONS = 1000
BATCH = 50  # connections open at once


def resources() -> tuple[int, int]:
    """This process's open file descriptors and threads."""
    return psutil.Process().num_fds(), threading.active_count()


def settled(baseline: tuple[int, int], timeout: float = 15.0) -> tuple[int, int]:
    """Wait until the resources are back at ``baseline`` (at most ``timeout`` s); the last count."""
    deadline = time.monotonic() + timeout
    now = resources()
    while now != baseline and time.monotonic() < deadline:
        time.sleep(0.1)
        now = resources()
    return now


def in_batches(visit: Callable[[int], Awaitable[None]], count: int = CONNECTIONS) -> None:
    """Run ``visit(0)``...``visit(count - 1)`` on a fresh event loop, ``BATCH`` at a time."""

    async def main() -> None:
        for start in range(0, count, BATCH):
            await asyncio.gather(*(visit(n) for n in range(start, min(start + BATCH, count))))

    asyncio.run(main())


def assert_visits_leave_nothing_behind(visit: Callable[[int], Awaitable[None]], event: str) -> None:
    """After a warm-up, ``CONNECTIONS`` visits bring this process's fds and threads back to
    their baseline, and the server "many" logged ``event`` once for each visit."""
    in_batches(visit, 5)  # warm up: the lab's loop, the libraries' lazy imports
    helpers.events(settle=0.3)
    baseline = resources()
    in_batches(visit)
    assert settled(baseline) == baseline
    taken = helpers.events("many", settle=0.3, timeout=10)
    assert sum(e.name == event for e in taken) == CONNECTIONS


def test_a_thousand_websocket_connections_leave_nothing_behind() -> None:
    server = helpers.start_ws_server(name="many")

    async def visit(number: int) -> None:
        async with websockets.asyncio.client.connect(server.url) as websocket:
            await websocket.send(f"hello {number}")
            assert await websocket.recv() == f"hello {number}"

    assert_visits_leave_nothing_behind(visit, "disconnected")


def test_a_thousand_socketio_connections_leave_nothing_behind() -> None:
    server = helpers.start_sio_server(name="many")

    async def visit(number: int) -> None:
        client = socketio.AsyncClient(reconnection=False)
        await client.connect(server.url, transports=["websocket"], wait_timeout=10)
        assert await client.call("echo", number, timeout=10) == number
        await client.disconnect()

    assert_visits_leave_nothing_behind(visit, "connect")


def test_start_sio_server_serves_tls() -> None:
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    server = helpers.start_sio_server(name="secure", ssl=context)
    assert server.url.startswith("https://127.0.0.1:")
    trusting = ssl.create_default_context()
    ca.configure_trust(trusting)
    url = server.url.replace("https://", "wss://") + "/socket.io/?EIO=4&transport=websocket"
    with websockets.sync.client.connect(url, ssl=trusting) as websocket:
        assert wire.parse_engineio(websocket.recv(timeout=3)).name == "open"


# --- Bad input ------------------------------------------------------------------------------


@pytest.fixture
def bystander() -> Iterator[tuple[helpers.Service, websockets.sync.client.ClientConnection]]:
    """An echo server capped at 64 bytes, with a good client connected to it throughout."""
    server = helpers.start_ws_server(name="target", max_size=64)
    with websockets.sync.client.connect(server.url) as good:
        good.send("before")
        assert good.recv(timeout=3) == "before"
        yield server, good
        good.send("after")
        assert good.recv(timeout=3) == "after", "the good client was disturbed"


def send_raw(port: int, data: bytes, *, end: bool = True) -> bytes:
    """Send ``data`` on a new TCP connection (then the end of our stream, if ``end``), and
    return all the server says until it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=3) as sock:
        sock.sendall(data)
        if end:
            sock.shutdown(socket.SHUT_WR)
        answer = b""
        while more := sock.recv(65536):
            answer += more
        return answer


def rejections(name: str) -> list[str]:
    return [e.detail for e in helpers.events(name, settle=0.3) if e.name == "rejected"]


@pytest.mark.parametrize(
    ("data", "named"),
    [
        (b"\x00\x01\x02 garbage\r\n\r\n", "garbage bytes, not an HTTP request"),
        (bytes(range(256)) * 4, "garbage bytes, not an HTTP request"),
        (b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgr", "a truncated handshake"),
        (b"GET / HT", "a truncated handshake"),
    ],
    ids=["garbage", "binary-garbage", "truncated-headers", "truncated-request-line"],
)
def test_handshake_that_is_not_http_is_named(bystander, data: bytes, named: str) -> None:
    server, _ = bystander
    assert send_raw(server.port, data) == b"", "no HTTP answer to bytes that are not HTTP"
    found = rejections("target")
    assert len(found) == 1 and found[0].startswith(named), found


def test_a_bad_but_real_http_request_is_answered_not_logged(bystander) -> None:
    """Lesson 03: a request without Upgrade gets 426, which the client reads; no event."""
    server, _ = bystander
    answer = send_raw(server.port, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", end=False)
    assert answer.startswith(b"HTTP/1.1 426 Upgrade Required")
    assert rejections("target") == []


@pytest.mark.parametrize(
    ("frame", "code", "named"),
    [
        (
            wire.encode_frame("x" * 100, mask_key=b"abcd"),
            1009,
            "an oversized frame (frame with 100",
        ),
        (
            wire.encode_frame(b"\xff\xfe", opcode=wire.TEXT, mask_key=b"abcd"),
            1007,
            "a text frame with invalid UTF-8 (invalid start byte at position 0)",
        ),
        (wire.encode_frame("hi"), 1002, "an unmasked client frame"),
        (bytes([0xF1, 0x80]) + b"abcd", 1002, "a frame that breaks RFC 6455 (reserved bits"),
    ],
    ids=["oversized", "invalid-utf8", "unmasked", "reserved-bits"],
)
def test_bad_frames_are_closed_and_named(bystander, frame: bytes, code: int, named: str) -> None:
    server, _ = bystander
    helpers.library_logs("INFO", "websockets")  # frames are named at the INFO level
    with raw.open_websocket(server.url) as connection:
        connection.send(frame)
        answer = connection.recv_frame()
        assert wire.parse_close(answer.payload)[0] == code
    found = rejections("target")
    helpers.library_logs(False)
    assert len(found) == 1 and found[0].startswith(named), found


def test_bad_frames_are_not_named_by_default(bystander) -> None:
    """Lesson 04 sends an unmasked frame: the close frame names it; the log stays as it was."""
    server, _ = bystander
    with raw.open_websocket(server.url) as connection:
        connection.send(wire.encode_frame("hi"))
        assert connection.recv_frame().opcode == wire.CLOSE
    assert rejections("target") == []


def test_the_client_closing_with_an_error_code_is_not_a_rejection(bystander) -> None:
    server, _ = bystander
    helpers.library_logs("INFO", "websockets")
    with raw.open_websocket(server.url) as connection:
        connection.send(
            wire.encode_frame(wire.close_payload(1002), opcode=wire.CLOSE, mask_key=b"abcd")
        )
        assert connection.recv_frame().opcode == wire.CLOSE
    found = rejections("target")
    helpers.library_logs(False)
    assert found == []


@pytest.fixture
def sio_bystander() -> Iterator[tuple[helpers.Service, socketio.Client]]:
    """The demo Socket.IO server, with a good client connected to it throughout."""
    server = helpers.start_sio_server(name="target")
    good = socketio.Client(reconnection=False)
    good.connect(server.url, transports=["websocket"], wait_timeout=3)
    try:
        yield server, good
        assert good.call("echo", "after", timeout=3) == "after", "the good client was disturbed"
    finally:
        good.disconnect()


def engineio_exchange(
    server: helpers.Service, packets: list[str], answers: int
) -> list[str | bytes]:
    """Open an Engine.IO WebSocket, send ``packets``, return the next ``answers`` packets."""
    url = server.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    with websockets.sync.client.connect(url) as websocket:
        assert json.loads(wire.parse_engineio(websocket.recv(timeout=3)).data)["sid"]
        for packet in packets:
            websocket.send(packet)
        return [websocket.recv(timeout=3) for _ in range(answers)]


@pytest.mark.parametrize(
    ("packet", "named"),
    [
        ("4garbage{", "a malformed Socket.IO packet 'garbage{' (ValueError"),
        ('42{"not":"a list"}', 'a malformed Socket.IO packet \'2{"not":"a list"}\' (an event'),
        ("42[]", "a malformed Socket.IO packet '2[]' (an event is a list"),
        ('42[1,"x"]', "a malformed Socket.IO packet '2[1,\"x\"]' (an event is a list"),
        ("49", "a malformed Socket.IO packet '9'"),
    ],
    ids=["not-a-packet", "event-not-a-list", "event-without-name", "event-name-not-text", "type"],
)
def test_malformed_socketio_packets_are_named(sio_bystander, packet: str, named: str) -> None:
    server, _ = sio_bystander
    # CONNECT first, the bad packet, then a good call on the same connection: still served.
    answers = engineio_exchange(server, ["40", packet, '421["echo","still here"]'], 2)
    assert answers[1] == '431["still here"]'
    found = rejections("target")
    assert len(found) == 1 and found[0].startswith(named), found


def test_an_unknown_namespace_is_named(sio_bystander) -> None:
    server, _ = sio_bystander
    assert engineio_exchange(server, ["40/nowhere,"], 1) == ['44/nowhere,"Unable to connect"']
    assert rejections("target") == ["a CONNECT to an unknown namespace '/nowhere'"]


def test_known_namespaces_and_good_packets_are_not_rejections(sio_bystander) -> None:
    server, _ = sio_bystander
    answers = engineio_exchange(server, ['40{"token":"x"}', '421["echo",[1,2]]'], 2)
    assert answers[1] == "431[[1,2]]"
    assert rejections("target") == []


# --- Fuzzed input, against live servers -----------------------------------------------------

FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
after_handshake = st.binary(min_size=1, max_size=200) | st.builds(
    bytes.__add__,
    st.sampled_from([b"\x81\x85", b"\x88\x82", b"\x01\x83", b"\x89\x80"]),
    st.binary(max_size=40),
)


@pytest.mark.timeout(120)
@FUZZ
@given(data=after_handshake)
def test_fuzzed_frames_never_disturb_the_other_clients(bystander, data: bytes) -> None:
    server, good = bystander
    with raw.open_websocket(server.url) as connection:
        connection.send(data)
        connection.socket.settimeout(0.2)  # an incomplete frame: the server waits for more
        try:
            while connection.recv_frame().opcode != wire.CLOSE:
                pass
        except (TimeoutError, ConnectionError, wire.ProtocolError):
            pass  # waiting for the rest of a frame, or gone: both fine
    good.send("still there?")
    assert good.recv(timeout=3) == "still there?"
    helpers.events(settle=0)


@pytest.mark.timeout(120)
@FUZZ
@given(packet=st.text(max_size=40) | st.builds("4{}".format, st.text(max_size=40)))
def test_fuzzed_packets_never_disturb_the_other_clients(sio_bystander, packet: str) -> None:
    server, good = sio_bystander
    url = server.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    with websockets.sync.client.connect(url) as websocket:
        websocket.recv(timeout=3)
        websocket.send(packet or "x")
    assert good.call("echo", "still there?", timeout=3) == "still there?"
    helpers.events(settle=0)
