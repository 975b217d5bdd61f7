"""The hub server in this process (``HubServer``) against a real Mosquitto: the finer cases.

Faster than the subprocess tests in ``test_hub_end_to_end.py``, and the
server's parts are at hand: its clock, its link's counters, its ingest.
Doors and kiosks are fake ones (a link with its own outbox) except for the
door commands, which a real ``hubtap-door`` process answers.
"""

import socket
import sqlite3
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hub_server import commands, doors, enrolment, places
from hub_server import server as server_module
from hub_server.config import HubConfig
from hub_server.demo import free_port
from hub_server.ingest import BatchResult, Inbound
from hub_server.models import ZoneIn, build
from hub_server.server import HubServer, hub_link
from hub_server.store import DB_NAME, Store, now_text, parse_time
from hublink.link import Delivery, Link
from hublink.messages import DOOR_EVENT, DoorState, KioskRequest, KioskResponse, Occupancy, utcnow
from hublink.topics import ANY, Topics
from tests.conftest import SITE, mqtt_config
from tests.helpers.brokers import Mosquitto
from tests.helpers.collect import Collector
from tests.helpers.door_hardware import SITE_KEY_HEX
from tests.helpers.door_process import DoorProcess
from tests.helpers.hub_data import ACTOR, credential, seed, tap
from tests.helpers.hub_process import WAIT_S, FakeDevice, wait_occupancy
from tests.helpers.waiting import wait_until
from tests.test_hub_end_to_end import RawClient, RecordingBus, garbage

pytestmark = pytest.mark.mosquitto

TOPICS = Topics(SITE)


class Clock:
    """The server's clock: the real time plus an offset the test moves."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return utcnow() + self.offset


@pytest.fixture
def make_hub(mosquitto: Mosquitto, tmp_path: Path) -> Iterator[Callable[..., HubServer]]:
    """Start a seeded ``HubServer`` (see ``tests/helpers/hub_data.py``) on a file database."""
    made: list[HubServer] = []
    stores: list[Store] = []

    def make(
        *, clock: Callable[[], datetime] = utcnow, presence: dict[str, Any] | None = None
    ) -> HubServer:
        config = HubConfig.model_validate(
            {
                "site": {"id": SITE, "key": SITE_KEY_HEX},
                "data_dir": str(tmp_path / "hub"),
                "mqtt": {
                    "host": "127.0.0.1",
                    "port": mosquitto.port,
                    "reconnect_min_s": 0.1,
                    "reconnect_max_s": 0.5,
                },
                "presence": {"closing_time": "", **(presence or {})},
                "lists": {"poll_interval_s": 0.05, "snapshot_interval_s": 0.2},
                "http": {"enabled": False},
            }
        )
        store = Store.in_folder(config.data_dir)
        stores.append(store)
        if not doors.door_ids(store):
            seed(store)
        server = HubServer(config, store, hub_link(config), clock=clock)
        made.append(server)
        server.start()
        assert server.link.wait_connected(WAIT_S)
        return server

    yield make
    for server in made:
        server.stop()
    for store in stores:
        store.close()


class Watch:
    """What the hub publishes for everyone: occupancy and kiosk answers."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.occupancy = Collector()
        self.responses = Collector()
        self.link = Link(mqtt_config(port), TOPICS, client_id="test-watcher")
        self.link.subscribe(TOPICS.occupancy(), self.occupancy)
        self.link.subscribe(TOPICS.kiosk_response(ANY), self.responses)

    def wait_occupancy(self, check: Callable[[Occupancy], bool], what: str) -> Occupancy:
        """The latest occupancy once it passes ``check``; it is then also the retained one."""
        return wait_occupancy(self.occupancy, self.port, TOPICS, check, what)

    def response_to(self, request: KioskRequest) -> KioskResponse:
        def answered(items: list[Delivery[Any]]) -> bool:
            return any(d.message.request_id == request.id for d in items)

        assert self.responses.wait_until(answered, WAIT_S), f"no answer to {request.id}"
        return next(m for m in self.responses.messages if m.request_id == request.id)


@pytest.fixture
def watch(mosquitto: Mosquitto) -> Iterator[Watch]:
    watch = Watch(mosquitto.port)
    watch.link.start()
    assert watch.link.wait_connected(WAIT_S)
    yield watch
    watch.link.stop()


@pytest.fixture
def device(mosquitto: Mosquitto, tmp_path: Path) -> Iterator[Callable[[str], FakeDevice]]:
    """Fake doors and kiosks: links with their own outboxes, connected."""
    made: list[FakeDevice] = []

    def make(client_id: str) -> FakeDevice:
        fake = FakeDevice(tmp_path, mosquitto.port, TOPICS, client_id)
        made.append(fake)
        return fake.start(WAIT_S)

    yield make
    for fake in made:
        fake.close()


def sessions(store: Store, member_id: str) -> list[Any]:
    return store.query(
        "SELECT * FROM presence WHERE member_id = ? ORDER BY started_at", (member_id,)
    )


def wait_stored(store: Store, event_id: str) -> None:
    def stored() -> bool:
        row = store.query_one("SELECT 1 FROM access_events WHERE id = ?", (event_id,))
        return row is not None

    assert wait_until(stored, WAIT_S, interval=0.02), f"event {event_id} was not stored"


def zone_count(occupancy: Occupancy, zone_id: str) -> int:
    return next(z.count for z in occupancy.zones if z.zone_id == zone_id)


# --- door commands with a real door --------------------------------------------------------


def test_door_commands_reach_a_real_door_and_its_answers_are_recorded(
    make_hub, mosquitto, tmp_path
):
    server = make_hub()
    store = server.store
    (tmp_path / "door").mkdir()
    door = DoorProcess(
        tmp_path / "door",
        broker_port=mosquitto.port,
        reader_port=free_port(kind=socket.SOCK_DGRAM),
        door_id="front",
    )

    def status() -> Any:
        return store.query_one("SELECT * FROM door_status WHERE door_id = 'front'")

    def issue(action: commands.Action, **kw: Any) -> commands.CommandRecord:
        command = commands.issue(store, server.link, "front", action, ACTOR, **kw)
        record = commands.wait(store, command.id, WAIT_S)
        assert record.answered, f"no answer to {action}:\n{door.log_text()[-3000:]}"
        return record

    try:
        door.start()
        version = store.query_one("SELECT version FROM door_lists WHERE door_id = 'front'")[0]
        # The door says online once subscribed; its state shows it holds the hub's list.
        assert wait_until(
            lambda: (
                status() is not None
                and status()["online"] == 1
                and status()["acl_version"] == version
            ),
            WAIT_S,
        ), door.log_text()[-3000:]

        record = issue("unlock", duration_s=1)
        assert (record.ok, record.reason) == (True, "unlocked")

        record = issue("lockdown")
        assert (record.ok, record.reason) == (True, "lockdown")
        assert wait_until(lambda: status()["mode"] == "lockdown", WAIT_S)
        record = issue("unlock")
        assert (record.ok, record.reason) == (False, "lockdown")  # the door refused: recorded
        record = issue("normal")
        assert (record.ok, record.reason) == (True, "normal")
        assert wait_until(lambda: status()["mode"] == "normal", WAIT_S)

        record = issue("unlock", ttl_s=-1)  # already past its expiry when it arrives
        assert (record.ok, record.reason) == (False, "expired")

        answers = [(r.action, r.ok, r.reason) for r in reversed(commands.recent(store, "front"))]
        assert answers == [
            ("unlock", True, "unlocked"),
            ("lockdown", True, "lockdown"),
            ("unlock", False, "lockdown"),
            ("normal", True, "normal"),
            ("unlock", False, "expired"),
        ]
        modes = [
            (r["kind"], r["body"])
            for r in store.query("SELECT kind, body FROM door_log ORDER BY ts")
        ]
        assert [kind for kind, _ in modes] == ["mode", "mode"]  # into lockdown and out
        assert '"mode":"lockdown"' in modes[0][1]
        assert '"mode":"normal"' in modes[1][1]

        door.kill()  # no goodbye: the broker publishes the door's last will
        assert wait_until(lambda: status()["online"] == 0, WAIT_S)
    finally:
        door.close()


# --- housekeeping -----------------------------------------------------------------------------


@pytest.fixture
def quick_housekeeping(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run housekeeping every 50 ms and its presence sweep every 200 ms (1 s and 30 s live)."""
    monkeypatch.setattr(server_module, "HOUSEKEEPING_S", 0.05)
    monkeypatch.setattr(server_module, "PRESENCE_SWEEP_S", 0.2)


def test_a_stay_ends_by_itself_after_the_longest_stay(make_hub, watch, device, quick_housekeeping):
    clock = Clock()
    server = make_hub(clock=clock, presence={"max_stay_h": 1})
    front = device("test-fake-front")
    entry = tap("m-asa", utcnow())
    front.publish(TOPICS.door_event("front"), entry)
    wait_stored(server.store, entry.id)
    watch.wait_occupancy(lambda o: zone_count(o, "campfire") == 1, "campfire at 1")
    assert [s["ended_at"] for s in sessions(server.store, "m-asa")] == [None]

    clock.offset = timedelta(hours=1, seconds=1)  # an hour passes for the server
    assert wait_until(lambda: sessions(server.store, "m-asa")[0]["ended_at"] is not None, WAIT_S), [
        dict(s) for s in sessions(server.store, "m-asa")
    ]
    [session] = sessions(server.store, "m-asa")
    assert session["end_reason"] == "max_stay"
    assert parse_time(session["ended_at"]) == entry.ts + timedelta(hours=1)  # not when noticed
    occupancy = watch.wait_occupancy(lambda o: o.site.count == 0, "the site empty")
    assert zone_count(occupancy, "campfire") == 0


def test_housekeeping_marks_an_enrolment_nobody_tapped_for_as_expired(make_hub, quick_housekeeping):
    server = make_hub()
    waiting = enrolment.start(server.store, "m-asa", "front", ACTOR, timeout_s=0.3)

    def stored_status() -> str:
        row = server.store.query_one("SELECT status FROM enrolments WHERE id = ?", (waiting.id,))
        return str(row[0])

    assert stored_status() == "waiting"
    assert wait_until(lambda: stored_status() == "expired", WAIT_S)


def test_a_zone_added_by_another_process_shows_in_occupancy(make_hub, watch):
    server = make_hub()
    first = watch.wait_occupancy(lambda o: True, "anything")
    assert [z.zone_id for z in first.zones] == ["campfire", "glade"]
    with Store.in_folder(server.config.data_dir) as other:  # as a hubtap command would
        places.add_zone(other, build(ZoneIn, id="attic", name="Attic", capacity=3), ACTOR)
    occupancy = watch.wait_occupancy(
        lambda o: any(z.zone_id == "attic" for z in o.zones), "the new zone"
    )
    attic = next(z for z in occupancy.zones if z.zone_id == "attic")
    assert (attic.count, attic.capacity, attic.level) == (0, 3, "green")
    assert occupancy.site.capacity == 10 + 4 + 3


# --- what the link lets through ---------------------------------------------------------------


def test_every_bad_payload_is_counted_by_the_link_and_none_reaches_the_ingest(make_hub, mosquitto):
    server = make_hub()
    store = server.store
    pending = commands.issue(store, RecordingBus(TOPICS), "front", "unlock", ACTOR)
    pairs = garbage(TOPICS, "front", "lobby", pending.id)
    stats, ingest = server.link.stats, server.ingest.stats
    rejected, received = stats.rejected, ingest.received

    raw = RawClient(mosquitto.port)
    try:
        for topic, payload in pairs:
            raw.publish(topic, payload)
        barrier = tap("m-sigrid", utcnow())
        raw.publish(TOPICS.door_event("front"), DOOR_EVENT.encode(barrier))
    finally:
        raw.close()

    wait_stored(store, barrier.id)
    assert stats.rejected - rejected == len(pairs)  # every one seen and refused ...
    assert ingest.received - received == 1  # ... and only the valid one went on
    assert (stats.handler_errors, ingest.failed_batches, ingest.dropped) == (0, 0, 0)
    assert store.query_one("SELECT count(*) FROM access_events")[0] == 1


# --- batches ------------------------------------------------------------------------------------


def test_a_check_out_written_in_one_batch_with_the_entry_still_checks_out(
    make_hub, watch, device, monkeypatch
):
    """Messages queue while the database is busy and are then written as one batch."""
    server = make_hub()
    store, ingest = server.store, server.ingest
    front, kiosk = device("test-fake-front"), device("test-fake-kiosk")
    batches: list[list[str]] = []
    process = ingest.process

    def recording(items: list[Inbound]) -> BatchResult:
        batches.append([type(item.message).__name__ for item in items])
        return process(items)

    monkeypatch.setattr(ingest, "process", recording)

    # Another writer (a hubtap import beside the server, say) holds the write lock.
    holder = sqlite3.connect(server.config.data_dir / DB_NAME, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        front.publish(TOPICS.door_state("front"), DoorState(lock="locked", acl_version=1))
        assert wait_until(lambda: batches == [["DoorState"]], WAIT_S)  # stuck writing it
        received = ingest.stats.received
        entry = tap("m-asa", utcnow() - timedelta(seconds=30))
        front.publish(TOPICS.door_event("front"), entry)
        assert wait_until(lambda: ingest.stats.received == received + 1, WAIT_S)
        check_out = KioskRequest(action="check_out", credential=credential("m-asa"))
        kiosk.publish(TOPICS.kiosk_request("lobby"), check_out)
        assert wait_until(lambda: ingest.stats.received == received + 2, WAIT_S)
    finally:
        holder.rollback()
        holder.close()

    response = watch.response_to(check_out)
    assert batches == [["DoorState"], ["AccessEvent", "KioskRequest"]]
    assert (response.ok, response.reason) == (True, "checked_out")
    [session] = sessions(store, "m-asa")
    assert (session["start_event"], session["end_reason"], session["end_event"]) == (
        entry.id,
        "kiosk",
        check_out.id,
    )
    watch.wait_occupancy(lambda o: o.site.count == 0, "the site empty")


def test_the_server_deletes_access_events_past_keeping_when_it_starts(make_hub, tmp_path):
    now = utcnow()
    with Store.in_folder(tmp_path / "hub") as store:
        seed(store)
        with store.write() as db:
            for event_id, age in (("old", timedelta(days=181)), ("recent", timedelta(days=179))):
                db.execute(
                    "INSERT INTO access_events (id, ts, door_id, reader_id, granted, reason,"
                    " member_id, received_at) VALUES (?, ?, 'front', 'r1', 1, 'member', 'm-asa',"
                    " ?)",
                    (event_id, now_text(now - age), now_text(now)),
                )
    server = make_hub()  # retention.access_days: 180 by default

    def kept() -> list[str]:
        return [row[0] for row in server.store.query("SELECT id FROM access_events")]

    assert wait_until(lambda: kept() == ["recent"], WAIT_S), kept()
    folded = server.store.query_one("SELECT granted FROM access_hourly WHERE door_id = 'front'")
    assert folded is not None
    assert folded[0] == 1
