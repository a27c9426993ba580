"""The checkers of every lesson's "Your turn" exercises, one module per lesson."""

from . import start_here  # noqa: F401
