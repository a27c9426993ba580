"""Lesson 10 exercises: delivery with retries, and a server that drops duplicates."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from typing import Any

import socketio

from .._util import describe
from ..check import NotYet, exercise, function_answer, wait_until
from ..eventlog import events
from ..servers import start_sio_server
from . import check

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
    return describe(error) if str(error) else type(error).__name__


def _copies_say(copies: list[object]) -> str:
    """What a list of received copies has wrong, or '' if they are one message sent again."""
    for copy in copies:
        if not (isinstance(copy, dict) and "id" in copy and "data" in copy):
            return (
                f"the server received {copy!r}: send a dict with the message id and the data, "
                "{'id': ..., 'data': data}."
            )
    ids = [copy["id"] for copy in copies if isinstance(copy, dict)]  # all are, by now
    if len(set(map(repr, ids))) > 1:
        return (
            f"the copies carried different ids, {ids}: a new id for each attempt makes every "
            "retry look like a new message to the server. Make the id once, before the loop."
        )
    return ""


@exercise(
    "10.1",
    nudge="Make delivery at least once, as the lesson's deliver did, but let the function build "
    "the message itself: give it an id that stays the same however many times it is sent, and "
    "keep sending until an acknowledgement comes or the attempts run out.",
    hints=[
        "Two failures must lead to another attempt: an acknowledgement that does not come in "
        "time, and a client that is not connected at this moment. Every attempt must carry the "
        "same id, or the server cannot tell a retry from a new message.",
        "Build the dict of an id and the data once, before the loop (uuid4's hex makes a good "
        "id). In a loop of attempts, return what the client's call gives back, with a timeout "
        "of 1 s; on socketio.exceptions.TimeoutError try again, on BadNamespaceError sleep a "
        "second first. After the loop, raise TimeoutError.",
    ],
)
def retrying_deliver(answer: object) -> str:
    deliver = function_answer(
        answer,
        "deliver",
        plain_def="the check passes it a socketio.Client, the synchronous client, whose call() "
        "waits and returns the ack",
    )
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
        client.connect(server.url, transports=["websocket"], wait_timeout=check.TIMEOUT)
        return _check_deliver(deliver, client, copies, lose)
    finally:
        client.shutdown()
        server.stop()
        events("check-10.1", settle=0.05)


def _first_failure(error: BaseException) -> str:
    """What to say when deliver() raised while the server lost only the first ack."""
    if isinstance(error, socketio.exceptions.TimeoutError | socketio.exceptions.BadNamespaceError):
        return (
            f"deliver() raised {_name(error)}. The server drops the first copy's ack on purpose, "
            "and the client reconnects: catch socketio.exceptions.TimeoutError (no ack came) "
            "and BadNamespaceError (not connected again yet), and send the same message again."
        )
    return f"deliver() raised {_name(error)}. That is a mistake in its own code, not a lost ack."


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
    wait_until(lambda: copies, timeout=check.QUIET)  # an emit may still be on its way
    if not copies and kind == "returned":
        if value is None:
            raise NotYet(
                "deliver() returned None and sent nothing: write its body in place of the ..."
            )
        raise NotYet(f"deliver() returned {value!r} without sending anything to the server.")
    problem = _copies_say(copies)
    if problem:
        raise NotYet(problem)
    if kind == "raised":
        raise NotYet(_first_failure(value))
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
    nudge="Build the other half of at-least-once delivery, the server that recognises a copy: "
    "it stores each message id once and acknowledges every copy, and it must recognise a copy "
    "even when the retry comes over a new connection, as the lesson's ledger did.",
    hints=[
        "The server needs a memory of the ids it has stored. Ask where that memory lives: it "
        "must outlive one call of the handler, and be shared by every connection, since a retry "
        "after a reconnect comes with a new sid.",
        "In ledger_server(), create the server and one set of ids next to it (not inside the "
        "handler, not one per sid). The async store handler checks the message's id against "
        "the set: if it is there, return 'duplicate'; if not, add it and return 'stored'. "
        "Return the server at the end.",
    ],
)
def dedup_server(answer: object) -> str:
    ledger_server = function_answer(answer, "ledger_server")
    try:
        sio = ledger_server()
    except Exception as error:
        raise NotYet(f"ledger_server() raised {_name(error)}.") from None
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


def _ledger_sends() -> tuple[list[tuple[str, str]], list[str]]:
    """Who sends which id, in order, and the ack each should get. The ids are new each time,
    so a memory that outlives one server (as a database would) changes nothing."""
    first, second = (f"{name}-{secrets.token_hex(2)}" for name in ("m1", "m2"))
    sends = [("alice", first), ("alice", first), ("bob", first), ("alice", second)]
    sends.append(("bob", second))
    return sends, ["stored", "duplicate", "duplicate", "stored", "duplicate"]


def _check_ledger(url: str) -> str:
    sends, expected = _ledger_sends()
    with socketio.SimpleClient() as alice, socketio.SimpleClient() as bob:
        clients = {"alice": alice, "bob": bob}
        for client in clients.values():
            client.connect(url, transports=["websocket"], wait_timeout=check.TIMEOUT)
        answers: list[object] = []
        for (who, ident), wanted in zip(sends, expected, strict=True):
            message = {"id": ident, "text": f"message {ident}"}
            try:
                answers.append(clients[who].call("store", message, timeout=check.TIMEOUT))
            except socketio.exceptions.TimeoutError:
                raise NotYet(
                    f"{who} sent {message} and got no ack within {check.TIMEOUT:g} s: is there a "
                    "'store' handler, and does it finish without an error?"
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
    return f"{steps}; expected {expected[index]!r} for the last one. {_ledger_why(sends, answers)}"


def _ledger_why(sends: list[tuple[str, str]], answers: list[object]) -> str:
    """Why the last of ``answers`` is wrong, said from what the server must remember."""
    answer, (who, ident) = answers[-1], sends[len(answers) - 1]
    if answer is None:
        return "The handler's return value is the ack: return 'stored' or 'duplicate'."
    if answer not in ("stored", "duplicate"):
        return (
            "Ack a new id with 'stored' and a copy with 'duplicate' (the lesson's ledger acked "
            "'ok' for both; here the sender learns which it was)."
        )
    if answer == "duplicate":
        return (
            f"{ident} had not been sent before: a duplicate is a message whose own id is "
            "already in the server's memory."
        )
    first_sender = next(sender for sender, sent in sends if sent == ident)
    if who == first_sender:
        return (
            "The same id from the same connection was stored twice: the memory of ids must "
            "outlive one call of the handler, so make it once, outside the handler."
        )
    return (
        "A copy from another connection was stored again: a retry comes back with a new sid "
        "after a reconnect, so remember ids for the whole server, not per sid."
    )
