"""Solutions to the "Your turn" exercises of lesson 02 (02_tcp_and_the_osi_model.ipynb).

Try the exercises first. Each block below can be pasted into the notebook's exercise cell;
this file also runs on its own: python notebooks/solutions/02_tcp_and_the_osi_model.py
"""

import socket

import helpers
from helpers import capture

# The capture the first two exercises read: a handshake, live or replayed.
listener = socket.create_server(("127.0.0.1", 0))
port = listener.getsockname()[1]
tcp = capture.start(port, recording="02_tcp_conversation")
client = socket.create_connection(("127.0.0.1", port))
tcp.show(until=3)

# Exercise 02.1: the flags of the second packet of the handshake.
answer = tcp.packets[1].flags

helpers.check("02.1", answer)

client.close()
listener.close()
tcp.stop()

# Exercise 02.2: the SYN is number 0, so the data is bytes 1 to 9 + 7 = 16; the next is 17.
answer = 1 + len(b"apple pie") + len(b"and tea")

helpers.check("02.2", answer)


# Exercise 02.3: a SYN to a listening port gets SYN, ACK; to a closed one, RST.
def knock(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except ConnectionRefusedError:
        return False


helpers.check("02.3", knock)

# Exercise 02.4: everything above TCP is the application layer.
layers = {
    "Ethernet": "link",
    "IP": "internet",
    "TCP": "transport",
    "UDP": "transport",
    "HTTP": "application",
    "WebSocket": "application",
    "Engine.IO": "application",
    "Socket.IO": "application",
}

helpers.check("02.4", layers)
