"""helpers.bench: every case and figure, bytes that add up exactly, ratios to the floor."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys

import pytest

from helpers import bench, wire
from helpers._util import ROOT
from helpers.bench import arithmetic
from helpers.tap import TO_CLIENT, TO_SERVER

FIGURES = {"rtt", "push", "delay", "bytes", "fanout", "polling_limit", "settings", "machine"}


@pytest.fixture(scope="module")
def cli() -> dict:
    """The figures from one quick run of the command line, as JSON."""
    done = subprocess.run(
        [sys.executable, "-m", "helpers.bench", "--json", "--quick"],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def results() -> dict:
    """The figures, with their raw samples, from a quick run in this process."""
    return bench.run(quick=True, progress=False)


def test_the_command_line_gives_every_case_and_figure(cli: dict) -> None:
    assert set(cli) == FIGURES
    for figure in ("rtt", "push", "bytes"):
        assert list(cli[figure]) == list(bench.CASES)
    assert list(cli["fanout"]) == list(bench.FANOUT_CASES)
    assert list(cli["delay"]) == list(bench.DELAY_CASES)
    for sizes in cli["fanout"].values():
        assert list(sizes) == [str(n) for n in bench.QUICK["sizes"]]
    assert cli["settings"]["quick"] is True and cli["settings"]["count"] == bench.QUICK["count"]


def test_the_full_counts_are_the_ones_the_lesson_promises() -> None:
    assert bench.FULL["count"] >= 2000 and bench.FULL["sizes"] == [10, 100, 1000]


def test_byte_counts_are_exactly_the_protocol_arithmetic(cli: dict) -> None:
    counted = {case: (f["up"], f["down"]) for case, f in cli["bytes"].items()}
    assert counted["tcp"] == (5, 5)
    assert counted["websockets"] == (2 + 4 + 5, 2 + 5)
    assert counted["socketio-ws"] == (2 + 4 + len('421["echo","hello"]'), 2 + len('431["hello"]'))
    compressed = len(arithmetic.deflated("hello"))
    assert counted["websockets-deflate"] == (2 + 4 + compressed, 2 + compressed)
    assert all(figure["matches"] for figure in cli["bytes"].values())
    for figure in cli["bytes"].values():
        for way, key in ((TO_SERVER, "up"), (TO_CLIENT, "down")):
            assert sum(figure["layers"][way].values()) == figure[key]


def test_the_arithmetic() -> None:
    masked = wire.encode_frame("hello", mask_key=b"abcd")
    assert arithmetic.frame_size(5, masked=True) == len(masked)
    assert arithmetic.frame_size(200, masked=False) == len(wire.encode_frame("x" * 200))
    assert arithmetic.frame_size(70000, masked=False) == len(wire.encode_frame("x" * 70000))
    assert arithmetic.socketio_packets() == ('421["echo","hello"]', '431["hello"]')


def phases(up: bytes, down: bytes) -> dict[str, dict[str, bytes]]:
    return {"opened": {TO_SERVER: b"", TO_CLIENT: b""}, "echoed": {TO_SERVER: up, TO_CLIENT: down}}


def test_a_byte_more_or_less_does_not_match() -> None:
    up, down = wire.encode_frame("hello", mask_key=b"abcd"), wire.encode_frame("hello")
    assert arithmetic.expected_bytes("websockets", phases(up, down))["matches"]
    assert not arithmetic.expected_bytes("websockets", phases(up, down + b"\x81"))["matches"]
    assert not arithmetic.expected_bytes("websockets", phases(up, wire.encode_frame("hellO")))[
        "matches"
    ]
    assert not arithmetic.expected_bytes("tcp", phases(b"hello", b"hell"))["matches"]


def test_every_timed_figure_is_the_median_of_its_rounds_with_their_min_max(results: dict) -> None:
    rounds = results["samples"]["rtt"]
    assert all(len(each) == bench.QUICK["repeats"] for each in rounds.values())
    for case, figure in results["rtt"].items():
        medians = [statistics.median(samples) * 1e6 for samples in rounds[case]]
        assert figure["median_us"] == pytest.approx(statistics.median(medians))
        assert figure["median_us_range"] == pytest.approx([min(medians), max(medians)])
        low, high = figure["median_us_range"]
        assert low <= figure["median_us"] <= high
        for key in ("ratio", "p99_ratio", "p99_us"):
            low, high = figure[f"{key}_range"]
            assert low <= figure[key] <= high
    for figure in results["delay"].values():
        low, high = figure["median_ms_range"]
        assert 0 < low <= figure["median_ms"] <= high <= figure["worst_ms"]


def test_ratios_are_against_the_floor_of_the_same_round(results: dict) -> None:
    samples = results["samples"]["rtt"]
    ratios = [
        statistics.median(mine) / statistics.median(floor)
        for mine, floor in zip(samples["socketio-ws"], samples["tcp"], strict=True)
    ]
    assert results["rtt"]["socketio-ws"]["ratio"] == pytest.approx(statistics.median(ratios))
    assert results["rtt"]["socketio-ws"]["ratio_range"] == pytest.approx([min(ratios), max(ratios)])
    assert results["rtt"]["tcp"]["ratio"] == 1 and results["rtt"]["tcp"]["ratio_range"] == [1, 1]
    assert results["push"]["tcp"]["ratio"] == 1
    for sizes in results["fanout"].values():
        for figure in sizes.values():
            assert figure["worst_ms"] >= figure["median_ms_range"][1]
    sizes = {case: f["up"] + f["down"] for case, f in results["bytes"].items()}
    for case, figure in results["bytes"].items():
        assert figure["ratio"] == pytest.approx(sizes[case] / sizes["tcp"])


def test_the_round_trips_are_the_counts_asked_for(results: dict) -> None:
    for rounds in results["samples"]["rtt"].values():
        assert [len(samples) for samples in rounds] == [bench.QUICK["count"]] * bench.QUICK[
            "repeats"
        ]
    for sizes in results["samples"]["fanout"].values():
        for rounds in sizes.values():
            assert [len(samples) for samples in rounds] == [bench.QUICK["rounds"]] * bench.QUICK[
                "repeats"
            ]
    for rounds in results["samples"]["delay"].values():
        assert [len(samples) for samples in rounds] == [bench.QUICK["notify"]] * bench.QUICK[
            "repeats"
        ]


def test_a_polling_loop_waits_for_its_interval_and_long_polling_does_not(results: dict) -> None:
    interval_ms = bench.QUICK["interval"] * 1000
    loop, parked = results["delay"]["http-poll-loop"], results["delay"]["socketio-polling"]
    assert interval_ms / 10 < loop["median_ms"] < interval_ms * 1.5
    assert parked["median_ms"] < interval_ms / 10


def test_a_difference_within_the_spread_is_a_tie() -> None:
    from helpers.bench.report import pick

    assert pick({"a": (1.0, [0.9, 1.1]), "b": (1.05, [1.0, 1.2]), "c": (3, [2.9, 3.1])}) == [
        "a",
        "b",
    ]
    assert pick({"a": (1.0, [0.9, 1.1]), "b": (2.0, [1.9, 2.1])}) == ["a"]
    assert pick({"a": (1.0, [0.9, 1.1]), "b": (2.0, [1.9, 2.1])}, lower=False) == ["b"]


def test_the_long_polling_limit_is_shown(results: dict) -> None:
    limit = results["polling_limit"]
    assert limit["limit"] == 16 and limit["aborted"] and limit["received"] < limit["burst"]
    assert "Unexpected packet from server, aborting" in limit["logged"]


def test_the_stable_facts_hold(results: dict) -> None:
    assert all(bench.facts(results).values()), bench.facts(results)


def test_the_table_and_the_advice_name_every_case(results: dict) -> None:
    text = bench.table(results)
    assert all(label in text for label in bench.CASES.values())
    advice = bench.when_to_use(results).splitlines()
    assert len(advice) == 12 and advice[0].startswith("lowest latency: use ")
    assert advice[-2] == "only plain HTTP gets through: server news: use Socket.IO, long-polling"
    assert advice[-1].startswith("    after ") and "a loop every 100 ms" in advice[-1]


def test_a_failing_client_says_why() -> None:
    client = bench._python("helpers.bench.client", "this is not a plan")
    with pytest.raises(bench.BenchError, match="JSONDecodeError"):
        bench._read_client(client, {}, bench._progress_bar(1, show=False))
    client.wait()
