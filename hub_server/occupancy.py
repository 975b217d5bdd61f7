"""Occupancy: people present per zone, per room and on the site; counts only, never names.

The message also says whether the site is open now (:func:`site_state.is_open`)
and, per room, until when it is booked and when its next booking starts.
"""

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from hub_server import bookings, presence, site_state
from hub_server.config import OccupancySection
from hub_server.store import Store
from hublink.messages import Fill, Level, Message, Occupancy, RoomFill, ZoneFill, utcnow


class Publisher(Protocol):
    """Where occupancy goes: the server's link."""

    def publish(self, topic: str, message: Message) -> bool: ...


def level(count: int, capacity: int, thresholds: OccupancySection) -> Level:
    """Green, amber or red for ``count`` people where ``capacity`` fit."""
    if capacity <= 0:
        return "red" if count > 0 else "green"
    share = count / capacity
    if share >= thresholds.red_at:
        return "red"
    if share >= thresholds.amber_at:
        return "amber"
    return "green"


def current(
    store: Store,
    thresholds: OccupancySection,
    timezone: str,
    *,
    now: datetime | None = None,
) -> Occupancy:
    """Occupancy now, from the open presence sessions and the zones' and rooms' capacities,
    whether the site is open at ``now`` (default: the current time) in ``timezone``, and
    each room's bookings around then (no names: until when it is booked, the next one)."""
    now = now or utcnow()
    counts = presence.counts(store)
    windows = bookings.room_windows(store, now)
    zones = store.query("SELECT id, name, capacity FROM zones ORDER BY name COLLATE NOCASE")
    rooms = store.query(
        "SELECT id, name, zone_id, capacity FROM rooms WHERE zone_id IS NOT NULL"
        " ORDER BY name COLLATE NOCASE"
    )
    capacity = sum(row["capacity"] for row in zones)

    def fill(count: int, cap: int) -> dict[str, object]:
        return {"count": count, "capacity": cap, "level": level(count, cap, thresholds)}

    zone_fills = [
        ZoneFill.model_validate(
            {
                "zone_id": z["id"],
                "name": z["name"],
                **fill(counts.zones.get(z["id"], 0), z["capacity"]),
            }
        )
        for z in zones
    ]
    room_fills = [
        RoomFill.model_validate(
            {
                "room_id": r["id"],
                "zone_id": r["zone_id"],
                "name": r["name"],
                **fill(counts.rooms.get(r["id"], 0), r["capacity"]),
                "booked_until": windows[r["id"]].booked_until if r["id"] in windows else None,
                "next_booking_at": (
                    windows[r["id"]].next_booking_at if r["id"] in windows else None
                ),
            }
        )
        for r in rooms
    ]
    return Occupancy(
        site=Fill.model_validate(fill(counts.site, capacity)),
        open=site_state.is_open(store, now, timezone),
        zones=tuple(zone_fills),
        rooms=tuple(room_fills),
    )


class OccupancyPublisher:
    """Publishes the retained occupancy message whenever the counts change."""

    def __init__(
        self,
        store: Store,
        link: Publisher,
        topic: str,
        thresholds: OccupancySection,
        timezone: str,
        *,
        on_publish: Callable[[Occupancy], None] | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.link = link
        self.topic = topic
        self.thresholds = thresholds
        self.on_publish = on_publish
        self.timezone = timezone
        self.clock = clock
        self._last: str | None = None
        self._lock = threading.Lock()

    def refresh(self, *, force: bool = False) -> bool:
        """Publish if the counts, the zones and rooms or ``open`` changed; True if published."""
        with self._lock:
            message = current(self.store, self.thresholds, self.timezone, now=self.clock())
            content = message.model_dump_json(exclude={"id", "ts"})
            if content == self._last and not force:
                return False
            self.link.publish(self.topic, message)
            self._last = content
        if self.on_publish is not None:
            self.on_publish(message)
        return True
