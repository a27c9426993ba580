"""Run the notebook suite again and again, on a quiet machine and with the second core kept
busy, and report the tests that failed in some rounds but not in others: the flakes.

Not part of CI: a full run takes hours. From the repository's root:

    .venv/bin/python benchmarks/reliability.py                  # 20 quiet rounds, 10 busy ones
    .venv/bin/python benchmarks/reliability.py --rounds 3 --busy-rounds 2 --lessons 11_security

A round is one ``pytest tests/test_notebooks.py`` (the checklist, and each lesson run twice
in one kernel and once more after a restart, with every stored output compared), limited to
``--lessons`` if given. ``--plain`` runs each lesson once with nbval instead. A busy round runs
the same while a process spins on the last CPU, so the lab's thread, the kernel and the
servers have one core fewer than they expect. The target is no flakes at all.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import subprocess
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FAILED = re.compile(r"^(?:FAILED|ERROR) (\S+)", re.MULTILINE)
SUMMARY = re.compile(r"^=*\s*(\d+ (?:passed|failed|error).*?) in ([\d.]+)s", re.MULTILINE)


@dataclass
class Round:
    """One run of the suite: quiet or busy, how long it took, what failed."""

    number: int
    busy: bool
    seconds: float
    returncode: int
    summary: str
    failed: list[str] = field(default_factory=list)


def spin() -> None:
    """Keep one CPU busy until killed."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})
    while True:
        pass


def command(lessons: list[str], plain: bool) -> list[str]:
    """The pytest command of one round."""
    base = [sys.executable, "-m", "pytest", "-q", "-rfE", "-p", "no:cacheprovider"]
    if plain:
        notebooks = sorted(ROOT.glob("notebooks/[0-9][0-9]_*.ipynb"))
        chosen = [str(nb) for nb in notebooks if not lessons or nb.stem in lessons]
        return [*base, *chosen]  # pyproject's addopts make this the strict nbval run
    selection = ["-k", " or ".join(lessons)] if lessons else []
    return [*base, "-p", "no:nbval", "-o", "addopts=", "tests/test_notebooks.py", *selection]


def run_round(number: int, busy: bool, argv: list[str], timeout: float) -> Round:
    spinner = multiprocessing.Process(target=spin, daemon=True) if busy else None
    if spinner:
        spinner.start()
    started = time.monotonic()
    try:
        done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
        output, returncode = done.stdout + done.stderr, done.returncode
    except subprocess.TimeoutExpired as expired:
        output, returncode = f"timed out after {timeout} s\n{expired.stdout or ''}", -1
    finally:
        if spinner:
            spinner.kill()
            spinner.join()
    seconds = time.monotonic() - started
    summary = SUMMARY.search(output)
    failed = FAILED.findall(output) or ([] if returncode == 0 else ["(the round itself)"])
    return Round(number, busy, seconds, returncode, summary.group(1) if summary else "", failed)


def report(rounds: list[Round]) -> str:
    """What failed how often, quiet and busy, and the verdict."""
    lines = []
    for busy in (False, True):
        chosen = [r for r in rounds if r.busy == busy]
        if not chosen:
            continue
        failing = sum(bool(r.failed) for r in chosen)
        slowest = max(r.seconds for r in chosen)
        kind = "busy" if busy else "quiet"
        lines.append(
            f"{kind}: {len(chosen)} rounds, {failing} with a failure, slowest {slowest:.0f} s"
        )
    counts = Counter(test for r in rounds for test in r.failed)
    for test, times in counts.most_common():
        where = ", ".join(
            f"{'busy' if r.busy else 'quiet'} {r.number}" for r in rounds if test in r.failed
        )
        lines.append(f"  FLAKE {test}: failed {times} of {len(rounds)} rounds ({where})")
    lines.append("no flakes" if not counts else f"{len(counts)} flaky test(s)")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20, help="quiet rounds (default 20)")
    parser.add_argument("--busy-rounds", type=int, default=10, help="busy rounds (default 10)")
    parser.add_argument("--lessons", nargs="*", default=[], help="lesson stems, e.g. 05_x")
    parser.add_argument("--plain", action="store_true", help="plain nbval runs of the lessons")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds a round may take")
    parser.add_argument("--json", type=Path, help="also write every round to this file")
    options = parser.parse_args()

    argv = command(options.lessons, options.plain)
    print("each round:", " ".join(argv[1:]), flush=True)
    plan = [False] * options.rounds + [True] * options.busy_rounds
    rounds = []
    for number, busy in enumerate(plan, 1):
        result = run_round(number, busy, argv, options.timeout)
        rounds.append(result)
        state = "ok" if not result.failed else "FAILED " + " ".join(result.failed)
        kind = "busy " if busy else "quiet"
        print(
            f"round {number:>2} {kind} {result.seconds:6.0f} s  {result.summary}  {state}",
            flush=True,
        )
        if options.json:
            options.json.write_text(json.dumps([asdict(r) for r in rounds], indent=1))
    print(report(rounds))
    return 1 if any(r.failed for r in rounds) else 0


if __name__ == "__main__":
    sys.exit(main())
