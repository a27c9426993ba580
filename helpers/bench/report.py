"""Read the figures of :func:`helpers.bench.run`: a table, checked facts, when to use which."""

from __future__ import annotations

from typing import Any

from ..tap import TO_CLIENT, TO_SERVER

__all__ = ["facts", "table", "when_to_use"]


def _label(case: str) -> str:
    from . import CASES

    return CASES[case]


def table(results: dict[str, Any]) -> str:
    """The figures as a text table, with each one's ratio to the floor (×)."""
    rows = [("case", "round trip median", "p99", "push msg/s", "bytes up/down", "opening")]
    for case, rtt in results["rtt"].items():
        push, size = results["push"][case], results["bytes"][case]
        rows.append((
            _label(case),
            f"{rtt['median_us']:7.0f} µs {rtt['ratio']:5.2f}×",
            f"{rtt['p99_us']:7.0f} µs {rtt['p99_ratio']:5.2f}×",
            f"{push['per_s']:9.0f} {push['ratio']:5.3f}×",
            f"{size['up']:3d} / {size['down']:3d} {size['ratio']:5.1f}×",
            f"{size['handshake_up']:3d} / {size['handshake_down']:3d}",
        ))  # fmt: skip
    lines = _columns(rows)
    lines.append("")
    sizes = list(next(iter(results["fanout"].values())))
    rows = [("fan-out: last client has it", *(f"N = {n}" for n in sizes))]
    for case, by_size in results["fanout"].items():
        rows.append((_label(case), *(
            f"{f['median_ms']:6.2f} ms {f['ratio']:4.1f}× (worst {f['worst_ms']:.1f})"
            for f in by_size.values()
        )))  # fmt: skip
    lines += _columns(rows)
    limit = results["polling_limit"]
    lines.append("")
    lines.append(
        f"long-polling burst of {limit['burst']} with max_decode_packets={limit['limit']}: "
        f"received {limit['received']}, aborted: {limit['aborted']} {limit['logged']}"
    )
    machine = results["machine"]
    lines.append(
        f"{results['settings']['count']} round trips per case; load average "
        f"{machine['load_before']} before, {machine['load_after']} after; "
        f"{machine['seconds']} s"
    )
    return "\n".join(lines)


def _columns(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


def facts(results: dict[str, Any]) -> dict[str, bool]:
    """Statements about the figures that hold run after run (the lesson prints these)."""
    rtt = {case: figure["median_us"] for case, figure in results["rtt"].items()}
    size = {case: f["up"] + f["down"] for case, f in results["bytes"].items()}
    return {
        "long-polling round trip is slower than WebSocket": (
            rtt["socketio-polling"] > rtt["socketio-ws"]
        ),
        "a Socket.IO call over WebSocket is slower than a websockets echo": (
            rtt["socketio-ws"] > rtt["websockets"]
        ),
        "a Socket.IO event costs more bytes than a bare frame": (
            size["socketio-ws"] > size["websockets"]
        ),
        "every byte count matches the protocol arithmetic": all(
            f["matches"] for f in results["bytes"].values()
        ),
        "the default long-polling limit aborts a burst": results["polling_limit"]["aborted"],
    }


def when_to_use(results: dict[str, Any]) -> str:
    """A "when to use which" table: for each need, the technology that measured best here.

    The candidates are ``websockets``, Socket.IO over WebSocket and over long-polling, and
    plain HTTP polling; every figure is a ratio, so the table reads the same on any machine.
    """
    rtt, push, size, fanout = results["rtt"], results["push"], results["bytes"], results["fanout"]
    largest = list(fanout["tcp"])[-1]
    candidates = ["websockets", "socketio-ws", "socketio-polling", "http-polling"]

    def best(figure: dict[str, Any], key: str, cases: list[str] = candidates) -> str:
        return min(cases, key=lambda case: figure[case][key])

    fastest_push = max(candidates, key=lambda case: push[case]["per_s"])
    needs = [
        ("lowest latency", best(rtt, "median_us"),
         lambda c: f"{rtt[c]['ratio']:.2f}× the floor's round trip"),
        ("most messages pushed per second", fastest_push,
         lambda c: f"{push[c]['ratio']:.2f}× the floor's rate"),
        ("fewest bytes per message", min(candidates, key=lambda c: size[c]["ratio"]),
         lambda c: f"{size[c]['up']} / {size[c]['down']} bytes per echo"),
        ("a broadcast to the most clients measured",
         min([c for c in fanout if c != "tcp"], key=lambda c: fanout[c][largest]["median_ms"]),
         lambda c: f"{fanout[c][largest]['ratio']:.1f}× raw TCP's"),
        ("events, acks, rooms, reconnection built in", "socketio-ws",
         lambda c: f"{rtt[c]['median_us'] / rtt['websockets']['median_us']:.1f}× websockets' "
         "round trip"),
        ("only HTTP gets through (proxies)", best(rtt, "median_us", candidates[2:]),
         lambda c: f"{rtt[c]['ratio']:.1f}× the floor's round trip"),
    ]  # fmt: skip
    rows = [("you need", "use", "measured here")]
    rows += [(need, _label(case), say(case)) for need, case, say in needs]
    return "\n".join(_columns(rows))


def layers(results: dict[str, Any], case: str) -> dict[str, int]:
    """Bytes per echo of ``case`` by layer, both directions added up."""
    both = results["bytes"][case]["layers"]
    return {layer: both[TO_SERVER][layer] + both[TO_CLIENT][layer] for layer in both[TO_SERVER]}
