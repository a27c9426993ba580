"""The servers speak the protocol of the official JavaScript client (Socket.IO 5, Engine.IO 4).

The client comes from the npm registry, pinned in package.json and package-lock.json and
installed into node_modules/ by `make test`. Without Node the test is skipped; `.ci/run` sets
REQUIRE_NODE=1, which turns the skip into a failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from conftest import ROOT

import helpers

SCRIPT = ROOT / "tests" / "js" / "interop.mjs"


def node() -> str:
    """The node program, or skip (fail under REQUIRE_NODE=1) saying what is missing."""
    program = shutil.which("node")
    if program is None:
        missing = "node is not installed"
    elif not (ROOT / "node_modules" / "socket.io-client").is_dir():
        missing = "socket.io-client is not installed: run `npm ci` (make test does)"
    else:
        return program
    if os.environ.get("REQUIRE_NODE") == "1":
        pytest.fail(f"REQUIRE_NODE=1 but {missing}", pytrace=False)
    pytest.skip(missing)


@pytest.mark.usefixtures("lab")
@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_official_js_client_exchanges_an_event_with_an_ack(transport: str) -> None:
    program = node()
    server = helpers.start_sio_server()
    done = subprocess.run(
        [program, str(SCRIPT), server.url, transport],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines() == [
        f'ack {{"from":"node","n":1}} over {transport}',
        'chat "hello from Node"',
    ]
    lines = [str(event) for event in helpers.events("sio")]
    assert lines[:3] == [
        "[sio] connect: auth=None",
        "[sio] echo: data={'from': 'node', 'n': 1}",
        "[sio] chat: data='hello from Node'",
    ]
