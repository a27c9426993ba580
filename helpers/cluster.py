"""Socket.IO (and ``websockets``) servers as separate OS processes, and worker processes that
run a function.

A process is a fresh Python: it shares no memory and no variable with the notebook. So
:func:`start_sio_process` does not send it a server object, it sends the *source* of a
function that builds one (``def chat_node(redis_url): ... return sio``); the process runs
that source, calls the function with the arguments given, and serves the server it returns
on a free port. The function must import what it uses, inside its body, and take everything
else as arguments: that is what a real server program looks like too.
:func:`start_ws_process` does the same for a ``websockets`` server: the function returns the
connection handler to serve.

Each process is a lab :class:`~helpers.lab.Service` (``helpers.stop_all()`` stops it) and dies
with the kernel (see :mod:`helpers.processes`). What it logs with ``helpers.log``, and what
it prints, goes to the event log under its name: ``helpers.show_events("node-a")``.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import os
import sys
import textwrap
import threading
import traceback
from collections.abc import Callable
from typing import Any

from . import eventlog
from .lab import DEFAULT_HOST, START_TIMEOUT, Closer, Service, run, start_service
from .processes import Child, exited, spawn, stop_process

__all__ = ["pid", "run_process", "start_sio_process", "start_ws_process"]

_CHILD = "from helpers.cluster import _child; _child()"
_pids: dict[str, int] = {}


def start_sio_process(
    build: Callable[..., Any], *args: Any, name: str, host: str = DEFAULT_HOST, port: int = 0
) -> Service:
    """Start a Socket.IO server in a new process: ``build(*args)`` runs there and returns the
    ``socketio.AsyncServer(async_mode="aiohttp")`` to serve. Starting another process under
    the same ``name`` stops the old one. The arguments must be JSON values (such as a URL)."""
    order = _order("serve", build, args, name=name, host=host, port=port)
    return _start_server_process(order, "Socket.IO server process", "http")


def start_ws_process(
    build: Callable[..., Any], *args: Any, name: str, host: str = DEFAULT_HOST, port: int = 0
) -> Service:
    """Start a ``websockets`` server in a new process: ``build(*args)`` runs there and returns
    the connection handler to serve (``async def handler(websocket): ...``), as
    :func:`helpers.start_ws_server` serves it. Otherwise as :func:`start_sio_process`."""
    order = _order("serve-ws", build, args, name=name, host=host, port=port)
    return _start_server_process(order, "websockets server process", "ws")


def _start_server_process(order: dict, kind: str, scheme: str) -> Service:
    name = order["name"]

    async def open_process() -> tuple[int, Closer]:
        child, answer = await _start_child(order)
        try:
            bound = await asyncio.wait_for(answer, START_TIMEOUT)
        except BaseException:
            await stop_process(child, polite=False)
            raise

        async def close() -> None:
            await stop_process(child)

        _pids[name] = child.pid
        return bound, close

    return start_service(name, kind, scheme, order["host"], order["port"], open_process)


def run_process(
    function: Callable[..., Any], *args: Any, name: str = "worker", timeout: float = 10
) -> Any:
    """Run ``function(*args)`` in a new process, wait for it, and return what it returned
    (a JSON value; otherwise its repr). A coroutine function is run with ``asyncio.run``.
    What it logs or prints goes to the event log as ``name``'s."""
    order = _order("run", function, args, name=name)

    async def run_child() -> Any:
        child, answer = await _start_child(order)
        try:
            return await asyncio.wait_for(answer, timeout)
        except TimeoutError:
            raise TimeoutError(f"{order['function']}() ran more than {timeout:g} s") from None
        finally:
            await stop_process(child)

    return run(run_child(), timeout=timeout + 5, service=name)


def pid(service: Service) -> int:
    """The process id of a process started with :func:`start_sio_process` or
    :func:`start_ws_process`."""
    kinds = ("Socket.IO server process", "websockets server process")
    if service.name not in _pids or service.kind not in kinds:
        raise ValueError(f"{service!r} was not started by start_sio_process()")
    return _pids[service.name]


def _order(mode: str, function: Callable[..., Any], args: tuple, **options: Any) -> dict:
    """What the child needs to know, as JSON: the function's source, its name, the arguments."""
    name = getattr(function, "__name__", "")
    if not inspect.isfunction(function) or name == "<lambda>":
        raise TypeError(
            f"pass a function defined with 'def' (the process runs its source), not {function!r}"
        )
    if function.__code__.co_freevars:
        raise TypeError(
            f"{name}() uses variables of the function around it "
            f"({', '.join(function.__code__.co_freevars)}): define it at the top level of a "
            "cell, and pass what it needs as arguments"
        )
    try:
        json.dumps(args)
    except TypeError as error:
        raise TypeError(f"the arguments go to another process as JSON: {error}") from None
    source = textwrap.dedent(inspect.getsource(function))
    return {"mode": mode, "source": source, "function": name, "args": list(args), **options}


async def _start_child(order: dict) -> tuple[Child, asyncio.Future]:
    """Start the child, send it ``order``, and return it with a future for its answer."""
    child = await spawn([sys.executable, "-c", _CHILD], protocol=True)
    assert child.process.stdin is not None
    child.process.stdin.write(json.dumps(order).encode() + b"\n")
    answer: asyncio.Future = asyncio.get_running_loop().create_future()
    child.readers.append(asyncio.ensure_future(_listen(child, order, answer)))
    return child, answer


async def _listen(child: Child, order: dict, answer: asyncio.Future) -> None:
    """Read the child's messages: events for the log, then its answer (or its error)."""
    service = eventlog.current_service.get()
    process = child.process
    assert process.stdout is not None  # spawn(protocol=True) leaves it to us
    while line := await process.stdout.readline():
        message = json.loads(line)
        if "event" in message:
            eventlog.record(service, message["event"], message["detail"])
        elif not answer.done():
            if "error" in message:
                where = f"{order['function']}() failed in its process"
                answer.set_exception(RuntimeError(f"{where}: {message['error']}"))
            else:
                answer.set_result(message["answer"])
    await process.wait()
    await asyncio.wait(child.readers[:-1], timeout=1)  # its last words, for the error
    if not answer.done():
        answer.set_exception(exited(child, f"the process of {order['function']}()"))


# --- in the child process ------------------------------------------------------------------


def _child() -> None:
    """The child's main: read the order, run it, report on the protocol pipe."""
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # what the function prints goes to standard error: to the event log
    lock = threading.Lock()

    def send(**message: Any) -> None:
        with lock:
            protocol.write(json.dumps(message, default=repr) + "\n")

    # Everything the child logs (helpers.log, the libraries' loggers) goes to the parent.
    eventlog.set_sink(lambda event: send(event=event.name, detail=event.detail))
    order = json.loads(sys.stdin.readline())
    try:
        namespace: dict[str, Any] = {"__name__": "__process__"}
        exec(compile(order["source"], f"<{order['function']}>", "exec"), namespace)
        result = namespace[order["function"]](*order["args"])
        if order["mode"] in ("serve", "serve-ws"):
            _serve(result, order, send)
        else:
            send(answer=asyncio.run(result) if inspect.iscoroutine(result) else result)
    except Exception as error:
        send(error=_explain(error))
        sys.exit(1)


def _serve(served: Any, order: dict, send: Callable[..., None]) -> None:
    import socketio

    from .lab import stop_all
    from .servers import _is_async_function, start_sio_server, start_ws_server

    where = {"name": order["name"], "host": order["host"], "port": order["port"]}
    if order["mode"] == "serve-ws":
        if not _is_async_function(served):
            raise TypeError(
                f"{order['function']}() returned {served!r}: return the connection handler, "
                "an 'async def handler(websocket)', that the process should serve"
            )
        server = start_ws_server(served, **where)
    elif not isinstance(served, socketio.AsyncServer):
        raise TypeError(
            f"{order['function']}() returned {served!r}: return the "
            "socketio.AsyncServer(async_mode='aiohttp') that the process should serve"
        )
    else:
        server = start_sio_server(served, **where)
    send(answer=server.port)
    threading.Thread(target=_exit_when_orphaned, daemon=True).start()
    with contextlib.suppress(KeyboardInterrupt):
        sys.stdin.read()  # until the parent closes the pipe, or dies
    stop_all()


def _exit_when_orphaned() -> None:
    """Belt and braces where PR_SET_PDEATHSIG does not exist (not Linux): poll the parent."""
    parent = os.getppid()
    while os.getppid() == parent:
        threading.Event().wait(1)
    os._exit(0)


def _explain(error: Exception) -> str:
    """The error as its last traceback line, with a hint for a name the process lacks."""
    text = "".join(traceback.format_exception_only(error)).strip()
    if isinstance(error, NameError):
        text += (
            " (a process gets only the function's source: import what it uses inside the "
            "function, and pass other values as arguments)"
        )
    return text
