"""helpers.bench: every case and figure, bytes that add up exactly, ratios to the floor."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys

import pytest
from conftest import ROOT

from helpers import bench, wire
from helpers.bench import arithmetic
from helpers.tap import TO_CLIENT, TO_SERVER

FIGURES = {"rtt", "push", "bytes", "fanout", "polling_limit", "settings", "machine"}


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


def test_ratios_are_against_the_floor_of_the_same_run(results: dict) -> None:
    samples = results["samples"]["rtt"]
    floor = statistics.median(samples["tcp"])
    for case, figure in results["rtt"].items():
        assert figure["ratio"] == pytest.approx(statistics.median(samples[case]) / floor)
    assert results["rtt"]["tcp"]["ratio"] == 1
    for figure in results["push"].values():
        assert figure["ratio"] == pytest.approx(figure["per_s"] / results["push"]["tcp"]["per_s"])
    for sizes in results["fanout"].values():
        for size, figure in sizes.items():
            tcp = results["fanout"]["tcp"][size]["median_ms"]
            assert figure["ratio"] == pytest.approx(figure["median_ms"] / tcp)
            assert figure["worst_ms"] >= figure["median_ms"]
    sizes = {case: f["up"] + f["down"] for case, f in results["bytes"].items()}
    for case, figure in results["bytes"].items():
        assert figure["ratio"] == pytest.approx(sizes[case] / sizes["tcp"])


def test_the_round_trips_are_the_counts_asked_for(results: dict) -> None:
    for samples in results["samples"]["rtt"].values():
        assert len(samples) == bench.QUICK["count"]
    for sizes in results["samples"]["fanout"].values():
        assert all(len(rounds) == bench.QUICK["rounds"] for rounds in sizes.values())


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
    assert advice[0].split() == ["you", "need", "use", "measured", "here"] and len(advice) == 7


def test_a_failing_client_says_why() -> None:
    client = bench._python("helpers.bench.client", "this is not a plan")
    with pytest.raises(bench.BenchError, match="JSONDecodeError"):
        bench._read_client(client, {}, bench._progress_bar(1, show=False))
    client.wait()
