"""Sequence diagrams drawn from taps and captures: arrows, labels, notes, cuts, bad input, the
SVG and its text twin, and what nbval sees of them after tests/sanitize.cfg."""

from __future__ import annotations

import itertools
import json
import re
import xml.etree.ElementTree as ElementTree

import pytest
import socketio
import websockets.sync.client
from conftest import ROOT
from nbval.plugin import get_sanitize_patterns

import helpers
from helpers import capture, diagram, raw, tap, wire
from helpers.diagram import Arrow, Band, Diagram, Message, Note
from helpers.tap import TO_CLIENT, TO_SERVER, Chunk

SVG = "{http://www.w3.org/2000/svg}"
ACCEPT = wire.accept_key(raw.EXAMPLE_KEY)
SWITCH = (
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    f"Sec-WebSocket-Accept: {ACCEPT}\r\n\r\n"
).encode()


def frame(payload: str | bytes, *, masked: bool = True, **options: object) -> bytes:
    key = b"abcd" if masked else None
    return wire.encode_frame(payload, mask_key=key, **options)  # type: ignore[arg-type]


def echo_chunks(texts: list[str], *, connection: int = 1, gap: float = 0.01) -> list[Chunk]:
    """A WebSocket echo of ``texts``, then the closing handshake, ``gap`` seconds apart."""
    sent = [(TO_SERVER, raw.handshake_request("127.0.0.1", 8765)), (TO_CLIENT, SWITCH)]
    for text in texts:
        sent += [(TO_SERVER, frame(text)), (TO_CLIENT, frame(text, masked=False))]
    close = wire.close_payload(1000)
    sent += [(TO_SERVER, frame(close, opcode=wire.CLOSE))]
    sent += [(TO_CLIENT, frame(close, masked=False, opcode=wire.CLOSE)), (TO_CLIENT, b"")]
    return [Chunk(connection, way, data, i * gap) for i, (way, data) in enumerate(sent)]


def labels(drawn: Diagram) -> list[str]:
    return [row.label for row in drawn.rows if isinstance(row, Message)]


def svg_texts(svg: str) -> list[str]:
    return [element.text or "" for element in ElementTree.fromstring(svg).iter(f"{SVG}text")]


# --- From recorded chunks ---------------------------------------------------------------------


def test_one_arrow_per_message_in_order_with_directions_and_sizes() -> None:
    drawn = tap.diagram_of(echo_chunks(["Hello"]), "websocket")
    assert drawn.parties == ("client", "server")
    assert labels(drawn) == [
        "GET / HTTP/1.1",
        "HTTP/1.1 101 Switching Protocols",
        "text, masked, 5 bytes: 'Hello'",
        "text, 5 bytes: 'Hello'",
        "close, masked, 2 bytes: code 1000 (normal closure)",
        "close, 2 bytes: code 1000 (normal closure)",
        "end of stream",
    ]
    senders = [row.sender for row in drawn.rows if isinstance(row, Message)]
    assert senders == ["client", "server"] * 3 + ["server"]
    sizes = [row.size for row in drawn.rows if isinstance(row, Message)]
    assert sizes[2:] == [11, 7, 8, 4, None]
    assert sizes[1] == len(SWITCH)
    end = drawn.rows[-1]
    assert isinstance(end, Message) and end.dashed and not end.to_server


def test_the_text_is_a_ladder_with_the_labels_and_sizes() -> None:
    text = tap.diagram_of(echo_chunks(["Hello"]), "websocket").text()
    lines = text.splitlines()
    assert lines[0].split() == ["client", "server"]
    assert lines[2] == "      │ GET / HTTP/1.1"  # nothing after a label: see to_text()
    assert re.search(r"├─+►│ +\d+ bytes$", lines[3])
    assert lines[4] == "      │ HTTP/1.1 101 Switching Protocols"
    assert re.search(r"│◄─+┤ +\d+ bytes$", lines[5])
    assert lines[-1].rstrip().endswith("┤")  # the server's end of stream, dashed
    assert "╌" in lines[-1]


def test_http_bodies_join_their_heads_arrow() -> None:
    body = b"hi there"
    chunks = [
        Chunk(1, TO_SERVER, b"GET /news HTTP/1.1\r\nHost: 127.0.0.1:80\r\n\r\n", 0.0),
        Chunk(1, TO_CLIENT, b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\n" + body, 0.1),
    ]
    drawn = tap.diagram_of(chunks, "http")
    answer = drawn.rows[1]
    assert isinstance(answer, Message)
    assert (answer.label, answer.detail) == ("HTTP/1.1 200 OK", "body 'hi there'")
    assert answer.size == len(chunks[1].data)


def test_socketio_arrows_carry_the_packet_with_the_frame_below() -> None:
    chunks = [
        Chunk(1, TO_SERVER, raw.handshake_request("h", 1, path="/socket.io/?EIO=4"), 0.0),
        Chunk(1, TO_CLIENT, SWITCH, 0.0),
        Chunk(1, TO_SERVER, frame('421["echo","hello"]'), 0.0),
        Chunk(1, TO_CLIENT, frame("40\x1e", masked=False), 0.0),  # not one packet: only the frame
    ]
    rows = tap.diagram_of(chunks, "socketio").rows
    assert isinstance(rows[2], Message) and isinstance(rows[3], Message)
    assert rows[2].label == "engine.io message → socket.io EVENT 'echo' ['hello'] (ack id 1)"
    assert rows[2].detail == 'text, masked, 19 bytes: \'421["echo","hello"]\''
    assert rows[3].label.startswith("text, 3 bytes") and not rows[3].detail


def test_raw_arrows_show_the_bytes() -> None:
    chunks = [
        Chunk(1, TO_SERVER, b"*1\r\n$4\r\nPING\r\n", 0.0),
        Chunk(1, TO_CLIENT, b"+PONG\r\n", 0),
    ]
    assert labels(tap.diagram_of(chunks, "raw")) == [
        "b'*1\\r\\n$4\\r\\nPING\\r\\n'",
        "b'+PONG\\r\\n'",
    ]


def test_redis_arrows_carry_commands_and_replies_cut_before_the_random_id() -> None:
    message = {"method": "emit", "event": "said", "data": ["hi"], "binary": False}
    message |= {"namespace": "/", "room": "den", "skip_sid": None, "callback": None}
    payload = json.dumps(message | {"host_id": "5bba0cc565eb41b8933261f6aea808b6"})
    publish = f"*3\r\n$7\r\nPUBLISH\r\n$8\r\nsocketio\r\n${len(payload)}\r\n{payload}\r\n"
    chunks = [Chunk(1, TO_SERVER, publish.encode(), 0.0), Chunk(1, TO_CLIENT, b":6\r\n", 0.01)]
    drawn = tap.diagram_of(chunks, "redis", client="node-d", server="Redis")
    sent, answer = (row for row in drawn.rows if isinstance(row, Message))
    assert sent.label.startswith('PUBLISH socketio {"method": "emit", "event": "said", "data"')
    assert len(sent.label) == 120 and sent.label.endswith("…") and "host_id" not in sent.label
    assert (sent.sender, sent.receiver, sent.size) == ("node-d", "Redis", len(publish))
    assert (answer.label, answer.size, answer.to_server) == ("(integer) 6", 4, False)
    assert "5bba0cc5" not in drawn.svg() and "5bba0cc5" in tap.transcript(chunks, "redis")


def test_messages_in_a_row_keep_the_times_they_passed() -> None:
    """A server that pushes twice, seconds apart, with nothing sent back in between: TCP may
    hand the tap both in one stretch of one direction, but each arrow keeps its own time, for
    the notes and for the order among other connections."""
    pushes = [
        Chunk(1, TO_SERVER, raw.handshake_request("127.0.0.1", 8765), 0.0),
        Chunk(1, TO_CLIENT, SWITCH, 0.01),
        Chunk(1, TO_CLIENT, frame("one", masked=False), 0.02),
        Chunk(2, TO_SERVER, raw.handshake_request("127.0.0.1", 8765), 1.22),
        Chunk(1, TO_CLIENT, frame("two", masked=False), 2.5),
    ]
    rows = tap.diagram_of(pushes, "websocket", client={1: "ada", 2: "bob"}).rows
    drawn = [(row.sender, row.label) if isinstance(row, Message) else row.text for row in rows]
    assert drawn == [
        ("ada", "GET / HTTP/1.1"),
        ("server", "HTTP/1.1 101 Switching Protocols"),
        ("server", "text, 3 bytes: 'one'"),
        "… 1.2 s pass …",
        ("bob", "GET / HTTP/1.1"),
        "… 1.3 s pass …",
        ("server", "text, 3 bytes: 'two'"),
    ]


def test_long_gaps_become_notes() -> None:
    chunks = echo_chunks(["Hello", "again"])
    later = [
        Chunk(c.connection, c.direction, c.data, c.time + (2.5 if i > 3 else 0))
        for i, c in enumerate(chunks)
    ]
    rows = tap.diagram_of(later, "websocket").rows
    notes = [(i, row.text) for i, row in enumerate(rows) if isinstance(row, Note)]
    assert notes == [(4, "… 2.5 s pass …")]
    assert not any(isinstance(r, Note) for r in tap.diagram_of(later, "websocket", pause=3).rows)
    assert not any(isinstance(r, Note) for r in tap.diagram_of(later, "websocket", pause=None).rows)


def test_first_and_last_cut_long_exchanges_with_a_marker() -> None:
    chunks = echo_chunks([f"message {n}" for n in range(20)])  # 2 + 40 + 3 messages
    every = labels(tap.diagram_of(chunks, "websocket"))
    cut = tap.diagram_of(chunks, "websocket", first=3, last=2).rows
    assert [row.text for row in cut if isinstance(row, Note)] == ["… 40 messages not shown …"]
    assert isinstance(cut[3], Note)
    assert [row.label for row in cut if isinstance(row, Message)] == every[:3] + every[-2:]
    only_first = tap.diagram_of(chunks, "websocket", first=1).rows
    assert isinstance(only_first[-1], Note) and only_first[-1].text == "… 44 messages not shown …"
    only_last = tap.diagram_of(chunks, "websocket", last=1).rows
    assert isinstance(only_last[0], Note) and len(only_last) == 2
    assert len(tap.diagram_of(chunks, "websocket", first=30, last=30).rows) == len(every)
    assert "… 1 message not shown …" in tap.diagram_of(chunks, "websocket", first=44).text()


def test_connections_get_lifelines_of_their_own_or_are_left_out() -> None:
    chunks = echo_chunks(["ada"]) + echo_chunks(["bob"], connection=2)
    both = tap.diagram_of(chunks, "websocket")
    assert both.parties == ("client 1", "client 2", "server")
    second = tap.diagram_of(chunks, "websocket", connections=[2])
    assert second.parties == ("client", "server") and "text, 3 bytes: 'bob'" in labels(second)
    assert tap.diagram_of(chunks, "websocket", connections=2).parties == ("client", "server")
    named = tap.diagram_of(chunks, "websocket", client={1: "ada", 2: "bob"}, server="chat")
    assert named.parties == ("ada", "bob", "chat")
    one_program = tap.diagram_of(chunks, "websocket", client="reader")
    assert one_program.parties == ("reader", "server") and len(one_program.messages) == 14


def test_messages_of_several_connections_are_in_time_order() -> None:
    first, second = echo_chunks(["one"], gap=0.02), echo_chunks(["two"], connection=2, gap=0.02)
    shifted = [Chunk(2, c.direction, c.data, c.time + 0.01) for c in second]
    rows = tap.diagram_of(first + shifted, "websocket").rows
    senders = [row.sender for row in rows if isinstance(row, Message)]
    assert senders[:4] == ["client 1", "client 2", "server", "server"]


def test_merge_draws_several_taps_on_one_clock() -> None:
    hop = tap.diagram_of(echo_chunks(["hi"]), "websocket", client="ada", server="node-a")
    redis = [
        Chunk(1, TO_SERVER, b"*3\r\n$7\r\nPUBLISH\r\n", 0.0),
        Chunk(1, TO_CLIENT, b":1\r\n", 0.1),
    ]
    onward = tap.diagram_of(redis, "raw", client="node-a", server="Redis", started=0.025)
    merged = diagram.merge(hop, onward)
    assert merged.parties == ("ada", "node-a", "Redis")
    hops = [(row.sender, row.receiver) for row in merged.rows if isinstance(row, Message)]
    assert hops[2:5] == [("ada", "node-a"), ("node-a", "Redis"), ("node-a", "ada")]
    assert hops[-1] == ("Redis", "node-a")
    assert diagram.merge(hop, onward, parties=["Redis", "node-a", "ada"]).parties[0] == "Redis"
    assert len([r for r in diagram.merge(hop, onward, last=2).rows if isinstance(r, Message)]) == 2


# --- Bad input: one sentence each --------------------------------------------------------------


def test_an_empty_recording_shows_one_sentence() -> None:
    drawn = tap.diagram_of([], "websocket")
    assert drawn.text() == tap.NOT_YET
    assert svg_texts(drawn.svg()) == [tap.NOT_YET]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"decode": "smoke-signals"}, "unknown decode 'smoke-signals': choose one of raw, http"),
        ({"connections": [3]}, r"no connection 3 in this recording: choose among .* \(1\)"),
        ({"first": -1}, r"first is a number of messages \(0 or more\), not -1"),
        ({"last": 2.5}, r"last is a number of messages"),
        ({"server": "client"}, "both called 'client': rename one"),
    ],
)
def test_bad_options_raise_one_sentence(options: dict[str, object], message: str) -> None:
    arguments = {"decode": "websocket", **options}
    with pytest.raises(ValueError, match=message):
        tap.diagram_of(echo_chunks(["Hello"]), **arguments)  # type: ignore[arg-type]


def test_bad_diagrams_and_merges_raise_one_sentence() -> None:
    with pytest.raises(ValueError, match="'b' has a message but no lifeline: add it to parties"):
        Diagram([Message("a", "b", "hi")], ["a"])
    with pytest.raises(ValueError, match="cannot send a message to itself"):
        Diagram([Message("a", "a", "hi")])
    with pytest.raises(ValueError, match="needs at least one diagram"):
        diagram.merge()
    with pytest.raises(ValueError, match="captured packets carry no time: merge the diagrams"):
        diagram.merge(capture.load("02_tcp_refused").diagram())


# --- Captured packets ----------------------------------------------------------------------------


def test_a_capture_draws_flags_sequence_numbers_and_payloads() -> None:
    drawn = capture.load("02_tcp_conversation").diagram()
    assert labels(drawn) == [
        "SYN seq=0",
        "SYN, ACK seq=0 ack=1",
        "ACK seq=1 ack=1",
        "PSH, ACK seq=1 ack=1 len=3",
        "ACK seq=1 ack=4",
        "PSH, ACK seq=1 ack=4 len=7",
        "ACK seq=4 ack=8",
        "FIN, ACK seq=4 ack=8",
        "ACK seq=8 ack=5",
        "FIN, ACK seq=8 ack=5",
        "ACK seq=5 ack=9",
    ]
    pie = drawn.rows[3]
    assert isinstance(pie, Message) and pie.detail == "b'pie'" and pie.to_server
    assert pie.size == len(capture.load("02_tcp_conversation").packets[3].frame)
    cut = capture.load("02_tcp_conversation").diagram(first=3)
    assert isinstance(cut.rows[-1], Note) and cut.rows[-1].text == "… 8 messages not shown …"
    with pytest.raises(ValueError, match="no connection 2 in this recording"):
        capture.load("02_tcp_conversation").diagram(connections=[2])


def test_udp_and_icmp_have_arrows_too() -> None:
    drawn = capture.load("02_udp_nobody_home").diagram(client="sender", server="nobody")
    assert labels(drawn) == ["UDP len=3", "ICMP port unreachable"]
    assert drawn.parties == ("sender", "nobody")


def test_a_capture_with_nothing_yet_says_so() -> None:
    empty = capture.Capture(1, "tcp", None, "recording none", [])
    assert empty.diagram().text().startswith("(no packets yet")


# --- The SVG ------------------------------------------------------------------------------------


def test_the_svg_is_xml_with_one_arrow_per_message_and_the_texts_of_the_ladder() -> None:
    drawn = capture.load("02_tcp_conversation").diagram()
    root = ElementTree.fromstring(drawn.svg())
    _, _, width, height = map(float, root.get("viewBox", "").split())
    assert float(root.get("width", "")) == 800  # at most the width of a notebook's output area
    scaled = float(root.get("height", "")) - height * 800 / width
    assert abs(scaled) < 0.1  # scaled, not stretched
    assert root.find(f"{SVG}title") is not None and root.get("role") == "img"
    arrows = [g for g in root.iter(f"{SVG}g") if g.get("class", "").startswith("arrow ")]
    assert len(arrows) == 11
    ways = [g.get("class") for g in arrows]
    assert ways[:3] == ["arrow to-server", "arrow to-client", "arrow to-server"]
    assert_texts_in_order(drawn)


def assert_texts_in_order(drawn: Diagram) -> None:
    """Every text of the SVG, in order, is in the text ladder, in the same order."""
    ladder, at = drawn.text(), 0
    for text in svg_texts(drawn.svg()):
        found = ladder.find(text, at)
        assert found >= 0, f"{text!r} is not in the text ladder after position {at}"
        at = found + len(text)


def test_payloads_are_escaped_and_control_characters_written_out() -> None:
    nasty = "<b>&amp; \"quotes\" 'too' \x00\x1e\x7f\ud800 ]]>"
    drawn = Diagram([Message("client", "server", nasty, 3, detail=nasty)])
    texts = svg_texts(drawn.svg())  # parses: the text is escaped
    assert texts.count("<b>&amp; \"quotes\" 'too' \\x00\\x1e\\x7f\\ud800 ]]>") == 2
    raw_bytes = [Chunk(1, TO_SERVER, b"\xff\xfe<&\x00", 0.0)]
    assert svg_texts(tap.diagram_of(raw_bytes, "raw").svg())[2] == "b'\\xff\\xfe<&\\x00'"
    assert_texts_in_order(drawn)


def test_a_long_label_is_cut_at_a_word_and_ends_in_an_ellipsis() -> None:
    sid = "a1B2c3D4e5F6g7H8i9J0"
    label = "x" * 80 + f" sid={sid}"
    drawn = Diagram([Message("client", "server", label)])
    (shown,) = [text for text in svg_texts(drawn.svg()) if text.startswith("x")]
    assert shown == "x" * 80 + " …"  # the session id is left out whole, never cut in two


def test_the_svg_is_the_same_on_every_run() -> None:
    svg = tap.diagram_of(echo_chunks(["Hello"] * 5), "socketio").svg()
    assert svg == tap.diagram_of(echo_chunks(["Hello"] * 5), "socketio").svg()
    assert " id=" not in svg and "<script" not in svg and "<style" not in svg
    numbers = re.findall(r' (?:x|y|x1|x2|y1|y2|width|height)="([^"]+)"', svg)
    assert numbers and all(re.fullmatch(r"\d+(\.\d)?", number) for number in numbers)


def test_forty_messages_have_no_overlapping_texts_or_arrows() -> None:
    chunks = echo_chunks([f"message number {n} " * (n % 7) for n in range(19)])
    drawn = tap.diagram_of(chunks + echo_chunks(["x"], connection=2), "socketio")
    placed = diagram.layout(drawn)
    assert sum(isinstance(row, Arrow) for row in placed.rows) >= 40
    boxes = list(_boxes(placed))
    for (one, a), (other, b) in itertools.combinations(boxes, 2):
        overlap = a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
        assert not overlap, f"{one} overlaps {other}"


def _boxes(placed: diagram.Layout) -> list[tuple[str, tuple[float, float, float, float]]]:
    """(what, (left, top, right, bottom)) in px for every text, arrow and note of the SVG."""

    def text(what: str, line: diagram.Text, baseline: float) -> tuple[str, tuple]:
        start, end = line.columns
        return what, (x(start), baseline - 10, x(end), baseline + 3)

    def x(column: float) -> float:
        return diagram.PAD + column * diagram.CHAR

    boxes = []
    for number, row in enumerate(placed.rows):
        if isinstance(row, Band):
            boxes.append(
                (f"note {number}", (x(1), row.top + 5, x(diagram.WIDTH - 1), row.top + 25))
            )
            continue
        low, high = sorted((row.start, row.end))
        boxes.append((f"arrow {number}", (x(low), row.arrow_y - 4.5, x(high), row.arrow_y + 4.5)))
        boxes.append(text(f"label {number}", row.label, row.label_y))
        if row.detail:
            boxes.append(text(f"detail {number}", row.detail, row.detail_y))
        right = x(diagram.WIDTH) + diagram.GUTTER
        width = 6.6 * len(row.size)
        boxes.append((f"size {number}", (right - width, row.arrow_y - 5, right, row.arrow_y + 7)))
    return boxes


def test_a_notebook_shows_the_svg_with_the_text_beside_it() -> None:
    drawn = tap.diagram_of(echo_chunks(["Hello"]), "websocket")
    bundle = drawn._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "image/svg+xml"}
    assert bundle["text/plain"] == str(drawn) == drawn.text()
    assert repr(drawn) == "<Diagram: 7 messages between client, server>"


# --- What nbval compares: the same after tests/sanitize.cfg ---------------------------------------

SANITIZERS = get_sanitize_patterns((ROOT / "tests" / "sanitize.cfg").read_text())


def sanitized(text: str) -> str:
    for pattern, replacement in SANITIZERS:
        text = re.sub(pattern, replacement, text)
    return text


def polling_session(sid: str, stamp: str, port: int, pause: float) -> list[Chunk]:
    """A Socket.IO start over long-polling and the upgrade, as python-socketio writes it."""
    opened = (
        f'0{{"sid":"{sid}","upgrades":["websocket"],"pingTimeout":20000,'
        '"pingInterval":25000,"maxPayload":1000000}'
    )
    poll = f"GET /socket.io/?transport=polling&EIO=4&t={stamp} HTTP/1.1\r\nHost: 127.0.0.1:{port}"
    answer = f"HTTP/1.1 200 OK\r\nContent-Length: {len(opened)}\r\n\r\n{opened}"
    path = f"/socket.io/?transport=websocket&EIO=4&sid={sid}&t={stamp}"
    other = sid[::-1]
    sent = [
        (1, TO_SERVER, f"{poll}\r\n\r\n".encode()),
        (1, TO_CLIENT, answer.encode()),
        (2, TO_SERVER, raw.handshake_request("127.0.0.1", port, path=path)),
        (2, TO_CLIENT, SWITCH),
        (2, TO_SERVER, frame("40")),
        (2, TO_CLIENT, frame(f'40{{"sid":"{other}"}}', masked=False)),
        (2, TO_CLIENT, frame("2", masked=False)),
    ]
    times = [0.0, 0.01, 0.02, 0.03, 0.04, 0.05, 0.05 + pause]
    return [Chunk(n, way, data, at) for (n, way, data), at in zip(sent, times, strict=True)]


RUNS = [
    polling_session("uDoRTcdso4jBmK_uAAAB", "1795659784.6168478", 46621, 2.04),
    polling_session("lW550bRjPQJVbhsVAAAF", "1795659785.1057", 39111, 2.31),
]


@pytest.mark.parametrize("decode", ["http", "websocket", "socketio"])
@pytest.mark.parametrize("lifelines", [2, 3, 4, 6])
@pytest.mark.parametrize("others", ["left", "right"])
def test_after_sanitizing_two_runs_look_the_same(decode: str, lifelines: int, others: str) -> None:
    """Session ids, times, ports and pauses differ between the runs; the texts and pictures,
    as nbval compares them, do not, even where labels are cut (lifelines close together).

    (Not so for ``"raw"``: a raw label shows what follows the time, as far as it fits.)
    """
    drawings, cut = [], False
    for run in RUNS:
        drawn = tap.diagram_of(run, decode)
        more = [f"p{i}" for i in range(lifelines - 3)]
        parties = [*more, *drawn.parties] if others == "left" else [*drawn.parties, *more]
        merged = diagram.merge(drawn, parties=parties)
        arrows = [row for row in diagram.layout(merged).rows if isinstance(row, Arrow)]
        cut = cut or any(row.label.text.endswith("…") for row in arrows)
        drawings.append(
            {mime: sanitized(data) for mime, data in merged._repr_mimebundle_().items()}
        )
    assert drawings[0] == drawings[1]
    assert cut == (others == "right" and lifelines >= 4)  # the session id, the time: whole
    if decode == "socketio":
        assert "… N s pass …" in drawings[0]["text/plain"]


# --- Live: a real server behind a tap -------------------------------------------------------------


@pytest.mark.usefixtures("lab")
def test_a_live_websocket_exchange() -> None:
    the_tap = helpers.start_tap(helpers.start_ws_server())
    with websockets.sync.client.connect(the_tap.url, compression=None) as websocket:
        websocket.send("Hello")
        assert websocket.recv() == "Hello"
    drawn = the_tap.diagram("websocket")
    arrows = [(row.label, row.to_server) for row in drawn.rows if isinstance(row, Message)]
    assert arrows[:2] == [("GET / HTTP/1.1", True), ("HTTP/1.1 101 Switching Protocols", False)]
    assert arrows[2:6] == [
        ("text, masked, 5 bytes: 'Hello'", True),
        ("text, 5 bytes: 'Hello'", False),
        ("close, masked, 2 bytes: code 1000 (normal closure)", True),
        ("close, 2 bytes: code 1000 (normal closure)", False),
    ]
    root = ElementTree.fromstring(drawn.svg())
    arrows_drawn = [g for g in root.iter(f"{SVG}g") if g.get("class", "").startswith("arrow ")]
    assert len(arrows_drawn) == len(arrows)
    with pytest.raises(ValueError, match="choose one of raw, http, websocket, socketio"):
        the_tap.diagram("smoke-signals")
    the_tap.clear()
    assert the_tap.diagram().text() == tap.NOT_YET


@pytest.mark.usefixtures("lab")
def test_a_live_socketio_exchange() -> None:
    the_tap = helpers.start_tap(helpers.start_sio_server())
    with socketio.SimpleClient() as client:
        client.connect(the_tap.url, transports=["websocket"], wait_timeout=3)
        assert client.call("echo", "hello", timeout=3) == "hello"
        drawn = the_tap.diagram("socketio")
    found = labels(drawn)
    assert found[0].startswith("GET /socket.io/?transport=websocket&EIO=4&t=")
    assert found[1] == "HTTP/1.1 101 Switching Protocols"
    assert found[2].startswith('engine.io open {"sid":')
    assert "engine.io message → socket.io EVENT 'echo' ['hello'] (ack id 1)" in found
    assert "engine.io message → socket.io ACK ['hello'] (ack id 1)" in found
