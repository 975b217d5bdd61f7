"""A worker thread that looks for work every poll interval, or at once when woken."""

import logging
import threading
from abc import ABC, abstractmethod

log = logging.getLogger(__name__)


class WokenThread(ABC):
    """Base of the workers that follow the store (publishers, the notification sender):
    ``wake()`` after a write here, polling for writes by other processes; ``stop()`` ends
    the thread. A pass that fails is logged and tried again on the next wake or poll."""

    poll_interval_s: float = 0.05
    failure_message = "a background pass failed; trying again"

    def __init__(self) -> None:
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _start_thread(self, name: str) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self._timeout())
            self._wake.clear()
            if self._stop.is_set():
                break
            try:
                self._work()
            except Exception:
                log.exception(self.failure_message)
        self._finished()

    def _timeout(self) -> float:
        """How long to wait for a wake before looking anyway."""
        return self.poll_interval_s

    @abstractmethod
    def _work(self) -> None:
        """One pass: look for what changed and act on it."""

    def _finished(self) -> None:  # noqa: B027 (optional: most workers have nothing to finish)
        """Called on the thread once it stops (a last flush)."""

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread (it finishes what it was doing); safe to call twice."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def wake(self) -> None:
        """Look for changes now (after a write in this process)."""
        self._wake.set()
