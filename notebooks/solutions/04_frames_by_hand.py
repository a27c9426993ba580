"""Solutions to the "Your turn" exercises of lesson 04 (04_frames_by_hand.ipynb).

Try the exercises first. Each block below can be pasted into the notebook's exercise cell;
this file also runs on its own: python notebooks/solutions/04_frames_by_hand.py
"""

import helpers
from helpers import wire

# Exercise 04.1: the bytes of a 200-byte text message on the wire, each way.
# The client's frame: 2 header bytes, 2 more for a length over 125 (byte 1 says 126), the
# 4-byte masking key, and the 200 bytes of payload. The server's: the same without a key.
sizes = (2 + 2 + 4 + 200, 2 + 2 + 200)

helpers.check("04.1", sizes)


# Exercise 04.2: the header, with the 7-, 16- and 64-bit lengths.
def read_header(data: bytes) -> tuple[bool, int, bool, int]:
    """Return (fin, opcode, masked, length) of the frame at the start of data."""
    fin, opcode = bool(data[0] >> 7), data[0] & 0x0F
    masked, length = bool(data[1] >> 7), data[1] & 0x7F
    if length == 126:
        length = int.from_bytes(data[2:4], "big")
    elif length == 127:
        length = int.from_bytes(data[2:10], "big")
    return fin, opcode, masked, length


helpers.check("04.2", read_header)

# Exercise 04.3: one message in three fragments: a text frame without FIN, a continuation
# frame without FIN, and a continuation frame with FIN. A client masks each of them.
KEY = bytes.fromhex("37fa213d")
fragments = [
    wire.encode_frame("Web", fin=False, mask_key=KEY),
    wire.encode_frame("Sock", opcode=wire.CONTINUATION, fin=False, mask_key=KEY),
    wire.encode_frame("et", opcode=wire.CONTINUATION, mask_key=KEY),
]

helpers.check("04.3", fragments)
