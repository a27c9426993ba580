"""Sequence diagrams: who sent what to whom, one arrow per message, drawn from real traffic.

    tap.diagram("websocket")                 # what passed through a tap (helpers.tap)
    tcp.diagram()                            # captured packets (helpers.capture)
    diagram.merge(                           # several hops, each seen by its own tap
        to_node.diagram("socketio", client="ada", server="node-a"),
        to_redis.diagram("raw", client="node-a", server="Redis"),
    )

Each party has a lifeline. Each message is an arrow from its sender's lifeline to its
receiver's, in the order the messages passed, with a label to read above it (a request
line, TCP flags, a frame, a Socket.IO packet), sometimes a second line below it (what is
inside) and its size in bytes on the right. Arrows from a client to its server are blue,
answers orange, in every diagram. A note across the lifelines marks where time passed, or
where messages are left out.

A :class:`Diagram` shows itself in a notebook as a picture, an SVG drawn by this module
(no JavaScript, fonts or network; it paints its own light panel, so dark themes show it
too, and carries a title and a description of every arrow for screen readers), and as
text: the same ladder in characters, for wherever pictures do not show, and which nbval
compares. ``print(diagram)`` prints the text; ``diagram.svg()`` is the picture.

Protocol and drawing are separate: the adapters (``Tap.diagram``, ``Capture.diagram``) turn
a recording into :class:`Message` objects; :func:`layout` places them on a grid of
character columns; :func:`to_svg` and :func:`to_text` draw that one grid.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

__all__ = [
    "PAUSE",
    "Arrow",
    "Band",
    "Diagram",
    "Layout",
    "Message",
    "Note",
    "Text",
    "choose_connections",
    "layout",
    "merge",
    "name_clients",
    "to_svg",
    "to_text",
]

PAUSE = 1.0
"""Seconds between two messages from which a diagram notes that time passed."""


# --- What a diagram shows ------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """One arrow: ``sender`` sent ``label`` to ``receiver``.

    ``size`` is its bytes on the wire; ``detail`` a second line (what is inside); ``time``
    when it passed, in seconds on any one clock (for pauses and :func:`merge`);
    ``to_server`` whether it went from a client to its server (blue) or back (orange);
    ``dashed`` draws the end of a stream rather than data.
    """

    sender: str
    receiver: str
    label: str
    size: int | None = None
    detail: str = ""
    time: float | None = None
    to_server: bool = True
    dashed: bool = False


@dataclass(frozen=True)
class Note:
    """A note across every lifeline: time passed, or messages are left out."""

    text: str


class Diagram:
    """A sequence diagram of ``messages`` between ``parties`` (lifelines, left to right).

    ``parties`` defaults to everyone who sends or receives, in order of appearance.
    ``first`` and ``last`` keep that many messages from the start and from the end, with a
    note saying how many are left out. A gap of ``pause`` seconds or more between two
    messages becomes a note (``pause=None``: never). With no messages it shows ``empty``.

    In a notebook it displays as a picture (with the text beside it, for nbval and for
    wherever pictures do not show); :meth:`svg` and :meth:`text` give each on its own.
    """

    def __init__(
        self,
        messages: Iterable[Message],
        parties: Sequence[str] | None = None,
        *,
        first: int | None = None,
        last: int | None = None,
        pause: float | None = PAUSE,
        empty: str = "(no messages)",
    ) -> None:
        self.messages = tuple(messages)  #: every message, before ``first``/``last``
        self.parties = tuple(_parties(self.messages) if parties is None else parties)
        _check_parties(self.parties, self.messages)
        self.rows = _rows(self.messages, _count("first", first), _count("last", last), pause)
        self.empty = empty

    def text(self) -> str:
        """The diagram as a text ladder (also what nbval compares)."""
        return to_text(layout(self))

    def svg(self) -> str:
        """The diagram as a self-contained SVG picture."""
        return to_svg(layout(self))

    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> dict[str, str]:
        placed = layout(self)
        return {"text/plain": to_text(placed), "image/svg+xml": to_svg(placed)}

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        return f"<Diagram: {len(self.messages)} messages between {', '.join(self.parties)}>"


def merge(
    *diagrams: Diagram,
    parties: Sequence[str] | None = None,
    first: int | None = None,
    last: int | None = None,
    pause: float | None = PAUSE,
) -> Diagram:
    """One diagram of every message of ``diagrams``, in the order they passed.

    Made for hops that each have a tap (a client to its server, that server to Redis...):
    name each tap's ends in its ``diagram(client=..., server=...)`` so that a party that is
    the server of one hop and the client of the next shares one lifeline. Lifelines come
    in order of appearance unless ``parties`` gives the order. Every message of each
    diagram counts (their own ``first``/``last`` do not): cut the merged one instead.
    """
    if not diagrams:
        raise ValueError("merge() needs at least one diagram, such as tap.diagram()")
    messages = [message for diagram in diagrams for message in diagram.messages]
    if any(message.time is None for message in messages):
        raise ValueError(
            "merge() orders messages by the time they passed, and captured packets carry no "
            "time: merge the diagrams of taps"
        )
    everyone = parties or list(dict.fromkeys(p for diagram in diagrams for p in diagram.parties))
    ordered = sorted(messages, key=lambda message: message.time or 0.0)
    empty = diagrams[0].empty
    return Diagram(ordered, everyone, first=first, last=last, pause=pause, empty=empty)


def choose_connections(connections: int | Iterable[int] | None, recorded: list[int]) -> list[int]:
    """The connection numbers to draw: all of ``recorded``, or those ``connections`` names.

    Raises ``ValueError`` with a sentence naming the recorded ones if one does not exist.
    """
    if connections is None:
        return recorded
    wanted = [connections] if isinstance(connections, int) else list(connections)
    for number in wanted:
        if number not in recorded:
            choices = ", ".join(map(str, recorded)) or "none yet"
            raise ValueError(
                f"there is no connection {number!r} in this recording: choose among the "
                f"connections recorded ({choices}), numbered as show() numbers them"
            )
    return sorted(set(wanted))


def name_clients(client: str | Mapping[int, str] | None, numbers: list[int]) -> dict[int, str]:
    """Each connection's client lifeline. ``None``: one each, ``"client"`` for a lone
    connection or ``"client 1"``, ``"client 2"``... A name: one lifeline for them all (one
    program's connections). A mapping: the name of each (``"client N"`` for those left out).
    """
    if client is None:
        return {n: "client" if len(numbers) == 1 else f"client {n}" for n in numbers}
    if isinstance(client, str):
        return dict.fromkeys(numbers, client)
    return {number: client.get(number, f"client {number}") for number in numbers}


def _parties(messages: Sequence[Message]) -> list[str]:
    return list(dict.fromkeys(p for m in messages for p in (m.sender, m.receiver)))


def _check_parties(parties: Sequence[str], messages: Sequence[Message]) -> None:
    if len(set(parties)) != len(parties):
        raise ValueError(f"each party needs a lifeline of its own, but {list(parties)} repeats")
    for message in messages:
        if message.sender == message.receiver:
            raise ValueError(f"{message.sender!r} cannot send a message to itself")
        for party in (message.sender, message.receiver):
            if party not in parties:
                raise ValueError(f"{party!r} has a message but no lifeline: add it to parties")


def _count(name: str, value: int | None) -> int | None:
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
        return value
    raise ValueError(f"{name} is a number of messages (0 or more), not {value!r}")


def _rows(
    messages: Sequence[Message], first: int | None, last: int | None, pause: float | None
) -> tuple[Message | Note, ...]:
    """The messages kept by ``first``/``last``, with notes for the gaps and the cuts."""
    rows: list[Message | Note] = []
    before = -1
    for index in _kept(len(messages), first, last):
        if index > before + 1:
            rows.append(_left_out(index - before - 1))
        elif before >= 0:
            rows.extend(_pause(messages[before], messages[index], pause))
        rows.append(messages[index])
        before = index
    if len(messages) > before + 1:
        rows.append(_left_out(len(messages) - before - 1))
    return tuple(rows)


def _kept(total: int, first: int | None, last: int | None) -> list[int]:
    if first is None and last is None:
        return list(range(total))
    head = range(min(first or 0, total))
    return [*head, *range(max(total - (last or 0), len(head)), total)]


def _left_out(count: int) -> Note:
    return Note(f"… {count} message{'' if count == 1 else 's'} not shown …")


def _pause(earlier: Message, later: Message, pause: float | None) -> list[Note]:
    """A note when ``pause`` seconds or more passed between two messages.

    The seconds are measured, so they differ a little from run to run: tests/sanitize.cfg
    replaces the number, and a lesson picks ``pause`` well away from its usual gaps.
    """
    if pause is None or earlier.time is None or later.time is None:
        return []
    gap = later.time - earlier.time
    return [Note(f"… {gap:.1f} s pass …")] if gap >= pause else []


# --- Layout: one grid of character columns for both drawings --------------------------------

WIDTH = 104
"""Columns of the ladder. The text has one character per column; the SVG 7.25 px."""

CHAR = 7.25  # px per column: a 12 px monospace character
PAD = 16  # px between the panel's edge and the drawing
GUTTER = 76  # px right of the ladder, for the sizes
SHOWN_WIDTH = 800  # px on the page at most: a notebook's output area next to its file browser
NAME_HEIGHT = 26  # px of a party's name box
FOOTER_AFTER = 12  # rows from which the names are repeated at the bottom
MAX_NAME = 12  # characters of a party's name
MAX_WORD = 32  # a cut never splits a word (a session id, a time) shorter than this
_WORD_CHAR = re.compile(r"[\w./+=-]")
_WORD_END = re.compile(r"[\w./+=-]+$")


@dataclass(frozen=True)
class Text:
    """A line of text on the grid: from ``column`` on, or up to it (``anchor="end"``), or
    centred on it (``anchor="middle"``)."""

    text: str
    column: int
    anchor: str = "start"

    @property
    def columns(self) -> tuple[int, int]:
        """The first column the text covers and the one after its last."""
        if self.anchor == "end":
            return self.column - len(self.text), self.column
        start = self.column - len(self.text) // 2 if self.anchor == "middle" else self.column
        return start, start + len(self.text)


@dataclass(frozen=True)
class Arrow:
    """A message placed: from lifeline column ``start`` to ``end``, its row at ``top`` px."""

    start: int
    end: int
    label: Text
    detail: Text | None
    size: str
    to_server: bool
    dashed: bool
    top: float

    @property
    def label_y(self) -> float:
        """The label's baseline, in px."""
        return self.top + 13

    @property
    def arrow_y(self) -> float:
        return self.top + 21

    @property
    def detail_y(self) -> float:
        return self.top + 35

    @property
    def height(self) -> float:
        return 44 if self.detail else 31


@dataclass(frozen=True)
class Band:
    """A note placed across the lifelines, its row at ``top`` px."""

    text: Text
    top: float
    height: float = 30

    @property
    def text_y(self) -> float:
        return self.top + 19


@dataclass(frozen=True)
class Layout:
    """Where everything goes: lifeline columns, names, rows; the picture's size; its words
    for screen readers (``title`` and one ``description`` line per row)."""

    names: tuple[Text, ...]
    columns: tuple[int, ...]
    rows: tuple[Arrow | Band, ...]
    footer: bool
    width: float
    height: float
    title: str
    description: tuple[str, ...]
    empty: str


def layout(diagram: Diagram) -> Layout:
    """Place ``diagram`` on the grid: a pure function of the diagram, so both drawings (and
    every run) put the same text in the same places."""
    columns = _lifelines(len(diagram.parties))
    most = min(MAX_NAME, _spacing(columns) - 2)
    names = tuple(
        Text(_elide(_printable(name), most), column, "middle")
        for name, column in zip(diagram.parties, columns, strict=True)
    )
    top: float = PAD + NAME_HEIGHT + 10
    rows: list[Arrow | Band] = []
    for row in diagram.rows:
        placed = _place(row, diagram.parties, columns, top)
        rows.append(placed)
        top += placed.height
    footer = len(rows) > FOOTER_AFTER
    height = top + (10 + NAME_HEIGHT if footer else 0) + PAD
    shown = sum(isinstance(row, Message) for row in diagram.rows)
    title = f"Sequence diagram of {shown} messages between {', '.join(diagram.parties)}"
    return Layout(
        names=names,
        columns=tuple(columns),
        rows=tuple(rows),
        footer=footer,
        width=PAD + WIDTH * CHAR + GUTTER + PAD,
        height=height if diagram.rows else PAD * 2 + 28,
        title=title if diagram.rows else diagram.empty,
        description=tuple(_describe(row) for row in diagram.rows),
        empty="" if diagram.rows else diagram.empty,
    )


def _lifelines(count: int) -> list[int]:
    if count == 1:
        return [WIDTH // 2]
    left, right = 6, WIDTH - 7
    return [left + round(i * (right - left) / (count - 1)) for i in range(count)]


def _spacing(columns: list[int]) -> int:
    return min((b - a for a, b in itertools.pairwise(columns)), default=WIDTH)


def _place(
    row: Message | Note, parties: Sequence[str], columns: list[int], top: float
) -> Arrow | Band:
    if isinstance(row, Note):
        return Band(Text(_elide(_printable(row.text), WIDTH - 4), WIDTH // 2, "middle"), top)
    start = columns[parties.index(row.sender)]
    end = columns[parties.index(row.receiver)]
    return Arrow(
        start=start,
        end=end,
        label=_beside(row.label, start, end),
        detail=_beside(row.detail, start, end) if row.detail else None,
        size=_bytes(row.size),
        to_server=row.to_server,
        dashed=row.dashed,
        top=top,
    )


def _beside(text: str, sender: int, receiver: int) -> Text:
    """Text by the sender's lifeline, running towards the receiver (past it if it is long),
    or by the receiver's if that leaves more room (an arrow from a middle lifeline).

    Its room depends only on where the lifelines are, never on the text, so the text is
    cut at the same column on every run.
    """
    text = _printable(text)
    left, right = sorted((sender, receiver))
    rightwards, leftwards = WIDTH - left - 2, right - 1  # room from each end of the arrow
    if rightwards > leftwards or (rightwards == leftwards and sender == left):
        return Text(_elide(text, rightwards), left + 2)
    return Text(_elide(text, leftwards), right - 1, "end")


def _bytes(size: int | None) -> str:
    if size is None:
        return ""
    return f"{size} byte" + ("" if size == 1 else "s")


def _printable(text: str) -> str:
    """``text`` with control characters (and others XML cannot carry) written as escapes."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _elide(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, ending in "…" when cut.

    A cut never splits a short word: a session id or a time is left out whole, so what
    remains is the same on every run once tests/sanitize.cfg has replaced such values.
    """
    if len(text) <= limit:
        return text
    kept = text[: max(limit - 1, 0)]
    word = _WORD_END.search(kept)
    if word and _WORD_CHAR.match(text[len(kept)]) and len(word.group()) <= MAX_WORD:
        kept = kept[: word.start()]
    return kept + "…"


def _describe(row: Message | Note) -> str:
    if isinstance(row, Note):
        return _printable(row.text)
    words = f"{row.sender} → {row.receiver}: {row.label}"
    words += f"; {row.detail}" if row.detail else ""
    return _printable(words + (f" ({_bytes(row.size)})" if row.size is not None else ""))


# --- Drawing as text -----------------------------------------------------------------------

_HEADS = {True: "►", False: "◄"}


def to_text(placed: Layout) -> str:
    """The layout as a text ladder: names on top; per message a label line, an arrow line
    with the size on its right, maybe a detail line; one line per note.

    Nothing follows a label or a note on its line, and each starts at a column fixed by the
    lifelines: a value that tests/sanitize.cfg replaces (a time, a session id) may change
    its length without moving anything else.
    """
    if placed.empty:
        return placed.empty
    columns = placed.columns
    lines = [_names_line(placed.names), _lifelines_line(columns)]
    for row in placed.rows:
        if isinstance(row, Band):
            lines.append(_lifelines_line(columns[:1], "┊") + " " + row.text.text)
            continue
        start = min(row.start, row.end) + 2
        lines.append(_text_line(row.label.text, start, columns))
        lines.append(_arrow_line(row, columns))
        if row.detail:
            lines.append(_text_line(row.detail.text, start, columns))
    if placed.footer:
        lines += [_lifelines_line(columns), _names_line(placed.names)]
    return "\n".join(lines)


def _names_line(names: Sequence[Text]) -> str:
    line = ""
    for name in names:
        line = line.ljust(max(name.columns[0], len(line) + 1 if line else 0)) + name.text
    return line


def _text_line(text: str, start: int, columns: Sequence[int]) -> str:
    """``text`` from column ``start``, after the lifelines left of it."""
    return _lifelines_line([c for c in columns if c < start]).ljust(start) + text


def _lifelines_line(columns: Sequence[int], mark: str = "│") -> str:
    line = [" "] * (max(columns, default=-1) + 1)
    for column in columns:
        line[column] = mark
    return "".join(line)


def _arrow_line(arrow: Arrow, columns: Sequence[int]) -> str:
    line = list(_lifelines_line(columns).ljust(WIDTH))
    low, high = sorted((arrow.start, arrow.end))
    line[low + 1 : high] = ("╌" if arrow.dashed else "─") * (high - low - 1)
    rightwards = arrow.end > arrow.start
    line[arrow.start] = "├" if rightwards else "┤"
    line[arrow.end - 1 if rightwards else arrow.end + 1] = _HEADS[rightwards]
    return ("".join(line) + "  " + arrow.size).rstrip()


# --- Drawing as SVG ------------------------------------------------------------------------

SANS = "DejaVu Sans, Helvetica, Arial, sans-serif"
MONO = "DejaVu Sans Mono, Menlo, Consolas, Liberation Mono, monospace"
COLOURS = {True: "#1f63c6", False: "#c4511b"}
"""Arrow colours: client → server (True) blue, server → client (False) orange."""
LABEL_COLOURS = {True: "#163f80", False: "#8a3510"}
INK = "#24292f"
MUTED = "#57606a"
HALO = 'stroke="#ffffff" stroke-width="6" stroke-linejoin="round" paint-order="stroke"'


def to_svg(placed: Layout) -> str:
    """The layout as a self-contained SVG: a light panel with rounded corners, lifelines,
    names, and per message a label, an arrow (``class="arrow to-server"`` or
    ``"arrow to-client"``), its size and its detail line. No ids, no scripts, no styles:
    only presentation attributes, which every renderer reads the same way."""
    width, height = _n(placed.width), _n(placed.height)
    scale = min(1.0, SHOWN_WIDTH / placed.width)  # drawn on the grid, shown a little smaller
    shown = f'width="{_n(placed.width * scale)}" height="{_n(placed.height * scale)}"'
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" {shown} '
        f'viewBox="0 0 {width} {height}" role="img" aria-label={quoteattr(placed.title)} '
        f'font-family="{SANS}">',
        f"<title>{escape(placed.title)}</title>",
        f"<desc>{escape(chr(10).join(placed.description))}</desc>",
        f'<rect class="panel" x="0.5" y="0.5" width="{_n(placed.width - 1)}" '
        f'height="{_n(placed.height - 1)}" rx="10" fill="#ffffff" stroke="#d0d7de"/>',
    ]
    if placed.empty:
        parts.append(
            f'<text x="{_n(placed.width / 2)}" y="{_n(PAD + 18)}" text-anchor="middle" '
            f'font-size="13" fill="{MUTED}">{escape(placed.empty)}</text>'
        )
    else:
        parts += _svg_lifelines(placed)
        parts += _svg_names(placed, PAD)
        parts += [_svg_row(row) for row in placed.rows]
        if placed.footer:
            parts += _svg_names(placed, placed.height - PAD - NAME_HEIGHT)
    parts.append("</svg>")
    return "\n".join(parts)


def _n(number: float) -> str:
    """A coordinate with at most one decimal, written the same way on every run."""
    return f"{number:.1f}".removesuffix(".0")


def _x(column: float) -> float:
    return PAD + column * CHAR


def _svg_lifelines(placed: Layout) -> list[str]:
    bottom = placed.height - PAD - (NAME_HEIGHT if placed.footer else 4)
    lines = [
        f'<line x1="{_n(_x(c))}" y1="{PAD + NAME_HEIGHT}" x2="{_n(_x(c))}" y2="{_n(bottom)}"/>'
        for c in placed.columns
    ]
    return ['<g class="lifelines" stroke="#aeb8c2" stroke-dasharray="4 4">', *lines, "</g>"]


def _svg_names(placed: Layout, top: float) -> list[str]:
    parts = [f'<g class="parties" font-size="12.5" font-weight="bold" fill="{INK}">']
    for name in placed.names:
        x, box = _x(name.column), max(72, 7.6 * len(name.text) + 24)
        parts.append(
            f'<rect x="{_n(x - box / 2)}" y="{_n(top)}" width="{_n(box)}" '
            f'height="{NAME_HEIGHT}" rx="6" fill="#f3f5f8" stroke="#8c959f"/>'
            f'<text x="{_n(x)}" y="{_n(top + 17.5)}" text-anchor="middle">'
            f"{escape(name.text)}</text>"
        )
    return [*parts, "</g>"]


def _svg_row(row: Arrow | Band) -> str:
    if isinstance(row, Band):
        return (
            f'<g class="note"><rect x="{_n(_x(1))}" y="{_n(row.top + 5)}" '
            f'width="{_n(_x(WIDTH - 1) - _x(1))}" height="20" rx="4" fill="#fff8df" '
            f'stroke="#e2cc7e"/><text x="{_n(_x(WIDTH / 2))}" y="{_n(row.text_y)}" '
            f'text-anchor="middle" font-size="11.5" font-style="italic" fill="#5f4b00">'
            f"{escape(row.text.text)}</text></g>"
        )
    way = "to-server" if row.to_server else "to-client"
    parts = [
        f'<g class="message {way}">',
        _svg_text(row.label, row.label_y, f'font-size="12" fill="{LABEL_COLOURS[row.to_server]}"'),
    ]
    if row.size:  # right after the label, as in the text (tests/sanitize.cfg counts on it)
        parts.append(
            f'<text class="size" x="{_n(_x(WIDTH) + GUTTER)}" y="{_n(row.arrow_y + 4)}" '
            f'text-anchor="end" font-size="11" fill="{MUTED}">{row.size}</text>'
        )
    if row.detail:
        parts.append(_svg_text(row.detail, row.detail_y, f'font-size="11" fill="{MUTED}"'))
    parts.append(_svg_arrow(row, way))  # last: no text's halo covers it
    return "".join([*parts, "</g>"])


def _svg_text(text: Text, y: float, style: str) -> str:
    anchor = "" if text.anchor == "start" else f' text-anchor="{text.anchor}"'
    return (
        f'<text x="{_n(_x(text.column))}" y="{_n(y)}"{anchor} font-family="{MONO}" '
        f'xml:space="preserve" {style} {HALO}>{escape(text.text)}</text>'
    )


def _svg_arrow(row: Arrow, way: str) -> str:
    colour = COLOURS[row.to_server]
    direction = 1 if row.end > row.start else -1
    tail, tip, y = _x(row.start), _x(row.end) - direction * 1.5, row.arrow_y
    base = tip - direction * 9
    dash = ' stroke-dasharray="5 4"' if row.dashed else ""
    return (
        f'<g class="arrow {way}" stroke="{colour}" fill="{colour}">'
        f'<line x1="{_n(tail)}" y1="{_n(y)}" x2="{_n(base)}" y2="{_n(y)}" '
        f'stroke-width="1.6"{dash}/>'
        f'<path d="M{_n(tip)} {_n(y)}L{_n(base)} {_n(y - 4.5)}L{_n(base)} {_n(y + 4.5)}Z" '
        f'stroke-linejoin="round"/></g>'
    )
