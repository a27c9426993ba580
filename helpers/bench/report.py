"""Read the figures of :func:`helpers.bench.run`: a table, checked facts, when to use which."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..tap import TO_CLIENT, TO_SERVER
from .figures import CASES, DELAY_CASES, Delay, FanOut, Push, Results, RoundTrip

__all__ = ["facts", "table", "when_to_use"]


def number(value: float) -> str:
    """A measured figure with about three significant digits (thousands with commas)."""
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}" if value >= 1 else f"{value:.2g}"


def spread(value: float, bounds: list[float], unit: str = "") -> str:
    """``value unit [min–max]``: a figure and its min-max over the rounds."""
    low, high = (number(b) for b in bounds)
    return f"{number(value)}{unit} [{low}–{high}]"


def ms(figure: Delay) -> str:
    """A time in milliseconds with its min-max: ``median_ms [min–max] ms``."""
    return spread(figure["median_ms"], figure["median_ms_range"], " ms")


def ratio(figure: RoundTrip | Push | FanOut) -> str:
    """A figure's ratio to the floor, with its min-max: ``1.74× [1.65–2.98]``."""
    return spread(figure["ratio"], figure["ratio_range"], "×")


def table(results: Results) -> str:
    """The figures as a text table: each the median of the rounds, [min–max] over them, and
    its ratio to the floor of the same round (×)."""
    rows: list[tuple[str, ...]] = [
        ("case", "round trip median", "p99", "push msg/s", "bytes up/down", "opening")
    ]
    for case, rtt in results["rtt"].items():
        push, size = results["push"][case], results["bytes"][case]
        rows.append((
            CASES[case],
            f"{spread(rtt['median_us'], rtt['median_us_range'], ' µs')} {ratio(rtt)}",
            f"{spread(rtt['p99_us'], rtt['p99_us_range'], ' µs')} "
            f"{spread(rtt['p99_ratio'], rtt['p99_ratio_range'], '×')}",
            f"{spread(push['per_s'], push['per_s_range'])} {ratio(push)}",
            f"{size['up']:3d} / {size['down']:3d} {size['ratio']:5.1f}×",
            f"{size['handshake_up']:3d} / {size['handshake_down']:3d}",
        ))  # fmt: skip
    lines = _columns(rows)
    lines.append("")
    sizes = list(next(iter(results["fanout"].values())))
    rows = [("fan-out: last client has it", *(f"N = {n}" for n in sizes))]
    for case, by_size in results["fanout"].items():
        rows.append((CASES[case], *(
            f"{ms(f)} {ratio(f)}"
            f" (worst {number(f['worst_ms'])})"
            for f in by_size.values()
        )))  # fmt: skip
    lines += _columns(rows)
    lines.append("")
    rows = [("server-initiated message", "delay until the client has it", "worst")]
    for case, figure in results["delay"].items():
        rows.append((_delay_label(case, results),
                     ms(figure),
                     f"{number(figure['worst_ms'])} ms"))  # fmt: skip
    lines += _columns(rows)
    limit = results["polling_limit"]
    lines.append("")
    lines.append(
        f"long-polling burst of {limit['burst']} with max_decode_packets={limit['limit']}: "
        f"received {limit['received']}, aborted: {limit['aborted']} {limit['logged']}"
    )
    machine, settings = results["machine"], results["settings"]
    lines.append(
        f"{settings['repeats']} rounds of {settings['count']} round trips per case; load average "
        f"{machine['load_before']} before, {machine['load_after']} after; "
        f"{machine['seconds']} s"
    )
    return "\n".join(lines)


def _delay_label(case: str, results: Results) -> str:
    if case == "http-poll-loop":
        return f"{DELAY_CASES[case]}, every {results['settings']['interval'] * 1000:.0f} ms"
    return DELAY_CASES[case]


def _columns(rows: Sequence[tuple[str, ...]]) -> list[str]:
    """The rows as lines, each column as wide as its widest cell."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


def facts(results: Results) -> dict[str, bool]:
    """Statements about the figures that held in every run so far (the lesson prints these)."""
    rtt = {case: figure["median_us"] for case, figure in results["rtt"].items()}
    size = {case: f["up"] + f["down"] for case, f in results["bytes"].items()}
    delay = {case: figure["median_ms"] for case, figure in results["delay"].items()}
    return {
        "long-polling round trip is slower than WebSocket": (
            rtt["socketio-polling"] > rtt["socketio-ws"]
        ),
        "a Socket.IO call over WebSocket is slower than a websockets echo": (
            rtt["socketio-ws"] > rtt["websockets"]
        ),
        "a plain HTTP request is faster than a Socket.IO call over WebSocket": (
            rtt["http-request"] < rtt["socketio-ws"]
        ),
        "... though it puts more bytes on the wire": size["http-request"] > size["socketio-ws"],
        "a Socket.IO event costs more bytes than a bare frame": (
            size["socketio-ws"] > size["websockets"]
        ),
        "every byte count matches the protocol arithmetic": all(
            f["matches"] for f in results["bytes"].values()
        ),
        "long-polling delivers server news sooner than the polling loop": (
            delay["socketio-polling"] < delay["http-poll-loop"]
        ),
        "the default long-polling limit aborts a burst": results["polling_limit"]["aborted"],
    }


FEATURES = ("socketio-ws", "socketio-polling")
"""The cases with events, acknowledgements, rooms and reconnection built in."""
HTTP_ONLY = ("socketio-polling", "http-poll-loop")
"""The cases of the server-initiated delay that need nothing but plain HTTP requests."""


Measured = tuple[float, list[float]]
"""A figure's median over the rounds, and its min-max."""


def pick(values: dict[str, Measured], *, lower: bool = True) -> list[str]:
    """The best case by its median, and every case whose min-max overlaps the best one's: a
    difference smaller than the run-to-run spread is a tie, not a win."""
    best = (min if lower else max)(values, key=lambda case: values[case][0])
    low, high = values[best][1]
    return [case for case, (_, (a, b)) in values.items() if a <= high and b >= low]


def _use(cases: list[str]) -> str:
    names = [CASES.get(case) or DELAY_CASES[case] for case in cases]
    return names[0] if len(names) == 1 else "tie: " + ", ".join(names)


def when_to_use(results: Results) -> str:
    """When to use which: for each need, the case that measured best here, or the cases tied
    within their min-max over the rounds, and what was measured (median [min-max of the
    rounds]), two lines a need. Every line is computed from the run."""
    rtt, push, size = results["rtt"], results["push"], results["bytes"]
    fanout, delay = results["fanout"], results["delay"]
    largest = list(fanout["tcp"])[-1]
    others = [case for case in rtt if case != "tcp"]
    pushing = [case for case in others if case != "http-request"]  # a request rate, not push
    spreading = [case for case in fanout if case != "tcp"]

    def best(
        measured: Callable[[str], Measured], cases: Sequence[str], lower: bool = True
    ) -> list[str]:
        return pick({case: measured(case) for case in cases}, lower=lower)

    def round_trip(case: str) -> Measured:
        return rtt[case]["median_us"], rtt[case]["median_us_range"]

    def rate(case: str) -> Measured:
        return push[case]["per_s"], push[case]["per_s_range"]

    def exact(case: str) -> Measured:
        total = size[case]["up"] + size[case]["down"]
        return total, [total, total]

    def broadcast(case: str) -> Measured:
        return fanout[case][largest]["median_ms"], fanout[case][largest]["median_ms_range"]

    def news(case: str) -> Measured:
        return delay[case]["median_ms"], delay[case]["median_ms_range"]

    def us(case: str) -> str:
        return spread(*round_trip(case), " µs")

    def features(case: str) -> str:
        times = rtt[case]["median_us"] / rtt["websockets"]["median_us"]
        return f"{us(case)}, {number(times)}× websockets' round trip"

    interval = results["settings"]["interval"] * 1000
    needs: list[tuple[str, list[str], Callable[[str], str]]] = [
        ("lowest latency", best(round_trip, others),
         lambda c: f"{us(c)}, {ratio(rtt[c])} the floor's"),
        ("most messages pushed per second", best(rate, pushing, lower=False),
         lambda c: f"{spread(*rate(c))} msg/s, {ratio(push[c])} the floor's"),
        ("fewest bytes per message", best(exact, others),
         lambda c: f"{size[c]['up']} / {size[c]['down']} bytes per echo"),
        ("a broadcast to the most clients measured", best(broadcast, spreading),
         lambda c: f"{ms(fanout[c][largest])}, {ratio(fanout[c][largest])} raw TCP's"),
        ("events, acks, rooms, reconnection built in", best(round_trip, FEATURES), features),
        ("only plain HTTP gets through: server news", best(news, HTTP_ONLY),
         lambda c: f"after {ms(delay[c])} (a loop every {interval:.0f} ms: "
                   f"{ms(delay['http-poll-loop'])})"),
    ]  # fmt: skip
    lines = []
    for need, cases, measured in needs:
        lines += [f"{need}: use {_use(cases)}", f"    {measured(cases[0])}"]
    return "\n".join(lines)


def layers(results: Results, case: str) -> dict[str, int]:
    """Bytes per echo of ``case`` by layer, both directions added up."""
    both = results["bytes"][case]["layers"]
    return {layer: both[TO_SERVER][layer] + both[TO_CLIENT][layer] for layer in both[TO_SERVER]}
