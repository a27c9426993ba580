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


# Exercise 08.2: a namespace that keeps its own list of who is online, and tells everyone.
class Online(socketio.AsyncNamespace):
    def __init__(self, namespace):
        super().__init__(namespace)
        self.names = {}  # sid -> name, for this namespace only (and this process only)

    async def on_connect(self, sid, environ, auth):
        name = auth.get("name") if isinstance(auth, dict) else None
        self.names[sid] = name or "anonymous"
        await self.emit("online", sorted(self.names.values()))

    async def on_disconnect(self, sid, reason):
        self.names.pop(sid, None)
        await self.emit("online", sorted(self.names.values()))


online_class = Online
helpers.check("08.2", online_class)
