"""A worker thread that looks for work every poll interval, or at once when woken."""

import threading
from abc import ABC, abstractmethod


class WokenThread(ABC):
    """Base of the publishers that follow the store: ``wake()`` after a write here, polling
    for writes by other processes; ``stop()`` ends the thread."""

    def __init__(self) -> None:
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _start_thread(self, name: str) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    @abstractmethod
    def _run(self) -> None:
        """The thread's loop: until ``_stop`` is set, wait on ``_wake`` and do the work."""

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
