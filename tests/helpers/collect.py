"""A handler that records what it is given (link deliveries, card taps), and waits for it."""

import threading
import time
from collections.abc import Callable
from typing import Any

from hublink.link import Delivery


class Collector:
    """Records deliveries; :meth:`wait_for` blocks until a condition holds."""

    def __init__(self) -> None:
        self.deliveries: list[Delivery[Any]] = []
        self._cond = threading.Condition()

    def __call__(self, delivery: Delivery[Any]) -> None:
        with self._cond:
            self.deliveries.append(delivery)
            self._cond.notify_all()

    @property
    def items(self) -> list[Any]:
        """Everything recorded so far (a copy)."""
        with self._cond:
            return list(self.deliveries)

    @property
    def messages(self) -> list[Any]:
        with self._cond:
            return [d.message for d in self.deliveries]

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        """Wait until at least ``count`` deliveries arrived."""
        return self.wait_until(lambda items: len(items) >= count, timeout)

    def wait_until(self, check: Callable[[list[Delivery[Any]]], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not check(self.deliveries):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return True
