"""Shared fixtures: every test starts with no services and an empty event log."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import helpers

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
LESSONS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


@pytest.fixture
def lab() -> Iterator[None]:
    """A clean lab: no services and no pending events before and after the test."""
    helpers.stop_all()
    helpers.events(settle=0)
    yield
    helpers.stop_all()
    helpers.events(settle=0)
