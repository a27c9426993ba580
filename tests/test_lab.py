"""The lab runtime: services start, stop, restart and clean up, and bad input is explained."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
import urllib.request

import pytest
import socketio
import websockets.asyncio.client
import websockets.sync.client
from conftest import listening
from websockets.exceptions import ConnectionClosedError

import helpers
from helpers import eventlog

pytestmark = pytest.mark.usefixtures("lab")


def event_lines(name: str | None = None) -> list[str]:
    return [str(event) for event in helpers.events(name)]


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


# Starting, stopping, restarting


def test_echo_server_with_the_sync_client() -> None:
    echo = helpers.start_ws_server()
    assert echo.url == f"ws://127.0.0.1:{echo.port}"
    with websockets.sync.client.connect(echo.url) as websocket:
        websocket.send("hello")
        assert websocket.recv() == "hello"
    assert event_lines() == [
        "[ws] connected: path='/'",
        "[ws] echo: message='hello'",
        "[ws] disconnected: code=1000",
    ]


def test_echo_server_with_the_async_client() -> None:
    echo = helpers.start_ws_server(name="echo")

    async def talk() -> list[str | bytes]:
        async with websockets.asyncio.client.connect(echo.url) as websocket:
            await websocket.send("a")
            first = await websocket.recv()
            await websocket.send(b"\x00\x01")
            return [first, await websocket.recv()]

    assert asyncio.run(talk()) == ["a", b"\x00\x01"]
    assert "[echo] echo: message=b'\\x00\\x01'" in event_lines()


def test_sio_demo_server_with_sync_and_async_clients() -> None:
    # A polling client's disconnect waits for its parked GET, which ends at the ping timeout.
    sio = helpers.start_sio_server(ping_interval=0.5, ping_timeout=1)
    assert sio.url.startswith("http://127.0.0.1:")
    with socketio.SimpleClient() as client:
        client.connect(sio.url)
        assert client.call("echo", {"n": 1}) == {"n": 1}
        client.emit("chat", "hi all")
        assert client.receive(timeout=3) == ["chat", "hi all"]

    async def talk() -> object:
        client = socketio.AsyncClient()
        await client.connect(sio.url, transports=["polling"])
        answer = await client.call("echo", "polled")
        await client.disconnect()
        return answer

    assert asyncio.run(talk()) == "polled"
    lines = event_lines("sio")
    assert lines[:3] == [
        "[sio] connect: auth=None",
        "[sio] echo: data={'n': 1}",
        "[sio] chat: data='hi all'",
    ]
    assert "[sio] echo: data='polled'" in lines
    assert lines.count("[sio] connect: auth=None") == 2
    assert len([line for line in lines if "disconnect" in line]) == 2


def test_the_same_socketio_server_restarts_and_stops_again() -> None:
    sio = socketio.AsyncServer(async_mode="aiohttp")
    for _ in range(3):
        service = helpers.start_sio_server(sio, name="again")
        with socketio.SimpleClient() as client:
            client.connect(service.url)
        service.stop()
        helpers.start_sio_server(sio, name="again").stop()  # no client in between


def test_stop_is_idempotent_and_frees_the_port() -> None:
    echo = helpers.start_ws_server()
    assert listening(echo.port)
    echo.stop()
    echo.stop()
    assert echo.stopped and "(stopped)" in repr(echo)
    assert not listening(echo.port)
    assert helpers.services() == []


def test_restart_under_the_same_name_and_fixed_port() -> None:
    first = helpers.start_ws_server()
    second = helpers.start_ws_server(port=first.port)
    assert first.stopped and not second.stopped
    assert second.port == first.port
    with websockets.sync.client.connect(second.url) as websocket:
        websocket.send("still here")
        assert websocket.recv() == "still here"
    sio = helpers.start_sio_server(port=0)
    again = helpers.start_sio_server(port=sio.port)
    assert again.port == sio.port and sio.stopped


def test_restart_closes_open_connections_with_going_away() -> None:
    echo = helpers.start_ws_server()
    with websockets.sync.client.connect(echo.url) as websocket:
        helpers.start_ws_server(port=echo.port)
        with pytest.raises(websockets.exceptions.ConnectionClosedOK) as closed:
            websocket.recv(timeout=3)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001


def test_stop_cuts_off_a_client_that_never_closes() -> None:
    echo = helpers.start_ws_server()
    with socket.create_connection(("127.0.0.1", echo.port)) as raw:
        raw.sendall(
            b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        assert raw.recv(1024).startswith(b"HTTP/1.1 101")
        started = time.monotonic()
        echo.stop()  # the raw socket never answers the close frame
        assert time.monotonic() - started < 3
    assert any("cut them off" in line for line in event_lines())


def test_stop_does_not_wait_for_a_vanished_polling_client() -> None:
    sio = helpers.start_sio_server()
    with urllib.request.urlopen(f"{sio.url}/socket.io/?EIO=4&transport=polling", timeout=3) as r:
        assert r.read().startswith(b"0{")  # an Engine.IO session opened; then we vanish
    started = time.monotonic()
    sio.stop()
    assert time.monotonic() - started < 3


def test_a_hundred_restarts_leave_no_threads_or_file_descriptors() -> None:
    helpers.start_ws_server()
    helpers.start_sio_server()
    threads, fds = threading.active_count(), open_fds()
    for _ in range(100):
        helpers.start_ws_server()
        helpers.start_sio_server()
    assert threading.active_count() == threads
    assert open_fds() == fds


# Handlers, logs and the event log


def test_a_failing_handler_is_logged_and_others_are_served() -> None:
    async def inverse(websocket) -> None:
        async for message in websocket:
            await websocket.send(str(1 / float(message)))

    calc = helpers.start_ws_server(inverse, name="calc")
    with websockets.sync.client.connect(calc.url) as healthy:
        with websockets.sync.client.connect(calc.url) as doomed:
            doomed.send("0")
            with pytest.raises(ConnectionClosedError) as closed:
                doomed.recv(timeout=3)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1011
        healthy.send("4")
        assert healthy.recv(timeout=3) == "0.25"
    assert event_lines() == [
        "[calc] websockets.server: connection handler failed "
        "(ZeroDivisionError: float division by zero)"
    ]


def test_a_vanished_client_is_logged_not_printed(capfd: pytest.CaptureFixture[str]) -> None:
    async def wait_for_one(websocket) -> None:
        await websocket.recv()

    server = helpers.start_ws_server(wait_for_one, name="waiter")
    with websockets.sync.client.connect(server.url) as websocket:
        websocket.socket.shutdown(socket.SHUT_RDWR)  # gone, without a close frame
    lines = event_lines()
    assert lines and "connection handler failed (ConnectionClosedError" in lines[0]
    assert capfd.readouterr().err == ""


def test_sio_handler_errors_go_to_the_event_log(capfd: pytest.CaptureFixture[str]) -> None:
    sio = socketio.AsyncServer(async_mode="aiohttp")

    @sio.event
    async def boom(sid: str, data: object) -> None:
        raise ValueError("no good")

    server = helpers.start_sio_server(sio, name="boom")
    with socketio.SimpleClient() as client:
        client.connect(server.url)
        client.emit("boom", 1)
        time.sleep(0.2)
    assert any("ValueError: no good" in line for line in event_lines("boom"))
    assert capfd.readouterr().err == ""


def test_show_events_filters_by_name_and_keeps_the_rest(capsys: pytest.CaptureFixture[str]) -> None:
    helpers.log("outside")
    helpers.show_events("nobody")
    helpers.show_events()
    helpers.show_events()
    assert capsys.readouterr().out.splitlines() == ["(no new events)", "outside", "(no new events)"]


def test_record_adds_an_event_and_a_sink_takes_them_all() -> None:
    eventlog.record("redis", "output", "Ready to accept connections")
    assert event_lines() == ["[redis] output: Ready to accept connections"]
    sent: list[helpers.Event] = []
    eventlog.set_sink(sent.append)
    try:
        eventlog.record(None, "plain")
        helpers.log("from a handler", n=1)
        logging.getLogger("websockets.server").warning("a library's warning")
    finally:
        eventlog.set_sink(None)
    assert [str(event) for event in sent] == [
        "plain",
        "from a handler: n=1",
        "websockets.server: a library's warning",
    ]
    assert event_lines() == []  # the sink took them: nothing stayed here


def test_library_logs_can_be_turned_on_and_off() -> None:
    helpers.library_logs("INFO", "websockets")
    try:
        echo = helpers.start_ws_server()
        assert any("server listening on" in line for line in event_lines())
    finally:
        helpers.library_logs(False)
    echo.stop()
    assert event_lines() == []
    with pytest.raises(ValueError, match="unknown library 'flask'"):
        helpers.library_logs("INFO", "flask")
    with pytest.raises(ValueError, match="unknown level 'LOUD'"):
        helpers.library_logs("LOUD")


def test_status_lists_services(capsys: pytest.CaptureFixture[str]) -> None:
    helpers.status()
    ws = helpers.start_ws_server()
    sio = helpers.start_sio_server(name="chat")
    helpers.status()
    helpers.stop_all()
    helpers.status()
    assert capsys.readouterr().out.splitlines() == [
        "No services are running.",
        "name  kind                    url",
        f"ws    websockets echo server  {ws.url}",
        f"chat  Socket.IO server        {sio.url}",
        "No services are running.",
    ]


def test_run_returns_results_and_names_a_slow_coroutine() -> None:
    async def answer() -> int:
        return 42

    async def dawdle() -> None:
        await asyncio.sleep(5)

    assert helpers.run(answer()) == 42

    async def note() -> None:
        helpers.log("noted")

    helpers.run(note(), service="notes")
    assert event_lines() == ["[notes] noted"]
    with pytest.raises(TimeoutError, match=r"dawdle\(\) did not finish within 0.1 s"):
        helpers.run(dawdle(), timeout=0.1)
    with pytest.raises(TypeError, match=r"Call it: run\(answer\(\)\)"):
        helpers.run(answer)  # type: ignore[arg-type]


# Bad input gets a clear message


def test_a_port_held_by_another_program() -> None:
    with socket.create_server(("127.0.0.1", 0)) as other:
        port = other.getsockname()[1]
        with pytest.raises(helpers.PortInUseError, match=f"port {port} on 127.0.0.1 is already"):
            helpers.start_ws_server(port=port)
        with pytest.raises(helpers.PortInUseError, match="Use port=0"):
            helpers.start_sio_server(port=port)
    assert helpers.services() == []


def test_a_port_held_by_another_service() -> None:
    echo = helpers.start_ws_server()
    with pytest.raises(helpers.PortInUseError, match=r"held by the lab service 'ws'.*stop\('ws'\)"):
        helpers.start_ws_server(name="other", port=echo.port)
    assert not echo.stopped


def test_a_handler_that_is_not_async() -> None:
    def handler(websocket) -> None: ...

    with pytest.raises(TypeError, match="handler must be an async function"):
        helpers.start_ws_server(handler)  # type: ignore[arg-type]  # the mistake under test


@pytest.mark.parametrize(
    ("start", "options", "expected"),
    [
        (helpers.start_ws_server, {"pingintervall": 1}, "Did you mean 'ping_interval'?"),
        (helpers.start_ws_server, {"colour": 1}, "websockets.asyncio.server.serve"),
        (helpers.start_sio_server, {"ping_intervall": 1}, "Did you mean 'ping_interval'?"),
    ],
)
def test_unknown_keyword_arguments(start, options: dict, expected: str) -> None:
    with pytest.raises(TypeError, match="unknown keyword argument") as error:
        start(**options)
    assert expected in str(error.value)


def test_sio_server_argument_errors() -> None:
    with pytest.raises(TypeError, match="give options to socketio.AsyncServer"):
        helpers.start_sio_server(socketio.AsyncServer(async_mode="aiohttp"), ping_interval=1)
    with pytest.raises(TypeError, match="must be a socketio.AsyncServer"):
        helpers.start_sio_server(socketio.Server())
    with pytest.raises(ValueError, match="async_mode='aiohttp'"):
        helpers.start_sio_server(socketio.AsyncServer(async_mode="asgi"))


@pytest.mark.parametrize("port", [-1, 70000, "8765"])
def test_a_bad_port(port: object) -> None:
    with pytest.raises(ValueError, match="port must be a whole number"):
        helpers.start_ws_server(port=port)  # type: ignore[arg-type]


# Outside Jupyter, and at exit


def test_works_from_a_plain_script_and_stops_at_exit() -> None:
    script = textwrap.dedent(
        """
        import websockets.sync.client, socketio, helpers
        echo = helpers.start_ws_server()
        sio = helpers.start_sio_server()
        with websockets.sync.client.connect(echo.url) as ws:
            ws.send("from a script")
            print(ws.recv())
        with socketio.SimpleClient() as client:
            client.connect(sio.url)
            print(client.call("echo", "and Socket.IO"))
        print(echo.port, sio.port)
        """
    )
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 10
    first, second, ports = done.stdout.splitlines()
    assert (first, second) == ("from a script", "and Socket.IO")
    assert done.stderr == ""
    assert not any(listening(int(port)) for port in ports.split())
