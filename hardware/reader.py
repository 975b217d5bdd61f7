"""A card reader: a driver polled by a supervising thread that never gives up.

Layered like nfcpy: the service sees ``CardReader`` and ``CardTap``; a
``ReaderDriver`` knows one kind of hardware and turns its bytes into
``CardRead``s. The supervisor opens the driver, polls it, debounces reads
into taps, and on any error counts it, closes the driver and reopens it
with backoff, so an unplugged or wedged reader comes back by itself.
"""

import logging
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

from hardware.errors import ReaderError
from hardware.signals import Signal
from hardware.taps import CardRead, CardTap, TapDebouncer
from hublink.backoff import reconnect_delay
from hublink.ratelog import RateLimitedLog

log = logging.getLogger(__name__)

TapHandler = Callable[[CardTap], None]


class ReaderDegraded(ReaderError):
    """A reader still answers but so slowly that it needs reinitialising."""


class ReaderDriver(ABC):
    """One kind of reader hardware, opened, polled and closed by ``CardReader``."""

    description: str = "reader"

    @abstractmethod
    def open(self) -> None:
        """Open the device; raise ``ReaderError`` (or ``OSError``) if it is not there."""

    @abstractmethod
    def poll(self) -> list[CardRead]:
        """Wait up to about one poll period for cards; return what was read."""

    @abstractmethod
    def close(self) -> None:
        """Release the device; safe to call twice and after a failed open."""

    @property
    def rejected_frames(self) -> int:
        """Frames the driver received but threw away as corrupt."""
        return 0

    def signal(self, signal: Signal) -> bool:
        """Show ``signal`` on the reader's own LED/buzzer; False if it has none."""
        del signal
        return False


@dataclass
class ReaderStats:
    """What a reader has done since it started."""

    taps: int = 0
    reads: int = 0
    errors: int = 0
    opens: int = 0
    reinitialised: int = 0
    handler_errors: int = 0
    last_error: str | None = None


@dataclass(frozen=True)
class ReaderTiming:
    """How a reader is supervised."""

    retap_gap_s: float = 1.0
    reopen_min_s: float = 0.5
    reopen_max_s: float = 30.0
    degraded_poll_s: float = 5.0
    degraded_polls: int = 3


class CardReader:
    """Runs a ``ReaderDriver`` in a thread and hands each new tap to a handler."""

    def __init__(
        self, driver: ReaderDriver, reader_id: str, timing: ReaderTiming | None = None
    ) -> None:
        self.driver = driver
        self.reader_id = reader_id
        self.timing = timing or ReaderTiming()
        self.stats = ReaderStats()
        self._debouncer = TapDebouncer(self.timing.retap_gap_s)
        self._stop = threading.Event()
        self._opened = threading.Event()
        self._polled_ok = False  # a poll succeeded since the last open
        self._thread: threading.Thread | None = None
        self._handler: TapHandler = lambda tap: None
        self._errors_log = RateLimitedLog(log)

    @property
    def rejected_frames(self) -> int:
        """Corrupt frames the driver has thrown away."""
        return self.driver.rejected_frames

    def start(self, on_tap: TapHandler) -> "CardReader":
        """Start polling in a background thread; ``on_tap`` runs in that thread."""
        if self._thread is not None:
            raise ReaderError(f"reader {self.reader_id} is already started")
        self._handler = on_tap
        self._thread = threading.Thread(
            target=self._run, name=f"reader-{self.reader_id}", daemon=True
        )
        self._thread.start()
        return self

    def wait_open(self, timeout: float) -> bool:
        """Wait until the driver is open and polling."""
        return self._opened.wait(timeout)

    @property
    def is_open(self) -> bool:
        """Whether the driver is open right now."""
        return self._opened.is_set()

    def signal(self, signal: Signal) -> bool:
        """Show ``signal`` on the reader itself, if it can."""
        return self.driver.signal(signal)

    def close(self, timeout: float = 5.0) -> None:
        """Stop polling and release the reader; safe to call twice."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        self.driver.close()

    def __enter__(self) -> "CardReader":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self) -> None:
        attempt = 0
        while not self._stop.is_set():
            try:
                self._polled_ok = False
                self.driver.open()
                self.stats.opens += 1
                self._opened.set()
                log.info("reader %s open: %s", self.reader_id, self.driver.description)
                self._poll_until_failure()
                attempt = 0
            except Exception as err:  # noqa: BLE001 - any driver failure means reopen
                self._opened.clear()
                self.stats.errors += 1
                self.stats.last_error = f"{type(err).__name__}: {err}"
                if isinstance(err, ReaderDegraded):
                    self.stats.reinitialised += 1
                self._errors_log.log(
                    logging.WARNING,
                    "reader %s (%s) failed, reopening: %s",
                    self.reader_id,
                    self.driver.description,
                    self.stats.last_error,
                )
                self._safe_close()
                if self._polled_ok:  # it had worked since opening: a new failure, not a retry
                    attempt = 0
                delay = reconnect_delay(attempt, self.timing.reopen_min_s, self.timing.reopen_max_s)
                attempt += 1
                self._stop.wait(delay)
        self._opened.clear()

    def _poll_until_failure(self) -> None:
        slow = 0
        while not self._stop.is_set():
            started = time.monotonic()
            reads = self.driver.poll()
            self._polled_ok = True
            took = time.monotonic() - started
            slow = slow + 1 if took > self.timing.degraded_poll_s else 0
            if slow >= self.timing.degraded_polls:
                raise ReaderDegraded(
                    f"{slow} polls in a row took over {self.timing.degraded_poll_s} s"
                )
            for read in reads:
                self._deliver(read)

    def _deliver(self, read: CardRead) -> None:
        self.stats.reads += 1
        now = time.monotonic()
        if not self._debouncer.is_new(read.uid, now):
            return
        tap = CardTap(
            uid=read.uid,
            kind=read.kind,
            reader_id=self.reader_id,
            read_latency_s=now - read.started,
            monotonic=now,
        )
        self.stats.taps += 1
        try:
            self._handler(tap)
        except Exception:
            self.stats.handler_errors += 1
            log.exception("tap handler failed for a tap at reader %s", self.reader_id)

    def _safe_close(self) -> None:
        try:
            self.driver.close()
        except Exception:
            log.debug("closing reader %s failed", self.reader_id, exc_info=True)
