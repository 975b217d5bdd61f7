"""Waits between retries: exponential with full jitter."""

import random


def reconnect_delay(attempt: int, shortest: float, longest: float) -> float:
    """Seconds to wait before reconnect ``attempt`` (0 first): exponential, full jitter.

    The ceiling doubles from ``shortest`` up to ``longest``; the wait is drawn
    uniformly below it, so a fleet of doors does not reconnect in lockstep.
    """
    ceiling = min(longest, shortest * 2 ** min(attempt, 30))
    return random.uniform(shortest, max(ceiling, shortest))
