"""Every exercise has a solution, and every solution passes its check when run as a script."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import NOTEBOOKS, require_what_the_lesson_needs

import helpers.exercises  # noqa: F401 - registers every lesson's exercises
from helpers import check
from helpers.check import _exercises, grade

SOLUTIONS = sorted((NOTEBOOKS / "solutions").glob("[0-9][0-9]_*.py"))


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda path: path.stem)
def test_solution_solves_every_exercise_of_its_lesson(solution: Path) -> None:
    require_what_the_lesson_needs(solution.stem)
    done = subprocess.run(
        [sys.executable, str(solution)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    solved = re.findall(r"^✅ (\S+) solved\.", done.stdout, flags=re.MULTILINE)
    lesson = solution.stem[:2]
    expected = sorted(key for key in _exercises if key.startswith(f"{lesson}."))
    assert sorted(solved) == expected, done.stdout


def test_every_lesson_with_exercises_has_solutions() -> None:
    lessons = {key.split(".")[0] for key in _exercises}
    assert lessons == {path.stem[:2] for path in SOLUTIONS}


def test_an_unsolved_exercise_prints_its_nudge(capsys: pytest.CaptureFixture[str]) -> None:
    check("00.1", ...)
    out = capsys.readouterr().out
    assert out == f"💡 00.1 is not solved yet. {_exercises['00.1'].nudge}\n"


def test_a_wrong_answer_says_what_was_expected() -> None:
    solved, message = grade("00.1", "pong")
    assert not solved
    assert message.startswith(
        "00.1: not yet. an echo server sends back exactly what it gets: "
        "expected 'ping', not 'pong'.\nHint "
    )


def test_an_answer_that_breaks_the_checker_gives_a_hint_not_a_traceback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    class Broken:
        def __eq__(self, other: object) -> bool:
            raise RuntimeError("cannot compare")

    check("00.1", Broken())
    out = capsys.readouterr().out
    assert "not yet, checking your answer raised RuntimeError: cannot compare" in out
    assert "Traceback" not in out


def test_an_unknown_exercise() -> None:
    solved, message = grade("99.9", 1)
    assert not solved and "There is no exercise '99.9'" in message and "00.1" in message
