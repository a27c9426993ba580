"""The Binder configuration parses, and asks for what the lessons need.

Binder builds the repository with repo2docker: conda-forge packages and this tutorial from
``environment.yml``, then ``postBuild``. ``repo2docker --no-build`` reads both and prints the
Dockerfile it would build, without Docker: a configuration that does not parse fails here, not
on Binder.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

ENVIRONMENT = ROOT / "environment.yml"
POST_BUILD = ROOT / "postBuild"


def repo2docker_dockerfile(repository: Path) -> subprocess.CompletedProcess[str]:
    """Run ``repo2docker --no-build`` on ``repository`` as Binder's user (uid 1000, jovyan)."""
    program = Path(sys.executable).parent / "repo2docker"
    if not program.exists():
        pytest.skip("repo2docker is not installed: pip install -e '.[test]'")
    command = [program, "--no-build", "--user-id", "1000", "--user-name", "jovyan", repository]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def test_repo2docker_reads_the_configuration() -> None:
    done = repo2docker_dockerfile(ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Building conda environment for python=3.12" in done.stderr
    dockerfile = done.stdout
    assert 'env update -p ${NB_PYTHON_PREFIX} --file "environment.yml"' in dockerfile
    assert "RUN ./postBuild" in dockerfile


def test_repo2docker_fails_on_a_configuration_that_does_not_parse(tmp_path: Path) -> None:
    """The test above would catch a broken environment.yml."""
    shutil.copy(POST_BUILD, tmp_path)
    (tmp_path / "environment.yml").write_text(ENVIRONMENT.read_text() + "  - [unclosed\n")
    done = repo2docker_dockerfile(tmp_path)
    assert done.returncode != 0
    assert "environment.yml" in done.stderr


def test_environment_has_python_node_redis_and_this_package() -> None:
    environment = yaml.safe_load(ENVIRONMENT.read_text())
    assert environment["channels"] == ["conda-forge"]
    dependencies = environment["dependencies"]
    for package in ("python=3.12", "nodejs", "redis-server", "pip"):
        assert package in dependencies, f"environment.yml should list {package}"
    pip = next(item["pip"] for item in dependencies if isinstance(item, dict))
    assert pip == ["-e ."], "pip installs this tutorial, with pyproject.toml's dependencies"


def test_post_build_is_an_executable_bash_script_that_stops_on_errors() -> None:
    assert os.access(POST_BUILD, os.X_OK), "chmod +x postBuild (and commit the mode)"
    lines = [line.strip() for line in POST_BUILD.read_text().splitlines()]
    assert lines[0] == "#!/bin/bash"
    commands = [line for line in lines if line and not line.startswith("#")]
    assert commands[0] == "set -e", "set -e before any command, so that a failure stops the build"
    assert any(line.startswith("npm ci") for line in commands), "npm ci: the lock file's versions"


def test_npm_ci_has_a_lock_file_that_pins_socket_io_client() -> None:
    package = json.loads((ROOT / "package.json").read_text())
    lock = json.loads((ROOT / "package-lock.json").read_text())
    pinned = package["dependencies"]["socket.io-client"]
    assert pinned[0].isdigit(), f"an exact version, not a range: {pinned}"
    assert lock["packages"]["node_modules/socket.io-client"]["version"] == pinned
