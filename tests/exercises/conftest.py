"""Every test here runs its checks with shorter waits, so that a wrong answer fails sooner.

A check waits up to ``helpers.check.TIMEOUT`` (3 s) for an answer that does not come, which
is most of what a wrong answer costs; here it waits :data:`TIMEOUT`. Loopback calls answer in
milliseconds, so a right answer still has plenty of time on a loaded machine, and a wrong one
fails with the same hint, naming the shorter wait. ``QUIET``, the time a check gives an event
that must *not* come, stays as it is: shortened, a wrong answer's stray event could arrive
after the check stopped looking, and a test would pass a wrong answer.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator

import pytest

# The module: ``helpers.check`` as an attribute is the function check(), which shadows it.
check = importlib.import_module("helpers.check")

TIMEOUT = 1.0
"""Seconds a check waits here for an answer that a wrong solution never gives."""


@pytest.fixture(autouse=True)
def short_waits(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """``helpers.check.TIMEOUT`` is :data:`TIMEOUT` during each test."""
    monkeypatch.setattr(check, "TIMEOUT", TIMEOUT)
    yield
