"""The WebSocket protocol by hand: the bytes on the wire, as plain functions.

Nothing here opens a socket. Every function takes bytes (or text) and gives bytes (or a
reading of them) back, so you can build a frame in one cell, look at it in the next and
send it with any socket you like. This style is called "sans I/O".

>>> from helpers import wire
>>> wire.accept_key("dGhlIHNhbXBsZSBub25jZQ==")        # the opening handshake
's3pPLMBiTxaQ9kYGzzhZRbK+xOo='
>>> data = wire.encode_frame("Hello")                   # one text frame
>>> data.hex(" ")
'81 05 48 65 6c 6c 6f'
>>> frame, rest = wire.decode_frame(data)               # and back again
>>> wire.describe(frame)
"text, 5 bytes: 'Hello'"

The rules come from RFC 6455, "The WebSocket Protocol": section 4 for the handshake,
section 5 for frames and section 7 for closing.

The handshake itself is HTTP: :func:`parse_http_head` reads the start line and headers of a
request or response.

Socket.IO runs on top of WebSocket (or HTTP long-polling) in two more layers, also read here:
Engine.IO packets (``parse_engineio``) carry Socket.IO packets (``parse_socketio``).
"""

from __future__ import annotations

import base64
import enum
import hashlib
import json
from dataclasses import dataclass
from typing import Any

__all__ = [
    "BINARY",
    "CLOSE",
    "CLOSE_CODES",
    "CONTINUATION",
    "GUID",
    "PING",
    "PONG",
    "TEXT",
    "CloseCode",
    "EnginePacket",
    "EnginePacketType",
    "Frame",
    "HttpHead",
    "IncompleteFrame",
    "IncompleteHead",
    "Opcode",
    "PacketError",
    "ProtocolError",
    "SocketPacket",
    "SocketPacketType",
    "WireError",
    "accept_key",
    "apply_mask",
    "close_payload",
    "decode_frame",
    "describe",
    "describe_packet",
    "encode_frame",
    "parse_close",
    "parse_engineio",
    "parse_engineio_payload",
    "parse_http_head",
    "parse_socketio",
]

# --- Errors ------------------------------------------------------------------------------


class WireError(ValueError):
    """Base class for "these bytes are not a frame, a packet or an HTTP head (yet)"."""


class IncompleteFrame(WireError):
    """The bytes so far are the start of a frame, but not all of it.

    ``needed`` says how many more bytes are needed at least. Once the header has
    arrived it is exact; before that, more may turn out to be needed. Wait for more
    data, append it and decode again.
    """

    def __init__(self, needed: int) -> None:
        self.needed = needed
        plural = "" if needed == 1 else "s"
        super().__init__(
            f"the frame is not complete yet: at least {needed} more byte{plural} needed"
        )


class IncompleteHead(WireError):
    """The bytes so far are the start of an HTTP head, but its blank line has not come yet.

    A head has no length field, so there is no telling how much more is needed: wait for
    more data, append it and parse again.
    """

    def __init__(self, received: int) -> None:
        self.received = received
        super().__init__(
            f"the HTTP head is not complete yet: no blank line in its first {received} bytes"
        )


class CloseCode(enum.IntEnum):
    """The standard close codes of RFC 6455 (section 7.4.1) and the IANA registry.

    Named as the ``websockets`` library names them, with 1004 (reserved) added.
    """

    NORMAL_CLOSURE = 1000
    GOING_AWAY = 1001
    PROTOCOL_ERROR = 1002
    UNSUPPORTED_DATA = 1003
    RESERVED = 1004
    NO_STATUS_RCVD = 1005
    ABNORMAL_CLOSURE = 1006
    INVALID_DATA = 1007
    POLICY_VIOLATION = 1008
    MESSAGE_TOO_BIG = 1009
    MANDATORY_EXTENSION = 1010
    INTERNAL_ERROR = 1011
    SERVICE_RESTART = 1012
    TRY_AGAIN_LATER = 1013
    BAD_GATEWAY = 1014
    TLS_HANDSHAKE = 1015

    @property
    def meaning(self) -> str:
        """What the code says, in the registry's words: ``'message too big'``."""
        return CLOSE_CODES[self]


CLOSE_CODES: dict[int, str] = {
    CloseCode.NORMAL_CLOSURE: "normal closure",
    CloseCode.GOING_AWAY: "going away",
    CloseCode.PROTOCOL_ERROR: "protocol error",
    CloseCode.UNSUPPORTED_DATA: "unsupported data",
    CloseCode.RESERVED: "reserved",
    CloseCode.NO_STATUS_RCVD: "no status received",
    CloseCode.ABNORMAL_CLOSURE: "abnormal closure",
    CloseCode.INVALID_DATA: "invalid frame payload data",
    CloseCode.POLICY_VIOLATION: "policy violation",
    CloseCode.MESSAGE_TOO_BIG: "message too big",
    CloseCode.MANDATORY_EXTENSION: "mandatory extension",
    CloseCode.INTERNAL_ERROR: "internal error",
    CloseCode.SERVICE_RESTART: "service restart",
    CloseCode.TRY_AGAIN_LATER: "try again later",
    CloseCode.BAD_GATEWAY: "bad gateway",
    CloseCode.TLS_HANDSHAKE: "TLS handshake failure",
}
"""The standard close codes and their meanings, by number: ``CLOSE_CODES[1009]``."""


class ProtocolError(WireError):
    """The bytes break a rule of RFC 6455; a real endpoint would close the connection.

    ``close_code`` is the code it would close with: 1002 (protocol error) for a frame that
    breaks the rules, 1007 (invalid data) for text that is not UTF-8.
    """

    def __init__(self, message: str, close_code: CloseCode = CloseCode.PROTOCOL_ERROR) -> None:
        super().__init__(message)
        self.close_code = close_code


# --- The opening handshake ---------------------------------------------------------------

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
"""The fixed string RFC 6455 mixes into every handshake (the same for every server)."""


def accept_key(key: str) -> str:
    """Return the ``Sec-WebSocket-Accept`` value a server sends back for a client's key.

    The client sends a random ``Sec-WebSocket-Key``; the server appends :data:`GUID`,
    takes the SHA-1 hash and encodes it in base64. Only a server that really speaks
    WebSocket can answer correctly, so the client knows it was understood. (SHA-1 is
    not used for security here, only as a fixed recipe.)

    >>> accept_key("dGhlIHNhbXBsZSBub25jZQ==")
    's3pPLMBiTxaQ9kYGzzhZRbK+xOo='
    """
    digest = hashlib.sha1((key + GUID).encode("ascii")).digest()
    return base64.b64encode(digest).decode("ascii")


@dataclass(frozen=True)
class HttpHead:
    """The head of an HTTP/1.1 request or response, as read by :func:`parse_http_head`.

    ``start_line`` is the request line (``GET /chat HTTP/1.1``) or the status line
    (``HTTP/1.1 101 Switching Protocols``); ``headers`` are the ``(name, value)`` pairs in
    the order they came; ``text`` is the whole head as it came, lines joined by ``\\r\\n``;
    ``size`` is its length in bytes, the blank line included: the body (or, after a 101,
    the first WebSocket frame) starts at ``data[size]``.
    """

    start_line: str
    headers: tuple[tuple[str, str], ...]
    text: str
    size: int

    def header(self, name: str) -> str | None:
        """The value of the first header called ``name`` (in any case), or None.

        >>> head = parse_http_head(b"GET / HTTP/1.1\\r\\nUpgrade: websocket\\r\\n\\r\\n")
        >>> head.header("upgrade")
        'websocket'
        """
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)


def parse_http_head(data: bytes) -> HttpHead:
    """Read the HTTP head at the front of ``data``: the start line and the headers, up to
    the blank line that ends them (RFC 9112, section 2.1).

    Raises :class:`IncompleteHead` while the blank line has not arrived: read more and try
    again. The bytes are decoded as Latin-1, which never fails (HTTP headers are ASCII; a
    byte beyond it reads as some character, not as an error). A header line without a
    colon is left out of ``headers`` (but stays in ``text``).

    >>> head = parse_http_head(b"GET /chat HTTP/1.1\\r\\nHost: example.com\\r\\n\\r\\nrest")
    >>> head.start_line, head.headers, head.size
    ('GET /chat HTTP/1.1', (('Host', 'example.com'),), 41)
    """
    end = data.find(b"\r\n\r\n")
    if end < 0:
        raise IncompleteHead(len(data))
    text = data[:end].decode("latin-1")
    start_line, *lines = text.split("\r\n")
    fields = (line.partition(":") for line in lines)
    headers = tuple((name.strip(), value.strip()) for name, colon, value in fields if colon)
    return HttpHead(start_line, headers, text, end + 4)


# --- Frames ------------------------------------------------------------------------------


class Opcode(enum.IntEnum):
    """What a frame carries: the low 4 bits of its first byte.

    Data frames (0-2) carry a message; control frames (8-10) manage the connection.
    The other values (3-7 and 11-15) are reserved for future versions of the protocol.
    """

    CONTINUATION = 0
    TEXT = 1
    BINARY = 2
    CLOSE = 8
    PING = 9
    PONG = 10

    @property
    def is_control(self) -> bool:
        """True for close, ping and pong: short, never fragmented, allowed between fragments."""
        return self >= 8


CONTINUATION = Opcode.CONTINUATION
TEXT = Opcode.TEXT
BINARY = Opcode.BINARY
CLOSE = Opcode.CLOSE
PING = Opcode.PING
PONG = Opcode.PONG

_OPCODES = {opcode.value: opcode for opcode in Opcode}
_MAX_CONTROL_PAYLOAD = 125
_RSV1 = 0x40  # "compressed" under permessage-deflate (RFC 7692)
_RESERVED_BITS = {"RSV1": _RSV1, "RSV2": 0x20, "RSV3": 0x10}


@dataclass(frozen=True)
class Frame:
    """One WebSocket frame, as read by :func:`decode_frame`.

    ``fin`` is True on the last (or only) frame of a message. ``masked`` says whether the
    sender masked the payload (clients must, servers must not); ``mask_key`` is the
    4-byte key it used, or None. ``payload`` is already unmasked. ``compressed`` is the
    RSV1 bit under the permessage-deflate extension: the message's payload is deflated.
    """

    fin: bool
    opcode: Opcode
    masked: bool
    mask_key: bytes | None
    payload: bytes
    compressed: bool = False

    @property
    def text(self) -> str:
        """The payload of a text frame, decoded from UTF-8.

        A text message split over several frames may cut a character in two:
        join the payloads of all its frames first, then decode.
        """
        if self.opcode != TEXT:
            name = Opcode(self.opcode).name.lower()
            raise ValueError(f"only text frames carry text; this is a {name} frame: use .payload")
        return self.payload.decode("utf-8")


def apply_mask(payload: bytes, mask_key: bytes) -> bytes:
    """XOR each payload byte with the mask key, byte ``i`` with ``mask_key[i % 4]``.

    Masking and unmasking are the same step: apply the same key twice and you are back
    where you started.

    >>> apply_mask(apply_mask(b"Hello", b"abcd"), b"abcd")
    b'Hello'
    """
    if len(mask_key) != 4:
        raise ValueError(f"a mask key must be exactly 4 bytes, got {len(mask_key)}")
    return bytes(byte ^ mask_key[i % 4] for i, byte in enumerate(payload))


def encode_frame(
    payload: bytes | str,
    *,
    opcode: int = TEXT,
    fin: bool = True,
    mask_key: bytes | None = None,
) -> bytes:
    """Build the bytes of one frame.

    A ``str`` payload is encoded as UTF-8. The frame is masked exactly when you give a
    4-byte ``mask_key`` (a client must mask what it sends; use ``os.urandom(4)``).
    ``fin=False`` marks a frame that a later frame with opcode :data:`CONTINUATION` goes on.

    >>> encode_frame("Hello").hex(" ")
    '81 05 48 65 6c 6c 6f'
    >>> encode_frame("Hello", mask_key=bytes.fromhex("37fa213d")).hex(" ")
    '81 85 37 fa 21 3d 7f 9f 4d 51 58'
    """
    data = payload.encode("utf-8") if isinstance(payload, str) else bytes(payload)
    if opcode not in _OPCODES:
        raise ValueError(_unknown_opcode(opcode))
    problem = _control_frame_problem(_OPCODES[opcode], fin, len(data))
    if problem:
        raise ValueError(problem)
    first_byte = (0x80 if fin else 0) | opcode
    mask_bit = 0 if mask_key is None else 0x80
    header = bytes([first_byte]) + _encode_length(len(data), mask_bit)
    if mask_key is None:
        return header + data
    return header + bytes(mask_key) + apply_mask(data, mask_key)


def _encode_length(length: int, mask_bit: int) -> bytes:
    """The second header byte plus any extended length, always in the fewest bytes.

    Up to 125 fits in the second byte itself; 126 means "a 16-bit length follows",
    127 means "a 64-bit length follows".
    """
    if length <= 125:
        return bytes([mask_bit | length])
    if length <= 0xFFFF:
        return bytes([mask_bit | 126]) + length.to_bytes(2, "big")
    return bytes([mask_bit | 127]) + length.to_bytes(8, "big")


def _unknown_opcode(value: int) -> str:
    """The error message for an opcode that RFC 6455 does not define."""
    known = ", ".join(f"{opcode.value} ({opcode.name.lower()})" for opcode in Opcode)
    return f"opcode {value} is not defined (3-7 and 11-15 are reserved); use one of {known}"


def _control_frame_problem(opcode: Opcode, fin: bool, length: int) -> str | None:
    """What is wrong with a close, ping or pong frame of this shape, or None."""
    if not opcode.is_control:
        return None
    name = opcode.name.lower()
    if length > _MAX_CONTROL_PAYLOAD:
        return (
            f"a {name} frame is a control frame, and control frames carry at most "
            f"{_MAX_CONTROL_PAYLOAD} bytes of payload, but this one has {length}"
        )
    if not fin:
        return (
            f"a {name} frame is a control frame, and control frames can't be fragmented, "
            "so FIN must be set"
        )
    return None


# --- Reading frames ----------------------------------------------------------------------


def decode_frame(data: bytes, *, deflate: bool = False) -> tuple[Frame, bytes]:
    """Read one frame from the front of ``data``; return it and the bytes after it.

    Raises :class:`IncompleteFrame` when ``data`` does not hold a whole frame yet, and
    :class:`ProtocolError` as soon as the bytes break a rule of RFC 6455: a reserved bit
    set, a reserved opcode, a control frame that is fragmented or longer than 125 bytes,
    or a 64-bit length with its top bit set.

    ``deflate=True`` says the handshake agreed on permessage-deflate (RFC 7692): then RSV1
    may be set on the first frame of a text or binary message, and the frame comes back
    with ``compressed=True`` and its payload still deflated.

    Masked and unmasked frames are both accepted (only the side that receives them
    knows which one is required). The payload of a text frame is not checked for valid
    UTF-8, because a fragment may end in the middle of a character.

    RFC 6455 says a sender MUST write the length in the fewest bytes, but it gives the
    receiver no rule for a longer form (say, 5 written as a 16-bit length). Like the
    ``websockets`` library, this function accepts such a frame and reads the length
    it says.

    >>> frame, rest = decode_frame(bytes.fromhex("81 05 48 65 6c 6c 6f 89 00"))
    >>> frame.text, rest.hex(" ")
    ('Hello', '89 00')
    """
    data = bytes(data)
    _require(data, 2)
    fin = bool(data[0] & 0x80)
    opcode_value = data[0] & 0x0F
    compressed = deflate and opcode_value in (TEXT, BINARY) and bool(data[0] & _RSV1)
    _check_reserved_bits(data[0] & ~_RSV1 if compressed else data[0])
    if opcode_value not in _OPCODES:
        raise ProtocolError(_unknown_opcode(opcode_value))
    opcode = _OPCODES[opcode_value]
    masked = bool(data[1] & 0x80)
    length, position = _decode_length(data)
    problem = _control_frame_problem(opcode, fin, length)
    if problem:
        raise ProtocolError(problem)
    mask_key: bytes | None = None
    if masked:
        _require(data, position + 4)
        mask_key = data[position : position + 4]
        position += 4
    end = position + length
    _require(data, end)
    payload = data[position:end]
    if mask_key is not None:
        payload = apply_mask(payload, mask_key)
    return Frame(fin, opcode, masked, mask_key, payload, compressed), data[end:]


def _require(data: bytes, size: int) -> None:
    """Raise :class:`IncompleteFrame` unless ``data`` holds at least ``size`` bytes."""
    if len(data) < size:
        raise IncompleteFrame(size - len(data))


def _check_reserved_bits(first_byte: int) -> None:
    """Raise :class:`ProtocolError` if RSV1, RSV2 or RSV3 is set.

    Extensions such as permessage-deflate give these bits a meaning, but only when both
    sides agreed on the extension during the handshake (see ``deflate`` above).
    """
    names = [name for name, bit in _RESERVED_BITS.items() if first_byte & bit]
    if len(names) == 1:
        raise ProtocolError(
            f"reserved bit {names[0]} is set, but no extension was negotiated that uses it"
        )
    if names:
        raise ProtocolError(
            f"reserved bits {' and '.join(names)} are set, "
            "but no extension was negotiated that uses them"
        )


def _decode_length(data: bytes) -> tuple[int, int]:
    """Return the payload length and the position of the byte after the length fields."""
    length = data[1] & 0x7F
    if length <= 125:
        return length, 2
    size = 2 if length == 126 else 8
    _require(data, 2 + size)
    length = int.from_bytes(data[2 : 2 + size], "big")
    if length >> 63:
        raise ProtocolError(
            "the 64-bit payload length has its most significant bit set, "
            "but RFC 6455 says that bit must be 0"
        )
    return length, 2 + size


# --- Reading frames aloud ----------------------------------------------------------------

_PREVIEW_CHARS = 40
_PREVIEW_BYTES = 16


def describe(frame: Frame) -> str:
    """Read a frame aloud in one line.

    >>> describe(decode_frame(encode_frame("Hello", mask_key=b"abcd"))[0])
    "text, masked, 5 bytes: 'Hello'"
    >>> describe(decode_frame(encode_frame(close_payload(1000), opcode=CLOSE))[0])
    'close, 2 bytes: code 1000 (normal closure)'

    Long payloads are cut after 40 characters (text) or 16 bytes (hex) and end in "…";
    the byte count is always the full length.
    """
    opcode = Opcode(frame.opcode)
    parts = [opcode.name.lower() + ("" if frame.fin else " (not final)")]
    if frame.masked:
        parts.append("masked")
    if frame.compressed:
        parts.append("compressed")
    size = len(frame.payload)
    parts.append(f"{size} byte" + ("" if size == 1 else "s"))
    reading = ", ".join(parts)
    preview = _hex_preview(frame.payload) if frame.compressed else _preview(opcode, frame.payload)
    return f"{reading}: {preview}" if preview else reading


def _preview(opcode: Opcode, payload: bytes) -> str:
    """A short reading of a payload: text in quotes, binary as hex, close frames decoded.

    Continuation, ping and pong payloads may be text or not; they are shown as text when
    they are valid UTF-8 made of printable characters.
    """
    if opcode == CLOSE:
        return _close_preview(payload)
    if not payload:
        return ""
    if opcode == TEXT:
        return _text_preview(payload.decode("utf-8", errors="replace"))
    if opcode != BINARY:
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            if all(char.isprintable() or char in "\t\n\r" for char in text):
                return _text_preview(text)
    return _hex_preview(payload)


def _text_preview(text: str) -> str:
    """The text in quotes, cut after 40 characters."""
    if len(text) <= _PREVIEW_CHARS:
        return repr(text)
    return repr(text[:_PREVIEW_CHARS]) + "…"


def _hex_preview(data: bytes) -> str:
    """The bytes in hex, cut after 16 bytes."""
    if len(data) <= _PREVIEW_BYTES:
        return data.hex(" ")
    return data[:_PREVIEW_BYTES].hex(" ") + " …"


def _close_preview(payload: bytes) -> str:
    """The status code and reason of a close frame, or what is wrong with them."""
    try:
        code, reason = parse_close(payload)
    except ProtocolError as problem:
        return f"{_hex_preview(payload)} (not a valid close payload: {problem})"
    if code is None:
        return "no status code"
    reading = f"code {code} ({_close_code_meaning(code)})"
    return f"{reading}, reason {_text_preview(reason)}" if reason else reading


# --- Close frames ------------------------------------------------------------------------

_NEVER_SENT = (CloseCode.NO_STATUS_RCVD, CloseCode.ABNORMAL_CLOSURE, CloseCode.TLS_HANDSHAKE)


def close_payload(code: int, reason: str = "") -> bytes:
    """Build the payload of a close frame: a 2-byte status code, then the reason in UTF-8.

    Send it with ``encode_frame(close_payload(1000, "bye"), opcode=CLOSE)``.

    >>> close_payload(1000, "bye").hex(" ")
    '03 e8 62 79 65'
    """
    problem = _close_code_problem(code)
    if problem:
        raise ValueError(problem)
    reason_bytes = reason.encode("utf-8")
    if len(reason_bytes) > _MAX_CONTROL_PAYLOAD - 2:
        raise ValueError(
            f"the close reason can be at most {_MAX_CONTROL_PAYLOAD - 2} bytes of UTF-8 "
            f"(a control frame carries {_MAX_CONTROL_PAYLOAD}, 2 of them for the code), "
            f"but this one is {len(reason_bytes)}"
        )
    return code.to_bytes(2, "big") + reason_bytes


def parse_close(payload: bytes) -> tuple[int | None, str]:
    """Read the status code and reason from the payload of a close frame.

    An empty payload is allowed and means "no status code": you get ``(None, "")``.
    (The ``websockets`` library reports that case as code 1005, "no status received".)
    Raises :class:`ProtocolError` for a 1-byte payload, a code that may not be sent,
    or a reason that is not valid UTF-8.

    >>> parse_close(bytes.fromhex("03 e8 62 79 65"))
    (1000, 'bye')
    """
    if not payload:
        return None, ""
    if len(payload) < 2:
        raise ProtocolError(
            "a close payload is either empty or starts with a 2-byte status code, "
            "but this one is 1 byte"
        )
    code = int.from_bytes(payload[:2], "big")
    problem = _close_code_problem(code)
    if problem:
        raise ProtocolError(problem)
    try:
        reason = payload[2:].decode("utf-8")
    except UnicodeDecodeError:
        raise ProtocolError(
            "the close reason must be UTF-8 text, but it is not", CloseCode.INVALID_DATA
        ) from None
    return code, reason


def _close_code_problem(code: int) -> str | None:
    """What is wrong with sending this close code, or None if it may be sent.

    Allowed: the standard codes 1000-1003 and 1007-1014, 3000-3999 (registered with
    IANA by libraries and frameworks) and 4000-4999 (free for private use).
    """
    if code in _NEVER_SENT:
        return (
            f"close code {code} ({CLOSE_CODES[code]}) only reports a problem inside a "
            "program; it must never be sent in a close frame"
        )
    if code == 1004 or not (1000 <= code <= 1014 or 3000 <= code <= 4999):
        return (
            f"close code {code} is not allowed in a close frame; "
            "use 1000-1003, 1007-1014 or 3000-4999"
        )
    return None


def _close_code_meaning(code: int) -> str:
    """The name of a close code that may be sent."""
    if code in CLOSE_CODES:
        return CLOSE_CODES[code]
    return "registered with IANA" if code < 4000 else "private use"


# --- Engine.IO and Socket.IO packets ----------------------------------------------------------
#
# Engine.IO (protocol 4) is the transport layer under Socket.IO: it opens a session, keeps it
# alive with ping/pong and moves it from HTTP long-polling to WebSocket. Each packet is a type
# digit and data; over long-polling, packets are joined with the record separator "\x1e".
# Socket.IO (protocol 5) packets ride inside Engine.IO "message" packets.


class EnginePacketType(enum.IntEnum):
    """What an Engine.IO packet is: the digit it starts with (named as engineio names them)."""

    OPEN = 0
    CLOSE = 1
    PING = 2
    PONG = 3
    MESSAGE = 4
    UPGRADE = 5
    NOOP = 6


class SocketPacketType(enum.IntEnum):
    """What a Socket.IO packet is: the digit it starts with (named as python-socketio does)."""

    CONNECT = 0
    DISCONNECT = 1
    EVENT = 2
    ACK = 3
    CONNECT_ERROR = 4
    BINARY_EVENT = 5
    BINARY_ACK = 6


RECORD_SEPARATOR = "\x1e"


class PacketError(WireError):
    """The text is not a valid Engine.IO or Socket.IO packet."""


_ENGINE_DIGITS = {str(kind.value): kind for kind in EnginePacketType}
_SOCKET_DIGITS = {str(kind.value): kind for kind in SocketPacketType}
_EVENTS = (SocketPacketType.EVENT, SocketPacketType.BINARY_EVENT)
_ACKS = (SocketPacketType.ACK, SocketPacketType.BINARY_ACK)
_BINARY = (SocketPacketType.BINARY_EVENT, SocketPacketType.BINARY_ACK)
_CONNECTS = (SocketPacketType.CONNECT, SocketPacketType.CONNECT_ERROR)


@dataclass(frozen=True)
class EnginePacket:
    """One Engine.IO packet: its type (see :class:`EnginePacketType`) and its data."""

    type: EnginePacketType
    data: str | bytes

    @property
    def name(self) -> str:
        """The type's name as the Engine.IO protocol writes it: ``'message'``."""
        return EnginePacketType(self.type).name.lower()


@dataclass(frozen=True)
class SocketPacket:
    """One Socket.IO packet: type (see :class:`SocketPacketType`), namespace,
    acknowledgement id and the JSON data."""

    type: SocketPacketType
    namespace: str = "/"
    id: int | None = None
    data: Any = None
    attachments: int = 0

    @property
    def name(self) -> str:
        """The type's name as the Socket.IO protocol writes it: ``'EVENT'``."""
        return SocketPacketType(self.type).name


def parse_engineio(packet: str | bytes) -> EnginePacket:
    """Read one Engine.IO packet: ``"4hello"`` is a message, ``"2"`` a ping.

    A ``bytes`` packet (a binary WebSocket frame) is a binary message; over long-polling a
    binary message is written as ``"b"`` and base64.

    >>> parse_engineio('42["chat","hi"]')
    EnginePacket(type=<EnginePacketType.MESSAGE: 4>, data='2["chat","hi"]')
    """
    if isinstance(packet, bytes | bytearray):
        return EnginePacket(EnginePacketType.MESSAGE, bytes(packet))
    if not packet:
        raise PacketError("an Engine.IO packet has at least one character, its type")
    if packet[0] == "b":
        try:
            data = base64.b64decode(packet[1:], validate=True)
        except ValueError:
            raise PacketError("a 'b' packet carries base64, but this is not base64") from None
        return EnginePacket(EnginePacketType.MESSAGE, data)
    if packet[0] not in _ENGINE_DIGITS:
        raise PacketError(
            f"an Engine.IO packet starts with its type, a digit from 0 to 6, not {packet[0]!r}"
        )
    return EnginePacket(_ENGINE_DIGITS[packet[0]], packet[1:])


def parse_engineio_payload(body: str) -> list[EnginePacket]:
    """Read the packets of a long-polling request or response body ("\x1e" between them)."""
    return [parse_engineio(packet) for packet in body.split(RECORD_SEPARATOR)]


def parse_socketio(packet: str) -> SocketPacket:
    """Read one Socket.IO packet, such as ``'2["chat","hi"]'`` or ``'3/admin,7["ok"]'``.

    The layout is: type digit, then for binary packets the number of attachments and
    ``-``, then a namespace other than ``/`` followed by ``,``, then an acknowledgement id,
    then JSON data.

    >>> packet = parse_socketio('21["chat","hi"]')
    >>> packet.name, packet.namespace, packet.id, packet.data
    ('EVENT', '/', 1, ['chat', 'hi'])
    """
    if not isinstance(packet, str) or not packet or packet[0] not in _SOCKET_DIGITS:
        raise PacketError(f"a Socket.IO packet starts with a type digit from 0 to 6: {packet!r}")
    kind, rest = _SOCKET_DIGITS[packet[0]], packet[1:]
    attachments = 0
    if kind in _BINARY:
        count, dash, rest = rest.partition("-")
        if not dash or not count.isdigit():
            raise PacketError("a binary packet gives its attachment count and '-' after its type")
        attachments = int(count)
    namespace = "/"
    if rest.startswith("/"):
        namespace, _, rest = rest.partition(",")
        if "?" in namespace:  # Socket.IO 2 put a query there; python-socketio cuts it off
            raise PacketError(f"a namespace is a path with no query string: {namespace!r}")
    digits = len(rest) - len(rest.lstrip("0123456789"))
    ack_id = int(rest[:digits]) if digits else None
    data = _json(rest[digits:]) if rest[digits:] else None
    _check_socketio_data(kind, data)
    return SocketPacket(kind, namespace, ack_id, data, attachments)


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        raise PacketError(f"the data of a Socket.IO packet must be JSON: {text[:40]!r}") from None


def _check_socketio_data(kind: SocketPacketType, data: Any) -> None:
    """The data rules of each packet type: an event is a list that starts with its name."""
    name = kind.name
    if kind in _EVENTS and not (isinstance(data, list) and data and isinstance(data[0], str)):
        raise PacketError(f"an {name} packet's data is a list that starts with the event name")
    if kind in _ACKS and not isinstance(data, list):
        raise PacketError(f"an {name} packet's data is a list of the acknowledgement's values")
    if kind in _CONNECTS and data is not None and not isinstance(data, dict):
        raise PacketError(f"a {name} packet's data, if any, is a JSON object")
    if kind == SocketPacketType.DISCONNECT and data is not None:
        raise PacketError("a DISCONNECT packet carries no data")


def describe_packet(packet: str | bytes) -> str:
    """Read an Engine.IO packet aloud, and the Socket.IO packet inside a message.

    >>> describe_packet('421["echo","hello"]')
    "engine.io message → socket.io EVENT 'echo' ['hello'] (ack id 1)"
    """
    engine = parse_engineio(packet)
    reading = f"engine.io {engine.name}"
    if isinstance(engine.data, bytes):
        return f"{reading}, binary: {_hex_preview(engine.data)}"
    if engine.type == EnginePacketType.OPEN:  # the session's settings: show them all
        return f"{reading} {engine.data}"
    if engine.type != EnginePacketType.MESSAGE:
        return f"{reading} {_text_preview(engine.data)}" if engine.data else reading
    return f"{reading} → socket.io {_describe_socketio(parse_socketio(engine.data))}"


def _describe_socketio(packet: SocketPacket) -> str:
    parts = [packet.name]
    data = packet.data
    if packet.type in _EVENTS:
        parts.append(repr(data[0]))
        data = data[1:]
    if data is not None:
        parts.append(_text_preview(json.dumps(data)) if len(json.dumps(data)) > 60 else repr(data))
    if packet.namespace != "/":
        parts.append(f"namespace {packet.namespace}")
    if packet.attachments:
        parts.append(f"{packet.attachments} binary attachment(s)")
    reading = " ".join(parts)
    return f"{reading} (ack id {packet.id})" if packet.id is not None else reading
