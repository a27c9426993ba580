"""Lesson 02 exercises: predict an ack number, knock on a port, and peel a captured packet's
layers down to the application's bytes."""

from __future__ import annotations

import errno
import socket
import struct
from collections.abc import Callable

from .. import capture
from .._util import describe
from ..check import NotYet, exercise, function_answer, wait_until
from . import check

SENDS = (b"apple pie", b"and tea")  # what the neighbour of exercise 02.1 sends
ACK = 1 + sum(map(len, SENDS))  # the SYN used up 0: bytes 1 to 16, so 17 comes next


def _ack_mistake(answer: int) -> str | None:
    """What a wrong ack number says about how it was worked out (None: nothing in particular)."""
    if answer == ACK - 1:
        return (
            f"{answer} counts the bytes, but the SYN used up sequence number 0: the data "
            "starts at 1."
        )
    if answer in (len(SENDS[0]), len(SENDS[0]) + 1):
        return f"{answer} only covers b'apple pie'; an ack covers every byte received so far."
    if answer in (len(SENDS[1]), len(SENDS[1]) + 1):
        return f"{answer} only covers b'and tea'; an ack covers every byte received so far."
    if answer == ACK + 1:
        return (
            f"{answer} is one too many: only a SYN or a FIN uses up a number of its own, and "
            "nobody has closed yet."
        )
    return None


@exercise(
    "02.1",
    nudge="Predict it the way the lesson read the pie: there, 3 bytes were answered with ack 4. "
    "Count the bytes of both sends, remember which number the SYN used up, and what an ack "
    "number names: the next byte expected, not the last one received.",
    hints=[
        "Sequence numbers count bytes, and the SYN used up number 0, so the data starts at 1. "
        "An ACK covers everything received so far: both sends together, not the last one only.",
        "Number the 16 bytes of the two sends from 1, as the pie's 3 bytes were numbered 1 to "
        "3 (which made its ack 4); the ack names the number after the last byte that arrived.",
    ],
)
def ack_after_two_sends(answer: object) -> str:
    if isinstance(answer, str) and answer.strip().isdigit():
        raise NotYet(f"{answer!r} is text; give the number itself, without quotes.")
    if not isinstance(answer, int) or isinstance(answer, bool):
        raise NotYet(f"the ack number is a whole number, not {answer!r}.")
    if answer != ACK:
        mistake = _ack_mistake(answer)
        raise NotYet(mistake or f"{answer} is not it: count the bytes from 1, as for the pie.")
    seen = _capture_two_sends()
    return (
        f"ack={ACK}: bytes 1 to {ACK - 1} have arrived, so byte {ACK} is the next one the "
        "server expects." + (f" Captured just now: {seen}." if seen else "")
    )


def _capture_two_sends() -> str:
    """The two sends and the server's ACKs, captured live, in a line ("" where this kernel
    cannot capture packets)."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        try:
            tcp = capture.start(port)
        except OSError:  # no raw sockets here (not root, or not Linux): nothing to show
            return ""
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=check.TIMEOUT) as client:
                for data in SENDS:
                    client.sendall(data)
                wait_until(lambda: any(_server_ack(row) == ACK for row in tcp.rows))
        finally:
            tcp.stop()
    steps = [row for row in tcp.rows if row.length or _server_ack(row) in range(2, ACK + 1)]
    return ", ".join(
        f"{row.data!r} at seq={row.seq}" if row.length else f"the server's ack={row.ack}"
        for row in steps
    )


def _server_ack(row: capture.Row) -> int | None:
    """The ack number of a packet from the server (None for the client's packets)."""
    return row.ack if row.direction.startswith("server") else None


def _knock(knock: Callable[[int], object], port: int, where: str) -> object:
    """Call the learner's ``knock(port)``; explain what it raised, if anything."""
    try:
        return knock(port)
    except ConnectionRefusedError as error:
        raise NotYet(
            f"knock({port}), {where}, raised ConnectionRefusedError ({error}). That exception is "
            "the RST of the lesson's last TCP capture, the kernel's 'nobody here': catch it and "
            "return False."
        ) from None
    except Exception as error:
        raise NotYet(f"knock({port}), {where}, raised {describe(error)}.") from None


def _expect_open(said: object, port: int) -> None:
    if said is True:
        return
    where = f"knock({port}) said {said!r}, but a server listens on port {port}"
    if isinstance(said, socket.socket):
        said.close()
        raise NotYet(f"{where}: return True itself, not the connection (and close it).")
    if said is False:
        raise NotYet(
            f"{where}. If your knock catches every exception, a mistake inside it looks like a "
            "closed port: catch ConnectionRefusedError only, and try it on a port you know."
        )
    if type(said) is int and said == 0:
        raise NotYet(
            f"{where}. 0 is connect_ex's error number for 'no error': turn the outcome into "
            "True or False."
        )
    raise NotYet(f"{where}: return True or False.")


def _expect_closed(said: object, port: int) -> None:
    if said is False:
        return
    where = f"knock({port}) said {said!r}, but nobody listens on port {port}"
    if said is True:
        raise NotYet(
            f"{where}. Did a connection really open? A UDP socket's connect sends no packet "
            "and succeeds anywhere, as the lesson's UDP cells showed; TCP's sends a SYN, which "
            "a closed port answers with RST."
        )
    if type(said) is int and said == errno.ECONNREFUSED:
        raise NotYet(
            f"{where}. {said} is ECONNREFUSED, connect_ex's error number for the RST: turn it "
            "into False."
        )
    if said is None:
        raise NotYet(f"{where}: does knock return False when the connection is refused?")
    raise NotYet(f"{where}: return True or False.")


def _free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on: bind to port 0, note it, let it go."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@exercise(
    "02.2",
    nudge="Write a function that knocks on a port the way the lesson's last TCP capture did: "
    "try to open a TCP connection, and tell from what happens whether someone listens. Pass "
    "the function itself, not a call of it, and close what you open.",
    hints=[
        "When nobody listens, the kernel answers the SYN with RST and Python turns that into "
        "an exception; when someone listens, the connection simply opens. Return True for "
        "the one and False for the other.",
        "In a try block, open socket.create_connection to 127.0.0.1 and the port (in a with "
        "block, so that it closes) and return True; in an except ConnectionRefusedError "
        "block, return False. Then pass knock, without parentheses.",
    ],
)
def knock_checker(answer: object) -> str:
    knock = function_answer(answer, "knock")
    with socket.create_server(("127.0.0.1", 0)) as listener:
        open_port = listener.getsockname()[1]
        _expect_open(_knock(knock, open_port, "where a server listens"), open_port)
    closed_port = _free_port()
    _expect_closed(_knock(knock, closed_port, "where nobody listens"), closed_port)
    return (
        "knock tells an open port from a closed one: TCP answers every SYN, with SYN, ACK "
        "when someone listens and with RST when nobody does."
    )


def _synthetic(payload: bytes, ip_options: bytes = b"", pad_to: int = 0) -> bytes:
    """An Ethernet frame of a TCP packet carrying ``payload``, built field by field."""
    tcp = struct.pack("!HHIIBBHHH", 50000, 8080, 1000, 2000, 5 << 4, 0x18, 512, 0, 0)
    ip_length = 20 + len(ip_options)
    total = ip_length + len(tcp) + len(payload)
    address = socket.inet_aton("192.0.2.1")  # an address for documentation (RFC 5737)
    ip = struct.pack(
        "!BBHHHBBH4s4s", 0x40 | ip_length // 4, 0, total, 1, 0x4000, 64, 6, 0, address, address
    )
    ethernet = bytes.fromhex("02 00 00 00 00 01 02 00 00 00 00 02 08 00")
    return (ethernet + ip + ip_options + tcp + payload).ljust(pad_to, b"\x00")


def _frames() -> list[tuple[str, bytes]]:
    """(what it is, frame) for every frame the check peels."""
    recorded = capture.load("02_tcp_conversation").packets
    return [
        ("the pie, packet 4 of the lesson's table", recorded[3].frame),
        ("packet 6, b'thanks!'", recorded[5].frame),
        ("the SYN, packet 1 (its TCP header carries more options)", recorded[0].frame),
        ("a packet whose IPv4 header carries options", _synthetic(b"ok", b"\x01\x01\x01\x00")),
        ("a short packet from a real Ethernet, padded to 60 bytes", _synthetic(b"hi", pad_to=60)),
    ]


def _peeled(peel: Callable[[bytes], object], label: str, frame: bytes) -> bytes:
    """The learner's ``peel(frame)`` as bytes; NotYet if it raised or returned something else."""
    try:
        result = peel(frame)
    except Exception as error:
        raise NotYet(
            f"peel() raised {type(error).__name__} for {label} ({len(frame)} bytes): {error}."
        ) from None
    if isinstance(result, str):
        raise NotYet(
            f"peel() returned the text {result!r} for {label}; return the bytes as they are: "
            "what they mean is the application's business."
        )
    if not isinstance(result, bytes | bytearray | memoryview):
        raise NotYet(f"peel() returned {result!r} for {label}; return the payload, as bytes.")
    return bytes(result)


def _where(frame: bytes, offset: int, packet: capture.Packet) -> str:
    """Which header of ``packet`` byte ``offset`` of its frame belongs to."""
    ip_end = 14 + packet.ip.header_length
    if offset < 14:
        return "the Ethernet header"
    if offset < ip_end:
        return "the IPv4 header" + (" (its options)" if offset >= 14 + 20 else "")
    return "the TCP header" + (" (its options)" if offset >= ip_end + 20 else "")


def _misplaced(got: bytes, frame: bytes, packet: capture.Packet) -> str:
    """How ``got`` differs from ``packet``'s payload, in terms of the frame's layers."""
    assert packet.tcp is not None
    start = 14 + packet.ip.header_length + packet.tcp.header_length
    end = 14 + packet.ip.total_length
    at = frame.find(got) if got else -1
    if at < 0:
        return f"you returned {got!r}, which is nowhere in this frame"
    if at < start:
        return (
            f"your bytes start {_bytes(start - at)} too early, inside "
            f"{_where(frame, at, packet)}: read each header's length from the header"
        )
    if at > start:
        first = "byte" if at - start == 1 else f"{at - start} bytes"
        return f"your bytes leave out the first {first} of the payload"
    if at + len(got) > end:
        return (
            f"your bytes run {_bytes(at + len(got) - end)} past the end of the IPv4 packet, into "
            f"the frame's padding: the IPv4 total length ({packet.ip.total_length} bytes) says "
            "where the packet ends"
        )
    return f"your bytes stop {_bytes(end - at - len(got))} before the end of the payload"


def _bytes(count: int) -> str:
    return "1 byte" if count == 1 else f"{count} bytes"


@exercise(
    "02.3",
    nudge="Write a function that unwraps a captured frame layer by layer, as the lesson's look "
    "at the pie packet did, and returns only the application's bytes. Each header says how "
    "long it is: read the lengths from the headers instead of assuming them.",
    hints=[
        "The Ethernet header has a fixed size. The IPv4 and TCP headers each give their own "
        "length, counted in 4-byte words, and the IPv4 header also gives the length of the "
        "whole packet, which tells you where it ends when a short frame comes padded.",
        "The IPv4 header starts at byte 14: the low 4 bits of its first byte, times 4, are its "
        "length, and its bytes 2 and 3 hold the total length (int.from_bytes, big-endian). The "
        "TCP header's length is the high 4 bits of its byte 12, times 4. The payload runs from "
        "the end of the TCP header to 14 plus the total length.",
    ],
)
def peel_checker(answer: object) -> str:
    if isinstance(answer, bytes | bytearray):
        raise NotYet(
            f"this is {len(answer)} bytes of data; pass the function itself, peel (without "
            "parentheses), and the check calls it on frames of its own."
        )
    peel = function_answer(answer, "peel")
    for label, frame in _frames():
        packet = capture.parse_frame(frame)
        assert packet is not None and packet.tcp is not None
        got = _peeled(peel, label, frame)
        if got != packet.payload:
            raise NotYet(
                f"for {label}, the headers are Ethernet 14 bytes, IPv4 "
                f"{packet.ip.header_length} and TCP {packet.tcp.header_length}, then comes the "
                f"payload {packet.payload!r}; {_misplaced(got, frame, packet)}."
            )
    return (
        "peel finds the application's bytes under every header. In the pie packet: Ethernet, "
        "14 bytes (link layer), IPv4, 20 (internet), TCP, 32 (transport), then b'pie' "
        "(application)."
    )
