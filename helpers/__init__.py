"""helpers: the plumbing behind "Sockets, Cell by Cell".

Start servers in the lab's background thread, talk to them from cells, read what happened:

>>> import helpers
>>> echo = helpers.start_ws_server()          # a websockets echo server
>>> chat = helpers.start_sio_server()         # a Socket.IO demo server
>>> helpers.show_events()                     # what the servers logged
>>> helpers.status(); helpers.stop_all()

Lessons use the libraries themselves for everything they teach; these helpers only run,
log and clean up. ``help(helpers.start_ws_server)`` and friends say more. Submodules that
lessons import by name: ``helpers.wire`` (frames and packets by hand), ``helpers.raw`` (a
WebSocket on a plain socket), ``helpers.capture`` (loopback packets, read by
``helpers.packets``: Ethernet, IPv4, TCP and UDP headers by hand), ``helpers.tap``,
``helpers.diagram`` (sequence diagrams of taps and captures, and ``merge`` for several),
``helpers.bench`` (lesson 12's measurements), ``helpers.broker``, ``helpers.cluster``,
``helpers.processes`` and ``helpers.balancer`` (lesson 13: Redis, server processes, load
balancers) and ``helpers.widgets`` (lesson 14: clients in the notebook page).
"""

from .check import check, hint, solution
from .eventlog import Event, events, library_logs, log, show_events
from .lab import PortInUseError, Service, run, services, status, stop, stop_all
from .servers import demo_sio_server, echo, start_http_server, start_sio_server, start_ws_server
from .tap import Tap, start_tap

__all__ = [
    "Event",
    "PortInUseError",
    "Service",
    "Tap",
    "check",
    "demo_sio_server",
    "echo",
    "events",
    "hint",
    "library_logs",
    "log",
    "run",
    "services",
    "show_events",
    "solution",
    "start_http_server",
    "start_sio_server",
    "start_tap",
    "start_ws_server",
    "status",
    "stop",
    "stop_all",
]
