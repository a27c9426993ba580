"""Solutions to the "Your turn" exercises of lesson 12 (12_measured_comparison.ipynb).

Try the exercises first. This file also runs on its own:
python notebooks/solutions/12_measured_comparison.py
"""

import json
import statistics

import helpers


# Exercise 12.1: medians, so that a rare slow round trip doesn't move the figure.
def ratio(samples, floor):
    """How many times the floor's median the samples' median is."""
    return statistics.median(samples) / statistics.median(floor)


helpers.check("12.1", ratio)


# Exercise 12.2: the Engine.IO message 4 + the Socket.IO EVENT 2 + compact JSON, in a masked frame.
def event_bytes(event, text):
    """Bytes on the wire for emit(event, text) from a Socket.IO client over WebSocket."""
    packet = "42" + json.dumps([event, text], separators=(",", ":"))
    payload = len(packet.encode())
    extended = 0 if payload < 126 else 2 if payload < 65536 else 8
    return 2 + extended + 4 + payload  # header, extended length, mask key, payload


helpers.check("12.2", event_bytes)
