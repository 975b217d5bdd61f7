"""Whether the site is open: door modes first, then open hours in local time, then not known."""

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hub_server import doors, presence
from hub_server import server as server_module
from hub_server.config import HubConfig, OccupancySection
from hub_server.doors import Weekly
from hub_server.ingest import Inbound, Ingest
from hub_server.occupancy import OccupancyPublisher, current
from hub_server.server import HubServer, hub_link
from hub_server.site_state import is_open
from hub_server.store import Store
from hublink.link import Link
from hublink.messages import OCCUPANCY, DoorMode, DoorState, Message, Occupancy
from hublink.topics import Topics
from tests.conftest import SITE, mqtt_config
from tests.helpers.brokers import Mosquitto
from tests.helpers.collect import Collector
from tests.helpers.hub_data import ACTOR, seed
from tests.helpers.hub_process import WAIT_S, FakeDevice, wait_occupancy

ZONE = "Europe/Stockholm"
WED_0900 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)  # 09:00 in Stockholm (CET), a Wednesday
CONFIG = HubConfig.model_validate({"site": {"id": "s"}})
_stamps = itertools.count()


@pytest.fixture
def store() -> Iterator[Store]:
    """Doors front, glade, exit and side (none held open, none heard from yet)."""
    with Store.memory() as store:
        yield seed(store)


def report(store: Store, door_id: str, mode: DoorMode) -> None:
    """A door's state message, ingested as the server ingests it."""
    state = DoorState(
        lock="unlocked" if mode in ("hold_open", "scheduled_open") else "locked",
        mode=mode,
        acl_version=1,
        ts=WED_0900 + timedelta(seconds=next(_stamps)),  # each newer than the last
    )
    Ingest(store, presence.rules_from(CONFIG)).process([Inbound("door", door_id, state)])


def hours(store: Store, door_id: str, weekly: Weekly) -> None:
    doors.set_open_schedule(store, door_id, weekly, ACTOR)


def holiday(store: Store, day: str) -> None:
    with store.write() as db:
        db.execute("INSERT INTO holidays (day, name) VALUES (?, 'holiday')", (day,))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


# --- the rules ----------------------------------------------------------------------------


def test_with_no_open_hours_and_no_door_held_open_it_is_not_known(store):
    assert is_open(store, WED_0900, ZONE) is None
    report(store, "front", "normal")
    assert is_open(store, WED_0900, ZONE) is None


@pytest.mark.parametrize("mode", ["hold_open", "scheduled_open"])
def test_a_door_reporting_it_is_held_open_opens_the_site(store, mode):
    report(store, "front", "normal")
    report(store, "side", mode)
    assert is_open(store, WED_0900, ZONE) is True


def test_lockdown_at_any_door_closes_the_site_whatever_else_holds(store):
    hours(store, "front", {"wed": ("00:00-24:00",)})
    report(store, "front", "hold_open")
    report(store, "exit", "lockdown")
    assert is_open(store, WED_0900, ZONE) is False
    report(store, "exit", "normal")  # lifted: the held-open door counts again
    assert is_open(store, WED_0900, ZONE) is True


def test_a_mode_reported_by_a_door_that_is_not_registered_counts_for_nothing(store):
    report(store, "stranger", "lockdown")
    report(store, "intruder", "hold_open")
    assert is_open(store, WED_0900, ZONE) is None


def test_open_hours_decide_in_local_time_when_no_door_reports_an_open_mode(store):
    hours(store, "front", {"wed": ("08:00-12:00", "13:00-17:00")})
    hours(store, "side", {"tue": ("12:00-13:00",)})
    report(store, "front", "normal")  # a door on its way to opening changes nothing
    expected = {
        "2026-11-25T06:59:00+00:00": False,  # 07:59 local
        "2026-11-25T07:00:00+00:00": True,  # 08:00 local: starts
        "2026-11-25T11:30:00+00:00": False,  # 12:30 local: the lunch gap
        "2026-11-25T15:59:00+00:00": True,  # 16:59 local
        "2026-11-25T16:00:00+00:00": False,  # 17:00 local: the end is not in the range
        "2026-11-24T11:30:00+00:00": True,  # Tuesday 12:30: the side door's hours
        "2026-11-26T07:30:00+00:00": False,  # Thursday: no hours at all
    }
    assert {t: is_open(store, at(t), ZONE) for t in expected} == expected
    assert is_open(store, at("2026-11-25T16:30:00+00:00"), "UTC") is True  # 16:30 in UTC


def test_a_holiday_closes_the_open_hours_on_its_local_date(store):
    hours(store, "front", {day: ("00:00-24:00",) for day in ("thu", "fri", "sat")})
    holiday(store, "2026-12-25")
    assert is_open(store, at("2026-12-24T22:30:00+00:00"), ZONE) is True  # Thu 23:30 local
    assert is_open(store, at("2026-12-24T23:30:00+00:00"), ZONE) is False  # Fri 00:30 local
    assert is_open(store, at("2026-12-25T23:30:00+00:00"), ZONE) is True  # Sat 00:30 local
    report(store, "front", "hold_open")  # a door held open on a holiday is open all the same
    assert is_open(store, at("2026-12-24T23:30:00+00:00"), ZONE) is True


@pytest.mark.parametrize(
    ("utc", "expected"),
    [
        ("2026-03-22T07:30:00+00:00", True),  # CET (+1): 08:30
        ("2026-03-22T06:30:00+00:00", False),  # 07:30
        ("2026-03-29T06:30:00+00:00", True),  # the clocks went forward at 01:00 UTC: 08:30 CEST
        ("2026-03-29T07:30:00+00:00", False),  # 09:30 CEST
        ("2026-10-25T07:30:00+00:00", True),  # back at 01:00 UTC: 08:30 CET
        ("2026-10-25T06:30:00+00:00", False),  # 07:30 CET
    ],
)
def test_open_hours_follow_daylight_saving_time(store, utc, expected):
    hours(store, "front", {"sun": ("08:00-09:00",)})
    assert is_open(store, at(utc), ZONE) is expected


# --- on the occupancy topic -----------------------------------------------------------------


class Sent:
    """A stand-in link keeping each occupancy message as a kiosk decodes it."""

    def __init__(self) -> None:
        self.messages: list[Occupancy] = []

    def publish(self, topic: str, message: Message) -> bool:
        assert isinstance(message, Occupancy)
        self.messages.append(OCCUPANCY.decode(OCCUPANCY.encode(message)))
        return True


def test_occupancy_says_whether_the_site_is_open_given_the_hubs_time_zone(store):
    hours(store, "front", {"wed": ("08:00-10:00",)})
    assert current(store, OccupancySection(), timezone=ZONE, now=WED_0900).open is True
    later = WED_0900 + timedelta(hours=1)  # 10:00 local
    assert current(store, OccupancySection(), timezone=ZONE, now=later).open is False


def test_a_door_mode_change_shows_in_the_next_occupancy_message(store):
    sent = Sent()
    publisher = OccupancyPublisher(
        store, sent, "topic", OccupancySection(), timezone=ZONE, clock=lambda: WED_0900
    )

    def housekeeping_tick() -> None:  # what the server does every second
        publisher.refresh()

    publisher.refresh(force=True)
    report(store, "front", "hold_open")
    housekeeping_tick()
    report(store, "side", "lockdown")
    housekeeping_tick()
    housekeeping_tick()  # nothing changed: nothing sent
    report(store, "side", "normal")
    report(store, "front", "normal")
    housekeeping_tick()
    assert [m.open for m in sent.messages] == [None, True, False, None]
    assert all(m.site.count == 0 for m in sent.messages)


@pytest.mark.mosquitto
def test_the_running_server_republishes_occupancy_when_a_door_is_held_open(
    mosquitto: Mosquitto, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(server_module, "HOUSEKEEPING_S", 0.05)
    topics = Topics(SITE)
    config = HubConfig.model_validate(
        {
            "site": {"id": SITE},
            "data_dir": str(tmp_path / "hub"),
            "hub": {"timezone": ZONE},
            "mqtt": {"host": "127.0.0.1", "port": mosquitto.port, "reconnect_min_s": 0.1},
            "presence": {"closing_time": ""},
            "http": {"enabled": False},
        }
    )
    seen = Collector()
    watcher = Link(mqtt_config(mosquitto.port), topics, client_id="test-watcher")
    watcher.subscribe(topics.occupancy(), seen)
    door = FakeDevice(tmp_path, mosquitto.port, topics, "test-fake-front")
    with Store.in_folder(config.data_dir) as store:
        seed(store)
        server = HubServer(config, store, hub_link(config))
        try:
            watcher.start()
            server.start()
            door.start(WAIT_S)
            first = wait_occupancy(seen, mosquitto.port, topics, lambda o: True, "anything")
            assert first.open is None

            def state(mode: DoorMode) -> DoorState:
                return DoorState(lock="unlocked", mode=mode, acl_version=1)

            door.publish(topics.door_state("front"), state("hold_open"))
            wait_occupancy(seen, mosquitto.port, topics, lambda o: o.open is True, "open")
            door.publish(topics.door_state("front"), state("lockdown"))
            wait_occupancy(seen, mosquitto.port, topics, lambda o: o.open is False, "closed")
        finally:
            door.close()
            server.stop()
            watcher.stop()
