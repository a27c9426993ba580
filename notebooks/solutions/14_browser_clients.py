"""Solutions to the "Your turn" exercises of lesson 14 (14_browser_clients.ipynb).

Try the exercises first. Each block below can be pasted into the notebook's exercise cell;
this file also runs on its own: python notebooks/solutions/14_browser_clients.py
"""

from urllib.parse import urlsplit

import helpers


# Exercise 14.1: the address a page uses to reach a lab server through jupyter-server-proxy.
def ws_address(page_url, base_url, port):
    page = urlsplit(page_url)
    scheme = "wss" if page.scheme == "https" else "ws"
    return f"{scheme}://{page.netloc}{base_url}proxy/{port}/"


helpers.check("14.1", ws_address)


# Exercise 14.2: a server that lets in the notebook's page and scripts, and no other site.
guarded = helpers.start_ws_server(name="guarded", origins=["http://127.0.0.1:8888", None])

helpers.check("14.2", guarded)

helpers.stop_all()
