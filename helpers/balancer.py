"""Load balancers in front of Socket.IO server processes: the lab's own, nginx and HAProxy.

:func:`start_balancer` is a small HTTP and WebSocket reverse proxy (aiohttp) that sends each
request to the next server in turn (round robin), or keeps a client on one server: by its
address (``sticky="ip_hash"``, the first three octets of an IPv4 address as nginx's ``ip_hash``
does, or ``sticky="remote_addr"``, the whole address), or by a cookie that names the server
(``cookie="SERVERID"``, as HAProxy's ``cookie ... insert indirect nocache``). It logs where each
request went: ``helpers.show_events(name)``.

:func:`nginx_site` writes an nginx configuration for Socket.IO, and :func:`start_load_balancer`
runs one with the real nginx, as a child process of the kernel on loopback, when nginx is
installed; :func:`haproxy_config` and :func:`start_haproxy` do the same for HAProxy. Without
the program, each runs the lab's balancer with what it reads from the configuration: the same
servers, port and balancing method (and, for nginx, whether the WebSocket upgrade is passed
on; for HAProxy, whether it balances HTTP requests or TCP connections).
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
    "find_haproxy",
    "find_nginx",
    "free_port",
    "haproxy_config",
    "nginx_site",
    "start_balancer",
    "start_haproxy",
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
    sticky: bool | str = False,
    port: int = 0,
    kind: str | None = None,
    cookie: str | None = None,
    per_connection: bool = False,
    upgrade: bool = True,
) -> Service:
    """Start the lab's load balancer in front of ``backends``.

    By default each request goes to the next server in turn (round robin); with
    ``per_connection=True`` each TCP connection does (as HAProxy's default ``mode tcp``), so
    the requests of one kept-alive connection stay together. ``sticky`` keeps a client on one
    server by a hash of its address: ``True`` or ``"ip_hash"`` hashes the first three octets of
    an IPv4 address (the whole /24, as nginx's ``ip_hash``), ``"remote_addr"`` the whole
    address. ``cookie`` names a cookie that the first answer sets to the chosen server's name,
    and that later requests are routed by (it is not passed on to the server). With
    ``upgrade=False`` the balancer does not pass WebSocket upgrades on, as nginx without
    ``proxy_set_header Upgrade``: the server gets a plain GET.
    """
    if not backends or not all(isinstance(b, Service) for b in backends):
        raise TypeError(f"give the servers to balance as running Services, not {backends!r}")
    if sticky not in (False, True, "ip_hash", "remote_addr"):
        raise ValueError(f"sticky is False, True, 'ip_hash' or 'remote_addr', not {sticky!r}")
    turns = itertools.cycle(backends)
    by_name = {backend.name: backend for backend in backends}
    connections: dict[object, Service] = {}

    def choose(request: web.Request) -> tuple[Service, dict[str, str]]:
        if cookie is not None and request.cookies.get(cookie) in by_name:
            return by_name[request.cookies[cookie]], {}
        if sticky:
            digest = hashlib.sha256(_hash_key(request.remote or "", sticky).encode()).digest()
            return backends[digest[0] % len(backends)], {}
        if per_connection:
            peer = request.transport.get_extra_info("peername") if request.transport else None
            if peer not in connections:
                connections[peer] = next(turns)
            backend = connections[peer]
        else:
            backend = next(turns)
        if cookie is None:
            return backend, {}
        return backend, {"Set-Cookie": f"{cookie}={backend.name}; path=/"}

    state: dict[str, aiohttp.ClientSession] = {}
    app = web.Application()
    app.router.add_route("*", "/{path:.*}", _proxy(choose, state, cookie, upgrade))

    async def close_session() -> None:
        if "session" in state:
            await state.pop("session").close()

    if kind is None:
        kind = "sticky load balancer" if sticky or cookie else "round-robin load balancer"
    return start_http_server(app, name=name, port=port, kind=kind, on_stop=close_session)


def _hash_key(address: str, sticky: bool | str) -> str:
    """What a sticky balancer hashes: the /24 of an IPv4 address for ``ip_hash``, as nginx
    does (an IPv6 address whole), or the whole address."""
    if sticky in (True, "ip_hash") and address.count(".") == 3 and ":" not in address:
        return ".".join(address.split(".")[:3])
    return address


def _proxy(
    choose: Callable[[web.Request], tuple[Service, dict[str, str]]],
    state: dict,
    cookie: str | None,
    upgrade: bool,
):
    """The request handler: pick a server, pass the request on, pass the answer back."""

    async def handle(request: web.Request) -> web.StreamResponse:
        if "session" not in state:
            state["session"] = aiohttp.ClientSession(
                auto_decompress=False, cookie_jar=aiohttp.DummyCookieJar()
            )
        backend, extra = choose(request)
        url = f"{backend.url}{request.rel_url}"
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP}
        if cookie is not None and "Cookie" in headers:
            others = [
                c for c in headers.pop("Cookie").split(";") if c.split("=")[0].strip() != cookie
            ]
            if any(c.strip() for c in others):
                headers["Cookie"] = ";".join(others).strip()
        transport = request.query.get("transport", "-")
        if upgrade and request.headers.get("Upgrade", "").lower() == "websocket":
            log(f"{request.method} {transport} → {backend.name}", status=101)
            return await _relay_websocket(request, state["session"], url, headers, extra)
        async with state["session"].request(
            request.method, url, headers=headers, data=await request.read(), allow_redirects=False
        ) as answer:
            body = await answer.read()
            log(f"{request.method} {transport} → {backend.name}", status=answer.status)
            kept = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP}
            response = web.Response(status=answer.status, body=body, headers=kept)
            response.headers.update(extra)
            return response

    return handle


async def _relay_websocket(
    request: web.Request,
    session: aiohttp.ClientSession,
    url: str,
    headers: dict,
    extra: dict[str, str],
) -> web.WebSocketResponse:
    """Open a WebSocket to the server and copy messages both ways until one side closes."""
    outside = web.WebSocketResponse(autoping=False)
    outside.headers.update(extra)
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


def nginx_site(
    *backends: Service, listen: int, balance: str = "ip_hash", upgrade: bool = True
) -> str:
    """An nginx configuration (the part inside ``http { }``) that balances Socket.IO between
    ``backends`` on port ``listen`` of 127.0.0.1. ``balance`` is the upstream's method:
    ``"ip_hash"``, ``"hash $remote_addr consistent"``, or ``""`` for round robin. With
    ``upgrade=False``, the lines that pass the WebSocket upgrade on are left out."""
    servers = "\n".join(f"    server {b.host}:{b.port};" for b in backends)
    method = f"    {balance};\n" if balance else ""
    upgrade_map = """
# "Connection: upgrade" when the client asks for an upgrade, "close" otherwise.
map $http_upgrade $connection_upgrade {
    default upgrade;
    ''      close;
}
"""
    upgrade_headers = """\
        proxy_set_header Upgrade $http_upgrade;  # pass the upgrade on: nginx drops it
        proxy_set_header Connection $connection_upgrade;
"""
    return f"""\
upstream socketio_nodes {{
{method}{servers}
}}
{upgrade_map if upgrade else ""}
server {{
    listen {DEFAULT_HOST}:{listen};

    location /socket.io/ {{
        proxy_pass http://socketio_nodes;
        proxy_http_version 1.1;                  # WebSocket needs HTTP/1.1 to the server
{upgrade_headers if upgrade else ""}\
        proxy_set_header Host $http_host;        # with its port: Engine.IO checks Origin
        proxy_set_header X-Forwarded-Proto $scheme;  # http or https: Origin's scheme
        proxy_read_timeout 60s;                  # longer than the heartbeat: idle is normal
    }}
}}"""


def _find_program(program: str, setting: str) -> str | None:
    """``program`` on ``PATH``, or in /usr/sbin (Debian), where PATH may not look.

    With the environment variable ``setting`` set to ``none``, None: the lab then runs its own
    balancer, to see what a learner without the program sees.
    """
    if os.environ.get(setting) == "none":
        return None
    return shutil.which(program) or shutil.which(program, path="/usr/sbin:/usr/local/sbin")


def find_nginx() -> str | None:
    """The nginx program, or None (also with ``HELPERS_NGINX=none``)."""
    return _find_program("nginx", "HELPERS_NGINX")


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
        method = re.search(r"^\s*(ip_hash|hash \$remote_addr)", site, re.MULTILINE)
        sticky = {"ip_hash": "ip_hash", "hash $remote_addr": "remote_addr"}.get(
            method.group(1) if method else "", False
        )
        upgrade = bool(re.search(r"^\s*proxy_set_header\s+Upgrade\s", site, re.MULTILINE))
        backends = [_address(host, int(p)) for host, p in servers]
        kind = "lab balancer (nginx is not installed)"
        return start_balancer(
            *backends, name=name, sticky=sticky, port=port, kind=kind, upgrade=upgrade
        )
    return start_service(
        name, "nginx", "http", DEFAULT_HOST, port, _nginx_opener(program, site, port)
    )


def _address(host: str, port: int, name: str | None = None) -> Service:
    """A stand-in Service for a server known only by its address (from a configuration)."""
    return Service(name or f"{host}:{port}", "server", host, port, "http", _nothing)


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


def haproxy_config(
    *backends: Service, listen: int, mode: str | None = "http", cookie: str | None = "SERVERID"
) -> str:
    """An HAProxy configuration that balances Socket.IO between ``backends`` on port ``listen``
    of 127.0.0.1: new clients in turn, then each by the cookie ``cookie`` that names its server.
    ``mode=None`` leaves the ``mode`` line out, so HAProxy's default applies (``tcp``);
    ``cookie=None`` leaves stickiness out."""
    mode_line = f"    mode {mode}".ljust(36) + "# HTTP requests, not TCP connections\n"
    servers = "\n".join(
        f"    server {b.name} {b.host}:{b.port} check" + (f" cookie {b.name}" if cookie else "")
        for b in backends
    )
    cookie_line = (
        f"    cookie {cookie} insert indirect nocache    # then: the server the cookie names\n"
        if cookie
        else ""
    )
    return f"""\
defaults
{mode_line if mode else ""}\
    timeout connect 5s
    timeout client 60s              # longer than the heartbeat: idle is normal
    timeout server 60s
    timeout tunnel 1h               # a WebSocket may stay open for long

frontend public
    bind {DEFAULT_HOST}:{listen}
    default_backend socketio_nodes

backend socketio_nodes
    balance roundrobin                         # new clients: in turn
{cookie_line}{servers}
"""


def find_haproxy() -> str | None:
    """The haproxy program, or None (also with ``HELPERS_HAPROXY=none``)."""
    return _find_program("haproxy", "HELPERS_HAPROXY")


def start_haproxy(config: str, *, name: str = "haproxy") -> Service:
    """Run ``config`` (from :func:`haproxy_config`) with HAProxy if it is installed, in the
    foreground as a child of the kernel. Without HAProxy, start the lab's balancer with the
    configuration's servers, port, mode (``http``, or ``tcp``: HAProxy's default, which
    balances connections and ignores cookies) and cookie instead; the service's ``kind`` says
    which: ``HAProxy`` or ``lab balancer (HAProxy is not installed)``."""
    bind = re.search(r"^\s*bind\s+[\d.]+:(\d+)", config, re.MULTILINE)
    servers = re.findall(r"^\s*server\s+(\S+)\s+([\d.]+):(\d+)", config, re.MULTILINE)
    if bind is None or not servers:
        raise ValueError("the configuration needs a 'bind 127.0.0.1:PORT' and 'server' lines")
    port = int(bind.group(1))
    program = find_haproxy()
    if program is None:
        mode = re.search(r"^\s*mode\s+(\w+)", config, re.MULTILINE)
        http = mode is not None and mode.group(1) == "http"
        cookie = re.search(r"^\s*cookie\s+(\S+)\s+insert", config, re.MULTILINE)
        backends = [_address(host, int(p), server) for server, host, p in servers]
        return start_balancer(
            *backends,
            name=name,
            port=port,
            kind="lab balancer (HAProxy is not installed)",
            cookie=cookie.group(1) if cookie and http else None,
            per_connection=not http,
        )
    return start_service(
        name, "HAProxy", "http", DEFAULT_HOST, port, _haproxy_opener(program, config, port)
    )


def _haproxy_opener(program: str, config: str, port: int):
    def command(folder: Path) -> list[str]:
        path = folder / "haproxy.cfg"
        path.write_text(config)
        return [program, "-db", "-f", str(path)]  # -db: in the foreground, not as a daemon

    async def open_haproxy() -> tuple[int, Closer]:
        return await run_in_folder("lab-haproxy-", command, port, "haproxy", "haproxy.log")

    return open_haproxy
