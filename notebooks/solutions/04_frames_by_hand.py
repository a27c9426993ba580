"""Solutions to the "Your turn" exercises of lesson 04 (04_frames_by_hand.ipynb).

Try the exercises first. This file also runs on its own:
python notebooks/solutions/04_frames_by_hand.py
"""

import helpers
from helpers import raw, wire


# Exercise 04.1: masking is XOR with the key, byte by byte.
def mask(payload: bytes, key: bytes) -> bytes:
    return bytes(byte ^ key[i % 4] for i, byte in enumerate(payload))


helpers.check("04.1", mask)


# Exercise 04.2: the header, with the 7-, 16- and 64-bit lengths.
def read_header(data: bytes) -> tuple[bool, int, bool, int]:
    fin, opcode = bool(data[0] >> 7), data[0] & 0x0F
    masked, length = bool(data[1] >> 7), data[1] & 0x7F
    if length == 126:
        length = int.from_bytes(data[2:4], "big")
    elif length == 127:
        length = int.from_bytes(data[2:10], "big")
    return fin, opcode, masked, length


helpers.check("04.2", read_header)

# Exercise 04.3: one message in three fragments.
server = helpers.start_ws_server(name="frames")
KEY = bytes.fromhex("37fa213d")
with raw.open_websocket(server.url) as connection:
    connection.send(wire.encode_frame("Web", fin=False, mask_key=KEY))
    connection.send(wire.encode_frame("Sock", opcode=wire.CONTINUATION, fin=False, mask_key=KEY))
    connection.send(wire.encode_frame("et", opcode=wire.CONTINUATION, mask_key=KEY))
    echoed = connection.recv_frame()

helpers.check("04.3", echoed)
