"""Solutions to the "Your turn" exercises of lesson 01 (01_events_and_listeners.ipynb).

Try the exercises first. Each block below can be pasted into the notebook's exercise cell;
this file also runs on its own: python notebooks/solutions/01_events_and_listeners.py
"""

import json

import socketio

import helpers


# Exercise 01.1: off() also removes a listener that was added with once().
# In the notebook, "class Emitter(EventEmitter):" with only once() and off() is enough.
class Emitter:
    def __init__(self):
        self.listeners = {}

    def on(self, event, listener):
        self.listeners.setdefault(event, []).append(listener)

    def once(self, event, listener):
        def wrapper(*args):
            self.off(event, wrapper)
            return listener(*args)

        wrapper.listener = listener  # remember the original, so off() can find it
        self.on(event, wrapper)

    def off(self, event, listener):
        listeners = self.listeners.get(event, [])
        for registered in listeners:
            if registered is listener or getattr(registered, "listener", None) is listener:
                listeners.remove(registered)
                return

    def emit(self, event, *args):
        called = list(self.listeners.get(event, []))
        for listener in called:
            listener(*args)
        return len(called)


emitter_class = Emitter

helpers.check("01.1", emitter_class)


# Exercise 01.2: a Socket.IO server whose "add" listener acknowledges with the sum.
sio = socketio.AsyncServer(async_mode="aiohttp")


@sio.event
async def add(sid, numbers):
    helpers.log("add", numbers=numbers)
    return sum(numbers)


adder = helpers.start_sio_server(sio, name="adder")

helpers.check("01.2", adder)


# Exercise 01.3: the same with plain websockets, dispatching on "type" by hand.
async def add_handler(websocket):
    async for message in websocket:
        event = json.loads(message)
        if event.get("type") == "add":
            reply = {"type": "sum", "result": sum(event["numbers"])}
        else:
            reply = {"type": "error", "message": f"unknown type {event.get('type')!r}"}
        await websocket.send(json.dumps(reply))


ws_adder = helpers.start_ws_server(add_handler, name="ws-adder")

helpers.check("01.3", ws_adder)
