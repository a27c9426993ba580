"""Solutions to the "Your turn" exercises of lesson 11 (11_security.ipynb).

Try the exercises first. Each block below can be pasted into the notebook's exercise cell;
this file also runs on its own: python notebooks/solutions/11_security.py
"""

import hmac
import http
import time

import socketio

import helpers


# Exercise 11.1: process_request lets a handshake go on only with the right key; else 401.
def require_key(connection, request):
    """process_request: go on only with 'X-Api-Key: letmein'."""
    given = request.headers.get("X-Api-Key", "")
    if hmac.compare_digest(given.encode(), b"letmein"):
        return None
    return connection.respond(http.HTTPStatus.UNAUTHORIZED, "a valid key is required\n")


helpers.check("11.1", require_key)


# Exercise 11.2: one allowed origin, checked at the handshake; the token, checked on CONNECT.
def members_only():
    """A Socket.IO server for pages from https://chat.example and clients with the token."""
    sio = socketio.AsyncServer(async_mode="aiohttp", cors_allowed_origins=["https://chat.example"])

    @sio.event
    async def connect(sid, environ, auth):
        token = auth.get("token", "") if isinstance(auth, dict) else ""
        if not hmac.compare_digest(str(token).encode(), b"letmein"):
            raise socketio.exceptions.ConnectionRefusedError("a valid token is required")

    return sio


helpers.check("11.2", members_only)


# Exercise 11.3: a token bucket per connection, in its session; overspending disconnects.
def limited_server(rate=5.0, burst=5.0):
    """A Socket.IO server whose 'echo' allows each connection `burst` messages at once and
    `rate` a second; a connection that sends more is disconnected."""
    sio = socketio.AsyncServer(async_mode="aiohttp")

    @sio.event
    async def echo(sid, data):
        async with sio.session(sid) as bucket:  # this connection's own bucket
            now = time.monotonic()
            level = bucket.get("level", burst) + (now - bucket.get("time", now)) * rate
            bucket["level"], bucket["time"] = min(burst, level) - 1, now
        if bucket["level"] < 0:
            await sio.disconnect(sid)  # a goodbye from the server: the client does not return
            return None
        return data

    return sio


helpers.check("11.3", limited_server)
