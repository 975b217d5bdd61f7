"""Unique, time-sortable message ids (UUIDv7, RFC 9562).

Ids made by one process sort in the order they were made, even within one
millisecond: the 12-bit ``rand_a`` field carries a counter, as RFC 9562's
"monotonic random" method allows.
"""

import secrets
import threading
import time
import uuid
from datetime import UTC, datetime

_COUNTER_MAX = 0xFFF


class _Sequence:
    """The last millisecond and counter handed out, shared by all threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ms = 0
        self.counter = 0

    def next(self) -> tuple[int, int]:
        with self.lock:
            ms = time.time_ns() // 1_000_000
            if ms > self.ms:
                self.ms = ms
                self.counter = secrets.randbits(11)  # leave headroom for the counter
            else:
                self.counter += 1
                if self.counter > _COUNTER_MAX:  # 2048+ ids in one ms: borrow the next ms
                    self.ms += 1
                    self.counter = 0
            return self.ms, self.counter


_sequence = _Sequence()


def new_id() -> str:
    """Return a new UUIDv7 as its canonical 36-character string."""
    ms, counter = _sequence.next()
    value = (ms & 0xFFFF_FFFF_FFFF) << 80
    value |= 0x7 << 76
    value |= counter << 64
    value |= 0b10 << 62
    value |= secrets.randbits(62)
    return str(uuid.UUID(int=value))


def id_time(message_id: str) -> datetime:
    """Return the UTC time (millisecond precision) a UUIDv7 was made at."""
    ms = uuid.UUID(message_id).int >> 80
    return datetime.fromtimestamp(ms / 1000, tz=UTC)
