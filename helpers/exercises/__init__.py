"""The checkers of every lesson's "Your turn" exercises, one module per lesson.

Importing this package imports every module in it, which registers their checkers.

The modules read the checks' waits as ``check.TIMEOUT`` and ``check.QUIET`` at each use, not
copies made at import, so that one assignment (a test's, say) changes every wait. ``check``
here is the module :mod:`helpers.check`: ``from .. import check`` would give the function
``helpers.check()``, which the package puts in the module's place.
"""

import importlib
import pkgutil

check = importlib.import_module("..check", __name__)

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
