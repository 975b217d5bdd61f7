"""Erasure end to end: a running hub on a real Mosquitto; the member is erased from another
connection to the database (as ``hubtap members erase`` does) and leaves every door's list,
the kiosk's directory, every retained topic and every table."""

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from hub_server import doors, guests, kiosks, member_erasure
from hub_server.config import HubConfig
from hub_server.guests import GuestIn
from hub_server.models import KioskIn, build
from hub_server.server import HubServer, hub_link
from hub_server.store import Store
from hublink.credentials import credential_hash
from hublink.messages import AccessEvent, AclSnapshot, KioskDirectory, utcnow
from hublink.topics import Topics
from tests.conftest import SITE
from tests.helpers.brokers import Mosquitto
from tests.helpers.community_data import ACTOR, community
from tests.helpers.door_hardware import SITE_KEY, SITE_KEY_HEX
from tests.helpers.hub_process import WAIT_S, FakeDevice, fetch_retained
from tests.helpers.waiting import wait_until
from tests.test_member_rights import GUEST_UID, MEMBER, UID, add_yrsa, identifiers_in_database

pytestmark = pytest.mark.mosquitto

TOPICS = Topics(SITE)
KIOSK = "entrance"
CARD = credential_hash(SITE_KEY, bytes.fromhex(UID))
GUEST_CARD = credential_hash(SITE_KEY, bytes.fromhex(GUEST_UID))
IDENTIFIERS = {
    "id": MEMBER,
    "first name": "Yrsa",
    "last name": "Quistgaard",
    "email": "yrsa.quistgaard@example.org",
    "card hash": CARD,
}
"""The member's identifiers. Her guest's card is the guest's: its pass (cancelled) is kept
with the stand-in, but it must leave the doors' lists and the directory."""


@pytest.fixture
def hub(mosquitto: Mosquitto, tmp_path: Path) -> Iterator[HubServer]:
    """A running hub whose member Yrsa has a card, a guest with a card today, and a stay."""
    config = HubConfig.model_validate(
        {
            "site": {"id": SITE, "key": SITE_KEY_HEX},
            "data_dir": str(tmp_path / "hub"),
            "mqtt": {"host": "127.0.0.1", "port": mosquitto.port, "reconnect_min_s": 0.1},
            "presence": {"closing_time": ""},
            "lists": {"poll_interval_s": 0.05, "snapshot_interval_s": 0.2},
            "http": {"enabled": False},
        }
    )
    with Store.in_folder(config.data_dir) as store:
        community(store)
        add_yrsa(store)
        kiosks.add(store, build(KioskIn, id=KIOSK, name="Entrance"), ACTOR)
        guest = build(GuestIn, first_name="Kari", host_member_id=MEMBER, credential=GUEST_CARD)
        guests.register(store, guest, actor=ACTOR, source="cli", timezone="UTC", now=utcnow())
        server = HubServer(config, store, hub_link(config))
        try:
            server.start()
            assert server.link.wait_connected(WAIT_S)
            yield server
        finally:
            server.stop()


def snapshot(port: int, door_id: str) -> AclSnapshot:
    found: AclSnapshot = fetch_retained(port, TOPICS, TOPICS.door_acl_snapshot(door_id))
    return found


def directory(port: int) -> KioskDirectory:
    found: KioskDirectory = fetch_retained(port, TOPICS, TOPICS.kiosk_directory(KIOSK))
    return found


def held(port: int) -> set[str]:
    """The cards on any door's retained list or the kiosk's retained directory now."""
    cards_held = {e.credential for e in directory(port).entries}
    for door_id in ("front", "glade", "exit", "side"):
        cards_held |= {e.credential for e in snapshot(port, door_id).entries}
    return cards_held


def retained(port: int, topics: Topics) -> dict[str, bytes]:
    """Every message retained under the site's topics, as a fresh subscriber gets them.

    A marker retained on a topic of its own is subscribed to after the site's filter: the
    broker sends the retained messages of each subscription in turn, so once the marker
    has come, every retained message of the site has."""
    marker = f"test/marker/{uuid.uuid4().hex}"
    got: dict[str, bytes] = {}
    done = threading.Event()

    def on_message(client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        if msg.topic == marker:
            done.set()
        elif msg.retain:
            got[msg.topic] = bytes(msg.payload)

    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=f"test-scan-{marker[-8:]}",
        protocol=MQTTProtocolVersion.MQTTv311,
    )
    client.on_message = on_message
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        client.publish(marker, b"end", qos=1, retain=True).wait_for_publish(WAIT_S)
        client.subscribe(f"{topics.base}/#", qos=1)
        client.subscribe(marker, qos=1)
        assert done.wait(WAIT_S), "the marker never came back"
        client.publish(marker, b"", qos=1, retain=True).wait_for_publish(WAIT_S)
    finally:
        client.disconnect()
        client.loop_stop()
    return got


def test_an_erased_member_leaves_every_door_kiosk_retained_topic_and_table(
    hub: HubServer, mosquitto: Mosquitto, tmp_path: Path
):
    port = mosquitto.port
    door = FakeDevice(tmp_path, port, TOPICS, "test-door-front")
    door.start(WAIT_S)
    try:
        tapped = AccessEvent(
            reader_id="r1",
            credential=CARD,
            granted=True,
            reason="member",
            member_id=MEMBER,
            role="member",
            card_hint=UID[-4:].lower(),
        )
        door.publish(TOPICS.door_event("front"), tapped)
        assert wait_until(
            lambda: hub.store.query_one("SELECT 1 FROM presence WHERE member_id = ?", (MEMBER,)),
            WAIT_S,
        ), "the tap made no stay"
    finally:
        door.close()
    assert wait_until(lambda: {CARD, GUEST_CARD} <= held(port), WAIT_S, interval=0.1)
    scanned = b"".join(retained(port, TOPICS).values())
    assert CARD.encode() in scanned  # the scan sees what it should
    assert b"Yrsa" in scanned

    with Store.in_folder(tmp_path / "hub") as other:  # as `hubtap members erase` would
        result = member_erasure.erase(other, MEMBER, "cli:test", utcnow())
        assert result.counts["credentials.deleted"] == 1

    assert wait_until(lambda: not {CARD, GUEST_CARD} & held(port), WAIT_S, interval=0.1), (
        "the card is still on a retained list or directory"
    )
    left = {
        topic: what
        for topic, payload in retained(port, TOPICS).items()
        for what, needle in (IDENTIFIERS | {"guest's card hash": GUEST_CARD}).items()
        if needle.encode() in payload
    }
    assert left == {}
    assert identifiers_in_database(hub.store, IDENTIFIERS) == []
    assert doors.door_ids(hub.store)  # the hub is still the hub
