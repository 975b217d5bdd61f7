"""Hub messages and a wired kiosk model for kiosk tests: real cache file, real codecs."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hublink.credentials import credential_hash
from hublink.messages import (
    KIOSK_DIRECTORY,
    OCCUPANCY,
    UPCOMING_EVENTS,
    DirectoryEntry,
    Fill,
    KioskDirectory,
    KioskRequest,
    Level,
    Occupancy,
    RoomFill,
    UpcomingEvent,
    UpcomingEvents,
    ZoneFill,
)
from kiosk.cache import Cache
from kiosk.config import KioskSection
from kiosk.errors import KioskError
from kiosk.feeds import Feeds
from kiosk.i18n import Translator
from kiosk.model import KioskModel

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # 10:00 in Stockholm
KEY = bytes(range(32))
ASA = credential_hash(KEY, bytes.fromhex("04a1b2c3d4e5f6"))
BJORN = credential_hash(KEY, bytes.fromhex("04000000000001"))
GUEST = credential_hash(KEY, bytes.fromhex("04000000000002"))
STRANGER = credential_hash(KEY, bytes.fromhex("04000000000003"))


def directory(
    *entries: tuple[str, str, str] | tuple[str, str, str, str], version: int = 1
) -> bytes:
    """A directory payload from (credential, member id, first name[, host first name])."""
    return KIOSK_DIRECTORY.encode(
        KioskDirectory(
            kiosk_id="entrance",
            version=version,
            entries=tuple(
                DirectoryEntry(
                    credential=e[0],
                    member_id=e[1],
                    first_name=e[2],
                    host_first_name=e[3] if len(e) > 3 else None,
                )
                for e in entries
            ),
        )
    )


DEFAULT_DIRECTORY = directory(
    (ASA, "m-asa", "Åsa"), (BJORN, "m-bjorn", "Björn"), (GUEST, "g-1", "Bo", "Björn")
)


def zone(zone_id: str, name: str, count: int, capacity: int, level: Level = "green") -> ZoneFill:
    """A zone's fill."""
    return ZoneFill(zone_id=zone_id, name=name, count=count, capacity=capacity, level=level)


def room(
    room_id: str,
    name: str,
    *,
    count: int = 0,
    booked_until: datetime | None = None,
    next_booking_at: datetime | None = None,
) -> RoomFill:
    """A room's fill and bookings."""
    return RoomFill(
        room_id=room_id,
        zone_id="lookout",
        name=name,
        count=count,
        capacity=8,
        level="green",
        booked_until=booked_until,
        next_booking_at=next_booking_at,
    )


def occupancy(
    zones: Iterable[ZoneFill] = (),
    rooms: Iterable[RoomFill] = (),
    *,
    open_now: bool | None = True,
) -> bytes:
    """An occupancy payload; the site's count is the zones' sum."""
    zones, rooms = tuple(zones), tuple(rooms)
    count = sum(z.count for z in zones)
    capacity = sum(z.capacity for z in zones)
    return OCCUPANCY.encode(
        Occupancy(
            site=Fill(count=count, capacity=capacity, level="green"),
            open=open_now,
            zones=zones,
            rooms=rooms,
        )
    )


DEFAULT_OCCUPANCY = occupancy(
    [zone("glade", "Forest glade", 9, 12, "amber"), zone("campfire", "Campfire circle", 2, 20)],
    [
        room("lookout-room", "Lookout room", next_booking_at=NOW + timedelta(hours=2)),
        room("oasis-room", "Oasis room", booked_until=NOW + timedelta(minutes=30)),
    ],
)


def event(
    event_id: str,
    title: str,
    starts_in: timedelta,
    *,
    hours: float = 1.5,
    capacity: int = 10,
    taken: int = 0,
    waitlist: int = 0,
    max_guests: int = 0,
) -> UpcomingEvent:
    """An upcoming event starting ``starts_in`` after :data:`NOW`."""
    starts = NOW + starts_in
    return UpcomingEvent(
        event_id=event_id,
        title=title,
        starts_at=starts,
        ends_at=starts + timedelta(hours=hours),
        capacity=capacity,
        taken=taken,
        waitlist=waitlist,
        max_guests=max_guests,
    )


def events(*items: UpcomingEvent) -> bytes:
    """An upcoming-events payload."""
    return UPCOMING_EVENTS.encode(UpcomingEvents(events=items))


DEFAULT_EVENTS = events(
    event("ev-story", "Storytelling", timedelta(hours=5), capacity=10, taken=9, max_guests=2),
    event("ev-yoga", "Morning stretch", timedelta(days=1), capacity=8, taken=8, waitlist=2),
)


@dataclass
class FakeClock:
    """UTC time and a monotonic clock that tests move by hand."""

    now: datetime = NOW
    mono: float = 1000.0

    def utc(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
        self.mono += seconds


@dataclass
class FakeSender:
    """Collects the requests the model sends; ``fail`` makes it refuse."""

    sent: list[KioskRequest] = field(default_factory=list)
    fail: bool = False

    def send(self, request: KioskRequest) -> None:
        if self.fail:
            raise KioskError("the outbox is full")
        self.sent.append(request)

    def last(self, action: str) -> KioskRequest:
        return next(r for r in reversed(self.sent) if r.action == action)

    def actions(self) -> list[str]:
        return [r.action for r in self.sent]


@dataclass
class Rig:
    """A kiosk model over a real cache file, fed like the link feeds it."""

    model: KioskModel
    feeds: Feeds
    cache: Cache
    sender: FakeSender
    clock: FakeClock
    changes: list[str] = field(default_factory=list)

    def online(self, up: bool = True) -> None:
        self.feeds.link_status(up)
        self.feeds.hub_status(up)


def make_rig(
    path: Path,
    *,
    language: str = "en",
    online: bool = True,
    clock: FakeClock | None = None,
    feed: bool = True,
    **settings: object,
) -> Rig:
    """A kiosk ``entrance`` in Stockholm, fed the default directory, occupancy and events."""
    clock = clock or FakeClock()
    cache = Cache(path / "kiosk.sqlite3")
    changes: list[str] = []
    feeds = Feeds(cache, changes.append, clock.utc)
    feeds.load_cached()
    sender = FakeSender()
    section = KioskSection.model_validate(
        {"id": "entrance", "timezone": "Europe/Stockholm", "language": language, **settings}
    )
    model = KioskModel(
        section,
        feeds,
        cache,
        sender,
        Translator(language),
        clock=clock.utc,
        monotonic=clock.monotonic,
    )
    rig = Rig(model, feeds, cache, sender, clock, changes)
    if feed:
        feeds.directory_payload(DEFAULT_DIRECTORY)
        feeds.occupancy_payload(DEFAULT_OCCUPANCY)
        feeds.events_payload(DEFAULT_EVENTS)
    if online:
        rig.online()
    return rig
