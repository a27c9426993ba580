"""The benchmark's client process: it runs the cases against the server process.

    python -m helpers.bench.client PLAN_JSON

The harness (:func:`helpers.bench.run`) starts it and reads its standard output, one JSON
object a line: ``{"step": ...}`` when a piece of work is done (for the progress bar),
``{"pause": ...}`` when it waits for a line on standard input (the harness reads the tap
then), and last ``{"result": ...}``. Each case is the library's ordinary client API.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from collections.abc import Callable
from typing import Any, TypedDict

import aiohttp
import engineio
import socketio
from websockets.asyncio.client import ClientConnection, connect

from .arithmetic import MESSAGE
from .figures import SERVER_PORT, ClientPlan, PollingLimit, Raw

HOST = "127.0.0.1"
DEFAULT_MAX_DECODE_PACKETS = engineio.payload.Payload.max_decode_packets
TIMEOUT = 60  # seconds any one wait may take before the run fails (instead of hanging)


def say(**item: Any) -> None:
    print(json.dumps(item), flush=True)


async def pause(case: str, phase: str) -> None:
    """Tell the harness where we are and wait until it has read the tap."""
    say(pause=[case, phase])
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)


class Tcp:
    """The floor: a raw TCP echo with asyncio streams."""

    async def open(self, port: int) -> None:
        self.reader, self.writer = await asyncio.open_connection(HOST, port)

    async def echo(self) -> None:
        self.writer.write(MESSAGE.encode())
        await self.reader.readexactly(len(MESSAGE))

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


class WebSocket:
    """A ``websockets`` client, with or without permessage-deflate."""

    def __init__(self, compression: str | None) -> None:
        self.compression = compression

    async def open(self, port: int) -> None:
        url = f"ws://{HOST}:{port}/"
        self.websocket: ClientConnection = await connect(
            url, compression=self.compression, max_queue=None
        )

    async def echo(self) -> None:
        await self.websocket.send(MESSAGE)
        await self.websocket.recv()

    async def push(self, count: int) -> None:
        await self.websocket.send(f"push {count}")
        for _ in range(count):
            await self.websocket.recv()

    async def close(self) -> None:
        await self.websocket.close()


class SocketIO:
    """A ``socketio.AsyncClient`` on one transport; ``echo`` is ``call("echo", "hello")``."""

    def __init__(self, transport: str) -> None:
        self.transport = transport
        self.client = socketio.AsyncClient(reconnection=False)
        self.news = 0
        self.wanted = 0
        self.done = asyncio.Event()
        self.client.on("news", self.on_news)
        self.client.on("disconnect", self.done.set)

    async def on_news(self, data: str) -> None:
        self.news += 1
        if self.news >= self.wanted:
            self.done.set()

    async def open(self, port: int) -> None:
        await self.client.connect(f"http://{HOST}:{port}", transports=[self.transport])

    async def echo(self) -> None:
        await self.client.call("echo", MESSAGE)

    async def push(self, count: int) -> None:
        self.news, self.wanted = 0, count
        self.done.clear()
        await self.client.emit("push", count)
        await asyncio.wait_for(self.done.wait(), TIMEOUT)
        if self.news < count:
            raise ConnectionError(f"received {self.news} of {count} messages, then disconnected")

    async def close(self) -> None:
        if self.transport == "polling":
            # A polite disconnect waits for the parked GET, up to the server's ping interval.
            await self.client.eio.disconnect(abort=True)
        else:
            await self.client.disconnect()


class HttpRequest:
    """Plain HTTP request/response with aiohttp (one kept-alive connection)."""

    async def open(self, port: int) -> None:
        self.session = aiohttp.ClientSession(f"http://{HOST}:{port}")

    async def echo(self) -> None:
        async with self.session.post("/echo", data=MESSAGE.encode()) as response:
            await response.read()

    async def push(self, count: int) -> None:
        for _ in range(count):  # not push: one request for each message, a request rate
            async with self.session.get("/poll") as response:
                await response.read()

    async def close(self) -> None:
        await self.session.close()


CLIENTS: dict[str, Callable[[], Any]] = {
    "tcp": Tcp,
    "websockets": lambda: WebSocket(None),
    "websockets-deflate": lambda: WebSocket("deflate"),
    "socketio-ws": lambda: SocketIO("websocket"),
    "socketio-polling": lambda: SocketIO("polling"),
    "http-request": HttpRequest,
}


async def round_trips(case: str, port: int, count: int, warmup: int) -> list[float]:
    """Seconds for each of ``count`` echoes of "hello", after ``warmup`` untimed ones."""
    client = CLIENTS[case]()
    await client.open(port)
    for _ in range(warmup):
        await client.echo()
    samples = []
    clock = time.perf_counter
    for _ in range(count):
        began = clock()
        await client.echo()
        samples.append(clock() - began)
    await client.close()
    return samples


async def push(case: str, ports: dict[str, int], count: int) -> float:
    """Messages per second the server pushes to one client (``count`` of them in a burst)."""
    if case == "tcp":
        reader, writer = await asyncio.open_connection(HOST, ports["tcp_push"])
        began = time.perf_counter()
        writer.write(b"%d\n" % count)
        await reader.readexactly(count * len(MESSAGE))
        elapsed = time.perf_counter() - began
        writer.close()
        return count / elapsed
    client = CLIENTS[case]()
    await client.open(ports[SERVER_PORT[case]])
    await client.push(min(count, 10))  # warm up
    began = time.perf_counter()
    await client.push(count)
    elapsed = time.perf_counter() - began
    await client.close()
    return count / elapsed


async def delay_websockets(port: int, count: int, interval: float) -> list[float]:
    delays = []
    async with connect(f"ws://{HOST}:{port}/", compression=None) as websocket:
        await websocket.send(f"notify {count}")
        for _ in range(count):
            sent = float(await websocket.recv())
            delays.append(time.perf_counter() - sent)
    return delays


async def delay_socketio(transport: str, port: int, count: int) -> list[float]:
    client = SocketIO(transport)
    delays: list[float] = []

    @client.client.on("stamp")
    async def stamp(sent: float) -> None:
        delays.append(time.perf_counter() - sent)
        if len(delays) == count:
            client.done.set()

    await client.open(port)
    client.done.clear()
    await client.client.emit("notify", count)
    await asyncio.wait_for(client.done.wait(), TIMEOUT)
    await client.close()
    return delays


async def delay_poll_loop(port: int, count: int, interval: float) -> list[float]:
    """A polling loop: ``GET /news``, then wait ``interval`` seconds, again and again."""
    delays: list[float] = []
    async with aiohttp.ClientSession(f"http://{HOST}:{port}") as session:
        async with session.post("/notify", params={"n": str(count)}) as response:
            await response.read()
        deadline = time.perf_counter() + TIMEOUT
        while len(delays) < count and time.perf_counter() < deadline:
            async with session.get("/news") as response:
                body = await response.text()
            now = time.perf_counter()
            delays += [now - float(line) for line in body.split()]
            await asyncio.sleep(interval)
    return delays


DELAY: dict[str, Callable[[int, int, float], Any]] = {
    "websockets": delay_websockets,
    "socketio-ws": lambda port, n, _: delay_socketio("websocket", port, n),
    "socketio-polling": lambda port, n, _: delay_socketio("polling", port, n),
    "http-poll-loop": delay_poll_loop,
}
DELAY_PORT = {"websockets": "ws", "socketio-ws": "http", "socketio-polling": "http",
              "http-poll-loop": "http"}  # fmt: skip


class _Warnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


async def polling_limit(port: int, burst: int) -> PollingLimit:
    """A burst of ``burst`` messages over long-polling with engineio's default limit of
    ``Payload.max_decode_packets`` packets a response: what the client got, what it logged."""
    warnings = _Warnings()
    logger = logging.getLogger("engineio.client")
    logger.addHandler(warnings)
    engineio.payload.Payload.max_decode_packets = DEFAULT_MAX_DECODE_PACKETS
    client = SocketIO("polling")
    await client.open(port)
    try:
        await client.push(burst)
        aborted = False
    except ConnectionError:
        aborted = True
    if client.client.connected:
        await client.close()
    logger.removeHandler(warnings)
    return {
        "limit": DEFAULT_MAX_DECODE_PACKETS,
        "burst": burst,
        "received": client.news,
        "aborted": aborted,
        "logged": warnings.messages,
    }


async def open_many(case: str, port: int, count: int) -> list[Any]:
    """``count`` connected clients for a fan-out, opened 50 at a time."""
    clients: list[Any] = []
    while len(clients) < count:
        batch = [FANOUT[case]() for _ in range(min(50, count - len(clients)))]
        await asyncio.wait_for(asyncio.gather(*(client.open(port) for client in batch)), TIMEOUT)
        clients += batch
    return clients


class TcpListener(Tcp):
    async def open(self, port: int) -> None:
        await super().open(port)
        await self.reader.readexactly(1)  # "+": the server has it on its list

    async def receive(self) -> None:
        await self.reader.readexactly(1)

    async def trigger(self) -> None:
        self.writer.write(b"!")


class WebSocketListener(WebSocket):
    def __init__(self) -> None:
        super().__init__(None)

    async def open(self, port: int) -> None:
        self.websocket = await connect(f"ws://{HOST}:{port}/fanout", compression=None)
        await self.websocket.recv()  # "ready": the server has it on its list

    async def receive(self) -> None:
        await self.websocket.recv()

    async def trigger(self) -> None:
        await self.websocket.send("go")


class SocketIOListener(SocketIO):
    def __init__(self) -> None:
        super().__init__("websocket")
        self.wanted = 1

    async def receive(self) -> None:
        await self.done.wait()
        self.done.clear()
        self.news = 0

    async def trigger(self) -> None:
        await self.client.emit("go")


FANOUT: dict[str, Callable[[], Any]] = {
    "tcp": TcpListener,
    "websockets": WebSocketListener,
    "socketio-ws": SocketIOListener,
}
FANOUT_PORT = {"tcp": "tcp_fanout", "websockets": "ws", "socketio-ws": "http"}


async def fanout(case: str, port: int, size: int, rounds: int) -> list[float]:
    """Seconds from one broadcast's trigger until the last of ``size`` clients has it."""
    clients = await open_many(case, port, size)
    samples = []
    for _ in range(rounds + 1):  # the first round warms up
        waiting = [asyncio.ensure_future(client.receive()) for client in clients]
        await asyncio.sleep(0)
        began = time.perf_counter()
        await clients[0].trigger()
        await asyncio.wait_for(asyncio.gather(*waiting), TIMEOUT)
        samples.append(time.perf_counter() - began)
    await asyncio.gather(*(client.close() for client in clients))
    return samples[1:]


async def wire_bytes(case: str, port: int) -> None:
    """One client through the tap at ``port``: open, pause, one echo, pause, close."""
    client = CLIENTS[case]()
    await client.open(port)
    await pause(case, "opened")
    await client.echo()
    await pause(case, "echoed")
    await client.close()


class Round(TypedDict):
    """One round of every timed figure: samples in seconds, push rates in messages/s."""

    rtt: dict[str, list[float]]
    push: dict[str, float]
    delay: dict[str, list[float]]
    fanout: dict[str, dict[str, list[float]]]  # by case, then by size (a str, as in JSON)


async def measure(plan: ClientPlan, repeat: int) -> Round:
    """One round of every timed figure, each case after the other."""
    ports = plan["ports"]
    result: Round = {"rtt": {}, "push": {}, "delay": {}, "fanout": {}}
    for case in CLIENTS:
        port = ports[SERVER_PORT[case]]
        result["rtt"][case] = await round_trips(case, port, plan["count"], plan["warmup"])
        say(step=f"round {repeat}, round trips: {case}")
    for case in CLIENTS:
        result["push"][case] = await push(case, ports, plan["push"])
        say(step=f"round {repeat}, push: {case}")
    for case, measure_delay in DELAY.items():
        port = ports[DELAY_PORT[case]]
        result["delay"][case] = await measure_delay(port, plan["notify"], plan["interval"])
        say(step=f"round {repeat}, server-initiated delay: {case}")
    for case in FANOUT:
        result["fanout"][case] = {}
        for size in plan["sizes"]:
            samples = await fanout(case, ports[FANOUT_PORT[case]], size, plan["rounds"])
            result["fanout"][case][str(size)] = samples
            say(step=f"round {repeat}, fan-out: {case} to {size}")
    return result


async def main(plan: ClientPlan) -> Raw:
    """The bytes once (they do not vary), then ``plan["repeats"]`` rounds of the timings.

    Each figure comes back as a list with one entry per round, so the harness can tell how
    much it moved from round to round.
    """
    for case, port in plan["taps"].items():
        await wire_bytes(case, port)
        say(step=f"bytes: {case}")
    limit = await polling_limit(plan["ports"]["http"], plan["burst"])
    say(step="long-polling burst with the default limit")
    engineio.payload.Payload.max_decode_packets = plan["push"] + 16
    rounds = [await measure(plan, repeat) for repeat in range(plan["repeats"])]
    first = rounds[0]
    return {
        "polling_limit": limit,
        "rtt": {case: [each["rtt"][case] for each in rounds] for case in first["rtt"]},
        "push": {case: [each["push"][case] for each in rounds] for case in first["push"]},
        "delay": {case: [each["delay"][case] for each in rounds] for case in first["delay"]},
        "fanout": {
            case: {size: [each["fanout"][case][size] for each in rounds] for size in sizes}
            for case, sizes in first["fanout"].items()
        },
    }


if __name__ == "__main__":
    # Nothing on stderr: with a level set, the clients add no stream handler of their own,
    # and the root's null handler stops Python's last-resort one. Warnings reach handlers.
    logging.getLogger().addHandler(logging.NullHandler())
    for name in ("engineio.client", "socketio.client", "websockets", "aiohttp"):
        logging.getLogger(name).setLevel(logging.WARNING)
    say(result=asyncio.run(main(json.loads(sys.argv[1]))))
