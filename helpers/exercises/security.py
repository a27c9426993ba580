"""Lesson 11 exercises: a token in the handshake, origins and auth in Socket.IO, a TLS client."""

from __future__ import annotations

import contextlib
import ssl

import socketio
import trustme
import websockets.exceptions
import websockets.sync.client

from ..check import NotYet, exercise, function_answer, visiting
from ..servers import start_sio_server, start_ws_server

_WAIT = 3.0  # seconds a single connection of the check may take
_KEY = "letmein"


def _status(url: str, **options: object) -> int:
    """The HTTP status a WebSocket handshake to ``url`` gets (101 when it is accepted)."""
    try:
        with websockets.sync.client.connect(url, open_timeout=_WAIT, **options):
            return 101
    except websockets.exceptions.InvalidStatus as error:
        return error.response.status_code


@exercise(
    "11.1",
    nudge="def require_key(connection, request): if request.headers.get('X-Api-Key') == "
    "'letmein', return None; otherwise return connection.respond(http.HTTPStatus.UNAUTHORIZED, "
    "'a valid key is required\\n'). (Better: compare with hmac.compare_digest.)",
)
def key_check(require_key: object) -> str:
    function_answer(require_key, "require_key")
    server = start_ws_server(name="check-11.1", process_request=require_key)
    try:
        with visiting(server):
            tries = {
                "without the header": {},
                "with X-Api-Key: wrong": {"X-Api-Key": "wrong"},
                f"with X-Api-Key: {_KEY}": {"X-Api-Key": _KEY},
            }
            got = {what: _status(server.url, additional_headers=h) for what, h in tries.items()}
            expected = dict(zip(tries, (401, 401, 101), strict=True))
            for what, status in got.items():
                if status == 500:
                    raise NotYet(f"a handshake {what} got 500: require_key raised an exception.")
                if status != expected[what]:
                    raise NotYet(
                        f"a handshake {what} got {status}, expected {expected[what]} "
                        "(101 means accepted)."
                    )
    finally:
        server.stop()
    return "No key or a wrong key: 401. The right key: 101 Switching Protocols."


def _engineio_status(url: str, origin: str | None) -> int:
    ws_url = url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    return _status(ws_url, origin=origin)


@exercise(
    "11.2",
    nudge="sio = socketio.AsyncServer(async_mode='aiohttp', "
    "cors_allowed_origins=['https://chat.example']); in @sio.event async def connect(sid, "
    "environ, auth): raise socketio.exceptions.ConnectionRefusedError('...') unless auth == "
    "{'token': 'letmein'}; return sio.",
)
def members(members_only: object) -> str:
    function_answer(members_only, "members_only")
    sio = members_only()
    if not isinstance(sio, socketio.AsyncServer):
        raise NotYet(
            f"members_only() returned {sio!r}: write its body in place of the ... and return "
            "the socketio.AsyncServer."
        )
    server = start_sio_server(sio, name="check-11.2")
    try:
        with visiting(server) as clients:
            for origin, allowed in (
                ("https://evil.example", False),
                ("https://chat.example", True),
                (None, True),
            ):
                status = _engineio_status(server.url, origin)
                if (status == 101) != allowed:
                    verdict = "was let in" if status == 101 else f"was refused ({status})"
                    raise NotYet(
                        f"a handshake with Origin {origin} {verdict}: set cors_allowed_origins."
                    )
            for auth, allowed in (
                (None, False),
                ({"token": "wrong"}, False),
                ({"token": _KEY}, True),
            ):
                # websocket-client would send the server's own origin: like a script, send none
                client = socketio.Client(
                    reconnection=False, websocket_extra_options={"suppress_origin": True}
                )
                clients.append(client)
                with contextlib.suppress(socketio.exceptions.ConnectionError):
                    client.connect(
                        server.url, auth=auth, transports=["websocket"], wait_timeout=_WAIT
                    )
                if client.connected != allowed:
                    verdict = "was let in" if client.connected else "was refused"
                    raise NotYet(f"a client with auth={auth!r} {verdict}.")
    finally:
        server.stop()
    return "Foreign pages and clients without the token are refused; members get in."


@exercise(
    "11.3",
    nudge="context = ssl.create_default_context(); ca.configure_trust(context); return context. "
    "Leave verify_mode and check_hostname as they are.",
)
def trusting_client(client_context: object) -> str:
    function_answer(client_context, "client_context")
    ca = trustme.CA()
    context = client_context(ca)
    if not isinstance(context, ssl.SSLContext):
        raise NotYet(
            f"client_context(ca) returned {context!r}: write its body in place of the ... and "
            "return an ssl.SSLContext."
        )
    if context.verify_mode != ssl.CERT_REQUIRED or not context.check_hostname:
        raise NotYet(
            "this context skips a check (verify_mode is not CERT_REQUIRED, or check_hostname is "
            "off): it would accept an attacker's certificate too. Trust the CA instead."
        )
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    server = start_ws_server(name="check-11.3", ssl=server_context)
    try:
        with visiting(server):
            try:
                with websockets.sync.client.connect(server.url, ssl=context, open_timeout=_WAIT):
                    pass
            except ssl.SSLCertVerificationError as error:
                raise NotYet(
                    f"the client refused the certificate ({error.verify_message}): "
                    "call ca.configure_trust(context)."
                ) from None
    finally:
        server.stop()
    return "The client trusts the CA's certificate, and still checks signature and host name."
