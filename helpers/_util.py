"""Small things several helper modules share, kept in one place.

- ``ROOT``: the repository's folder (the helpers run from a checkout: ``pip install -e .``),
  and ``NOTEBOOKS`` inside it, where the lessons, their data and their solutions live.
- :func:`describe`: an error as a learner reads it in a hint or a log line.

Timeouts stay with the module whose waits they bound (``check.TIMEOUT`` for the exercise checks,
``lab.START_TIMEOUT`` for starting a service), and other modules import them from there.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"


def describe(error: BaseException) -> str:
    """``"ConnectionRefusedError: [Errno 111] Connect call failed"``: the error's type and text.

    >>> describe(ValueError("no port"))
    'ValueError: no port'
    """
    return f"{type(error).__name__}: {error}"
