"""The checkers of every lesson's "Your turn" exercises, one module per lesson.

Importing this package imports every module in it, which registers their checkers.
"""

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
