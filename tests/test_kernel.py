"""Nothing a lesson starts outlives its kernel: no thread, child process or listening port."""

from __future__ import annotations

import time

import psutil
import pytest
from conftest import listening
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


def listening_ports(pid: int) -> set[int]:
    """The TCP ports process ``pid`` listens on: the lab's servers and the kernel's own."""
    connections = psutil.Process(pid).net_connections(kind="tcp")
    return {c.laddr.port for c in connections if c.status == psutil.CONN_LISTEN}


def gone(process: psutil.Process) -> bool:
    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.mark.parametrize("how", ["shutdown", "restart"])
def test_kernel_end_leaves_nothing_behind(how: str) -> None:
    manager, client = start_new_kernel(kernel_name="python3")
    try:
        pid = int(run_cell(client, "import os; print(os.getpid())"))
        ports = [int(port) for port in run_cell(client, START_SERVERS).split()]
        assert all(listening(port) for port in ports)
        every_port = listening_ports(pid)  # the kernel's own ports too
        assert set(ports) <= every_port
        children = psutil.Process(pid).children(recursive=True)
        if how == "restart":
            manager.restart_kernel(now=False)
        else:
            manager.shutdown_kernel(now=False)
        deadline = time.monotonic() + 10
        while psutil.pid_exists(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == "zombie"
        assert not any(listening(port) for port in ports)
        assert not [port for port in every_port if listening(port)], "a port outlived its kernel"
        assert all(gone(child) for child in children), "a child process outlived its kernel"
        if how == "restart":  # the new kernel starts clean and can use the lab again
            assert run_cell(client, "import helpers; helpers.status()") == (
                "No services are running.\n"
            )
    finally:
        client.stop_channels()
        if manager.is_alive():
            manager.shutdown_kernel(now=True)


STOP_ALL = """
import threading, time
client.disconnect()
websocket.close()
helpers.stop_all()
def extra():
    return sorted({t.name for t in threading.enumerate()} - before)
deadline = time.monotonic() + 10
while extra() != ["helpers-lab"] and time.monotonic() < deadline:
    time.sleep(0.1)
print(extra())
"""


def test_stop_all_leaves_only_the_labs_own_thread() -> None:
    """Inside a kernel that keeps running: clients closed and stop_all() end every thread the
    lesson's servers and clients started, except the lab's loop, which is reused."""
    manager, client = start_new_kernel(kernel_name="python3")
    try:
        run_cell(client, "import threading\nbefore = {t.name for t in threading.enumerate()}")
        run_cell(client, START_SERVERS)
        assert run_cell(client, STOP_ALL) == "['helpers-lab']\n"
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
