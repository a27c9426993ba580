"""Tests for helpers.wire: RFC 6455 examples, edge cases, and cross-checks with websockets;
HTTP heads against h11; Engine.IO and Socket.IO packets against python-socketio."""

from __future__ import annotations

import contextlib
import doctest
import json

import engineio.packet
import h11
import pytest
import socketio
from hypothesis import given, settings
from hypothesis import strategies as st
from websockets import frames as ws_frames
from websockets.exceptions import ProtocolError as WsProtocolError
from websockets.streams import StreamReader

from helpers import wire

# --- Helpers -----------------------------------------------------------------------------


def ws_parse(data: bytes, *, mask: bool) -> tuple[ws_frames.Frame, bytes]:
    """Parse one frame with the websockets library; return it and the unread bytes.

    ``Frame.parse`` is a generator-based coroutine: with all the data fed and EOF set,
    one ``next()`` runs it to the end, and its return value rides on StopIteration.
    It raises EOFError when the data ends before the frame does.
    """
    reader = StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    parser = ws_frames.Frame.parse(reader.read_exact, mask=mask, max_size=None, extensions=None)
    with pytest.raises(StopIteration) as stop:
        next(parser)
    return stop.value.value, bytes(reader.buffer)


def ws_serialize(opcode: int, payload: bytes, *, fin: bool, mask: bool) -> bytes:
    """Serialize one frame with the websockets library (it picks a random mask key)."""
    frame = ws_frames.Frame(ws_frames.Opcode(opcode), payload, fin=fin)
    return frame.serialize(mask=mask, extensions=None)


def mask_bit_of(data: bytes) -> bool:
    """The MASK bit of a frame's header, False when there is no second byte yet."""
    return len(data) >= 2 and bool(data[1] & 0x80)


def long_payload(size: int, pattern: bytes) -> bytes:
    return (pattern * size)[:size]


def repeated_payloads(min_size: int, max_size: int) -> st.SearchStrategy[bytes]:
    """Long payloads from a short repeated pattern: hypothesis can't invent 64 KiB at random."""
    return st.builds(
        long_payload, st.integers(min_size, max_size), st.binary(min_size=1, max_size=4)
    )


# Payloads for each of the three length encodings: 7-bit, 16-bit and 64-bit.
data_payloads = st.one_of(
    st.binary(max_size=300),
    repeated_payloads(126, 65535),
    repeated_payloads(65536, 70_000),
)
mask_keys = st.none() | st.binary(min_size=4, max_size=4)


@st.composite
def frame_args(draw: st.DrawFn) -> dict:
    """Keyword arguments for a valid ``encode_frame`` call."""
    opcode = draw(st.sampled_from(list(wire.Opcode)))
    if opcode.is_control:
        payload, fin = draw(st.binary(max_size=125)), True
    else:
        payload, fin = draw(data_payloads), draw(st.booleans())
    return {"payload": payload, "opcode": opcode, "fin": fin, "mask_key": draw(mask_keys)}


def expected_frame(args: dict) -> wire.Frame:
    """The frame ``decode_frame`` should give back for ``encode_frame(**args)``."""
    mask_key = args["mask_key"]
    return wire.Frame(args["fin"], args["opcode"], mask_key is not None, mask_key, args["payload"])


MASK = bytes.fromhex("37fa213d")  # the mask key of the RFC 6455 examples

# --- RFC 6455 examples -------------------------------------------------------------------


def test_accept_key_rfc_example() -> None:
    assert wire.accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def test_opcode_values() -> None:
    assert (wire.CONTINUATION, wire.TEXT, wire.BINARY) == (0, 1, 2)
    assert (wire.CLOSE, wire.PING, wire.PONG) == (8, 9, 10)


# RFC 6455 section 5.7, plus the frames around the length boundaries.
RFC_EXAMPLES = [
    pytest.param({"payload": b"Hello"}, "81 05 48 65 6c 6c 6f", id="unmasked-text"),
    pytest.param(
        {"payload": b"Hello", "mask_key": MASK},
        "81 85 37 fa 21 3d 7f 9f 4d 51 58",
        id="masked-text",
    ),
    pytest.param({"payload": b"Hel", "fin": False}, "01 03 48 65 6c", id="fragment-1"),
    pytest.param({"payload": b"lo", "opcode": wire.CONTINUATION}, "80 02 6c 6f", id="fragment-2"),
    pytest.param({"payload": b"Hello", "opcode": wire.PING}, "89 05 48 65 6c 6c 6f", id="ping"),
    pytest.param(
        {"payload": b"Hello", "opcode": wire.PONG, "mask_key": MASK},
        "8a 85 37 fa 21 3d 7f 9f 4d 51 58",
        id="masked-pong",
    ),
]


@pytest.mark.parametrize(("args", "hex_bytes"), RFC_EXAMPLES)
def test_rfc_examples_encode(args: dict, hex_bytes: str) -> None:
    assert wire.encode_frame(**args) == bytes.fromhex(hex_bytes)


@pytest.mark.parametrize(("args", "hex_bytes"), RFC_EXAMPLES)
def test_rfc_examples_decode(args: dict, hex_bytes: str) -> None:
    args = {"opcode": wire.TEXT, "fin": True, "mask_key": None, **args}
    assert wire.decode_frame(bytes.fromhex(hex_bytes)) == (expected_frame(args), b"")


@pytest.mark.parametrize(
    ("size", "header"),
    [
        (0, "82 00"),
        (125, "82 7d"),
        (126, "82 7e 00 7e"),
        (256, "82 7e 01 00"),  # the RFC's 256-byte example
        (65535, "82 7e ff ff"),
        (65536, "82 7f 00 00 00 00 00 01 00 00"),  # the RFC's 64 KiB example
    ],
)
@pytest.mark.parametrize("mask_key", [None, MASK])
def test_length_boundaries(size: int, header: str, mask_key: bytes | None) -> None:
    payload = long_payload(size, b"\x00\x01\x02")
    data = wire.encode_frame(payload, opcode=wire.BINARY, mask_key=mask_key)
    head = bytearray.fromhex(header)
    if mask_key is None:
        assert data == head + payload
    else:
        head[1] |= 0x80
        assert data == head + mask_key + wire.apply_mask(payload, mask_key)
    frame, rest = wire.decode_frame(data)
    assert (frame.payload, frame.masked, rest) == (payload, mask_key is not None, b"")
    ws_frame, unread = ws_parse(data, mask=mask_key is not None)
    assert (ws_frame.data, unread) == (payload, b"")


def test_str_payload_is_utf8() -> None:
    assert wire.encode_frame("héllo ✓") == wire.encode_frame("héllo ✓".encode())
    assert wire.decode_frame(wire.encode_frame("héllo ✓"))[0].text == "héllo ✓"


def test_apply_mask_twice_gives_the_payload_back() -> None:
    assert wire.apply_mask(wire.apply_mask(b"Hello", MASK), MASK) == b"Hello"
    assert wire.apply_mask(b"Hello", MASK) == bytes.fromhex("7f 9f 4d 51 58")


def test_docstring_examples() -> None:
    failed, attempted = doctest.testmod(wire)
    assert attempted > 0
    assert failed == 0


# --- Cross-checks with the websockets library --------------------------------------------


@settings(max_examples=100, deadline=None)
@given(frame_args())
def test_websockets_parses_what_encode_frame_makes(args: dict) -> None:
    data = wire.encode_frame(**args)
    ws_frame, unread = ws_parse(data, mask=args["mask_key"] is not None)
    assert (ws_frame.opcode, ws_frame.fin, ws_frame.data) == (
        args["opcode"],
        args["fin"],
        args["payload"],
    )
    assert unread == b""


@settings(max_examples=100, deadline=None)
@given(frame_args())
def test_decode_frame_reads_what_websockets_serializes(args: dict) -> None:
    masked = args["mask_key"] is not None
    data = ws_serialize(args["opcode"], args["payload"], fin=args["fin"], mask=masked)
    frame, rest = wire.decode_frame(data)
    assert (frame.opcode, frame.fin, frame.masked, frame.payload) == (
        args["opcode"],
        args["fin"],
        masked,
        args["payload"],
    )
    header = data[: len(data) - len(args["payload"])]
    assert frame.mask_key == (header[-4:] if masked else None)
    assert rest == b""


@settings(max_examples=100, deadline=None)
@given(frame_args(), frame_args())
def test_round_trip_leaves_the_next_frame_untouched(first: dict, second: dict) -> None:
    data = wire.encode_frame(**first) + wire.encode_frame(**second)
    frame, rest = wire.decode_frame(data)
    assert frame == expected_frame(first)
    assert rest == wire.encode_frame(**second)
    assert wire.decode_frame(rest) == (expected_frame(second), b"")


@settings(max_examples=100, deadline=None)
@given(frame_args(), st.data())
def test_every_strict_prefix_is_incomplete(args: dict, data: st.DataObject) -> None:
    encoded = wire.encode_frame(**args)
    cut = data.draw(st.integers(0, len(encoded) - 1), label="cut")
    with pytest.raises(wire.IncompleteFrame) as info:
        wire.decode_frame(encoded[:cut])
    # "at least": never more than what is really missing, and exact once the header is in.
    assert 0 < info.value.needed <= len(encoded) - cut
    header_size = len(encoded) - len(args["payload"])
    if cut >= header_size:
        assert info.value.needed == len(encoded) - cut


@pytest.mark.parametrize("size", [0, 5, 126, 65536])
@pytest.mark.parametrize("mask_key", [None, MASK])
def test_every_prefix_of_some_frames_is_incomplete(size: int, mask_key: bytes | None) -> None:
    encoded = wire.encode_frame(bytes(size), opcode=wire.BINARY, mask_key=mask_key)
    header_size = len(encoded) - size
    # Every cut inside the header and just after it, and the frame minus its last byte.
    cuts = {*range(min(header_size + 2, len(encoded))), len(encoded) - 1}
    for cut in sorted(cuts):
        with pytest.raises(wire.IncompleteFrame) as info:
            wire.decode_frame(encoded[:cut])
        assert 0 < info.value.needed <= len(encoded) - cut
        if cut >= header_size:
            assert info.value.needed == len(encoded) - cut


@settings(max_examples=100, deadline=None)
@given(
    opcode=st.sampled_from(list(wire.Opcode)),
    payload=st.binary(max_size=125),
    wide=st.sampled_from([126, 127]),
    mask_key=mask_keys,
)
def test_non_minimal_lengths_are_accepted_like_websockets(
    opcode: wire.Opcode, payload: bytes, wide: int, mask_key: bytes | None
) -> None:
    # RFC 6455 tells senders to use the fewest bytes for the length, but websockets (and
    # so decode_frame) still reads a length written in more bytes than needed.
    size = 2 if wide == 126 else 8
    mask_bit = 0 if mask_key is None else 0x80
    header = bytes([0x80 | opcode, mask_bit | wide]) + len(payload).to_bytes(size, "big")
    body = payload if mask_key is None else mask_key + wire.apply_mask(payload, mask_key)
    data = header + body
    assert wire.decode_frame(data) == (
        wire.Frame(True, opcode, mask_key is not None, mask_key, payload),
        b"",
    )
    ws_frame, unread = ws_parse(data, mask=mask_key is not None)
    assert (ws_frame.opcode, ws_frame.data, unread) == (opcode, payload, b"")


@pytest.mark.timeout(20)
@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=200))
def test_fuzz_decode_frame_only_raises_wire_errors(data: bytes) -> None:
    try:
        _, rest = wire.decode_frame(data)
    except (wire.IncompleteFrame, wire.ProtocolError):
        return
    assert len(rest) < len(data)
    assert data.endswith(rest)


@pytest.mark.timeout(20)
@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=200))
def test_fuzz_decode_frame_with_deflate_only_raises_wire_errors(data: bytes) -> None:
    """Under permessage-deflate RSV1 is allowed on data frames; the rest stays as strict."""
    try:
        frame, rest = wire.decode_frame(data, deflate=True)
    except (wire.IncompleteFrame, wire.ProtocolError):
        return
    assert data.endswith(rest) and len(rest) < len(data)
    assert not frame.compressed or frame.opcode in (wire.TEXT, wire.BINARY)
    wire.describe(frame)  # reading it aloud never fails either


@pytest.mark.timeout(20)
@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_fuzz_reading_a_stream_of_frames_ends(data: bytes) -> None:
    """Reading frame after frame, as the tap does, always consumes the bytes and stops."""
    steps = 0
    while data:
        try:
            _, data = wire.decode_frame(data)
        except (wire.IncompleteFrame, wire.ProtocolError):
            break
        steps += 1
        assert steps <= 300, "each frame is at least 2 bytes"


# Arbitrary bytes, plus bytes that start like a plausible frame so the fuzzing gets past the
# first header checks.
plausible_heads = st.builds(
    lambda first, second: bytes([first, second]),
    st.sampled_from([0x00, 0x01, 0x02, 0x81, 0x82, 0x88, 0x89, 0x8A, 0x80, 0x09, 0xC1]),
    st.integers(0, 255),
)
fuzz_bytes = st.binary(max_size=300) | st.builds(
    bytes.__add__, plausible_heads, st.binary(max_size=300)
)


@settings(max_examples=500, deadline=None)
@given(fuzz_bytes)
def test_fuzz_decode_frame_agrees_with_websockets(data: bytes) -> None:
    reader = StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    parser = ws_frames.Frame.parse(
        reader.read_exact, mask=mask_bit_of(data), max_size=None, extensions=None
    )
    try:
        frame, rest = wire.decode_frame(data)
    except wire.IncompleteFrame:
        with pytest.raises(EOFError):
            next(parser)
    except wire.ProtocolError:
        # decode_frame may spot a bad header before the frame is complete; websockets
        # reads the whole frame first. A 64-bit length with the top bit set is only
        # rejected here: websockets would wait for that many bytes.
        with pytest.raises((WsProtocolError, EOFError)):
            next(parser)
    else:
        assert "\n" not in wire.describe(frame)
        with pytest.raises(StopIteration) as stop:
            next(parser)
        ws_frame = stop.value.value
        assert (ws_frame.opcode, ws_frame.fin, ws_frame.data) == (
            frame.opcode,
            frame.fin,
            frame.payload,
        )
        assert rest == bytes(reader.buffer)
        assert data.endswith(rest)


# --- Malformed frames and bad arguments --------------------------------------------------

MALFORMED = [
    pytest.param("c1 00", "reserved bit RSV1 is set", True, id="rsv1"),
    pytest.param("a1 00", "reserved bit RSV2 is set", True, id="rsv2"),
    pytest.param("91 00", "reserved bit RSV3 is set", True, id="rsv3"),
    pytest.param("f1 00", "reserved bits RSV1 and RSV2 and RSV3 are set", True, id="all-rsv"),
    *(
        pytest.param(
            f"{0x80 | opcode:02x} 00", f"opcode {opcode} is not defined", True, id=f"op{opcode}"
        )
        for opcode in [3, 4, 5, 6, 7, 11, 12, 13, 14, 15]
    ),
    pytest.param("09 00", "control frames can't be fragmented", True, id="ping-not-final"),
    pytest.param("08 02 03 e8", "control frames can't be fragmented", True, id="close-not-final"),
    pytest.param("89 7e 00 7e" + " 00" * 126, "at most 125 bytes", True, id="ping-126"),
    pytest.param("88 7e 00 7e", "at most 125 bytes", False, id="close-126-header-only"),
    pytest.param(
        "82 7f 80 00 00 00 00 00 00 00", "most significant bit", False, id="64-bit-top-bit"
    ),
]


@pytest.mark.parametrize(("hex_bytes", "message", "websockets_rejects"), MALFORMED)
def test_malformed_frames(hex_bytes: str, message: str, websockets_rejects: bool) -> None:
    data = bytes.fromhex(hex_bytes)
    with pytest.raises(wire.ProtocolError, match=message) as info:
        wire.decode_frame(data)
    assert info.value.close_code == wire.CloseCode.PROTOCOL_ERROR == 1002
    if websockets_rejects:
        with pytest.raises(WsProtocolError):
            ws_parse(data, mask=False)


def test_error_classes() -> None:
    assert issubclass(wire.WireError, ValueError)
    assert issubclass(wire.IncompleteFrame, wire.WireError)
    assert issubclass(wire.ProtocolError, wire.WireError)
    with pytest.raises(wire.IncompleteFrame, match="at least 2 more bytes") as info:
        wire.decode_frame(b"")
    assert info.value.needed == 2
    with pytest.raises(wire.IncompleteFrame, match="at least 1 more byte needed"):
        wire.decode_frame(b"\x81")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"payload": b"x", "mask_key": b"abc"}, "exactly 4 bytes, got 3"),
        ({"payload": b"x", "mask_key": b"abcde"}, "exactly 4 bytes, got 5"),
        ({"payload": b"x", "opcode": 3}, "opcode 3 is not defined"),
        ({"payload": b"x", "opcode": 16}, "opcode 16 is not defined"),
        ({"payload": bytes(126), "opcode": wire.PING}, "at most 125 bytes"),
        ({"payload": b"", "opcode": wire.CLOSE, "fin": False}, "can't be fragmented"),
    ],
)
def test_encode_frame_rejects_bad_arguments(args: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        wire.encode_frame(**args)


def test_text_property() -> None:
    frame, _ = wire.decode_frame(wire.encode_frame("Hello"))
    assert frame.text == "Hello"
    binary, _ = wire.decode_frame(wire.encode_frame(b"\x01", opcode=wire.BINARY))
    with pytest.raises(ValueError, match=r"this is a binary frame: use \.payload"):
        _ = binary.text


# --- Close frames ------------------------------------------------------------------------


def test_close_payload_and_parse_close() -> None:
    assert wire.close_payload(1000) == b"\x03\xe8"
    assert wire.close_payload(1001, "bye") == b"\x03\xe9bye"
    assert wire.parse_close(b"\x03\xe9bye") == (1001, "bye")
    assert wire.parse_close(b"") == (None, "")


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"\x03", "is 1 byte"),
        (b"\x03\xed", r"1005 \(no status received\) .* must never be sent"),
        (b"\x03\xec", "close code 1004 is not allowed"),
        (b"\x03\xe7", "close code 999 is not allowed"),
        (b"\x03\xe8\xff", "must be UTF-8"),
    ],
)
def test_parse_close_rejects(payload: bytes, message: str) -> None:
    with pytest.raises(wire.ProtocolError, match=message) as info:
        wire.parse_close(payload)
    invalid_text = message == "must be UTF-8"  # the payload is not what it says: 1007
    assert info.value.close_code == (1007 if invalid_text else 1002)


def test_close_payload_rejects() -> None:
    with pytest.raises(ValueError, match=r"1006 .* must never be sent"):
        wire.close_payload(1006)
    with pytest.raises(ValueError, match="at most 123 bytes"):
        wire.close_payload(1000, "x" * 124)
    assert len(wire.close_payload(1000, "x" * 123)) == 125


def test_close_codes_match_websockets() -> None:
    for code in [*range(5100), 65535]:
        try:
            expected = ws_frames.Close(code, "ok").serialize()
        except WsProtocolError:
            with pytest.raises(ValueError, match=f"close code {code}"):
                wire.close_payload(code, "ok")
        else:
            assert wire.close_payload(code, "ok") == expected


@settings(max_examples=200, deadline=None)
@given(
    st.binary(min_size=1, max_size=20)
    | st.builds(bytes.__add__, st.sampled_from([b"\x03\xe8", b"\x0f\xa0"]), st.binary(max_size=8))
)
def test_parse_close_agrees_with_websockets(payload: bytes) -> None:
    try:
        expected = ws_frames.Close.parse(payload)
    except (WsProtocolError, UnicodeDecodeError):
        with pytest.raises(wire.ProtocolError):
            wire.parse_close(payload)
    else:
        assert wire.parse_close(payload) == (expected.code, expected.reason)


# --- describe ----------------------------------------------------------------------------


def described(hex_or_args: str | dict) -> str:
    data = (
        bytes.fromhex(hex_or_args)
        if isinstance(hex_or_args, str)
        else wire.encode_frame(**hex_or_args)
    )
    return wire.describe(wire.decode_frame(data)[0])


@pytest.mark.parametrize(
    ("frame", "reading"),
    [
        ("81 85 37 fa 21 3d 7f 9f 4d 51 58", "text, masked, 5 bytes: 'Hello'"),
        ("01 03 48 65 6c", "text (not final), 3 bytes: 'Hel'"),
        ("00 03 6c 6f 21", "continuation (not final), 3 bytes: 'lo!'"),
        ("80 02 01 ff", "continuation, 2 bytes: 01 ff"),
        ("82 03 01 02 03", "binary, 3 bytes: 01 02 03"),
        ("82 01 ff", "binary, 1 byte: ff"),
        ("89 00", "ping, 0 bytes"),
        ("89 04 00 ff 10 20", "ping, 4 bytes: 00 ff 10 20"),
        ("8a 85 37 fa 21 3d 7f 9f 4d 51 58", "pong, masked, 5 bytes: 'Hello'"),
        ("88 02 03 e8", "close, 2 bytes: code 1000 (normal closure)"),
        ("88 05 03 e9 62 79 65", "close, 5 bytes: code 1001 (going away), reason 'bye'"),
        ("88 02 0b b8", "close, 2 bytes: code 3000 (registered with IANA)"),
        ("88 02 0f a0", "close, 2 bytes: code 4000 (private use)"),
        ("88 00", "close, 0 bytes: no status code"),
        (
            "88 01 03",
            "close, 1 byte: 03 (not a valid close payload: a close payload is either empty "
            "or starts with a 2-byte status code, but this one is 1 byte)",
        ),
        ({"payload": "a" * 100}, f"text, 100 bytes: '{'a' * 40}'…"),
        ({"payload": "line\none"}, r"text, 8 bytes: 'line\none'"),
        (
            {"payload": bytes(range(20)), "opcode": wire.BINARY},
            "binary, 20 bytes: 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f …",
        ),
    ],
)
def test_describe(frame: str | dict, reading: str) -> None:
    assert described(frame) == reading


def test_rsv1_means_compressed_only_under_permessage_deflate() -> None:
    compressed_text = bytes([0xC1, 0x02]) + b"\xf2\x00"
    with pytest.raises(wire.ProtocolError, match="RSV1 is set"):
        wire.decode_frame(compressed_text)
    frame, rest = wire.decode_frame(compressed_text, deflate=True)
    assert frame.compressed and frame.opcode == wire.TEXT and rest == b""
    assert wire.describe(frame) == "text, compressed, 2 bytes: f2 00"
    for not_a_message_start in (0xC0, 0xC9):  # continuation, ping: RSV1 stays reserved
        with pytest.raises(wire.ProtocolError, match="RSV1 is set"):
            wire.decode_frame(bytes([not_a_message_start, 0x00]), deflate=True)


# --- Close codes ---------------------------------------------------------------------------


def test_close_codes_are_websockets_close_codes() -> None:
    """Every code websockets names has the same name here (1004, reserved, is only here)."""
    assert {code.name: code.value for code in ws_frames.CloseCode} == {
        code.name: code.value for code in wire.CloseCode if code != wire.CloseCode.RESERVED
    }
    assert set(wire.CLOSE_CODES) == set(wire.CloseCode)
    assert wire.CloseCode.MESSAGE_TOO_BIG.meaning == wire.CLOSE_CODES[1009] == "message too big"


def test_a_close_code_prints_as_its_number() -> None:
    """Lessons print close codes in f-strings: an IntEnum member reads as the bare number."""
    code = wire.CloseCode.GOING_AWAY
    assert (str(code), f"{code}", f"{code:>5}") == ("1001", "1001", " 1001")
    assert wire.close_payload(code) == wire.close_payload(1001)


# --- Engine.IO and Socket.IO packet types ---------------------------------------------------


def test_packet_types_have_the_libraries_names_and_numbers() -> None:
    """The same names and numbers as python-socketio's and python-engineio's packet modules."""
    for socket_type in wire.SocketPacketType:
        assert getattr(socketio.packet, socket_type.name) == socket_type
    for engine_type in wire.EnginePacketType:
        assert getattr(engineio.packet, engine_type.name) == engine_type


def test_parsed_packets_carry_the_enums_and_print_their_numbers() -> None:
    engine = wire.parse_engineio('42["chat","hi"]')
    assert engine.type is wire.EnginePacketType.MESSAGE and engine.name == "message"
    packet = wire.parse_socketio(str(engine.data))
    assert packet.type is wire.SocketPacketType.EVENT and packet.name == "EVENT"
    assert f"type {packet.type} ({packet.name})" == "type 2 (EVENT)"


def test_a_packet_made_with_a_plain_number_has_a_name() -> None:
    assert wire.SocketPacket(2).name == "EVENT"  # type: ignore[arg-type]  # as a learner may write it
    assert wire.EnginePacket(4, "x").name == "message"  # type: ignore[arg-type]  # likewise


# --- HTTP heads ----------------------------------------------------------------------------

RESPONSE = (
    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n\x81\x05Hello"
)


def test_parse_http_head_reads_a_handshake_response() -> None:
    head = wire.parse_http_head(RESPONSE)
    assert head.start_line == "HTTP/1.1 101 Switching Protocols"
    assert head.header("SEC-WEBSOCKET-ACCEPT") == wire.accept_key("dGhlIHNhbXBsZSBub25jZQ==")
    assert head.header("sec-websocket-protocol") is None
    assert RESPONSE[head.size :] == b"\x81\x05Hello"
    assert head.text.encode("latin-1") + b"\r\n\r\n" == RESPONSE[: head.size]


def test_parse_http_head_needs_the_blank_line() -> None:
    end = RESPONSE.index(b"\r\n\r\n") + 4
    for cut in range(end):
        with pytest.raises(wire.IncompleteHead, match=f"in its first {cut} bytes") as info:
            wire.parse_http_head(RESPONSE[:cut])
        assert info.value.received == cut
    assert wire.parse_http_head(RESPONSE[:end]).size == end
    assert issubclass(wire.IncompleteHead, wire.WireError)


def test_header_lines_without_a_colon_are_left_out() -> None:
    head = wire.parse_http_head(b"GET / HTTP/1.1\r\nnot a header\r\nA:  1 \r\nA: 2\r\n\r\n")
    assert head.headers == (("A", "1"), ("A", "2"))
    assert head.header("a") == "1"  # the first, as the tap and raw read it
    assert "not a header" in head.text


token = st.text("abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1)
value = st.text(
    st.characters(min_codepoint=0x21, max_codepoint=0x7E) | st.just(" "), max_size=20
).map(str.strip)
request_heads = st.builds(
    lambda method, target, fields: (
        f"{method} /{target} HTTP/1.1\r\nHost: example.com\r\n"
        + "".join(f"{name}: {val}\r\n" for name, val in fields)
        + "\r\n"
    ).encode("latin-1"),
    st.sampled_from(["GET", "POST", "PUT"]),
    st.text("abc/?=&", max_size=10),
    st.lists(st.tuples(token, value), max_size=6),
)


@settings(max_examples=300, deadline=None)
@given(request_heads, st.binary(max_size=10))
def test_parse_http_head_reads_requests_as_h11_does(head: bytes, after: bytes) -> None:
    """Where h11 (a complete HTTP/1.1 implementation) reads a request, the same fields here."""
    connection = h11.Connection(h11.SERVER)
    connection.receive_data(head + after)
    try:
        event = connection.next_event()
    except h11.RemoteProtocolError:
        return
    assert isinstance(event, h11.Request)
    ours = wire.parse_http_head(head + after)
    method, target, version = ours.start_line.split(" ")
    assert (method, target, version) == (
        event.method.decode(),
        event.target.decode(),
        "HTTP/" + event.http_version.decode(),
    )
    theirs = [(name.decode(), val.decode("latin-1")) for name, val in event.headers]
    assert [(name.lower(), val) for name, val in ours.headers] == theirs
    assert ours.size == len(head)


@settings(max_examples=100, deadline=None)
@given(request_heads)
def test_an_incomplete_head_is_one_h11_needs_more_data_for(head: bytes) -> None:
    cut = head[: len(head) - 1]
    connection = h11.Connection(h11.SERVER)
    connection.receive_data(cut)
    assert connection.next_event() is h11.NEED_DATA
    with pytest.raises(wire.IncompleteHead):
        wire.parse_http_head(cut)


def test_parse_http_head_reads_a_response_as_h11_does() -> None:
    connection = h11.Connection(h11.CLIENT)
    upgrade = [("Host", "example.com"), ("Connection", "Upgrade"), ("Upgrade", "websocket")]
    connection.send(h11.Request(method="GET", target="/", headers=upgrade))
    connection.receive_data(RESPONSE)
    event = connection.next_event()
    assert isinstance(event, h11.InformationalResponse)
    head = wire.parse_http_head(RESPONSE)
    assert head.start_line.split(" ", 2)[1:] == [str(event.status_code), event.reason.decode()]
    assert [(n.lower(), v) for n, v in head.headers] == [
        (n.decode(), v.decode()) for n, v in event.headers
    ]


# --- Engine.IO and Socket.IO packets ---------------------------------------------------------


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
    assert parsed.type in wire.EnginePacketType and parsed.name == parsed.type.name.lower()


@pytest.mark.timeout(30)
@settings(max_examples=1000, deadline=None)
@given(st.one_of(st.text(max_size=60), socketio_like))
def test_fuzz_parse_socketio_only_raises_packet_errors(packet: str) -> None:
    try:
        parsed = wire.parse_socketio(packet)
    except wire.PacketError:
        return
    assert parsed.type in wire.SocketPacketType and parsed.namespace.startswith("/")
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


def test_a_namespace_with_a_query_string_is_refused() -> None:
    """Socket.IO 2 clients sent "/admin?token=..."; python-socketio cuts the query off, so
    accepting it as part of the namespace would read another namespace than the library does."""
    with pytest.raises(wire.PacketError, match="no query string"):
        wire.parse_socketio("0/admin?token=x,")
