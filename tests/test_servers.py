"""helpers.servers: the one place that uses python-socketio's and python-engineio's internals
still matches the versions installed."""

from __future__ import annotations

import importlib.metadata

import pytest

from helpers import servers


@pytest.mark.parametrize("distribution", sorted(servers.INTERNALS_CHECKED_AGAINST))
def test_the_internals_adapter_was_checked_against_the_installed_version(
    distribution: str,
) -> None:
    checked = servers.INTERNALS_CHECKED_AGAINST[distribution]
    installed = importlib.metadata.version(distribution)
    assert installed.split(".")[:2] == checked.split("."), (
        f"{distribution} {installed} is installed, but the section 'python-socketio and "
        f"python-engineio internals' of helpers/servers.py was checked against {checked}. "
        "Re-check every private name it uses against the new release (sio.eio.sockets, "
        "client.queue, service_task_handle, start_service_task, service_task_event, "
        "sio._binary_packet, sio.packet_class, sio.handlers, sio.namespace_handlers, "
        "sio.namespaces, eio.handlers, the base_server.BaseServer.__init__ signatures), run "
        "tests/test_lab.py and tests/test_reliability.py, then update INTERNALS_CHECKED_AGAINST."
    )


def test_the_demo_server_accepts_the_options_of_both_libraries() -> None:
    options = servers._sio_options()
    assert {"ping_interval", "ping_timeout", "cors_allowed_origins"} <= set(options)  # engineio
    assert {"client_manager", "always_connect", "namespaces"} <= set(options)  # socketio


def test_check_options_suggests_the_closest_name() -> None:
    with pytest.raises(TypeError, match="Did you mean 'ping_interval'") as error:
        servers.check_options("f", ["ping_intervall"], ["ping_interval", "max_size"], "g()")
    assert "passes keyword arguments on to g(), which accepts: max_size, ping_interval" in str(
        error.value
    )
    servers.check_options("f", ["max_size"], ["ping_interval", "max_size"], "g()")
