"""What the hub publishes for the kiosk, kept current and cached on disk.

The directory (card hash to first name), occupancy and upcoming events
arrive as retained messages; each is saved to the cache as it comes, and
loaded from it at start, so the kiosk greets and shows counts with the hub
out of reach. A payload that does not decode is counted and logged and
leaves the last good value in place.
"""

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hublink.errors import MessageError
from hublink.messages import (
    KIOSK_DIRECTORY,
    OCCUPANCY,
    UPCOMING_EVENTS,
    Codec,
    DirectoryEntry,
    KioskDirectory,
    Message,
    Occupancy,
    UpcomingEvents,
)
from hublink.ratelog import RateLimitedLog
from kiosk.cache import Cache

log = logging.getLogger(__name__)

DIRECTORY, OCCUPANCY_NAME, EVENTS = "directory", "occupancy", "events"


@dataclass(frozen=True)
class Snapshot:
    """The hub's data as the kiosk has it now."""

    occupancy: Occupancy | None
    events: UpcomingEvents | None
    directory_version: int | None
    directory_size: int
    online: bool
    last_heard: datetime | None
    """When the latest message from the hub arrived (this run or an earlier one)."""


class Feeds:
    """The kiosk's replica of the hub's directory, occupancy and events."""

    def __init__(
        self, cache: Cache, on_change: Callable[[str], None], clock: Callable[[], datetime]
    ) -> None:
        self.cache = cache
        self.on_change = on_change
        self.clock = clock
        self.rejected = 0
        self._lock = threading.Lock()
        self._directory: dict[str, DirectoryEntry] = {}
        self._directory_version: int | None = None
        self._occupancy: Occupancy | None = None
        self._events: UpcomingEvents | None = None
        self._last_heard: datetime | None = None
        self._link_up = False
        self._hub_up = False
        self._bad_log = RateLimitedLog(log)

    def load_cached(self) -> None:
        """Start from what the cache holds (what the hub last said before a restart)."""
        for name, codec in ((DIRECTORY, KIOSK_DIRECTORY), (OCCUPANCY_NAME, OCCUPANCY),
                            (EVENTS, UPCOMING_EVENTS)):  # fmt: skip
            saved = self.cache.load(name)
            if saved is None:
                continue
            payload, received_at = saved
            try:
                self._take(name, codec.decode(payload))
            except MessageError as err:
                log.warning("ignoring the cached %s: %s", name, err)
                continue
            if self._last_heard is None or received_at > self._last_heard:
                self._last_heard = received_at

    # --- from the link (its network thread) --------------------------------

    def directory_payload(self, payload: bytes) -> None:
        """A retained directory arrived."""
        self._receive(DIRECTORY, KIOSK_DIRECTORY, payload)

    def occupancy_payload(self, payload: bytes) -> None:
        """A retained occupancy message arrived."""
        self._receive(OCCUPANCY_NAME, OCCUPANCY, payload)

    def events_payload(self, payload: bytes) -> None:
        """A retained upcoming-events message arrived."""
        self._receive(EVENTS, UPCOMING_EVENTS, payload)

    def hub_status(self, online: bool) -> None:
        """The hub's availability topic changed."""
        with self._lock:
            changed, self._hub_up = self._hub_up != online, online
        if changed:
            self.on_change("online")

    def link_status(self, connected: bool) -> None:
        """The kiosk's own connection to the broker came up or went down."""
        with self._lock:
            changed, self._link_up = self._link_up != connected, connected
            if not connected:
                self._hub_up = False  # a retained 'online' will come again on reconnecting
        if changed:
            self.on_change("online")

    def _receive(self, name: str, codec: Codec[Any], payload: bytes) -> None:
        try:
            message = codec.decode(payload)
        except MessageError as err:
            with self._lock:
                self.rejected += 1
            self._bad_log.log(logging.WARNING, "dropped a bad %s message: %s", name, err)
            return
        now = self.clock()
        self._take(name, message)
        with self._lock:
            self._last_heard = now
        self.cache.save(name, payload, now)
        self.on_change(name)

    def _take(self, name: str, message: Message) -> None:
        with self._lock:
            if isinstance(message, KioskDirectory):
                self._directory = {entry.credential: entry for entry in message.entries}
                self._directory_version = message.version
            elif isinstance(message, Occupancy):
                self._occupancy = message
            elif isinstance(message, UpcomingEvents):
                self._events = message

    # --- reading -----------------------------------------------------------

    def who(self, credential: str) -> DirectoryEntry | None:
        """The directory's entry for a card hash, if the hub listed it for this kiosk."""
        with self._lock:
            return self._directory.get(credential)

    @property
    def online(self) -> bool:
        """True while connected to the broker and the hub says it is online."""
        with self._lock:
            return self._link_up and self._hub_up

    def snapshot(self) -> Snapshot:
        """Everything at once, consistent."""
        with self._lock:
            return Snapshot(
                occupancy=self._occupancy,
                events=self._events,
                directory_version=self._directory_version,
                directory_size=len(self._directory),
                online=self._link_up and self._hub_up,
                last_heard=self._last_heard,
            )
