"""The door lock, fail secure.

A ``Lock`` is locked the moment it exists. ``unlock_for`` energises it for a
bounded time (capped by ``max_unlock_s``) and a timer thread relocks it. It
relocks on ``close()``, when its ``with`` block ends, on an exception, on
SIGTERM/SIGINT (see ``relock_on_signals``) and at interpreter exit. The
wiring must make a de-energised output mean locked (see docs/hardware.md),
so a crashed process or a power cut also leaves the door locked.
"""

import atexit
import logging
import os
import signal
import threading
import time
import weakref
from abc import ABC, abstractmethod
from collections.abc import Callable
from types import FrameType
from typing import Any

from hardware.errors import LockError

log = logging.getLogger(__name__)

_live_locks: "weakref.WeakSet[Lock]" = weakref.WeakSet()


class Lock(ABC):
    """A lock that can be unlocked only for a bounded time."""

    def __init__(self, name: str, max_unlock_s: float) -> None:
        if max_unlock_s <= 0:
            raise LockError(f"max_unlock_s must be positive, not {max_unlock_s}")
        self.name = name
        self.max_unlock_s = max_unlock_s
        self._cond = threading.Condition(threading.RLock())
        self._energised = True  # unknown until driven: drive it locked now
        self._relock_at: float | None = None
        self._closed = False
        self._shutting_down = False
        self._timer: threading.Thread | None = None
        self._drive(energised=False)
        _live_locks.add(self)
        relock_on_signals()

    @abstractmethod
    def _set_output(self, energised: bool) -> None:
        """Energise (unlock) or release (lock) the hardware output."""

    @abstractmethod
    def _release_device(self) -> None:
        """Free the hardware once locked for good."""

    @property
    def locked(self) -> bool:
        """Whether the output is released, i.e. the door is locked."""
        return not self._energised

    @property
    def relock_in(self) -> float | None:
        """Seconds until the running unlock ends, or None when locked."""
        with self._cond:
            if self._relock_at is None:
                return None
            return max(0.0, self._relock_at - time.monotonic())

    def unlock_for(self, seconds: float) -> float:
        """Unlock now for ``seconds`` (capped at ``max_unlock_s``); returns the time granted.

        Calling it again while unlocked restarts the time from now.
        """
        if not seconds > 0:
            raise LockError(f"unlock time must be positive, not {seconds}")
        granted = min(seconds, self.max_unlock_s)
        with self._cond:
            if self._closed or self._shutting_down:
                raise LockError(f"lock {self.name} is closed (the process is stopping)")
            self._drive(energised=True)
            self._relock_at = time.monotonic() + granted
            self._ensure_timer()
            self._cond.notify_all()
        return granted

    def lock(self) -> None:
        """Lock now, ending any unlock."""
        with self._cond:
            self._relock_at = None
            self._drive(energised=False)
            self._cond.notify_all()

    def close(self) -> None:
        """Lock and release the hardware; safe to call twice.

        If the lock command fails, the hardware is still released (for a
        relay on a pin that usually drops it) and the ``LockError`` raised.
        """
        failed: LockError | None = None
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._relock_at = None
            self._cond.notify_all()
            try:
                self._drive(energised=False)
            except LockError as err:
                failed = err
        timer = self._timer
        if timer is not None and timer is not threading.current_thread():
            timer.join(2.0)
        try:
            self._release_device()
        finally:
            _live_locks.discard(self)
        if failed is not None:
            raise failed

    def __enter__(self) -> "Lock":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _drive(self, *, energised: bool) -> None:
        try:
            self._set_output(energised)
        except Exception as err:
            if energised:
                self._release_output("releasing the output after a failed unlock")
                raise LockError(f"lock {self.name} did not unlock: {err}") from err
            log.critical("lock %s did not take the lock command: %s", self.name, err)
            raise LockError(f"lock {self.name} did not lock: {err}") from err
        self._energised = energised

    def _release_output(self, what: str) -> None:
        """Lock the output, logging (never raising) if it fails."""
        try:
            self._set_output(False)
            self._energised = False
        except Exception:
            log.critical("lock %s: %s failed", self.name, what, exc_info=True)

    def _ensure_timer(self) -> None:
        if self._timer is None or not self._timer.is_alive():
            self._timer = threading.Thread(
                target=self._relock_when_due, name=f"relock-{self.name}", daemon=True
            )
            self._timer.start()

    def _relock_when_due(self) -> None:
        with self._cond:
            while not self._closed:
                due = self._relock_at
                if due is None:
                    self._cond.wait()
                    continue
                left = due - time.monotonic()
                if left > 0:
                    self._cond.wait(left)
                    continue
                self._relock_at = None
                try:
                    self._drive(energised=False)
                except LockError:
                    self._relock_at = time.monotonic() + 0.1  # keep trying to lock

    def _relock_from_signal(self) -> None:
        """Lock for good, at once, from a signal handler or at exit; never raises.

        Waits briefly for an ``unlock_for`` running in another thread, so its
        unlock cannot land after this lock; later unlocks are refused.
        """
        acquired = self._cond.acquire(timeout=0.5)
        try:
            self._shutting_down = True
            self._relock_at = None
            self._release_output("relock on signal")
        finally:
            if acquired:
                self._cond.release()


def relock_all() -> None:
    """Lock every lock in this process now (signal handlers and exit use this)."""
    for lock in list(_live_locks):
        lock._relock_from_signal()


def relock_on_signals(signals: tuple[int, ...] = (signal.SIGTERM, signal.SIGINT)) -> None:
    """Make SIGTERM and SIGINT lock every lock before anything else happens.

    Wraps whatever handler is installed (a service's stop handler keeps
    working); call it again after installing new handlers. Outside the
    main thread it does nothing, as Python allows handlers only there.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in signals:
        previous = signal.getsignal(signum)
        if getattr(previous, "_hubtap_relock", False):
            continue
        signal.signal(signum, _relocking_handler(previous))


def _relocking_handler(previous: Any) -> Callable[[int, FrameType | None], None]:
    def handler(received: int, frame: FrameType | None) -> None:
        relock_all()
        if callable(previous):
            previous(received, frame)
        elif previous in (signal.SIG_DFL, None):  # None: a handler installed outside Python
            if received == signal.SIGINT:
                raise KeyboardInterrupt
            signal.signal(received, signal.SIG_DFL)
            os.kill(os.getpid(), received)

    handler._hubtap_relock = True  # type: ignore[attr-defined]
    return handler


atexit.register(relock_all)
