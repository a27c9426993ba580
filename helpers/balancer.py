"""Load balancers in front of Socket.IO server processes: the lab's own, and nginx.

:func:`start_balancer` is a small HTTP and WebSocket reverse proxy (aiohttp) that sends each
request to the next server in turn (round robin), or, with ``sticky=True``, every request from
one client address to the same server, as nginx's ``ip_hash`` does. It logs where each request
went: ``helpers.show_events(name)``.

:func:`nginx_site` writes an nginx configuration for Socket.IO, and :func:`start_load_balancer`
runs one with the real nginx, as a child process of the kernel on loopback, when nginx is
installed; without nginx it runs the lab's balancer with the same servers and the same
balancing method (``ip_hash`` or round robin), read from the configuration.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import aiohttp
from aiohttp import web

from .eventlog import log
from .lab import DEFAULT_HOST, Closer, Service, start_service
from .processes import free_port, run_in_folder
from .servers import start_http_server

__all__ = [
    "find_nginx",
    "free_port",
    "nginx_site",
    "start_balancer",
    "start_load_balancer",
]

# Headers that belong to one hop (one TCP connection), not to the request: never forwarded.
_HOP = {"connection", "keep-alive", "transfer-encoding", "upgrade", "content-length"}
_HOP |= {"sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions"}
_HOP |= {"sec-websocket-accept"}

#: What the lab adds around a site to run nginx as a child: in the foreground, one process,
#: every file (pid, logs, temporary request bodies) in a temporary folder.
NGINX_MAIN = """\
daemon off;
master_process off;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
{site}
}}
"""


def start_balancer(
    *backends: Service,
    name: str = "balancer",
    sticky: bool = False,
    port: int = 0,
    kind: str | None = None,
) -> Service:
    """Start the lab's load balancer in front of ``backends``: round robin per request, or
    with ``sticky=True`` one server per client address (a hash of it, like ``ip_hash``)."""
    if not backends or not all(isinstance(b, Service) for b in backends):
        raise TypeError(f"give the servers to balance as running Services, not {backends!r}")
    turns = itertools.cycle(backends)

    def choose(request: web.Request) -> Service:
        if not sticky:
            return next(turns)
        digest = hashlib.sha256((request.remote or "").encode()).digest()
        return backends[digest[0] % len(backends)]

    state: dict[str, aiohttp.ClientSession] = {}
    app = web.Application()
    app.router.add_route("*", "/{path:.*}", _proxy(choose, state))

    async def close_session() -> None:
        if "session" in state:
            await state.pop("session").close()

    kind = kind or ("sticky load balancer" if sticky else "round-robin load balancer")
    return start_http_server(app, name=name, port=port, kind=kind, on_stop=close_session)


def _proxy(choose: Callable[[web.Request], Service], state: dict):
    """The request handler: pick a server, pass the request on, pass the answer back."""

    async def handle(request: web.Request) -> web.StreamResponse:
        if "session" not in state:
            state["session"] = aiohttp.ClientSession(auto_decompress=False)
        backend = choose(request)
        url = f"{backend.url}{request.rel_url}"
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP}
        transport = request.query.get("transport", "-")
        if request.headers.get("Upgrade", "").lower() == "websocket":
            log(f"{request.method} {transport} → {backend.name}", status=101)
            return await _relay_websocket(request, state["session"], url, headers)
        async with state["session"].request(
            request.method, url, headers=headers, data=await request.read(), allow_redirects=False
        ) as answer:
            body = await answer.read()
            log(f"{request.method} {transport} → {backend.name}", status=answer.status)
            kept = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP}
            return web.Response(status=answer.status, body=body, headers=kept)

    return handle


async def _relay_websocket(
    request: web.Request, session: aiohttp.ClientSession, url: str, headers: dict
) -> web.WebSocketResponse:
    """Open a WebSocket to the server and copy messages both ways until one side closes."""
    outside = web.WebSocketResponse(autoping=False)
    await outside.prepare(request)
    async with session.ws_connect(url, headers=headers, autoping=False) as inside:

        async def copy(source, target) -> None:
            async for message in source:
                if message.type == aiohttp.WSMsgType.TEXT:
                    await target.send_str(message.data)
                elif message.type == aiohttp.WSMsgType.BINARY:
                    await target.send_bytes(message.data)
            await target.close()

        tasks = [
            asyncio.ensure_future(copy(outside, inside)),
            asyncio.ensure_future(copy(inside, outside)),
        ]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            task.cancel()
    await outside.close()
    return outside


def nginx_site(*backends: Service, listen: int, balance: str = "ip_hash") -> str:
    """An nginx configuration (the part inside ``http { }``) that balances Socket.IO between
    ``backends`` on port ``listen`` of 127.0.0.1. ``balance`` is the upstream's method:
    ``"ip_hash"``, ``"hash $remote_addr consistent"``, or ``""`` for round robin."""
    servers = "\n".join(f"    server {b.host}:{b.port};" for b in backends)
    method = f"    {balance};\n" if balance else ""
    return f"""\
upstream socketio_nodes {{
{method}{servers}
}}

# "Connection: upgrade" when the client asks for an upgrade, "close" otherwise.
map $http_upgrade $connection_upgrade {{
    default upgrade;
    ''      close;
}}

server {{
    listen {DEFAULT_HOST}:{listen};

    location /socket.io/ {{
        proxy_pass http://socketio_nodes;
        proxy_http_version 1.1;                  # WebSocket needs HTTP/1.1 to the server
        proxy_set_header Upgrade $http_upgrade;  # pass the upgrade on: nginx drops it
        proxy_set_header Connection $connection_upgrade;
        proxy_set_header Host $http_host;        # with its port: Engine.IO checks Origin
        proxy_read_timeout 60s;                  # longer than the heartbeat: idle is normal
    }}
}}"""


def find_nginx() -> str | None:
    """The nginx program: on ``PATH``, or in /usr/sbin (Debian), where PATH may not look.

    With the environment variable ``HELPERS_NGINX=none``, None: the lab then runs its own
    balancer, to see what a learner without nginx sees.
    """
    if os.environ.get("HELPERS_NGINX") == "none":
        return None
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


def start_load_balancer(site: str, *, name: str = "nginx") -> Service:
    """Run ``site`` (from :func:`nginx_site`) with nginx if it is installed. Without nginx,
    start the lab's balancer with the site's servers, port and method instead; the service's
    ``kind`` says which: ``nginx`` or ``lab balancer (nginx is not installed)``."""
    listen = re.search(r"^\s*listen\s+[\d.]+:(\d+);", site, re.MULTILINE)
    servers = re.findall(r"^\s*server\s+([\d.]+):(\d+);", site, re.MULTILINE)
    if listen is None or not servers:
        raise ValueError("the site needs a 'listen 127.0.0.1:PORT;' and 'server' lines")
    port = int(listen.group(1))
    program = find_nginx()
    if program is None:
        sticky = bool(re.search(r"^\s*(ip_hash|hash \$remote_addr)", site, re.MULTILINE))
        backends = [_address(host, int(p)) for host, p in servers]
        kind = "lab balancer (nginx is not installed)"
        return start_balancer(*backends, name=name, sticky=sticky, port=port, kind=kind)
    return start_service(
        name, "nginx", "http", DEFAULT_HOST, port, _nginx_opener(program, site, port)
    )


def _address(host: str, port: int) -> Service:
    """A stand-in Service for a server known only by its address (from a configuration)."""
    return Service(f"{host}:{port}", "server", host, port, "http", _nothing)


async def _nothing() -> None:
    return None


def _nginx_opener(program: str, site: str, port: int):
    def command(folder: Path) -> list[str]:
        config = folder / "nginx.conf"
        indented = "\n".join(f"    {line}" if line else "" for line in site.splitlines())
        config.write_text(NGINX_MAIN.format(folder=folder, site=indented))
        return [program, "-p", str(folder), "-c", str(config), "-e", str(folder / "error.log")]

    async def open_nginx() -> tuple[int, Closer]:
        return await run_in_folder("lab-nginx-", command, port, "nginx", "error.log")

    return open_nginx
