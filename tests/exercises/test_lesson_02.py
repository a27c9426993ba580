"""Lesson 02's exercises: the mistakes learners make, each with its own message."""

from __future__ import annotations

import socket

import pytest
from conftest import not_yet

from helpers import capture
from helpers.check import grade


def test_02_1_wrong_answers() -> None:
    not_yet("02.1", 16, "the SYN used up sequence number 0")
    not_yet("02.1", 10, "only covers b'apple pie'")
    not_yet("02.1", 8, "only covers b'and tea'")
    not_yet("02.1", 18, "one too many")
    not_yet("02.1", 33, "33 is not it")
    not_yet("02.1", "17", "'17' is text")
    not_yet("02.1", 17.0, "a whole number, not 17.0")
    not_yet("02.1", True, "a whole number, not True")


def _can_capture() -> bool:
    try:
        capture.start(9).stop()  # the discard port: nothing is sent to it
    except OSError:
        return False
    return True


def test_02_1_shows_the_acks_on_the_wire_where_it_can(monkeypatch: pytest.MonkeyPatch) -> None:
    solved, message = grade("02.1", 17)
    assert solved and ("the server's ack=17." in message) == _can_capture(), message
    monkeypatch.setattr(capture, "FORCE_REPLAY", True)  # as in a kernel without raw sockets
    solved, message = grade("02.1", 17)
    assert solved and "Captured" not in message, message


def test_02_2_wrong_answers() -> None:
    def no_except(port):
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True

    def connect_ex(port):
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", port))

    def over_udp(port):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            try:
                sock.connect(("127.0.0.1", port))
                return True
            except ConnectionRefusedError:
                return False

    def catches_everything(port):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                return sock.sendall("knock")  # a str: TypeError, hidden by the except
        except Exception:
            return False

    def the_connection(port):
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=1)
        except ConnectionRefusedError:
            return False

    def forgets_false(port):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except ConnectionRefusedError:
            pass

    def says_yes(port):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return "yes"
        except ConnectionRefusedError:
            return "no"

    def open_then_words(port):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except ConnectionRefusedError:
            return "closed"

    def typo(port):
        return socket.create_conection(("127.0.0.1", port))

    not_yet("02.2", True, "pass the function itself, knock, not True")
    not_yet("02.2", no_except, "raised ConnectionRefusedError", "catch it and return False")
    not_yet("02.2", connect_ex, "0 is connect_ex's error number for 'no error'")
    not_yet("02.2", lambda port: connect_ex(port) or True, "111 is ECONNREFUSED")
    not_yet("02.2", over_udp, "A UDP socket's connect sends no packet")
    not_yet("02.2", catches_everything, "a mistake inside it looks like a closed port")
    not_yet("02.2", the_connection, "return True itself, not the connection")
    not_yet("02.2", forgets_false, "does knock return False when the connection is refused?")
    not_yet("02.2", says_yes, "said 'yes', but a server listens", "return True or False")
    not_yet("02.2", open_then_words, "said 'closed', but nobody listens", "return True or False")
    not_yet("02.2", typo, "raised AttributeError")


def _pie() -> bytes:
    return capture.load("02_tcp_conversation").packets[3].frame


def test_02_3_wrong_answers() -> None:
    def fixed_sizes(frame):  # the usual first try: headers of 14, 20 and 20 bytes
        return frame[14 + 20 + 20 :]

    def sizes_of_the_pie(frame):  # right for the pie, wrong for the SYN's longer TCP header
        return frame[14 + 20 + 32 :]

    def no_total_length(frame):  # reads both header lengths, but runs to the end of the frame
        ip = frame[14:]
        tcp = ip[(ip[0] & 0x0F) * 4 :]
        return tcp[(tcp[12] >> 4) * 4 :]

    def fixed_ip_header(frame):  # reads the TCP length, but assumes a 20-byte IPv4 header
        total = int.from_bytes(frame[16:18], "big")
        tcp = frame[34 : 14 + total]
        return tcp[(tcp[12] >> 4) * 4 :]

    def text(frame):
        return sizes_of_the_pie(frame).decode()

    not_yet("02.3", _pie(), "this is 69 bytes of data; pass the function itself, peel")
    not_yet("02.3", lambda frame: frame, "66 bytes too early, inside the Ethernet header")
    not_yet("02.3", fixed_sizes, "for the pie", "12 bytes too early, inside the TCP header")
    not_yet("02.3", sizes_of_the_pie, "for the SYN", "8 bytes too early", "TCP 40")
    not_yet("02.3", fixed_ip_header, "IPv4 24", "inside the IPv4 header (its options)")
    not_yet("02.3", no_total_length, "padded to 60 bytes", "4 bytes past the end", "(42 bytes)")
    not_yet("02.3", lambda frame: frame[67:], "leave out the first byte of the payload")
    not_yet("02.3", lambda frame: frame[66:68], "stop 1 byte before the end")
    not_yet(
        "02.3",
        lambda frame: b"pie",
        "for packet 6, b'thanks!'",
        "returned b'pie', which is nowhere",
    )
    not_yet("02.3", lambda frame: frame[66:][::-1], "returned b'eip'")
    not_yet("02.3", text, "returned the text 'pie'")
    not_yet("02.3", lambda frame: len(frame), "returned 69")
    not_yet(
        "02.3", lambda frame: frame[999], "raised IndexError for the pie, packet 4", "(69 bytes)"
    )
