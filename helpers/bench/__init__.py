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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from .. import tap as taps
from .._util import ROOT
from ..tap import TO_CLIENT, TO_SERVER, start_tap
from .arithmetic import expected_bytes
from .figures import (
    CASES,
    DELAY_CASES,
    FANOUT_CASES,
    SERVER_PORT,
    ByteCount,
    ClientPlan,
    Delay,
    FanOut,
    Figures,
    Plan,
    Push,
    Raw,
    Results,
    Rounds,
    RoundTrip,
)
from .report import facts, layers, table, when_to_use

__all__ = [
    "CASES",
    "DELAY_CASES",
    "FANOUT_CASES",
    "FULL",
    "QUICK",
    "BenchError",
    "Results",
    "facts",
    "is_quick",
    "layers",
    "run",
    "table",
    "when_to_use",
]

FULL: Plan = {"count": 2000, "warmup": 200, "push": 5000, "burst": 100, "sizes": [10, 100, 1000],
              "rounds": 20, "notify": 40, "interval": 0.1, "repeats": 3}  # fmt: skip
"""The real counts: round trips after the warm-up, messages pushed, fan-out sizes and rounds,
server-initiated messages and the polling loop's interval (s), and how many times each timed
figure is measured (``repeats``)."""
QUICK: Plan = {"count": 100, "warmup": 20, "push": 200, "burst": 100, "sizes": [5, 10, 20],
               "rounds": 3, "notify": 8, "interval": 0.1, "repeats": 2}  # fmt: skip
"""Small counts for tests (``SOCKETS_QUICK=1`` in the environment, or ``quick=True``)."""


def is_quick() -> bool:
    """Whether ``SOCKETS_QUICK`` asks for quick runs (the test suite sets it)."""
    return os.environ.get("SOCKETS_QUICK", "") not in ("", "0")


def run(quick: bool | None = None, *, progress: bool = True) -> Results:
    """Run every case and return the figures (a dict; ``json.dumps`` it to keep it).

    ``quick`` uses :data:`QUICK` counts (default: :func:`is_quick`). ``progress`` shows a
    tqdm bar (a widget in Jupyter). Raw samples are under ``"samples"``. The keys and their
    types: :class:`helpers.bench.figures.Results`.
    """
    quick = is_quick() if quick is None else quick
    counts = QUICK if quick else FULL
    load_before = os.getloadavg()[0]
    began = time.monotonic()
    with _processes() as (server_ports, start_client):
        each_round = len(CASES) * 2 + len(DELAY_CASES) + len(FANOUT_CASES) * len(counts["sizes"])
        bar = _progress_bar(len(CASES) + 1 + counts["repeats"] * each_round, progress)
        tapped = {case: start_tap(server_ports[SERVER_PORT[case]], name=f"bench-{case}")
                  for case in CASES}  # fmt: skip
        try:
            taps_ports = {case: each.port for case, each in tapped.items()}
            client = start_client({**counts, "ports": server_ports, "taps": taps_ports})
            raw, on_wire = _read_client(client, tapped, bar)
        finally:
            bar.close()
            for each in tapped.values():
                each.stop()
    return {
        **_figures(raw, on_wire),
        "settings": {**counts, "quick": quick},
        "machine": {
            "load_before": round(load_before, 2),
            "load_after": round(os.getloadavg()[0], 2),
            "seconds": round(time.monotonic() - began, 1),
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
        },
    }


def _progress_bar(total: int, show: bool) -> Any:
    from tqdm.auto import tqdm  # imported when measuring: it pulls in ipywidgets in Jupyter

    return tqdm(total=total, desc="measuring", unit="step", disable=not show)


def _python(module: str, *args: str) -> subprocess.Popen[str]:
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


def _end(process: subprocess.Popen[str], timeout: float = 10) -> str:
    """Close its stdin, wait for it (kill it if it hangs) and return its stderr."""
    try:
        _, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        _, err = process.communicate()
    return err


StartClient = Callable[[ClientPlan], subprocess.Popen[str]]
"""Starts the client process with a plan: what :func:`_processes` yields."""


@contextmanager
def _processes() -> Iterator[tuple[dict[str, int], StartClient]]:
    """Start the server process; yield its ports and a way to start clients; end them all."""
    server = _python("helpers.bench.server")
    clients: list[subprocess.Popen[str]] = []
    try:
        line = server.stdout.readline() if server.stdout else ""
        if not line:
            raise BenchError(f"the benchmark server did not start: {_end(server)[-2000:]}")

        def start_client(plan: ClientPlan) -> subprocess.Popen[str]:
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
    """The tap's chunks, once nothing has passed for ``wait`` seconds.

    Not :func:`helpers.check.wait_until`: that waits for a condition to hold, this for a
    count to stop changing over a whole ``wait``."""
    deadline = time.monotonic() + timeout
    seen = -1
    while time.monotonic() < deadline and seen != len(tap.chunks):
        seen = len(tap.chunks)
        time.sleep(wait)
    return tap.chunks


Streams = dict[str, bytes]
"""Everything that passed a tap, one byte string per direction (``TO_SERVER``, ``TO_CLIENT``)."""


def _read_client(
    client: subprocess.Popen[str], tapped: dict[str, taps.Tap], bar: Any
) -> tuple[Raw, dict[str, dict[str, Streams]]]:
    """Follow the client's reports: advance the bar, read the taps at its pauses. Return the
    client's samples and, for each case, what its tap saw at each pause (by phase)."""
    assert client.stdout and client.stdin
    on_wire: dict[str, dict[str, Streams]] = {}
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
            raw: Raw = report["result"]
            return raw, on_wire
    problem = client.stderr.read() if client.stderr else ""
    raise BenchError(f"the benchmark client failed: {problem[-3000:]}")


def _streams(chunks: list[taps.Chunk]) -> Streams:
    """Everything that passed, as one byte string per direction."""
    return {
        way: b"".join(c.data for c in chunks if c.direction == way)
        for way in (TO_SERVER, TO_CLIENT)
    }


def _percentile(samples: list[float], fraction: float) -> float:
    """The sample below which ``fraction`` of them lie: always a time that was measured.
    (``statistics.quantiles`` would interpolate between two samples instead.)"""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _spread(values: list[float]) -> tuple[float, list[float]]:
    """The median of the rounds' values, and their min-max."""
    return statistics.median(values), [min(values), max(values)]


def _against(
    values: list[float], floors: list[float]
) -> tuple[float, list[float], float, list[float]]:
    """The :func:`_spread` of the rounds' values, then that of their ratios: each round's value
    over the floor's value in the same round."""
    ratios = [value / floor for value, floor in zip(values, floors, strict=True)]
    return (*_spread(values), *_spread(ratios))


def _medians(rounds: Rounds, scale: float) -> list[float]:
    """Each round's median sample, times ``scale`` (1e6: in µs, 1e3: in ms)."""
    return [statistics.median(samples) * scale for samples in rounds]


def _p99s_us(rounds: Rounds) -> list[float]:
    """Each round's 99th percentile, in µs."""
    return [_percentile(samples, 0.99) * 1e6 for samples in rounds]


def _worst_ms(rounds: Rounds) -> float:
    """The longest sample of all the rounds, in ms."""
    return max(max(samples) for samples in rounds) * 1e3


def _round_trip(rounds: Rounds, floor: Rounds) -> RoundTrip:
    median, median_range, ratio, ratio_range = _against(_medians(rounds, 1e6), _medians(floor, 1e6))
    p99, p99_range, p99_ratio, p99_ratio_range = _against(_p99s_us(rounds), _p99s_us(floor))
    return {
        "median_us": median,
        "median_us_range": median_range,
        "ratio": ratio,
        "ratio_range": ratio_range,
        "p99_us": p99,
        "p99_us_range": p99_range,
        "p99_ratio": p99_ratio,
        "p99_ratio_range": p99_ratio_range,
    }


def _push(rates: list[float], floor: list[float]) -> Push:
    per_s, per_s_range, ratio, ratio_range = _against(rates, floor)
    return {"per_s": per_s, "per_s_range": per_s_range, "ratio": ratio, "ratio_range": ratio_range}


def _delay(rounds: Rounds) -> Delay:
    median, median_range = _spread(_medians(rounds, 1e3))
    return {"median_ms": median, "median_ms_range": median_range, "worst_ms": _worst_ms(rounds)}


def _fanout(rounds: Rounds, floor: Rounds) -> FanOut:
    median, median_range, ratio, ratio_range = _against(_medians(rounds, 1e3), _medians(floor, 1e3))
    return {
        "median_ms": median,
        "median_ms_range": median_range,
        "ratio": ratio,
        "ratio_range": ratio_range,
        "worst_ms": _worst_ms(rounds),
    }


def _figures(raw: Raw, on_wire: dict[str, dict[str, Streams]]) -> Figures:
    """Turn the client's samples (one list per round) and the taps' bytes into figures, each
    with its min-max over the rounds, and ratios to the floor of the same round."""
    counted = {case: expected_bytes(case, on_wire[case]) for case in CASES}
    floor_bytes = counted["tcp"]["up"] + counted["tcp"]["down"]
    wire_bytes: dict[str, ByteCount] = {
        case: {**each, "ratio": (each["up"] + each["down"]) / floor_bytes}
        for case, each in counted.items()
    }
    fanout_floor = raw["fanout"]["tcp"]
    return {
        "rtt": {
            case: _round_trip(rounds, raw["rtt"]["tcp"]) for case, rounds in raw["rtt"].items()
        },
        "push": {case: _push(rates, raw["push"]["tcp"]) for case, rates in raw["push"].items()},
        "delay": {case: _delay(rounds) for case, rounds in raw["delay"].items()},
        "bytes": wire_bytes,
        "fanout": {
            case: {size: _fanout(rounds, fanout_floor[size]) for size, rounds in sizes.items()}
            for case, sizes in raw["fanout"].items()
        },
        "polling_limit": raw["polling_limit"],
        "samples": {"rtt": raw["rtt"], "fanout": raw["fanout"], "delay": raw["delay"]},
    }
