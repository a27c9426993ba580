"""A pytest plugin for the nbval run of tests/test_notebooks.py: before the first cell whose id
ends in ``-restarted``, restart the kernel the way JupyterLab's "Restart Kernel" does (the old
kernel is asked to shut down, so its atexit clean-up runs), and check that the old kernel
process is gone."""

from __future__ import annotations

import psutil
import pytest

_restarted: set[str] = set()  # the notebooks whose kernel this run has restarted


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    cell = getattr(item, "cell", None)
    notebook = item.parent
    if cell is None or not cell.get("id", "").endswith("-restarted"):
        return
    if notebook.nodeid in _restarted:
        return
    _restarted.add(notebook.nodeid)
    old = notebook.kernel.km.provisioner.process.pid
    notebook.kernel.km.restart_kernel(now=False)
    notebook.kernel.kc.wait_for_ready(timeout=60)
    process = psutil.Process(old) if psutil.pid_exists(old) else None
    assert process is None or process.status() == psutil.STATUS_ZOMBIE, "the old kernel lives on"
