"""Solutions to the "Your turn" exercises of lesson 11 (11_security.ipynb).

Try the exercises first. This file also runs on its own:
python notebooks/solutions/11_security.py
"""

import hmac
import http
import ssl

import socketio

import helpers


def require_key(connection, request):
    """process_request: go on only with 'X-Api-Key: letmein'."""
    given = request.headers.get("X-Api-Key", "")
    if hmac.compare_digest(given.encode(), b"letmein"):
        return None
    return connection.respond(http.HTTPStatus.UNAUTHORIZED, "a valid key is required\n")


def members_only():
    """A Socket.IO server for pages from https://chat.example and clients with the token."""
    sio = socketio.AsyncServer(async_mode="aiohttp", cors_allowed_origins=["https://chat.example"])

    @sio.event
    async def connect(sid, environ, auth):
        token = auth.get("token", "") if isinstance(auth, dict) else ""
        if not hmac.compare_digest(token.encode(), b"letmein"):
            raise socketio.exceptions.ConnectionRefusedError("a valid token is required")

    return sio


def client_context(ca):
    """An SSL context for a client that trusts ca's certificates."""
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


helpers.check("11.1", require_key)
helpers.check("11.2", members_only)
helpers.check("11.3", client_context)
helpers.stop_all()
