"""The event log: what the lab's servers did, in order, as text you can read.

Code that runs inside a server (a handler) must not ``print``: its output would land under
whichever cell started the server, not under the cell you are looking at. Handlers call
:func:`log` instead, and the cell that wants to see what happened calls :func:`show_events`.

The ``websockets``, ``engineio``, ``socketio`` and ``aiohttp`` loggers feed the same log, so
a library's warnings and errors (a handler that crashed, a rejected handshake) show up there
too, instead of as red text under an old cell. :func:`library_logs` turns their chattier
INFO and DEBUG messages on and off.

The lab's own modules add events with :func:`record` (an event with a text they wrote
themselves, for a service they name). A server process started by :mod:`helpers.cluster` has no
cell to show anything: it calls :func:`set_sink` to send its events to the kernel instead.
"""

from __future__ import annotations

import contextvars
import gc
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from ._util import describe

__all__ = [
    "Event",
    "Sink",
    "events",
    "library_logs",
    "log",
    "record",
    "set_sink",
    "show_events",
]

#: The name of the lab service whose code is running, set by the lab for each server it starts.
current_service: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "current_service", default=None
)

#: Each library's loggers and the level it shows by default (engineio and socketio: errors only).
LIBRARY_LOGGERS = {
    "websockets": logging.WARNING,
    "engineio": logging.ERROR,
    "socketio": logging.ERROR,
    "aiohttp": logging.WARNING,
}
MAX_EVENTS = 10_000


@dataclass(frozen=True)
class Event:
    """One thing that happened: which service, what, and the details as text."""

    service: str | None
    name: str
    detail: str = ""
    fields: dict[str, object] = field(default_factory=dict)
    time: float = field(default_factory=time.monotonic, compare=False)

    def __str__(self) -> str:
        where = f"[{self.service}] " if self.service else ""
        return f"{where}{self.name}" + (f": {self.detail}" if self.detail else "")


#: Where events go instead of this process's log: a function that takes each :class:`Event`.
Sink = Callable[[Event], None]

_lock = threading.Lock()
_pending: deque[Event] = deque()
_dropped = 0
_sink: Sink | None = None


def record(service: str | None, name: str, detail: str = "") -> None:
    """Add the event ``name`` of ``service`` (``None``: no service) with the text ``detail``.

    :func:`log` is the handlers' way in, and fills in the service; the lab's modules use this
    to log what happened for a service they name, in words they chose::

        record("redis", "output", "Ready to accept connections")
    """
    _add(Event(service, name, detail))


def set_sink(sink: Sink | None) -> None:
    """Send every event from now on to ``sink`` instead of this process's log.

    A server process calls it to send its events to the kernel that started it, which logs
    them under the process's name. ``set_sink(None)`` keeps events here again.
    """
    global _sink
    _sink = sink


def _add(event: Event) -> None:
    """Hand ``event`` to the sink if there is one, or keep it, dropping the oldest if full."""
    global _dropped
    if _sink is not None:
        _sink(event)
        return
    with _lock:
        if len(_pending) >= MAX_EVENTS:
            _pending.popleft()
            _dropped += 1
        _pending.append(event)


def log(event: str, /, **fields: object) -> None:
    """Record that ``event`` happened, with optional details.

    Call it from handlers instead of ``print``::

        async def handler(websocket):
            async for message in websocket:
                log("received", text=message)

    The service that logged it is filled in for you.
    """
    detail = ", ".join(f"{key}={_short(value)}" for key, value in fields.items())
    _add(Event(current_service.get(), event, detail, dict(fields)))


def _short(value: object, limit: int = 80) -> str:
    """``repr(value)``, cut after ``limit`` characters, saying how long the whole is."""
    text = repr(value)
    if len(text) <= limit:
        return text
    unit = "bytes" if isinstance(value, bytes | bytearray) else "characters"
    size = f", {len(value)} {unit}" if isinstance(value, str | bytes | bytearray) else ""
    return f"{text[:limit]}…{size}"


def events(name: str | None = None, *, settle: float = 0.15, timeout: float = 3.0) -> list[Event]:
    """Take the events logged since the last call (only service ``name``'s, if given).

    Servers work in the background, so this first waits until the log has been quiet for
    ``settle`` seconds (at most ``timeout`` seconds), which lets a just-closed connection
    finish logging.
    """
    gc.collect(1)  # a failed background task is reported when it is collected: do it now
    deadline = time.monotonic() + timeout
    start = time.monotonic()
    while time.monotonic() < deadline:
        with _lock:
            last = _pending[-1].time if _pending else 0.0
        quiet_since = max(last, start)
        if time.monotonic() - quiet_since >= settle:
            break
        time.sleep(settle / 3)
    with _lock:
        taken = [e for e in _pending if name is None or e.service == name]
        kept = [e for e in _pending if not (name is None or e.service == name)]
        _pending.clear()
        _pending.extend(kept)
    return taken


def show_events(name: str | None = None) -> None:
    """Print the events logged since the last call, one per line, oldest first.

    ``name`` shows only the events of the service with that name; the others stay for later.
    """
    global _dropped
    taken = events(name)
    with _lock:
        dropped, _dropped = _dropped, 0
    if dropped:
        print(f"({dropped} older events were dropped: the log keeps the newest {MAX_EVENTS})")
    for event in taken:
        print(event)
    if not taken:
        print("(no new events)")


class _ToEventLog(logging.Handler):
    """A logging handler that turns library log records into events."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
            if record.exc_info and record.exc_info[1] is not None:
                error = record.exc_info[1]
                text += f" ({describe(error)})" if str(error) else f" ({error!r})"
            _add(Event(current_service.get(), record.name, text))
        except Exception:  # a logging handler must never raise
            self.handleError(record)


def _only_other_threads(lab_thread: threading.Thread):
    """A logging filter for ``asyncio``: records from the lab's thread go to the event log."""

    def keep(record: logging.LogRecord) -> bool:
        if threading.current_thread() is lab_thread:
            _handler.handle(record)
            return False
        return True

    return keep


_handler = _ToEventLog()


def _loggers(library: str) -> list[logging.Logger]:
    # engineio and socketio give a logger whose level is unset a stderr handler: set it too.
    names = [library, f"{library}.server", f"{library}.client"]
    return [logging.getLogger(name) for name in names]


def _install() -> None:
    """Route the libraries' loggers into the event log (done once, on import)."""
    for library in LIBRARY_LOGGERS:
        top = logging.getLogger(library)
        if _handler not in top.handlers:
            top.addHandler(_handler)
        top.propagate = False
        for logger in _loggers(library):
            if logger.level == logging.NOTSET:
                logger.setLevel(LIBRARY_LOGGERS[library])


def capture_asyncio_logs(lab_thread: threading.Thread) -> None:
    """Send the ``asyncio`` logger's records from ``lab_thread`` to the event log."""
    asyncio_logger = logging.getLogger("asyncio")
    for old in [f for f in asyncio_logger.filters if getattr(f, "__name__", "") == "keep"]:
        asyncio_logger.removeFilter(old)
    asyncio_logger.addFilter(_only_other_threads(lab_thread))


def library_logs(level: int | str | bool = "INFO", *names: str) -> None:
    """Let the libraries' own log messages into the event log, down to ``level``.

    ``library_logs("DEBUG", "websockets")`` shows everything ``websockets`` says;
    ``library_logs(False)`` goes back to each library's default (warnings from websockets
    and aiohttp, errors from engineio and socketio). With no ``names``, it applies to all four.
    """
    unknown = [name for name in names if name not in LIBRARY_LOGGERS]
    if unknown:
        choices = ", ".join(LIBRARY_LOGGERS)
        raise ValueError(f"unknown library {unknown[0]!r}: choose from {choices}")
    number = _level_number(level)
    for library in names or LIBRARY_LOGGERS:
        for logger in _loggers(library):
            logger.setLevel(LIBRARY_LOGGERS[library] if number is None else number)


def _level_number(level: int | str | bool) -> int | None:
    """The logging level ``level`` names; ``None`` for ``False`` (the libraries' defaults)."""
    if level is False:
        return None
    if level is True:
        return logging.INFO
    number = logging.getLevelName(level.upper()) if isinstance(level, str) else level
    if isinstance(number, int):
        return number
    raise ValueError(f"unknown level {level!r}: use 'DEBUG', 'INFO', 'WARNING' or False")


_install()
