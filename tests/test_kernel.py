"""Nothing a lesson starts outlives its kernel: no thread, child process or listening port."""

from __future__ import annotations

import socket
import time

import psutil
import pytest
from jupyter_client.manager import start_new_kernel

START_SERVERS = """
import helpers, socketio, websockets.sync.client
echo = helpers.start_ws_server()
sio = helpers.start_sio_server()
client = socketio.Client()
client.connect(sio.url)
websocket = websockets.sync.client.connect(echo.url).__enter__()  # left open on purpose
print(echo.port, sio.port)
"""


def run_cell(client, code: str) -> str:
    """Execute ``code`` in the kernel and return what it printed."""
    printed: list[str] = []

    def keep(message: dict) -> None:
        if message["msg_type"] == "stream":
            printed.append(message["content"]["text"])
        if message["msg_type"] == "error":
            pytest.fail("\n".join(message["content"]["traceback"]))

    client.execute_interactive(code, timeout=60, output_hook=keep)
    return "".join(printed)


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.parametrize("how", ["shutdown", "restart"])
def test_kernel_end_leaves_nothing_behind(how: str) -> None:
    manager, client = start_new_kernel(kernel_name="python3")
    try:
        pid = manager.provisioner.process.pid
        ports = [int(port) for port in run_cell(client, START_SERVERS).split()]
        assert all(listening(port) for port in ports)
        if how == "restart":
            manager.restart_kernel(now=False)
        else:
            manager.shutdown_kernel(now=False)
        deadline = time.monotonic() + 10
        while psutil.pid_exists(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == "zombie"
        assert not any(listening(port) for port in ports)
    finally:
        client.stop_channels()
        if manager.is_alive():
            manager.shutdown_kernel(now=True)
