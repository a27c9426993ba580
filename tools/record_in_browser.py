"""Store lesson 14's outputs as a reader in JupyterLab sees them, and its DevTools picture.

    python tools/record_in_browser.py [notebooks/14_browser_clients.ipynb]

``tools/refresh_outputs.py`` runs a lesson with no page, so lesson 14's panes never connect and
the cells that wait for them say so. This tool runs the lesson the way a reader does: a private
JupyterLab (the one ``tests/test_browser.py`` starts) serves a copy of ``notebooks/``, headless
Chromium runs every cell, the page's panes connect, and Ada's pane sends a line. Chromium's own
DevTools front end, opened on that page through Chromium's remote debugging port, shows the
Network panel; its Messages view of Ada's socket.io WebSocket is saved as a PNG and attached to
the lesson's markdown cell that shows ``attachment:devtools.png``. JupyterLab then saves the
notebook (with the widgets' state), and the lesson gets that run's outputs. Run
``tools/refresh_outputs.py`` first when cells were added or removed; then this.
"""

from __future__ import annotations

import base64
import json
import secrets
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests")]

import conftest  # noqa: E402  (the tests' Chromium)
import test_browser as tb  # noqa: E402  (the browser test's JupyterLab)

from helpers.processes import free_port  # noqa: E402

ATTACHMENT = "devtools.png"
DEVTOOLS_VIEWPORT = {"width": 1200, "height": 660}


def devtools_page(browser, debug_port: int, lesson: str):
    """Chromium's DevTools front end, attached to the page that shows ``lesson``."""
    with urllib.request.urlopen(f"http://127.0.0.1:{debug_port}/json", timeout=10) as answer:
        targets = json.load(answer)
    target = next(t for t in targets if t["type"] == "page" and lesson in t["url"])
    tools = browser.new_page(viewport=DEVTOOLS_VIEWPORT)
    tools.goto(
        f"http://127.0.0.1:{debug_port}/devtools/inspector.html"
        f"?ws=127.0.0.1:{debug_port}/devtools/page/{target['id']}&panel=network"
    )
    tools.get_by_text("Network", exact=True).first.wait_for(timeout=30_000)
    return tools


def picture_of_messages(tools, out: Path, sent: str) -> None:
    """Filter the Network panel on sockets, find the socket.io WebSocket that sent ``sent``
    (Ada's pane's), open its Messages tab with that message selected, and save a screenshot."""
    screencast = tools.locator("button[aria-label='Toggle screencast']")
    if screencast.count() and screencast.first.get_attribute("aria-pressed") == "true":
        screencast.first.click()  # the page's picture off: the Network panel gets the width
    tools.get_by_text("Socket", exact=True).first.click()
    rows = tools.locator("tr.data-grid-data-grid-node").filter(has_text="transport=websocket")
    for index in range(rows.count()):
        rows.nth(index).locator("td").first.click()  # the Name cell opens the details
        tools.get_by_role("tab", name="Messages").click()
        message = tools.get_by_text(sent, exact=True)
        try:
            message.first.wait_for(timeout=3000)
        except Exception:  # not this connection: the next one
            continue
        message.first.click()
        tools.wait_for_timeout(1500)
        tools.screenshot(path=out)
        return
    raise RuntimeError(f"no WebSocket in the Network panel sent {sent}")


def record(notebook: Path) -> None:
    lesson = notebook.name
    work = Path(tempfile.mkdtemp(prefix="record-14-"))
    copy = work / "notebooks"
    shutil.copytree(notebook.parent, copy, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    home = work / "home"
    home.mkdir()
    tb.NOTEBOOKS = copy
    tb.LAB_SETTINGS["@jupyter-widgets/jupyterlab-manager/plugin"] = {"saveState": True}
    port, token = free_port(), secrets.token_hex(24)
    server = tb.LabServer(f"http://127.0.0.1:{port}", token)
    (work / "checkpoints").mkdir()
    log = work / "server.log"
    debug_port = free_port()
    with log.open("wb") as output:
        lab = subprocess.Popen(
            tb.lab_command(port, token, work / "checkpoints"),
            env=tb.private_jupyter_env(home),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        tb.wait_until_up(server, lab, log)
        cells = nbformat.read(copy / lesson, as_version=4).cells
        with conftest.pw.sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(conftest.CHROMIUM),
                args=[*conftest.CHROMIUM_ARGS, f"--remote-debugging-port={debug_port}"],
                headless=True,
            )
            page = browser.new_page(viewport=tb.VIEWPORT)
            tb.open_notebook(page, server, lesson, len(cells))
            tools = devtools_page(browser, debug_port, lesson)
            tb.clear_and_run_all(page)
            shown = tb.wait_until_finished(page, copy / lesson, cells)
            problems = tb.notebook_problems(cells, shown)
            problems += tb.AFTER_RUN.get(lesson, lambda page, name: [])(page, lesson)
            if problems:
                sys.exit("the run went wrong, nothing stored:\n" + "\n".join(problems))
            picture = work / ATTACHMENT
            picture_of_messages(tools, picture, '42["chat","hello from Chromium"]')
            page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
            page.wait_for_timeout(3000)
            browser.close()
        store(notebook, nbformat.read(copy / lesson, as_version=4), picture)
    finally:
        lab.terminate()
        lab.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


def store(notebook: Path, ran: nbformat.NotebookNode, picture: Path) -> None:
    """The lesson's cells as they are, with the browser run's outputs and widget state, and the
    DevTools picture attached where the lesson shows it."""
    lesson = nbformat.read(notebook, as_version=4)
    for cell, run in zip(lesson.cells, ran.cells, strict=True):
        if cell.source != run.source:
            sys.exit(f"the lesson changed while it ran: {cell.source[:60]!r}")
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = run.outputs, run.execution_count
        elif f"attachment:{ATTACHMENT}" in cell.source:
            data = base64.b64encode(picture.read_bytes()).decode()
            cell.attachments = {ATTACHMENT: {"image/png": data}}
    if "widgets" in ran.metadata:
        lesson.metadata["widgets"] = ran.metadata["widgets"]
    nbformat.write(lesson, notebook)
    print(f"recorded {notebook} in JupyterLab (Chromium), with {ATTACHMENT}")


if __name__ == "__main__":
    record(Path(sys.argv[1] if len(sys.argv) > 1 else "notebooks/14_browser_clients.ipynb"))
