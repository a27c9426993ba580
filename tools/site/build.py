"""Build the tutorial's website from the notebooks as committed: no kernel, no execution.

    python tools/site/build.py [--out _site] [--notebooks notebooks] [--readme README.md]

Every lesson (``notebooks/NN_topic.ipynb``) becomes a page, ``NN_topic.html``, its stored
outputs drawn by nbconvert's JupyterLab template with JupyterLab's own CSS, so the site shows
exactly what CI checked. ``index.html``, the landing page, is made from the README: its
introduction, its two commands and its lesson table. The exercise solutions
(``notebooks/solutions/``) are not published: links to them go to the repository.

Everything a page loads is in the built folder: JupyterLab's CSS (shipped by nbconvert),
mermaid and KaTeX (from ``tools/site/node_modules``: ``npm ci --prefix tools/site``, pinned in
``tools/site/package-lock.json``), and the site's own CSS and JavaScript (``static/``).
Nothing is downloaded while building or while reading.

The Binder and repository links use the repository of the README's Binder link. While that is
the ``OWNER/REPOSITORY`` placeholder, ``$SITE_REPOSITORY`` or, on GitHub Actions,
``$GITHUB_REPOSITORY`` (``owner/name``) fills it in.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import shutil
import sys
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

import jinja2
import nbformat
from bs4 import BeautifulSoup, Tag
from jupyterlab_pygments import JupyterStyle
from markupsafe import Markup
from nbconvert import HTMLExporter, TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
from pygments.formatters import HtmlFormatter

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
NODE_MODULES = HERE / "node_modules"
WIDGET_NOTES = HERE / "widgets.toml"

# What the pages load from node_modules, and where it goes in the site.
VENDOR = {
    "mermaid/dist/mermaid.min.js": "assets/vendor/mermaid.min.js",
    "mermaid/LICENSE": "assets/vendor/mermaid.LICENSE.txt",
    "katex/dist/katex.min.js": "assets/vendor/katex/katex.min.js",
    "katex/dist/katex.min.css": "assets/vendor/katex/katex.min.css",
    "katex/dist/contrib/auto-render.min.js": "assets/vendor/katex/auto-render.min.js",
    "katex/dist/fonts": "assets/vendor/katex/fonts",
    "katex/LICENSE": "assets/vendor/katex/LICENSE.txt",
}
MARKER = ".built-by-tools-site"  # a folder is emptied before a build only if it has this file
LESSON_GLOB = "[0-9][0-9]_*.ipynb"
BINDER_LINK = re.compile(r"https://mybinder\.org/v2/gh/([^/\s]+)/([^/\s]+)/([^?\s)]+)\?[^)\s]*")
PLACEHOLDER = "OWNER/REPOSITORY"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
TEX = re.compile(r"\$[^$\s]|\\\(|\\\[|\\begin\{")
# The README's sections on the landing page: (its heading, "" for the introduction).
LANDING = {"intro": "", "commands": "Two commands", "lessons": "Lessons"}
LANDING_IDS = ("two-commands", "lessons")  # the ids page.html.j2 gives those headings


class SiteError(Exception):
    """The notebooks or the README say something the site cannot be built from."""


@dataclass
class Lesson:
    path: Path
    number: str  # "02"
    title: str  # "TCP and the OSI model"
    notebook: Any
    html: str = ""
    toc: list[dict[str, Any]] = field(default_factory=list)
    sections: list[dict[str, str]] = field(default_factory=list)
    has_mermaid: bool = False
    has_math: bool = False

    @property
    def page(self) -> str:
        return f"{self.path.stem}.html"

    @property
    def label(self) -> str:
        return f"{self.number} · {self.title}"


@dataclass(frozen=True)
class Repository:
    """Where the tutorial lives on the code host: for Binder and for links to its files."""

    slug: str  # owner/name, or the README's placeholder
    ref: str
    binder_template: str  # the README's Binder link, {path} standing for the notebook

    @property
    def known(self) -> bool:
        return self.slug != PLACEHOLDER

    @property
    def url(self) -> str:
        return f"https://github.com/{self.slug}"

    def file_url(self, path: str) -> str:
        return f"{self.url}/blob/{self.ref}/{path}"

    def binder_url(self, notebook: str) -> str:
        return self.binder_template.format(path=notebook)


# Reading the README and the notebooks


def find_repository(readme: str) -> Repository:
    """The repository in the README's Binder link, its placeholder filled in when the
    environment names the repository."""
    match = BINDER_LINK.search(readme)
    if not match:
        raise SiteError("README.md has no Binder link (https://mybinder.org/v2/gh/...)")
    link, slug, ref = match.group(0), f"{match.group(1)}/{match.group(2)}", match.group(3)
    given = os.environ.get("SITE_REPOSITORY") or os.environ.get("GITHUB_REPOSITORY") or ""
    if slug == PLACEHOLDER and re.fullmatch(r"[\w.-]+/[\w.-]+", given):
        link, slug = link.replace(PLACEHOLDER, given, 1), given
    escaped = link.replace("{", "{{").replace("}", "}}")
    template = re.sub(r"notebooks/[^&\s)]+\.ipynb", "{path}", escaped)
    if "{path}" not in template:
        raise SiteError(f"the README's Binder link opens no notebook: {link}")
    return Repository(slug, ref, template)


def read_lessons(notebooks: Path) -> list[Lesson]:
    """The lessons in order, each titled by the '# NN · Title' its first cell starts with."""
    lessons = []
    for path in sorted(notebooks.glob(LESSON_GLOB)):
        notebook = nbformat.read(path, as_version=4)
        first = next((c for c in notebook.cells if c.cell_type == "markdown"), None)
        heading = re.match(r"#\s+(.+)", first.source.lstrip()) if first else None
        if not heading:
            raise SiteError(f"{path.name}: its first Markdown cell must start with '# NN · Title'")
        title = re.sub(rf"^{path.name[:2]}\s*[·.:-]\s*", "", heading.group(1).strip())
        lessons.append(Lesson(path, path.name[:2], title, notebook))
    if not lessons:
        raise SiteError(f"no lessons ({LESSON_GLOB}) in {notebooks}")
    return lessons


def readme_sections(readme: str) -> tuple[str, dict[str, str]]:
    """The README's title, and its Markdown by heading: under "" the text before the first
    section, then each heading's text up to the next heading of any level."""
    title, current, fenced = "", "", False
    sections: dict[str, list[str]] = {"": []}
    for line in readme.splitlines():
        fenced ^= line.startswith("```")
        heading = None if fenced else re.match(r"(#{1,6})\s+(.*)", line)
        if heading and heading.group(1) == "#" and not title:
            title = heading.group(2).strip()
        elif heading:
            current = heading.group(2).strip()
            sections[current] = []
        else:
            sections[current].append(line)
    return title, {name: "\n".join(lines).strip() for name, lines in sections.items()}


# Widgets: what the live page showed, drawn still


class _Blank(dict):
    """For str.format_map(): an unknown field is empty."""

    def __missing__(self, key: str) -> str:
        return ""


class WidgetRenderer:
    """HTML for widget outputs, from the widget state saved in the notebook: progress bars and
    text as the run left them, and for the lessons' own widgets (anywidget) a still pane with
    a note (widgets.toml) on what it does when the lesson runs."""

    BOXES = ("HBoxModel", "VBoxModel", "BoxModel", "GridBoxModel")

    def __init__(
        self, notebook: Any, notes: dict[str, dict[str, str]], markdown: Callable[[str], str]
    ) -> None:
        state = notebook.metadata.get("widgets", {}).get(WIDGET_STATE, {})
        self.models = state.get("state", {})
        self.notes = notes
        self.markdown = markdown

    def note(self, key: str) -> str:
        return f'<div class="site-widget-note">{self.markdown(self.notes[key]["text"])}</div>'

    def output(self, output: Any) -> str:
        """The HTML for one widget output."""
        kinds: list[str] = []
        view = self.view(output.data[WIDGET_VIEW].get("model_id", ""), kinds)
        if view is None:  # a widget the site cannot draw: its text form, and a note
            text = html.escape(output.data.get("text/plain", ""))
            view, kinds = f'<pre class="site-widget-fallback">{text}</pre>', ["default"]
        notes = "".join(self.note(kind) for kind in dict.fromkeys(kinds))
        return f'<div class="site-widget">{view}{notes}</div>'

    def view(self, model_id: str, kinds: list[str]) -> str | None:
        """One model's HTML (its children's too), or None if the site cannot draw it."""
        model = self.models.get(model_id.removeprefix("IPY_MODEL_"))
        if model is None:
            return None
        name, state = model["model_name"], model["state"]
        description = html.escape(state.get("description") or "")
        if name in self.BOXES:
            children = [self.view(child, kinds) for child in state.get("children", [])]
            if any(child is None for child in children):
                return None
            kind = "vbox" if name == "VBoxModel" else "hbox"
            return f'<div class="site-widget-{kind}">{"".join(map(str, children))}</div>'
        if name == "HTMLModel":  # HTML that the lesson's own code wrote (tqdm's progress text)
            return f'<span class="site-widget-text">{description}{state.get("value", "")}</span>'
        if name == "LabelModel":
            value = html.escape(str(state.get("value", "")))
            return f'<span class="site-widget-text">{description}{value}</span>'
        if name in ("FloatProgressModel", "IntProgressModel"):
            value, top = state.get("value", 0), state.get("max", 100)
            return (
                f'<span class="site-widget-text">{description}</span>'
                f'<progress class="site-widget-progress" max="{top}" value="{value}">'
                f"{value}/{top}</progress>"
            )
        kind = state.get("_anywidget_id", "")
        if name == "AnyModel" and kind in self.notes:
            kinds.append(kind)
            label = self.notes[kind].get("label", kind).format_map(_Blank(state))
            return (
                f'<div class="site-widget-pane"><b>{html.escape(label)}</b>'
                '<span class="site-widget-status">live when you run the lesson</span></div>'
            )
        return None


# Rendering the notebooks


class SiteRenderer(IPythonRenderer):
    """nbconvert's Markdown renderer, but a mermaid block's source is HTML-escaped, so that the
    page's text is the diagram's source, character for character (lesson 09's has &quot;)."""

    def block_mermaidjs(self, code: str) -> str:
        source = html.escape(code.strip(), quote=False)
        return f'<div class="jp-Mermaid"><pre class="mermaid">{source}</pre></div>'


class SiteExporter(HTMLExporter):
    """nbconvert's JupyterLab exporter, writing only the cells (templates/cells.html.j2)."""

    def __init__(self) -> None:
        super().__init__(
            template_name="lab",
            template_file="cells.html.j2",
            extra_template_basedirs=[str(TEMPLATES)],
            extra_template_paths=[str(TEMPLATES)],
        )

    @jinja2.pass_context
    def markdown2html(self, context: Any, source: str) -> str:
        cell = context.get("cell", {})
        renderer = SiteRenderer(
            escape=False,
            attachments=cell.get("attachments", {}),
            anchor_link_text="#",
            **self.lexer_options,
        )
        return MarkdownWithMath(renderer=renderer).render(source)

    def markdown(self, text: str) -> str:
        return self.markdown2html({}, text)

    def from_notebook_node(self, nb: Any, resources: Any = None, **kw: Any) -> tuple[str, Any]:
        """HTMLExporter's conversion without its last step, a BeautifulSoup pass (slower than
        all the rest) that adds alt texts, which cells.html.j2 writes, and tabindex, which
        render_lesson() adds. The widgets are gone by now: no widget filter is needed."""
        language = nb.metadata.get("language_info", {})
        lexer = language.get("pygments_lexer", language.get("name"))
        self.register_filter("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self))
        return TemplateExporter.from_notebook_node(self, nb, resources, **kw)


def rewrite_links(
    soup: BeautifulSoup, folder: str, lessons: dict[str, Lesson], repo: Repository, where: str
) -> None:
    """A link to a lesson goes to its page; any other relative link (a solution, a data file,
    the docs) to the file in the repository. ``folder``: where the links start from."""
    for anchor in soup.find_all("a", href=True):
        href = anchor["href"]
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or href.startswith("#"):
            continue
        lesson = lessons.get(PurePosixPath(parts.path).name)
        if lesson:
            anchor["href"] = lesson.page + (f"#{parts.fragment}" if parts.fragment else "")
            continue
        if parts.path.endswith(".ipynb"):
            raise SiteError(f"{where}: links to a notebook that is not a lesson: {href}")
        path = os.path.normpath(os.path.join(folder, parts.path)).replace(os.sep, "/")
        if path.startswith("../"):
            raise SiteError(f"{where}: links to a file outside the repository: {href}")
        anchor["href"] = repo.file_url(path)


def heading_text(heading: Tag) -> str:
    """A heading's text, without its anchor link."""
    parts = [
        text
        for text in heading.find_all(string=True)
        if not text.find_parent("a", class_="anchor-link")
    ]
    return re.sub(r"\s+", " ", "".join(parts)).strip()


def plain_text(node: Tag) -> str:
    return re.sub(r"\s+", " ", node.get_text()).strip()


def has_math(soup: BeautifulSoup, notebook: Any) -> bool:
    """Whether KaTeX has work on the page: TeX in Markdown text (not in code), or a
    text/latex output."""
    if soup.select_one(".jp-RenderedLatex"):
        return True
    if not any(TEX.search(cell.source) for cell in notebook.cells if cell.cell_type == "markdown"):
        return False  # the quick answer, for most lessons
    return any(
        text.find_parent(["code", "pre"]) is None and TEX.search(text)
        for block in soup.select(".jp-RenderedMarkdown")
        for text in block.find_all(string=True)
    )


def search_sections(soup: BeautifulSoup, lesson: Lesson) -> list[dict[str, str]]:
    """The lesson's text by section (a heading and what follows it), for the search box:
    u(rl), p(age), t(itle), x (the text: Markdown and code, not outputs)."""
    sections = [{"u": lesson.page, "p": lesson.label, "t": lesson.label, "x": ""}]
    for node in soup.select(".jp-RenderedMarkdown > *, .jp-InputArea-editor"):
        if node.name in ("h2", "h3") and node.get("id"):
            link = f"{lesson.page}#{node['id']}"
            sections.append({"u": link, "p": lesson.label, "t": heading_text(node), "x": ""})
        elif node.name != "h1":
            sections[-1]["x"] += " " + plain_text(node)
    for section in sections:
        section["x"] = section["x"].strip()
    return sections


def render_lesson(
    exporter: SiteExporter,
    lesson: Lesson,
    lessons: dict[str, Lesson],
    repo: Repository,
    notes: dict[str, dict[str, str]],
) -> None:
    """The lesson's cells as HTML, with its table of contents and its search entries."""
    notebook = lesson.notebook
    widgets = WidgetRenderer(notebook, notes, exporter.markdown)
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if WIDGET_VIEW in output.get("data", {}):
                output.data = nbformat.from_dict({"text/html": widgets.output(output)})
    notebook.metadata.pop("widgets", None)
    cells, _ = exporter.from_notebook_node(notebook, {"metadata": {"name": lesson.title}})
    soup = BeautifulSoup(cells, "html.parser")
    rewrite_links(soup, "notebooks", lessons, repo, lesson.path.name)
    for heading in soup.select(".jp-RenderedMarkdown :is(h1, h2, h3, h4, h5, h6)[id]"):
        # nbconvert percent-encodes the ids it makes; JupyterLab's are plain text, and links
        # written either way find a plain id (browsers decode a #fragment to look it up)
        heading["id"] = unquote(heading["id"])
        for anchor in heading.select("a.anchor-link"):
            anchor["href"] = f"#{heading['id']}"
    for scrolling in soup.select(".jp-OutputArea-output, .jp-InputArea-editor"):
        scrolling["tabindex"] = "0"  # wide code and outputs scroll: keyboards can too
    lesson.toc = [
        {"id": heading["id"], "title": heading_text(heading), "level": int(heading.name[1])}
        for heading in soup.select(".jp-RenderedMarkdown :is(h2, h3)[id]")
    ]
    lesson.sections = search_sections(soup, lesson)
    lesson.has_mermaid = soup.select_one(".jp-Mermaid") is not None
    lesson.has_math = has_math(soup, notebook)
    lesson.html = str(soup)


def landing_sections(
    exporter: SiteExporter, readme: str, lessons: dict[str, Lesson], repo: Repository
) -> tuple[str, dict[str, Markup], str]:
    """The README's title, its sections for the landing page as HTML, and its introduction as
    plain text (for search)."""
    title, sections = readme_sections(readme)
    missing = [name or "an introduction" for name in LANDING.values() if not sections.get(name)]
    if missing or not title:
        raise SiteError(f"README.md lacks what the landing page shows: {missing or 'a title'}")
    soups = {
        key: BeautifulSoup(exporter.markdown(sections[name]), "html.parser")
        for key, name in LANDING.items()
    }
    shown = {tag["id"] for soup in soups.values() for tag in soup.find_all(id=True)}
    shown |= set(LANDING_IDS)
    for key, soup in soups.items():
        rewrite_links(soup, ".", lessons, repo, f"README.md ({LANDING[key] or 'introduction'})")
        for anchor in soup.select('a[href^="#"]'):
            if anchor["href"][1:] not in shown:  # a section of the README not on the page
                anchor["href"] = repo.file_url("README.md") + anchor["href"]
    parts = {key: Markup(str(soup)) for key, soup in soups.items()}
    return title, parts, plain_text(soups["intro"])


# Writing the site


def prepare_output(out: Path) -> None:
    """An empty output folder: a new one, or one that this script made before."""
    if out.exists():
        if any(out.iterdir()) and not (out / MARKER).exists():
            raise SiteError(f"{out} has files that this script did not write: not touching it")
        shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / MARKER).write_text("tools/site/build.py empties this folder on every build\n")


def copy_vendor(out: Path) -> None:
    """mermaid and KaTeX, from node_modules."""
    missing = [name for name in VENDOR if not (NODE_MODULES / name).exists()]
    if missing:
        raise SiteError(
            f"{NODE_MODULES} lacks {', '.join(missing)}: run `npm ci --prefix tools/site`"
            " (make site does)"
        )
    for source, target in VENDOR.items():
        (out / target).parent.mkdir(parents=True, exist_ok=True)
        if (NODE_MODULES / source).is_dir():
            shutil.copytree(NODE_MODULES / source, out / target)
        else:
            shutil.copyfile(NODE_MODULES / source, out / target)


def write_assets(out: Path, exporter: SiteExporter) -> None:
    """JupyterLab's CSS with its light theme (as nbconvert ships them) and the code colours
    in one file; then the site's own files."""
    env = exporter.environment
    lab = [
        env.loader.get_source(env, f"static/{css}")[0] for css in ("index.css", "theme-light.css")
    ]
    colours = HtmlFormatter(style=JupyterStyle).get_style_defs(".highlight")
    (out / "assets").mkdir(exist_ok=True)
    (out / "assets" / "jupyterlab.css").write_text("\n".join([*lab, colours]), encoding="utf-8")
    for file in STATIC.iterdir():
        shutil.copyfile(file, out / "assets" / file.name)


def write_search_index(out: Path, entries: list[dict[str, str]]) -> None:
    """A script rather than JSON to fetch, so that search works from file:// too."""
    payload = json.dumps(entries, ensure_ascii=False, separators=(",", ":"))
    (out / "assets" / "search-index.js").write_text(
        f"window.SITE_SEARCH_INDEX = {payload};\n", encoding="utf-8"
    )


def page_environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def build(out: Path, notebooks: Path, readme_path: Path) -> dict[str, Any]:
    """Write the site into ``out``; its page count and how long it took."""
    started = time.perf_counter()
    readme = readme_path.read_text(encoding="utf-8")
    repo = find_repository(readme)
    lessons = read_lessons(notebooks)
    by_file = {lesson.path.name: lesson for lesson in lessons}
    with WIDGET_NOTES.open("rb") as file:
        notes = tomllib.load(file)
    exporter = SiteExporter()
    for lesson in lessons:
        render_lesson(exporter, lesson, by_file, repo, notes)
    site_title, home, intro = landing_sections(exporter, readme, by_file, repo)

    prepare_output(out)
    copy_vendor(out)
    write_assets(out, exporter)
    home_entry = {"u": "index.html", "p": site_title, "t": site_title, "x": intro}
    write_search_index(out, [home_entry] + [s for lesson in lessons for s in lesson.sections])

    template = page_environment().get_template("page.html.j2")
    common = {"site_title": site_title, "lessons": lessons, "repo": repo}
    pages = {
        "index.html": template.render(
            common, kind="home", title=site_title, current=None, home=home,
            has_mermaid=False, has_math=False,
        )
    }  # fmt: skip
    for index, lesson in enumerate(lessons):
        pages[lesson.page] = template.render(
            common,
            kind="lesson",
            title=f"{lesson.label} · {site_title}",
            current=lesson,
            previous=lessons[index - 1] if index else None,
            next=lessons[index + 1] if index + 1 < len(lessons) else None,
            content=Markup(lesson.html),
            binder=repo.binder_url(f"notebooks/{lesson.path.name}"),
            has_mermaid=lesson.has_mermaid,
            has_math=lesson.has_math,
        )
    for name, text in pages.items():
        (out / name).write_text(text, encoding="utf-8")
    return {"pages": len(pages), "seconds": time.perf_counter() - started, "out": out}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "_site", help="default: _site/")
    parser.add_argument("--notebooks", type=Path, default=ROOT / "notebooks")
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md")
    args = parser.parse_args(argv)
    try:
        done = build(args.out.resolve(), args.notebooks.resolve(), args.readme.resolve())
    except SiteError as error:
        print(f"site: {error}", file=sys.stderr)
        return 1
    print(f"site: {done['pages']} pages in {done['out']} ({done['seconds']:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
