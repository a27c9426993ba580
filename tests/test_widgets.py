"""helpers.widgets without a browser: addresses, the served client library, and what a reader
sees when Node.js or node_modules/ is missing. (tests/test_browser.py runs the panes in a page.)"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest

import helpers
from helpers import widgets

pytestmark = pytest.mark.usefixtures("lab")


def test_proxy_path() -> None:
    assert widgets.proxy_path(8765) == "proxy/8765/"


def test_the_page_builds_the_same_proxy_path() -> None:
    """static/address.js writes the path again in JavaScript, for the page: the two must agree."""
    script = (widgets.STATIC / "address.js").read_text()
    template = widgets.proxy_path(8765).replace("8765", "${port}")
    assert f"`${{baseUrl}}{template}`" in script


def test_the_lesson_server_serves_the_pinned_socketio_client(
    capsys: pytest.CaptureFixture[str],
) -> None:
    if widgets.socketio_client_problem():
        pytest.skip("socket.io-client is not installed: run `npm ci`")
    pinned = json.loads((widgets.ROOT / "package.json").read_text())["dependencies"]
    library = widgets.serve_socketio_client()
    assert capsys.readouterr().out == (
        f"socket.io-client {pinned['socket.io-client']} is served to the page from node_modules/\n"
    )
    with urllib.request.urlopen(f"{library.url}/socket.io.esm.min.js", timeout=5) as response:
        assert response.headers["Content-Type"].endswith("javascript")
        assert b"export{" in response.read()


@pytest.mark.parametrize("npm", ["/usr/bin/npm", None])
def test_without_node_modules_the_reader_is_told_how_to_get_it(
    npm: str | None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(widgets, "CLIENT_PACKAGE", tmp_path / "socket.io-client")
    monkeypatch.setattr(widgets.shutil, "which", lambda program: npm)
    assert widgets.serve_socketio_client() is None
    advice = capsys.readouterr().out
    assert "run `npm ci` in the tutorial's folder" in advice
    assert ("https://nodejs.org" in advice) == (npm is None)
    pane = widgets.ChatPane(helpers.start_sio_server(name="chat"), None, name="ada")
    assert pane.problem == advice.strip()


def test_panes_need_a_running_service_and_have_a_stable_repr() -> None:
    news = helpers.start_ws_server(name="news")
    pane = widgets.WebSocketPane(news)
    assert repr(pane) == "<WebSocketPane: the page's WebSocket to 'news'>"
    assert (pane.port, pane.direct_url, pane.received) == (news.port, news.url, [])
    news.stop()
    with pytest.raises(TypeError, match="a pane needs a running lab service"):
        widgets.WebSocketPane(news)


def test_wait_for_page_says_whether_the_page_came(capsys: pytest.CaptureFixture[str]) -> None:
    widgets.wait_for_page(lambda: True)
    widgets.wait_for_page(lambda: False, timeout=0.2)
    said = capsys.readouterr().out.splitlines()
    assert said[0] == "the page is connected"
    assert said[1].startswith("no page connected within 0.2 s (no browser shows this notebook")
