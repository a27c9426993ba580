"""Every lesson, run the way a learner runs it: in JupyterLab, in a real browser.

A private JupyterLab serves ``notebooks/`` (or ``$BROWSER_TEST_NOTEBOOKS``) and headless
Chromium opens each lesson, clears its outputs and runs all cells from the Run menu. The test
then checks what the page shows: no error, no stderr (unless the cell is tagged
``allow-stderr``), and the first line each cell printed when the notebook was saved, with the
parts ``tests/sanitize.cfg`` marks as variable (such as ports) matching anything. Cells are
numbered from 0, counting Markdown cells. A lesson with browser clients in the page has more
checks after the run (``AFTER_RUN``); a lesson this machine cannot run (lesson 13 without
Redis) is skipped with the reason, as in the other notebook tests. A screenshot of each
notebook goes to ``tests/artifacts/``. Where a cell was saved with a sequence diagram
(``helpers.diagram``, an ``image/svg+xml`` output), the page must show it as a picture that
loaded, and a screenshot scrolled to each such diagram goes there too.

Without Chromium or playwright the test is skipped; with ``REQUIRE_BROWSER=1`` it fails.
"""

from __future__ import annotations

import configparser
import json
import os
import re
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import nbformat
import pytest
from conftest import pw, require_what_the_lesson_needs

from helpers.processes import free_port

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = Path(os.environ.get("BROWSER_TEST_NOTEBOOKS", ROOT / "notebooks")).resolve()
LESSONS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
SANITIZE_CFG = ROOT / "tests" / "sanitize.cfg"
ARTIFACTS = ROOT / "tests" / "artifacts"

VIEWPORT = {"width": 1280, "height": 900}
MAX_SCREENSHOT_HEIGHT = 20_000

SERVER_START_TIMEOUT = 60.0
KERNEL_IDLE_TIMEOUT = 60.0
RUN_TIMEOUT = 180.0
POLL_MS = 250

SVG_MIME = "image/svg+xml"  # how a sequence diagram (helpers.diagram) shows itself
ALLOW_STDERR_TAG = "allow-stderr"
STDERR_MIME = "application/vnd.jupyter.stderr"  # stream stderr *and* error tracebacks
PAGE_TIMEOUT = "HELPERS_PAGE_TIMEOUT"  # conftest.py sets it to 0 for runs without a page

# User settings for the private JupyterLab: every cell in the DOM, the lesson's own kernel
# started without asking (a "Select Kernel" dialog would block the clicks when the kernel list
# arrives late, as on a busy machine), never write the lessons back to disk, and no requests to
# the Jupyter news feed.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker": {
        "windowingMode": "none",
        "autoStartDefaultKernel": True,
    },
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
    "@jupyterlab/apputils-extension/notification": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}

# What the page shows for each cell of the notebook at ``path``: the input prompt and the
# rendered outputs from the DOM, and the error outputs from the cell's model (in the DOM an
# error looks exactly like stream stderr: both are rendered as STDERR_MIME).
SHOWN_CELLS_JS = """([path, stderrMime]) => {
  const panel = [...window.jupyterapp.shell.widgets('main')].find(w => w.context?.path === path);
  return panel.content.widgets.map(cell => {
    const rendered = [...cell.node.querySelectorAll('.jp-OutputArea-output')];
    const outputs = cell.model.type === 'code' ? cell.model.outputs.toJSON() : [];
    return {
      prompt: cell.node.querySelector('.jp-InputPrompt')?.textContent.trim() ?? '',
      text: rendered.map(output => output.textContent).join('\\n'),
      stderr: rendered.filter(o => o.dataset.mimeType === stderrMime).map(o => o.textContent),
      errors: outputs.filter(o => o.output_type === 'error').map(o => `${o.ename}: ${o.evalue}`),
    };
  });
}"""

# Runs ``code`` in the notebook's kernel, beside the notebook; returns what it printed (and
# "Name: message" for an error).
KERNEL_OUTPUT_JS = """async ([path, code]) => {
  const panel = [...window.jupyterapp.shell.widgets('main')].find(w => w.context?.path === path);
  const future = panel.sessionContext.session.kernel.requestExecute({ code, store_history: false });
  const printed = [];
  future.onIOPub = ({ header, content }) => {
    if (header.msg_type === 'stream') printed.push(content.text);
    if (header.msg_type === 'error') printed.push(`${content.ename}: ${content.evalue}`);
  };
  await future.done;
  return printed.join('');
}"""

NO_EXECUTION_COUNTS_JS = """() =>
  ![...document.querySelectorAll('.jp-NotebookPanel .jp-InputPrompt')]
    .some(prompt => /\\d/.test(prompt.textContent))"""

# True once a cell has started to run: its prompt shows [*] or an execution count.
RUNNING_JS = """() =>
  [...document.querySelectorAll('.jp-NotebookPanel .jp-InputPrompt')]
    .some(prompt => /[*\\d]/.test(prompt.textContent))"""
RUN_START_TIMEOUT = 30.0

# Scrolls the notebook to the top; returns how much taller than the viewport its cells are.
NOTEBOOK_OVERFLOW_JS = """() => {
  const outer = document.querySelector('.jp-NotebookPanel .jp-WindowedPanel-outer');
  const inner = document.querySelector('.jp-NotebookPanel .jp-WindowedPanel-inner');
  if (!outer || !inner) return 0;
  outer.scrollTop = 0;
  return inner.scrollHeight - outer.clientHeight;
}"""


@dataclass(frozen=True)
class LabServer:
    """A running JupyterLab: where it listens and the token it wants."""

    base_url: str
    token: str

    def api(self, method: str, path: str) -> Any:
        """Call the server's REST API; the decoded JSON answer, or None when there is none."""
        request = urllib.request.Request(
            f"{self.base_url}/{path}",
            method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None


@dataclass(frozen=True)
class ShownCell:
    """One cell as the page shows it after running."""

    prompt: str
    text: str
    stderr: list[str]
    errors: list[str]

    @property
    def running(self) -> bool:
        """Running or waiting to run."""
        return self.prompt == "[*]:"

    @property
    def ran(self) -> bool:
        """Shows an execution count, so it ran in this session."""
        return re.fullmatch(r"\[\d+\]:", self.prompt) is not None


# The browser and the server


def private_jupyter_env(home: Path) -> dict[str, str]:
    """The environment for a JupyterLab that reads and writes nothing of the real user's."""
    dirs = {
        "JUPYTER_CONFIG_DIR": "config",
        "JUPYTER_DATA_DIR": "data",
        "JUPYTER_RUNTIME_DIR": "runtime",
        "JUPYTERLAB_SETTINGS_DIR": "settings",
        "JUPYTERLAB_WORKSPACES_DIR": "workspaces",
        "IPYTHONDIR": "ipython",
    }
    for name in dirs.values():
        (home / name).mkdir()
    for plugin, settings in LAB_SETTINGS.items():
        file = home / "settings" / f"{plugin}.jupyterlab-settings"
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(json.dumps(settings))
    environment = {key: value for key, value in os.environ.items() if key != PAGE_TIMEOUT}
    return {**environment, **{variable: str(home / name) for variable, name in dirs.items()}}


def lab_command(port: int, token: str, checkpoints: Path) -> list[str]:
    """The command line that starts JupyterLab on ``port``, serving NOTEBOOKS."""
    command = [
        *(sys.executable, "-m", "jupyter", "lab", "--no-browser"),
        f"--port={port}",
        "--ServerApp.ip=127.0.0.1",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={NOTEBOOKS}",
        f"--FileCheckpoints.root_dir={checkpoints}",  # not notebooks/.ipynb_checkpoints
        "--LabApp.expose_app_in_browser=True",  # window.jupyterapp, to read the cells' outputs
    ]
    return [*command, "--allow-root"] if os.geteuid() == 0 else command


def wait_until_up(server: LabServer, process: subprocess.Popen[bytes], log: Path) -> None:
    """Poll /api/status until the server answers; fail with its log if it never does."""
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while process.poll() is None and time.monotonic() < deadline:
        try:
            server.api("GET", "api/status")
            return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    state = f"exited with {process.returncode}" if process.poll() is not None else "timed out"
    pytest.fail(f"JupyterLab did not start ({state}); its log:\n{log.read_text()[-5000:]}")


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    """A private JupyterLab serving the notebooks, stopped (and waited for) at the end."""
    home = tmp_path_factory.mktemp("jupyterlab")
    port, token = free_port(), secrets.token_hex(24)
    server = LabServer(f"http://127.0.0.1:{port}", token)
    log, checkpoints = home / "server.log", home / "checkpoints"
    checkpoints.mkdir()
    with log.open("wb") as output:
        process = subprocess.Popen(
            lab_command(port, token, checkpoints),
            env=private_jupyter_env(home),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until_up(server, process, log)
            yield server
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# Driving JupyterLab


def open_notebook(page: pw.Page, server: LabServer, name: str, cell_count: int) -> None:
    """Open the notebook in a fresh workspace and wait until its kernel is idle."""
    page.goto(f"{server.base_url}/lab/tree/{quote(name)}?reset&token={server.token}")
    idle = ".jp-NotebookPanel-toolbar .jp-Notebook-ExecutionIndicator[data-status='idle']"
    try:
        page.locator(idle).wait_for(timeout=KERNEL_IDLE_TIMEOUT * 1000)
    except pw.TimeoutError:
        pytest.fail(f"{name}: the kernel was not idle after {KERNEL_IDLE_TIMEOUT:.0f} s")
    page.wait_for_function(
        "n => document.querySelectorAll('.jp-NotebookPanel .jp-Cell').length === n", arg=cell_count
    )


def menu_command(page: pw.Page, menu: str, command: str) -> None:
    """Click ``command`` (its command id) in the menu bar's ``menu``."""
    page.get_by_role("menubar").get_by_role("menuitem", name=menu, exact=True).click()
    page.locator(f".lm-Menu-item[data-command='{command}']").click()


def clear_and_run_all(page: pw.Page) -> None:
    """Clear the saved outputs (so only this run's show), then run all cells."""
    menu_command(page, "Edit", "editmenu:clear-all")
    page.wait_for_function(NO_EXECUTION_COUNTS_JS)
    menu_command(page, "Run", "runmenu:run-all")
    try:
        page.wait_for_function(RUNNING_JS, timeout=RUN_START_TIMEOUT * 1000)
    except pw.TimeoutError:  # on a busy machine the menu may drop the click: once more
        menu_command(page, "Run", "runmenu:run-all")


def shown_cells(page: pw.Page, name: str) -> list[ShownCell]:
    """Every cell of the open notebook ``name``, as the page shows it now."""
    return [ShownCell(**cell) for cell in page.evaluate(SHOWN_CELLS_JS, [name, STDERR_MIME])]


def runnable(cell: Any) -> bool:
    """A code cell with code in it: JupyterLab gives it an execution count when it runs."""
    return cell.cell_type == "code" and bool(cell.source.strip())


def finished(shown: list[ShownCell], must_run: list[int]) -> bool:
    """Nothing runs or waits, and every cell ran (or an error stopped the run)."""
    if any(cell.running for cell in shown):
        return False
    return any(cell.errors for cell in shown) or all(shown[index].ran for index in must_run)


def describe_unfinished(shown: list[ShownCell], must_run: list[int], cells: list[Any]) -> str:
    """Which cell is still running and which wait, or which never started."""
    waiting = [index for index, cell in enumerate(shown) if cell.running]
    if waiting:
        running, queued = waiting[0], waiting[1:]
        return f"{label(running, cells[running])} was still running; queued: {queued or 'none'}"
    return f"these cells never ran: {[index for index in must_run if not shown[index].ran]}"


def wait_until_finished(page: pw.Page, notebook: Path, cells: list[Any]) -> list[ShownCell]:
    """Wait until every code cell has run; fail naming the cell that was still running."""
    must_run = [index for index, cell in enumerate(cells) if runnable(cell)]
    deadline = time.monotonic() + RUN_TIMEOUT
    while not finished(shown := shown_cells(page, notebook.name), must_run):
        if time.monotonic() > deadline:
            detail = describe_unfinished(shown, must_run, cells)
            pytest.fail(f"{notebook.name}: not finished after {RUN_TIMEOUT:.0f} s: {detail}")
        page.wait_for_timeout(POLL_MS)
    return shown


def save_screenshot(page: pw.Page, stem: str) -> None:
    """Save the whole notebook, not just the first screenful, to tests/artifacts/<stem>.png."""
    overflow = page.evaluate(NOTEBOOK_OVERFLOW_JS)
    if overflow > 0:
        height = min(VIEWPORT["height"] + overflow, MAX_SCREENSHOT_HEIGHT)
        page.set_viewport_size({"width": VIEWPORT["width"], "height": height})
        page.wait_for_timeout(500)  # let JupyterLab lay itself out for the new size
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{stem}.png", full_page=True)


# Sequence diagrams: JupyterLab renders an SVG output as an <img> with a data: URI.
DIAGRAM_PICTURE = f".jp-OutputArea-output[data-mime-type='{SVG_MIME}'] img[src^='data:{SVG_MIME}']"

# Whether a picture has loaded (decoded, with a size of its own), and its size on the page.
PICTURE_JS = """img => ({
  loaded: img.complete && img.naturalWidth > 0,
  width: img.getBoundingClientRect().width,
  height: img.getBoundingClientRect().height,
})"""


def saved_diagram(cell: Any) -> bool:
    """Whether the cell was saved with a sequence diagram (an SVG output) to show."""
    return any(SVG_MIME in output.get("data", {}) for output in cell.get("outputs", []))


def diagram_problems(page: pw.Page, stem: str, cells: list[Any]) -> list[str]:
    """Each cell saved with a diagram shows it as a picture that loaded, with a size on the
    page; a screenshot scrolled to it goes to tests/artifacts/<stem>-diagram-N.png."""
    problems = []
    wanted = [index for index, cell in enumerate(cells) if saved_diagram(cell)]
    for number, index in enumerate(wanted, start=1):
        pictures = page.locator(".jp-NotebookPanel .jp-Cell").nth(index).locator(DIAGRAM_PICTURE)
        if pictures.count() == 0:
            problems.append(f"{label(index, cells[index])} shows no diagram picture")
            continue
        picture = pictures.first
        picture.evaluate("img => img.scrollIntoView({block: 'center'})")
        shown = picture.evaluate(PICTURE_JS)
        if not (shown["loaded"] and shown["width"] > 0 and shown["height"] > 0):
            problems.append(f"{label(index, cells[index])}: its diagram did not render: {shown}")
        if not picture.is_visible():
            problems.append(f"{label(index, cells[index])}: its diagram is not visible")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=ARTIFACTS / f"{stem}-diagram-{number}.png")
    return problems


def shutdown_kernel(server: LabServer, name: str) -> None:
    """End the notebook's session, which shuts its kernel down."""
    for session in server.api("GET", "api/sessions"):
        if session["path"] == name:
            server.api("DELETE", f"api/sessions/{session['id']}")


# Lessons with browser clients: what the page and the kernel show after the run


def pane(page: pw.Page, name: str) -> pw.Locator:
    """A lesson 14 pane (helpers.widgets), by its title."""
    return page.locator(f".scc-pane[data-pane={json.dumps(name)}]")


def wait_for_line(page: pw.Page, name: str, text: str, timeout: float = 20) -> str | None:
    """Wait until the pane ``name`` shows a line that starts with ``text``; None if it does,
    else what is wrong (with the pane's status and the notes it shows, which say why)."""
    line = pane(page, name).locator(f"li[data-text^={json.dumps(text)}]")
    try:
        line.first.wait_for(timeout=timeout * 1000)
        return None
    except pw.TimeoutError:
        status = pane(page, name).get_attribute("data-status", timeout=1000)
        notes = pane(page, name).locator("li.scc-note").all_text_contents()
        return f"pane {name!r} shows no line {text!r} after {timeout:.0f} s: {status=}, {notes=}"


def type_in(page: pw.Page, name: str, text: str) -> None:
    """Type ``text`` into the pane ``name`` and press Enter, as a reader would."""
    box = pane(page, name).locator("input")
    box.fill(text)
    box.press("Enter")


def browser_clients_problems(page: pw.Page, name: str) -> list[str]:
    """Lesson 14: the native WebSocket pane got the server's pushes and its answer, through the
    Jupyter server (jupyter-server-proxy), and a line typed in Ada's chat pane reached Bob's
    pane and the kernel's Socket.IO client."""
    native = "WebSocket to 'news'"
    problems = [wait_for_line(page, native, "tick 2")]
    problems.append(wait_for_line(page, native, "a push from a cell in the kernel"))
    type_in(page, native, "hi from the page")
    problems.append(wait_for_line(page, native, "you said: hi from the page"))
    # Through the proxy, the server sees the Host the page asked for: the Jupyter server's.
    code = "print([connection.request.headers['Host'] for connection in pages])"
    hosts = page.evaluate(KERNEL_OUTPUT_JS, [name, code])
    if hosts.strip() != repr([urlsplit(page.url).netloc]):
        problems.append(f"the page's WebSocket came from {hosts.strip()}, not through {page.url}")

    line = "hello from Chromium"
    problems.append(wait_for_line(page, "ada", "kernel: hello from the kernel"))
    type_in(page, "ada", line)
    problems.append(wait_for_line(page, "bob", f"ada: {line}"))
    problems.append(wait_for_line(page, "ada", f"ada: {line}"))
    heard = page.evaluate(KERNEL_OUTPUT_JS, [name, "print(kernel.receive(timeout=10))"])
    expected = repr(["chat", {"from": "ada", "text": line}])
    if heard.strip() != expected:
        problems.append(f"the kernel's client should have received {expected}, got {heard!r}")
    return [f"{name}: {problem}" for problem in problems if problem]


# After the run, more checks for these lessons: file name -> problems(page, file name).
AFTER_RUN: dict[str, Callable[[pw.Page, str], list[str]]] = {
    "14_browser_clients.ipynb": browser_clients_problems,
}


# What the cells should show


def load_sanitizers(path: Path = SANITIZE_CFG) -> list[re.Pattern[str]]:
    """The ``regex`` of every section of the nbval sanitize file (none if there is no file)."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(path, encoding="utf-8")
    return [re.compile(parser[name]["regex"]) for name in parser.sections()]


def first_stdout_line(cell: Any) -> str | None:
    """The first non-empty line the saved cell printed to stdout, if any."""
    text = "".join(
        output.text
        for output in cell.get("outputs", [])
        if output.output_type == "stream" and output.name == "stdout"
    )
    return next((line.strip() for line in text.splitlines() if line.strip()), None)


def expected_pattern(line: str, sanitizers: list[re.Pattern[str]]) -> re.Pattern[str]:
    """``line`` as a regex in which whatever a sanitizer matches becomes a wildcard."""
    marker = "\0"
    for sanitizer in sanitizers:
        line = sanitizer.sub(marker, line)
    return re.compile(".+?".join(re.escape(part) for part in re.split(f"{marker}+", line)))


def label(index: int, cell: Any) -> str:
    """``cell 3 (`first line of its source`)``, to find the cell in the notebook."""
    first = next((line for line in cell.source.splitlines() if line.strip()), "")
    return f"cell {index} (`{first.strip()[:60]}`)"


def cell_problems(
    index: int, cell: Any, shown: ShownCell, sanitizers: list[re.Pattern[str]]
) -> list[str]:
    """What is wrong with how one code cell ran, as one message per problem."""
    name = label(index, cell)
    if shown.errors:
        return [f"{name} raised {error}" for error in shown.errors]
    problems = []
    if shown.stderr and ALLOW_STDERR_TAG not in cell.metadata.get("tags", []):
        problems.append(f"{name} wrote to stderr: {shown.stderr[0].strip()[:300]!r}")
    if not shown.ran:
        return [*problems, f"{name} never ran (its prompt shows {shown.prompt!r})"]
    line = first_stdout_line(cell)
    if line and not expected_pattern(line, sanitizers).search(shown.text):
        problems.append(f"{name} should print {line!r} but shows {shown.text[:300]!r}")
    return problems


def notebook_problems(cells: list[Any], shown: list[ShownCell]) -> list[str]:
    """Everything wrong with the run, one message per problem, in cell order."""
    sanitizers = load_sanitizers()
    return [
        problem
        for index, (cell, seen) in enumerate(zip(cells, shown, strict=True))
        if runnable(cell)
        for problem in cell_problems(index, cell, seen, sanitizers)
    ]


# Two pytest-xdist workers run the lessons in the browser, every other lesson each, one lesson
# after another: one JupyterLab and one Chromium per worker (make test runs --dist loadgroup).
BROWSER_RUNS = [
    pytest.param(lesson, id=lesson.name, marks=pytest.mark.xdist_group(f"browser-{index % 2}"))
    for index, lesson in enumerate(LESSONS)
]


@pytest.mark.parametrize("notebook", BROWSER_RUNS)
def test_notebook_runs_in_jupyterlab(
    notebook: Path, browser: pw.Browser, lab_server: LabServer
) -> None:
    """The lesson runs from top to bottom without errors and prints what it printed before."""
    require_what_the_lesson_needs(notebook.stem)
    cells = nbformat.read(notebook, as_version=4).cells
    page = browser.new_page(viewport=VIEWPORT)
    try:
        open_notebook(page, lab_server, notebook.name, len(cells))
        clear_and_run_all(page)
        shown = wait_until_finished(page, notebook, cells)
        after_run = AFTER_RUN.get(notebook.name, lambda page, name: [])(page, notebook.name)
        after_run += diagram_problems(page, notebook.stem, cells)
    finally:
        save_screenshot(page, notebook.stem)
        page.close()
        shutdown_kernel(lab_server, notebook.name)
    problems = notebook_problems(cells, shown) + after_run
    assert not problems, f"{notebook.name}: {len(problems)} problem(s):\n" + "\n".join(problems)
