"""Solutions to the "Your turn" exercises of lesson 08 (08_rooms_namespaces_broadcast.ipynb).

Try the exercises first. Each block below can be pasted into the notebook's exercise cell;
this file also runs on its own: python notebooks/solutions/08_rooms_namespaces_broadcast.py
"""

import socketio

import helpers

# Exercise 08.1: 'join' puts the client in a room; 'say' reaches that room, the sender excepted.
rooms = socketio.AsyncServer(async_mode="aiohttp")


@rooms.event
async def join(sid, room):
    await rooms.enter_room(sid, room)


@rooms.event
async def say(sid, data):
    await rooms.emit("said", data["text"], to=data["room"], skip_sid=sid)


rooms_server = helpers.start_sio_server(rooms, name="rooms")
helpers.check("08.1", rooms_server)


# Exercise 08.2: a class-based namespace that acknowledges how many clients are in /chat.
class Counter(socketio.AsyncNamespace):
    async def on_count(self, sid):
        return len(list(self.server.manager.get_participants("/chat", None)))


counter_class = Counter
helpers.check("08.2", counter_class)
