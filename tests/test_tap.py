"""The tap relays bytes unchanged and reads them back as HTTP, WebSocket frames, Redis's
commands and replies, or hex."""

from __future__ import annotations

import itertools
import socket
import urllib.request
from urllib.parse import urlsplit

import pytest
import redis
import socketio
import websockets.sync.client
from aiohttp import web
from conftest import require_redis
from hypothesis import given
from hypothesis import strategies as st

import helpers
from helpers import broker, raw, tap, wire

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


def test_heads_cut_to_their_first_line(capsys: pytest.CaptureFixture[str]) -> None:
    the_tap = helpers.start_tap(helpers.start_ws_server())
    with websockets.sync.client.connect(the_tap.url, compression=None) as websocket:
        websocket.send("Hello")
        websocket.recv()
    the_tap.show("websocket", headers=False)
    lines = capsys.readouterr().out.splitlines()
    assert lines[:5] == [
        "connection 1",
        "  client → server  GET / HTTP/1.1",
        "                   (6 header lines)",
        "  server → client  HTTP/1.1 101 Switching Protocols",
        "                   (5 header lines)",
    ]
    assert lines[5] == "  client → server  [11 bytes] text, masked, 5 bytes: 'Hello'"


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


def resp(*words: str) -> bytes:
    """A command as a Redis client sends it: an array of bulk strings."""
    return resp_bytes(*(word.encode() for word in words))


def resp_bytes(*words: bytes) -> bytes:
    return f"*{len(words)}\r\n".encode() + b"".join(
        b"$%d\r\n%s\r\n" % (len(word), word) for word in words
    )


def test_redis_transcript_reads_commands_replies_and_pushes() -> None:
    hello = b"%2\r\n$6\r\nserver\r\n$5\r\nredis\r\n$5\r\nproto\r\n:3\r\n"
    replies = b"+PONG\r\n-ERR unknown command 'FOO'\r\n$-1\r\n_\r\n#t\r\n,1.5\r\n"
    push = b">3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$0\r\n\r\n"
    get = resp("GET", "k")
    chunks = [
        tap.Chunk(1, tap.TO_SERVER, resp("HELLO", "3"), 0.0),
        tap.Chunk(1, tap.TO_CLIENT, hello, 0.0),
        tap.Chunk(1, tap.TO_SERVER, resp("PUBLISH", "news", "hello?"), 0.0),
        tap.Chunk(1, tap.TO_CLIENT, b":0\r\n", 0.0),
        tap.Chunk(1, tap.TO_SERVER, b"PING\r\n", 0.0),  # inline, as typed into telnet
        tap.Chunk(1, tap.TO_CLIENT, replies, 0.0),
        tap.Chunk(1, tap.TO_SERVER, get[:10], 0.0),  # one command in two chunks
        tap.Chunk(1, tap.TO_SERVER, get[10:], 0.0),
        tap.Chunk(1, tap.TO_CLIENT, push + b"*2\r\n*1\r\n:1\r\n*0\r\n", 0.0),
        tap.Chunk(1, tap.TO_CLIENT, b"?!", 0.0),
        tap.Chunk(1, tap.TO_SERVER, b"*2\r\n$3\r\nGET", 0.0),
        tap.Chunk(1, tap.TO_SERVER, b"", 0.0),
    ]
    assert tap.transcript(chunks, "redis").splitlines() == [
        "connection 1",
        "  client → server  [22 bytes] HELLO 3",
        f"  server → client  [{len(hello)} bytes] {{server: redis, proto: 3}}",
        f"  client → server  [{len(resp('PUBLISH', 'news', 'hello?'))} bytes] PUBLISH news hello?",
        "  server → client  [4 bytes] (integer) 0",
        "  client → server  [6 bytes] PING",
        "  server → client  [7 bytes] PONG",
        "  server → client  [28 bytes] (error) ERR unknown command 'FOO'",
        "  server → client  [5 bytes] (nil)",
        "  server → client  [3 bytes] (nil)",
        "  server → client  [4 bytes] (true)",
        "  server → client  [6 bytes] 1.5",
        f"  client → server  [{len(get)} bytes] GET k",
        f'  server → client  [{len(push)} bytes] message news ""',
        "  server → client  [16 bytes] [1] []",
        "  server → client  not RESP (b'?' does not start a RESP value): 3f 21",
        "  client → server  not RESP (the stream ended inside a value): 2a 32 0d 0a 24 33 0d 0a"
        " 47 45 54",
        "  client → server  end of stream",
    ]


def read_redis(direction: str, pieces: list[bytes]) -> list[tap.Reading]:
    reader = tap._READERS["redis"]()
    return [reading for piece in [*pieces, b""] for reading in reader.feed(direction, piece)]


def cut(data: bytes, points: list[int]) -> list[bytes]:
    edges = sorted({0, len(data), *(point % (len(data) + 1) for point in points)})
    return [data[start:end] for start, end in itertools.pairwise(edges)]


@given(st.lists(st.lists(st.binary(max_size=40), min_size=1, max_size=4), max_size=5), st.data())
def test_redis_commands_read_the_same_however_tcp_cuts_them(
    commands: list[list[bytes]], data: st.DataObject
) -> None:
    stream = b"".join(resp_bytes(*words) for words in commands)
    points = data.draw(st.lists(st.integers(min_value=0), max_size=8))
    whole = read_redis(tap.TO_SERVER, cut(stream, []))
    assert read_redis(tap.TO_SERVER, cut(stream, points)) == whole
    assert [reading.kind for reading in whole] == ["value"] * len(commands) + ["end"]


@given(st.binary(max_size=200), st.lists(st.integers(min_value=0), max_size=8))
def test_any_bytes_are_read_without_an_error_and_every_byte_counted(
    data: bytes, points: list[int]
) -> None:
    for direction in (tap.TO_SERVER, tap.TO_CLIENT):
        readings = read_redis(direction, cut(data, points))
        assert readings[-1].kind == "end"
        assert sum(reading.size or 0 for reading in readings) == len(data)


def test_a_live_redis_conversation(capsys: pytest.CaptureFixture[str]) -> None:
    require_redis()
    port = urlsplit(broker.start_redis().url).port
    assert port is not None
    the_tap = helpers.start_tap(port, scheme="redis")
    assert the_tap.url.startswith("redis://127.0.0.1:")
    with redis.Redis.from_url(the_tap.url) as client:
        assert client.publish("news", "hello?") == 0
        assert client.get("nothing-here") is None
    lines = shown(capsys, the_tap, "redis")
    assert "  client → server  [39 bytes] PUBLISH news hello?" in lines
    assert "  server → client  [4 bytes] (integer) 0" in lines
    assert (
        f"  client → server  [{len(resp('GET', 'nothing-here'))} bytes] GET nothing-here" in lines
    )
    assert "  server → client  end of stream" in lines


def test_tap_reads_socketio_over_websocket(capsys: pytest.CaptureFixture[str]) -> None:
    the_tap = helpers.start_tap(helpers.start_sio_server())
    with socketio.SimpleClient() as client:
        client.connect(the_tap.url, transports=["websocket"])
        assert client.call("echo", "hello", timeout=3) == "hello"
    the_tap.show("socketio")
    out = capsys.readouterr().out
    assert "→ engine.io open {" in out
    assert "→ engine.io message → socket.io EVENT 'echo' ['hello'] (ack id 1)" in out
    assert "→ engine.io message → socket.io ACK ['hello'] (ack id 1)" in out
