"""The exercises teach: a nudge with no code first, hints that get more specific, the worked
answer only on request, and stored outputs that never show a solution.

Each lesson's wrong answers are tested in tests/exercises/ (at least two per exercise)."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from conftest import LESSONS, ROOT

import helpers
import helpers.exercises
from helpers.check import _exercises, _hints_given, grade, solution_text

KEYS = sorted(_exercises)
WRONG_ANSWER_TESTS = ROOT / "tests" / "exercises"

# What code looks like in a sentence: a call, an assignment, a keyword of a definition, an
# index or an operator between names. A nudge says what to do and which idea to use, in words.
CODE = re.compile(
    r"\w\(|\b\w+\s*=[^=]|\bdef |\bawait |\bimport |\blambda\b|\w\[|\w\.\w+\(|\^|>>|<<|\w\.\w+\.\w"
)


def solution_lines(key: str) -> list[str]:
    """The lines of code of ``key``'s worked answer that are long enough to give it away."""
    lines = [line.strip() for line in solution_text(key).splitlines()]
    return [
        line
        for line in lines
        if len(line) >= 20 and not line.startswith(("#", "helpers.check(")) and "= ..." not in line
    ]


@pytest.mark.parametrize("key", KEYS)
def test_the_nudge_is_words_not_code(key: str) -> None:
    nudge = _exercises[key].nudge
    assert nudge and not CODE.search(nudge), f"{key}'s nudge shows code: {nudge}"


@pytest.mark.parametrize("key", KEYS)
def test_hints_get_more_specific_without_giving_the_answer(key: str) -> None:
    hints = _exercises[key].hints
    assert len(hints) >= 2, f"{key} needs at least two hints, from vague to specific"
    for hint in hints:
        for line in solution_lines(key):
            assert line not in hint, f"{key}'s hint gives the solution line {line!r}"


@pytest.mark.parametrize("key", KEYS)
def test_every_exercise_has_a_worked_answer(key: str) -> None:
    text = solution_text(key)
    assert text.startswith(f"# Exercise {key}"), text
    assert "helpers.check(" in text, f"the worked answer to {key} should end with its check"


@pytest.mark.parametrize("key", KEYS)
def test_at_least_two_wrong_answers_are_tested(key: str) -> None:
    lesson = WRONG_ANSWER_TESTS / f"test_lesson_{key[:2]}.py"
    assert lesson.exists(), f"{key}'s wrong answers belong in {lesson.relative_to(ROOT)}"
    found = re.findall(rf"not_yet\(\s*\"{re.escape(key)}\"", lesson.read_text())
    assert len(found) >= 2, f"{key} has {len(found)} wrong answers tested, not 2 or more"


def test_each_wrong_attempt_gives_the_next_hint_then_points_to_the_answer() -> None:
    _hints_given.pop("00.1", None)
    hints = _exercises["00.1"].hints
    messages = [grade("00.1", "pong")[1] for _ in range(len(hints) + 1)]
    for number, (message, hint) in enumerate(zip(messages, hints, strict=False), start=1):
        assert f"Hint {number} of {len(hints)}: {hint}" in message
    assert messages[-1] == messages[-2]  # the last hint stays, with the way to the answer
    assert "helpers.solution('00.1')" in messages[-1]
    _hints_given.pop("00.1")


def test_hint_on_request(capsys: pytest.CaptureFixture[str]) -> None:
    _hints_given.pop("00.2", None)
    helpers.hint("00.2")
    assert capsys.readouterr().out.startswith("💡 00.2: Hint 1 of ")
    _hints_given.pop("00.2")
    helpers.hint("99.9")
    assert "There is no exercise '99.9'" in capsys.readouterr().out


def test_the_worked_answer_on_request(capsys: pytest.CaptureFixture[str]) -> None:
    helpers.solution("05.1")
    out = capsys.readouterr().out
    assert out.startswith("# Exercise 05.1") and 'helpers.check("05.1"' in out


def exercise_cells(path: Path) -> list[tuple[str, str, str]]:
    """(key, source, stored output) of each cell of ``path`` that calls helpers.check."""
    found = []
    for cell in nbformat.read(path, as_version=4).cells:
        match = re.search(r"helpers\.check\(\"(\d\d\.\d+)\"", cell.source)
        if cell.cell_type == "code" and match:
            output = "".join(o.get("text", "") for o in cell.outputs)
            found.append((match.group(1), cell.source, output))
    return found


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda path: path.stem)
def test_stored_exercise_outputs_show_the_nudge_and_no_solution(lesson: Path) -> None:
    cells = exercise_cells(lesson)
    assert cells, f"{lesson.name} has no exercise cells"
    for key, source, output in cells:
        assert output == f"💡 {key} is not solved yet. {_exercises[key].nudge}\n", output
        for line in solution_lines(key):
            if line not in source:  # what the cell gives to start from is no give-away
                assert line not in output, f"{key}'s stored output shows {line!r}"
