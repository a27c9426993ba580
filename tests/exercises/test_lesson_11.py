"""Lesson 11's exercises: the mistakes learners make, each with its own message."""

from __future__ import annotations

import http
import time

import pytest
import socketio
from conftest import not_yet

import helpers

from .conftest import TIMEOUT


def key_check(*, status=http.HTTPStatus.UNAUTHORIZED, header: str = "X-Api-Key"):
    """A require_key for 11.1 answering ``status`` when the ``header`` is not 'letmein'."""

    def require_key(connection, request):
        if request.headers.get(header) == "letmein":
            return None
        return connection.respond(status, "no\n")

    return require_key


@pytest.mark.usefixtures("lab")
def test_11_1_the_wrong_answer_to_the_handshake() -> None:
    not_yet("11.1", key_check(status=http.HTTPStatus.FORBIDDEN), "got 403, expected 401")
    not_yet("11.1", key_check(header="Authorization"), "the right key was refused")
    not_yet(
        "11.1",
        lambda connection, request: None,
        "a handshake without the header got 101, expected 401: it was let in",
    )


@pytest.mark.usefixtures("lab")
def test_11_1_another_status_and_a_typo() -> None:
    async def typo(connection, request):
        if request.header.get("X-Api-Key") == "letmein":
            return None
        return connection.respond(http.HTTPStatus.UNAUTHORIZED, "no\n")

    not_yet("11.1", key_check(status=http.HTTPStatus.BAD_REQUEST), "got 400, expected 401 (101")
    not_yet("11.1", typo, "got 500: require_key raised AttributeError")


@pytest.mark.usefixtures("lab")
def test_11_1_a_missing_header() -> None:
    def require_key(connection, request):
        if request.headers["X-Api-Key"] == "letmein":
            return None
        return connection.respond(http.HTTPStatus.UNAUTHORIZED, "no\n")

    not_yet("11.1", require_key, "require_key raised KeyError", "read it with get()")


@pytest.mark.usefixtures("lab")
def test_11_1_not_a_response() -> None:
    def legacy(connection, request):
        if request.headers.get("X-Api-Key") != "letmein":
            return http.HTTPStatus.UNAUTHORIZED, [], b"no\n"
        return None

    def a_bool(connection, request):
        return request.headers.get("X-Api-Key") == "letmein"

    not_yet("11.1", legacy, "is the legacy websockets API")
    not_yet("11.1", a_bool, "require_key returned False: return None to go on")


@pytest.mark.usefixtures("lab")
def test_11_1_not_the_function() -> None:
    not_yet("11.1", helpers.start_ws_server(name="keyed"), "this is a running server")
    not_yet("11.1", "letmein", "pass the function itself, require_key")


def members(*, origins: object = ("https://chat.example",), refuse=None, option=""):
    """A members_only for 11.2 that gives ``origins`` to the server's ``option`` (by default
    cors_allowed_origins), and whose connect handler calls ``refuse(auth)`` (by default the
    right check, raising socketio's ConnectionRefusedError)."""

    def right(auth):
        if not (isinstance(auth, dict) and auth.get("token") == "letmein"):
            raise socketio.exceptions.ConnectionRefusedError("a valid token is required")

    def members_only():
        allowed = list(origins) if isinstance(origins, tuple) else origins
        options = {option or "cors_allowed_origins": allowed}
        sio = socketio.AsyncServer(async_mode="aiohttp", **options)

        @sio.event
        async def connect(sid, environ, auth):
            return (refuse or right)(auth)

        return sio

    return members_only


@pytest.mark.usefixtures("lab")
def test_11_2_origins() -> None:
    not_yet("11.2", members(origins="*"), "Origin https://evil.example was let in", "'*' lets")
    not_yet("11.2", members(origins=[]), "cors_allowed_origins=[] does not mean 'no origin'")
    misspelt = members(option="cors_allowed_origin")
    not_yet("11.2", misspelt, "Origin https://chat.example was refused (400)", "spelling")
    not_yet("11.2", members(origins=["https://chat.example/"]), "is ['https://chat.example/']")


@pytest.mark.usefixtures("lab")
def test_11_2_tokens() -> None:
    def no_check(auth):
        return None

    def reads_without_looking(auth):
        if auth["token"] != "letmein":
            raise socketio.exceptions.ConnectionRefusedError("a valid token is required")

    def returns_false(auth):
        return isinstance(auth, dict) and auth.get("token") == "letmein"

    def builtin_refusal(auth):
        if not (isinstance(auth, dict) and auth.get("token") == "letmein"):
            raise ConnectionRefusedError("a valid token is required")

    def everyone_out(auth):
        raise socketio.exceptions.ConnectionRefusedError("closed")

    not_yet("11.2", members(refuse=no_check), "a client with auth=None was let in")
    not_yet("11.2", members(refuse=reads_without_looking), "got no answer to its CONNECT")
    not_yet("11.2", members(refuse=returns_false), "refused with the default reason")
    not_yet("11.2", members(refuse=builtin_refusal), "Python's built-in ConnectionRefusedError")
    not_yet("11.2", members(refuse=everyone_out), "the right token, was refused")


def test_11_2_not_a_server() -> None:
    def unwritten():
        pass

    def broken():
        return socketio.AsyncServer(async_mode="aiohttp", cors_allowed_origins=chat)  # noqa: F821

    not_yet("11.2", unwritten, "members_only() returned None")
    not_yet("11.2", broken, "members_only() raised NameError")
    not_yet("11.2", lambda: socketio.AsyncServer(async_mode="asgi"), "async_mode='asgi'")
    not_yet("11.2", socketio.AsyncServer(async_mode="aiohttp"), "pass the function itself")


def limited(*, shared: bool = False, refill: bool = True, await_it: bool = True):
    """A limited_server for 11.3 with one of the usual mistakes."""

    def limited_server():
        sio = socketio.AsyncServer(async_mode="aiohttp")
        everyone = {}

        @sio.event
        async def echo(sid, data):
            async with sio.session(sid) as session:
                bucket = everyone if shared else session
                now = time.monotonic()
                earned = (now - bucket.get("time", now)) * 5 if refill else 0
                bucket["level"] = min(5, bucket.get("level", 5) + earned) - 1
                bucket["time"] = now
            if bucket["level"] < 0:
                if await_it:
                    await sio.disconnect(sid)
                else:
                    sio.disconnect(sid)  # the mistake under test: never awaited
                return None
            return data

        return sio

    return limited_server


@pytest.mark.usefixtures("lab")
def test_11_3_whose_bucket() -> None:
    not_yet("11.3", limited(refill=False), "was disconnected at message 6", "refills with the")
    not_yet("11.3", limited(shared=True), "the connections share one bucket")


@pytest.mark.usefixtures("lab")
@pytest.mark.filterwarnings("ignore:coroutine .* was never awaited:RuntimeWarning")
def test_11_3_never_disconnected() -> None:
    def polite():
        sio = socketio.AsyncServer(async_mode="aiohttp")

        @sio.event
        async def echo(sid, data):
            return data

        return sio

    not_yet("11.3", polite, f"was still connected {TIMEOUT:g} s later")
    not_yet("11.3", limited(await_it=False), "was still connected", "so await it")


@pytest.mark.usefixtures("lab")
def test_11_3_refuses_or_ignores() -> None:
    def refuses():
        sio = limited()()

        @sio.event
        async def connect(sid, environ, auth):
            return False

        return sio

    def no_echo():
        return socketio.AsyncServer(async_mode="aiohttp")

    def first_message_fails():
        sio = socketio.AsyncServer(async_mode="aiohttp")

        @sio.event
        async def echo(sid, data):
            async with sio.session(sid) as session:
                session["level"] -= 1  # the mistake: a new session has no level yet
            return data

        return sio

    not_yet("11.3", refuses, "the quiet client could not connect")
    not_yet("11.3", first_message_fails, "got no acknowledgement", "KeyError: 'level'")
    not_yet(
        "11.3", no_echo, f"got no acknowledgement within {TIMEOUT:g} s: is there an 'echo' handler"
    )


@pytest.mark.usefixtures("lab")
def test_11_3_no_echo() -> None:
    def silent():
        sio = socketio.AsyncServer(async_mode="aiohttp")

        @sio.event
        async def echo(sid, data):
            pass

        return sio

    def shouts():
        sio = socketio.AsyncServer(async_mode="aiohttp")

        @sio.event
        async def echo(sid, data):
            return data.upper()

        return sio

    not_yet("11.3", silent, "the echo of 'calm 1' was acknowledged with nothing")
    not_yet("11.3", shouts, "acknowledged with 'CALM 1'")
    not_yet("11.3", lambda: None, "limited_server() returned None")
