"""Lesson 02 exercises: TCP's handshake, sequence numbers, a closed port, and the layers."""

from __future__ import annotations

import re
import socket
from collections.abc import Callable

from ..check import NotYet, exercise


def _flag_names(answer: object) -> set[str]:
    """The flag names in ``answer``: a string like ``"SYN, ACK"`` or a tuple, list or set."""
    if isinstance(answer, str):
        words = re.findall(r"[A-Za-z]+", answer)
    elif isinstance(answer, tuple | list | set | frozenset):
        words = [str(word) for word in answer]
    else:
        raise NotYet(f"give the flags as text like 'FIN, ACK' or a tuple of names, not {answer!r}.")
    return {word.strip().upper() for word in words}


@exercise(
    "02.1",
    nudge="tcp.packets is a list of the captured packets, oldest first (Python counts from 0), "
    "and every packet has a .flags attribute.",
)
def second_packet_flags(answer: object) -> str:
    flags = _flag_names(answer)
    if flags == {"SYN"}:
        raise NotYet("SYN alone is the first packet, the client's knock. What does the answer add?")
    if flags != {"SYN", "ACK"}:
        raise NotYet(
            f"you gave {sorted(flags)}. The second packet is the server's answer to the knock: "
            "look at tcp.packets[1].flags."
        )
    return (
        "SYN, ACK: the server acknowledges the client's SYN (ACK) and sends its own SYN in the "
        "same packet. That is why the handshake needs three packets, not four."
    )


@exercise(
    "02.2",
    nudge="the client's first data byte has relative seq 1 (the SYN used up 0), and an ack "
    "number is the number of the next byte the receiver expects.",
)
def ack_after_two_sends(answer: object) -> str:
    if not isinstance(answer, int) or isinstance(answer, bool):
        raise NotYet(f"the ack number is a whole number, not {answer!r}.")
    if answer == 16:
        raise NotYet(
            "16 counts the bytes, but the SYN used up sequence number 0: the data starts at 1."
        )
    if answer in (9, 10, 7, 8):
        raise NotYet("an ack covers every byte received so far, not only the last send.")
    if answer != 17:
        raise NotYet(
            f"{answer} is not it. After b'pie' (3 bytes) the server said ack=4: 1 + 3. "
            "Do the same with 9 + 7 bytes."
        )
    return "ack=17: bytes 1 to 16 have arrived, so byte 17 is the next one the server expects."


@exercise(
    "02.3",
    nudge="try to open a TCP connection to ('127.0.0.1', port) as the lesson did, and look at "
    "what create_connection() raises when nobody listens. Close what you open.",
)
def knock_checker(knock: object) -> str:
    if not callable(knock):
        raise NotYet(f"define a function knock(port) and pass the function itself, not {knock!r}.")
    check: Callable[[int], object] = knock
    with socket.create_server(("127.0.0.1", 0)) as listener:
        open_port = listener.getsockname()[1]
        answer = check(open_port)
        if answer is not True:
            raise NotYet(f"a server listens on port {open_port}, but knock() said {answer!r}.")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    answer = check(closed_port)
    if answer is not False:
        raise NotYet(f"nobody listens on port {closed_port}, but knock() said {answer!r}.")
    return (
        "knock() tells an open port from a closed one: TCP answers every SYN, with SYN, ACK "
        "when someone listens and with RST when nobody does."
    )


LAYERS = {
    "Ethernet": "link",
    "IP": "internet",
    "TCP": "transport",
    "UDP": "transport",
    "HTTP": "application",
    "WebSocket": "application",
    "Engine.IO": "application",
    "Socket.IO": "application",
}

OSI_NAMES = {
    "physical": "link",
    "data link": "link",
    "network": "internet",
    "session": "application",
    "presentation": "application",
}


@exercise(
    "02.4",
    nudge="the TCP/IP model has four layers: 'link', 'internet', 'transport' and "
    "'application'. Fill in one of them for each protocol in the dictionary.",
)
def tcp_ip_layers(answer: object) -> str:
    if not isinstance(answer, dict):
        raise NotYet(f"answer should be the dictionary from the exercise cell, not {answer!r}.")
    given = {str(key).strip().lower(): value for key, value in answer.items()}
    for protocol, layer in LAYERS.items():
        if protocol.lower() not in given:
            raise NotYet(f"your dictionary has no {protocol!r}: add it, with its layer.")
        value = given[protocol.lower()]
        if value is ...:
            raise NotYet(f"{protocol} still has '...': which layer does it belong to?")
        named = value.strip().lower() if isinstance(value, str) else value
        if isinstance(named, str) and OSI_NAMES.get(named) == layer:
            raise NotYet(
                f"{protocol}: {value!r} is the OSI model's name; the TCP/IP model calls that "
                f"layer {layer!r}."
            )
        if named != layer:
            raise NotYet(
                f"{protocol} is not in the {value!r} layer. Look at the lesson's layer table "
                "(the TCP/IP column)."
            )
    return (
        "Everything above TCP, from HTTP to Socket.IO, is application layer: to TCP it is all "
        "just bytes to deliver in order."
    )
