"""Lesson 14's exercises: the mistakes learners make, each with its own message."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from conftest import not_yet
from websockets.asyncio.server import broadcast

import helpers

pytestmark = pytest.mark.usefixtures("lab")


def address(page_url, base_url, port, *, scheme=None, path=None, query=False):
    """ws_address with one mistake at a time (none by default)."""
    page = urlsplit(page_url)
    scheme = scheme or ("wss" if page.scheme == "https" else "ws")
    path = f"{base_url}proxy/{port}/" if path is None else path
    return f"{scheme}://{page.netloc}{path}" + (f"?{page.query}" if query and page.query else "")


def test_14_1_wrong_answers() -> None:
    not_yet("14.1", lambda u, b, p: address(u, b, p, scheme="http"), "not http://")
    not_yet("14.1", lambda u, b, p: address(u, b, p, scheme="ws"), "refuses an unencrypted ws")
    not_yet("14.1", lambda u, b, p: address(u, b, p, scheme="wss"), "so it connects with ws://")
    not_yet(
        "14.1",
        lambda u, b, p: f"ws://{urlsplit(u).hostname}/proxy/{p}/",
        "the host and port are the page's own, 127.0.0.1:8888",
    )
    not_yet("14.1", lambda u, b, p: address(u, b, p, query=True), "query (?…)")
    not_yet(
        "14.1",
        lambda u, b, p: address(u, b, p, path=f"{urlsplit(u).path}/proxy/{p}/"),
        "the page's own path, /lab/tree/14_browser_clients.ipynb, does not belong",
    )
    not_yet("14.1", lambda u, b, p: address(u, b, p, path=f"{b}/proxy/{p}/"), "two slashes")
    not_yet("14.1", lambda u, b, p: address(u, b, p, path=f"/proxy/{p}/"), "starts with base_url")
    not_yet("14.1", lambda u, b, p: address(u, b, p, path=f"{b}proxy/{p}"), "ends with a slash")
    not_yet("14.1", lambda u, b, p: address(u, b, p, path=f"{b}proxies/{p}/"), "should be")
    not_yet("14.1", lambda u, b, p: urlsplit(address(u, b, p)), "return the address as a str")
    not_yet("14.1", lambda u, b: "ws://", "raised TypeError")
    not_yet("14.1", "ws://127.0.0.1:8888/proxy/8765/", "pass the function itself, ws_address")


def test_14_2_wrong_predictions() -> None:
    not_yet("14.2", {"A"}, "E, a Python script that sends Origin", "it got in", "any Origin")
    not_yet("14.2", {"A", "B", "E"}, "B, the same notebook", "exact strings")
    not_yet("14.2", {"A", "D", "E"}, "D, a Python script that sends no Origin", "holds None")
    not_yet("14.2", {"A", "C", "E"}, "C, a page of https://evil.example", "refused with HTTP 403")
    not_yet("14.2", {"E"}, "that A, the notebook page", "no path")
    not_yet("14.2", {"A", "F"}, "the clients are A to E; 'F' is not one")
    not_yet("14.2", 2, "the letters of the clients that get in")


def test_14_2_letters_as_a_string_or_a_list() -> None:
    from helpers.check import grade

    for answer in ("A, E", ["a", "e"], ("E", "A")):
        solved, message = grade("14.2", answer)
        assert solved, message


async def announce_to_all(websocket):  # every connection is in the set, scripts too
    everyone.add(websocket)
    try:
        async for message in websocket:
            broadcast(everyone - {websocket}, message)
    finally:
        everyone.discard(websocket)


async def announce_inverted(websocket):  # a connection without Origin taken for a page
    if "Origin" not in websocket.request.headers:
        pages.add(websocket)
        try:
            await websocket.wait_closed()
        finally:
            pages.discard(websocket)
    else:
        async for message in websocket:
            broadcast(pages, message)


async def announce_and_return(websocket):  # registers a page, then the handler ends
    if "Origin" in websocket.request.headers:
        pages.add(websocket)
        return
    async for message in websocket:
        broadcast(pages, message)


async def announce_with_a_key_error(websocket):  # a script has no Origin header
    websocket.request.headers["Origin"]
    pages.add(websocket)
    await websocket.wait_closed()


async def announce_without_discard(websocket):  # a page that left stays in the set
    if "Origin" in websocket.request.headers:
        pages.add(websocket)
        await websocket.wait_closed()
    else:
        async for message in websocket:
            for page in pages:
                await page.send(message)


async def echo_to_the_sender(websocket):
    async for message in websocket:
        await websocket.send(message)


everyone: set = set()
pages: set = set()


def test_14_3_what_is_passed() -> None:
    not_yet("14.3", announce_to_all, "this is the handler itself")
    stopped = helpers.start_ws_server(announce_to_all, name="announcer")
    stopped.stop()
    not_yet("14.3", stopped, "pass the running Service")
    not_yet("14.3", helpers.start_sio_server(name="announcer"), "this service is a Socket.IO")
    guarded = helpers.start_ws_server(name="announcer", origins=[None])
    not_yet("14.3", guarded, "page 1 was refused with HTTP 403")


def test_14_3_wrong_handlers() -> None:
    def start(handler):
        pages.clear()
        return helpers.start_ws_server(handler, name="announcer")

    not_yet("14.3", start(announce_to_all), "script 2 (no Origin) got 'hello, pages'")
    not_yet("14.3", start(announce_inverted), "page 1 got nothing", "wrong way round")

    async def announce_to_everyone_else(websocket):  # pages and scripts: everyone hears
        if "Origin" not in websocket.request.headers:
            pages.add(websocket)  # the scripts, taken for pages
        everyone.add(websocket)
        try:
            async for message in websocket:
                broadcast(pages - {websocket}, message)
        finally:
            everyone.discard(websocket)
            pages.discard(websocket)

    not_yet("14.3", start(announce_to_everyone_else), "page 1 got nothing", "went to script 2")
    not_yet("14.3", start(announce_and_return), "page 1's connection as soon as it opened")
    not_yet("14.3", start(announce_with_a_key_error), "script 1 (no Origin)'s connection", "1011")
    not_yet("14.3", start(announce_without_discard), "after page 1 had left", "1011")
    not_yet("14.3", start(echo_to_the_sender), "came back to script 1", "to the pages instead")

    async def keeps_it_to_itself(websocket):  # reads a script's messages, sends them nowhere
        async for _message in websocket:
            pass

    async def turns_scripts_away(websocket):
        if "Origin" not in websocket.request.headers:
            await websocket.close(1008, "pages only")
        else:
            await websocket.wait_closed()

    not_yet("14.3", start(turns_scripts_away), "with 1008 'pages only' (a code your handler")
    not_yet("14.3", start(keeps_it_to_itself), "every message from a script goes to every page")
