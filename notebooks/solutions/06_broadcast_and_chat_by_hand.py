"""Solutions to the "Your turn" exercises of lesson 06 (06_broadcast_and_chat_by_hand.ipynb).

Try the exercises first. In the notebook, the chat server is already running: only the
two exercise blocks at the end of this file go into the exercise cells. This file
also runs on its own, so it starts with the lesson's chat server:
python notebooks/solutions/06_broadcast_and_chat_by_hand.py
"""

import inspect
import json

from websockets.asyncio.server import broadcast
from websockets.exceptions import ConnectionClosed

import helpers

# --- The lesson's chat server, as the notebook builds it ------------------------------------


def send_to_room(room, message):
    """Send message, a dict, as JSON to everyone in room."""
    broadcast(ROOMS.get(room, set()), json.dumps(message))


def join(websocket, room):
    if websocket in ROOMS.get(room, set()):
        raise ValueError(f"you are already in {room!r}")
    ROOMS.setdefault(room, set()).add(websocket)
    helpers.log("join", name=NAMES[websocket], room=room)
    send_to_room(room, {"type": "joined", "room": room, "name": NAMES[websocket]})


def check_member(websocket, room):
    if websocket not in ROOMS.get(room, set()):
        raise ValueError(f"you are not in {room!r}")


def leave(websocket, room):
    check_member(websocket, room)
    helpers.log("leave", name=NAMES[websocket], room=room)
    send_to_room(room, {"type": "left", "room": room, "name": NAMES[websocket]})
    ROOMS[room].discard(websocket)
    if not ROOMS[room]:
        del ROOMS[room]  # the last one out: the room disappears


def say(websocket, room, text):
    check_member(websocket, room)
    helpers.log("say", name=NAMES[websocket], room=room, text=text)
    send_to_room(room, {"type": "said", "room": room, "name": NAMES[websocket], "text": text})


def rename(websocket, name):
    old, NAMES[websocket] = NAMES[websocket], name
    helpers.log("rename", old=old, new=name)
    its_rooms = [members for members in ROOMS.values() if websocket in members]
    audience = {websocket}.union(*its_rooms)  # the sender and everyone in its rooms
    broadcast(audience, json.dumps({"type": "renamed", "old": old, "new": name}))


HANDLERS = {"join": join, "leave": leave, "say": say, "rename": rename}


def dispatch(websocket, text):
    """Decode one message and call the function for its type; ValueError if we can't."""
    try:
        message = json.loads(text)
    except ValueError:
        raise ValueError("a message must be JSON") from None
    if not isinstance(message, dict) or not all(isinstance(v, str) for v in message.values()):
        raise ValueError("a message must be a JSON object of strings")
    kind = message.pop("type", None)
    if kind not in HANDLERS:
        raise ValueError(f"unknown type {kind!r}: use one of {', '.join(HANDLERS)}")
    try:
        inspect.signature(HANDLERS[kind]).bind(websocket, **message)
    except TypeError as error:
        raise ValueError(f"{kind}: {error}") from None
    HANDLERS[kind](websocket, **message)


async def chat(websocket):
    NAMES[websocket] = websocket.request.path.strip("/") or "anonymous"
    helpers.log("connected", name=NAMES[websocket])
    try:
        async for text in websocket:
            try:
                dispatch(websocket, text)
            except ValueError as error:
                await websocket.send(json.dumps({"type": "error", "message": str(error)}))
    except ConnectionClosed:
        pass  # the client vanished without a closing handshake: clean up all the same
    finally:
        for room in [room for room, members in ROOMS.items() if websocket in members]:
            leave(websocket, room)
        helpers.log("disconnected", name=NAMES.pop(websocket))


chat_server = helpers.start_ws_server(chat, name="chat")
ROOMS = {}  # room name -> the set of connections in it
NAMES = {}  # connection -> the name its user goes by


# Exercise 06.1: whisper to the connections with a name, and to no one else. A plain def, like
# the other types: broadcast() needs no await, and dispatch() does not await what it calls.
def whisper(websocket, to, text):
    targets = {connection for connection, name in NAMES.items() if name == to}
    if not targets:
        raise ValueError(f"nobody here is called {to!r}")
    helpers.log("whisper", name=NAMES[websocket], to=to)
    broadcast(targets, json.dumps({"type": "whisper", "from": NAMES[websocket], "text": text}))


HANDLERS["whisper"] = whisper
whispering_chat = chat_server

helpers.check("06.1", whispering_chat)


# Exercise 06.2: who is in a room, answered to the asker alone: a broadcast to the set of one.
def who(websocket, room):
    names = sorted(NAMES[connection] for connection in ROOMS.get(room, set()))
    broadcast({websocket}, json.dumps({"type": "who", "room": room, "names": names}))


HANDLERS["who"] = who
chat_with_who = chat_server

helpers.check("06.2", chat_with_who)
