"""Bounded waiting for a condition another thread or process makes true."""

import time
from collections.abc import Callable


def wait_until(check: Callable[[], object], timeout: float = 10.0, interval: float = 0.01) -> bool:
    """Wait until ``check()`` is true; False once ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True
