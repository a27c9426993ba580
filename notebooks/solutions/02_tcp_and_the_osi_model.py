"""Solutions to the "Your turn" exercises of lesson 02 (02_tcp_and_the_osi_model.ipynb).

Try the exercises first. Each block below can be pasted into the notebook's exercise cell;
this file also runs on its own: python notebooks/solutions/02_tcp_and_the_osi_model.py
"""

import socket

import helpers

# Exercise 02.1: the SYN is number 0, so the data is bytes 1 to 9 + 7 = 16; the next is 17.
answer = 1 + len(b"apple pie") + len(b"and tea")

helpers.check("02.1", answer)


# Exercise 02.2: a SYN to a listening port gets SYN, ACK; to a closed one, RST.
def knock(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except ConnectionRefusedError:
        return False


helpers.check("02.2", knock)


# Exercise 02.3: each header says how long it is; the IPv4 total length says where it all ends.
def peel(frame):
    ip = frame[14:]  # after the Ethernet header, always 14 bytes
    ip_length = (ip[0] & 0x0F) * 4  # the low 4 bits of the first byte, in 4-byte words
    total_length = int.from_bytes(ip[2:4], "big")  # the whole IPv4 packet, headers included
    tcp = ip[ip_length:total_length]  # stop there: a short frame may be padded
    tcp_length = (tcp[12] >> 4) * 4  # the high 4 bits of byte 12, in 4-byte words
    return tcp[tcp_length:]


helpers.check("02.3", peel)
