"""The tap relays bytes unchanged and reads them back as HTTP, WebSocket frames or hex."""

from __future__ import annotations

import socket
import urllib.request

import pytest
import websockets.sync.client
from aiohttp import web

import helpers
from helpers import raw, tap, wire

pytestmark = pytest.mark.usefixtures("lab")


def shown(capsys: pytest.CaptureFixture[str], the_tap: helpers.Tap, decode: str) -> list[str]:
    the_tap.show(decode)
    return capsys.readouterr().out.splitlines()


def test_websocket_transcript(capsys: pytest.CaptureFixture[str]) -> None:
    the_tap = helpers.start_tap(helpers.start_ws_server())
    with websockets.sync.client.connect(the_tap.url, compression=None) as websocket:
        websocket.send("Hello")
        assert websocket.recv() == "Hello"
    lines = shown(capsys, the_tap, "websocket")
    assert lines[:2] == ["connection 1", "  client → server  GET / HTTP/1.1"]
    assert "  server → client  HTTP/1.1 101 Switching Protocols" in lines
    assert lines[-6:] == [
        "  client → server  [11 bytes] text, masked, 5 bytes: 'Hello'",
        "  server → client  [7 bytes] text, 5 bytes: 'Hello'",
        "  client → server  [8 bytes] close, masked, 2 bytes: code 1000 (normal closure)",
        "  server → client  [4 bytes] close, 2 bytes: code 1000 (normal closure)",
        "  server → client  end of stream",
        "  client → server  end of stream",
    ]


def test_one_direction_only(capsys: pytest.CaptureFixture[str]) -> None:
    the_tap = helpers.start_tap(helpers.start_ws_server())
    with websockets.sync.client.connect(the_tap.url, compression=None) as websocket:
        websocket.send("Hello")
        websocket.recv()
    the_tap.show("websocket", only=tap.TO_CLIENT)
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == "  server → client  HTTP/1.1 101 Switching Protocols"
    assert not any("client → server" in line for line in lines)
    with pytest.raises(ValueError, match="only must be"):
        the_tap.show(only="sideways")


def test_permessage_deflate_is_inflated(capsys: pytest.CaptureFixture[str]) -> None:
    the_tap = helpers.start_tap(helpers.start_ws_server())
    with websockets.sync.client.connect(the_tap.url) as websocket:
        for text in ["Hello", "Hello again", "Hello"]:
            websocket.send(text)
            websocket.recv()
    frames = [line for line in shown(capsys, the_tap, "websocket") if "text" in line]
    assert len(frames) == 6
    assert all("(deflated to" in line for line in frames)
    assert "'Hello again'" in frames[2] and "'Hello'" in frames[5]


def test_http_transcript_and_byte_counts(capsys: pytest.CaptureFixture[str]) -> None:
    app = web.Application()

    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="hi there")

    app.router.add_get("/", hello)
    the_tap = helpers.start_tap(helpers.start_http_server(app))
    with urllib.request.urlopen(the_tap.url + "/", timeout=3) as response:
        assert response.read() == b"hi there"
    lines = shown(capsys, the_tap, "http")
    assert "  client → server  GET / HTTP/1.1" in lines
    assert "  server → client  HTTP/1.1 200 OK" in lines
    assert "  server → client  body, 8 bytes: 'hi there'" in lines
    assert the_tap.total() == the_tap.total(tap.TO_SERVER) + the_tap.total(tap.TO_CLIENT)


def test_raw_hex_and_numbered_connections(capsys: pytest.CaptureFixture[str]) -> None:
    server = helpers.start_ws_server()
    the_tap = helpers.start_tap(server)
    for _ in range(2):
        with raw.open_websocket(the_tap.url) as connection:
            connection.send(wire.encode_frame("Hi", mask_key=b"\x00\x00\x00\x00"))
            assert connection.recv_frame().payload == b"Hi"
    lines = shown(capsys, the_tap, "raw")
    assert "connection 2" in lines
    assert "  client → server  8 bytes" in lines
    assert any(line.strip().startswith("81 82 00 00 00 00 48 69") for line in lines)
    the_tap.clear()
    assert shown(capsys, the_tap, "raw") == ["(nothing has passed through the tap)"]


def test_bad_frames_are_reported_not_raised() -> None:
    lines = tap.transcript(
        [
            tap.Chunk(1, tap.TO_SERVER, raw.handshake_request("h", 1), 0.0),
            tap.Chunk(1, tap.TO_SERVER, bytes([0x83, 0x00]), 0.0),
        ],
        "websocket",
    ).splitlines()
    assert lines[-1].startswith("  client → server  not a valid frame (opcode 3 is not defined")


def test_unknown_decoder_and_target() -> None:
    the_tap = helpers.start_tap(helpers.start_ws_server())
    with pytest.raises(ValueError, match="choose one of raw, http, websocket"):
        the_tap.show("smoke-signals")
    with pytest.raises(TypeError, match="a running Service or a port"):
        helpers.start_tap("ws://example")  # type: ignore[arg-type]


def test_unreachable_target_is_logged() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    the_tap = helpers.start_tap(port, name="nowhere")
    with socket.create_connection(("127.0.0.1", the_tap.port), timeout=3) as client:
        assert client.recv(10) == b""
    events = [str(event) for event in helpers.events("nowhere")]
    assert len(events) == 1 and "cannot reach the server" in events[0]


def test_tap_is_a_service_that_stops_and_restarts() -> None:
    server = helpers.start_ws_server()
    first = helpers.start_tap(server)
    second = helpers.start_tap(server)
    assert first.service.stopped and not second.service.stopped
    assert repr(second) == f"<Tap 'tap': {second.url} → {server.url}>"
    second.stop()
    assert [s.name for s in helpers.services()] == ["ws"]


def test_raw_websocket_refuses_a_server_that_does_not_switch() -> None:
    app = web.Application()
    http = helpers.start_http_server(app)
    with pytest.raises(ConnectionError, match="did not switch to WebSocket: HTTP/1.1 404"):
        raw.open_websocket(http.url.replace("http", "ws"))
    with pytest.raises(ValueError, match="expected a ws://host:port URL"):
        raw.open_websocket("http://127.0.0.1:1")
