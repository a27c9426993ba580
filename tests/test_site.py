"""The tutorial's website (tools/site/build.py), built from the committed notebooks and read in
a real browser.

The site is built into a temporary folder, served on 127.0.0.1 and opened page by page in
headless Chromium (one browser for all pages): each page must load with no console error, no
failed request and no request that leaves the site, every mermaid block must have become an
SVG, every image must have loaded, and every link inside the site must lead to a page (and to
an element of it, for #anchors). Search, the lesson order and the links to run each lesson are
checked too, and a made-up lesson checks the outputs that the lessons have few or none of yet
(SVG diagrams, plots, math, widgets). Screenshots of the landing page and of lesson 02 go to
``tests/artifacts/``.

The pages load mermaid and KaTeX from ``tools/site/node_modules`` (``npm ci --prefix
tools/site``; ``make test`` runs it when npm is there). Without them, or without Chromium or
playwright, the tests are skipped; under ``REQUIRE_BROWSER=1`` or ``REQUIRE_NODE=1`` they fail.
"""

from __future__ import annotations

import base64
import functools
import http.server
import os
import re
import struct
import subprocess
import sys
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest
from bs4 import BeautifulSoup
from conftest import LESSONS, NOTEBOOKS, ROOT, pw
from test_browser import ARTIFACTS

BUILD = ROOT / "tools" / "site" / "build.py"
NODE_MODULES = ROOT / "tools" / "site" / "node_modules"
README = ROOT / "README.md"
SOLUTIONS = NOTEBOOKS / "solutions"
VIEWPORT = {"width": 1280, "height": 900}
SCREENSHOTS = {"index.html": "site-index", "02_tcp_and_the_osi_model.html": "site-02"}
DRAWN_TIMEOUT_MS = 30_000

# Whether site.js has drawn the page's diagrams and math (when it has any).
DRAWN_JS = """() => {
  const done = document.documentElement.dataset;
  return (!document.querySelector('.jp-Mermaid') || done.mermaid)
    && (!window.renderMathInElement || done.math);
}"""

# What each page reports about itself once its diagrams and math are drawn.
PAGE_REPORT_JS = """() => ({
  ids: [...document.querySelectorAll('[id]')].map(element => element.id),
  links: [...document.querySelectorAll('a[href]')].map(a => a.href),
  mermaid: [...document.querySelectorAll('.jp-Mermaid')].map(block => ({
    svg: block.querySelector('svg') !== null,
    error: block.classList.contains('jp-mod-warning')
      || block.querySelector('[aria-roledescription="error"], .error-icon') !== null,
  })),
  images: [...document.querySelectorAll('img')].map(img => ({
    src: img.src.slice(0, 60), alt: img.alt, loaded: img.complete && img.naturalWidth > 0,
  })),
  text: document.body.innerText,
  prev: document.querySelector('a[rel=prev]')?.getAttribute('href') ?? null,
  next: document.querySelector('a[rel=next]')?.getAttribute('href') ?? null,
  run: [...document.querySelectorAll('.site-run a')].map(a => a.href),
  runText: document.querySelector('.site-run')?.innerText ?? '',
  current: document.querySelector('.site-nav [aria-current=page]')?.getAttribute('href') ?? null,
  katex: document.querySelectorAll('.katex').length,
  katexErrors: document.querySelectorAll('.katex-error').length,
  widgetNotes: document.querySelectorAll('.site-widget-note').length,
})"""


def require_site_assets() -> None:
    """Skip when mermaid and KaTeX are not installed (fail under REQUIRE_BROWSER/NODE=1)."""
    if (NODE_MODULES / "mermaid" / "dist" / "mermaid.min.js").exists():
        return
    missing = f"{NODE_MODULES} is missing: run `npm ci --prefix tools/site` (make site does)"
    if "1" in (os.environ.get("REQUIRE_BROWSER"), os.environ.get("REQUIRE_NODE")):
        pytest.fail(f"REQUIRE_BROWSER/REQUIRE_NODE=1 but {missing}", pytrace=False)
    pytest.skip(missing)


def build_site(out: Path, notebooks: Path = NOTEBOOKS, readme: Path = README) -> Path:
    """Run the build as `make site` does; fail with what it said if it fails."""
    require_site_assets()
    command = [sys.executable, str(BUILD), "--out", str(out)]
    command += ["--notebooks", str(notebooks), "--readme", str(readme)]
    env = {**os.environ, "SITE_REPOSITORY": "", "GITHUB_REPOSITORY": ""}
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, f"the site build failed:\n{done.stdout}{done.stderr}"
    return out


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_site(tmp_path_factory.mktemp("site") / "_site")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def served(site: Path) -> Iterator[str]:
    """The site over HTTP on 127.0.0.1, as the code host's pages serve it."""
    yield from serve(site)


def serve(folder: Path) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


class PageWatch:
    """A browser page that notes every console error, page error, failed request, HTTP error
    and request that leaves the site, for the page it is on."""

    def __init__(self, browser: pw.Browser, base: str) -> None:
        self.base = base
        self.page = browser.new_page(viewport=VIEWPORT)
        self.problems: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        self.page.on("requestfailed", self._failed)
        self.page.on("response", self._response)
        self.page.on("request", self._request)

    def _console(self, message: pw.ConsoleMessage) -> None:
        if message.type == "error":
            self.problems.append(f"console error: {message.text}")

    def _failed(self, request: pw.Request) -> None:
        self.problems.append(f"request failed: {request.url} ({request.failure})")

    def _response(self, response: pw.Response) -> None:
        if response.status >= 400:
            self.problems.append(f"HTTP {response.status}: {response.url}")

    def _request(self, request: pw.Request) -> None:
        if not request.url.startswith((self.base, "data:", "blob:")):
            self.problems.append(f"a request outside the site: {request.url}")

    def open(self, name: str) -> dict:
        """Load the page, wait until its diagrams and math are drawn; what it reports."""
        self.problems = []
        self.page.goto(self.base + name, wait_until="load")
        self.page.wait_for_function(DRAWN_JS, timeout=DRAWN_TIMEOUT_MS)
        # Let late requests (the favicon) finish here: the next page's goto would cancel them.
        self.page.wait_for_load_state("networkidle")
        return self.page.evaluate(PAGE_REPORT_JS)

    def screenshot(self, stem: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=ARTIFACTS / f"{stem}.png", full_page=True)


def page_problems(report: dict, watch: PageWatch) -> list[str]:
    """What is wrong with one loaded page."""
    problems = list(watch.problems)
    for index, block in enumerate(report["mermaid"], start=1):
        if not block["svg"] or block["error"]:
            problems.append(f"mermaid diagram {index} was not drawn")
    for image in report["images"]:
        if not image["loaded"]:
            problems.append(f"an image did not load: {image['src']}...")
    for words in ("model not found", "Error displaying widget"):
        if words in report["text"]:
            problems.append(f"shows {words!r}")
    if report["katexErrors"]:
        problems.append(f"{report['katexErrors']} math expression(s) KaTeX could not read")
    return problems


def link_problems(site: Path, base: str, pages: dict[str, dict]) -> list[str]:
    """Links inside the site that lead nowhere: to no file, or to no element of a page."""
    problems = []
    ids = {name: set(report["ids"]) for name, report in pages.items()}
    for name, report in pages.items():
        for link in report["links"]:
            if not link.startswith(base):
                continue  # Binder, the repository: outside the site, not fetched here
            parts = urlsplit(link)
            target = unquote(parts.path).removeprefix(urlsplit(base).path) or "index.html"
            if not (site / target).is_file():
                problems.append(f"{name}: a link to {target}, which is not in the site")
            elif parts.fragment and not {parts.fragment, unquote(parts.fragment)} & ids[target]:
                problems.append(f"{name}: a link to {target}#{parts.fragment}, which is not there")
    return problems


def mermaid_blocks(notebook: Path) -> int:
    cells = nbformat.read(notebook, as_version=4).cells
    return sum(c.source.count("```mermaid") for c in cells if c.cell_type == "markdown")


def test_every_page_in_chromium(site: Path, served: str, browser: pw.Browser) -> None:
    """Every page loads cleanly with its diagrams drawn and its images shown, every link in
    the site resolves, and each lesson has its place in the order and its links to run it."""
    lessons = [lesson.stem + ".html" for lesson in LESSONS]
    names = ["index.html", *lessons]
    assert sorted(path.name for path in site.glob("*.html")) == sorted(names)
    watch = PageWatch(browser, served)
    pages, problems = {}, []
    try:
        for name in names:
            pages[name] = report = watch.open(name)
            problems += [f"{name}: {problem}" for problem in page_problems(report, watch)]
            if name in SCREENSHOTS:
                watch.screenshot(SCREENSHOTS[name])
    finally:
        watch.page.close()
    problems += link_problems(site, served, pages)

    for index, (name, notebook) in enumerate(zip(lessons, LESSONS, strict=True)):
        report = pages[name]
        expected = mermaid_blocks(notebook)
        if len(report["mermaid"]) != expected:
            problems.append(f"{name}: {len(report['mermaid'])} diagrams, not {expected}")
        order = {
            "prev": lessons[index - 1] if index else "index.html",
            "next": lessons[index + 1] if index + 1 < len(lessons) else None,
            "current": name,
        }
        problems += [
            f"{name}: {key} is {report[key]}, not {value}"
            for key, value in order.items()
            if report[key] != value
        ]
        binder = [link for link in report["run"] if "mybinder.org" in link]
        if not binder or f"notebooks/{notebook.name}" not in binder[0]:
            problems.append(f"{name}: no Binder link to notebooks/{notebook.name}: {binder}")
        if "make lab" not in report["runText"]:
            problems.append(f"{name}: the run box does not say `make lab`")

    home = pages["index.html"]
    for words in ("make lab", "make test", "For whom"):
        if words not in home["text"]:
            problems.append(f"index.html: the landing page does not say {words!r}")
    missing = [lesson for lesson in lessons if served + lesson not in home["links"]]
    if missing:
        problems.append(f"index.html: no link to {missing}")
    if pages["14_browser_clients.html"]["widgetNotes"] < 2:
        problems.append("14_browser_clients.html: its widgets do not say what they do live")
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems)


def test_search_finds_a_section(served: str, browser: pw.Browser) -> None:
    """Typing in the search box lists matching sections; Enter opens the first."""
    page = browser.new_page(viewport=VIEWPORT)
    try:
        page.goto(served + "index.html")
        page.keyboard.press("/")
        page.keyboard.type("three-way handshake")
        first = page.locator("#site-search-results a").first
        first.wait_for(timeout=10_000)
        assert "02_tcp_and_the_osi_model.html#" in first.get_attribute("href")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert "02_tcp_and_the_osi_model.html#" in page.url
        page.keyboard.press("/")
        page.keyboard.type("no such words anywhere")
        assert "Nothing found" in page.locator("#site-search-results").inner_text(timeout=10_000)
    finally:
        page.close()


def solution_lines(solution: Path, lesson: Path) -> list[str]:
    """The code lines of the solution's exercise blocks that the lesson itself (its cells and
    their stored outputs, the hints) does not hold: the answers."""
    cells = nbformat.read(lesson, as_version=4).cells
    outputs = [output for cell in cells for output in cell.get("outputs", [])]
    shown = "\n".join(
        [cell.source for cell in cells]
        + [output.get("text", "") for output in outputs]
        + [str(output.get("data", {}).get("text/plain", "")) for output in outputs]
    )
    text = solution.read_text(encoding="utf-8")
    blocks = text[text.find("# Exercise") :] if "# Exercise" in text else ""
    lines = {line.strip() for line in blocks.splitlines()}
    return sorted(
        line
        for line in lines
        if len(line) >= 12
        and not line.startswith(("#", "helpers.check(", "import ", "from "))
        and line not in shown
    )


def test_site_is_self_contained_and_keeps_the_answers_back(site: Path) -> None:
    """No page loads anything from another site; the solutions are not published, not even as
    a solved check's output, and their answers appear on no page."""
    problems = []
    for page in sorted(site.glob("*.html")):
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        for tag, attribute in (("script", "src"), ("link", "href"), ("img", "src")):
            for element in soup.find_all(tag, attrs={attribute: True}):
                if re.match(r"(https?:)?//", element[attribute]):
                    problems.append(f"{page.name}: <{tag}> from {element[attribute]}")
        text = re.sub(r"\s+", " ", soup.get_text())
        if "✅" in text:
            problems.append(f"{page.name}: shows a solved exercise (✅)")
        lesson = NOTEBOOKS / page.name.replace(".html", ".ipynb")
        for solution in SOLUTIONS.glob(page.name.replace(".html", ".py")):
            problems += [
                f"{page.name}: shows the answer {line!r}"
                for line in solution_lines(solution, lesson)
                if re.sub(r"\s+", " ", line) in text
            ]
    for css in site.rglob("*.css"):
        if re.search(r"@import|url\(\s*['\"]?(https?:)?//", css.read_text(encoding="utf-8")):
            problems.append(f"{css.relative_to(site)} loads something from another site")
    published = [p.relative_to(site) for p in site.rglob("*") if "solution" in p.name.lower()]
    problems += [f"{path} is published" for path in published]
    assert not problems, "\n".join(problems)


# A made-up lesson with the outputs the lessons will soon have or have few of


def png(width: int = 4, height: int = 3) -> str:
    """A small PNG (a blue rectangle), base64-encoded, made without any library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x19\x76\xd2" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
    data += chunk(b"IEND", b"")
    return base64.b64encode(data).decode()


SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="240" height="60" viewBox="0 0 240 60">'
    '<rect x="1" y="1" width="100" height="58" fill="#e3f0fd" stroke="#1565c0"/>'
    '<text x="50" y="35" text-anchor="middle">client</text></svg>'
)


MADE_UP_README = """# Made up

A tutorial of one lesson, [on Binder](https://mybinder.org/v2/gh/OWNER/REPOSITORY/HEAD?urlpath=lab/tree/notebooks/98_outputs.ipynb).

## Two commands

```sh
make lab
make test
```

## Lessons

| # | Lesson |
|---|--------|
| 98 | [Outputs](notebooks/98_outputs.ipynb) |
"""


def made_up_lesson(folder: Path) -> Path:
    """notebooks/98_outputs.ipynb, with every kind of output the site must draw, and its
    README."""
    v4 = nbformat.v4
    pane_state = {
        "model_name": "AnyModel",
        "state": {"_anywidget_id": "helpers.widgets.WebSocketPane", "title": "WebSocket to 'x'"},
    }
    notebook = v4.new_notebook(
        metadata={
            "widgets": {
                "application/vnd.jupyter.widget-state+json": {"state": {"pane": pane_state}}
            }
        }
    )
    widget = {"model_id": "pane", "version_major": 2, "version_minor": 0}
    unknown = {"model_id": "not-saved", "version_major": 2, "version_minor": 0}
    notebook.cells = [
        v4.new_markdown_cell(
            "# 98 · Outputs\n\nEuler: $e^{i\\pi} + 1 = 0$, and a sum:\n\n"
            "$$\\sum_{k=1}^{n} k = \\frac{n(n+1)}{2}$$\n\n"
            '```mermaid\nflowchart LR\n    sio["2[&quot;chat&quot;]"] --> eio[Engine.IO]\n```'
        ),
        v4.new_code_cell(
            "draw()",
            outputs=[
                v4.new_output(
                    "display_data", {"image/svg+xml": SVG, "text/plain": "the client box"}
                ),
                v4.new_output("display_data", {"image/png": png(), "text/plain": "<Figure>"}),
                v4.new_output("display_data", {"text/latex": "$$x^2 + y^2 = z^2$$"}),
                v4.new_output("display_data", {"text/html": "<b>bold HTML</b>"}),
            ],
            execution_count=1,
        ),
        v4.new_code_cell(
            "pane",
            outputs=[
                v4.new_output(
                    "display_data",
                    {"application/vnd.jupyter.widget-view+json": widget, "text/plain": "Pane"},
                ),
                v4.new_output(
                    "display_data",
                    {"application/vnd.jupyter.widget-view+json": unknown, "text/plain": "Slider"},
                ),
            ],
            execution_count=2,
        ),
    ]
    (folder / "notebooks").mkdir(parents=True)
    nbformat.write(notebook, folder / "notebooks" / "98_outputs.ipynb")
    (folder / "README.md").write_text(MADE_UP_README, encoding="utf-8")
    return folder


def test_site_draws_every_kind_of_output(tmp_path: Path, browser: pw.Browser) -> None:
    """SVG and PNG outputs show as images (their text form as alternative text), math is
    typeset by the KaTeX the site ships, mermaid draws, widgets become a still view with a
    note, and nothing is fetched from elsewhere."""
    made_up = made_up_lesson(tmp_path / "repository")
    site = build_site(tmp_path / "_site", made_up / "notebooks", made_up / "README.md")
    base = serve(site)
    watch = PageWatch(browser, next(base))
    try:
        report = watch.open("98_outputs.html")
        problems = page_problems(report, watch)
    finally:
        watch.page.close()
        base.close()
    alts = {image["alt"] for image in report["images"]}
    if not {"the client box", "<Figure>"} <= alts:
        problems.append(f"the images' alternative texts are {alts}")
    if len(report["images"]) != 2:
        problems.append(f"{len(report['images'])} images, not 2 (the SVG and the PNG)")
    if report["katex"] < 3:
        problems.append(f"{report['katex']} math expressions typeset, not 3")
    if len(report["mermaid"]) != 1:
        problems.append("the mermaid block is missing")
    if report["widgetNotes"] != 2 or "bold HTML" not in report["text"]:
        problems.append(f"widget notes: {report['widgetNotes']}; text: {report['text'][-400:]}")
    assert not problems, "\n".join(problems)
