# Two commands for learners and instructors: `make lab` and `make test`.
# Both create .venv/ when it is missing or broken and reinstall when pyproject.toml changes.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip install --quiet --disable-pip-version-check
# pytest-xdist workers for `make test` (JOBS=0: one process, as `pytest` alone runs them).
JOBS   ?= 2

.PHONY: lab test setup setup-test lint format clean

# Jupyter refuses to run as root (as in many containers) unless told it is on purpose.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)

lab: setup node_modules/.package-lock.json
	$(BIN)/jupyter lab $(ROOT_FLAG) notebooks/00_start_here.ipynb

test: setup-test node_modules/.package-lock.json
	$(BIN)/python -m pytest -n $(JOBS)

setup: $(VENV)/.lab-installed
setup-test: $(VENV)/.test-installed

# A missing or broken .venv/bin/python (say, after a Python upgrade) rebuilds the venv.
$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "This tutorial needs Python 3.11 or newer: run make with PYTHON=python3.12 (or another 3.11+).")'
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)

$(VENV)/.lab-installed: pyproject.toml $(BIN)/python
	$(PIP) -e .
	@touch $@

$(VENV)/.test-installed: pyproject.toml $(BIN)/python
	$(PIP) -e '.[test]'
	@touch $@ $(VENV)/.lab-installed

# The official Socket.IO JavaScript client, pinned in package-lock.json: lesson 14's chat panes
# load it in the page and the interop tests run it in Node (both say what to do without npm).
node_modules/.package-lock.json: package.json package-lock.json
	@if command -v npm >/dev/null; then npm ci --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: lesson 14's chat panes and the Node.js tests need it (https://nodejs.org)"; fi

lint: setup-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) build *.egg-info tests/artifacts node_modules
