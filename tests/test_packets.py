"""Tests for helpers.packets: headers read from hand-made bytes, the table, and the layers.

The field tables (``packets.IPV4`` and friends) drive both the parsers and ``layers()``; the
tests below check them against the ``struct`` formats that describe the same headers, and
check that a field's bytes, as ``layers()`` cuts them, are what the parser read it from.
"""

from __future__ import annotations

import re
import struct

import pytest
from handmade_packets import (
    ACK,
    CLIENT,
    EXPECTED_START,
    PSH,
    SERVER,
    conversation,
    ethernet,
    icmp_port_unreachable,
    ip_packet,
    tcp_segment,
    udp_datagram,
)
from hypothesis import given
from hypothesis import strategies as st

from helpers import capture, packets


def parsed(frames: list[bytes]) -> list[packets.Packet]:
    found = [packets.parse_frame(frame) for frame in frames]
    assert all(found)
    return found  # type: ignore[return-value]  # all() checked that none is None


# --- Parsing ----------------------------------------------------------------------------------


def test_ethernet_header() -> None:
    header, rest = packets.parse_ethernet(bytes(range(12)) + b"\x08\x00" + b"rest")
    assert header == packets.Ethernet("00:01:02:03:04:05", "06:07:08:09:0a:0b", 0x0800)
    assert rest == b"rest"


def test_ipv4_header_fields_and_payload_cut_at_total_length() -> None:
    header, payload = packets.parse_ipv4(ip_packet(17, b"datagram", ttl=3) + b"padding")
    assert (header.version, header.header_length, header.total_length) == (4, 20, 28)
    assert (header.identification, header.dont_fragment, header.more_fragments) == (4242, 1, 0)
    assert (header.ttl, header.protocol, header.checksum) == (3, 17, 0xBEEF)
    assert (header.source, header.destination) == ("127.0.0.1", "127.0.0.2")
    assert payload == b"datagram"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x45" + bytes(10), "an IPv4 header needs at least 20 bytes, got 11"),
        (b"\x60" + bytes(39), "not an IPv4 header: the version field says 6"),
        (b"\x46" + bytes(19), "this IPv4 header needs at least 24 bytes, got 20"),
    ],
)
def test_ipv4_header_errors(data: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        packets.parse_ipv4(data)


def test_tcp_header_flags_options_and_payload() -> None:
    header, payload = packets.parse_tcp(tcp_segment(1, 2, 2**32 - 1, 7, PSH | ACK, b"hi"))
    assert (header.source_port, header.destination_port) == (1, 2)
    assert (header.seq, header.ack, header.window) == (2**32 - 1, 7, 512)
    assert header.header_length == 32 and header.options[:4] == bytes([1, 1, 8, 10])
    assert header.flags == ("PSH", "ACK")
    assert payload == b"hi"


def test_every_tcp_flag_in_wireshark_order() -> None:
    header, _ = packets.parse_tcp(tcp_segment(1, 2, 0, 0, 0xFF))
    assert header.flags == ("FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR")


def test_tcp_header_errors() -> None:
    with pytest.raises(ValueError, match="a TCP header is at least 20 bytes, this one says 16"):
        packets.parse_tcp(struct.pack("!HHIIBBHHH", 1, 2, 0, 0, 4 << 4, 0, 0, 0, 0))
    with pytest.raises(ValueError, match="this TCP header needs at least 32 bytes, got 20"):
        packets.parse_tcp(struct.pack("!HHIIBBHHH", 1, 2, 0, 0, 8 << 4, 0, 0, 0, 0))


def test_udp_header() -> None:
    header, payload = packets.parse_udp(udp_datagram(1234, 53, b"query"))
    assert header == packets.UDP(1234, 53, 13, 0)
    assert payload == b"query"


def test_icmp_port_unreachable_is_about_the_datagram_it_quotes() -> None:
    datagram = ip_packet(17, udp_datagram(CLIENT, SERVER, b"pie"))
    packet = packets.parse_frame(ethernet(ip_packet(1, icmp_port_unreachable(datagram))))
    assert packet is not None and packet.icmp is not None
    assert packet.icmp.meaning == "port unreachable"
    assert packet.icmp.quoted_ports == ((CLIENT, SERVER), packets.IPPROTO_UDP)
    assert packet.protocol == "ICMP"
    assert packet.ports == (SERVER, CLIENT)  # travels back to the datagram's sender


def test_an_icmp_message_that_quotes_too_little_is_about_nothing() -> None:
    assert packets.parse_icmp(bytes(8) + bytes(10)).quoted_ports == ((0, 0), 0)


def test_frames_that_are_not_ipv4_tcp_udp_or_icmp() -> None:
    assert packets.parse_frame(ethernet(bytes(28), kind=0x0806)) is None  # ARP
    assert packets.parse_frame(ethernet(ip_packet(2, bytes(8)))) is None  # IGMP
    with pytest.raises(ValueError):
        packets.parse_frame(ethernet(ip_packet(6, bytes(10))))  # a TCP header cut short


# --- The field tables -------------------------------------------------------------------------

# The same headers as struct formats, as the parsers were first written: a second, independent
# statement of where each field is.
STRUCT_FORMATS = {
    "ETHERNET": "!6s6sH",
    "IPV4": "!BBHHHBBH4s4s",
    "TCP_HEADER": "!HHIIBBHHH",
    "UDP_HEADER": "!HHHH",
    "ICMP_HEADER": "!HHI",
}


@pytest.mark.parametrize(("table", "layout"), STRUCT_FORMATS.items())
def test_each_field_table_matches_the_struct_format_of_its_header(table: str, layout: str) -> None:
    fields = getattr(packets, table)
    places, at = [], 0
    for code in re.findall(r"\d*[a-zA-Z]", layout.removeprefix("!")):  # "4s": 4 bytes of text
        size = struct.calcsize("!" + code)
        places.append((at, size))
        at += size
    assert [(field.offset, field.size) for field in fields] == places
    assert len({field.key for field in fields}) == len(fields)


def _example_packets() -> list[packets.Packet]:
    datagram = ip_packet(17, udp_datagram(CLIENT, SERVER, b"pie"))
    return parsed(
        [
            *conversation()[2:4],
            ethernet(datagram),
            ethernet(ip_packet(1, icmp_port_unreachable(datagram))),
            capture.load("02_tcp_conversation").packets[0].frame,  # a SYN with many options
        ]
    )


def _headers(packet: packets.Packet) -> list[tuple[tuple[packets.Field, ...], object, int]]:
    """(field table, parsed header, where the header starts in the frame) for each header."""
    transport = 14 + packet.ip.header_length
    found: list[tuple[tuple[packets.Field, ...], object, int]] = [
        (packets.ETHERNET, packet.ethernet, 0),
        (packets.IPV4, packet.ip, 14),
    ]
    if packet.tcp:
        found.append((packets.TCP_HEADER, packet.tcp, transport))
    if packet.udp:
        found.append((packets.UDP_HEADER, packet.udp, transport))
    if packet.icmp:
        found.append((packets.ICMP_HEADER, packet.icmp, transport))
    return found


@pytest.mark.parametrize("index", range(5))
def test_layers_cut_every_field_where_the_parser_read_it(index: int) -> None:
    packet = _example_packets()[index]
    cut = [piece for _, pieces in packets.layers(packet) for piece in pieces]
    for fields, header, start in _headers(packet):
        for field in fields:
            data = packet.frame[start + field.offset : start + field.offset + field.size]
            assert (data, field.name, field.say(header)) in cut
            value = getattr(header, field.key, None)
            if isinstance(value, int):  # a field that is one number of its own
                assert value == int.from_bytes(data, "big"), field.key


@given(st.binary(min_size=20, max_size=20))
def test_parse_tcp_reads_each_field_from_its_place(data: bytes) -> None:
    data = data[:12] + bytes([5 << 4]) + data[13:]  # a 20-byte header: no options
    header, _ = packets.parse_tcp(data)
    for field in packets.TCP_HEADER:
        if hasattr(header, field.key):
            assert getattr(header, field.key) == int.from_bytes(field.cut(data), "big")


@pytest.mark.parametrize("index", range(5))
def test_the_layers_put_back_together_are_the_frame(index: int) -> None:
    packet = _example_packets()[index]
    pieces = [data for _, fields in packets.layers(packet) for data, _, _ in fields]
    assert b"".join(pieces) == packet.frame


def test_show_layers_names_every_field(capsys: pytest.CaptureFixture[str]) -> None:
    packets.show_layers(parsed(conversation())[3])
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "Ethernet header, 14 bytes: link layer (OSI 2, data link)"
    assert "  06" in out and "protocol          6 = TCP" in out
    assert "flags             PSH, ACK" in out
    assert "options           NOP, NOP, timestamps" in out
    assert out.splitlines()[-1].split() == ["70", "69", "65", "data", "b'pie'"]


def test_show_layers_of_the_lessons_pie_packet(capsys: pytest.CaptureFixture[str]) -> None:
    """Exactly what lesson 02 prints for its packet 4 (the notebook stores the same)."""
    packets.show_layers(capture.load("02_tcp_conversation").packets[3])
    lines = capsys.readouterr().out.splitlines()
    assert lines[7:9] == [
        "  00 37                                total length      55 bytes",
        "  d9 ae                                identification    55726",
    ]
    assert (
        lines[-3] == "  01 01 08 0a 9a b5 ab a0 ab c3 89 06  options           NOP, NOP, timestamps"
    )
    assert lines[-1] == "  70 69 65                             data              b'pie'"


# --- The table --------------------------------------------------------------------------------


def test_the_table_counts_from_each_sides_initial_sequence_number() -> None:
    found = packets.rows(parsed(conversation()), SERVER)
    assert packets.table(found) == EXPECTED_START


def test_relative_numbers_wrap_around_like_tcp() -> None:
    frames = conversation(client_isn=2**32 - 2, server_isn=2**32 - 1)
    assert packets.table(packets.rows(parsed(frames), SERVER)) == EXPECTED_START


def test_udp_and_icmp_rows_and_two_clients() -> None:
    datagram = ip_packet(17, udp_datagram(CLIENT, SERVER, b"pie"))
    icmp = ip_packet(1, icmp_port_unreachable(datagram))
    other = ip_packet(17, udp_datagram(CLIENT + 1, SERVER, b"x" * 30))
    found = parsed([ethernet(datagram), ethernet(icmp), ethernet(other)])
    assert packets.table(packets.rows(found, SERVER)) == (
        " 1  client 1 → server  UDP                    len=3  b'pie'\n"
        " 2  server → client 1  ICMP port unreachable\n"
        " 3  client 2 → server  UDP                    len=30  b'xxxxxxxxxxxxxxxxxxxxxxxx'…"
    )


def test_an_empty_table() -> None:
    assert packets.table([]) == "(no packets)"
