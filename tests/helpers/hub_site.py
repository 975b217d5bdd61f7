"""A running hub for end-to-end tests: Mosquitto, ``hubtap server``, door processes, a watcher.

:func:`running_site` starts a seeded hub (see ``tests/helpers/hub_data.py``)
as its own process; :meth:`Site.start_door` adds real ``hubtap-door``
processes on mock pins reading the nfcpy card emulator. The watcher link
collects what the hub and the doors publish.
"""

import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hardware.emulator import CardEmulator
from hub_server.demo import free_port
from hub_server.store import Store
from hublink.credentials import credential_hash
from hublink.link import Delivery, Link
from hublink.messages import (
    AccessEvent,
    AclSnapshot,
    DoorState,
    KioskRequest,
    KioskResponse,
    Occupancy,
    utcnow,
)
from hublink.topics import ANY, Topics
from tests.conftest import SITE, mqtt_config
from tests.helpers.brokers import Mosquitto
from tests.helpers.collect import Collector
from tests.helpers.door_hardware import SITE_KEY
from tests.helpers.door_process import DoorProcess
from tests.helpers.hub_data import seed
from tests.helpers.hub_process import WAIT_S, FakeDevice, HubProcess, wait_occupancy
from tests.helpers.waiting import wait_until


def hint(uid: str) -> str:
    return uid[-4:].lower()


def hashed(uid: str) -> str:
    return credential_hash(SITE_KEY, bytes.fromhex(uid))


def zone_count(occupancy: Occupancy, zone_id: str) -> int:
    return next(z.count for z in occupancy.zones if z.zone_id == zone_id)


@dataclass
class DoorRig:
    """A ``hubtap-door`` process and the card emulator it reads."""

    id: str
    process: DoorProcess
    emulator: CardEmulator
    site: "Site"

    def states(self, since: int = 0) -> list[DoorState]:
        return [d.message for d in self.site.states.items[since:] if d.ids["door_id"] == self.id]

    def wait_state(self, check: Callable[[DoorState], bool], since: int = 0) -> DoorState:
        """The first state of this door from index ``since`` of all states that passes ``check``."""

        def found(items: list[Delivery[Any]]) -> bool:
            return any(d.ids["door_id"] == self.id and check(d.message) for d in items[since:])

        assert self.site.states.wait_until(found, WAIT_S), (
            f"no such state of door {self.id}; states: {[s.model_dump() for s in self.states()]}"
        )
        return next(s for s in self.states(since) if check(s))

    def tap(self, uid: str) -> AccessEvent:
        """Tap a card and return the access event the door sent for it."""
        since = len(self.site.events.items)

        def decided() -> AccessEvent | None:
            return next(
                (
                    d.message
                    for d in self.site.events.items[since:]
                    if d.ids["door_id"] == self.id
                    and isinstance(d.message, AccessEvent)
                    and d.message.card_hint == hint(uid)
                ),
                None,
            )

        with self.emulator.holding(uid):
            assert wait_until(decided, WAIT_S, interval=0.02), (
                f"door {self.id} sent no event for card {uid}:\n{self.process.log_text()[-3000:]}"
            )
        event = decided()
        assert event is not None
        return event


@dataclass
class Site:
    """Mosquitto, the hub process, door processes, and a watcher collecting the bus."""

    broker: Mosquitto
    hub: HubProcess
    workdir: Path
    topics: Topics
    watcher: Link
    events: Collector = field(default_factory=Collector)
    states: Collector = field(default_factory=Collector)
    availability: Collector = field(default_factory=Collector)
    snapshots: Collector = field(default_factory=Collector)
    occupancy: Collector = field(default_factory=Collector)
    responses: Collector = field(default_factory=Collector)
    doors: list[DoorRig] = field(default_factory=list)
    devices: list[FakeDevice] = field(default_factory=list)

    @property
    def store(self) -> Store:
        return self.hub.store

    # --- devices -----------------------------------------------------------------

    def start_door(self, door_id: str) -> DoorRig:
        """Start a door process; returns once it holds the list the hub published for it."""
        reader_port = free_port(kind=socket.SOCK_DGRAM)
        workdir = self.workdir / f"door-{door_id}"
        workdir.mkdir()
        process = DoorProcess(
            workdir,
            broker_port=self.broker.port,
            reader_port=reader_port,
            door_id=door_id,
            retap_gap_s=0.3,
        )
        rig = DoorRig(door_id, process, CardEmulator(port=reader_port), self)
        self.doors.append(rig)
        started = utcnow()
        process.start()

        def online(items: list[Delivery[Any]]) -> bool:
            return any(
                d.ids["door_id"] == door_id
                and d.message.status == "online"
                and d.message.ts >= started
                for d in items
            )

        assert self.availability.wait_until(online, WAIT_S), process.log_text()
        version = self.list_version(door_id)
        rig.wait_state(lambda s: s.acl_version == version)
        return rig

    def device(self, client_id: str, availability_topic: str | None = None) -> FakeDevice:
        """A fake door or kiosk (a link with an outbox), connected."""
        device = FakeDevice(
            self.workdir, self.broker.port, self.topics, client_id, availability_topic
        )
        self.devices.append(device)
        return device.start(WAIT_S)

    # --- the hub's store ---------------------------------------------------------

    def list_version(self, door_id: str) -> int:
        row = self.store.query_one("SELECT version FROM door_lists WHERE door_id = ?", (door_id,))
        assert row is not None, f"the hub recorded no list for door {door_id}"
        return int(row[0])

    def list_versions(self) -> dict[str, int]:
        return {r[0]: r[1] for r in self.store.query("SELECT door_id, version FROM door_lists")}

    def wait_stored(self, *event_ids: str) -> None:
        """Wait until the hub has stored every one of these access events."""
        marks = ",".join("?" * len(event_ids))

        def stored() -> bool:
            sql = f"id IN ({marks})"
            return self.hub.count("access_events", sql, tuple(event_ids)) == len(event_ids)

        assert wait_until(stored, WAIT_S, interval=0.02), (
            f"the hub did not store {event_ids}:\n{self.hub.log_tail()}"
        )

    def sessions(self, member_id: str) -> list[Any]:
        return self.store.query(
            "SELECT * FROM presence WHERE member_id = ? ORDER BY started_at", (member_id,)
        )

    def wait_open_session(self, member_id: str) -> Any:
        def open_session() -> Any:
            return next((s for s in self.sessions(member_id) if s["ended_at"] is None), None)

        assert wait_until(open_session, WAIT_S, interval=0.02), (
            f"{member_id} is not present: {[dict(s) for s in self.sessions(member_id)]}"
        )
        return open_session()

    # --- what the hub publishes ----------------------------------------------------

    def wait_occupancy(self, check: Callable[[Occupancy], bool], what: str) -> Occupancy:
        """The latest occupancy once it passes ``check``; it is then also the retained one."""
        return wait_occupancy(self.occupancy, self.broker.port, self.topics, check, what)

    def wait_snapshot(self, door_id: str, check: Callable[[AclSnapshot], bool]) -> AclSnapshot:
        def found(items: list[Delivery[Any]]) -> bool:
            return any(d.ids["door_id"] == door_id and check(d.message) for d in items)

        assert self.snapshots.wait_until(found, WAIT_S), (
            f"no such snapshot for {door_id}: "
            f"{[(m.version, m.id) for m in self.snapshots.messages if m.door_id == door_id]}"
        )
        snapshots: list[AclSnapshot] = self.snapshots.messages
        return next(m for m in snapshots if m.door_id == door_id and check(m))

    def response_to(self, request: KioskRequest) -> KioskResponse:
        def answered(items: list[Delivery[Any]]) -> bool:
            return any(d.message.request_id == request.id for d in items)

        assert self.responses.wait_until(answered, WAIT_S), (
            f"no answer to kiosk request {request.id}:\n{self.hub.log_tail()}"
        )
        responses: list[KioskResponse] = self.responses.messages
        return next(m for m in responses if m.request_id == request.id)


@contextmanager
def running_site(mosquitto: Mosquitto, workdir: Path, **hub_options: Any) -> Iterator[Site]:
    """A seeded hub running against ``mosquitto``; stopped (cleanly, checked) at the end."""
    topics = Topics(SITE)
    hub = HubProcess(workdir / "hub", broker_port=mosquitto.port, **hub_options)
    seed(hub.store)
    watcher = Link(mqtt_config(mosquitto.port), topics, client_id="test-watcher")
    site = Site(mosquitto, hub, workdir, topics, watcher)
    watcher.subscribe(topics.door_event(ANY), site.events)
    watcher.subscribe(topics.door_state(ANY), site.states)
    watcher.subscribe(topics.door_availability(ANY), site.availability)
    watcher.subscribe(topics.door_acl_snapshot(ANY), site.snapshots)
    watcher.subscribe(topics.occupancy(), site.occupancy)
    watcher.subscribe(topics.kiosk_response(ANY), site.responses)
    try:
        watcher.start()
        assert watcher.wait_connected(WAIT_S)
        hub.start(WAIT_S)
        yield site
        if hub.running:
            hub.stop()  # a clean exit on SIGTERM, no traceback logged
    finally:
        hub.close()
        for door in site.doors:
            door.process.close()
        for device in site.devices:
            device.close()
        watcher.stop()
