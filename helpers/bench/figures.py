"""What a benchmark run measures: the cases, the counts, and the shape of the figures.

:func:`helpers.bench.run` returns a :class:`Results`, a plain dict (``json.dumps`` keeps it)
whose keys and value types are written down here, so that the lesson, the report and the
tests address the same keys: ``results["rtt"]["websockets"]["median_us"]`` is a
:class:`RoundTrip` figure's median in microseconds.

Every timed figure is the median of its rounds' values with their min-max (the ``..._range``
keys, ``[min, max]``), and, next to it, its ratio to the raw TCP floor of the same round.
"""

from __future__ import annotations

from typing import TypedDict

__all__ = [
    "CASES",
    "DELAY_CASES",
    "FANOUT_CASES",
    "SERVER_PORT",
    "ByteCount",
    "ClientPlan",
    "Counted",
    "Delay",
    "FanOut",
    "Figures",
    "Layers",
    "Machine",
    "Plan",
    "PollingLimit",
    "Push",
    "Raw",
    "Results",
    "RoundTrip",
    "Rounds",
    "Samples",
    "Settings",
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
"""The cases of the fan-out: one broadcast to N clients."""

SERVER_PORT = {
    "tcp": "tcp",
    "websockets": "ws",
    "websockets-deflate": "ws",
    "socketio-ws": "http",
    "socketio-polling": "http",
    "http-request": "http",
}
"""Which of the server process's ports (:mod:`helpers.bench.server`) each case talks to."""


class Plan(TypedDict):
    """The counts of a run (:data:`helpers.bench.FULL` or :data:`helpers.bench.QUICK`)."""

    count: int  # timed round trips per case and round, after
    warmup: int  # untimed ones
    push: int  # messages the server pushes in one burst
    burst: int  # messages of the long-polling burst that shows the packet limit
    sizes: list[int]  # fan-out sizes: how many clients one broadcast goes to
    rounds: int  # broadcasts per fan-out size
    notify: int  # server-initiated messages per delay case
    interval: float  # seconds the polling loop waits between two requests
    repeats: int  # rounds of every timed figure


class ClientPlan(Plan):
    """What the client process gets: the counts, and where the servers and the taps listen."""

    ports: dict[str, int]  # the server process's ports, by the names of SERVER_PORT
    taps: dict[str, int]  # each case's tap, in front of its server


class Settings(Plan):
    """The counts a run used, and whether they were the quick ones."""

    quick: bool


class Machine(TypedDict):
    """Where and how long the run measured: load averages, seconds, CPUs, Python's version."""

    load_before: float
    load_after: float
    seconds: float
    cpus: int | None
    python: str


class RoundTrip(TypedDict):
    """A case's round-trip time in microseconds: median and 99th percentile, each with its
    ratio to the floor's."""

    median_us: float
    median_us_range: list[float]
    ratio: float
    ratio_range: list[float]
    p99_us: float
    p99_us_range: list[float]
    p99_ratio: float
    p99_ratio_range: list[float]


class Push(TypedDict):
    """Messages per second the server pushes to one client, and the ratio to the floor's."""

    per_s: float
    per_s_range: list[float]
    ratio: float
    ratio_range: list[float]


class Delay(TypedDict):
    """Milliseconds from the server having news until the client has it."""

    median_ms: float
    median_ms_range: list[float]
    worst_ms: float


class FanOut(Delay):
    """Milliseconds from one broadcast until the last of N clients has it, and the ratio to
    raw TCP's for the same N."""

    ratio: float
    ratio_range: list[float]


Layers = dict[str, dict[str, int]]
"""Bytes by layer (``"message"``, ``"Socket.IO + Engine.IO"``, ``"WebSocket frame"``,
``"HTTP"``) for each direction (:data:`helpers.tap.TO_SERVER`, :data:`helpers.tap.TO_CLIENT`)."""


class Counted(TypedDict):
    """Bytes on the wire for one echo of "hello" (``up``, ``down``) and for the opening
    (``handshake_...``), by layer, and whether the protocol arithmetic adds up to exactly what
    the tap counted (``matches``): :func:`helpers.bench.arithmetic.expected_bytes`."""

    up: int
    down: int
    handshake_up: int
    handshake_down: int
    layers: Layers
    matches: bool


class ByteCount(Counted):
    """A case's :class:`Counted` bytes, and its echo's total over the floor's (``ratio``)."""

    ratio: float


class PollingLimit(TypedDict):
    """A long-polling burst of ``burst`` messages under engineio's default packet limit."""

    limit: int
    burst: int
    received: int
    aborted: bool
    logged: list[str]


Rounds = list[list[float]]
"""One list of samples (seconds) per round."""


class Samples(TypedDict):
    """The raw samples behind the timed figures, in seconds, one list per round."""

    rtt: dict[str, Rounds]
    fanout: dict[str, dict[str, Rounds]]  # by case, then by fan-out size (a str, as in JSON)
    delay: dict[str, Rounds]


class Raw(Samples):
    """What the client process reports: the samples, each round's push rate, and the burst."""

    push: dict[str, list[float]]
    polling_limit: PollingLimit


class Figures(TypedDict):
    """The figures, computed from the samples and the taps' bytes."""

    rtt: dict[str, RoundTrip]
    push: dict[str, Push]
    delay: dict[str, Delay]
    bytes: dict[str, ByteCount]
    fanout: dict[str, dict[str, FanOut]]  # by case, then by fan-out size (a str, as in JSON)
    polling_limit: PollingLimit
    samples: Samples


class Results(Figures):
    """Everything :func:`helpers.bench.run` returns: the figures, the settings, the machine."""

    settings: Settings
    machine: Machine
