"""The retained ``events/upcoming`` topic: the coming events with their free seats, no names.

Every kiosk shows it on its idle screen and offers its events for sign-up.
The publisher follows the store's ``events`` counter (bumped by triggers on
events, signups and invitations, from any process), is woken at once by a
commit in the server process, and looks again every :data:`REFRESH_S` so
that an event that has ended leaves the list. It publishes only when the
content changed. At most :data:`MAX_EVENTS` events, the soonest first.
"""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from hub_server import events
from hub_server.store import Store
from hub_server.woken_thread import WokenThread
from hublink.messages import Message, UpcomingEvent, UpcomingEvents, utcnow

log = logging.getLogger(__name__)

MAX_EVENTS = 100
"""About 25 KB of JSON: well inside the contract's message limit."""
REFRESH_S = 60.0


class Publisher(Protocol):
    """Where the list goes: the server's link."""

    def publish(self, topic: str, message: Message) -> bool: ...


@dataclass
class UpcomingStats:
    """What the publisher has done, for health checks and benchmarks."""

    published: int = 0
    failed: int = 0


def current(store: Store, now: datetime, days: int) -> UpcomingEvents:
    """The message as it stands at ``now``: events not yet over starting within ``days``."""
    return UpcomingEvents(
        events=tuple(
            UpcomingEvent(
                event_id=e.id,
                title=e.title,
                starts_at=e.starts_at,
                ends_at=e.ends_at,
                zone_id=e.zone_id,
                room_id=e.room_id,
                capacity=e.capacity,
                taken=min(e.taken, e.capacity),
                waitlist=e.waitlisted,
                max_guests=e.max_guests,
            )
            for e in events.upcoming(store, now, days)[:MAX_EVENTS]
        )
    )


class UpcomingPublisher(WokenThread):
    """Keeps the retained ``events/upcoming`` message in step with the store."""

    def __init__(
        self,
        store: Store,
        link: Publisher,
        topic: str,
        *,
        days: int,
        poll_interval_s: float = 0.05,
        refresh_s: float = REFRESH_S,
        clock: Callable[[], datetime] = utcnow,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.store = store
        self.link = link
        self.topic = topic
        self.days = days
        self.poll_interval_s = poll_interval_s
        self.refresh_s = refresh_s
        self.clock = clock
        self.monotonic = monotonic
        self.stats = UpcomingStats()
        self._seen: int | None = None
        self._due = 0.0
        self._sent: str | None = None
        self._lock = threading.Lock()

    def start(self) -> "UpcomingPublisher":
        """Publish now, then follow changes on a thread."""
        self.publish(force=True)
        self.store.on_commit(self.wake)
        self._start_thread("hub-upcoming-events")
        return self

    failure_message = "could not publish the upcoming events; trying again"

    def _work(self) -> None:
        self.check()

    def check(self) -> bool:
        """Publish if the counter moved or a refresh is due; True if it looked."""
        if self.store.counter("events") == self._seen and self.monotonic() < self._due:
            return False
        self.publish()
        return True

    def publish(self, *, force: bool = False) -> bool:
        """Publish the list if it changed (``force``: anyway); True if it was sent."""
        with self._lock:
            self._seen = self.store.counter("events")
            self._due = self.monotonic() + self.refresh_s
            message = current(self.store, self.clock(), self.days)
            content = message.model_dump_json(exclude={"id", "ts"})
            if content == self._sent and not force:
                return False
            try:
                sent = self.link.publish(self.topic, message)
            except Exception:
                self.stats.failed += 1
                self._due = 0.0  # try again on the next poll
                raise
            self._sent = content
            self.stats.published += 1
            return sent
