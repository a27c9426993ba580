"""helpers.cluster and helpers.balancer: Socket.IO server processes joined by Redis, a worker
that emits, load balancers, and nothing left behind, even when the kernel is killed."""

from __future__ import annotations

import functools
import json
import os
import signal
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator

import pytest
import redis
import socketio
from conftest import listening, require_redis
from jupyter_client.manager import start_new_kernel

import helpers
from helpers import balancer, broker, cluster, processes
from helpers.check import wait_until as wait_until_within

wait_until = functools.partial(wait_until_within, timeout=5)  # processes may be slow to answer

# The nodes' Engine.IO heartbeat (ping_interval, ping_timeout), in seconds. A long-polling
# client's disconnect() waits for its parked GET, which the server ends only at its poll timeout
# (ping_interval + ping_timeout; the defaults, 25 + 20, make the client's own 30 s timeout end it
# first): short, so that a test sits out 1.5 s, not 30.
QUICK_PING = (0.5, 1)


@pytest.fixture
def redis_url(lab: None) -> str:
    """The lab's Redis (skipped without one, unless REQUIRE_REDIS=1 as in CI)."""
    require_redis()
    return broker.start_redis().url


def node(redis_url, name, ping_interval=25, ping_timeout=20):  # runs in the child: no annotations
    import socketio

    sio = socketio.AsyncServer(
        async_mode="aiohttp",
        client_manager=socketio.AsyncRedisManager(redis_url),
        ping_interval=ping_interval,
        ping_timeout=ping_timeout,
    )

    @sio.event
    async def where(sid):
        return name

    @sio.event
    async def chat(sid, text):
        await sio.emit("chat", text)

    @sio.event
    async def join(sid, room):
        await sio.enter_room(sid, room)

    @sio.event
    async def say(sid, data):
        await sio.emit("said", data["text"], to=data["room"])

    return sio


def emitter(redis_url, room, text):
    import socketio

    socketio.RedisManager(redis_url, write_only=True).emit("news", text, to=room)
    print("sent", text)
    return {"sent": text}


class Inbox:
    def __init__(self, url: str, transports: list[str] | None = None) -> None:
        self.events: list[list[object]] = []
        self.client = socketio.Client(reconnection=False)
        self.client.on("*", lambda event, *args: self.events.append([event, *args]))
        self.client.connect(url, transports=transports or ["websocket"], wait_timeout=3)


@pytest.fixture
def two_nodes(redis_url: str) -> Iterator[tuple[helpers.Service, helpers.Service]]:
    a = cluster.start_sio_process(node, redis_url, "a", *QUICK_PING, name="node-a")
    b = cluster.start_sio_process(node, redis_url, "b", *QUICK_PING, name="node-b")
    yield a, b


@pytest.fixture
def program(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Whether the test runs the real balancer program (skipped if it is not installed), or the
    lab's balancer that stands in for it; set by :func:`real_or_lab`."""
    name, real = request.param
    if real and {"nginx": balancer.find_nginx, "haproxy": balancer.find_haproxy}[name]() is None:
        pytest.skip(f"{name} is not installed")
    if not real:
        monkeypatch.setenv(f"HELPERS_{name.upper()}", "none")
    return real


def real_or_lab(name: str) -> pytest.MarkDecorator:
    """Run the test with the program ``name`` (nginx or haproxy), then with the lab's balancer."""
    return pytest.mark.parametrize(
        "program", [(name, True), (name, False)], ids=[name, "lab-balancer"], indirect=True
    )


def subscribed(redis_url: str, count: int) -> bool:
    with redis.Redis.from_url(redis_url) as client:
        return wait_until(lambda: client.pubsub_numsub("socketio") == [(b"socketio", count)])


def test_two_processes_relay_broadcasts_and_rooms(redis_url: str, two_nodes: tuple) -> None:
    a, b = two_nodes
    assert len({cluster.pid(a), cluster.pid(b), os.getpid()}) == 3
    ada, bob, cy = Inbox(a.url), Inbox(b.url), Inbox(b.url)
    try:
        assert subscribed(redis_url, 2)
        assert ada.client.call("where", timeout=3) == "a" and bob.client.call("where") == "b"
        ada.client.emit("chat", "hi")
        assert wait_until(lambda: bob.events and cy.events and ada.events)
        assert bob.events == cy.events == ada.events == [["chat", "hi"]]
        for inbox in (ada, bob, cy):
            inbox.events.clear()
        ada.client.call("join", "lobby", timeout=3)
        bob.client.call("join", "lobby", timeout=3)
        cy.client.emit("say", {"room": "lobby", "text": "psst"})
        assert wait_until(lambda: ada.events and bob.events)
        time.sleep(0.3)
        assert ada.events == bob.events == [["said", "psst"]] and cy.events == []
    finally:
        for inbox in (ada, bob, cy):
            inbox.client.disconnect()


def test_a_write_only_emitter_in_a_process(redis_url: str, two_nodes: tuple) -> None:
    a, _ = two_nodes
    ada = Inbox(a.url)
    try:
        ada.client.call("join", "desk", timeout=3)
        assert subscribed(redis_url, 1)
        assert cluster.run_process(emitter, redis_url, "desk", "done", name="job") == {
            "sent": "done"
        }
        assert wait_until(lambda: ada.events) and ada.events == [["news", "done"]]
        assert [str(e) for e in helpers.events("job")] == ["[job] output: sent done"]
    finally:
        ada.client.disconnect()


def test_what_a_process_cannot_be_given(redis_url: str) -> None:
    with pytest.raises(TypeError, match="defined with 'def'"):
        cluster.start_sio_process(lambda url: None, redis_url, name="x")

    def outer() -> Callable:
        value = 1

        def inner(url):
            return value

        return inner

    with pytest.raises(TypeError, match="uses variables of the function around it"):
        cluster.start_sio_process(outer(), redis_url, name="x")
    with pytest.raises(TypeError, match="JSON"):
        cluster.start_sio_process(node, redis_url, object(), name="x")
    with pytest.raises(RuntimeError, match=r"emitter\(\) failed in its process: TypeError"):
        cluster.start_sio_process(emitter, redis_url, name="x")
    assert [service.name for service in helpers.services()] == ["redis"]
    assert len(processes.running()) == 1  # only the Redis: the failed processes are gone


def test_stop_all_leaves_no_process_and_no_port(redis_url: str, two_nodes: tuple) -> None:
    a, b = two_nodes
    pids = processes.running()
    assert len(pids) == 3  # redis, a, b
    helpers.stop_all()
    assert processes.running() == []
    assert not any(processes.alive(pid) for pid in pids)
    assert not listening(a.port) and not listening(b.port)


def poll(url: str, sid: str | None = None, packet: str | None = None) -> tuple[int, str]:
    full = f"{url}/socket.io/?EIO=4&transport=polling" + (f"&sid={sid}" if sid else "")
    try:
        data = None if packet is None else packet.encode()
        with urllib.request.urlopen(full, data=data, timeout=3) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_round_robin_breaks_long_polling_and_not_websocket(two_nodes: tuple) -> None:
    a, b = two_nodes
    spread = balancer.start_balancer(a, b, name="rr")
    status, body = poll(spread.url)
    sid = json.loads(body[1:])["sid"]
    assert status == 200
    assert poll(spread.url, sid, "40") == (400, f'"Invalid session {sid}"')
    assert [e.name for e in helpers.events("rr")] == [
        "GET polling → node-a",
        "POST polling → node-b",
    ]
    ws = Inbox(spread.url)
    assert [ws.client.call("where", timeout=3) for _ in range(4)] == ["a"] * 4
    ws.client.disconnect()


@real_or_lab("nginx")
def test_a_sticky_load_balancer_keeps_long_polling_on_one_node(
    two_nodes: tuple, program: bool
) -> None:
    a, b = two_nodes
    site = balancer.nginx_site(a, b, listen=balancer.free_port())
    sticky = balancer.start_load_balancer(site, name="sticky")
    assert sticky.kind == ("nginx" if program else "lab balancer (nginx is not installed)")
    pat = Inbox(sticky.url, ["polling"])
    assert len({pat.client.call("where", timeout=3) for _ in range(4)}) == 1
    pat.client.disconnect()
    both = Inbox(sticky.url, ["polling", "websocket"])  # upgrades through the balancer
    assert wait_until(lambda: both.client.transport() == "websocket")
    both.client.disconnect()
    helpers.stop("sticky")
    assert not listening(sticky.port)


KILLED_KERNEL = """
import os
import helpers
from helpers import balancer, broker, cluster, processes

def node(redis_url):
    import socketio
    return socketio.AsyncServer(
        async_mode="aiohttp", client_manager=socketio.AsyncRedisManager(redis_url))

url = broker.start_redis().url
a = cluster.start_sio_process(node, url, name="a")
b = cluster.start_sio_process(node, url, name="b")
lb = balancer.start_load_balancer(balancer.nginx_site(a, b, listen=balancer.free_port()))
print(os.getpid(), "|", *processes.running(), "|", a.port, b.port, lb.port)
"""


@pytest.mark.parametrize("how", ["SIGKILL", "shutdown"])
def test_children_die_with_the_kernel(redis_url: str, how: str) -> None:
    manager, client = start_new_kernel(kernel_name="python3")
    try:
        printed: list[str] = []
        client.execute_interactive(
            KILLED_KERNEL,
            timeout=60,
            output_hook=lambda m: (
                printed.append(m["content"].get("text", "")) if m["msg_type"] == "stream" else None
            ),
        )
        kernel, pids_text, ports_text = "".join(printed).split("|")
        pids, ports = [int(p) for p in pids_text.split()], [int(p) for p in ports_text.split()]
        assert len(pids) >= 3 and all(listening(port) for port in ports)
        if how == "SIGKILL":
            os.kill(int(kernel), signal.SIGKILL)
        else:
            manager.shutdown_kernel(now=False)
        assert wait_until(lambda: not any(processes.alive(pid) for pid in pids), timeout=10)
        assert wait_until(lambda: not any(listening(port) for port in ports), timeout=5)
    finally:
        client.stop_channels()
        if manager.is_alive():
            manager.shutdown_kernel(now=True)


# --- HAProxy, nginx's hash methods and a missing upgrade, plain websockets processes --------


def cookie_poll(url: str, jar_opener: Callable, sid: str | None = None, packet: str | None = None):
    full = f"{url}/socket.io/?EIO=4&transport=polling" + (f"&sid={sid}" if sid else "")
    request = urllib.request.Request(full, data=None if packet is None else packet.encode())
    try:
        with jar_opener(request, timeout=3) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_haproxy_config_says_mode_and_cookie(two_nodes: tuple) -> None:
    a, b = two_nodes
    config = balancer.haproxy_config(a, b, listen=1234)
    text = str(config)
    assert text == config.render()  # what print() shows is the file HAProxy reads
    assert "    mode http " in text and "bind 127.0.0.1:1234" in text
    assert "cookie SERVERID insert indirect nocache" in text
    assert f"server node-a 127.0.0.1:{a.port} check cookie node-a" in text
    bare = balancer.haproxy_config(a, b, listen=1234, mode=None, cookie=None).render()
    assert "mode" not in bare and "cookie" not in bare
    with pytest.raises(TypeError, match=r"balancer.haproxy_config\(\) returns"):
        balancer.start_haproxy("defaults\n")  # type: ignore[arg-type]  # text is refused
    with pytest.raises(ValueError, match="no server"):
        balancer.start_haproxy(balancer.haproxy_config(listen=1234))


def test_nginx_site_holds_the_values_it_renders(two_nodes: tuple) -> None:
    a, b = two_nodes
    site = balancer.nginx_site(a, b, listen=1234, balance="hash $remote_addr consistent")
    assert site.servers == (balancer.Server.of(a), balancer.Server.of(b))
    assert (site.listen, site.sticky, site.upgrade) == (1234, "remote_addr", True)
    assert str(site) == site.render() and "listen 127.0.0.1:1234;" in site.render()
    assert f"    server 127.0.0.1:{b.port};" in site.render()
    with pytest.raises(TypeError, match=r"balancer.nginx_site\(\) returns"):
        balancer.start_load_balancer(site.render())  # type: ignore[arg-type]  # text is refused


@real_or_lab("haproxy")
def test_haproxy_sticks_by_cookie_only_in_http_mode(two_nodes: tuple, program: bool) -> None:
    a, b = two_nodes
    import http.cookiejar

    for mode, sticks in [("http", True), (None, False)]:
        config = balancer.haproxy_config(a, b, listen=balancer.free_port(), mode=mode)
        lb = balancer.start_haproxy(config, name="hap")
        assert lb.kind == ("HAProxy" if program else "lab balancer (HAProxy is not installed)")
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar)).open
        status, body = cookie_poll(lb.url, opener)
        sid = json.loads(body[1:])["sid"]
        assert status == 200
        assert [(c.name, c.value) for c in jar] == ([("SERVERID", "node-a")] if sticks else [])
        expected = (200, "OK") if sticks else (400, f'"Invalid session {sid}"')
        assert cookie_poll(lb.url, opener, sid, "40") == expected
        if sticks:  # python-socketio's client keeps the cookie for its upgrade
            client = Inbox(lb.url, ["polling", "websocket"]).client
            assert wait_until(functools.partial(lambda c: c.transport() == "websocket", client))
            assert len({client.call("where", timeout=3) for _ in range(4)}) == 1
            client.disconnect()
        helpers.stop("hap")
        assert not listening(lb.port)


def test_the_lab_balancer_hashes_like_nginx() -> None:
    assert balancer._hash_key("10.1.2.3", "ip_hash") == balancer._hash_key("10.1.2.99", True)
    assert balancer._hash_key("10.1.2.3", "remote_addr") == "10.1.2.3"
    assert balancer._hash_key("::1", "ip_hash") == "::1"  # IPv6: the whole address
    with pytest.raises(ValueError, match="sticky"):
        balancer.start_balancer(balancer.Server("x", "127.0.0.1", 1), sticky="cookie")
    with pytest.raises(TypeError, match="name, host and port"):
        balancer.start_balancer("127.0.0.1:1")  # type: ignore[arg-type]


@real_or_lab("nginx")
def test_nginx_without_upgrade_headers_keeps_clients_on_polling(
    two_nodes: tuple, program: bool
) -> None:
    a, b = two_nodes
    site = balancer.nginx_site(a, b, listen=balancer.free_port(), upgrade=False)
    assert "Upgrade" not in site.render() and "X-Forwarded-Proto $scheme" in site.render()
    lb = balancer.start_load_balancer(site, name="no-upgrade")
    with pytest.raises(socketio.exceptions.ConnectionError):
        Inbox(lb.url, ["websocket"])
    both = Inbox(lb.url, ["polling", "websocket"])
    time.sleep(1)
    assert both.client.transport() == "polling"
    both.client.disconnect()
    helpers.stop("no-upgrade")


def ws_node(redis_url):
    import json

    import redis.asyncio as redis

    bus = redis.Redis.from_url(redis_url)

    async def handler(websocket):
        async for text in websocket:
            await bus.publish("ws", json.dumps(text))
            await websocket.send(text)

    return handler


def test_a_websockets_server_in_a_process(redis_url: str) -> None:
    from websockets.sync.client import connect

    server = cluster.start_ws_process(ws_node, redis_url, name="ws-node")
    assert server.kind == "websockets server process" and server.url.startswith("ws://")
    assert cluster.pid(server) not in (None, os.getpid())
    with connect(server.url) as client:
        client.send("hello")
        assert client.recv(timeout=3) == "hello"
    with pytest.raises(RuntimeError, match="connection handler"):
        cluster.start_ws_process(node, redis_url, "x", name="not-a-handler")
    helpers.stop_all()
    assert processes.running() == []
