"""Run notebooks top to bottom and store their outputs in place, the way the tests expect.

    python tools/refresh_outputs.py notebooks/00_start_here.ipynb [...]

Use it after editing a lesson, then read the diff of the outputs before committing: the
stored outputs are what nbval checks. Timing metadata is not recorded, so an unchanged
lesson gives an unchanged file.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def refresh(path: Path) -> None:
    """Execute ``path`` in a fresh kernel and write it back with its new outputs."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=300,
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    nbformat.write(notebook, path)
    print(f"refreshed {path}")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for name in sys.argv[1:]:
        refresh(Path(name))
