"""Tests for helpers.capture: headers read from hand-made bytes, the table, replay and live.

The live tests need a packet socket (root on Linux) and are skipped without one. Whether
live or replayed, lesson 02 must print the same table: the last test runs the whole lesson
with the replay forced and compares it with the stored (live) outputs.
"""

from __future__ import annotations

import contextlib
import io
import os
import socket
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import NOTEBOOKS, ROOT

from helpers import capture

# --- Hand-made packets ----------------------------------------------------------------------

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


def parsed(frames: list[bytes]) -> list[capture.Packet]:
    packets = [capture.parse_frame(frame) for frame in frames]
    assert all(packets)
    return packets  # type: ignore[return-value]


# --- Parsing ----------------------------------------------------------------------------------


def test_ethernet_header() -> None:
    header, rest = capture.parse_ethernet(bytes(range(12)) + b"\x08\x00" + b"rest")
    assert header == capture.Ethernet("00:01:02:03:04:05", "06:07:08:09:0a:0b", 0x0800)
    assert rest == b"rest"


def test_ipv4_header_fields_and_payload_cut_at_total_length() -> None:
    header, payload = capture.parse_ipv4(ip_packet(17, b"datagram", ttl=3) + b"padding")
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
        capture.parse_ipv4(data)


def test_tcp_header_flags_options_and_payload() -> None:
    header, payload = capture.parse_tcp(tcp_segment(1, 2, 2**32 - 1, 7, PSH | ACK, b"hi"))
    assert (header.source_port, header.destination_port) == (1, 2)
    assert (header.seq, header.ack, header.window) == (2**32 - 1, 7, 512)
    assert header.header_length == 32 and header.options[:4] == bytes([1, 1, 8, 10])
    assert header.flags == ("PSH", "ACK")
    assert payload == b"hi"


def test_every_tcp_flag_in_wireshark_order() -> None:
    header, _ = capture.parse_tcp(tcp_segment(1, 2, 0, 0, 0xFF))
    assert header.flags == ("FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR")


def test_tcp_header_errors() -> None:
    with pytest.raises(ValueError, match="a TCP header is at least 20 bytes, this one says 16"):
        capture.parse_tcp(struct.pack("!HHIIBBHHH", 1, 2, 0, 0, 4 << 4, 0, 0, 0, 0))
    with pytest.raises(ValueError, match="this TCP header needs at least 32 bytes, got 20"):
        capture.parse_tcp(struct.pack("!HHIIBBHHH", 1, 2, 0, 0, 8 << 4, 0, 0, 0, 0))


def test_udp_header() -> None:
    header, payload = capture.parse_udp(udp_datagram(1234, 53, b"query"))
    assert header == capture.UDP(1234, 53, 13, 0)
    assert payload == b"query"


def test_icmp_port_unreachable_is_about_the_datagram_it_quotes() -> None:
    datagram = ip_packet(17, udp_datagram(CLIENT, SERVER, b"pie"))
    icmp = bytes([3, 3, 0, 0, 0, 0, 0, 0]) + datagram
    packet = capture.parse_frame(ethernet(ip_packet(1, icmp)))
    assert packet is not None and packet.icmp is not None
    assert packet.icmp.meaning == "port unreachable"
    assert packet.protocol == "ICMP"
    assert packet.ports == (SERVER, CLIENT)  # travels back to the datagram's sender
    assert capture._belongs(packet, SERVER, "udp")
    assert not capture._belongs(packet, SERVER, "tcp")


def test_frames_that_are_not_ipv4_tcp_udp_or_icmp() -> None:
    assert capture.parse_frame(ethernet(bytes(28), kind=0x0806)) is None  # ARP
    assert capture.parse_frame(ethernet(ip_packet(2, bytes(8)))) is None  # IGMP
    with pytest.raises(ValueError):
        capture.parse_frame(ethernet(ip_packet(6, bytes(10))))  # a TCP header cut short


# --- The table --------------------------------------------------------------------------------


def test_the_table_counts_from_each_sides_initial_sequence_number() -> None:
    found = capture.rows(parsed(conversation()), SERVER)
    assert capture.table(found) == EXPECTED_START


def test_relative_numbers_wrap_around_like_tcp() -> None:
    frames = conversation(client_isn=2**32 - 2, server_isn=2**32 - 1)
    assert capture.table(capture.rows(parsed(frames), SERVER)) == EXPECTED_START


def test_udp_and_icmp_rows_and_two_clients() -> None:
    datagram = ip_packet(17, udp_datagram(CLIENT, SERVER, b"pie"))
    icmp = ip_packet(1, bytes([3, 3, 0, 0, 0, 0, 0, 0]) + datagram)
    other = ip_packet(17, udp_datagram(CLIENT + 1, SERVER, b"x" * 30))
    packets = parsed([ethernet(datagram), ethernet(icmp), ethernet(other)])
    assert capture.table(capture.rows(packets, SERVER)) == (
        " 1  client 1 → server  UDP                    len=3  b'pie'\n"
        " 2  server → client 1  ICMP port unreachable\n"
        " 3  client 2 → server  UDP                    len=30  b'xxxxxxxxxxxxxxxxxxxxxxxx'…"
    )


def test_an_empty_table() -> None:
    assert capture.table([]) == "(no packets)"


@pytest.mark.parametrize("index", range(5))
def test_the_layers_put_back_together_are_the_frame(index: int) -> None:
    datagram = ip_packet(17, udp_datagram(CLIENT, SERVER, b"pie"))
    frames = [
        *conversation()[2:4],
        ethernet(datagram),
        ethernet(ip_packet(1, bytes([3, 3, 0, 0, 0, 0, 0, 0]) + datagram)),
        capture.load("02_tcp_conversation").packets[0].frame,  # a SYN with many options
    ]
    packet = parsed([frames[index]])[0]
    pieces = [data for _, fields in capture.layers(packet) for data, _, _ in fields]
    assert b"".join(pieces) == packet.frame


def test_show_layers_names_every_field(capsys: pytest.CaptureFixture[str]) -> None:
    capture.show_layers(parsed(conversation())[3])
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "Ethernet header, 14 bytes: link layer (OSI 2, data link)"
    assert "  06" in out and "protocol          6 = TCP" in out
    assert "flags             PSH, ACK" in out
    assert "options           NOP, NOP, timestamps" in out
    assert out.splitlines()[-1].split() == ["70", "69", "65", "data", "b'pie'"]


# --- Replay ---------------------------------------------------------------------------------


@pytest.fixture
def no_raw_sockets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the kernel refuse packet sockets, as it does for a user who is not root."""

    def refuse() -> socket.socket:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(capture, "_open_raw_socket", refuse)


def shown(capture_: capture.Capture, until: int | None = None) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        capture_.show(until)
    return out.getvalue()


@pytest.mark.usefixtures("no_raw_sockets")
def test_without_raw_sockets_the_recording_is_replayed_step_by_step() -> None:
    replay = capture.start(1, recording="02_tcp_conversation")
    try:
        assert replay.mode == capture.REPLAY
        assert replay.why_replay == "PermissionError: [Errno 1] Operation not permitted"
        assert replay.packets == []
        header = capture.REPLAY + ":\n"
        assert shown(replay, 3) == header + "\n".join(EXPECTED_START.splitlines()[:3]) + "\n"
        assert shown(replay, 5) == header + "\n".join(EXPECTED_START.splitlines()[3:]) + "\n"
        assert shown(replay, 5) == header + "(no new packets)\n"
        assert len(replay.packets) == 5 and replay.packets[1].flags == ("SYN", "ACK")
        assert shown(replay) == header + "\n".join(LESSON_TABLE.splitlines()[5:]) + "\n"
        assert replay.table() == LESSON_TABLE
    finally:
        replay.stop()


def test_without_af_packet_the_recording_is_replayed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(socket, "AF_PACKET", raising=False)  # as on macOS and Windows
    with capture.packets(1, recording="02_tcp_conversation") as replay:
        assert replay.mode == capture.REPLAY
        assert replay.why_replay.startswith("AttributeError")


@pytest.mark.usefixtures("no_raw_sockets")
def test_without_raw_sockets_or_a_recording_the_error_says_why() -> None:
    with pytest.raises(PermissionError, match="takes root on Linux"):
        capture.start(1)
    with pytest.raises(FileNotFoundError, match="there is no recording 'nothing'"):
        capture.start(1, recording="nothing")
    with pytest.raises(ValueError, match="proto must be 'tcp' or 'udp'"):
        capture.start(1, proto="icmp")


@pytest.mark.usefixtures("no_raw_sockets")
def test_a_capture_with_the_name_of_a_running_one_replaces_it() -> None:
    first = capture.start(1, recording="02_tcp_conversation")
    second = capture.start(1, recording="02_tcp_conversation")
    assert capture._running["02_tcp_conversation"] is second
    second.stop()
    assert "02_tcp_conversation" not in capture._running
    first.stop()  # stopping twice is harmless


def test_a_saved_recording_loads_back_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = capture.Capture(SERVER, "tcp", "handmade", capture.LIVE, conversation())
    monkeypatch.setattr(capture, "DATA", tmp_path)
    assert made.save() == tmp_path / "handmade.json"
    loaded = capture.load("handmade")
    assert loaded.mode == "recording handmade"
    assert loaded.table() == made.table() == EXPECTED_START
    assert [p.frame for p in loaded.packets] == conversation()


def test_every_recording_of_the_lesson_is_there_and_readable() -> None:
    names = sorted(path.stem for path in (NOTEBOOKS / "data").glob("02_*.json"))
    assert names == [
        "02_tcp_conversation",
        "02_tcp_refused",
        "02_udp_connected",
        "02_udp_delivered",
        "02_udp_nobody_home",
    ]
    assert capture.load("02_tcp_conversation").table() == LESSON_TABLE


# --- Live -------------------------------------------------------------------------------------


def _live_capture_works() -> bool:
    try:
        capture._open_raw_socket().close()
    except (OSError, AttributeError):
        return False
    return True


live = pytest.mark.skipif(
    not _live_capture_works(), reason="a live capture needs a packet socket: root on Linux"
)


def lesson_conversation() -> str:
    """The lesson's TCP conversation, step by step; returns everything the cells printed."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        listener = socket.create_server(("127.0.0.1", 0))
        port = listener.getsockname()[1]
        tcp = capture.start(port, recording="02_tcp_conversation")
        client = socket.create_connection(("127.0.0.1", port))
        tcp.show(until=3)
        client.sendall(b"pie")
        tcp.show(until=5)
        connection, _ = listener.accept()
        tcp.show(until=5)
        connection.recv(1024)
        connection.sendall(b"thanks!")
        tcp.show(until=7)
        client.recv(1024)
        client.close()
        tcp.show(until=9)
        connection.recv(1024)
        connection.close()
        tcp.show(until=11)
        listener.close()
        tcp.stop()
        print(tcp.table())
    return out.getvalue()


@live
def test_live_capture_prints_exactly_what_the_replay_prints(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    live_output = lesson_conversation()
    assert capture.LIVE + ":" in live_output
    monkeypatch.setattr(capture, "FORCE_REPLAY", True)
    replayed = lesson_conversation()
    assert replayed == live_output.replace(capture.LIVE, capture.REPLAY)
    assert live_output.endswith(LESSON_TABLE + "\n")


@live
@pytest.mark.parametrize("run", range(3))
def test_live_capture_sees_each_packet_once(run: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as receiver:
        receiver.bind(("127.0.0.1", 0))
        port = receiver.getsockname()[1]
        sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        with capture.packets(port, proto="udp") as udp, sender:
            for number in range(3):
                sender.sendto(bytes([number]), ("127.0.0.1", port))
        assert udp.mode == capture.LIVE
        assert [packet.payload for packet in udp.packets] == [b"\x00", b"\x01", b"\x02"]


# --- The whole lesson, replayed -----------------------------------------------------------------

MODE_SANITIZER = r"""
[capture-mode]
regex: live capture|replayed recording \(this kernel may not open raw sockets\)
replace: CAPTURE-MODE
"""


def test_the_lesson_replayed_prints_what_it_printed_live(tmp_path: Path) -> None:
    sanitize = tmp_path / "sanitize.cfg"
    sanitize.write_text((ROOT / "tests" / "sanitize.cfg").read_text() + MODE_SANITIZER)
    lesson = NOTEBOOKS / "02_tcp_and_the_osi_model.ipynb"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-o", "addopts=", "-p", "no:cacheprovider",
         "--nbval", "--nbval-current-env", f"--nbval-sanitize-with={sanitize}",
         "--nbval-cell-timeout=120", str(lesson)],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
        env={**os.environ, "HELPERS_CAPTURE": "replay"},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
