"""Capture: the real packets of a connection on this machine, as a table you can read.

    import socket
    from helpers import capture

    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    tcp = capture.start(port, recording="02_tcp_conversation")
    client = socket.create_connection(("127.0.0.1", port))
    tcp.show(until=3)        # SYN, SYN-ACK, ACK: the three-way handshake
    tcp.stop()
    tcp.diagram()            # the same packets as a sequence diagram

**How it captures.** On Linux, a program with root rights (strictly: the ``CAP_NET_RAW``
capability) may open a *packet socket* (``AF_PACKET``), which receives a copy of every frame
that crosses a network interface. :func:`start` opens one on ``lo``, the loopback interface
that carries ``127.0.0.1``, and keeps the IPv4 TCP or UDP packets to or from the port you
name (and, for UDP, the ICMP errors about them).

**Where it may not** (no root, as on Binder, or not Linux), it *replays* a recording that the
project made on Linux with this same code, from ``notebooks/data/``. The table is the same
either way; :attr:`Capture.mode` and the first line of every :meth:`Capture.show` say which
you are looking at. To make the recordings again, run as root::

    python -m helpers.capture --record notebooks/02_tcp_and_the_osi_model.ipynb

and to see what a learner without root sees, set ``HELPERS_CAPTURE=replay`` before starting
Jupyter: every capture then replays, even where a live one would work.

**Reading the bytes is separate from capturing them.** :mod:`helpers.packets` reads them:
:func:`parse_frame` and the ``parse_*`` functions take bytes and return the header fields,
:func:`table` turns parsed packets into the table and :func:`show_layers` shows one packet's
bytes field by field. This module re-exports those names, so ``capture.parse_frame`` and
``capture.show_layers`` work too; only :class:`Capture` here opens a socket.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import os
import platform
import socket
import sys
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

from ._util import NOTEBOOKS, describe
from .diagram import Diagram, Message, choose_connections, name_clients
from .packets import (
    ICMP,
    IPPROTO_UDP,
    TCP,
    UDP,
    Ethernet,
    IPv4,
    Packet,
    Row,
    layers,
    parse_ethernet,
    parse_frame,
    parse_icmp,
    parse_ipv4,
    parse_tcp,
    parse_udp,
    preview,
    rows,
    show_layers,
    table,
)

__all__ = [
    "ICMP",
    "LIVE",
    "REPLAY",
    "TCP",
    "UDP",
    "Capture",
    "Ethernet",
    "IPv4",
    "Packet",
    "Row",
    "layers",
    "load",
    "packets",
    "parse_ethernet",
    "parse_frame",
    "parse_icmp",
    "parse_ipv4",
    "parse_tcp",
    "parse_udp",
    "rows",
    "show_layers",
    "start",
    "table",
]

LIVE = "live capture"
REPLAY = "replayed recording (this kernel may not open raw sockets)"

DATA = Path(os.environ.get("HELPERS_CAPTURE_DATA") or NOTEBOOKS / "data")
"""Where recordings live: ``notebooks/data/`` (or the folder in ``$HELPERS_CAPTURE_DATA``)."""

RECORDING = os.environ.get("HELPERS_CAPTURE") == "record"
"""Every live capture saves itself (``python -m helpers.capture --record`` sets this)."""
FORCE_REPLAY = os.environ.get("HELPERS_CAPTURE") == "replay"
"""Every capture replays, as it would for a learner without root."""

ETH_P_ALL = 0x0003  # "every protocol": a packet socket that sees all frames
PACKET_OUTGOING = 4  # the frame was sent by this machine (see _reader)
SO_RCVBUFFORCE = 33  # SO_RCVBUF, beyond the usual limit (Linux, root)
SETTLE = 0.2  # seconds without a new packet before a table is printed
WAIT = 5.0  # seconds show(until=...) waits at most for the packets it expects

_running: dict[str, Capture] = {}  # the captures started and not stopped yet, by _key()


def _belongs(packet: Packet, port: int, proto: str) -> bool:
    """Whether ``packet`` is ``proto`` traffic to or from ``port`` (UDP: with ICMP errors)."""
    if packet.icmp:
        ports, about = packet.icmp.quoted_ports
        return proto == "udp" and about == IPPROTO_UDP and port in ports
    return packet.protocol.lower() == proto and port in packet.ports


# --- Packets as a diagram's arrows ------------------------------------------------------------


def _client_number(row: Row) -> int:
    """1 for ``client → server`` (a lone client), N for ``client N → server``."""
    client = next(end for end in row.direction.split(" → ") if end != "server")
    return int(client.removeprefix("client").strip() or 1)


def _message(row: Row, packet: Packet, clients: dict[int, str], server: str) -> Message:
    """A table row as a diagram's arrow; its size is the whole frame, as captured."""
    to_server = row.direction.endswith("→ server")
    client = clients[_client_number(row)]
    words = [row.what]
    words += [] if row.seq is None else [f"seq={row.seq}"]
    words += [] if row.ack is None else [f"ack={row.ack}"]
    words += [f"len={row.length}"] if row.length else []
    ends = (client, server) if to_server else (server, client)
    detail = preview(row.data, 60) if row.length else ""
    return Message(*ends, " ".join(words), len(packet.frame), detail, to_server=to_server)


# --- Capturing (the only part that opens a socket) ----------------------------------------------


def _open_raw_socket() -> socket.socket:
    """A packet socket on ``lo`` that receives every frame (Linux, root only)."""
    raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.ntohs(ETH_P_ALL))
    try:
        raw.bind(("lo", ETH_P_ALL))
        raw.settimeout(0.05)
        # Room for bursts of other loopback traffic (Jupyter's own, for one) between reads.
        with contextlib.suppress(OSError):
            raw.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 8 * 2**20)
    except BaseException:
        raw.close()
        raise
    return raw


def _made_with() -> str:
    notebook = os.environ.get("HELPERS_CAPTURE_NOTEBOOK")
    return f"python -m helpers.capture --record {notebook}" if notebook else "Capture.save()"


def _recording_path(name: str) -> Path:
    return DATA / f"{name}.json"


class Capture:
    """The packets of one port, captured live or replayed from a recording.

    Make one with :func:`start` or :func:`packets`, or read a recording with :func:`load`.
    """

    def __init__(
        self, port: int, proto: str, recording: str | None, mode: str, frames: list[bytes]
    ) -> None:
        self.port = port
        self.proto = proto
        self.recording = recording
        self.mode = mode  #: :data:`LIVE`, :data:`REPLAY` or ``"recording NAME"``
        self.why_replay = ""  #: why a live capture was not possible (when replaying)
        self._all = [p for p in map(parse_frame, frames) if p]
        self._revealed = len(self._all) if mode not in (LIVE, REPLAY) else 0
        self._shown = 0
        self._changed = threading.Condition()
        self._raw: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    # What there is to see

    @property
    def packets(self) -> list[Packet]:
        """The packets captured so far (in a replay: revealed so far), oldest first."""
        with self._changed:
            return self._all[: self._revealed] if self.mode == REPLAY else list(self._all)

    @property
    def rows(self) -> list[Row]:
        """:attr:`packets` as the table's rows."""
        return rows(self.packets, self.port)

    def table(self) -> str:
        """The whole table so far, as text."""
        return table(self.rows)

    def diagram(
        self,
        *,
        connections: int | Iterable[int] | None = None,
        first: int | None = None,
        last: int | None = None,
        client: str | None = None,
        server: str = "server",
    ) -> Diagram:
        """The packets so far as a sequence diagram: one arrow per packet, labelled with its
        flags, relative ``seq`` and ``ack`` and payload length (UDP and ICMP: what they
        are), the payload below it, and the whole frame's size in bytes.

        ``connections`` keeps some clients (numbered as the table numbers them, 1 for a
        lone client); ``client`` and ``server`` rename the lifelines (a ``client`` name is
        every client's); ``first``/``last`` keep that many packets from each end. A replay
        draws the packets that :meth:`show` has revealed so far.
        """
        self._wait(None)
        packets = self.packets
        found = rows(packets, self.port)
        numbers = sorted({_client_number(row) for row in found})
        chosen = choose_connections(connections, numbers) if found else []
        names = name_clients(client, chosen)
        messages = [
            _message(row, packet, names, server)
            for row, packet in zip(found, packets, strict=True)
            if _client_number(row) in names
        ]
        parties = (
            [*dict.fromkeys(names.values()), server] if names else [client or "client", server]
        )
        empty = "(no packets yet: make the connection first; a replay shows them with show())"
        return Diagram(messages, parties, first=first, last=last, empty=empty)

    def show(self, until: int | None = None) -> None:
        """Print the packets that arrived since the last ``show()``, numbered from the first.

        ``until`` waits (up to 5 s) until the capture holds at least that many packets, then
        until none has arrived for 0.2 s. A replay shows its recording up to packet ``until``
        (all of it without ``until``). The first line says whether this is a live capture.
        """
        self._wait(until)
        with self._changed:
            if self.mode == REPLAY:
                limit = len(self._all) if until is None else min(until, len(self._all))
                self._revealed = max(self._revealed, limit)
            found = self.rows
            new, self._shown = found[self._shown :], len(found)
        if RECORDING and self.mode == LIVE:
            self.save()
        print(f"{self.mode}:")
        print(table(new) if new else "(no new packets)")

    # Capturing

    def _start(self) -> None:
        self._raw = _open_raw_socket()
        self._thread = threading.Thread(target=self._reader, name="helpers-capture", daemon=True)
        self._thread.start()

    def _reader(self) -> None:
        """Read frames until stopped; keep this port's packets, each once.

        On ``lo`` every frame is seen twice: once as it leaves (``PACKET_OUTGOING``) and once
        as it arrives (``PACKET_HOST``). Keeping only arrivals shows each packet once.
        """
        assert self._raw is not None
        while not self._stopping.is_set():
            try:
                frame, address = self._raw.recvfrom(262144)
            except TimeoutError:
                continue
            except OSError:  # closed by stop()
                return
            if address[0] != "lo" or address[2] == PACKET_OUTGOING:
                continue
            try:
                packet = parse_frame(frame)
            except ValueError:
                continue
            if packet and _belongs(packet, self.port, self.proto):
                with self._changed:
                    self._all.append(packet)
                    self._changed.notify_all()

    def _wait(self, until: int | None) -> None:
        if self.mode != LIVE or self._thread is None:
            return
        with self._changed:
            self._changed.wait_for(lambda: len(self._all) >= (until or 0), timeout=WAIT)
            while self._changed.wait(timeout=SETTLE):  # more came: wait for quiet again
                pass

    def stop(self) -> None:
        """Wait until no packet has come for 0.2 s, then stop capturing (packets stay)."""
        key = _key(self.port, self.recording)
        if _running.get(key) is self:
            del _running[key]
        if self._thread is None:
            return
        self._wait(None)
        self._stopping.set()
        self._thread.join(timeout=2)
        if self._raw is not None:
            self._raw.close()
        self._thread = None
        if RECORDING and self.mode == LIVE:
            self.save()

    # Recordings

    def save(self, path: Path | None = None) -> Path:
        """Write the captured frames as a recording (by default ``DATA/<recording>.json``)."""
        if path is None:
            if not self.recording:
                raise ValueError("give the capture a recording name, or save(path)")
            path = _recording_path(self.recording)
        with self._changed:
            frames = [packet.frame.hex() for packet in self._all]
        record = {
            "recording": self.recording,
            "made_with": _made_with(),
            "system": f"{platform.system()} {platform.release()}",
            "port": self.port,
            "proto": self.proto,
            "frames": frames,
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(record, indent=1) + "\n")
        return path

    def __repr__(self) -> str:
        return (
            f"<Capture of {self.proto} port {self.port}: {self.mode}, {len(self.packets)} packets>"
        )


def _key(port: int, recording: str | None) -> str:
    """The name a running capture goes by: its recording's, or its port's."""
    return recording or f"port {port}"


def _from_recording(name: str, mode: str) -> Capture:
    """The capture saved as recording ``name``, with all its packets, in ``mode``."""
    path = _recording_path(name)
    if not path.exists():
        raise FileNotFoundError(f"there is no recording {name!r} in {DATA}")
    record = json.loads(path.read_text())
    frames = [bytes.fromhex(frame) for frame in record["frames"]]
    return Capture(record["port"], record["proto"], name, mode, frames)


def load(recording: str) -> Capture:
    """Read the recording called ``recording`` from ``notebooks/data/``: all its packets."""
    return _from_recording(recording, f"recording {recording}")


def start(port: int, *, proto: str = "tcp", recording: str | None = None) -> Capture:
    """Start capturing the ``proto`` (``"tcp"`` or ``"udp"``) packets of ``port`` on ``lo``.

    Where this kernel may not open a packet socket, the capture replays ``recording`` from
    ``notebooks/data/`` instead. Starting a capture with the name of a running one stops the
    old one first, so re-running a cell is safe. Call :meth:`Capture.stop` when done.
    """
    if proto not in ("tcp", "udp"):
        raise ValueError(f"proto must be 'tcp' or 'udp', not {proto!r}")
    key = _key(port, recording)
    if key in _running:
        _running[key].stop()
    capture = Capture(port, proto, recording, LIVE, [])
    try:
        if FORCE_REPLAY:
            raise PermissionError("HELPERS_CAPTURE=replay is set")
        capture._start()
    except (OSError, AttributeError) as error:  # AttributeError: no AF_PACKET (not Linux)
        if RECORDING:
            raise
        if recording is None:
            raise PermissionError(
                f"this kernel cannot capture packets ({describe(error)}): that "
                "takes root on Linux. Only the lessons' recorded captures can be replayed."
            ) from None
        capture = _from_recording(recording, REPLAY)
        capture.why_replay = describe(error)
    _running[key] = capture
    return capture


@contextlib.contextmanager
def packets(port: int, *, proto: str = "tcp", recording: str | None = None) -> Iterator[Capture]:
    """:func:`start` a capture for the ``with`` block; it stops (and settles) at the end."""
    capture = start(port, proto=proto, recording=recording)
    try:
        yield capture
    finally:
        capture.stop()


def _stop_all() -> None:
    for capture in list(_running.values()):
        capture.stop()


atexit.register(_stop_all)


# --- Making the recordings --------------------------------------------------------------------


def record(notebook: Path) -> None:
    """Run ``notebook`` in a fresh kernel with live captures that save themselves.

    Every capture the notebook starts with ``recording=NAME`` writes its packets to
    ``notebooks/data/NAME.json`` (``$HELPERS_CAPTURE_DATA`` if set). Needs root on Linux.
    The notebook file itself is not changed.
    """
    import nbformat
    from nbclient import NotebookClient

    os.environ["HELPERS_CAPTURE"] = "record"
    os.environ["HELPERS_CAPTURE_NOTEBOOK"] = f"notebooks/{notebook.name}"
    before = {path: path.stat().st_mtime for path in DATA.glob("*.json")}
    nb = nbformat.read(notebook, as_version=4)
    client = NotebookClient(nb, timeout=300, resources={"metadata": {"path": str(notebook.parent)}})
    client.execute()
    for path in sorted(DATA.glob("*.json")):
        if before.get(path) != path.stat().st_mtime:
            print(f"recorded {path.name} in {DATA}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m helpers.capture", description=__doc__)
    parser.add_argument("--record", type=Path, metavar="NOTEBOOK", required=True)
    arguments = parser.parse_args(argv)
    if not hasattr(socket, "AF_PACKET"):
        sys.exit("recording needs Linux (AF_PACKET sockets)")
    record(arguments.record)


if __name__ == "__main__":
    main()
