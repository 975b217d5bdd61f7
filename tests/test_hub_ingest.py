"""Ingest: door events, state and kiosk requests into the store, idempotent and order-proof."""

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest

from hub_server import enrolment, presence
from hub_server.config import HubConfig
from hub_server.ingest import Inbound, Ingest
from hub_server.store import Store
from hublink.messages import (
    AlarmEvent,
    Availability,
    CommandResult,
    DoorState,
    DoorTelemetry,
    KioskRequest,
    ModeEvent,
    ReaderHealth,
)
from tests.helpers.hub_data import credential, seed, tap

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
CONFIG = HubConfig.model_validate({"site": {"id": "s"}, "hub": {"timezone": "Europe/Stockholm"}})


@pytest.fixture
def store():
    with Store.memory() as store:
        yield seed(store)


@pytest.fixture
def ingest(store):
    return Ingest(store, presence.rules_from(CONFIG), clock=lambda: NOW + timedelta(hours=3))


def at(minutes: float) -> datetime:
    return NOW + timedelta(minutes=minutes)


def door(door_id: str, message) -> Inbound:
    return Inbound("door", door_id, message)


def sessions(store: Store, member_id: str = "m-asa"):
    return [
        (s.zone_id, s.started_at, s.ended_at, s.end_reason)
        for s in reversed(presence.history(store, member_id))
    ]


def count(store: Store, table: str) -> int:
    return store.query_one(f"SELECT count(*) FROM {table}")[0]


def test_an_access_event_is_stored_once_however_often_it_arrives(store, ingest):
    event = tap("m-asa", at(0))
    first = ingest.process([door("front", event), door("front", event)])
    again = ingest.process([door("front", event)])
    assert (first.stored, first.duplicates, again.stored, again.duplicates) == (1, 1, 0, 1)
    row = store.query_one("SELECT * FROM access_events")
    assert (row["id"], row["door_id"], row["member_id"], row["granted"]) == (
        event.id, "front", "m-asa", 1,
    )  # fmt: skip
    assert count(store, "presence") == 1


def test_a_granted_tap_at_an_in_door_makes_the_member_present_in_its_zone(store, ingest):
    result = ingest.process([door("front", tap("m-asa", at(0)))])
    assert result.presence_changed
    assert presence.counts(store) == presence.Counts(1, {"campfire": 1}, {})


def test_a_denied_tap_changes_no_presence(store, ingest):
    result = ingest.process([door("front", tap("m-asa", at(0), granted=False))])
    assert not result.presence_changed
    assert presence.counts(store).site == 0


def test_events_arriving_out_of_order_give_the_same_sessions_as_in_order(store):
    events = [
        door("front", tap("m-asa", at(0))),
        door("glade", tap("m-asa", at(10))),
        door("exit", tap("m-asa", at(20))),
        door("side", tap("m-asa", at(30))),
    ]
    rules = presence.rules_from(CONFIG)
    with Store.memory() as other:
        seed(other)
        in_order = Ingest(other, rules, clock=lambda: at(60))
        for event in events:
            in_order.process([event])
        expected = sessions(other)
    late = Ingest(store, rules, clock=lambda: at(60))
    for event in (events[2], events[3], events[0], events[1]):
        late.process([event])
    assert sessions(store) == expected
    assert [s[0] for s in expected] == ["campfire", "glade", "campfire"]


def test_a_late_event_inside_an_earlier_stay_rewrites_only_that_stretch(store, ingest):
    ingest.process([door("front", tap("m-asa", at(0))), door("exit", tap("m-asa", at(60)))])
    ingest.process([door("front", tap("m-asa", at(120)))])
    ingest.process([door("glade", tap("m-asa", at(30)))])  # a zone reader that was offline
    assert [(s[0], s[3]) for s in sessions(store)] == [
        ("campfire", "moved"), ("glade", "exit"), ("campfire", None),
    ]  # fmt: skip


def test_an_event_from_an_unknown_door_is_stored_but_moves_nobody(store, ingest):
    result = ingest.process([door("nowhere", tap("m-asa", at(0)))])
    assert result.stored == 1
    assert presence.counts(store).site == 0


def test_door_state_is_kept_only_when_newer(store, ingest):
    newer = DoorState(
        ts=at(5), lock="unlocked", contact="open", acl_version=7, alarms=("held_open",)
    )
    older = DoorState(ts=at(1), lock="locked", contact="closed", acl_version=6)
    ingest.process([door("front", newer), door("front", older)])
    row = store.query_one("SELECT * FROM door_status WHERE door_id = 'front'")
    assert (row["lock"], row["contact"], row["acl_version"]) == ("unlocked", "open", 7)
    assert json.loads(row["alarms"]) == ["held_open"]


def test_availability_and_telemetry_are_recorded_per_door(store, ingest):
    telemetry = DoorTelemetry(
        ts=at(2), uptime_s=5, taps=3, reader=ReaderHealth(reader_id="r1", open=True, errors=0),
        outbox_depth=0, acl_entries=3,
    )  # fmt: skip
    ingest.process([
        door("front", Availability(ts=at(1), status="online")),
        door("front", telemetry),
    ])  # fmt: skip
    row = store.query_one("SELECT * FROM door_status WHERE door_id = 'front'")
    assert row["online"] == 1
    # a last will is stamped when it was registered, before the "online" it follows
    ingest.process([door("front", Availability(ts=at(0), status="offline"))])
    row = store.query_one("SELECT * FROM door_status WHERE door_id = 'front'")
    assert row["online"] == 0
    assert json.loads(row["telemetry"])["taps"] == 3


def test_alarms_and_mode_changes_go_to_the_door_log_once(store, ingest):
    alarm = AlarmEvent(ts=at(1), alarm="forced_open", active=True)
    mode = ModeEvent(ts=at(2), mode="lockdown", previous="normal", cause="command")
    result = ingest.process([door("front", alarm), door("front", mode), door("front", alarm)])
    assert (result.stored, result.duplicates) == (2, 1)
    kinds = [row["kind"] for row in store.query("SELECT kind FROM door_log ORDER BY ts")]
    assert kinds == ["alarm", "mode"]


def test_a_command_result_is_recorded_against_its_command_once(store, ingest):
    with store.write() as db:
        db.execute(
            "INSERT INTO door_commands (id, door_id, action, issued_by, issued_at, expires_at)"
            " VALUES ('0192f000-0000-7000-8000-000000000001', 'front', 'unlock', 't', 'x', 'y')"
        )
    ok = CommandResult(
        command_id="0192f000-0000-7000-8000-000000000001", ok=True, reason="unlocked"
    )
    late = CommandResult(command_id=ok.command_id, ok=False, reason="expired")
    ingest.process([door("front", ok), door("front", late), door("side", late)])
    row = store.query_one("SELECT ok, reason FROM door_commands")
    assert (row["ok"], row["reason"]) == (1, "unlocked")


def test_kiosk_check_out_ends_the_stay_and_answers(store, ingest):
    ingest.process([door("front", tap("m-asa", at(0)))])
    request = KioskRequest(ts=at(30), action="check_out", credential=credential("m-asa"))
    first = ingest.process([Inbound("kiosk", "entrance", request)])
    again = ingest.process([Inbound("kiosk", "entrance", KioskRequest(
        ts=at(31), action="check_out", credential=credential("m-asa")))])  # fmt: skip
    assert [(k, r.ok, r.reason, r.request_id) for k, r in first.responses] == [
        ("entrance", True, "checked_out", request.id)
    ]
    assert [(r.ok, r.reason) for _, r in again.responses] == [(False, "not_checked_in")]
    redelivered = ingest.process([Inbound("kiosk", "entrance", request)])  # after a restart
    assert [(r.ok, r.reason) for _, r in redelivered.responses] == [(True, "checked_out")]
    assert sessions(store)[-1][3] == "kiosk"
    assert presence.counts(store).site == 0


def test_kiosk_check_out_with_an_unknown_card_says_so(store, ingest):
    request = KioskRequest(ts=at(0), action="check_out", credential="ab" * 32)
    result = ingest.process([Inbound("kiosk", "entrance", request)])
    assert [(r.ok, r.reason) for _, r in result.responses] == [(False, "unknown_credential")]


def test_an_unreadable_kiosk_request_is_answered_and_costs_its_batch_nothing(store, ingest):
    request = KioskRequest(ts=at(0), action="booking", credential=credential("m-asa"))
    result = ingest.process(
        [Inbound("kiosk", "entrance", request), door("front", tap("m-asa", at(1)))]
    )
    assert [(r.request_id, r.ok, r.reason) for _, r in result.responses] == [
        (request.id, False, "invalid_request")
    ]
    assert result.stored == 1
    assert presence.is_present(store, "m-asa")


def test_an_unknown_card_at_a_door_in_enrol_mode_is_attached_to_the_member(store):
    waiting = enrolment.start(store, "m-bjorn", "front", "test", timeout_s=60)
    ingest = Ingest(store, presence.rules_from(CONFIG))
    unknown = tap(None, waiting.expires_at - timedelta(seconds=30), granted=False,
                  credential="cd" * 32, card_hint="beef")  # fmt: skip
    elsewhere = tap(None, unknown.ts, granted=False, credential="ef" * 32, card_hint="f00d")
    result = ingest.process([door("glade", elsewhere), door("front", unknown)])
    assert [(e.member_id, e.hint, e.status) for e in result.enrolled] == [
        ("m-bjorn", "beef", "done")
    ]
    row = store.query_one("SELECT member_id, hint FROM credentials WHERE hash = ?", ("cd" * 32,))
    assert (row["member_id"], row["hint"]) == ("m-bjorn", "beef")
    assert enrolment.get(store, waiting.id).status == "done"
    assert store.query_one("SELECT 1 FROM credentials WHERE hash = ?", ("ef" * 32,)) is None


def test_a_bad_message_in_a_batch_costs_only_itself(store, ingest, monkeypatch):
    good = tap("m-asa", at(0))
    poison = tap("m-bjorn", at(1))
    original = Ingest._access

    def explode(self, db, door_id, event, *rest):
        if event.id == poison.id:
            raise RuntimeError("boom")
        return original(self, db, door_id, event, *rest)

    monkeypatch.setattr(Ingest, "_access", explode)
    done = threading.Event()
    ingest.on_batch = lambda result: done.set()
    ingest.start()
    try:
        ingest.put(door("front", good))
        ingest.put(door("front", poison))
        assert ingest.wait_idle(10)
    finally:
        ingest.stop()
    assert done.is_set()
    assert [row["id"] for row in store.query("SELECT id FROM access_events")] == [good.id]
    assert ingest.stats.dropped == 1


def test_stop_writes_everything_already_queued(store, ingest):
    events = [tap("m-asa", at(n)) for n in range(500)]
    ingest.start()
    for event in events:
        ingest.put(door("front", event))
    ingest.stop()
    assert count(store, "access_events") == 500
    assert ingest.stats.stored == 500
