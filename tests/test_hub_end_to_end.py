"""The hub end to end: the real ``hubtap server`` with real ``hubtap-door`` processes.

Each test starts a real Mosquitto, the hub server as its own process
(:class:`~tests.helpers.hub_process.HubProcess`) and, where the scenario
needs them, door processes on gpiozero mock pins that read cards from the
nfcpy UDP card emulator. Zones, doors, members and cards are seeded by
calling the services on the hub's database file from the test process, as
a ``hubtap`` command beside the server does: the server notices through its
poll. A watcher link collects what the hub and the doors publish; fake
doors and kiosks (a link with its own outbox, or raw paho for garbage) play
the devices where a scenario needs exact messages.

Every test ends by stopping the hub with SIGTERM and checking that it exits
cleanly without having logged a traceback.
"""

import json
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from hub_server import cards, commands, enrolment, members
from hub_server.models import MemberIn, build
from hub_server.store import parse_time
from hublink.ids import new_id
from hublink.messages import (
    DOOR_EVENT,
    KIOSK_REQUEST,
    AccessEvent,
    Availability,
    CommandResult,
    DoorState,
    DoorTelemetry,
    KioskRequest,
    Message,
    ReaderHealth,
    utcnow,
)
from hublink.topics import Topics
from tests.helpers.brokers import Mosquitto
from tests.helpers.hub_data import ACTOR, UIDS, credential, tap
from tests.helpers.hub_process import WAIT_S, fetch_retained
from tests.helpers.hub_site import Site, hashed, hint, running_site, zone_count
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.mosquitto


ADA_CARD = "04ADA0ADA0AD0A"  # a card nobody holds until it is enrolled
STRANGER = "04DEADBEEF5711"


@pytest.fixture
def site(mosquitto: Mosquitto, tmp_path: Path) -> Iterator[Site]:
    """A seeded hub running against Mosquitto; every test ends with a clean SIGTERM stop."""
    with running_site(mosquitto, tmp_path) as site:
        yield site


# --- 1. enrolment -------------------------------------------------------------------------


def test_a_card_tapped_in_enrol_mode_is_attached_and_then_lets_the_member_in(site):
    store = site.store
    members.add(store, build(MemberIn, id="m-ada", first_name="Ada", last_name="Test"), ACTOR)
    front = site.start_door("front")
    before = front.states()[-1].acl_version
    waiting = enrolment.start(store, "m-ada", "front", ACTOR)

    since = len(site.states.items)
    denied = front.tap(ADA_CARD)
    assert (denied.granted, denied.reason, denied.member_id) == (False, "unknown_credential", None)
    assert denied.credential == hashed(ADA_CARD)

    assert wait_until(lambda: cards.find(store, member_id="m-ada"), WAIT_S), site.hub.log_tail()
    [card] = cards.find(store, member_id="m-ada")
    assert (card.hint, card.hash, card.status) == (hint(ADA_CARD), hashed(ADA_CARD), "active")
    assert enrolment.get(store, waiting.id).status == "done"

    synced = front.wait_state(lambda s: s.acl_version > before, since)  # the list reached the door
    assert synced.acl_version == site.list_version("front")
    granted = front.tap(ADA_CARD)
    assert (granted.granted, granted.reason, granted.member_id) == (True, "member", "m-ada")

    site.wait_stored(denied.id, granted.id)
    rows = store.query(
        "SELECT id, door_id, granted, reason, member_id, card_hint FROM access_events"
        " WHERE card_hint = ? ORDER BY ts",
        (hint(ADA_CARD),),
    )
    assert [tuple(r) for r in rows] == [
        (denied.id, "front", 0, "unknown_credential", None, hint(ADA_CARD)),
        (granted.id, "front", 1, "member", "m-ada", hint(ADA_CARD)),
    ]
    session = site.wait_open_session("m-ada")
    assert (session["zone_id"], session["start_event"]) == ("campfire", granted.id)
    assert parse_time(session["started_at"]) == granted.ts

    occupancy = site.wait_occupancy(lambda o: zone_count(o, "campfire") == 1, "campfire at 1")
    assert (occupancy.site.count, zone_count(occupancy, "glade")) == (1, 0)


# --- 2. revocation ------------------------------------------------------------------------


def test_a_revoked_card_is_refused_at_the_next_tap(site, record_property):
    store = site.store
    front = site.start_door("front")
    assert front.tap(UIDS["m-asa"]).granted
    [card] = cards.find(store, member_id="m-asa")
    before = front.states()[-1].acl_version

    since = len(site.states.items)
    revoked = time.monotonic()
    cards.revoke(store, card.id, ACTOR)
    state = front.wait_state(lambda s: s.acl_version > before, since)
    took = time.monotonic() - revoked
    record_property("revocation_to_door_s", round(took, 4))  # measured, not asserted
    print(f"revocation: revoked in the store to the door's new list in {took * 1000:.0f} ms")
    assert state.acl_version == site.list_version("front")

    event = front.tap(UIDS["m-asa"])
    assert (event.granted, event.reason, event.member_id) == (False, "unknown_credential", None)
    assert front.tap(UIDS["m-bjorn"]).granted  # the others' cards still work

    # A door that starts (or resyncs) now fetches the retained snapshot: not in it either.
    snapshot = site.wait_snapshot("front", lambda s: s.version == state.acl_version)
    listed = {e.credential for e in snapshot.entries}
    assert credential("m-asa") not in listed
    assert {credential("m-bjorn"), credential("m-sigrid")} <= listed


# --- 3. two doors: in and out -------------------------------------------------------------


def test_in_at_one_door_and_out_at_another_moves_the_counts(site):
    front = site.start_door("front")  # direction in, zone campfire
    exit_door = site.start_door("exit")  # direction out
    uid = UIDS["m-bjorn"]

    entry = front.tap(uid)
    assert (entry.granted, entry.member_id) == (True, "m-bjorn")
    occupancy = site.wait_occupancy(lambda o: zone_count(o, "campfire") == 1, "campfire at 1")
    assert (occupancy.site.count, zone_count(occupancy, "glade")) == (1, 0)

    left = exit_door.tap(uid)
    assert (left.granted, left.member_id) == (True, "m-bjorn")
    occupancy = site.wait_occupancy(lambda o: o.site.count == 0, "the site empty")
    assert zone_count(occupancy, "campfire") == 0

    site.wait_stored(entry.id, left.id)
    [session] = site.sessions("m-bjorn")
    assert (
        session["zone_id"],
        session["start_event"],
        session["end_event"],
        session["end_reason"],
    ) == ("campfire", entry.id, left.id, "exit")
    assert (parse_time(session["started_at"]), parse_time(session["ended_at"])) == (
        entry.ts,
        left.ts,
    )


# --- 4. repeats and late events -----------------------------------------------------------


def test_repeated_and_late_events_give_the_sessions_of_in_order_arrival(site):
    fake = site.device("test-fake-doors")
    topics = site.topics
    base = (utcnow() - timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)

    def at(minutes: int) -> datetime:
        return base + timedelta(minutes=minutes)

    def send(door_id: str, event: AccessEvent) -> None:
        fake.publish(topics.door_event(door_id), event)

    # The same event twice (at-least-once delivery): stored once, one stay.
    once = tap("m-sigrid", at(0))
    send("front", once)
    send("front", once)
    barrier = tap(None, at(1), granted=False, credential="ab" * 32)  # behind both copies
    send("front", barrier)
    site.wait_stored(barrier.id)
    assert site.hub.count("access_events", "id = ?", (once.id,)) == 1
    assert site.hub.count("access_events") == 2
    assert [(s["zone_id"], s["start_event"]) for s in site.sessions("m-sigrid")] == [
        ("campfire", once.id)
    ]

    # In at 10:00 (front), on to the glade at 10:10 (a zone reader), out at 10:20 (exit).
    def journey(member_id: str) -> dict[str, tuple[str, AccessEvent]]:
        return {
            "entry": ("front", tap(member_id, at(0))),
            "move": ("glade", tap(member_id, at(10))),
            "exit": ("exit", tap(member_id, at(20))),
        }

    late, in_order = journey("m-asa"), journey("m-bjorn")
    for name in ("exit", "entry", "move"):  # the exit arrives first, the entry before the move
        door_id, event = late[name]
        send(door_id, event)
        site.wait_stored(event.id)  # each in its own batch: every arrival rebuilds
    for name in ("entry", "move", "exit"):
        door_id, event = in_order[name]
        send(door_id, event)
        site.wait_stored(event.id)

    def sessions(member_id: str, events: dict[str, tuple[str, AccessEvent]]) -> list[Any]:
        label = {event.id: name for name, (_, event) in events.items()}
        return [
            (
                s["zone_id"],
                parse_time(s["started_at"]),
                parse_time(s["visit_start"]),
                parse_time(s["ended_at"]),
                s["end_reason"],
                label.get(s["start_event"]),
                label.get(s["end_event"]),
            )
            for s in site.sessions(member_id)
        ]

    expected = [
        ("campfire", at(0), at(0), at(10), "moved", "entry", "move"),
        ("glade", at(10), at(0), at(20), "exit", "move", "exit"),
    ]
    assert sessions("m-bjorn", in_order) == expected
    assert sessions("m-asa", late) == expected


# --- 5. garbage on every topic the hub hears ----------------------------------------------


def envelope(**fields: Any) -> dict[str, Any]:
    """A payload's fields with a fresh envelope (ids never repeat, so dedupe drops nothing).

    Stamped a day ahead: were one taken, the valid messages sent after it (older)
    could not overwrite what it stored, and the checks would see it.
    """
    return {"v": 1, "id": new_id(), "ts": (utcnow() + timedelta(days=1)).isoformat(), **fields}


def encoded(fields: dict[str, Any]) -> bytes:
    return json.dumps(fields).encode()


def garbage(
    topics: Topics, door_id: str, kiosk_id: str, command_id: str
) -> list[tuple[str, bytes]]:
    """``(topic, payload)`` pairs the hub must reject, for every topic it subscribes to.

    Each topic gets payloads that are not JSON, not UTF-8, not an object, lack
    each envelope field, carry an unknown version, are over the size limit, or
    are of the right shape with a wrong kind or wrong types.
    """
    member = {"credential": credential("m-asa"), "member_id": "m-asa"}
    access = {"kind": "access", "reader_id": "main", "granted": True, "reason": "member", **member}
    reader = {"reader_id": "main", "open": True, "errors": 0}
    telemetry = {"uptime_s": 1, "taps": 0, "reader": reader, "outbox_depth": 0, "acl_entries": 0}
    valid = {
        topics.door_event(door_id): access,
        topics.door_command_result(door_id): {"command_id": command_id, "ok": True, "reason": "ok"},
        topics.door_state(door_id): {"lock": "unlocked", "acl_version": 99},
        topics.door_availability(door_id): {"status": "offline"},
        topics.door_telemetry(door_id): telemetry,
        topics.kiosk_request(kiosk_id): {"action": "check_out", "credential": credential("m-asa")},
        topics.kiosk_availability(kiosk_id): {"status": "online"},
        topics.hub_availability(): {"status": "offline"},
    }
    wrong_types: dict[str, list[dict[str, Any]]] = {
        topics.door_event(door_id): [
            {**access, "kind": "teleport"},
            {**access, "kind": None},
            {**access, "granted": "perhaps"},
            {**access, "credential": "not-a-hash"},
            {**access, "member_id": "m asa"},
            {**access, "reason": "Granted!"},
            {"kind": "alarm", "alarm": 5, "active": True},
            {"kind": "mode", "mode": "party", "previous": "normal", "cause": "command"},
            {"kind": "exit", "unlocked_s": -1},
            {"lock": "unlocked", "acl_version": 99},  # a state on the event topic
        ],
        topics.door_command_result(door_id): [
            {"command_id": "not-a-uuid", "ok": True, "reason": "ok"},
            {"command_id": command_id, "ok": "maybe", "reason": "ok"},
            {"command_id": command_id, "ok": True, "reason": "Not A Code"},
            {"command_id": command_id, "ok": True},
            {"command_id": [command_id], "ok": True, "reason": "ok"},
        ],
        topics.door_state(door_id): [
            {"lock": "ajar", "acl_version": 99},
            {"lock": "unlocked", "acl_version": -1},
            {"lock": "unlocked", "acl_version": "ninety-nine"},
            {"lock": "unlocked"},
            {"lock": "unlocked", "acl_version": 99, "alarms": ["Fire!"]},
            access,  # an access event on the state topic
        ],
        topics.door_availability(door_id): [{"status": "maybe"}, {"status": 1}, {}],
        topics.door_telemetry(door_id): [
            {**telemetry, "uptime_s": -1},
            {**telemetry, "reader": None},
            {**telemetry, "taps": "many"},
        ],
        topics.kiosk_request(kiosk_id): [
            {"action": "explode", "credential": credential("m-asa")},
            {"action": "check_out", "credential": "short"},
            {"action": "check_out"},
            {"action": "check_out", "credential": credential("m-asa"), "params": [1, 2]},
        ],
        topics.kiosk_availability(kiosk_id): [{"status": "maybe"}, {"status": None}],
        topics.hub_availability(): [{"status": "maybe"}, {}],
    }
    pairs: list[tuple[str, bytes]] = []
    for topic, fields in valid.items():
        common = [
            b"",
            b"\xff\xfe\x00",
            b"not json",
            b"{",
            b"null",
            b'"a string"',
            b"[]",
            encoded([envelope(**fields)]),  # the right object, in an array
            b"[" * 50_000,  # nested too deep
            b"{}",
            b'{"v": 1, "id": "\xff\xfe", "ts": "x"}',  # not UTF-8 inside
            encoded({k: v for k, v in envelope(**fields).items() if k != "v"}),
            encoded({k: v for k, v in envelope(**fields).items() if k != "id"}),
            encoded({k: v for k, v in envelope(**fields).items() if k != "ts"}),
            encoded(envelope(**fields) | {"v": 2}),
            encoded(envelope(**fields) | {"v": "1"}),
            encoded(envelope(**fields) | {"id": "not-a-uuid"}),
            encoded(envelope(**fields) | {"ts": "2026-11-25T08:30:00"}),  # no UTC offset
            encoded(envelope(**fields) | {"ts": "yesterday"}),
            encoded(envelope(**fields) | {"padding": "x" * 70_000}),  # over the 64 KiB limit
        ]
        pairs += [(topic, payload) for payload in common]
        pairs += [(topic, encoded(envelope(**f))) for f in wrong_types[topic]]
    # An id level the contract does not allow, with a valid payload: never to be taken.
    bad_door = topics.door_event(door_id).replace(f"/{door_id}/", "/x$y/")
    pairs.append((bad_door, encoded(envelope(**access))))
    return pairs


class RawClient:
    """A bare paho client: it can publish anything, anywhere."""

    def __init__(self, port: int, client_id: str = "test-vandal") -> None:
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=MQTTProtocolVersion.MQTTv311
        )
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def publish(self, topic: str, payload: bytes) -> None:
        info = self.client.publish(topic, payload, qos=1, retain=False)
        info.wait_for_publish(WAIT_S)
        assert info.is_published(), f"could not publish on {topic}"

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class RecordingBus:
    """Where ``commands.issue`` sends: here nowhere, so a command stays unanswered."""

    def __init__(self, topics: Topics) -> None:
        self.topics = topics
        self.sent: list[tuple[str, Message]] = []

    def publish(self, topic: str, message: Message) -> bool:
        self.sent.append((topic, message))
        return True


def test_garbage_on_every_subscribed_topic_is_dropped_and_stores_nothing(site):
    store, topics = site.store, site.topics
    pending = commands.issue(store, RecordingBus(topics), "front", "unlock", ACTOR)
    pairs = garbage(topics, "front", "lobby", pending.id)
    assert {t for t, _ in pairs} >= {
        topics.door_event("front"),
        topics.door_command_result("front"),
        topics.door_state("front"),
        topics.door_availability("front"),
        topics.door_telemetry("front"),
        topics.kiosk_request("lobby"),
        topics.kiosk_availability("lobby"),
        topics.hub_availability(),
    }
    raw = RawClient(site.broker.port)
    try:
        for topic, payload in pairs:
            raw.publish(topic, payload)
        # Then valid messages from the same client (so behind all the garbage), one on
        # each topic that stores something; each must be taken.
        entry = tap("m-asa", utcnow())
        raw.publish(topics.door_event("front"), DOOR_EVENT.encode(entry))
        site.wait_stored(entry.id)
        # A valid check-out of the member now present, on a kiosk id the contract forbids.
        bad_kiosk = topics.kiosk_request("lobby").replace("/lobby/", "/x$y/")
        sneaky = KioskRequest(action="check_out", credential=credential("m-asa"))
        raw.publish(bad_kiosk, KIOSK_REQUEST.encode(sneaky))
        state = DoorState(lock="locked", acl_version=7)
        raw.publish(topics.door_state("front"), state.model_dump_json().encode())
        online = Availability(status="online")
        raw.publish(topics.door_availability("front"), online.model_dump_json().encode())
        telemetry = DoorTelemetry(
            uptime_s=3, taps=5, reader=ReaderHealth(reader_id="main", open=True, errors=0),
            outbox_depth=0, acl_entries=3,
        )  # fmt: skip
        raw.publish(topics.door_telemetry("front"), telemetry.model_dump_json().encode())
        answer = CommandResult(command_id=pending.id, ok=True, reason="unlocked", detail="valid")
        raw.publish(topics.door_command_result("front"), answer.model_dump_json().encode())
        request = KioskRequest(action="check_out", credential=hashed(STRANGER))
        raw.publish(topics.kiosk_request("lobby"), KIOSK_REQUEST.encode(request))
    finally:
        raw.close()

    response = site.response_to(request)
    assert (response.ok, response.reason) == (False, "unknown_credential")
    assert wait_until(lambda: commands.get(store, pending.id).answered, WAIT_S)

    def status() -> Any:
        return store.query_one("SELECT * FROM door_status WHERE door_id = 'front'")

    assert wait_until(lambda: status() is not None and status()["telemetry"] is not None, WAIT_S)
    assert site.hub.running, site.hub.log_tail()
    assert [r[0] for r in store.query("SELECT id FROM access_events")] == [entry.id]
    assert site.hub.count("door_log") == 0
    assert site.hub.count("checkouts") == 0
    assert [r.request_id for r in site.responses.messages] == [request.id]  # no other answer
    assert (status()["online"], status()["lock"], status()["acl_version"]) == (1, "locked", 7)
    assert json.loads(status()["telemetry"])["taps"] == 5
    assert [r[0] for r in store.query("SELECT door_id FROM door_status")] == ["front"]
    record = commands.get(store, pending.id)
    assert (record.ok, record.reason, record.detail) == (True, "unlocked", "valid")
    session = site.wait_open_session("m-asa")  # not checked out by the forbidden kiosk id
    assert session["start_event"] == entry.id
    assert site.hub.count("presence") == 1
    assert "rejected a message on" in site.hub.log_text()


# --- 6. the hub restarts ------------------------------------------------------------------


def test_a_restarted_hub_keeps_list_versions_and_stores_what_a_door_sent_meanwhile(site):
    hub = site.hub
    front = site.start_door("front")
    synced = len(site.states.items)  # from here on the door holds the hub's list
    version = site.list_version("front")
    versions = site.list_versions()
    assert set(versions) == {"front", "glade", "exit", "side"}
    first = front.tap(UIDS["m-asa"])
    assert first.granted
    site.wait_stored(first.id)
    known_snapshots = {m.id for m in site.snapshots.messages}

    hub.stop()
    during = front.tap(UIDS["m-asa"])  # decided on the list the door has
    assert (during.granted, during.member_id) == (True, "m-asa")
    # The broker took it (it left the door's outbox) and holds it for the hub's session.
    assert wait_until(lambda: front.process.outbox_rows() == [], WAIT_S)
    assert hub.count("access_events", "id = ?", (during.id,)) == 0

    hub.start(WAIT_S)
    site.wait_stored(during.id)
    republished = site.wait_snapshot("front", lambda s: s.id not in known_snapshots)
    assert republished.version == version  # same content, same version
    assert site.list_versions() == versions
    after = front.tap(UIDS["m-asa"])
    assert after.granted
    site.wait_stored(after.id)
    assert {s.acl_version for s in front.states(synced)} == {version}  # never reloaded
    door_state: DoorState = fetch_retained(
        site.broker.port, site.topics, site.topics.door_state("front")
    )
    assert door_state.acl_version == version

    # A copy of an event the hub stored before it restarted (its memory of ids is gone):
    # the store still keeps it once.
    fake = site.device("test-fake-front")
    fake.publish(site.topics.door_event("front"), first)
    barrier = tap(None, utcnow(), granted=False, credential="ab" * 32)
    fake.publish(site.topics.door_event("front"), barrier)
    site.wait_stored(barrier.id)
    assert hub.count("access_events", "id = ?", (first.id,)) == 1
    assert hub.count("access_events", "member_id = 'm-asa'") == 3
    [session] = site.sessions("m-asa")  # re-taps where they already are: still one stay
    assert (session["start_event"], session["ended_at"]) == (first.id, None)


# --- 7. kiosk check-out -------------------------------------------------------------------


def test_a_kiosk_check_out_ends_the_stay_and_is_answered(site):
    front = site.start_door("front")
    kiosk = site.device("test-kiosk-lobby", site.topics.kiosk_availability("lobby"))
    request_topic = site.topics.kiosk_request("lobby")

    entry = front.tap(UIDS["m-asa"])
    assert entry.granted
    site.wait_open_session("m-asa")
    site.wait_occupancy(lambda o: zone_count(o, "campfire") == 1, "campfire at 1")

    check_out = KioskRequest(action="check_out", credential=credential("m-asa"))
    kiosk.publish(request_topic, check_out)
    response = site.response_to(check_out)
    assert (response.ok, response.reason) == (True, "checked_out")
    assert site.responses.items[-1].ids["kiosk_id"] == "lobby"  # answered on its own topic
    [session] = site.sessions("m-asa")
    assert (session["start_event"], session["end_reason"], session["end_event"]) == (
        entry.id,
        "kiosk",
        check_out.id,
    )
    assert parse_time(session["ended_at"]) == check_out.ts
    occupancy = site.wait_occupancy(lambda o: o.site.count == 0, "the site empty")
    assert zone_count(occupancy, "campfire") == 0

    again = KioskRequest(action="check_out", credential=credential("m-asa"))
    kiosk.publish(request_topic, again)
    assert (site.response_to(again).ok, site.response_to(again).reason) == (
        False,
        "not_checked_in",
    )
    stranger = KioskRequest(action="check_out", credential=hashed(STRANGER))
    kiosk.publish(request_topic, stranger)
    response = site.response_to(stranger)
    assert (response.ok, response.reason) == (False, "unknown_credential")
    assert site.hub.count("checkouts") == 1
    assert len(site.sessions("m-asa")) == 1
