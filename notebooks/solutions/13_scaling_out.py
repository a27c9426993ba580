"""Solutions to the "Your turn" exercises of lesson 13 (13_scaling_out.ipynb).

Try the exercises first. Each block below can be pasted into the notebook's exercise cell;
this file also runs on its own: python notebooks/solutions/13_scaling_out.py
"""

import helpers


# Exercise 13.1: teams are rooms; a shout reaches the team on every process, but the shouter.
def team_node(redis_url):
    """A Socket.IO server for a process: teams are rooms, and shouts go to a team."""
    import socketio

    sio = socketio.AsyncServer(
        async_mode="aiohttp", client_manager=socketio.AsyncRedisManager(redis_url)
    )

    @sio.event
    async def team(sid, team):
        await sio.enter_room(sid, team)

    @sio.event
    async def shout(sid, data):
        await sio.emit("shouted", data["text"], to=data["team"], skip_sid=sid)

    return sio


helpers.check("13.1", team_node)


# Exercise 13.2: a worker publishes through a write-only manager; the server delivers.
def notify(redis_url, user, text):
    """A worker: tell user, wherever they are connected."""
    import socketio

    socketio.RedisManager(redis_url, write_only=True).emit("notice", text, to=user)


helpers.check("13.2", notify)
helpers.stop_all()
