"""Load balancers in front of Socket.IO server processes: the lab's own, nginx and HAProxy.

:func:`start_balancer` is a small HTTP and WebSocket reverse proxy (aiohttp) that sends each
request to the next server in turn (round robin), or keeps a client on one server: by its
address (``sticky="ip_hash"``, the first three octets of an IPv4 address as nginx's ``ip_hash``
does, or ``sticky="remote_addr"``, the whole address), or by a cookie that names the server
(``cookie="SERVERID"``, as HAProxy's ``cookie ... insert indirect nocache``). It logs where each
request went: ``helpers.show_events(name)``.

:func:`nginx_site` writes an nginx configuration for Socket.IO, and :func:`start_load_balancer`
runs one with the real nginx, as a child process of the kernel on loopback, when nginx is
installed; :func:`haproxy_config` and :func:`start_haproxy` do the same for HAProxy. A
configuration is a small value (:class:`NginxSite`, :class:`HAProxyConfig`) whose ``render()``
is the text the program reads: ``print(site)`` shows it, and the file the program runs is that
text. Without the program, each runs the lab's balancer with the configuration's values: the
same servers, port and balancing method (and, for nginx, whether the WebSocket upgrade is
passed on; for HAProxy, whether it balances HTTP requests or TCP connections).
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import aiohttp
from aiohttp import web

from .eventlog import log
from .lab import DEFAULT_HOST, Closer, Opener, Service, start_service
from .processes import free_port, run_in_folder
from .servers import start_http_server

__all__ = [
    "Backend",
    "HAProxyConfig",
    "NginxSite",
    "Server",
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

#: What the lab's balancer does for each of nginx's balancing methods (the others: round robin).
_NGINX_STICKY = {"ip_hash": "ip_hash", "hash $remote_addr": "remote_addr"}

#: The lab balancer's HTTP client to its servers, kept on its aiohttp application.
_SESSION = web.AppKey("session", aiohttp.ClientSession)


@runtime_checkable
class Backend(Protocol):
    """A server that a balancer sends requests to: a running :class:`~helpers.lab.Service`, a
    :class:`Server`, or anything else with a ``name``, a ``host`` and a ``port``."""

    @property
    def name(self) -> str: ...

    @property
    def host(self) -> str: ...

    @property
    def port(self) -> int: ...


@dataclass(frozen=True)
class Server:
    """A server as a configuration lists it: a name and an address."""

    name: str
    host: str
    port: int

    @classmethod
    def of(cls, backend: Backend) -> Server:
        """The name and address of ``backend`` (a running service, say), as they are now."""
        return cls(backend.name, backend.host, backend.port)


@dataclass(frozen=True)
class NginxSite:
    """An nginx configuration (the part inside ``http { }``) that balances Socket.IO between
    ``servers`` on port ``listen`` of 127.0.0.1. ``print(site)`` shows :meth:`render`, the text
    that :func:`start_load_balancer` gives nginx.

    ``balance`` is the upstream's method: ``"ip_hash"``, ``"hash $remote_addr consistent"``,
    or ``""`` for round robin. ``upgrade=False`` leaves out the lines that pass the WebSocket
    upgrade on. nginx knows the servers by address only, and so does the lab's balancer that
    stands in for it: its log names each server ``host:port``.
    """

    servers: tuple[Server, ...]
    listen: int
    balance: str = "ip_hash"
    upgrade: bool = True

    def render(self) -> str:
        """The configuration as nginx reads it."""
        servers = "\n".join(f"    server {s.host}:{s.port};" for s in self.servers)
        method = f"    {self.balance};\n" if self.balance else ""
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
{upgrade_map if self.upgrade else ""}
server {{
    listen {DEFAULT_HOST}:{self.listen};

    location /socket.io/ {{
        proxy_pass http://socketio_nodes;
        proxy_http_version 1.1;                  # WebSocket needs HTTP/1.1 to the server
{upgrade_headers if self.upgrade else ""}\
        proxy_set_header Host $http_host;        # with its port: Engine.IO checks Origin
        proxy_set_header X-Forwarded-Proto $scheme;  # http or https: Origin's scheme
        proxy_read_timeout 60s;                  # longer than the heartbeat: idle is normal
    }}
}}"""

    def __str__(self) -> str:
        return self.render()

    @property
    def sticky(self) -> bool | str:
        """How the lab's balancer reproduces ``balance``: its ``sticky`` argument."""
        method = next((m for m in _NGINX_STICKY if self.balance.startswith(m)), "")
        return _NGINX_STICKY.get(method, False)


@dataclass(frozen=True)
class HAProxyConfig:
    """An HAProxy configuration that balances Socket.IO between ``servers`` on port ``listen``
    of 127.0.0.1: new clients in turn, then each by the cookie ``cookie`` that names its server.
    ``print(config)`` shows :meth:`render`, the text that :func:`start_haproxy` gives HAProxy.

    ``mode=None`` leaves the ``mode`` line out, so HAProxy's default applies (``tcp``: it
    balances connections and cannot read cookies); ``cookie=None`` leaves stickiness out.
    """

    servers: tuple[Server, ...]
    listen: int
    mode: str | None = "http"
    cookie: str | None = "SERVERID"

    def render(self) -> str:
        """The configuration as HAProxy reads it."""
        mode_line = f"    mode {self.mode}".ljust(36) + "# HTTP requests, not TCP connections\n"
        servers = "\n".join(
            f"    server {s.name} {s.host}:{s.port} check"
            + (f" cookie {s.name}" if self.cookie else "")
            for s in self.servers
        )
        cookie_line = (
            f"    cookie {self.cookie} insert indirect nocache"
            "    # then: the server the cookie names\n"
            if self.cookie
            else ""
        )
        return f"""\
defaults
{mode_line if self.mode else ""}\
    timeout connect 5s
    timeout client 60s              # longer than the heartbeat: idle is normal
    timeout server 60s
    timeout tunnel 1h               # a WebSocket may stay open for long

frontend public
    bind {DEFAULT_HOST}:{self.listen}
    default_backend socketio_nodes

backend socketio_nodes
    balance roundrobin                         # new clients: in turn
{cookie_line}{servers}
"""

    def __str__(self) -> str:
        return self.render()


def start_balancer(
    *backends: Backend,
    name: str = "balancer",
    sticky: bool | str = False,
    port: int = 0,
    kind: str | None = None,
    cookie: str | None = None,
    per_connection: bool = False,
    upgrade: bool = True,
) -> Service:
    """Start the lab's load balancer in front of ``backends`` (running services, or anything
    with a ``name``, ``host`` and ``port``: see :class:`Backend`); it speaks plain HTTP to them.

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
    if not backends or not all(isinstance(b, Backend) for b in backends):
        raise TypeError(
            "give the servers to balance as running Services (or anything with a name, host "
            f"and port), not {backends!r}"
        )
    if sticky not in (False, True, "ip_hash", "remote_addr"):
        raise ValueError(f"sticky is False, True, 'ip_hash' or 'remote_addr', not {sticky!r}")
    turns = itertools.cycle(backends)
    by_name = {backend.name: backend for backend in backends}
    connections: dict[object, Backend] = {}

    def choose(request: web.Request) -> tuple[Backend, dict[str, str]]:
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

    app = web.Application()
    app.cleanup_ctx.append(_client_session)
    app.router.add_route("*", "/{path:.*}", _proxy(choose, cookie, upgrade))
    if kind is None:
        kind = "sticky load balancer" if sticky or cookie else "round-robin load balancer"
    return start_http_server(app, name=name, port=port, kind=kind)


async def _client_session(app: web.Application) -> AsyncIterator[None]:
    """Give ``app`` one HTTP client to its servers while it runs; aiohttp closes it when the
    balancer stops (an aiohttp cleanup context)."""
    async with aiohttp.ClientSession(
        auto_decompress=False, cookie_jar=aiohttp.DummyCookieJar()
    ) as session:
        app[_SESSION] = session
        yield


def _hash_key(address: str, sticky: bool | str) -> str:
    """What a sticky balancer hashes: the /24 of an IPv4 address for ``ip_hash``, as nginx
    does (an IPv6 address whole), or the whole address."""
    if sticky in (True, "ip_hash") and address.count(".") == 3 and ":" not in address:
        return ".".join(address.split(".")[:3])
    return address


def _base_url(backend: Backend) -> str:
    """Where the balancer reaches ``backend``: ``http://host:port``."""
    host = f"[{backend.host}]" if ":" in backend.host else backend.host
    return f"http://{host}:{backend.port}"


def _proxy(
    choose: Callable[[web.Request], tuple[Backend, dict[str, str]]],
    cookie: str | None,
    upgrade: bool,
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """The request handler: pick a server, pass the request on, pass the answer back."""

    async def handle(request: web.Request) -> web.StreamResponse:
        session = request.app[_SESSION]
        backend, extra = choose(request)
        url = f"{_base_url(backend)}{request.rel_url}"
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
            return await _relay_websocket(request, session, url, headers, extra)
        async with session.request(
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
    headers: dict[str, str],
    extra: dict[str, str],
) -> web.WebSocketResponse:
    """Open a WebSocket to the server and copy messages both ways until one side closes."""
    outside = web.WebSocketResponse(autoping=False)
    outside.headers.update(extra)
    await outside.prepare(request)
    async with session.ws_connect(url, headers=headers, autoping=False) as inside:

        async def copy(
            source: web.WebSocketResponse | aiohttp.ClientWebSocketResponse,
            target: web.WebSocketResponse | aiohttp.ClientWebSocketResponse,
        ) -> None:
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
    *backends: Backend, listen: int, balance: str = "ip_hash", upgrade: bool = True
) -> NginxSite:
    """An nginx configuration (the part inside ``http { }``) that balances Socket.IO between
    ``backends`` on port ``listen`` of 127.0.0.1; ``print()`` it to read it. ``balance`` is the
    upstream's method: ``"ip_hash"``, ``"hash $remote_addr consistent"``, or ``""`` for round
    robin. With ``upgrade=False``, the lines that pass the WebSocket upgrade on are left out.
    See :class:`NginxSite`."""
    return NginxSite(tuple(map(Server.of, backends)), listen, balance, upgrade)


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


def _runnable(
    config: NginxSite | HAProxyConfig, kind: type[NginxSite] | type[HAProxyConfig], maker: str
) -> None:
    """Refuse a configuration that is not a ``kind`` from ``maker``, or that lists no server."""
    if not isinstance(config, kind):
        raise TypeError(
            f"give the configuration that balancer.{maker}() returns, not {config!r}: the lab "
            "runs the values it holds (print() shows its text)"
        )
    if not config.servers:
        raise ValueError(f"the configuration lists no server: give {maker}() the servers")


def start_load_balancer(site: NginxSite, *, name: str = "nginx") -> Service:
    """Run ``site`` (from :func:`nginx_site`) with nginx if it is installed. Without nginx,
    start the lab's balancer with the site's servers, port and method instead; the service's
    ``kind`` says which: ``nginx`` or ``lab balancer (nginx is not installed)``."""
    _runnable(site, NginxSite, "nginx_site")
    program = find_nginx()
    if program is None:
        # nginx knows its servers by address only: so does its stand-in's log.
        backends = [Server(f"{s.host}:{s.port}", s.host, s.port) for s in site.servers]
        kind = "lab balancer (nginx is not installed)"
        return start_balancer(
            *backends,
            name=name,
            sticky=site.sticky,
            port=site.listen,
            kind=kind,
            upgrade=site.upgrade,
        )
    return start_service(
        name, "nginx", "http", DEFAULT_HOST, site.listen, _nginx_opener(program, site)
    )


def _nginx_opener(program: str, site: NginxSite) -> Opener:
    """Run nginx with ``site``: its rendered text, inside the lab's ``NGINX_MAIN``."""

    def command(folder: Path) -> list[str]:
        config = folder / "nginx.conf"
        lines = site.render().splitlines()
        indented = "\n".join(f"    {line}" if line else "" for line in lines)
        config.write_text(NGINX_MAIN.format(folder=folder, site=indented))
        return [program, "-p", str(folder), "-c", str(config), "-e", str(folder / "error.log")]

    async def open_nginx() -> tuple[int, Closer]:
        return await run_in_folder("lab-nginx-", command, site.listen, "nginx", "error.log")

    return open_nginx


def haproxy_config(
    *backends: Backend, listen: int, mode: str | None = "http", cookie: str | None = "SERVERID"
) -> HAProxyConfig:
    """An HAProxy configuration that balances Socket.IO between ``backends`` on port ``listen``
    of 127.0.0.1, ``print()`` it to read it: new clients in turn, then each by the cookie
    ``cookie`` that names its server. ``mode=None`` leaves the ``mode`` line out, so HAProxy's
    default applies (``tcp``); ``cookie=None`` leaves stickiness out. See
    :class:`HAProxyConfig`."""
    return HAProxyConfig(tuple(map(Server.of, backends)), listen, mode, cookie)


def find_haproxy() -> str | None:
    """The haproxy program, or None (also with ``HELPERS_HAPROXY=none``)."""
    return _find_program("haproxy", "HELPERS_HAPROXY")


def start_haproxy(config: HAProxyConfig, *, name: str = "haproxy") -> Service:
    """Run ``config`` (from :func:`haproxy_config`) with HAProxy if it is installed, in the
    foreground as a child of the kernel. Without HAProxy, start the lab's balancer with the
    configuration's servers, port, mode (``http``, or ``tcp``: HAProxy's default, which
    balances connections and ignores cookies) and cookie instead; the service's ``kind`` says
    which: ``HAProxy`` or ``lab balancer (HAProxy is not installed)``."""
    _runnable(config, HAProxyConfig, "haproxy_config")
    program = find_haproxy()
    if program is None:
        http = config.mode == "http"
        return start_balancer(
            *config.servers,
            name=name,
            port=config.listen,
            kind="lab balancer (HAProxy is not installed)",
            cookie=config.cookie if http else None,
            per_connection=not http,
        )
    opener = _haproxy_opener(program, config)
    return start_service(name, "HAProxy", "http", DEFAULT_HOST, config.listen, opener)


def _haproxy_opener(program: str, config: HAProxyConfig) -> Opener:
    """Run HAProxy with ``config``: its rendered text is the file HAProxy reads."""

    def command(folder: Path) -> list[str]:
        path = folder / "haproxy.cfg"
        path.write_text(config.render())
        return [program, "-db", "-f", str(path)]  # -db: in the foreground, not as a daemon

    async def open_haproxy() -> tuple[int, Closer]:
        return await run_in_folder("lab-haproxy-", command, config.listen, "haproxy", "haproxy.log")

    return open_haproxy
