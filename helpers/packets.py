"""Packets by hand: the Ethernet, IPv4, TCP, UDP and ICMP headers of a captured frame, read.

Nothing here opens a socket. Every function takes bytes and gives fields or text back, like
:mod:`helpers.wire` does for WebSocket frames; :mod:`helpers.capture` is the part that
captures (or replays) the frames, and it uses this module to read them.

>>> from helpers import packets
>>> frame = bytes(12) + bytes.fromhex("0800") + bytes.fromhex(
...     "45000028000140004006 0000 7f000001 7f000001"          # IPv4, 20 bytes
...     "c350 1f90 000003e8 00000000 5002 0200 0000 0000"      # TCP, 20 bytes: a SYN
... )
>>> packet = packets.parse_frame(frame)
>>> packet.protocol, packet.ports, packet.flags
('TCP', (50000, 8080), ('SYN',))

**One table per header.** Each header's fields are written down once, in a table of
:class:`Field` rows (its name, where it starts, how many bytes it has, and how to say its
value): :data:`ETHERNET`, :data:`IPV4`, :data:`TCP_HEADER`, :data:`UDP_HEADER` and
:data:`ICMP_HEADER`. The ``parse_*`` functions read the fields at those places, and
:func:`layers` cuts a frame into the same pieces, so the two can never disagree.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

__all__ = [
    "ETHERNET",
    "ICMP",
    "ICMP_HEADER",
    "IPPROTO",
    "IPV4",
    "TCP",
    "TCP_HEADER",
    "UDP",
    "UDP_HEADER",
    "Ethernet",
    "Field",
    "IPv4",
    "Packet",
    "Row",
    "layers",
    "parse_ethernet",
    "parse_frame",
    "parse_icmp",
    "parse_ipv4",
    "parse_tcp",
    "parse_udp",
    "preview",
    "rows",
    "show_layers",
    "table",
]

ETH_P_IP = 0x0800  # the Ethernet type of IPv4

# IP's numbers for what an IPv4 packet carries (IANA; socket.IPPROTO_* has the same values).
IPPROTO_ICMP = 1
IPPROTO_TCP = 6
IPPROTO_UDP = 17
IPPROTO = {IPPROTO_ICMP: "ICMP", IPPROTO_TCP: "TCP", IPPROTO_UDP: "UDP"}
"""The protocol names of the IP protocol numbers this module reads."""

TCP_FLAGS = ("FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR")
"""TCP's flag bits, lowest first: FIN is 0x01, SYN 0x02, ... CWR 0x80."""

TCP_OPTIONS = {2: "MSS", 3: "window scale", 4: "SACK permitted", 5: "SACK", 8: "timestamps"}
"""The names of the TCP options a loopback connection uses (RFC 9293 and RFC 7323)."""

ICMP_MEANINGS = {
    (0, 0): "echo reply",
    (3, 0): "network unreachable",
    (3, 1): "host unreachable",
    (3, 3): "port unreachable",
    (8, 0): "echo request",
}
"""What an ICMP (type, code) pair says, for the messages the lesson meets."""

LAYERS = {
    "Ethernet": "link layer (OSI 2, data link)",
    "IPv4": "internet layer (OSI 3, network)",
    "TCP": "transport layer (OSI 4)",
    "UDP": "transport layer (OSI 4)",
    "ICMP": "internet layer (OSI 3), IP's error messages",
    "payload": "application data (OSI 5-7)",
}
"""Which layer of the Internet (and OSI) model each header belongs to."""

# --- The headers and their fields ----------------------------------------------------------

Header = TypeVar("Header")


@dataclass(frozen=True)
class Field(Generic[Header]):
    """One field of a header: its ``key`` (the number that :func:`parse_ipv4` and friends
    read from it), its ``name`` as :func:`show_layers` prints it, where it starts in the
    header (``offset``) and how many bytes it has (``size``), and ``say``, which turns the
    parsed header into the field's value in words."""

    key: str
    name: str
    offset: int
    size: int
    say: Callable[[Header], str]

    def cut(self, header: bytes) -> bytes:
        """This field's bytes, from the bytes of a header that starts at ``header[0]``."""
        return header[self.offset : self.offset + self.size]


def _size(fields: tuple[Field[Header], ...]) -> int:
    """How many bytes a header's fixed fields take: where its last field ends."""
    return max(field.offset + field.size for field in fields)


def _numbers(fields: tuple[Field[Header], ...], data: bytes) -> dict[str, int]:
    """Each field of a header at the front of ``data``, as a big-endian ("network order")
    number, by key."""
    return {field.key: int.from_bytes(field.cut(data), "big") for field in fields}


def _need(data: bytes, size: int, what: str) -> None:
    if len(data) < size:
        raise ValueError(f"{what} needs at least {size} bytes, got {len(data)}")


def _mac(number: int) -> str:
    return ":".join(f"{byte:02x}" for byte in number.to_bytes(6, "big"))


@dataclass(frozen=True)
class Ethernet:
    """An Ethernet header: 14 bytes (on ``lo`` both addresses are all zeros)."""

    destination: str
    source: str
    type: int


ETHERNET: tuple[Field[Ethernet], ...] = (
    Field("destination", "destination", 0, 6, lambda eth: eth.destination),
    Field("source", "source", 6, 6, lambda eth: eth.source),
    Field(
        "type",
        "type",
        12,
        2,
        lambda eth: f"0x{eth.type:04x} = {'IPv4' if eth.type == ETH_P_IP else '?'}",
    ),
)
"""The fields of an Ethernet header."""


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


def _fragmenting(ip: IPv4) -> str:
    may = "don't fragment" if ip.dont_fragment else "may fragment"
    return f"{may}, offset {ip.fragment_offset}"


IPV4: tuple[Field[IPv4], ...] = (
    Field(
        "version_ihl", "version, length", 0, 1, lambda ip: f"{ip.version}, {ip.header_length} bytes"
    ),
    Field("tos", "type of service", 1, 1, lambda ip: str(ip.tos)),
    Field("total_length", "total length", 2, 2, lambda ip: f"{ip.total_length} bytes"),
    Field("identification", "identification", 4, 2, lambda ip: str(ip.identification)),
    Field("flags_offset", "flags, offset", 6, 2, _fragmenting),
    Field("ttl", "time to live", 8, 1, lambda ip: f"{ip.ttl} hops"),
    Field("protocol", "protocol", 9, 1, lambda ip: f"{ip.protocol} = {IPPROTO[ip.protocol]}"),
    Field("checksum", "checksum", 10, 2, lambda ip: f"0x{ip.checksum:04x}"),
    Field("source", "source", 12, 4, lambda ip: ip.source),
    Field("destination", "destination", 16, 4, lambda ip: ip.destination),
)
"""The fields of an IPv4 header (without its options, if it has any)."""


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


TCP_HEADER: tuple[Field[TCP], ...] = (
    Field("source_port", "source port", 0, 2, lambda tcp: str(tcp.source_port)),
    Field("destination_port", "destination port", 2, 2, lambda tcp: str(tcp.destination_port)),
    Field("seq", "sequence number", 4, 4, lambda tcp: str(tcp.seq)),
    Field("ack", "ack number", 8, 4, lambda tcp: str(tcp.ack)),
    Field("data_offset", "header length", 12, 1, lambda tcp: f"{tcp.header_length} bytes"),
    Field("flag_bits", "flags", 13, 1, lambda tcp: ", ".join(tcp.flags)),
    Field("window", "window", 14, 2, lambda tcp: str(tcp.window)),
    Field("checksum", "checksum", 16, 2, lambda tcp: f"0x{tcp.checksum:04x}"),
    Field("urgent", "urgent pointer", 18, 2, lambda tcp: str(tcp.urgent)),
)
"""The fields of a TCP header (without its options, if it has any)."""


@dataclass(frozen=True)
class UDP:
    """A UDP header (RFC 768): two ports, a length (header included) and a checksum."""

    source_port: int
    destination_port: int
    length: int
    checksum: int


UDP_HEADER: tuple[Field[UDP], ...] = (
    Field("source_port", "source port", 0, 2, lambda udp: str(udp.source_port)),
    Field("destination_port", "destination port", 2, 2, lambda udp: str(udp.destination_port)),
    Field("length", "length", 4, 2, lambda udp: f"{udp.length} bytes"),
    Field("checksum", "checksum", 6, 2, lambda udp: f"0x{udp.checksum:04x}"),
)
"""The fields of a UDP header."""


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

    @property
    def quoted_ports(self) -> tuple[tuple[int, int], int]:
        """The ports and IP protocol number of the packet this error quotes.

        An error quotes the packet's IP header and at least the 8 bytes after it, which hold
        the TCP or UDP ports. ``((0, 0), 0)`` if nothing usable is quoted.
        """
        quoted = self.quoted
        if len(quoted) < _size(IPV4) or quoted[0] >> 4 != 4:
            return (0, 0), 0
        start = (quoted[0] & 0x0F) * 4
        if len(quoted) < start + 4:
            return (0, 0), 0
        ports = _numbers(UDP_HEADER[:2], quoted[start:])  # TCP's ports are in the same place
        protocol = _numbers(IPV4, quoted)["protocol"]
        return (ports["source_port"], ports["destination_port"]), protocol


ICMP_HEADER: tuple[Field[ICMP], ...] = (
    Field(
        "type_code", "type, code", 0, 2, lambda icmp: f"{icmp.type}, {icmp.code} = {icmp.meaning}"
    ),
    Field("checksum", "checksum", 2, 2, lambda icmp: f"0x{icmp.checksum:04x}"),
    Field("unused", "unused", 4, 4, lambda icmp: ""),
)
"""The fields of an ICMP error message's header (the quoted packet follows it)."""


# --- Parsing headers (bytes in, fields out) --------------------------------------------------


def parse_ethernet(data: bytes) -> tuple[Ethernet, bytes]:
    """Read the Ethernet header at the front of ``data``; return it and what follows."""
    size = _size(ETHERNET)
    _need(data, size, "an Ethernet header")
    n = _numbers(ETHERNET, data)
    return Ethernet(_mac(n["destination"]), _mac(n["source"]), n["type"]), data[size:]


def parse_ipv4(data: bytes) -> tuple[IPv4, bytes]:
    """Read an IPv4 header; return it and the packet's payload (the TCP, UDP or ICMP part)."""
    _need(data, _size(IPV4), "an IPv4 header")
    n = _numbers(IPV4, data)
    version, header_length = n["version_ihl"] >> 4, (n["version_ihl"] & 0x0F) * 4
    if version != 4:
        raise ValueError(f"not an IPv4 header: the version field says {version}")
    _need(data, header_length, "this IPv4 header")
    flags_offset = n["flags_offset"]
    header = IPv4(
        version=version,
        header_length=header_length,
        tos=n["tos"],
        total_length=n["total_length"],
        identification=n["identification"],
        dont_fragment=bool(flags_offset & 0x4000),
        more_fragments=bool(flags_offset & 0x2000),
        fragment_offset=(flags_offset & 0x1FFF) * 8,
        ttl=n["ttl"],
        protocol=n["protocol"],
        checksum=n["checksum"],
        source=str(ipaddress.IPv4Address(n["source"])),
        destination=str(ipaddress.IPv4Address(n["destination"])),
    )
    return header, data[header_length : header.total_length]


def parse_tcp(data: bytes) -> tuple[TCP, bytes]:
    """Read a TCP header; return it and the payload (the application's bytes)."""
    fixed = _size(TCP_HEADER)
    _need(data, fixed, "a TCP header")
    n = _numbers(TCP_HEADER, data)
    header_length = (n["data_offset"] >> 4) * 4
    if header_length < fixed:
        raise ValueError(f"a TCP header is at least {fixed} bytes, this one says {header_length}")
    _need(data, header_length, "this TCP header")
    header = TCP(
        source_port=n["source_port"],
        destination_port=n["destination_port"],
        seq=n["seq"],
        ack=n["ack"],
        header_length=header_length,
        flag_bits=n["flag_bits"],
        window=n["window"],
        checksum=n["checksum"],
        urgent=n["urgent"],
        options=data[fixed:header_length],
    )
    return header, data[header_length:]


def parse_udp(data: bytes) -> tuple[UDP, bytes]:
    """Read a UDP header; return it and the payload."""
    size = _size(UDP_HEADER)
    _need(data, size, "a UDP header")
    n = _numbers(UDP_HEADER, data)
    header = UDP(n["source_port"], n["destination_port"], n["length"], n["checksum"])
    return header, data[size : max(header.length, size)]


def parse_icmp(data: bytes) -> ICMP:
    """Read an ICMP message (its 8-byte header, then the quoted packet, if any)."""
    size = _size(ICMP_HEADER)
    _need(data, size, "an ICMP message")
    n = _numbers(ICMP_HEADER, data)
    return ICMP(n["type_code"] >> 8, n["type_code"] & 0xFF, n["checksum"], data[size:])


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
        header = self.tcp or self.udp
        if header:
            return header.source_port, header.destination_port
        assert self.icmp is not None
        about, _ = self.icmp.quoted_ports
        return about[1], about[0]


def parse_frame(frame: bytes) -> Packet | None:
    """Read a whole Ethernet frame. Returns ``None`` unless it is IPv4 carrying TCP, UDP or
    ICMP; raises ``ValueError`` if its headers are cut short."""
    ethernet, rest = parse_ethernet(frame)
    if ethernet.type != ETH_P_IP:
        return None
    ip, rest = parse_ipv4(rest)
    if ip.protocol == IPPROTO_TCP:
        tcp, payload = parse_tcp(rest)
        return Packet(bytes(frame), ethernet, ip, tcp=tcp, payload=payload)
    if ip.protocol == IPPROTO_UDP:
        udp, payload = parse_udp(rest)
        return Packet(bytes(frame), ethernet, ip, udp=udp, payload=payload)
    if ip.protocol == IPPROTO_ICMP:
        return Packet(bytes(frame), ethernet, ip, icmp=parse_icmp(rest))
    return None


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


def preview(data: bytes, limit: int = 24) -> str:
    """``data`` as Python writes bytes, cut after ``limit`` bytes with "…" after it."""
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
            f"len={row.length}  {preview(row.data)}" if row.length else "",
        ]
        for row in found
    ]
    widths = [max(len(line[column]) for line in cells) for column in range(6)]
    used = [column for column, width in enumerate(widths) if width]  # UDP has no seq or ack
    lines = ("  ".join(line[c].ljust(widths[c]) for c in used).rstrip() for line in cells)
    return "\n".join(lines)


# --- The layers of one packet -----------------------------------------------------------------

Piece = tuple[bytes, str, str]
"""A piece of a frame: its bytes, the field's name and its value in words."""


def _tcp_options(options: bytes) -> str:
    names, index = [], 0
    while index < len(options):
        kind = options[index]
        if kind == 0:  # end of the option list
            break
        if kind == 1:  # NOP: one byte of padding, no length
            names.append("NOP")
            index += 1
            continue
        size = options[index + 1] if index + 1 < len(options) else 0
        value = options[index + 2 : index + size]
        name = TCP_OPTIONS.get(kind, f"option {kind}")
        if kind in (2, 3):  # MSS and window scale: a number worth showing
            name += f" {int.from_bytes(value, 'big')}"
        names.append(name)
        index += max(size, 2)
    return ", ".join(names)


def _pieces(fields: tuple[Field[Header], ...], header: Header, data: bytes) -> list[Piece]:
    """The fixed fields of ``header``, cut from ``data`` (which starts where it starts)."""
    return [(field.cut(data), field.name, field.say(header)) for field in fields]


def _transport(packet: Packet, data: bytes) -> tuple[str, list[Piece], int]:
    """The heading, pieces and size of the header after the IPv4 header (``data`` on)."""
    if packet.tcp:
        tcp = packet.tcp
        pieces = _pieces(TCP_HEADER, tcp, data)
        if tcp.options:
            pieces.append((tcp.options, "options", _tcp_options(tcp.options)))
        return f"TCP header, {tcp.header_length} bytes: {LAYERS['TCP']}", pieces, tcp.header_length
    if packet.udp:
        size = _size(UDP_HEADER)
        heading = f"UDP header, {size} bytes: {LAYERS['UDP']}"
        return heading, _pieces(UDP_HEADER, packet.udp, data), size
    assert packet.icmp is not None
    icmp = packet.icmp
    pieces = _pieces(ICMP_HEADER, icmp, data)
    pieces.append((icmp.quoted, "quoted packet", "the start of the packet this error is about"))
    return f"ICMP message: {LAYERS['ICMP']}", pieces, len(data)  # the quote runs to the end


def layers(packet: Packet) -> list[tuple[str, list[Piece]]]:
    """``packet``'s bytes cut into its layers: ``[(heading, [(bytes, field, value), ...])]``.

    Putting all the bytes back together, in order, gives ``packet.frame`` again.
    """
    frame, ip = packet.frame, packet.ip
    at = _size(ETHERNET)
    found = [
        (
            f"Ethernet header, {at} bytes: {LAYERS['Ethernet']}",
            _pieces(ETHERNET, packet.ethernet, frame),
        )
    ]
    ip_pieces = _pieces(IPV4, ip, frame[at:])
    if ip.header_length > _size(IPV4):
        ip_pieces.append((frame[at + _size(IPV4) : at + ip.header_length], "options", ""))
    found.append((f"IPv4 header, {ip.header_length} bytes: {LAYERS['IPv4']}", ip_pieces))
    at += ip.header_length
    heading, pieces, size = _transport(packet, frame[at:])
    found.append((heading, pieces))
    at += size
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
            value = value or (preview(data, 40) if name == "data" else "")
            chunks = [data[i : i + per_line].hex(" ") for i in range(0, len(data), per_line)]
            print(f"  {chunks[0]:<{width}}  {name:<16}  {value}".rstrip())
            for chunk in chunks[1:]:
                print(f"  {chunk}")
