"""Lesson 14 exercises: the page's address of a lab server, and servers that check Origin."""

from __future__ import annotations

from collections.abc import Callable

import websockets.exceptions
import websockets.sync.client

from ..check import NotYet, exercise, running_service, visiting

TIMEOUT = 3  # seconds: every client in these checks gives up after this long

# (page URL, the Jupyter server's base_url, the lab server's port) -> what the page connects to
PAGES = [
    (("http://127.0.0.1:8888/lab/tree/14_browser_clients.ipynb", "/", 8765),
     "ws://127.0.0.1:8888/proxy/8765/"),
    (("http://localhost:8888/lab?token=abc", "/", 41000), "ws://localhost:8888/proxy/41000/"),
    (("https://hub.example.org/user/ada-x1y2/lab/tree/notebooks", "/user/ada-x1y2/", 50123),
     "wss://hub.example.org/user/ada-x1y2/proxy/50123/"),
    (("https://jupyter.example.com:8443/lab", "/", 9000),
     "wss://jupyter.example.com:8443/proxy/9000/"),
]  # fmt: skip


@exercise(
    "14.1",
    nudge="keep the page's scheme and host (urllib.parse.urlsplit), swap http for ws and https "
    "for wss, and put base_url + f'proxy/{port}/' as the path: the query and the page's own "
    "path go away.",
)
def page_address(answer: object) -> str:
    if not callable(answer):
        raise NotYet(f"pass a function ws_address(page_url, base_url, port), not {answer!r}.")
    function: Callable[[str, str, int], object] = answer
    for arguments, expected in PAGES:
        got = function(*arguments)
        if got != expected:
            call = ", ".join(map(repr, arguments))
            raise NotYet(f"ws_address({call}) returned {got!r}; expected {expected!r}.")
    return "Your function finds the address a page uses, on a laptop and on a hub (wss://)."


PAGE = "http://127.0.0.1:8888"  # the origin of the notebook page in exercise 14.2


def _visit(url: str, origin: str | None) -> str:
    """'accepted' if a client with this Origin header can exchange a message, else why not."""
    try:
        with websockets.sync.client.connect(url, origin=origin, open_timeout=TIMEOUT) as client:
            client.send("ping")
            client.recv(timeout=TIMEOUT)
    except websockets.exceptions.InvalidStatus as refused:
        return f"refused with HTTP {refused.response.status_code}"
    except (OSError, TimeoutError, websockets.exceptions.WebSocketException) as error:
        return f"failed ({type(error).__name__}: {error})"
    return "accepted"


@exercise(
    "14.2",
    nudge="helpers.start_ws_server(name='guarded', origins=[...]) with the page's origin, and "
    "None for clients that send no Origin header (scripts); websockets answers the others 403.",
)
def guarded_by_origin(service: object) -> str:
    start = "helpers.start_ws_server(name='guarded', origins=...)"
    server = running_service(service, start, "websockets")
    with visiting(server):
        for origin, want in [
            (PAGE, "accepted"),
            (None, "accepted"),
            ("https://evil.example", "refused with HTTP 403"),
            ("http://127.0.0.1:9999", "refused with HTTP 403"),
        ]:
            got = _visit(server.url, origin)
            if got != want:
                who = f"Origin: {origin}" if origin else "no Origin header (a script)"
                raise NotYet(f"a client with {who} was {got}; it should be {want}.")
    return "Only the notebook's page and scripts get in: another site's page gets 403."
