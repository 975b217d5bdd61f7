"""Occupancy: counts per zone, room and site with a level; never a name."""

from datetime import UTC, datetime, timedelta

import pytest

from hub_server import presence
from hub_server.config import HubConfig, OccupancySection
from hub_server.ingest import Inbound, Ingest
from hub_server.models import RoomIn, build
from hub_server.occupancy import OccupancyPublisher, current, level
from hub_server.places import add_room
from hub_server.store import Store
from hublink.messages import OCCUPANCY, Message
from tests.helpers.community_data import ROOM, book_room, community
from tests.helpers.hub_data import seed, tap

T = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
CONFIG = HubConfig.model_validate({"site": {"id": "s"}})


@pytest.mark.parametrize(
    ("count", "capacity", "expected"),
    [(0, 10, "green"), (6, 10, "green"), (7, 10, "amber"), (8, 10, "amber"), (9, 10, "red"),
     (12, 10, "red"), (0, 0, "green"), (1, 0, "red")],
)  # fmt: skip
def test_levels_follow_the_configured_shares(count, capacity, expected):
    assert level(count, capacity, OccupancySection()) == expected


def test_levels_use_the_configured_thresholds():
    thresholds = OccupancySection(amber_at=0.5, red_at=0.6)
    assert [level(n, 10, thresholds) for n in (4, 5, 6)] == ["green", "amber", "red"]


class Sent:
    def __init__(self) -> None:
        self.payloads: list[bytes] = []

    def publish(self, topic: str, message: Message) -> bool:
        self.payloads.append(OCCUPANCY.encode(message))  # type: ignore[arg-type]
        return True


def test_occupancy_counts_people_per_zone_room_and_site_without_names():
    with Store.memory() as store:
        seed(store)
        add_room(store, build(RoomIn, id="fjall", name="Fjäll", zone_id="glade", capacity=6), "t")
        with store.write() as db:
            db.execute("UPDATE doors SET room_id = 'fjall' WHERE id = 'glade'")
        ingest = Ingest(store, presence.rules_from(CONFIG), clock=lambda: T)
        ingest.process([
            Inbound("door", "front", tap("m-asa", T)),
            Inbound("door", "front", tap("m-bjorn", T)),
            Inbound("door", "glade", tap("m-sigrid", T)),
        ])  # fmt: skip
        sent = Sent()
        publisher = OccupancyPublisher(store, sent, "topic", OccupancySection(), "UTC")
        assert publisher.refresh()
        assert not publisher.refresh()  # nothing changed: nothing sent
        occupancy = current(store, OccupancySection(), "UTC")
    assert (occupancy.site.count, occupancy.site.capacity) == (3, 14)
    assert {z.zone_id: (z.count, z.capacity, z.level) for z in occupancy.zones} == {
        "campfire": (2, 10, "green"), "glade": (1, 4, "green"),
    }  # fmt: skip
    assert [(r.room_id, r.count, r.capacity) for r in occupancy.rooms] == [("fjall", 1, 6)]
    payload = sent.payloads[0].decode()
    for private in ("Åsa", "Björn", "Sigrid", "m-asa", "Test"):
        assert private not in payload


def test_rooms_say_until_when_they_are_booked_and_when_the_next_booking_starts():
    with Store.memory() as store:
        community(store)
        now = [T]
        publisher = OccupancyPublisher(store, Sent(), "t", OccupancySection(), "UTC",
                                       clock=lambda: now[0])  # fmt: skip
        assert publisher.refresh()  # the first look
        assert not publisher.refresh()
        book_room(store, T - timedelta(minutes=30), T + timedelta(hours=1))
        book_room(store, T + timedelta(hours=1), T + timedelta(hours=2))  # back to back
        book_room(store, T + timedelta(hours=3), T + timedelta(hours=4))
        book_room(store, T + timedelta(hours=5), T + timedelta(hours=6), status="cancelled")
        assert publisher.refresh()
        [room] = current(store, OccupancySection(), "UTC", now=T).rooms
        assert (room.room_id, room.booked_until, room.next_booking_at) == (
            ROOM, T + timedelta(hours=2), T + timedelta(hours=3)
        )  # fmt: skip
        now[0] = T + timedelta(hours=2)  # the run has ended
        assert publisher.refresh()
        [room] = current(store, OccupancySection(), "UTC", now=now[0]).rooms
        assert (room.booked_until, room.next_booking_at) == (None, T + timedelta(hours=3))
