"""Lesson 14 exercises: the page's address of a lab server, who an Origin list lets in, and a
server that tells pages from scripts by their Origin header."""

from __future__ import annotations

import contextlib
import time
from urllib.parse import urlsplit

import websockets.exceptions
import websockets.sync.client
from websockets.frames import CloseCode
from websockets.typing import Origin

from .._util import describe
from ..check import NotYet, exercise, function_answer, running_service, visiting
from ..eventlog import events
from ..lab import Service, stop
from ..servers import start_ws_server
from . import check

PAGE = Origin("http://127.0.0.1:8888")  # the origin of the notebook page in exercises 14.2 and 14.3

# --- 14.1 ----------------------------------------------------------------------------------

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


def _why_not_address(got: str, expected: str, page_url: str, base_url: str) -> str:
    """What differs between the address ``got`` and the ``expected`` one, and why it matters."""
    have, want, page = urlsplit(got), urlsplit(expected), urlsplit(page_url)
    if have.scheme in ("http", "https"):
        return f"a WebSocket address starts with ws:// or wss://, not {have.scheme}://."
    if have.scheme != want.scheme:
        return (
            f"the page is served over {page.scheme}, so it connects with {want.scheme}://: a "
            "browser refuses an unencrypted ws:// from a page loaded over https, and the "
            "Jupyter server speaks the page's own scheme."
            if want.scheme == "wss"
            else f"the page is served over {page.scheme}, so it connects with ws://."
        )
    if have.netloc != want.netloc:
        return (
            f"the host and port are the page's own, {want.netloc}: the Jupyter server that "
            "served the page is the one place the page can reach."
        )
    if have.query or have.fragment:
        return "the page's query (?…) and fragment (#…) stay with the page."
    if page.path not in ("", "/") and page.path in have.path:
        return (
            f"the page's own path, {page.path}, does not belong: the proxy lives at base_url + "
            "proxy/<port>/."
        )
    if "//" in have.path:
        return "there are two slashes in a row: base_url already ends with one."
    if not have.path.startswith(base_url):
        return f"the path starts with base_url, {base_url}: on a hub, Jupyter lives under it."
    if not have.path.endswith("/"):
        return "the proxy's path ends with a slash, like the lesson's proxy path 'proxy/8765/'."
    return f"the path should be {want.path}."


@exercise(
    "14.1",
    nudge="Work out, from the address of the page, the address its WebSocket uses to reach a "
    "lab server through the Jupyter server's proxy, as the lesson's section on where the page "
    "is describes it: the same server as the page, the proxy's path under the base URL, and "
    "the WebSocket scheme that matches the page's.",
    hints=[
        "Keep the page's scheme (made a WebSocket one) and its host and port; throw away its "
        "path and its query; then base_url, then the proxy's own path for the port.",
        "urllib.parse.urlsplit(page_url) gives .scheme and .netloc; the scheme is wss for an "
        "https page and ws otherwise; the path is base_url followed by proxy/<port>/, as "
        "widgets.proxy_path(port) writes it.",
    ],
)
def page_address(answer: object) -> str:
    function = function_answer(answer, "ws_address")
    for arguments, expected in PAGES:
        call = f"ws_address({', '.join(map(repr, arguments))})"
        try:
            got = function(*arguments)
        except Exception as error:
            raise NotYet(f"{call} raised {describe(error)}") from None
        if not isinstance(got, str):
            raise NotYet(f"{call} returned {got!r}: return the address as a str.")
        if got != expected:
            why = _why_not_address(got, expected, arguments[0], arguments[1])
            raise NotYet(f"{call} returned {got!r}; expected {expected!r}: {why}")
    return "Your function finds the address a page uses, on a laptop and on a hub (wss://)."


# --- 14.2 ----------------------------------------------------------------------------------

# Who knocks, with the Origin header it sends (None: no header), and why the server decides so.
KNOCKS: dict[str, tuple[str, Origin | None]] = {
    "A": ("the notebook page at http://127.0.0.1:8888", PAGE),
    "B": ("the same notebook opened as http://localhost:8888", Origin("http://localhost:8888")),
    "C": ("a page of https://evil.example", Origin("https://evil.example")),
    "D": ("a Python script that sends no Origin", None),
    "E": ("a Python script that sends Origin: http://127.0.0.1:8888", PAGE),
}
WHY = {
    "A": "a browser sends the page's origin, its scheme, host and port with no path: "
    f"{PAGE}, which is in the list.",
    "B": "its page sends Origin: http://localhost:8888, and the server compares origins as "
    "exact strings: localhost is not 127.0.0.1 to it, even if it is the same machine.",
    "C": "https://evil.example is not in the list.",
    "D": "it sends no Origin header at all, and a list of origins lets a missing one in only "
    "if the list holds None.",
    "E": f"it sent Origin: {PAGE}, which is in the list. A script can send any Origin it "
    "likes: the check stops other sites' pages in honest browsers, not scripts.",
}


def _knock(url: str, origin: Origin | None) -> str:
    """'accepted' if a client with this Origin header gets in, else how it was refused."""
    try:
        with websockets.sync.client.connect(
            url, origin=origin, open_timeout=check.TIMEOUT, close_timeout=check.TIMEOUT
        ):
            pass
    except websockets.exceptions.InvalidStatus as refused:
        return f"refused with HTTP {refused.response.status_code}"
    except (OSError, TimeoutError, websockets.exceptions.WebSocketException) as error:
        return f"failed ({describe(error)})"
    return "accepted"


def _letters(answer: object) -> set[str]:
    """The letters the learner predicts get in, from a set, a list or a string of them."""
    if isinstance(answer, str):
        answer = [letter for letter in answer if letter.strip(" ,")]
    if not isinstance(answer, set | frozenset | list | tuple):
        raise NotYet(
            f"get_in is {answer!r}: put in it the letters of the clients that get in, as a "
            "set of strings."
        )
    letters = {str(letter).strip().upper() for letter in answer}
    unknown = sorted(letters - set(KNOCKS))
    if unknown:
        raise NotYet(f"the clients are A to E; {', '.join(map(repr, unknown))} is not one.")
    return letters


@exercise(
    "14.2",
    nudge="Predict before anything runs: for each of the five clients, will a server that "
    "lists only the notebook page's origin let it in? Think about what each one puts in its "
    "Origin header, as the lesson's sections on the Origin header explain.",
    hints=[
        "A browser writes the page's origin (scheme, host and port, no path) into Origin by "
        "itself; a script writes whatever it is told, or nothing. The server compares what "
        "it gets with its list, exactly.",
        "websockets' origins list is compared string for string with the Origin header; a "
        "missing header passes only if None is in the list. Now go through A to E with that.",
    ],
)
def who_gets_in(answer: object) -> str:
    predicted = _letters(answer)
    outcomes = {}
    server = start_ws_server(name="check-14.2", origins=[PAGE])
    try:
        for letter, (_, origin) in KNOCKS.items():
            outcomes[letter] = _knock(server.url, origin)
    finally:
        stop(server.name)
        events(server.name, settle=0)
    for letter, (who, _) in KNOCKS.items():
        got_in = outcomes[letter] == "accepted"
        if got_in != (letter in predicted):
            guess = "would get in" if letter in predicted else "would be kept out"
            outcome = outcomes[letter]
            result = "got in" if got_in else f"was {outcome}" if "HTTP" in outcome else outcome
            raise NotYet(f"you predicted that {letter}, {who}, {guess}; it {result}: {WHY[letter]}")
    return (
        "All five as you predicted: A and E got in, B, C and D got 403. An Origin list keeps "
        "other sites' pages out of an honest browser; it proves nothing about a script."
    )


# --- 14.3 ----------------------------------------------------------------------------------


class _Client:
    """A checker's websockets client: who it is, and a disconnect() for visiting()."""

    def __init__(self, url: str, who: str, origin: Origin | None) -> None:
        self.who = who
        self._open = contextlib.ExitStack()
        try:
            self.connection = self._open.enter_context(
                websockets.sync.client.connect(
                    url, origin=origin, open_timeout=check.TIMEOUT, close_timeout=1
                )
            )
        except websockets.exceptions.InvalidStatus as refused:
            raise NotYet(
                f"{who} was refused with HTTP {refused.response.status_code}: let pages and "
                "scripts in, whatever their Origin."
            ) from None
        except (OSError, TimeoutError, websockets.exceptions.WebSocketException) as error:
            raise NotYet(f"{who} could not connect ({describe(error)}).") from None

    def send(self, text: str) -> None:
        with contextlib.suppress(websockets.exceptions.ConnectionClosed):  # said below
            self.connection.send(text)

    def receive(self, timeout: float) -> str | None:
        """The next message within ``timeout`` seconds, or None."""
        try:
            return str(self.connection.recv(timeout=timeout))
        except (TimeoutError, websockets.exceptions.ConnectionClosed):
            return None

    def closed(self) -> int | None:
        """The close code, if the server closed this connection."""
        return self.connection.close_code

    def disconnect(self) -> None:
        self._open.close()


def _expect_open(clients: list[_Client], when: str) -> None:
    """No connection may have been closed by the server."""
    time.sleep(0.05)  # a close frame that is on its way
    for client in clients:
        code = client.closed()
        if code is None:
            continue
        if code == CloseCode.NORMAL_CLOSURE:
            why = (
                "the handler returned: a connection lasts as long as its handler runs, so keep "
                "it running while the client is connected"
            )
        elif code == CloseCode.INTERNAL_ERROR:
            why = "internal error: your handler raised an exception on that connection"
        else:
            why = "a code your handler closed it with: leave connections open"
        reason = client.connection.close_reason
        code_text = f"{code} {reason!r}" if reason else str(code)
        raise NotYet(
            f"the server closed {client.who}'s connection {when}, with {code_text} ({why})."
        )


def _expect_heard(client: _Client, text: str, sender: _Client, others: list[_Client]) -> None:
    """``client`` (a page) hears ``text`` from ``sender`` (a script); if not, say where it went."""
    heard = client.receive(check.TIMEOUT)
    if heard == text:
        return
    _expect_open([client, sender, *others], f"after {sender.who} sent a message")
    got = "nothing" if heard is None else repr(heard)
    said = f"{sender.who} sent {text!r} and {client.who} got {got} within {check.TIMEOUT:g} s"
    if sender.receive(0.1) == text:
        raise NotYet(f"{said}, while it came back to {sender.who}: send it to the pages instead.")
    for script in others:
        if script.receive(0.1) == text:
            raise NotYet(
                f"{said}, while it went to {script.who}: the pages are the connections that "
                "send an Origin header (a browser always does), the scripts those that send none."
            )
    client.send("a page speaking")  # the other way round?
    for script in (sender, *others):
        if script.receive(0.1) == "a page speaking":
            raise NotYet(
                f"{said}; but when {client.who} sent a message, {script.who} got it: pages and "
                "scripts are the wrong way round. A page sends an Origin header (a browser "
                "always does); a script sends none."
            )
    raise NotYet(f"{said}: every message from a script goes to every page connected then.")


def _expect_silence(client: _Client, text: str, script: str) -> None:
    heard = client.receive(check.QUIET)
    if heard is not None:
        raise NotYet(
            f"{script} sent {text!r} and {client.who} got {heard!r}: a script's messages go to "
            "the pages only, not to scripts (the sender included)."
        )


def _visit(server: Service) -> None:
    """Two pages (with an Origin), two scripts (without); a script speaks; a page leaves."""
    with visiting(server) as clients:
        page1 = _Client(server.url, "page 1", PAGE)
        clients.append(page1)
        page2 = _Client(server.url, "page 2", PAGE)
        clients.append(page2)
        script1 = _Client(server.url, "script 1 (no Origin)", None)
        clients.append(script1)
        script2 = _Client(server.url, "script 2 (no Origin)", None)
        clients.append(script2)
        time.sleep(0.2)  # the handlers start just after each handshake
        _expect_open(clients, "as soon as it opened")
        script1.send("hello, pages")
        for page in (page1, page2):
            _expect_heard(page, "hello, pages", script1, [script2])
        for script in (script1, script2):
            _expect_silence(script, "hello, pages", "script 1")
        _expect_open(clients, "after a script sent a message")
        page1.disconnect()
        clients.remove(page1)
        time.sleep(0.2)
        script2.send("still there?")
        _expect_open(clients, "after page 1 had left and script 2 sent a message")
        _expect_heard(page2, "still there?", script2, [script1])


@exercise(
    "14.3",
    nudge="Write a handler that tells pages from scripts the way the lesson's live server "
    "does, by the header every browser sends: a page listens for as long as it stays "
    "connected, and whatever a script sends is pushed to every page connected at that moment, "
    "as the lesson pushed to its pages from a cell. Start it in the lab.",
    hints=[
        "Keep the page connections in a set while they are open (and take each one out when "
        "it closes); a script's connection reads its messages in a loop and sends each one to "
        "that set.",
        "A page's websocket.request.headers has an 'Origin' (a script's has none: ask with "
        "'in' or .get()). Add a page to the set, await the connection's wait_closed(), and "
        "discard it in a finally. A script's messages come in an async for loop over its "
        "connection; websockets.asyncio.server.broadcast sends each one to the set. Start "
        "the server with helpers.start_ws_server, named announcer.",
    ],
)
def pages_listen_scripts_announce(answer: object) -> str:
    if callable(answer) and not isinstance(answer, Service):
        raise NotYet(
            "this is the handler itself; start it with helpers.start_ws_server(...) and pass "
            "the Service that call returns."
        )
    start = "helpers.start_ws_server(announce, name='announcer')"
    _visit(running_service(answer, start, "websockets"))
    return (
        "Both pages heard the script, no script heard anything, and a page that left did not "
        "stop the next announcement. The Origin header told pages from scripts."
    )
