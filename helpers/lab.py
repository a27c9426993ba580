"""The lab: one background thread whose event loop runs every server a lesson starts.

Servers live on their own loop, in their own thread, so they keep answering while a cell
runs blocking code or a synchronous client. Each server is a :class:`Service` with a name;
starting another service under the same name stops the old one first, so re-running a cell
never fails with "address already in use". Everything stops when Python exits.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import errno
import inspect
import threading
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

from . import eventlog
from ._util import describe
from .eventlog import current_service, log

__all__ = ["PortInUseError", "Service", "run", "status", "stop", "stop_all"]

T = TypeVar("T")
Closer = Callable[[], Awaitable[None]]
Opener = Callable[[], Awaitable[tuple[int, Closer]]]

DEFAULT_HOST = "127.0.0.1"
START_TIMEOUT = 10.0
STOP_GRACE = 1.0  # seconds a server waits for its clients to close before cutting them off
SHUTDOWN_TIMEOUT = 5.0  # seconds the interpreter's exit waits for the lab's loop to close


class PortInUseError(OSError):
    """The port a service asked for is taken; the message says what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.errno = errno.EADDRINUSE


@dataclass(eq=False)
class Service:
    """A server running in the lab: where it listens and how to stop it.

    ``kind`` says what it is (``"websockets server"``, ``"nginx"``...), and ``detail`` what
    else its starter recorded about it: for a Redis server the lab started, the program's path.
    """

    name: str
    kind: str
    host: str
    port: int
    scheme: str
    _close: Closer = field(repr=False)
    stopped: bool = False
    detail: str = ""

    @property
    def url(self) -> str:
        """The address a client connects to, such as ``ws://127.0.0.1:8765``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    def stop(self) -> None:
        """Stop this service (doing nothing if it already stopped)."""
        if self.stopped:
            return
        self.stopped = True
        with _lock:
            if _services.get(self.name) is self:
                del _services[self.name]
        run(_as_service(self.name, self._close), timeout=START_TIMEOUT)

    def __repr__(self) -> str:
        state = " (stopped)" if self.stopped else ""
        return f"<Service {self.name!r}: {self.kind} on {self.url}{state}>"


_lock = threading.RLock()
_services: dict[str, Service] = {}
_loop: asyncio.AbstractEventLoop | None = None
_thread: threading.Thread | None = None


def _lab_loop() -> asyncio.AbstractEventLoop:
    """The lab's event loop, started in a daemon thread on first use."""
    global _loop, _thread
    with _lock:
        if _thread is None or not _thread.is_alive():
            _loop = asyncio.new_event_loop()
            _loop.set_task_factory(Task.factory)
            _loop.set_exception_handler(_log_loop_error)
            _thread = threading.Thread(
                target=_run_lab_loop, args=(_loop,), name="helpers-lab", daemon=True
            )
            _thread.start()
            eventlog.capture_asyncio_logs(_thread)
        assert _loop is not None
        return _loop


class Task(asyncio.Task):
    """A task that remembers which service started it, for the event log."""

    service: str | None = None

    @classmethod
    def factory(cls, loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> asyncio.Task:
        task = cls(coro, loop=loop, **kwargs)
        task.service = current_service.get()
        return task


def _log_loop_error(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """Log what the loop reports (such as a background task that failed) as an event."""
    error = context.get("exception")
    detail = f" ({describe(error)})" if error else ""
    task = context.get("future") or context.get("task")
    service = getattr(task, "service", None) or current_service.get()
    eventlog.record(service, "asyncio", context["message"] + detail)


def run(
    coro: Coroutine[Any, Any, T], timeout: float | None = 10, *, service: str | None = None
) -> T:
    """Run ``coro`` on the lab's loop from ordinary (synchronous) code and return its result.

    ``helpers.run(main())`` is the lab's answer to ``asyncio.run(main())``, which a notebook
    cannot use. If ``coro`` takes longer than ``timeout`` seconds it is cancelled and a
    ``TimeoutError`` names it. With ``service="name"``, what it logs (say, the handlers that
    ``helpers.run(sio.disconnect(sid), service="chat")`` sets off) is logged as that service's.
    """
    if not inspect.iscoroutine(coro):
        hint = f" Call it: run({coro.__name__}())." if inspect.iscoroutinefunction(coro) else ""
        raise TypeError(f"run() needs a coroutine object, got {coro!r}.{hint}")
    if threading.current_thread() is _thread:
        coro.close()
        raise RuntimeError("run() was called on the lab's own loop: use 'await' there instead")
    work = coro if service is None else _as_service(service, lambda: coro)
    future = asyncio.run_coroutine_threadsafe(work, _lab_loop())
    try:
        done, _ = concurrent.futures.wait([future], timeout)
    except BaseException:  # KeyboardInterrupt: stop the coroutine too
        future.cancel()
        raise
    if not done:
        future.cancel()
        name = getattr(coro, "__qualname__", repr(coro))
        raise TimeoutError(f"{name}() did not finish within {timeout} s and was cancelled")
    return future.result()


async def _as_service(name: str, work: Callable[[], Awaitable[T]]) -> T:
    """Await ``work()`` with everything it does, and every task it starts, logged as ``name``."""
    current_service.set(name)
    return await work()


def start_service(
    name: str,
    kind: str,
    scheme: str,
    host: str,
    port: int,
    opener: Opener,
    *,
    detail: str = "",
) -> Service:
    """Start a service with ``opener`` on the lab loop, replacing any service called ``name``.

    ``opener`` is an async function that starts listening on ``host``/``port`` and returns
    the port it got and an async function that stops it; ``detail`` is kept as the service's
    :attr:`Service.detail`. The server modules use this; a lesson calls ``start_ws_server``
    and friends instead.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"a service needs a non-empty name, got {name!r}")
    if not isinstance(port, int) or not 0 <= port <= 65535:
        raise ValueError(
            f"port must be a whole number from 0 to 65535 (0: any free port), not {port!r}"
        )
    stop(name)
    _refuse_port_held_by_service(port)

    try:
        bound, close = run(_as_service(name, opener), timeout=START_TIMEOUT)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise PortInUseError(
                f"port {port} on {host} is already in use by another program. "
                "Use port=0 to let the system pick a free port, or stop that program.",
            ) from None
        raise
    service = Service(name, kind, host, bound, scheme, close, detail=detail)
    with _lock:
        _services[name] = service
    return service


def _refuse_port_held_by_service(port: int) -> None:
    with _lock:
        holder = next((s for s in _services.values() if port and s.port == port), None)
    if holder:
        raise PortInUseError(
            f"port {port} is held by the lab service {holder.name!r}. Stop it with "
            f"helpers.stop({holder.name!r}), reuse that name, or use port=0.",
        )


async def close_with_grace(wait: Awaitable[None], cut_off: Callable[[], None]) -> None:
    """Wait for ``wait`` (a closing server) up to ``STOP_GRACE`` seconds, then ``cut_off``."""
    task = asyncio.ensure_future(wait)
    done, _ = await asyncio.wait([task], timeout=STOP_GRACE)
    if not done:
        log("stop", detail=f"clients did not close within {STOP_GRACE} s; cut them off")
        cut_off()
        await asyncio.wait([task], timeout=STOP_GRACE)


def stop(name: str) -> None:
    """Stop the service called ``name``, if there is one."""
    with _lock:
        service = _services.get(name)
    if service:
        service.stop()


def stop_all() -> None:
    """Stop every running service."""
    with _lock:
        running = list(_services.values())
    for service in running:
        service.stop()


def services() -> list[Service]:
    """The running services, oldest first."""
    with _lock:
        return list(_services.values())


def status() -> None:
    """Print a table of the running services."""
    running = services()
    if not running:
        print("No services are running.")
        return
    rows = [("name", "kind", "url")] + [(s.name, s.kind, s.url) for s in running]
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    for name, kind, url in rows:
        print(f"{name:<{widths[0]}}  {kind:<{widths[1]}}  {url}")


def _run_lab_loop(loop: asyncio.AbstractEventLoop) -> None:
    """The lab thread: run ``loop`` until it is stopped, then close it as ``asyncio.run()``
    does, so that no task, async generator or executor thread is left to the interpreter's exit
    (where a half-finished coroutine prints ``Exception ignored in: ...`` to standard error)."""
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
    finally:
        try:
            _cancel_all_tasks(loop)
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(_shutdown_default_executor(loop))
        finally:
            asyncio.set_event_loop(None)
            loop.close()


def _cancel_all_tasks(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel the tasks still pending on ``loop`` and let them finish (their ``finally``
    clauses run), giving them ``STOP_GRACE`` seconds; log any that failed."""
    pending = asyncio.all_tasks(loop)
    if not pending:
        return
    for task in pending:
        task.cancel()
    loop.run_until_complete(asyncio.wait(pending, timeout=STOP_GRACE))
    for task in pending:
        if task.done() and not task.cancelled() and task.exception() is not None:
            loop.call_exception_handler(
                {
                    "message": "a lab task raised an exception while the lab shut down",
                    "exception": task.exception(),
                    "task": task,
                }
            )


async def _shutdown_default_executor(loop: asyncio.AbstractEventLoop) -> None:
    """``loop.shutdown_default_executor()``, waiting at most ``STOP_GRACE`` seconds for its
    threads (Python 3.12 has a timeout argument for this, 3.11 has not).

    At the interpreter's exit, Python 3.12.0 and 3.12.1 refuse to start the thread it needs
    (``RuntimeError``); there ``concurrent.futures`` has joined the executor's threads already,
    before the exit handlers run, so nothing is left to wait for."""
    with contextlib.suppress(TimeoutError, RuntimeError):
        await asyncio.wait_for(asyncio.shield(loop.shutdown_default_executor()), STOP_GRACE)


def _shutdown() -> None:
    """At interpreter exit: stop every service, then the loop (which closes it) and its thread."""
    try:
        stop_all()
    finally:
        if _loop is not None and _thread is not None and _thread.is_alive():
            _loop.call_soon_threadsafe(_loop.stop)
            _thread.join(timeout=SHUTDOWN_TIMEOUT)


atexit.register(_shutdown)
