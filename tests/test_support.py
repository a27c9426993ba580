"""Where the tutorial runs, and with what: the pinned versions, the supported Pythons, and a
clean exit from a plain script.

- constraints.txt pins one version of every package for every supported Python and platform
  (README.md, "Reproducible installs"), and this environment has exactly those versions: the
  ones the lessons' stored outputs were recorded with.
- A script that uses the lab and exits leaves nothing on standard error: the lab's loop is
  closed the way ``asyncio.run()`` closes its own (helpers/lab.py, ``_run_lab_loop``).

CI runs this file on the oldest and the newest supported Python (.ci/run).
"""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest
from conftest import ROOT
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from test_interop import node

PINS = ROOT / "constraints.txt"
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]

#: The Pythons the classifiers name, and the systems the README names.
PYTHONS = [
    c.rsplit(" ", 1)[1]
    for c in PROJECT["classifiers"]
    if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)
]
SYSTEMS = {
    "Linux x86-64": {"sys_platform": "linux", "platform_machine": "x86_64", "os_name": "posix"},
    "Linux ARM64": {"sys_platform": "linux", "platform_machine": "aarch64", "os_name": "posix"},
    "macOS Apple silicon": {
        "sys_platform": "darwin",
        "platform_machine": "arm64",
        "os_name": "posix",
    },
    "macOS Intel": {"sys_platform": "darwin", "platform_machine": "x86_64", "os_name": "posix"},
    "Windows": {"sys_platform": "win32", "platform_machine": "AMD64", "os_name": "nt"},
}


def pins() -> list[tuple[str, str, Marker | None]]:
    """constraints.txt's lines: (name, version, marker)."""
    found = []
    for line in PINS.read_text().splitlines():
        if not line or line.startswith((" ", "#")):
            continue
        requirement = Requirement(line)
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", f"not an exact pin: {line}"
        found.append((canonicalize_name(requirement.name), specifier.version, requirement.marker))
    return found


def environment(python: str, system: str) -> dict[str, str]:
    return {
        "python_version": python,
        "python_full_version": f"{python}.0",
        "implementation_name": "cpython",
        "platform_system": {"linux": "Linux", "darwin": "Darwin", "win32": "Windows"}[
            SYSTEMS[system]["sys_platform"]
        ],
        **SYSTEMS[system],
    }


def test_the_supported_pythons_are_declared() -> None:
    assert PROJECT["requires-python"] == f">={PYTHONS[0]}"
    assert PYTHONS == ["3.11", "3.12", "3.13"]
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Where it runs") :]
    for python in PYTHONS:
        assert python in section, f"README.md's 'Where it runs' should name Python {python}"


@pytest.mark.parametrize("system", SYSTEMS)
@pytest.mark.parametrize("python", PYTHONS)
def test_the_pins_cover_every_requirement_on_every_supported_python(
    python: str, system: str
) -> None:
    """One resolution for all: each requirement of pyproject.toml (its extras too) that applies
    to this Python and system has exactly one pin there, and the pin satisfies it."""
    where = environment(python, system)
    pinned: dict[str, list[str]] = {}
    for name, version, marker in pins():
        if marker is None or marker.evaluate(where):
            pinned.setdefault(name, []).append(version)
    extras = [line for group in PROJECT["optional-dependencies"].values() for line in group]
    for line in PROJECT["dependencies"] + extras:
        requirement = Requirement(line)
        if requirement.name == PROJECT["name"]:  # one extra taking in another: no pin of its own
            continue
        if requirement.marker is not None and not requirement.marker.evaluate(where):
            continue
        versions = pinned.get(canonicalize_name(requirement.name), [])
        assert len(versions) == 1, f"{requirement.name} on {python}, {system}: pins {versions}"
        assert requirement.specifier.contains(versions[0], prereleases=True), (
            f"constraints.txt pins {requirement.name}=={versions[0]}, outside {line!r}: make pins"
        )


def test_this_environment_has_the_pinned_versions() -> None:
    """What make lab and make test install: every package that constraints.txt pins for this
    Python and system is installed at that version (run make test again after a change to
    constraints.txt: it reinstalls)."""
    wrong = []
    for name, version, marker in pins():
        if marker is not None and not marker.evaluate():
            continue
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            wrong.append(f"{name} is not installed ({version} pinned)")
            continue
        if installed != version:
            wrong.append(f"{name} {installed} is installed, {version} pinned")
    assert not wrong, "; ".join(wrong)


def run_script(source: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(source))
    return subprocess.run(
        [sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def test_a_script_with_a_visit_of_the_official_client_exits_cleanly(tmp_path: Path) -> None:
    """The lab's Socket.IO server, the official JavaScript client visiting it (long-polling,
    then the upgrade to WebSocket), helpers.stop_all(), the end of the script: nothing on
    standard error, such as "Exception ignored in: <coroutine object Queue.get ...>"."""
    program = node()
    done = run_script(
        f"""
        import subprocess
        import helpers

        server = helpers.start_sio_server()
        visit = subprocess.run(
            [{program!r}, "tests/js/visit.mjs", server.url],
            capture_output=True, text=True, timeout=30,
        )
        print(visit.stdout.strip() or visit.stderr.strip())
        helpers.stop_all()
        """,
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == 'polling then websocket: ack "hello"\n', done.stdout
    assert done.stderr == ""


def test_what_is_left_on_the_lab_loop_is_finished_at_exit(tmp_path: Path) -> None:
    """Tasks still waiting (on a queue, with a timeout, as engineio's long-poll does), an async
    generator half run, and a job in the default executor when the script ends: the lab
    cancels and finishes them (their clean-up runs), closes the generator, joins the executor,
    and closes its loop, as asyncio.run() does. Without that, the interpreter destroys them at
    exit and prints "Exception ignored in ..." and "Event loop is closed"."""
    done = run_script(
        """
        import asyncio
        import atexit
        import sys
        import time

        # Registered before the lab's own exit handler, so it runs after it.
        atexit.register(
            lambda: print("closed:", sys.modules["helpers.lab"]._loop.is_closed(), flush=True)
        )
        import helpers

        async def wait_on_a_queue():
            try:
                await asyncio.wait_for(asyncio.Queue().get(), 60)
            finally:
                await asyncio.sleep(0)  # clean-up that needs the loop
                print("the waiting task was cancelled and cleaned up", flush=True)

        async def numbers():
            try:
                yield 1
                yield 2
            finally:
                print("the async generator was closed", flush=True)

        async def leave_things_behind():
            asyncio.ensure_future(wait_on_a_queue())
            generator = numbers()
            await generator.__anext__()
            asyncio.get_running_loop().run_in_executor(None, time.sleep, 0.2)
            return generator

        kept = helpers.run(leave_things_behind())
        """,
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.splitlines() == [
        "the waiting task was cancelled and cleaned up",
        "the async generator was closed",
        "closed: True",
    ]
