"""Child processes as lab services: programs that run beside the kernel and die with it.

Lesson 13 runs a Redis server, several Socket.IO server processes and nginx. Each one is a
separate OS process, started from the lab's thread and registered as a lab
:class:`~helpers.lab.Service`, so ``helpers.stop(name)``, ``helpers.stop_all()`` and the
kernel's exit stop it like any other server. Three things make sure that none outlives the
kernel, even one killed with SIGKILL, which runs no clean-up at all:

- on Linux, each child asks the kernel to send it SIGTERM when its parent dies
  (``prctl(PR_SET_PDEATHSIG)``, which survives the ``exec`` of the real program);
- a Python child also watches its standard input, a pipe from the kernel: when the kernel is
  gone, the pipe reads end-of-file, and the child exits;
- what a child prints goes to the event log (``helpers.show_events(name)``), never into a cell.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
import tempfile
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from . import eventlog
from ._util import ROOT
from .lab import DEFAULT_HOST, STOP_GRACE, Closer

__all__ = [
    "Child",
    "alive",
    "free_port",
    "run_in_folder",
    "running",
    "spawn",
    "stop_process",
    "wait_for_port",
]

TAIL = 5  # lines of a child's output kept for error messages

# Run by a fresh Python before the real program: ask Linux for SIGTERM when the parent dies,
# give up if the parent is already gone, then become the program (exec keeps the request).
_DIE_WITH_PARENT = """\
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
if hasattr(libc, "prctl"):
    libc.prctl(1, 15)  # PR_SET_PDEATHSIG, SIGTERM
if os.getppid() != int(sys.argv[1]):
    sys.exit(0)
os.execv(sys.argv[2], sys.argv[2:])
"""


@dataclass(eq=False)
class Child:
    """A child process the lab started, with what the lab keeps about it."""

    process: asyncio.subprocess.Process
    #: The last ``TAIL`` lines it wrote, for the error message if it exits early.
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=TAIL))
    #: The tasks that read its output; awaiting them collects its last words.
    readers: list[asyncio.Future[None]] = field(default_factory=list)

    @property
    def pid(self) -> int:
        """The child's process id."""
        return self.process.pid


_children: set[Child] = set()


async def spawn(argv: Sequence[str], *, protocol: bool = False) -> Child:
    """Start ``argv`` as a child that dies with this process (on Linux, even on SIGKILL).

    Its standard input is a pipe it may watch. Each line it writes becomes an event called
    ``output`` of the current service, and the last few are kept in the child's ``tail`` for
    error messages; with ``protocol=True``, standard output is left for the caller to read.
    Call this on the lab's loop: the lab's thread is the child's parent.
    """
    env = dict(os.environ)
    # A Python child imports helpers from this checkout, as the kernel does.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _DIE_WITH_PARENT, str(os.getpid()), *argv,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        start_new_session=True,  # a Ctrl-C in a terminal that started Jupyter is the kernel's
    )  # fmt: skip
    child = Child(process)
    _children.add(child)
    streams = [process.stderr] if protocol else [process.stderr, process.stdout]
    child.readers.extend(asyncio.ensure_future(_log_lines(s, child.tail)) for s in streams)
    return child


async def _log_lines(stream: asyncio.StreamReader | None, tail: deque[str]) -> None:
    """Record each line of ``stream`` as an ``output`` event of the current service."""
    if stream is None:
        return
    service = eventlog.current_service.get()
    while line := await stream.readline():
        text = line.decode(errors="replace").rstrip()
        if text:
            tail.append(text)
            eventlog.record(service, "output", text)


def exited(child: Child, what: str) -> RuntimeError:
    """The error to raise when ``child`` (``what``) exited early: its code and last words."""
    said = " | ".join(child.tail) or "nothing"
    return RuntimeError(f"{what} exited with code {child.process.returncode}; it said: {said}")


async def stop_process(child: Child, *, polite: bool = True) -> None:
    """Stop a child: close its standard input (a polite child exits), then SIGTERM, then
    SIGKILL, giving each ``STOP_GRACE`` seconds."""
    process = child.process
    if process.stdin is not None and not process.stdin.is_closing():
        process.stdin.close()
    steps: list[Callable[[], None] | None] = [process.terminate, process.kill]
    if polite:
        steps.insert(0, None)
    for step in steps:
        if process.returncode is not None:
            break
        if step is not None:
            with contextlib.suppress(ProcessLookupError):
                step()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(process.wait(), STOP_GRACE * 2)
    _children.discard(child)


def running() -> list[int]:
    """The ids of the child processes the lab started that are still running."""
    return sorted(child.pid for child in list(_children) if alive(child.pid))


def alive(pid: int) -> bool:
    """Whether a process with this id is running (a zombie, dead but not yet reaped, is not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    with contextlib.suppress(OSError):
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return True


def free_port(host: str = DEFAULT_HOST) -> int:
    """A TCP port that is free right now on ``host``, for a program that must be told one."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


async def _hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """End a probe connection and wait (a second at most) until the other side has closed it
    too. A proxy in TCP mode (HAProxy's ``mode tcp``) passes even a probe on to one of its
    servers, which takes that server's turn in the rotation: waiting for the close makes the
    turn taken before the caller's first real connection, never between two of them."""
    with contextlib.suppress(OSError, TimeoutError):
        writer.write_eof()
        await asyncio.wait_for(reader.read(), 1)
    writer.close()


async def wait_for_port(
    child: Child,
    port: int,
    what: str,
    ready: Callable[[], Awaitable[bool]] | None = None,
    timeout: float = 10.0,
) -> None:
    """Wait until ``child`` accepts connections on ``port`` (and ``ready()`` is true).

    If it exits first, raise ``RuntimeError`` with the last lines it wrote.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if child.process.returncode is not None:
            await asyncio.wait(child.readers, timeout=1)  # its last words, for the error
            raise exited(child, what)
        try:
            reader, writer = await asyncio.open_connection(DEFAULT_HOST, port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        await _hang_up(reader, writer)
        if ready is None or await ready():
            return
        await asyncio.sleep(0.05)
    await stop_process(child, polite=False)
    raise TimeoutError(f"{what} did not accept connections on port {port} within {timeout:g} s")


async def run_in_folder(
    prefix: str,
    command: Callable[[Path], list[str]],
    port: int,
    what: str,
    log: str,
    ready: Callable[[], Awaitable[bool]] | None = None,
) -> tuple[int, Closer]:
    """Run the program ``command(folder)`` in a new temporary folder (for its files and its
    log, ``folder/log``) until it accepts connections on ``port`` (see :func:`wait_for_port`).

    Returns the port and a closer that stops the program and removes the folder. If the
    program fails to start, raises ``RuntimeError`` with the last lines of its log.
    """
    folder = tempfile.TemporaryDirectory(prefix=prefix)
    path = Path(folder.name)
    child = await spawn(command(path))

    async def close() -> None:
        await stop_process(child, polite=False)
        folder.cleanup()

    try:
        await wait_for_port(child, port, what, ready)
    except RuntimeError as error:
        logged = path / log
        said = logged.read_text(errors="replace").splitlines()[-2:] if logged.exists() else []
        await close()
        raise RuntimeError(" | ".join([str(error), *said])) from None
    except BaseException:
        await close()
        raise
    return port, close
