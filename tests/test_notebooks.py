"""Every lesson follows the checklist, and passes nbval with all its cells run twice in one
kernel, then once more after the kernel restarts.

That nbval run is strict (every stored output compared after tests/sanitize.cfg), and its first
third is exactly the plain run of the lesson in a fresh kernel, so `make test` does not run the
notebooks once more; `pytest notebooks/NN_topic.ipynb` does the plain run on its own.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import LESSONS, NOTEBOOKS, ROOT, require_what_the_lesson_needs

SANITIZE = ROOT / "tests" / "sanitize.cfg"


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def markdown(notebook: nbformat.NotebookNode) -> str:
    return "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")


def code_cells(notebook: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


@pytest.fixture(params=LESSONS, ids=lambda path: path.stem)
def lesson(request: pytest.FixtureRequest) -> Path:
    return request.param


def test_there_are_lessons() -> None:
    assert LESSONS and LESSONS[0].name == "00_start_here.ipynb"


def test_first_cell_has_title_goals_prerequisites_and_time(lesson: Path) -> None:
    first = read(lesson).cells[0]
    assert first.cell_type == "markdown"
    assert re.match(rf"# {lesson.name[:2]} · \S", first.source), "title: '# NN · Topic'"
    for heading in ("What you'll learn", "Prerequisites", "Time:"):
        assert heading in first.source, f"the first cell needs {heading!r}"
    time = r"\*\*Time:\*\* about \d+ min to read and run, plus about \d+ min for the exercises"
    assert re.search(time, first.source), "the time to read and run, and for the exercises"


def test_ends_with_recap_exercises_and_next(lesson: Path) -> None:
    notebook = read(lesson)
    text = markdown(notebook)
    assert "## Recap" in text and "## Your turn" in text
    assert "**Next:**" in notebook.cells[-1].source
    checks = [cell for cell in code_cells(notebook) if "helpers.check(" in cell.source]
    assert len(checks) >= 2, "at least two exercises checked by helpers.check"
    solutions = NOTEBOOKS / "solutions" / f"{lesson.stem}.py"
    assert solutions.exists(), f"exercise solutions belong in {solutions.relative_to(ROOT)}"


SOURCES = "## Sources and further reading"


def test_ends_with_sources_and_further_reading(lesson: Path) -> None:
    cells = read(lesson).cells
    sources = [c for c in cells if c.cell_type == "markdown" and c.source.startswith(SOURCES)]
    assert len(sources) == 1, f"one '{SOURCES}' cell, after the exercises"
    assert cells.index(sources[0]) == len(cells) - 2, "the sources come just before **Next:**"
    links = re.findall(r"\]\((https?://[^)\s]+)\)", sources[0].source)
    assert len(links) >= 3, "link the specs, protocol documents and docs the lesson rests on"


def test_outputs_are_stored_from_one_clean_run(lesson: Path) -> None:
    cells = [cell for cell in code_cells(read(lesson)) if cell.source.strip()]
    counts = [cell.execution_count for cell in cells]
    assert counts == list(range(1, len(cells) + 1)), "run top to bottom in a fresh kernel"
    for index, cell in enumerate(cells):
        for output in cell.outputs:
            assert output.output_type != "error", f"code cell {index} stores an error"
            assert output.get("name") != "stderr", f"code cell {index} stores stderr"
            text = json.dumps(output)
            assert not re.search(r"/(root|home|tmp|work|Users)/", text), f"local path in {index}"


def test_local_links_resolve(lesson: Path) -> None:
    for target in re.findall(r"\]\(([^)#\s]+)", markdown(read(lesson))):
        if not re.match(r"[a-z]+:", target):
            assert (lesson.parent / target).exists(), f"broken link: {target}"


def test_the_lesson_table_lists_every_lesson() -> None:
    table = markdown(read(NOTEBOOKS / "00_start_here.ipynb"))
    for path in LESSONS:
        assert f"]({path.name})" in table, f"00_start_here's table of lessons misses {path.name}"


def thrice(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook's cells three times over (with their stored outputs): as they are, again
    (ids ending in ``-again``), and after a restart (ids ending in ``-restarted``)."""
    tripled = copy.deepcopy(notebook)
    for suffix in ("again", "restarted"):
        for cell in copy.deepcopy(notebook.cells):
            cell.id = f"{cell.id}-{suffix}"
            tripled.cells.append(cell)
    return tripled


def test_passes_nbval_twice_in_one_kernel_and_after_a_restart(lesson: Path, tmp_path: Path) -> None:
    require_what_the_lesson_needs(lesson.stem)
    tripled = tmp_path / lesson.name
    nbformat.write(thrice(read(lesson)), tripled)
    for extra in ("data", "solutions"):  # lessons read these relative to their folder
        (tmp_path / extra).symlink_to(NOTEBOOKS / extra)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-o", "addopts=", "-p", "no:cacheprovider",
         "-p", "nbval_restart", "--nbval", "--nbval-current-env",
         f"--nbval-sanitize-with={SANITIZE}", "--nbval-cell-timeout=120", str(tripled)],
        cwd=tmp_path, capture_output=True, text=True, timeout=900,
        env={**os.environ, "PYTHONPATH": str(ROOT / "tests")},  # for -p nbval_restart
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
