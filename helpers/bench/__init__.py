"""Measure WebSocket, Socket.IO and HTTP polling against a raw TCP floor, on this machine.

    results = helpers.bench.run()           # a few minutes; run(quick=True): seconds
    print(helpers.bench.table(results))

or from a shell: ``python -m helpers.bench [--json] [--quick]``.

The servers run in one process (:mod:`helpers.bench.server`), the clients in another
(:mod:`helpers.bench.client`); this process only starts them, reads their reports and, for the
bytes on the wire, puts a :mod:`helpers.tap` in front of each server. The cases:

- ``tcp``: the floor, a raw TCP echo with asyncio streams (no framing at all);
- ``websockets`` and ``websockets-deflate``: a ``websockets`` echo, permessage-deflate off/on;
- ``socketio-ws`` and ``socketio-polling``: ``call("echo", "hello")`` on python-socketio over
  WebSocket, and over HTTP long-polling only;
- ``http-request``: plain HTTP request/response with aiohttp (``POST /echo``; its "push" is
  one ``GET /poll`` per message, a request rate, since nothing waits on the server).

The figures: round-trip time (median and p99), one-way push throughput, bytes on the wire per
echo and for the opening (checked against the protocol arithmetic), the delay of a message the
*server* starts (:data:`DELAY_CASES`: how long news waits before the client has it, where a
polling loop asks every :data:`FULL` ``interval`` seconds), and fan-out: one broadcast to N
clients, time until the last one has it (median and worst round).

Every timed figure is measured in ``repeats`` rounds (each case after the other within a
round) and reported as the median of the rounds' values with their min-max (``..._range``),
both as a time or rate and as a ratio to the floor measured in the same round. Ratios move
less than times from run to run, but they move: with the CPU, the load, Python and the
libraries' versions. The spread says by how much, here.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .. import tap as taps
from ..tap import TO_CLIENT, TO_SERVER, start_tap
from .arithmetic import expected_bytes
from .report import facts, layers, table, when_to_use

__all__ = [
    "CASES",
    "DELAY_CASES",
    "FANOUT_CASES",
    "FULL",
    "QUICK",
    "BenchError",
    "facts",
    "is_quick",
    "layers",
    "run",
    "table",
    "when_to_use",
]

CASES = {
    "tcp": "raw TCP (floor)",
    "websockets": "websockets",
    "websockets-deflate": "websockets + deflate",
    "socketio-ws": "Socket.IO, WebSocket",
    "socketio-polling": "Socket.IO, long-polling",
    "http-request": "plain HTTP request",
}
"""Every case, with the label tables and plots use."""

DELAY_CASES = {
    "websockets": "websockets",
    "socketio-ws": "Socket.IO, WebSocket",
    "socketio-polling": "Socket.IO, long-polling",
    "http-poll-loop": "HTTP polling loop",
}
"""The cases of the server-initiated delay: the server has news at a random moment; how long
until the client has it. ``http-poll-loop`` asks ``GET /news`` every ``interval`` seconds."""

FANOUT_CASES = ("tcp", "websockets", "socketio-ws")
SERVER_PORT = {
    "tcp": "tcp",
    "websockets": "ws",
    "websockets-deflate": "ws",
    "socketio-ws": "http",
    "socketio-polling": "http",
    "http-request": "http",
}
FULL = {"count": 2000, "warmup": 200, "push": 5000, "burst": 100, "sizes": [10, 100, 1000],
        "rounds": 20, "notify": 40, "interval": 0.1, "repeats": 3}  # fmt: skip
"""The real counts: round trips after the warm-up, messages pushed, fan-out sizes and rounds,
server-initiated messages and the polling loop's interval (s), and how many times each timed
figure is measured (``repeats``)."""
QUICK = {"count": 100, "warmup": 20, "push": 200, "burst": 100, "sizes": [5, 10, 20],
         "rounds": 3, "notify": 8, "interval": 0.1, "repeats": 2}  # fmt: skip
"""Small counts for tests (``SOCKETS_QUICK=1`` in the environment, or ``quick=True``)."""

ROOT = Path(__file__).resolve().parent.parent.parent


def is_quick() -> bool:
    """Whether ``SOCKETS_QUICK`` asks for quick runs (the test suite sets it)."""
    return os.environ.get("SOCKETS_QUICK", "") not in ("", "0")


def run(quick: bool | None = None, *, progress: bool = True) -> dict[str, Any]:
    """Run every case and return the figures (a dict; ``json.dumps`` it to keep it).

    ``quick`` uses :data:`QUICK` counts (default: :func:`is_quick`). ``progress`` shows a
    tqdm bar (a widget in Jupyter). Raw samples are under ``"samples"``.
    """
    quick = is_quick() if quick is None else quick
    plan = dict(QUICK if quick else FULL)
    load_before = os.getloadavg()[0]
    began = time.monotonic()
    with _processes() as (server_ports, start_client):
        each_round = len(CASES) * 2 + len(DELAY_CASES) + len(FANOUT_CASES) * len(plan["sizes"])
        bar = _progress_bar(len(CASES) + 1 + plan["repeats"] * each_round, progress)
        tapped = {case: start_tap(server_ports[SERVER_PORT[case]], name=f"bench-{case}")
                  for case in CASES}  # fmt: skip
        try:
            plan.update(ports=server_ports, taps={c: t.port for c, t in tapped.items()})
            client = start_client(plan)
            raw, on_wire = _read_client(client, tapped, bar)
        finally:
            bar.close()
            for each in tapped.values():
                each.stop()
    results = _figures(raw, on_wire)
    results["settings"] = {**{k: plan[k] for k in FULL}, "quick": quick}
    results["machine"] = {
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
        "seconds": round(time.monotonic() - began, 1),
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
    }
    return results


def _progress_bar(total: int, show: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="measuring", unit="step", disable=not show)


def _python(module: str, *args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT),
           os.environ.get("PYTHONPATH")]))}  # fmt: skip
    return subprocess.Popen(
        [sys.executable, "-m", module, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )


class BenchError(RuntimeError):
    """The server or the client process failed; the message ends with what it said."""


def _end(process: subprocess.Popen, timeout: float = 10) -> str:
    """Close its stdin, wait for it (kill it if it hangs) and return its stderr."""
    try:
        _, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        _, err = process.communicate()
    return err


@contextmanager
def _processes() -> Iterator[tuple[dict[str, int], Any]]:
    """Start the server process; yield its ports and a way to start clients; end them all."""
    server = _python("helpers.bench.server")
    clients: list[subprocess.Popen] = []
    try:
        line = server.stdout.readline() if server.stdout else ""
        if not line:
            raise BenchError(f"the benchmark server did not start: {_end(server)[-2000:]}")

        def start_client(plan: dict[str, Any]) -> subprocess.Popen:
            clients.append(_python("helpers.bench.client", json.dumps(plan)))
            return clients[-1]

        yield json.loads(line), start_client
    finally:
        for client in clients:
            if client.poll() is None:
                client.kill()
            _end(client)
        problem = _end(server)
        if server.returncode not in (0, None) and problem:
            raise BenchError(f"the benchmark server failed: {problem[-2000:]}")


def _quiet(tap: taps.Tap, wait: float = 0.1, timeout: float = 3.0) -> list[taps.Chunk]:
    """The tap's chunks, once nothing has passed for ``wait`` seconds."""
    deadline = time.monotonic() + timeout
    seen = -1
    while time.monotonic() < deadline and seen != len(tap.chunks):
        seen = len(tap.chunks)
        time.sleep(wait)
    return tap.chunks


def _read_client(
    client: subprocess.Popen, tapped: dict[str, taps.Tap], bar: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Follow the client's reports: advance the bar, read the taps at its pauses."""
    assert client.stdout and client.stdin
    on_wire: dict[str, Any] = {}
    for line in client.stdout:
        report = json.loads(line)
        if "step" in report:
            bar.update(1)
        elif "pause" in report:
            case, phase = report["pause"]
            chunks = _quiet(tapped[case])
            on_wire.setdefault(case, {})[phase] = _streams(chunks)
            tapped[case].clear()
            client.stdin.write("go\n")
            client.stdin.flush()
        elif "result" in report:
            return report["result"], on_wire
    problem = client.stderr.read() if client.stderr else ""
    raise BenchError(f"the benchmark client failed: {problem[-3000:]}")


def _streams(chunks: list[taps.Chunk]) -> dict[str, bytes]:
    """Everything that passed, as one byte string per direction."""
    return {
        way: b"".join(c.data for c in chunks if c.direction == way)
        for way in (TO_SERVER, TO_CLIENT)
    }


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _spread(values: list[float]) -> tuple[float, list[float]]:
    """The median of the rounds' values, and their min-max."""
    return statistics.median(values), [min(values), max(values)]


def _figure(name: str, values: list[float], floors: list[float] | None = None,
            ratio: str = "ratio") -> dict[str, Any]:  # fmt: skip
    """``name`` and ``name_range`` from each round's value; with ``floors`` (the floor's value
    in each round), ``ratio`` and ``ratio_range`` too, each round's value over its own floor."""
    figure: dict[str, Any] = {}
    figure[name], figure[f"{name}_range"] = _spread(values)
    if floors is not None:
        ratios = [value / floor for value, floor in zip(values, floors, strict=True)]
        figure[ratio], figure[f"{ratio}_range"] = _spread(ratios)
    return figure


def _medians(rounds: list[list[float]], scale: float) -> list[float]:
    return [statistics.median(samples) * scale for samples in rounds]


def _figures(raw: dict[str, Any], on_wire: dict[str, Any]) -> dict[str, Any]:
    """Turn the client's samples (one list per round) and the taps' bytes into figures, each
    with its min-max over the rounds, and ratios to the floor of the same round."""
    floor = raw["rtt"]["tcp"]
    rtt = {}
    for case, rounds in raw["rtt"].items():
        rtt[case] = {
            **_figure("median_us", _medians(rounds, 1e6), _medians(floor, 1e6)),
            **_figure("p99_us", [_percentile(r, 0.99) * 1e6 for r in rounds],
                      [_percentile(r, 0.99) * 1e6 for r in floor], ratio="p99_ratio"),
        }  # fmt: skip
    push = {
        case: _figure("per_s", rates, raw["push"]["tcp"]) for case, rates in raw["push"].items()
    }
    delay = {
        case: {
            **_figure("median_ms", _medians(rounds, 1e3)),
            "worst_ms": max(max(r) for r in rounds) * 1e3,
        }
        for case, rounds in raw["delay"].items()
    }
    fanout: dict[str, dict[str, Any]] = {}
    for case, sizes in raw["fanout"].items():
        fanout[case] = {
            size: {
                **_figure(
                    "median_ms", _medians(rounds, 1e3), _medians(raw["fanout"]["tcp"][size], 1e3)
                ),
                "worst_ms": max(max(r) for r in rounds) * 1e3,
            }
            for size, rounds in sizes.items()
        }
    wire_bytes = {case: expected_bytes(case, on_wire[case]) for case in CASES}
    floor_bytes = wire_bytes["tcp"]["up"] + wire_bytes["tcp"]["down"]
    for figure in wire_bytes.values():
        figure["ratio"] = (figure["up"] + figure["down"]) / floor_bytes
    return {
        "rtt": rtt,
        "push": push,
        "delay": delay,
        "bytes": wire_bytes,
        "fanout": fanout,
        "polling_limit": raw["polling_limit"],
        "samples": {"rtt": raw["rtt"], "fanout": raw["fanout"], "delay": raw["delay"]},
    }
