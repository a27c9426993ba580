"""Lesson 10 exercises: delivery with retries, and a server that drops duplicates."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import socketio

from ..check import NotYet, exercise, function_answer
from ..eventlog import events
from ..servers import start_sio_server

_WAIT = 3.0  # seconds a single call of the check may take
_RUN = 15.0  # seconds the learner's deliver() may take in one scenario


def _unplug(sio: socketio.AsyncServer, sid: str) -> None:
    """Drop sid's TCP connection, as a failing network would."""
    sio.get_environ(sid)["aiohttp.request"].transport.abort()


def _run(function: Callable[..., Any], args: tuple, seconds: float) -> tuple[str, Any]:
    """Call ``function(*args)`` in a thread: ("returned", value), ("raised", error) or
    ("running", None) if it has not finished after ``seconds``."""
    outcome: list[tuple[str, Any]] = []

    def call() -> None:
        try:
            outcome.append(("returned", function(*args)))
        except Exception as error:
            outcome.append(("raised", error))

    thread = threading.Thread(target=call, name="check-10.1", daemon=True)
    thread.start()
    thread.join(seconds)
    return outcome[0] if outcome else ("running", None)


def _is_timeout(error: object) -> bool:
    return isinstance(error, TimeoutError | socketio.exceptions.TimeoutError)


def _name(error: BaseException) -> str:
    """An exception as 'Type: message', or 'Type' when it has no message."""
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def _copies_say(copies: list[object]) -> str:
    """What a list of received copies has wrong, or '' if they are one message sent again."""
    for copy in copies:
        if not (isinstance(copy, dict) and "id" in copy and "data" in copy):
            return (
                f"the server received {copy!r}: send a dict with the message id and the data, "
                "{'id': ..., 'data': data}."
            )
    ids = [copy["id"] for copy in copies]  # type: ignore[index]
    if len(set(map(repr, ids))) > 1:
        return (
            f"the copies carried different ids, {ids}: a new id for each attempt makes every "
            "retry look like a new message to the server. Make the id once, before the loop."
        )
    return ""


@exercise(
    "10.1",
    nudge="make the id once, before the loop (uuid.uuid4().hex). In the loop: return "
    "client.call(event, {'id': message_id, 'data': data}, timeout=1); on "
    "socketio.exceptions.TimeoutError try again; on socketio.exceptions.BadNamespaceError "
    "time.sleep(1) and try again. After the loop, raise TimeoutError.",
)
def retrying_deliver(deliver: object) -> str:
    function_answer(deliver, "deliver")
    sio = socketio.AsyncServer(async_mode="aiohttp")
    copies: list[object] = []  # every copy the server received, in order
    lose = {"mode": "first"}  # "first": drop each id's first copy; "all": never ack

    @sio.event
    async def store(sid: str, message: object) -> object:
        copies.append(message)
        if not (isinstance(message, dict) and "id" in message and "data" in message):
            return None
        seen = sum(
            1 for copy in copies if isinstance(copy, dict) and copy.get("id") == message["id"]
        )
        if lose["mode"] == "all" or seen == 1:
            _unplug(sio, sid)  # the ack is lost with the connection
            return None
        return message["data"]

    server = start_sio_server(sio, name="check-10.1")
    client = socketio.Client(
        reconnection_delay=0.1, reconnection_delay_max=0.5, randomization_factor=0
    )
    try:
        client.connect(server.url, transports=["websocket"], wait_timeout=_WAIT)
        return _check_deliver(deliver, client, copies, lose)
    finally:
        client.shutdown()
        server.stop()
        events("check-10.1", settle=0.05)


def _check_deliver(
    deliver: Callable[..., Any], client: socketio.Client, copies: list[object], lose: dict
) -> str:
    data = {"text": "hello", "n": 1}
    kind, value = _run(deliver, (client, "store", data, 5), _RUN)
    if kind == "running":
        raise NotYet(
            f"deliver() was still running after {_RUN:g} s: give each client.call a timeout of "
            "1 s, and stop after attempts tries."
        )
    if not copies and kind == "returned" and value is None:
        raise NotYet("deliver() returned None and sent nothing: write its body in place of the ...")
    problem = _copies_say(copies)
    if problem:
        raise NotYet(problem)
    if kind == "raised":
        raise NotYet(
            f"deliver() raised {_name(value)}. The server drops the first "
            "copy's ack on purpose: catch socketio.exceptions.TimeoutError (no ack) and "
            "BadNamespaceError (not connected yet), and send the same message again."
        )
    if len(copies) < 2:
        raise NotYet(
            f"the server received one copy and its ack was lost, yet deliver() returned "
            f"{value!r}: it must wait for the ack and send again when none comes."
        )
    if value != data:
        raise NotYet(f"deliver() returned {value!r}; the server's ack was {data!r}: return it.")
    first = len(copies)

    lose["mode"] = "all"
    kind, value = _run(deliver, (client, "store", "never acked", 3), _RUN)
    sent = copies[first:]
    if kind == "running":
        raise NotYet(f"with attempts=3 and no ack ever, deliver() still ran after {_RUN:g} s.")
    if kind == "returned":
        raise NotYet(
            f"the server never acked, yet deliver() returned {value!r}: after attempts tries "
            "it should raise TimeoutError."
        )
    if not _is_timeout(value):
        raise NotYet(
            f"with no ack ever, deliver() raised {_name(value)}; raise "
            "TimeoutError once the attempts are used up."
        )
    problem = _copies_say(sent)
    if problem:
        raise NotYet(problem)
    if not 1 <= len(sent) <= 3:
        raise NotYet(f"with attempts=3, the server received {len(sent)} copies: at most 3.")
    return (
        f"The first ack was lost and deliver() sent the same id again ({first} copies) and "
        f"returned the ack; with no ack at all it gave up after {len(sent)} copies."
    )


@exercise(
    "10.2",
    nudge="inside ledger_server(), create the server and one set of ids for the whole server "
    "(not one per sid). In 'async def store(sid, message)': if message['id'] is in the set, "
    "return 'duplicate'; otherwise add it and return 'stored'. Return the server.",
)
def dedup_server(ledger_server: object) -> str:
    function_answer(ledger_server, "ledger_server")
    sio = ledger_server()
    if sio is None:
        raise NotYet(
            "ledger_server() returned None: write its body in place of the ... and return "
            "the server."
        )
    if not isinstance(sio, socketio.AsyncServer) or sio.async_mode != "aiohttp":
        raise NotYet(
            f"ledger_server() returned {sio!r}: return a "
            "socketio.AsyncServer(async_mode='aiohttp') with a 'store' handler."
        )
    server = start_sio_server(sio, name="check-10.2")
    try:
        return _check_ledger(server.url)
    finally:
        server.stop()
        events("check-10.2", settle=0.05)


def _check_ledger(url: str) -> str:
    sends = [("alice", "a1"), ("bob", "a1"), ("alice", "b7"), ("alice", "a1"), ("bob", "b7")]
    expected = ["stored", "duplicate", "stored", "duplicate", "duplicate"]
    with socketio.SimpleClient() as alice, socketio.SimpleClient() as bob:
        clients = {"alice": alice, "bob": bob}
        for client in clients.values():
            client.connect(url, transports=["websocket"], wait_timeout=_WAIT)
        answers: list[object] = []
        for (who, ident), wanted in zip(sends, expected, strict=True):
            message = {"id": ident, "text": f"message {ident}"}
            try:
                answers.append(clients[who].call("store", message, timeout=_WAIT))
            except socketio.exceptions.TimeoutError:
                raise NotYet(
                    f"{who} sent {message} and got no ack within {_WAIT:g} s: the store "
                    "handler must return 'stored' or 'duplicate', which becomes the ack."
                ) from None
            if answers[-1] != wanted:
                raise NotYet(_ledger_hint(sends, answers, expected))
    return (
        "Each id was stored once and every copy was acked, even when the copy came from "
        "another connection (another sid)."
    )


def _ledger_hint(sends: list[tuple[str, str]], answers: list[object], expected: list[str]) -> str:
    steps = "; ".join(
        f"{who} sent {ident} → {answer!r}"
        for (who, ident), answer in zip(sends, answers, strict=False)
    )
    index = len(answers) - 1
    why = ""
    if index == 0 and answers[0] == "duplicate":
        why = (
            " The very first message was called a duplicate: keep the set inside "
            "ledger_server(), so that every new server starts with an empty memory."
        )
    elif sends[index][0] != "alice" and answers[index] == "stored":
        why = (
            " A copy from another connection was stored again: a retry comes back with a new "
            "sid after a reconnect, so remember ids for the whole server, not per sid."
        )
    if answers[index] is None:
        why = " The handler's return value is the ack: return 'stored' or 'duplicate'."
    return f"{steps}; expected {expected[index]!r} for the last one.{why}"
