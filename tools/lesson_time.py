"""Estimate how long a newcomer needs for a lesson: reading and running, and the exercises.

    python tools/lesson_time.py notebooks/05_websockets_server_push.ipynb [...]
    python tools/lesson_time.py --write --run-seconds 60 notebooks/12_measured_comparison.ipynb

The estimate is made from the notebook as committed, with rates stated here so that anyone can
check them and argue with them:

- prose is read at 130 words a minute (a newcomer reading technical text, well below the
  ~240 of everyday reading), code at 5 seconds a line, stored output at 2 seconds a line;
- each code cell costs 15 seconds to run and look at, plus the time its kernel work takes
  (the lesson's run time, measured by tools/refresh_outputs.py, given with --run-seconds);
- an exercise costs 12 minutes when its answer is code that runs (a handler, a server, a
  client) and 6 minutes when it is a value to compute or predict; its worked answer in
  notebooks/solutions/ says which (see EXERCISE_KINDS below for how the kind is read).

The lesson header states both figures rounded up to 5 minutes.
"""

from __future__ import annotations

import argparse
import math
import re
from pathlib import Path

import nbformat

from helpers.check import solution_text

WORDS_PER_MINUTE = 130
SECONDS_PER_CODE_LINE = 5
SECONDS_PER_OUTPUT_LINE = 2
SECONDS_PER_CELL = 15
MINUTES_PER_BUILD_EXERCISE = 12
MINUTES_PER_VALUE_EXERCISE = 6

# An exercise whose worked answer defines a function or a class, or starts a server, builds
# something that runs; any other answer is a value to compute or predict.
EXERCISE_KINDS = re.compile(r"^\s*(async def |def |class )|start_\w+_server\(", re.MULTILINE)


def _output_lines(cell: nbformat.NotebookNode) -> int:
    lines = 0
    for output in cell.get("outputs", []):
        text = output.get("text") or output.get("data", {}).get("text/plain", "")
        lines += len(str(text).splitlines())
    return lines


def estimate(path: Path, run_seconds: float = 0.0) -> tuple[int, int]:
    """Minutes to read and run ``path``, and minutes for its exercises, each rounded up to 5."""
    notebook = nbformat.read(path, as_version=4)
    reading = run_seconds
    exercises = 0.0
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            reading += len(cell.source.split()) / WORDS_PER_MINUTE * 60
        elif key := re.search(r"helpers\.check\(\"(\d\d\.\d+)\"", cell.source):
            build = EXERCISE_KINDS.search(solution_text(key.group(1)))
            exercises += MINUTES_PER_BUILD_EXERCISE if build else MINUTES_PER_VALUE_EXERCISE
        else:
            reading += SECONDS_PER_CELL + SECONDS_PER_CODE_LINE * len(cell.source.splitlines())
            reading += SECONDS_PER_OUTPUT_LINE * _output_lines(cell)
    return 5 * math.ceil(reading / 60 / 5), 5 * math.ceil(exercises / 5)


TIME_LINE = re.compile(r"about \d+ min to read and run, plus about \d+ min for the exercises")


def write(path: Path, reading: int, exercises: int) -> None:
    """Put the figures into the ``**Time:**`` line of the lesson's first cell."""
    notebook = nbformat.read(path, as_version=4)
    line = f"about {reading} min to read and run, plus about {exercises} min for the exercises"
    header = notebook.cells[0]
    if not TIME_LINE.search(header.source):
        raise SystemExit(f"{path.name}: no '**Time:** {line}.' line to update in the first cell")
    header.source = TIME_LINE.sub(line, header.source)
    nbformat.write(notebook, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--run-seconds", type=float, default=0.0, help="the lesson's run time")
    parser.add_argument("--write", action="store_true", help="put the figures in the header")
    args = parser.parse_args()
    for path in args.notebooks:
        reading, exercises = estimate(path, args.run_seconds)
        if args.write:
            write(path, reading, exercises)
        print(f"{path.name}: about {reading} min to read and run, plus about {exercises} min")


if __name__ == "__main__":
    main()
