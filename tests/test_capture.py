"""Tests for helpers.capture: replay, recordings and live capture (tests/test_packets.py reads
the headers and makes the table).

The live tests need a packet socket (root on Linux) and are skipped without one. Whether
live or replayed, lesson 02 must print the same table: the last test runs the whole lesson
with the replay forced and compares it with the stored (live) outputs.
"""

from __future__ import annotations

import contextlib
import io
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import NOTEBOOKS, ROOT
from handmade_packets import (
    CLIENT,
    EXPECTED_START,
    LESSON_TABLE,
    SERVER,
    conversation,
    ethernet,
    icmp_port_unreachable,
    ip_packet,
    udp_datagram,
)

from helpers import capture, packets

# --- What lesson 02 reads through this module ------------------------------------------------


@pytest.mark.parametrize("name", ["parse_frame", "show_layers", "layers", "rows", "table", "Row"])
def test_the_packet_readers_are_still_there_under_their_old_names(name: str) -> None:
    assert getattr(capture, name) is getattr(packets, name)


def test_icmp_errors_belong_to_the_udp_port_they_are_about() -> None:
    datagram = ip_packet(17, udp_datagram(CLIENT, SERVER, b"pie"))
    packet = capture.parse_frame(ethernet(ip_packet(1, icmp_port_unreachable(datagram))))
    assert packet is not None
    assert capture._belongs(packet, SERVER, "udp")
    assert not capture._belongs(packet, SERVER, "tcp")


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
