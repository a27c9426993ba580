"""Solutions to the "Your turn" exercises of lesson 05 (05_websockets_server_push.ipynb).

Try the exercises first. This file also runs on its own:
python notebooks/solutions/05_websockets_server_push.py
"""

import helpers


# Exercise 05.1: push without waiting for a request; returning from the handler closes with 1000.
async def countdown(websocket):
    for message in ["3", "2", "1", "liftoff"]:
        await websocket.send(message)


countdown_server = helpers.start_ws_server(countdown, name="countdown")

helpers.check("05.1", countdown_server)

# Exercise 05.2: a ping every 0.5 s, and 0.5 s for the pong: a silent client goes after ~1 s.
# The default echo handler keeps each connection open until the client leaves.
watchdog = helpers.start_ws_server(name="watchdog", ping_interval=0.5, ping_timeout=0.5)

helpers.check("05.2", watchdog)

# Exercise 05.3: max_size is the largest message the server accepts; bigger ones get 1009.
small = helpers.start_ws_server(name="small", max_size=10)

helpers.check("05.3", small)
