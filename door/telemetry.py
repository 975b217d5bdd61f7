"""Tap latency over recent taps, for the door's telemetry."""

import math
from collections import deque

RECENT_TAPS = 256


class LatencyWindow:
    """The last ``size`` tap latencies in milliseconds, with percentiles."""

    def __init__(self, size: int = RECENT_TAPS) -> None:
        self._values: deque[float] = deque(maxlen=size)
        self.count = 0

    def add(self, ms: float) -> None:
        """Record one tap."""
        self._values.append(ms)
        self.count += 1

    def percentile(self, q: float) -> float | None:
        """The ``q`` quantile (0-1, nearest rank) of the recent taps; None before any."""
        if not self._values:
            return None
        ordered = sorted(self._values)
        rank = max(1, math.ceil(q * len(ordered)))
        return ordered[rank - 1]
