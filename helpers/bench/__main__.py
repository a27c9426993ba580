"""``python -m helpers.bench [--json] [--quick]``: measure, then print a table or JSON."""

from __future__ import annotations

import argparse
import json

from . import run
from .report import table, when_to_use


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m helpers.bench",
        description="WebSocket, Socket.IO and HTTP polling measured against a raw TCP floor.",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--quick", action="store_true", help="small counts (seconds, for tests)")
    options = parser.parse_args()
    results = run(quick=options.quick or None)
    if options.json:
        figures = {key: value for key, value in results.items() if key != "samples"}
        print(json.dumps(figures, indent=2, ensure_ascii=False))
    else:
        print(table(results))
        print()
        print(when_to_use(results))


if __name__ == "__main__":
    main()
