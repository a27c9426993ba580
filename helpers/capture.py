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

**Reading the bytes is separate from capturing them.** :func:`parse_frame` and the
``parse_*`` functions take bytes and return the header fields, like :mod:`helpers.wire`;
:func:`table` turns parsed packets into the table; only :class:`Capture` opens a socket.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import os
import platform
import socket
import struct
import sys
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .diagram import Diagram, Message, choose_connections, name_clients

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

DATA = Path(os.environ.get("HELPERS_CAPTURE_DATA") or Path(__file__).parents[1] / "notebooks/data")
"""Where recordings live: ``notebooks/data/`` (or the folder in ``$HELPERS_CAPTURE_DATA``)."""

ETH_P_ALL = 0x0003  # "every protocol": a packet socket that sees all frames
ETH_P_IP = 0x0800  # the Ethernet type of IPv4
PACKET_OUTGOING = 4  # the frame was sent by this machine (see _reader)
SO_RCVBUFFORCE = 33  # SO_RCVBUF, beyond the usual limit (Linux, root)
IPPROTO = {1: "ICMP", 6: "TCP", 17: "UDP"}
SETTLE = 0.2  # seconds without a new packet before a table is printed
WAIT = 5.0  # seconds show(until=...) waits at most for the packets it expects

# --- Parsing headers (bytes in, fields out; no sockets) -----------------------------------


@dataclass(frozen=True)
class Ethernet:
    """An Ethernet header: 14 bytes (on ``lo`` both addresses are all zeros)."""

    destination: str
    source: str
    type: int


@dataclass(frozen=True)
class IPv4:
    """An IPv4 header (RFC 791). ``header_length`` and ``total_length`` are in bytes."""

    version: int
    header_length: int
    tos: int
    total_length: int
    identification: int
    dont_fragment: bool
    more_fragments: bool
    fragment_offset: int
    ttl: int
    protocol: int
    checksum: int
    source: str
    destination: str


TCP_FLAGS = ("FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR")
"""TCP's flag bits, lowest first: FIN is 0x01, SYN 0x02, ... CWR 0x80."""


@dataclass(frozen=True)
class TCP:
    """A TCP header (RFC 9293). ``seq`` and ``ack`` are the real, absolute numbers."""

    source_port: int
    destination_port: int
    seq: int
    ack: int
    header_length: int
    flag_bits: int
    window: int
    checksum: int
    urgent: int
    options: bytes

    @property
    def flags(self) -> tuple[str, ...]:
        """The flags that are set, in the order Wireshark prints them: ``('SYN', 'ACK')``."""
        return tuple(name for bit, name in enumerate(TCP_FLAGS) if self.flag_bits >> bit & 1)


@dataclass(frozen=True)
class UDP:
    """A UDP header (RFC 768): two ports, a length (header included) and a checksum."""

    source_port: int
    destination_port: int
    length: int
    checksum: int


ICMP_MEANINGS = {
    (0, 0): "echo reply",
    (3, 0): "network unreachable",
    (3, 1): "host unreachable",
    (3, 3): "port unreachable",
    (8, 0): "echo request",
}


@dataclass(frozen=True)
class ICMP:
    """An ICMP message (RFC 792). An error quotes the start of the packet it is about."""

    type: int
    code: int
    checksum: int
    quoted: bytes

    @property
    def meaning(self) -> str:
        """What it says, in words, such as ``'port unreachable'``."""
        return ICMP_MEANINGS.get((self.type, self.code), f"type {self.type} code {self.code}")


def _need(data: bytes, size: int, what: str) -> None:
    if len(data) < size:
        raise ValueError(f"{what} needs at least {size} bytes, got {len(data)}")


def _mac(data: bytes) -> str:
    return ":".join(f"{byte:02x}" for byte in data)


def parse_ethernet(data: bytes) -> tuple[Ethernet, bytes]:
    """Read the Ethernet header at the front of ``data``; return it and what follows."""
    _need(data, 14, "an Ethernet header")
    destination, source, kind = struct.unpack("!6s6sH", data[:14])
    return Ethernet(_mac(destination), _mac(source), kind), data[14:]


def parse_ipv4(data: bytes) -> tuple[IPv4, bytes]:
    """Read an IPv4 header; return it and the packet's payload (the TCP, UDP or ICMP part)."""
    _need(data, 20, "an IPv4 header")
    (version_ihl, tos, total, ident, frag, ttl, proto, checksum, src, dst) = struct.unpack(
        "!BBHHHBBH4s4s", data[:20]
    )
    version, header_length = version_ihl >> 4, (version_ihl & 0x0F) * 4
    if version != 4:
        raise ValueError(f"not an IPv4 header: the version field says {version}")
    _need(data, header_length, "this IPv4 header")
    header = IPv4(
        version=version,
        header_length=header_length,
        tos=tos,
        total_length=total,
        identification=ident,
        dont_fragment=bool(frag & 0x4000),
        more_fragments=bool(frag & 0x2000),
        fragment_offset=(frag & 0x1FFF) * 8,
        ttl=ttl,
        protocol=proto,
        checksum=checksum,
        source=socket.inet_ntoa(src),
        destination=socket.inet_ntoa(dst),
    )
    return header, data[header_length:total]


def parse_tcp(data: bytes) -> tuple[TCP, bytes]:
    """Read a TCP header; return it and the payload (the application's bytes)."""
    _need(data, 20, "a TCP header")
    src, dst, seq, ack, offset, bits, window, checksum, urgent = struct.unpack(
        "!HHIIBBHHH", data[:20]
    )
    header_length = (offset >> 4) * 4
    if header_length < 20:
        raise ValueError(f"a TCP header is at least 20 bytes, this one says {header_length}")
    _need(data, header_length, "this TCP header")
    options = data[20:header_length]
    header = TCP(src, dst, seq, ack, header_length, bits, window, checksum, urgent, options)
    return header, data[header_length:]


def parse_udp(data: bytes) -> tuple[UDP, bytes]:
    """Read a UDP header; return it and the payload."""
    _need(data, 8, "a UDP header")
    header = UDP(*struct.unpack("!HHHH", data[:8]))
    return header, data[8 : max(header.length, 8)]


def parse_icmp(data: bytes) -> ICMP:
    """Read an ICMP message (its 8-byte header, then the quoted packet, if any)."""
    _need(data, 8, "an ICMP message")
    kind, code, checksum = struct.unpack("!BBH", data[:4])
    return ICMP(kind, code, checksum, data[8:])


@dataclass(frozen=True)
class Packet:
    """One captured packet: the frame's bytes and every header read from them.

    Exactly one of ``tcp``, ``udp`` and ``icmp`` is set. ``payload`` is what the
    application sent (empty for ICMP and for TCP packets that only carry flags).
    """

    frame: bytes
    ethernet: Ethernet
    ip: IPv4
    tcp: TCP | None = None
    udp: UDP | None = None
    icmp: ICMP | None = None
    payload: bytes = b""

    @property
    def protocol(self) -> str:
        """``'TCP'``, ``'UDP'`` or ``'ICMP'``."""
        return IPPROTO[self.ip.protocol]

    @property
    def flags(self) -> tuple[str, ...]:
        """The TCP flags that are set (``()`` for UDP and ICMP)."""
        return self.tcp.flags if self.tcp else ()

    @property
    def ports(self) -> tuple[int, int]:
        """(source port, destination port). For an ICMP error: the ports of the packet it
        is about, swapped, since the error travels back to that packet's sender."""
        if self.tcp or self.udp:
            header = self.tcp or self.udp
            return header.source_port, header.destination_port
        assert self.icmp is not None
        about, _ = _quoted_ports(self.icmp)
        return about[1], about[0]


def _quoted_ports(icmp: ICMP) -> tuple[tuple[int, int], int]:
    """The ports and IP protocol number of the packet an ICMP error quotes.

    An error quotes the packet's IP header and at least the 8 bytes after it, which hold
    the TCP or UDP ports. Returns ``((0, 0), 0)`` if nothing usable is quoted.
    """
    quoted = icmp.quoted
    if len(quoted) < 20 or quoted[0] >> 4 != 4:
        return (0, 0), 0
    start = (quoted[0] & 0x0F) * 4
    if len(quoted) < start + 4:
        return (0, 0), 0
    source, destination = struct.unpack("!HH", quoted[start : start + 4])
    return (source, destination), quoted[9]


def parse_frame(frame: bytes) -> Packet | None:
    """Read a whole Ethernet frame. Returns ``None`` unless it is IPv4 carrying TCP, UDP or
    ICMP; raises ``ValueError`` if its headers are cut short."""
    ethernet, rest = parse_ethernet(frame)
    if ethernet.type != ETH_P_IP:
        return None
    ip, rest = parse_ipv4(rest)
    if ip.protocol == 6:
        tcp, payload = parse_tcp(rest)
        return Packet(bytes(frame), ethernet, ip, tcp=tcp, payload=payload)
    if ip.protocol == 17:
        udp, payload = parse_udp(rest)
        return Packet(bytes(frame), ethernet, ip, udp=udp, payload=payload)
    if ip.protocol == 1:
        return Packet(bytes(frame), ethernet, ip, icmp=parse_icmp(rest))
    return None


def _belongs(packet: Packet, port: int, proto: str) -> bool:
    """Whether ``packet`` is ``proto`` traffic to or from ``port`` (UDP: with ICMP errors)."""
    if packet.icmp:
        ports, about = _quoted_ports(packet.icmp)
        return proto == "udp" and about == 17 and port in ports
    return packet.protocol.lower() == proto and port in packet.ports


# --- The table ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One line of the table. ``seq`` and ``ack`` are *relative*: counted from the sender's
    (and for ``ack`` the receiver's) first sequence number, so the SYN is ``seq=0``."""

    number: int
    direction: str
    what: str
    seq: int | None
    ack: int | None
    length: int
    data: bytes


def rows(packets: list[Packet], port: int) -> list[Row]:
    """The table's rows for ``packets``, the side on ``port`` being the server.

    Sequence numbers start at a random value (the *initial sequence number*, ISN) on each
    side; like Wireshark, the table shows them relative to it. With more than one client
    the directions are numbered by first appearance: ``client 2 → server``.
    """
    clients: list[int] = []
    first_seq: dict[tuple[int, bool], int] = {}  # (client port, from server?) -> ISN
    for packet in packets:
        source, destination = packet.ports
        client = destination if source == port else source
        if client not in clients:
            clients.append(client)
        if packet.tcp:
            key = (client, source == port)
            if "SYN" in packet.flags or key not in first_seq:
                first_seq[key] = packet.tcp.seq
    found = []
    for number, packet in enumerate(packets, start=1):
        source, destination = packet.ports
        from_server = source == port
        client = destination if from_server else source
        name = f"client {clients.index(client) + 1}" if len(clients) > 1 else "client"
        direction = f"server → {name}" if from_server else f"{name} → server"
        seq = ack = None
        if packet.tcp:
            what = ", ".join(packet.flags) or "(no flags)"
            seq = (packet.tcp.seq - first_seq[(client, from_server)]) % 2**32
            other = first_seq.get((client, not from_server))
            if "ACK" in packet.flags:
                ack = packet.tcp.ack if other is None else (packet.tcp.ack - other) % 2**32
        elif packet.udp:
            what = "UDP"
        else:
            assert packet.icmp is not None
            what = f"ICMP {packet.icmp.meaning}"
        found.append(Row(number, direction, what, seq, ack, len(packet.payload), packet.payload))
    return found


def _data(data: bytes, limit: int = 24) -> str:
    text = repr(data[:limit])
    return text + "…" if len(data) > limit else text


def table(found: list[Row]) -> str:
    """``rows`` as aligned text, one packet a line (no timestamps, ports or window sizes:
    those change from run to run; see a packet's ``tcp`` fields for them)."""
    if not found:
        return "(no packets)"
    cells = [
        [
            f"{row.number:>2}",
            row.direction,
            row.what,
            "" if row.seq is None else f"seq={row.seq}",
            "" if row.ack is None else f"ack={row.ack}",
            f"len={row.length}  {_data(row.data)}" if row.length else "",
        ]
        for row in found
    ]
    widths = [max(len(line[column]) for line in cells) for column in range(6)]
    used = [column for column, width in enumerate(widths) if width]  # UDP has no seq or ack
    lines = ("  ".join(line[c].ljust(widths[c]) for c in used).rstrip() for line in cells)
    return "\n".join(lines)


# --- The layers of one packet -----------------------------------------------------------------

LAYERS = {
    "Ethernet": "link layer (OSI 2, data link)",
    "IPv4": "internet layer (OSI 3, network)",
    "TCP": "transport layer (OSI 4)",
    "UDP": "transport layer (OSI 4)",
    "ICMP": "internet layer (OSI 3), IP's error messages",
    "payload": "application data (OSI 5-7)",
}

TCP_OPTIONS = {2: "MSS", 3: "window scale", 4: "SACK permitted", 5: "SACK", 8: "timestamps"}


def _tcp_options(options: bytes) -> str:
    names, index = [], 0
    while index < len(options):
        kind = options[index]
        if kind == 0:
            break
        if kind == 1:
            names.append("NOP")
            index += 1
            continue
        size = options[index + 1] if index + 1 < len(options) else 0
        value = options[index + 2 : index + size]
        name = TCP_OPTIONS.get(kind, f"option {kind}")
        if kind in (2, 3):
            name += f" {int.from_bytes(value, 'big')}"
        names.append(name)
        index += max(size, 2)
    return ", ".join(names)


def layers(packet: Packet) -> list[tuple[str, list[tuple[bytes, str, str]]]]:
    """``packet``'s bytes cut into its layers: ``[(heading, [(bytes, field, value), ...])]``.

    Putting all the bytes back together, in order, gives ``packet.frame`` again.
    """
    frame = packet.frame
    eth, ip = packet.ethernet, packet.ip
    kind = {ETH_P_IP: "IPv4"}.get(eth.type, "?")
    found = [
        (
            f"Ethernet header, 14 bytes: {LAYERS['Ethernet']}",
            [
                (frame[0:6], "destination", eth.destination),
                (frame[6:12], "source", eth.source),
                (frame[12:14], "type", f"0x{eth.type:04x} = {kind}"),
            ],
        )
    ]
    at = 14
    fragment = ("don't fragment" if ip.dont_fragment else "may fragment") + (
        f", offset {ip.fragment_offset}"
    )
    found.append(
        (
            f"IPv4 header, {ip.header_length} bytes: {LAYERS['IPv4']}",
            [
                (frame[at : at + 1], "version, length", f"{ip.version}, {ip.header_length} bytes"),
                (frame[at + 1 : at + 2], "type of service", str(ip.tos)),
                (frame[at + 2 : at + 4], "total length", f"{ip.total_length} bytes"),
                (frame[at + 4 : at + 6], "identification", str(ip.identification)),
                (frame[at + 6 : at + 8], "flags, offset", fragment),
                (frame[at + 8 : at + 9], "time to live", f"{ip.ttl} hops"),
                (frame[at + 9 : at + 10], "protocol", f"{ip.protocol} = {packet.protocol}"),
                (frame[at + 10 : at + 12], "checksum", f"0x{ip.checksum:04x}"),
                (frame[at + 12 : at + 16], "source", ip.source),
                (frame[at + 16 : at + 20], "destination", ip.destination),
            ],
        )
    )
    if ip.header_length > 20:
        found[-1][1].append((frame[at + 20 : at + ip.header_length], "options", ""))
    at += ip.header_length
    if packet.tcp:
        tcp = packet.tcp
        fields = [
            (frame[at : at + 2], "source port", str(tcp.source_port)),
            (frame[at + 2 : at + 4], "destination port", str(tcp.destination_port)),
            (frame[at + 4 : at + 8], "sequence number", str(tcp.seq)),
            (frame[at + 8 : at + 12], "ack number", str(tcp.ack)),
            (frame[at + 12 : at + 13], "header length", f"{tcp.header_length} bytes"),
            (frame[at + 13 : at + 14], "flags", ", ".join(tcp.flags)),
            (frame[at + 14 : at + 16], "window", str(tcp.window)),
            (frame[at + 16 : at + 18], "checksum", f"0x{tcp.checksum:04x}"),
            (frame[at + 18 : at + 20], "urgent pointer", str(tcp.urgent)),
        ]
        if tcp.options:
            fields.append((tcp.options, "options", _tcp_options(tcp.options)))
        found.append((f"TCP header, {tcp.header_length} bytes: {LAYERS['TCP']}", fields))
        at += tcp.header_length
    elif packet.udp:
        udp = packet.udp
        fields = [
            (frame[at : at + 2], "source port", str(udp.source_port)),
            (frame[at + 2 : at + 4], "destination port", str(udp.destination_port)),
            (frame[at + 4 : at + 6], "length", f"{udp.length} bytes"),
            (frame[at + 6 : at + 8], "checksum", f"0x{udp.checksum:04x}"),
        ]
        found.append((f"UDP header, 8 bytes: {LAYERS['UDP']}", fields))
        at += 8
    elif packet.icmp:
        icmp = packet.icmp
        fields = [
            (frame[at : at + 2], "type, code", f"{icmp.type}, {icmp.code} = {icmp.meaning}"),
            (frame[at + 2 : at + 4], "checksum", f"0x{icmp.checksum:04x}"),
            (frame[at + 4 : at + 8], "unused", ""),
            (icmp.quoted, "quoted packet", "the start of the packet this error is about"),
        ]
        found.append((f"ICMP message: {LAYERS['ICMP']}", fields))
        at = len(frame)
    payload = frame[at : at + len(packet.payload)]
    if payload:
        found.append(
            (f"Payload, {len(payload)} bytes: {LAYERS['payload']}", [(payload, "data", "")])
        )
    return found


def show_layers(packet: Packet, *, per_line: int = 12) -> None:
    """Print ``packet``'s bytes layer by layer, in hex, each field with its name and value."""
    found = layers(packet)
    width = 3 * min(per_line, max(len(data) for _, fields in found for data, _, _ in fields)) - 1
    for heading, fields in found:
        print(heading)
        for data, name, value in fields:
            value = value or (_data(data, 40) if name == "data" else "")
            chunks = [data[i : i + per_line].hex(" ") for i in range(0, len(data), per_line)]
            print(f"  {chunks[0]:<{width}}  {name:<16}  {value}".rstrip())
            for chunk in chunks[1:]:
                print(f"  {chunk}")


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
    detail = _data(row.data, 60) if row.length else ""
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
        if _running.get(self._key) is self:
            del _running[self._key]
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

    @property
    def _key(self) -> str:
        return self.recording or f"port {self.port}"

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


RECORDING = os.environ.get("HELPERS_CAPTURE") == "record"
FORCE_REPLAY = os.environ.get("HELPERS_CAPTURE") == "replay"
_running: dict[str, Capture] = {}


def _read_recording(name: str) -> dict:
    path = _recording_path(name)
    if not path.exists():
        raise FileNotFoundError(f"there is no recording {name!r} in {DATA}")
    return json.loads(path.read_text())


def load(recording: str) -> Capture:
    """Read the recording called ``recording`` from ``notebooks/data/``: all its packets."""
    record = _read_recording(recording)
    frames = [bytes.fromhex(frame) for frame in record["frames"]]
    return Capture(record["port"], record["proto"], recording, f"recording {recording}", frames)


def start(port: int, *, proto: str = "tcp", recording: str | None = None) -> Capture:
    """Start capturing the ``proto`` (``"tcp"`` or ``"udp"``) packets of ``port`` on ``lo``.

    Where this kernel may not open a packet socket, the capture replays ``recording`` from
    ``notebooks/data/`` instead. Starting a capture with the name of a running one stops the
    old one first, so re-running a cell is safe. Call :meth:`Capture.stop` when done.
    """
    if proto not in ("tcp", "udp"):
        raise ValueError(f"proto must be 'tcp' or 'udp', not {proto!r}")
    key = recording or f"port {port}"
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
                f"this kernel cannot capture packets ({type(error).__name__}: {error}): that "
                "takes root on Linux. Only the lessons' recorded captures can be replayed."
            ) from None
        record = _read_recording(recording)
        frames = [bytes.fromhex(frame) for frame in record["frames"]]
        capture = Capture(record["port"], record["proto"], recording, REPLAY, frames)
        capture.why_replay = f"{type(error).__name__}: {error}"
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
