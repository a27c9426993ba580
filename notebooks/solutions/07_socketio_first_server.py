"""Solutions to the "Your turn" exercises of lesson 07 (07_socketio_first_server.ipynb).

Try the exercises first. Each block below can be pasted into the notebook's exercise cell;
this file also runs on its own: python notebooks/solutions/07_socketio_first_server.py
"""

import socketio

import helpers

# Exercise 07.1: refuse clients without a name; 'whoami' acknowledges with the client's name.
members_sio = socketio.AsyncServer(async_mode="aiohttp")
member_names = {}  # sid -> name


@members_sio.event
async def connect(sid, environ, auth):
    if not isinstance(auth, dict) or "name" not in auth:
        raise socketio.exceptions.ConnectionRefusedError("tell us your name")
    member_names[sid] = auth["name"]


@members_sio.event
async def disconnect(sid, reason):
    member_names.pop(sid, None)


@members_sio.event
async def whoami(sid):
    return member_names[sid]


members = helpers.start_sio_server(members_sio, name="members")

helpers.check("07.1", members)


# Exercise 07.2: one total for every client. The client that adds gets it as the
# acknowledgement (the return value); the others get a 'total' event (skip_sid: not the sender).
counter_sio = socketio.AsyncServer(async_mode="aiohttp")
total = 0


@counter_sio.event
async def add(sid, number):
    global total
    total += number
    await counter_sio.emit("total", total, skip_sid=sid)
    return total


counter_server = helpers.start_sio_server(counter_sio, name="counter")

helpers.check("07.2", counter_server)


# Exercise 07.3: 'greet' asks the client for its name, then acknowledges with a greeting.
greeter_sio = socketio.AsyncServer(async_mode="aiohttp")


@greeter_sio.event
async def greet(sid):
    name = await greeter_sio.call("name", to=sid, timeout=3)
    return f"hello, {name}"


greeter = helpers.start_sio_server(greeter_sio, name="greeter")

helpers.check("07.3", greeter)
