"""Solutions to the "Your turn" exercises of lesson 10 (10_reconnection_and_delivery.ipynb).

Try the exercises first. Each block below can be pasted into the notebook's exercise cell;
this file also runs on its own: python notebooks/solutions/10_reconnection_and_delivery.py
"""

import time
import uuid

import socketio

import helpers


# Exercise 10.1: one id for every copy; retry on a lost ack and while disconnected.
def deliver(client, event, data, attempts=5):
    """Send data until the server acks it, and return the ack."""
    message = {"id": uuid.uuid4().hex, "data": data}  # made once: every retry is the same message
    for _ in range(attempts):
        try:
            return client.call(event, message, timeout=1)
        except socketio.exceptions.TimeoutError:
            pass  # no ack: the message or its ack was lost, so send it again
        except socketio.exceptions.BadNamespaceError:
            time.sleep(1)  # not connected right now: give the client time to reconnect
    raise TimeoutError(f"no ack after {attempts} attempts")


helpers.check("10.1", deliver)


# Exercise 10.2: one memory of ids for the whole server, so copies from any sid are caught.
def ledger_server():
    """A Socket.IO server whose 'store' event stores each message id once."""
    sio = socketio.AsyncServer(async_mode="aiohttp")
    stored_ids = set()

    @sio.event
    async def store(sid, message):
        if message["id"] in stored_ids:
            return "duplicate"
        stored_ids.add(message["id"])
        return "stored"

    return sio


helpers.check("10.2", ledger_server)
