"""A scriptable reader driver for tests: cards, failures and unplugging on demand."""

import threading
import time

from hardware.errors import ReaderError
from hardware.reader import ReaderDriver
from hardware.signals import Signal
from hardware.taps import CardKind, CardRead, check_uid, uid_bytes


class MockReaderDriver(ReaderDriver):
    """Behaves like a polling reader whose field a test controls.

    ``present`` puts a card on the reader until ``remove``; ``tap`` shows a
    card for exactly one poll. ``fail_next`` makes the next poll raise,
    ``unplug`` makes polls and opens fail until ``plug``. Signals sent to
    the reader are recorded in ``signals``.
    """

    description = "mock reader"

    def __init__(self, poll_period_s: float = 0.01) -> None:
        self.poll_period_s = poll_period_s
        self.signals: list[Signal] = []
        self.opened = 0
        self._cond = threading.Condition()
        self._held: CardRead | None = None
        self._once: list[CardRead] = []
        self._failure: Exception | None = None
        self._unplugged = False
        self._open = False

    def present(self, uid: str | bytes, kind: CardKind = CardKind.ISO14443A) -> None:
        """Put a card on the reader; it stays until ``remove``."""
        with self._cond:
            self._held = _read(uid, kind)
            self._cond.notify_all()

    def remove(self) -> None:
        """Take the card away."""
        with self._cond:
            self._held = None

    def tap(self, uid: str | bytes, kind: CardKind = CardKind.ISO14443A) -> None:
        """Show a card for exactly one poll."""
        with self._cond:
            self._once.append(_read(uid, kind))
            self._cond.notify_all()

    def fail_next(self, error: Exception) -> None:
        """Make the next poll raise ``error``."""
        with self._cond:
            self._failure = error
            self._cond.notify_all()

    def unplug(self) -> None:
        """Make the reader vanish: polls and opens fail until ``plug``."""
        with self._cond:
            self._unplugged = True
            self._cond.notify_all()

    def plug(self) -> None:
        """Bring the reader back."""
        with self._cond:
            self._unplugged = False

    def open(self) -> None:
        with self._cond:
            if self._unplugged:
                raise ReaderError("mock reader is unplugged")
            self._open = True
            self.opened += 1

    def poll(self) -> list[CardRead]:
        with self._cond:
            if not self._open:
                raise ReaderError("mock reader is not open")
            if not (self._once or self._failure or self._unplugged):
                self._cond.wait(self.poll_period_s)
            if self._unplugged:
                raise ReaderError("mock reader was unplugged")
            if self._failure is not None:
                failure, self._failure = self._failure, None
                raise failure
            reads, self._once = self._once, []
            if self._held is not None:
                reads.append(CardRead(self._held.uid, self._held.kind, time.monotonic()))
            return reads

    def close(self) -> None:
        with self._cond:
            self._open = False

    def signal(self, signal: Signal) -> bool:
        self.signals.append(signal)
        return True


def _read(uid: str | bytes, kind: CardKind) -> CardRead:
    raw = uid_bytes(uid)
    return CardRead(check_uid(raw, kind), kind, time.monotonic())
