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


# Exercise 07.2: 'subscribe' sends 'welcome' with the topic to the subscriber only.
news_sio = socketio.AsyncServer(async_mode="aiohttp")


@news_sio.event
async def subscribe(sid, topic):
    await news_sio.emit("welcome", topic, to=sid)


news = helpers.start_sio_server(news_sio, name="news")

helpers.check("07.2", news)


# Exercise 07.3: 'greet' asks the client for its name, then acknowledges with a greeting.
greeter_sio = socketio.AsyncServer(async_mode="aiohttp")


@greeter_sio.event
async def greet(sid):
    name = await greeter_sio.call("name", to=sid, timeout=3)
    return f"hello, {name}"


greeter = helpers.start_sio_server(greeter_sio, name="greeter")

helpers.check("07.3", greeter)
