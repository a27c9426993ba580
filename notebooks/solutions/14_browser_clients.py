"""Solutions to the "Your turn" exercises of lesson 14 (14_browser_clients.ipynb).

Try the exercises first. Each block below can be pasted into the notebook's exercise cell;
this file also runs on its own: python notebooks/solutions/14_browser_clients.py
"""

from urllib.parse import urlsplit

from websockets.asyncio.server import broadcast

import helpers


# Exercise 14.1: the address a page uses to reach a lab server through jupyter-server-proxy.
def ws_address(page_url, base_url, port):
    page = urlsplit(page_url)
    scheme = "wss" if page.scheme == "https" else "ws"
    return f"{scheme}://{page.netloc}{base_url}proxy/{port}/"


helpers.check("14.1", ws_address)


# Exercise 14.2: the Origin each one sends, compared string for string with the list.
# A sends http://127.0.0.1:8888 (in the list); B sends http://localhost:8888 (not the same
# string); C sends https://evil.example; D sends no Origin, and None is not in the list;
# E sends the page's origin, which a script is free to do.
get_in = {"A", "E"}

helpers.check("14.2", get_in)


# Exercise 14.3: a page sends an Origin header, a script does not.
listeners = set()  # the pages connected right now


async def announce(websocket):
    """A page listens while it stays; what a script sends goes to the pages."""
    if "Origin" in websocket.request.headers:  # a page: it listens while it stays
        listeners.add(websocket)
        try:
            await websocket.wait_closed()
        finally:
            listeners.discard(websocket)
    else:  # a script: whatever it sends goes to every page
        async for message in websocket:
            broadcast(listeners, message)


announcer = helpers.start_ws_server(announce, name="announcer")

helpers.check("14.3", announcer)

helpers.stop_all()
