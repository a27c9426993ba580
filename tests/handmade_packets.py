"""Packets made by hand, byte by byte, for tests/test_packets.py and tests/test_capture.py.

Not a test module: it builds the frames (a loopback Ethernet header, IPv4, TCP, UDP) that both
test modules read, and the table that the lesson's conversation prints.
"""

from __future__ import annotations

import socket
import struct

SYN, ACK, FIN, PSH, RST = 0x02, 0x10, 0x01, 0x08, 0x04
CLIENT, SERVER = 50000, 8080


def ip_packet(protocol: int, payload: bytes, *, ttl: int = 64) -> bytes:
    header = struct.pack(
        "!BBHHHBBH4s4s",
        0x45,  # version 4, header length 5 words
        0,
        20 + len(payload),
        4242,
        0x4000,  # don't fragment
        ttl,
        protocol,
        0xBEEF,
        socket.inet_aton("127.0.0.1"),
        socket.inet_aton("127.0.0.2"),
    )
    return header + payload


def tcp_segment(
    source: int, destination: int, seq: int, ack: int, flags: int, payload: bytes = b""
) -> bytes:
    options = bytes([1, 1, 8, 10]) + bytes(8)  # NOP, NOP, timestamps
    offset = (20 + len(options)) // 4 << 4
    seq, ack = seq % 2**32, ack % 2**32
    header = struct.pack("!HHIIBBHHH", source, destination, seq, ack, offset, flags, 512, 0, 0)
    return header + options + payload


def udp_datagram(source: int, destination: int, payload: bytes) -> bytes:
    return struct.pack("!HHHH", source, destination, 8 + len(payload), 0) + payload


def icmp_port_unreachable(about: bytes) -> bytes:
    """An ICMP "port unreachable" error quoting the IPv4 packet ``about``."""
    return bytes([3, 3, 0, 0, 0, 0, 0, 0]) + about


def ethernet(packet: bytes, kind: int = 0x0800) -> bytes:
    return bytes(12) + kind.to_bytes(2, "big") + packet


def tcp_frame(from_client: bool, seq: int, ack: int, flags: int, payload: bytes = b"") -> bytes:
    ports = (CLIENT, SERVER) if from_client else (SERVER, CLIENT)
    return ethernet(ip_packet(6, tcp_segment(*ports, seq, ack, flags, payload)))


def conversation(client_isn: int = 1000, server_isn: int = 5000) -> list[bytes]:
    """A handshake and 3 bytes of data, like the start of the lesson's conversation."""
    c, s = client_isn, server_isn
    return [
        tcp_frame(True, c, 0, SYN),
        tcp_frame(False, s, c + 1, SYN | ACK),
        tcp_frame(True, c + 1, s + 1, ACK),
        tcp_frame(True, c + 1, s + 1, PSH | ACK, b"pie"),
        tcp_frame(False, s + 1, c + 4, ACK),
    ]


EXPECTED_START = """\
 1  client → server  SYN       seq=0
 2  server → client  SYN, ACK  seq=0  ack=1
 3  client → server  ACK       seq=1  ack=1
 4  client → server  PSH, ACK  seq=1  ack=1  len=3  b'pie'
 5  server → client  ACK       seq=1  ack=4"""

LESSON_TABLE = f"""\
{EXPECTED_START}
 6  server → client  PSH, ACK  seq=1  ack=4  len=7  b'thanks!'
 7  client → server  ACK       seq=4  ack=8
 8  client → server  FIN, ACK  seq=4  ack=8
 9  server → client  ACK       seq=8  ack=5
10  server → client  FIN, ACK  seq=8  ack=5
11  client → server  ACK       seq=5  ack=9"""
