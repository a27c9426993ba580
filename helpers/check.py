"""Check the "Your turn" exercises: a friendly hint until it is solved, never a traceback.

A lesson registers a checker per exercise with :func:`exercise`; a learner calls
``helpers.check("00.1", answer)`` in the exercise cell.
"""

from __future__ import annotations

import contextlib
import inspect
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import socketio

from ._util import NOTEBOOKS, describe
from .eventlog import events
from .lab import Service

__all__ = [
    "QUIET",
    "TIMEOUT",
    "NotYet",
    "Visitor",
    "check",
    "exercise",
    "function_answer",
    "grade",
    "hint",
    "running_service",
    "solution",
    "visiting",
    "wait_until",
]

# Every check reads these at each use (check.TIMEOUT, not a copy made at import), so that one
# assignment changes every wait: tests/exercises/conftest.py shortens TIMEOUT.
TIMEOUT: float = 3  # seconds: every client call in the checks gives up after this long
QUIET: float = 0.5  # seconds the checks wait to be sure that an event does NOT come


class NotYet(Exception):
    """Raised by a checker, with a hint, when the answer is not right yet."""


@dataclass(frozen=True)
class Exercise:
    """One "Your turn" exercise: its key ("05.1"), the help it gives, and its checker."""

    key: str
    nudge: str
    hints: tuple[str, ...]
    checker: Callable[[Any], str]


_exercises: dict[str, Exercise] = {}
_hints_given: dict[str, int] = {}  # how many of each exercise's hints were shown so far


def exercise(
    key: str, *, nudge: str, hints: Sequence[str] = ()
) -> Callable[[Callable[[Any], str]], Callable[[Any], str]]:
    """Register ``checker`` as the check for exercise ``key``.

    The checker gets the learner's answer and returns a sentence of confirmation, or raises
    :class:`NotYet` saying what it observed and why that is not right yet.

    Help comes in steps, as a tutor gives it. ``nudge`` is shown while the answer is still
    ``...``: what to do and which idea of the lesson to use, never code. ``hints`` are more
    specific, from the vaguest to the most precise: each wrong attempt (or a call of
    :func:`hint`) shows the next one. The worked answer is only shown by :func:`solution`.
    """

    def register(checker: Callable[[Any], str]) -> Callable[[Any], str]:
        _exercises[key] = Exercise(key, nudge, tuple(hints), checker)
        return checker

    return register


def function_answer(answer: object, name: str, *, plain_def: str = "") -> Callable[..., Any]:
    """``answer`` if it can be called; otherwise :class:`NotYet`, saying to pass the function
    ``name`` itself (not its result, and not ``...``). With ``plain_def`` (why the check calls
    it synchronously), an ``async def`` is refused too, with that reason."""
    if not callable(answer):
        raise NotYet(f"pass the function itself, {name}, not {answer!r}.")
    if plain_def and inspect.iscoroutinefunction(answer):
        raise NotYet(f"{name} is an async def, but {plain_def}: write a plain def.")
    return answer


def running_service(answer: object, start: str, kind: str = "") -> Service:
    """``answer`` if it is a running lab service (whose kind starts with ``kind``); otherwise
    :class:`NotYet`, saying to pass what ``start`` (the call that starts it) returned."""
    if not isinstance(answer, Service) or answer.stopped:
        raise NotYet(f"pass the running Service that {start} returned, not {answer!r}.")
    if not answer.kind.startswith(kind):
        raise NotYet(f"this service is a {answer.kind}; start yours with {start}.")
    return answer


class Visitor:
    """A checker's socketio.Client, with a name (sent in ``auth``) and an inbox of every event
    it receives; what goes wrong becomes a hint (:class:`NotYet`)."""

    def __init__(self, name: str, **auth: str) -> None:
        self.name = name
        self.auth = {"name": name, **auth}
        self.inbox: list[list[Any]] = []
        self.client = socketio.Client(reconnection=False)
        self.client.on("*", lambda event, *args: self.inbox.append([event, *args]))

    def connect(self, url: str, namespaces: list[str] | None = None) -> None:
        """Connect to ``url`` (and ``namespaces``) over WebSocket, or say why it could not."""
        try:
            self.client.connect(
                url,
                namespaces=namespaces,
                auth=self.auth,
                transports=["websocket"],
                wait_timeout=TIMEOUT,
            )
        except socketio.exceptions.ConnectionError as error:
            where = f" to {', '.join(namespaces)}" if namespaces else ""
            raise NotYet(
                f"{self.name} could not connect{where} with auth={self.auth} ({error})."
            ) from None

    def call(self, event: str, data: object = None, namespace: str | None = None) -> object:
        """Emit ``event`` (with ``data``) and return its acknowledgement, or say why none came."""
        shown = f"'{event}'" if data is None else f"'{event}' with {data!r}"
        try:
            return self.client.call(event, data, namespace=namespace, timeout=TIMEOUT)
        except socketio.exceptions.TimeoutError:
            raise NotYet(
                f"{self.name} called {shown} and got no acknowledgement within {TIMEOUT:g} s. Is "
                f"there a listener for '{event}', and does it finish without an error?"
            ) from None
        except Exception as error:
            raise NotYet(f"{self.name} calling {shown} failed ({describe(error)}).") from None

    def disconnect(self) -> None:
        """Leave, if still connected."""
        with contextlib.suppress(Exception):  # the check is over: a failed goodbye changes nothing
            self.client.disconnect()


def wait_until(condition: Callable[[], object], timeout: float | None = None) -> bool:
    """Wait until ``condition()`` is true; False if it is not within ``timeout`` seconds
    (by default :data:`TIMEOUT`)."""
    deadline = time.monotonic() + (TIMEOUT if timeout is None else timeout)
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


_LIBRARIES = ("websockets", "engineio", "socketio", "aiohttp", "asyncio")


@contextlib.contextmanager
def visiting(server: Service) -> Iterator[list[Any]]:
    """Yield a list for a checker's clients (Socket.IO or websockets). Afterwards disconnect
    them all and take the events of ``server`` their visit caused, so they stay out of the
    learner's next ``show_events()``; if the check failed and the server logged a library error (a
    listener that raised), add it to the hint, since the learner would not see it otherwise."""
    clients: list[Any] = []
    problem: NotYet | None = None
    try:
        yield clients
    except NotYet as reason:
        problem = reason
    finally:
        for client in clients:  # Socket.IO clients disconnect(), websockets clients close()
            with contextlib.suppress(Exception):  # the check is over: a failed goodbye is fine
                (getattr(client, "disconnect", None) or client.close)()
        taken = events(server.name)
    if problem is not None:
        errors = [e for e in taken if e.name.split(".")[0] in _LIBRARIES]
        if errors:
            problem = NotYet(f"{problem} The server logged: {errors[0].name}: {errors[0].detail}")
        raise problem


def _find(key: str) -> Exercise | str:
    """The exercise ``key``, or a sentence saying which exercises there are."""
    from . import exercises  # noqa: F401 - registers every lesson's checkers

    found = _exercises.get(key)
    if found is None:
        known = ", ".join(sorted(_exercises))
        return f"There is no exercise {key!r}. The exercises are: {known}."
    return found


def _next_hint(found: Exercise) -> str:
    """The next of ``found``'s hints (the last one again once all were shown), numbered."""
    if not found.hints:
        return f"For a worked answer: helpers.solution({found.key!r})."
    given = min(_hints_given.get(found.key, 0) + 1, len(found.hints))
    _hints_given[found.key] = given
    text = f"Hint {given} of {len(found.hints)}: {found.hints[given - 1]}"
    if given == len(found.hints):
        text += f" Still stuck? helpers.solution({found.key!r}) shows a worked answer."
    return text


def grade(key: str, answer: Any) -> tuple[bool, str]:
    """Return ``(solved, message)`` for ``answer`` to exercise ``key``.

    A wrong answer's message says what the check saw, then gives the next hint.
    """
    found = _find(key)
    if isinstance(found, str):
        return False, found
    if answer is ...:
        return False, f"{key} is not solved yet. {found.nudge}"
    try:
        return True, f"{key} solved. {found.checker(answer)}"
    except NotYet as reason:
        return False, f"{key}: not yet. {reason}\n{_next_hint(found)}"
    except Exception as error:  # a learner's answer may break the checker: still only a hint
        problem = f"checking your answer raised {describe(error)}"
        return False, f"{key}: not yet, {problem}.\n{_next_hint(found)}"


def check(key: str, answer: Any) -> None:
    """Check your answer to exercise ``key`` and print what to do next."""
    solved, message = grade(key, answer)
    print(("✅ " if solved else "💡 ") + message)


def hint(key: str) -> None:
    """Print the next, more specific hint for exercise ``key`` (each call goes one further)."""
    found = _find(key)
    print(found if isinstance(found, str) else f"💡 {key}: {_next_hint(found)}")


SOLUTIONS = NOTEBOOKS / "solutions"
_BLOCK = re.compile(r"^# Exercise (\d\d\.\d+)\b", re.MULTILINE)


def solution_text(key: str) -> str:
    """The worked answer to exercise ``key``: its block in ``notebooks/solutions/``, the same
    file that the tests run, so what you read is an answer known to pass."""
    found = _find(key)
    if isinstance(found, str):
        return found
    files = sorted(SOLUTIONS.glob(f"{key[:2]}_*.py"))
    if not files:
        return f"No solutions in {SOLUTIONS}: open notebooks/solutions/ in the repository."
    text = files[0].read_text(encoding="utf-8")
    starts = [(m.group(1), m.start()) for m in _BLOCK.finditer(text)]
    for index, (block, start) in enumerate(starts):
        if block == key:
            end = starts[index + 1][1] if index + 1 < len(starts) else len(text)
            return text[start:end].strip()
    return f"{files[0].name} has no block for exercise {key}."


def solution(key: str) -> None:
    """Print a worked answer to exercise ``key``. Try the exercise (and its hints) first."""
    print(solution_text(key))
