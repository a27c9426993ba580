"""Engine.IO and Socket.IO packets read by helpers.wire, and the tap's "socketio" transcript."""

from __future__ import annotations

import contextlib
import json

import pytest
import socketio
from hypothesis import given, settings
from hypothesis import strategies as st

import helpers
from helpers import wire


@pytest.mark.parametrize(
    ("packet", "reading"),
    [
        ("2probe", "engine.io ping 'probe'"),
        ("3", "engine.io pong"),
        ("5", "engine.io upgrade"),
        ('0{"sid":"a"}', 'engine.io open {"sid":"a"}'),
        ("40", "engine.io message → socket.io CONNECT"),
        ('42["chat","hi"]', "engine.io message → socket.io EVENT 'chat' ['hi']"),
        ('421["echo","hello"]', "engine.io message → socket.io EVENT 'echo' ['hello'] (ack id 1)"),
        ('431["hello"]', "engine.io message → socket.io ACK ['hello'] (ack id 1)"),
        ('42/admin,["x",1]', "engine.io message → socket.io EVENT 'x' [1] namespace /admin"),
        ('44{"message":"no"}', "engine.io message → socket.io CONNECT_ERROR {'message': 'no'}"),
        ("bAQI=", "engine.io message, binary: 01 02"),
        (b"\x01\x02", "engine.io message, binary: 01 02"),
    ],
)
def test_describe_packet(packet: str | bytes, reading: str) -> None:
    assert wire.describe_packet(packet) == reading


def test_parse_socketio_fields() -> None:
    packet = wire.parse_socketio('51-/files,7["upload",{"_placeholder":true,"num":0}]')
    assert (packet.name, packet.attachments, packet.namespace, packet.id) == (
        "BINARY_EVENT",
        1,
        "/files",
        7,
    )
    assert packet.data[0] == "upload"
    assert [p.name for p in wire.parse_engineio_payload('2\x1e42["a"]')] == ["ping", "message"]


@pytest.mark.parametrize(
    ("packet", "problem"),
    [
        ("", "at least one character"),
        ("9", "a digit from 0 to 6"),
        ("b!!", "not base64"),
        ("42", "starts with the event name"),
        ("42{", "must be JSON"),
        ("43{}", "list of the acknowledgement"),
        ('452["a"]', "attachment count"),
        ("41{}", "carries no data"),
    ],
)
def test_bad_packets(packet: str, problem: str) -> None:
    with pytest.raises(wire.PacketError, match=problem):
        wire.describe_packet(packet)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=40), st.binary(max_size=20)))
def test_only_packet_errors_on_arbitrary_input(data: str | bytes) -> None:
    with contextlib.suppress(wire.PacketError):
        wire.describe_packet(data)


# Text that looks like Socket.IO packets: a type digit, maybe an attachment count, a namespace
# and an ack id, then JSON or junk, so the fuzzing reaches past the first character.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
socketio_like = st.builds(
    lambda kind, count, namespace, ack, data: f"{kind}{count}{namespace}{ack}{data}",
    st.sampled_from("0123456789"),
    st.sampled_from(["", "1-", "2-", "x-", "-"]),
    st.sampled_from(["", "/chat,", "/a", "/,"]),
    st.sampled_from(["", "1", "42", "007"]),
    st.one_of(st.text(max_size=30), json_values.map(json.dumps)),
)


@pytest.mark.timeout(30)
@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(max_size=60), st.binary(max_size=30), st.builds("b{}".format, st.text())))
def test_fuzz_parse_engineio_only_raises_packet_errors(packet: str | bytes) -> None:
    try:
        parsed = wire.parse_engineio(packet)
    except wire.PacketError:
        return
    assert 0 <= parsed.type <= 6 and parsed.name in wire.ENGINEIO_TYPES


@pytest.mark.timeout(30)
@settings(max_examples=1000, deadline=None)
@given(st.one_of(st.text(max_size=60), socketio_like))
def test_fuzz_parse_socketio_only_raises_packet_errors(packet: str) -> None:
    try:
        parsed = wire.parse_socketio(packet)
    except wire.PacketError:
        return
    assert parsed.name in wire.SOCKETIO_TYPES and parsed.namespace.startswith("/")
    assert parsed.id is None or parsed.id >= 0


@pytest.mark.timeout(30)
@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=20), socketio_like.map("4{}".format)), max_size=5))
def test_fuzz_long_polling_bodies_only_raise_packet_errors(packets: list[str]) -> None:
    body = wire.RECORD_SEPARATOR.join(packets)
    with contextlib.suppress(wire.PacketError):
        assert len(wire.parse_engineio_payload(body)) == body.count(wire.RECORD_SEPARATOR) + 1


@pytest.mark.timeout(30)
@settings(max_examples=300, deadline=None)
@given(socketio_like)
def test_what_parse_socketio_accepts_python_socketio_reads_alike(packet: str) -> None:
    """Where helpers.wire accepts a packet, the library's own parser reads the same fields."""
    try:
        ours = wire.parse_socketio(packet)
    except wire.PacketError:
        return
    theirs = socketio.packet.Packet(encoded_packet=packet)
    assert (theirs.packet_type, theirs.namespace or "/", theirs.id) == (
        ours.type,
        ours.namespace,
        ours.id,
    )


@pytest.mark.usefixtures("lab")
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
