"""Home Assistant MQTT discovery and lock commands: the hub against a real Mosquitto.

A plain paho client plays Home Assistant: it subscribes to ``homeassistant/#``
as Home Assistant does, renders the configs' value templates with Jinja2
against what the hub and its doors really publish, announces ``online`` and
sends lock commands, which must pass through the hub to the door.
"""

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from jinja2.sandbox import ImmutableSandboxedEnvironment

from hub_server import audit, commands, members, places
from hub_server.config import HubConfig
from hub_server.ha_discovery import Inventory, Named, configs
from hub_server.ha_publisher import REFRESH_S, HomeAssistantPublisher, HomeAssistantStats
from hub_server.models import MemberIn, RoomIn, ZoneIn, build
from hub_server.server import HubServer, hub_link
from hub_server.store import Store
from hublink.link import Link
from hublink.messages import (
    DOOR_STATE,
    OCCUPANCY,
    DoorCommand,
    DoorState,
    Fill,
    Occupancy,
    RoomFill,
    ZoneFill,
    utcnow,
)
from hublink.topics import ANY, Topics, ha_lock_command
from tests.conftest import SITE, mqtt_config
from tests.helpers.brokers import Mosquitto
from tests.helpers.collect import Collector
from tests.helpers.door_hardware import SITE_KEY_HEX
from tests.helpers.hub_data import ACTOR, seed, tap
from tests.helpers.hub_process import WAIT_S, FakeDevice, wait_occupancy
from tests.helpers.waiting import wait_until
from tests.test_link_raw import Client, Seen, retained_on

pytestmark = pytest.mark.mosquitto

TOPICS = Topics(SITE)
PREFIX = "homeassistant"
UNLOCK_S = 7.0
SITE_NAME = "Forest path"
NODE = f"hubtap_{SITE}"
ZONES, ROOMS, DOORS = ("campfire", "glade"), ("lookout",), ("exit", "front", "glade", "side")
CONFIG_COUNT = 2 * len(ZONES) + 1 + len(ROOMS) + 2 * len(DOORS)
SECRET_MEMBER = {
    "id": "m-zeb",
    "first_name": "Zebulon",
    "last_name": "Quixotesson",
    "email": "zebulon.quixotesson@example.org",
}
JINJA = ImmutableSandboxedEnvironment()


def render(template: str, payload: bytes) -> str:
    """What Home Assistant makes of ``payload`` with ``template`` (``value_json``: the JSON)."""
    return JINJA.from_string(template).render(value_json=json.loads(payload))


@dataclass
class Hub:
    """A running ``HubServer`` with its Home Assistant publisher."""

    server: HubServer
    ha: HomeAssistantPublisher
    stopped: bool = False

    @property
    def store(self) -> Store:
        return self.server.store

    def stop(self) -> None:
        if not self.stopped:
            self.stopped = True
            self.server.stop()


@pytest.fixture
def run_hub(mosquitto: Mosquitto, tmp_path: Path) -> Iterator[Callable[..., Hub]]:
    """Start a seeded hub on a file database (the same one each time) with Home Assistant."""
    hubs: list[Hub] = []
    store = Store.in_folder(tmp_path / "hub")
    seed(store)
    places.add_room(
        store, build(RoomIn, id="lookout", name="Lookout", zone_id="campfire", capacity=6), ACTOR
    )
    places.add_room(store, build(RoomIn, id="loft", name="Loft", capacity=2), ACTOR)  # no zone
    members.add(store, build(MemberIn, **SECRET_MEMBER), ACTOR)

    def run(**settings: Any) -> Hub:
        config = HubConfig.model_validate(
            {
                "site": {"id": SITE, "key": SITE_KEY_HEX},
                "data_dir": str(tmp_path / "hub"),
                "mqtt": {"host": "127.0.0.1", "port": mosquitto.port, "reconnect_min_s": 0.1},
                "presence": {"closing_time": ""},
                "lists": {"poll_interval_s": 0.05},
                "http": {"enabled": False},
                "home_assistant": {"unlock_s": UNLOCK_S, **settings},
                "spaceapi": {"space": SITE_NAME},
            }
        )
        server = HubServer(config, store, hub_link(config))
        hub = Hub(server, server.home_assistant)
        hubs.append(hub)
        server.start()
        assert server.link.wait_connected(WAIT_S)
        return hub

    yield run
    for hub in hubs:
        hub.stop()
    store.close()


@pytest.fixture
def home_assistant(mosquitto: Mosquitto) -> Iterator[Client]:
    client = Client(mosquitto.port, "home-assistant", f"{PREFIX}/#")
    yield client
    client.close()


@dataclass
class Door:
    """A door played by the test: it publishes its state and receives commands."""

    port: int
    tmp_path: Path
    commands: Collector = field(default_factory=Collector)

    def __post_init__(self) -> None:
        self.device = FakeDevice(self.tmp_path, self.port, TOPICS, "test-door")
        self.device.link.subscribe(TOPICS.door_command(ANY), self.commands)
        self.device.start(WAIT_S)

    def received(self) -> list[tuple[str, DoorCommand]]:
        return [(d.ids["door_id"], d.message) for d in self.commands.items]


@pytest.fixture
def door(mosquitto: Mosquitto, tmp_path: Path) -> Iterator[Door]:
    made = Door(mosquitto.port, tmp_path)
    yield made
    made.device.close()


def latest_configs(seen: list[Seen]) -> dict[str, bytes]:
    """Each config topic's latest payload (empty: removed)."""
    return {s.topic: s.payload for s in seen if s.topic.endswith("/config")}


def wait_configs(ha: Client, count: int) -> dict[str, dict[str, Any]]:
    """The ``count`` configs Home Assistant holds once it holds that many, parsed."""
    assert ha.wait_until(
        lambda seen: sum(1 for p in latest_configs(seen).values() if p) == count
    ), f"not {count} configs: {sorted(latest_configs(ha.items()))}"
    return {t: json.loads(p) for t, p in latest_configs(ha.items()).items() if p}


def object_id(topic: str) -> str:
    return topic.split("/")[3]


# --- what is published -------------------------------------------------------


def test_every_config_has_what_home_assistant_needs(run_hub, home_assistant):
    hub = run_hub()
    found = wait_configs(home_assistant, CONFIG_COUNT)
    assert {object_id(t) for t in found} == {
        *(f"zone_{z}_{kind}" for z in ZONES for kind in ("people", "occupied")),
        "site_people",
        *(f"room_{r}_in_use" for r in ROOMS),  # the loft is in no zone: not in the occupancy
        *(f"door_{d}_{kind}" for d in DOORS for kind in ("lock", "contact")),
    }
    required = {
        "sensor": {"state_topic", "value_template", "state_class", "unit_of_measurement"},
        "binary_sensor": {"state_topic", "value_template", "device_class"},
        "lock": {
            "state_topic",
            "value_template",
            "command_topic",
            "payload_lock",
            "payload_unlock",
            "payload_open",
        },
    }
    hub_online = {"topic": TOPICS.hub_availability(), "value_template": "{{ value_json.status }}"}
    for topic, config in found.items():
        prefix, component, node, _, last = topic.split("/")
        assert (prefix, node, last) == (PREFIX, NODE, "config")
        assert required[component] <= set(config), topic
        assert {"name", "unique_id", "device", "availability", "origin"} <= set(config), topic
        assert config["default_entity_id"].startswith(f"{component}.")
        assert config["device"]["manufacturer"] == "hubtap"
        assert config["device"]["identifiers"], topic
        assert hub_online in config["availability"], topic
        assert config["origin"]["name"] == "hubtap"
    assert len({c["unique_id"] for c in found.values()}) == CONFIG_COUNT
    for door_id in DOORS:
        lock = found[f"{PREFIX}/lock/{NODE}/door_{door_id}_lock/config"]
        contact = found[f"{PREFIX}/binary_sensor/{NODE}/door_{door_id}_contact/config"]
        assert lock["command_topic"] == ha_lock_command(TOPICS, door_id)
        assert lock["state_topic"] == contact["state_topic"] == TOPICS.door_state(door_id)
        assert contact["device_class"] == "door"
        for config in (lock, contact):
            assert config["availability_mode"] == "all"
            assert config["availability"][1]["topic"] == TOPICS.door_availability(door_id)
            assert config["device"]["identifiers"] == [f"{NODE}_door_{door_id}"]
    zone_sensor = found[f"{PREFIX}/sensor/{NODE}/zone_campfire_people/config"]
    assert zone_sensor["state_class"] == "measurement"
    assert zone_sensor["device"]["name"] == hub.ha.site_name
    assert found[f"{PREFIX}/binary_sensor/{NODE}/zone_glade_occupied/config"]["device_class"] == (
        "occupancy"
    )
    rows = hub.store.query("SELECT topic FROM ha_discovery")
    assert {row["topic"] for row in rows} == set(found)


def test_the_templates_read_what_the_hub_and_the_doors_publish(
    run_hub, home_assistant, door, mosquitto
):
    run_hub()
    found = {object_id(t): c for t, c in wait_configs(home_assistant, CONFIG_COUNT).items()}
    watch = Collector()
    watcher = Link(mqtt_config(mosquitto.port), TOPICS, client_id="test-watch")
    watcher.subscribe(TOPICS.occupancy(), watch)
    with watcher:
        assert watcher.wait_connected(WAIT_S)
        for member_id in ("m-asa", "m-bjorn", "m-sigrid"):
            door.device.publish(TOPICS.door_event("front"), tap(member_id, utcnow()))
        wait_occupancy(watch, mosquitto.port, TOPICS, lambda o: o.site.count == 3, "3 in")
    door.device.publish(
        TOPICS.door_state("front"), DoorState(lock="locked", contact="open", acl_version=0)
    )
    door.device.publish(
        TOPICS.door_state("side"), DoorState(lock="unlocked", contact="closed", acl_version=0)
    )
    [occupancy] = retained_on(mosquitto.port, TOPICS.occupancy(), "peek-occupancy")
    [front] = retained_on(mosquitto.port, TOPICS.door_state("front"), "peek-front")
    [side] = retained_on(mosquitto.port, TOPICS.door_state("side"), "peek-side")
    [online] = retained_on(mosquitto.port, TOPICS.hub_availability(), "peek-hub")

    def value(name: str, payload: bytes) -> str:
        return render(found[name]["value_template"], payload)

    assert value("zone_campfire_people", occupancy) == "3"
    assert value("zone_campfire_occupied", occupancy) == "ON"
    assert value("zone_glade_people", occupancy) == "0"
    assert value("zone_glade_occupied", occupancy) == "OFF"
    assert value("site_people", occupancy) == "3"
    assert value("room_lookout_in_use", occupancy) == "OFF"
    assert value("door_front_lock", front) == "LOCKED" == found["door_front_lock"]["state_locked"]
    assert value("door_side_lock", side) == "UNLOCKED" == found["door_side_lock"]["state_unlocked"]
    assert value("door_front_contact", front) == "ON"
    assert value("door_side_contact", side) == "OFF"
    availability = found["door_front_lock"]["availability"][0]
    assert render(availability["value_template"], online) == "online"


def test_home_assistant_online_gets_every_config_again(run_hub, home_assistant):
    hub = run_hub()
    wait_configs(home_assistant, CONFIG_COUNT)
    home_assistant.clear()
    home_assistant.publish(f"{PREFIX}/status", b"online")
    assert home_assistant.wait_until(lambda seen: len(latest_configs(seen)) == CONFIG_COUNT)
    again = [s for s in home_assistant.items() if s.topic.endswith("/config")]
    assert len(again) == CONFIG_COUNT  # each once, live (not retained), none empty
    assert not any(s.retained or not s.payload for s in again)
    assert hub.ha.stats.announcements == 1


def test_no_member_is_named_in_any_config(run_hub, home_assistant):
    hub = run_hub()
    payloads = [json.dumps(c) for c in wait_configs(home_assistant, CONFIG_COUNT).values()]
    people = hub.store.query("SELECT id, first_name, last_name, email FROM members")
    hashes = [row[0] for row in hub.store.query("SELECT hash FROM credentials")]
    secrets = {v for row in people for v in row if v} | set(hashes)
    assert {"Zebulon", "Quixotesson", "m-zeb", "Åsa"} <= secrets
    assert [(s, p) for p in payloads for s in secrets if s in p] == []
    assert "\\u00c5sa" not in " ".join(payloads)


# --- lock commands -----------------------------------------------------------


def test_unlock_from_home_assistant_passes_through_the_hub_to_the_door(
    run_hub, home_assistant, door
):
    hub = run_hub()
    home_assistant.publish(ha_lock_command(TOPICS, "front"), b"UNLOCK")
    assert door.commands.wait_for(1)
    [(door_id, command)] = door.received()
    assert (door_id, command.action, command.duration_s) == ("front", "unlock", UNLOCK_S)
    assert command.issued_by == "home-assistant"
    [record] = commands.recent(hub.store, "front")
    assert (record.id, record.issued_by, record.action) == (command.id, "home-assistant", "unlock")
    entry = audit.find(hub.store, actor="home-assistant").entries[0]
    assert (entry.action, entry.target, entry.detail["command"]) == (
        "door.unlock",
        "front",
        command.id,
    )

    home_assistant.publish(ha_lock_command(TOPICS, "side"), b"OPEN")
    home_assistant.publish(ha_lock_command(TOPICS, "front"), b"lock")
    assert door.commands.wait_for(3)
    assert [(d, c.action, c.duration_s) for d, c in door.received()[1:]] == [
        ("side", "unlock", UNLOCK_S),
        ("front", "normal", None),
    ]
    assert wait_until(lambda: hub.ha.stats.commands == 3, WAIT_S)  # counted once it went out


def test_bad_lock_commands_send_nothing_and_the_hub_goes_on(run_hub, home_assistant, door):
    stale = ha_lock_command(TOPICS, "front")
    home_assistant.publish(stale, b"UNLOCK", retain=True)  # the hub gets it retained on start
    hub = run_hub()
    door.device.publish(
        TOPICS.door_state("glade"), DoorState(lock="locked", mode="lockdown", acl_version=0)
    )
    assert wait_until(
        lambda: hub.store.query_one("SELECT 1 FROM door_status WHERE mode = 'lockdown'"), WAIT_S
    )
    home_assistant.publish(ha_lock_command(TOPICS, "front"), b"DANCE")
    home_assistant.publish(ha_lock_command(TOPICS, "front"), b"UNLOCK" + b" " * 100)  # oversize
    home_assistant.publish(ha_lock_command(TOPICS, "nodoor"), b"UNLOCK")  # no such door
    home_assistant.publish(ha_lock_command(TOPICS, "glade"), b"LOCK")  # would end the lockdown
    home_assistant.publish(f"{PREFIX}/status", b"\xff garbage")
    home_assistant.publish(ha_lock_command(TOPICS, "side"), b"UNLOCK")  # the last: it works
    assert door.commands.wait_for(1)
    assert [(d, c.action) for d, c in door.received()] == [("side", "unlock")]
    assert wait_until(lambda: hub.ha.stats.commands == 1, WAIT_S)  # counted once it went out
    assert (hub.ha.stats.rejected, hub.ha.stats.refused) == (4, 2)
    assert [r.door_id for r in commands.recent(hub.store)] == ["side"]
    assert hub.server.link.stats.handler_errors == 0
    home_assistant.publish(stale, b"", retain=True)  # clean up


# --- removal ------------------------------------------------------------------


def test_a_removed_zone_or_door_loses_its_entities(run_hub, home_assistant, mosquitto):
    hub = run_hub()
    wait_configs(home_assistant, CONFIG_COUNT)
    places.add_zone(hub.store, build(ZoneIn, id="oasis", name="Oasis", capacity=3), ACTOR)
    oasis = f"{PREFIX}/sensor/{NODE}/zone_oasis_people/config"
    found = wait_configs(home_assistant, CONFIG_COUNT + 2)
    assert found[oasis]["name"] == "Oasis people"

    with hub.store.write() as db:
        db.execute("DELETE FROM zones WHERE id = 'oasis'")
    assert home_assistant.wait_until(lambda seen: latest_configs(seen).get(oasis) == b"")
    assert retained_on(mosquitto.port, oasis, "late-1") == []
    assert wait_configs(home_assistant, CONFIG_COUNT)

    hub.stop()  # a door removed while the hub is away
    with hub.store.write() as db:
        db.execute("DELETE FROM doors WHERE id = 'exit'")
    home_assistant.clear()
    hub = run_hub()
    gone = {
        f"{PREFIX}/lock/{NODE}/door_exit_lock/config",
        f"{PREFIX}/binary_sensor/{NODE}/door_exit_contact/config",
    }
    assert home_assistant.wait_until(
        lambda seen: all(latest_configs(seen).get(t) == b"" for t in gone)
    )
    for topic in gone:
        assert retained_on(mosquitto.port, topic, f"late-{object_id(topic)}") == []
    recorded = {row[0] for row in hub.store.query("SELECT topic FROM ha_discovery")}
    assert len(recorded) == CONFIG_COUNT - 2
    assert not recorded & (gone | {oasis})


def test_a_renamed_door_is_published_again(run_hub, home_assistant):
    hub = run_hub()
    wait_configs(home_assistant, CONFIG_COUNT)
    with hub.store.write() as db:
        db.execute("UPDATE doors SET name = 'Front door' WHERE id = 'front'")
    # A door's name bumps no counter: the next refresh finds it. Move the publisher's clock.
    hub.ha.monotonic = lambda: time.monotonic() + REFRESH_S
    topic = f"{PREFIX}/lock/{NODE}/door_front_lock/config"
    assert home_assistant.wait_until(
        lambda seen: b'"name":"Front door"' in latest_configs(seen).get(topic, b"")
    )


def test_turned_off_it_removes_what_it_published_and_listens_to_nothing(run_hub, home_assistant):
    hub = run_hub()
    published = set(wait_configs(home_assistant, CONFIG_COUNT))
    hub.stop()
    home_assistant.clear()
    hub = run_hub(enabled=False)
    assert home_assistant.wait_until(
        lambda seen: {t for t, p in latest_configs(seen).items() if p == b""} == published
    )
    assert hub.store.query("SELECT * FROM ha_discovery") == []
    assert hub.ha.stats.published == 0

    def contact_is(contact: str) -> bool:
        row = hub.store.query_one("SELECT contact FROM door_status WHERE door_id = 'front'")
        return row is not None and row[0] == contact

    def state(contact: str) -> bytes:
        return DOOR_STATE.encode(DoorState(lock="locked", contact=contact, acl_version=0))

    home_assistant.publish(ha_lock_command(TOPICS, "front"), b"UNLOCK")
    home_assistant.publish(ha_lock_command(TOPICS, "front"), b"DANCE")
    home_assistant.publish(f"{PREFIX}/status", b"online")
    home_assistant.publish(TOPICS.door_state("front"), state("open"))  # behind them, heard
    assert wait_until(lambda: contact_is("open"), WAIT_S)
    # The broker may still deliver them (the hub's session is persistent and was subscribed);
    # nothing here takes them.
    assert hub.ha.stats == HomeAssistantStats(removed=CONFIG_COUNT)
    assert commands.recent(hub.store) == []


# --- the configs alone ----------------------------------------------------------


def inventory() -> Inventory:
    return Inventory(
        SITE,
        SITE_NAME,
        zones=(Named("campfire", "Campfire"),),
        rooms=(Named("lookout", "Lookout"),),
        doors=(Named("front", "Front"),),
    )


def test_templates_say_unknown_for_what_the_message_does_not_hold():
    found = {object_id(t): json.loads(p) for t, p in configs(inventory(), TOPICS, PREFIX).items()}
    now = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    booked = Occupancy(
        site=Fill(count=0, capacity=10, level="green"),
        rooms=(
            RoomFill(
                room_id="lookout",
                zone_id="campfire",
                name="Lookout",
                count=0,
                capacity=6,
                level="green",
                booked_until=now,
            ),
        ),
    )

    def zone_of(count: int) -> bytes:
        zone = ZoneFill(
            zone_id="campfire", name="Campfire", count=count, capacity=10, level="green"
        )
        site = Fill(count=count, capacity=10, level="green")
        return OCCUPANCY.encode(Occupancy(site=site, zones=(zone,)))

    def value(name: str, payload: bytes) -> str:
        return render(found[name]["value_template"], payload)

    assert value("room_lookout_in_use", OCCUPANCY.encode(booked)) == "ON"  # booked, nobody in
    assert value("zone_campfire_people", OCCUPANCY.encode(booked)) == "None"  # not listed
    assert value("zone_campfire_occupied", OCCUPANCY.encode(booked)) == "None"
    assert value("room_lookout_in_use", zone_of(0)) == "None"
    assert value("zone_campfire_people", zone_of(0)) == "0"
    assert value("zone_campfire_occupied", zone_of(0)) == "OFF"
    assert value("zone_campfire_occupied", zone_of(1)) == "ON"
    unknown = DOOR_STATE.encode(DoorState(lock="locked", contact="unknown", acl_version=0))
    assert value("door_front_contact", unknown) == "None"


def test_configs_are_the_same_bytes_for_the_same_places():
    assert configs(inventory(), TOPICS, PREFIX) == configs(inventory(), TOPICS, PREFIX)
    moved = configs(inventory(), TOPICS, "ha/discovery")
    assert all(t.startswith("ha/discovery/") for t in moved)


def test_a_new_prefix_clears_the_configs_under_the_old_one(run_hub, home_assistant):
    hub = run_hub()
    old = set(wait_configs(home_assistant, CONFIG_COUNT))
    hub.stop()
    hub = run_hub(prefix="ha/elsewhere")
    assert home_assistant.wait_until(
        lambda seen: {t for t, p in latest_configs(seen).items() if p == b""} == old
    )
    recorded = [row[0] for row in hub.store.query("SELECT topic FROM ha_discovery")]
    assert len(recorded) == CONFIG_COUNT
    assert all(t.startswith("ha/elsewhere/") for t in recorded)
