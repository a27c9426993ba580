"""A WebSocket connection with nothing in between: a plain TCP socket that did the opening
handshake by hand, and frames you build and read yourself with :mod:`helpers.wire`.

    with helpers.raw.open_websocket(server.url) as connection:
        connection.send(wire.encode_frame("Hello", mask_key=b"abcd"))
        frame = connection.recv_frame()

Lesson 03 writes the handshake out step by step; this module is the same steps, packaged.
"""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

from . import wire

__all__ = ["EXAMPLE_KEY", "RawWebSocket", "handshake_request", "open_websocket"]

EXAMPLE_KEY = "dGhlIHNhbXBsZSBub25jZQ=="
"""The ``Sec-WebSocket-Key`` of RFC 6455's example. A real client sends 16 random bytes."""


def handshake_request(host: str, port: int, *, path: str = "/", key: str = EXAMPLE_KEY) -> bytes:
    """The bytes of a WebSocket opening handshake request (RFC 6455, section 4.1)."""
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: {host}:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


class RawWebSocket:
    """An open WebSocket on a plain socket: send bytes, receive whole frames."""

    def __init__(self, sock: socket.socket, response: str, leftover: bytes) -> None:
        self.socket = sock
        self.response = response  #: the server's handshake response head, as text
        self._buffer = leftover

    def send(self, data: bytes) -> None:
        """Send ``data`` as it is: one or more frames made with :func:`wire.encode_frame`."""
        self.socket.sendall(data)

    def recv_frame(self) -> wire.Frame:
        """Wait for the next whole frame from the server and return it decoded.

        Raises ``ConnectionError`` if the server closes the TCP connection first.
        """
        while True:
            try:
                frame, self._buffer = wire.decode_frame(self._buffer)
                return frame
            except wire.IncompleteFrame:
                more = self.socket.recv(65536)
                if not more:
                    raise ConnectionError("the server closed the TCP connection") from None
                self._buffer += more

    def server_closed_tcp(self) -> bool:
        """True once the server has closed its side of the TCP connection (reads to the end)."""
        try:
            return self.socket.recv(65536) == b""
        except TimeoutError:
            return False

    def close(self) -> None:
        """Close the TCP connection (without a WebSocket closing handshake)."""
        self.socket.close()

    def __enter__(self) -> RawWebSocket:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def open_websocket(url: str, *, key: str = EXAMPLE_KEY, timeout: float = 3.0) -> RawWebSocket:
    """Connect a plain TCP socket to ``url`` (``ws://host:port/path``) and do the handshake.

    Raises ``ConnectionError`` with the server's status line if it does not switch
    protocols, or if its ``Sec-WebSocket-Accept`` is not the one ``key`` calls for.
    """
    parts = urlsplit(url)
    if parts.scheme != "ws" or parts.hostname is None or parts.port is None:
        raise ValueError(f"expected a ws://host:port URL, got {url!r}")
    sock = socket.create_connection((parts.hostname, parts.port), timeout=timeout)
    try:
        sock.sendall(handshake_request(parts.hostname, parts.port, path=parts.path or "/", key=key))
        head, leftover = _read_head(sock)
    except BaseException:
        sock.close()
        raise
    switched = head.start_line.startswith("HTTP/1.1 101")
    if not switched or head.header("sec-websocket-accept") != wire.accept_key(key):
        sock.close()
        raise ConnectionError(f"the server did not switch to WebSocket: {head.start_line}")
    return RawWebSocket(sock, head.text, leftover)


def _read_head(sock: socket.socket) -> tuple[wire.HttpHead, bytes]:
    """Read up to the blank line that ends an HTTP head; return it and the bytes after it."""
    data = b""
    while True:
        try:
            head = wire.parse_http_head(data)
        except wire.IncompleteHead:
            more = sock.recv(4096)
            if not more:
                raise ConnectionError(
                    "the server closed the connection during the handshake"
                ) from None
            data += more
        else:
            return head, data[head.size :]
