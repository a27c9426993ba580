"""Browser clients in the notebook page: widgets whose JavaScript talks to the lab's servers.

:class:`WebSocketPane` uses the browser's own ``WebSocket``; :class:`ChatPane` uses the official
Socket.IO client, ``socket.io-client``, which :func:`serve_socketio_client` serves to the page
from ``node_modules/`` (installed by ``npm ci``, pinned in ``package-lock.json``).

The servers listen on 127.0.0.1 next to the kernel, and the browser may be on another machine
(Binder). So under a Jupyter server the page connects through jupyter-server-proxy, at
``<base_url>proxy/<port>/``, which forwards HTTP and WebSocket upgrades to localhost:<port>;
on a laptop it is the same path. Without a Jupyter page (say, another notebook front end) the
panes connect to the server's own address.

What the page sees is kept in each pane's ``log`` (the kernel gets it between cells), and a cell
can wait until the page has connected with :func:`wait_for_page`.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import anywidget
import traitlets
from aiohttp import web

from ._util import ROOT
from .check import wait_until
from .lab import Service
from .servers import start_http_server

__all__ = [
    "ChatPane",
    "WebSocketPane",
    "proxy_path",
    "serve_socketio_client",
    "socketio_client_problem",
    "wait_for_page",
]

STATIC = Path(__file__).parent / "static"
CLIENT_PACKAGE = ROOT / "node_modules" / "socket.io-client"
CLIENT_FILE = "socket.io.esm.min.js"  # the ES module build, for import() in the page
# Seconds wait_for_page() waits by default. A run with no page at all (nbval, a notebook run
# from the command line) may set $HELPERS_PAGE_TIMEOUT to 0 rather than wait for nothing.
PAGE_TIMEOUT = float(os.environ.get("HELPERS_PAGE_TIMEOUT", 10))


def proxy_path(port: int) -> str:
    """The path after the Jupyter server's base_url at which jupyter-server-proxy forwards
    HTTP and WebSocket requests to ``localhost:<port>``, such as ``proxy/8765/``."""
    return f"proxy/{port}/"


def _module_source(name: str) -> str:
    return (STATIC / "address.js").read_text() + (STATIC / name).read_text()


class _Pane(anywidget.AnyWidget):
    """What both panes share: the server's port, its direct address and the page's log."""

    _css = STATIC / "panes.css"
    port = traitlets.Int().tag(sync=True)
    direct_url = traitlets.Unicode().tag(sync=True)
    #: Set by the page: "connecting", "open", "connected over websocket", "closed (1001)"...
    status = traitlets.Unicode("not shown in a page yet").tag(sync=True)
    #: Set by the page: what it received ("in"), sent ("out") and problems ("note"), in order.
    log: traitlets.List[dict[str, str]] = traitlets.List().tag(sync=True)

    def __init__(self, server: Service, **kwargs: object) -> None:
        if not isinstance(server, Service) or server.stopped:
            raise TypeError(f"a pane needs a running lab service, got {server!r}")
        self.server = server
        super().__init__(port=server.port, direct_url=server.url, **kwargs)

    @property
    def received(self) -> list[str]:
        """What the page received, as far as the kernel has heard (updated between cells)."""
        return [entry["text"] for entry in self.log if entry["kind"] == "in"]


class WebSocketPane(_Pane):
    """A pane with the browser's native ``WebSocket``, connected to a ``websockets`` server:
    it shows every message the server pushes, and sends what the reader types."""

    _esm = _module_source("websocket_pane.js")
    title = traitlets.Unicode().tag(sync=True)

    def __init__(self, server: Service, *, title: str = "") -> None:
        super().__init__(server, title=title or f"WebSocket to {server.name!r}")

    def __repr__(self) -> str:
        return f"<WebSocketPane: the page's WebSocket to {self.server.name!r}>"


class ChatPane(_Pane):
    """A chat pane on ``socket.io-client`` in the page, which connects to a Socket.IO server
    with ``auth={"name": name}``, shows every ``chat`` event, and emits ``chat`` with what the
    reader types. ``library`` is the service :func:`serve_socketio_client` returned."""

    _esm = _module_source("chat_pane.js")
    name = traitlets.Unicode().tag(sync=True)
    library_port = traitlets.Int().tag(sync=True)
    library_url = traitlets.Unicode().tag(sync=True)
    #: Why the page cannot load socket.io-client (empty when it can).
    problem = traitlets.Unicode().tag(sync=True)

    def __init__(self, server: Service, library: Service | None, *, name: str) -> None:
        where: dict[str, object]
        if library is None:
            where = {"problem": socketio_client_problem() or "no library service was given"}
        else:
            where = {"library_port": library.port, "library_url": library.url}
        super().__init__(server, name=name, **where)

    def __repr__(self) -> str:
        return f"<ChatPane {self.name!r} on {self.server.name!r}>"


def socketio_client_problem() -> str | None:
    """Why ``socket.io-client`` cannot be served to the page, and how to fix it; None if it can."""
    if (CLIENT_PACKAGE / "dist" / CLIENT_FILE).is_file():
        return None
    if shutil.which("npm") is None:
        return (
            "socket.io-client is missing, and so is npm, which installs it: install Node.js "
            "(it comes with npm) from https://nodejs.org or your package manager, then run "
            "`npm ci` in the tutorial's folder (or `make lab`, which runs it) and run this cell "
            "again. Everything else in the tutorial works without it."
        )
    return (
        "socket.io-client is missing from node_modules/: run `npm ci` in the tutorial's folder "
        "(or `make lab`, which runs it), then run this cell again. Everything else in the "
        "tutorial works without it."
    )


def serve_socketio_client(name: str = "socket.io-client") -> Service | None:
    """Serve ``socket.io-client``'s ES module from ``node_modules/`` at ``/socket.io.esm.min.js``
    and return the service; print which version, or, if it is missing, how to install it (and
    return None: the chat panes then show that message instead of connecting)."""
    problem = socketio_client_problem()
    if problem:
        print(problem)
        return None
    version = json.loads((CLIENT_PACKAGE / "package.json").read_text())["version"]
    app = web.Application()
    app.router.add_get(f"/{CLIENT_FILE}", _client_file)
    service = start_http_server(app, name=name, kind="socket.io-client file server")
    print(f"socket.io-client {version} is served to the page from node_modules/")
    return service


async def _client_file(request: web.Request) -> web.FileResponse:
    response = web.FileResponse(CLIENT_PACKAGE / "dist" / CLIENT_FILE)
    response.headers["Cache-Control"] = "no-store"  # `npm ci` may change it between runs
    return response


def wait_for_page(connected: Callable[[], object], timeout: float = PAGE_TIMEOUT) -> None:
    """Wait until ``connected()`` is true (say, the server has seen the page's client), at most
    ``timeout`` seconds (10 unless ``$HELPERS_PAGE_TIMEOUT`` says otherwise), and print whether
    it happened.

    The check runs on the server's side, which keeps working while the cell waits; the panes'
    own ``status`` and ``log`` only reach the kernel after the cell ends.
    """
    if wait_until(connected, timeout):
        print("the page is connected")
    else:
        print(
            f"no page connected within {timeout:g} s (no browser shows this notebook, or the "
            "page could not reach the server: its pane says why)"
        )
