"""Logging that cannot flood a device's disk when bad input keeps arriving."""

import logging
import threading
import time
from collections.abc import Callable


class RateLimitedLog:
    """Logs at most ``burst`` messages per ``period`` seconds, then one summary."""

    def __init__(
        self,
        logger: logging.Logger,
        burst: int = 10,
        period: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger = logger
        self.burst = burst
        self.period = period
        self._clock = clock
        self._lock = threading.Lock()
        self._window_start = clock()
        self._logged = 0
        self._suppressed = 0

    def log(self, level: int, msg: str, *args: object) -> None:
        """Log ``msg`` unless this window's budget is spent."""
        with self._lock:
            now = self._clock()
            if now - self._window_start >= self.period:
                if self._suppressed:
                    self.logger.log(
                        level,
                        "%d similar messages suppressed in the last %.0f s",
                        self._suppressed,
                        self.period,
                    )
                self._window_start, self._logged, self._suppressed = now, 0, 0
            if self._logged >= self.burst:
                self._suppressed += 1
                return
            self._logged += 1
        self.logger.log(level, msg, *args)
