"""The door controller on mock pins, a real replica and a real outbox (no broker).

Events are read back from the outbox, where the link keeps them until a
broker takes them; time is driven by hand where alarms and modes depend on it.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from door import controller as controller_module
from door.config import DoorConfig
from door.controller import LARGE_PAYLOAD, DoorController, peek_version
from door.decision import Mode
from door.replica import Replica
from door.saved_state import SavedState
from hardware.build import DoorHardware, open_door_hardware
from hardware.errors import LockError
from hardware.taps import CardKind, CardTap
from hublink.config import load_config
from hublink.credentials import credential_hash
from hublink.link import Delivery, Link
from hublink.messages import (
    ACL_SNAPSHOT,
    DOOR_EVENT,
    AccessEvent,
    AclDelta,
    AclEntry,
    AclGrant,
    AclPolicy,
    AclSnapshot,
    AlarmEvent,
    CommandResult,
    DoorCommand,
    ExitEvent,
    ModeEvent,
    ScheduleSpec,
)
from hublink.outbox import Outbox
from hublink.topics import Topics
from tests.conftest import mqtt_config
from tests.helpers.door_hardware import MOCK_PINS_TOML, SITE_KEY, SITE_KEY_TOML
from tests.helpers.waiting import wait_until

# Wednesday 2026-11-25, 09:30 in Stockholm.
NOW = datetime(2026, 11, 25, 8, 30, tzinfo=UTC)
MEMBER, GUEST, ADMIN, NIGHT_OWL, STRANGER = (
    bytes.fromhex(h)
    for h in ("04A1B2C3D4E5F6", "04112233445566", "0A0B0C0D", "04C0FFEE", "DEADBEEF")
)
LOCK_PIN, CONTACT_PIN, EXIT_PIN, GREEN_PIN, RED_PIN = 17, 27, 22, 5, 6
POLICY = AclPolicy(
    timezone="Europe/Stockholm",
    schedules=(
        ScheduleSpec(id="office", weekly={d: ("08:00-18:00",) for d in ("mon", "tue", "wed")}),
        ScheduleSpec(id="night", weekly={"wed": ("22:00-24:00",)}),
    ),
    tiers={"resident": None, "flex": "office", "nights": "night"},
)


def entry(uid: bytes, member_id: str, **kw: Any) -> AclEntry:
    return AclEntry(credential=credential_hash(SITE_KEY, uid), member_id=member_id, **kw)


def snapshot(version: int = 1, policy: AclPolicy = POLICY, *extra: AclEntry) -> AclSnapshot:
    return AclSnapshot(
        door_id="front",
        version=version,
        policy=policy,
        entries=(
            entry(MEMBER, "m-astrid", tier="flex"),
            entry(GUEST, "g-bo", role="guest", host_member_id="m-astrid",
                  valid_until=NOW + timedelta(hours=10)),
            entry(ADMIN, "m-admin", role="admin"),
            entry(NIGHT_OWL, "m-uggla", tier="nights"),
            *extra,
        ),
    )  # fmt: skip


@dataclass
class Clock:
    """Wall and monotonic time, moved by hand."""

    now: datetime = NOW
    mono: float = 1000.0

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
        self.mono += seconds


@dataclass
class Door:
    controller: DoorController
    hardware: DoorHardware
    outbox: Outbox
    replica: Replica
    clock: Clock
    link: Link
    taps: list[CardTap] = field(default_factory=list)

    def tap(self, uid: bytes, reader: str = "main") -> AccessEvent:
        before = len(self.events(AccessEvent))
        self.controller.on_tap(CardTap(uid, CardKind.ISO14443A, reader, read_latency_s=0.0002))
        events = self.events(AccessEvent)
        assert len(events) == before + 1
        return events[-1]

    def messages(self) -> list[tuple[str, Any]]:
        found = []
        for item in self.outbox.peek(limit=10_000):
            if item.topic.endswith("/event"):
                found.append((item.topic, DOOR_EVENT.decode(item.payload)))
            else:
                found.append((item.topic, CommandResult.model_validate_json(item.payload)))
        return found

    def events(self, kind: type) -> list[Any]:
        return [m for _, m in self.messages() if isinstance(m, kind)]

    def pin(self, number: int) -> Any:
        return self.hardware.pin_factory.pin(number)

    def lock_states(self) -> list[bool]:
        return [s.state for s in self.pin(LOCK_PIN).states]

    def command(self, action: str, expires_in: float = 30, **kw: Any) -> CommandResult:
        command = DoorCommand(
            action=action,
            expires_at=self.clock.now + timedelta(seconds=expires_in),
            issued_by="operator:ingrid",
            **kw,
        )
        topics = self.link.topics
        topic = topics.door_command("front")
        self.controller.on_command(
            Delivery(topic, topics.spec_for(topic), {"door_id": "front"}, command, False)
        )
        result = self.events(CommandResult)[-1]
        assert result.command_id == command.id
        return result

    def contact(self, is_open: bool) -> None:
        pin = self.pin(CONTACT_PIN)
        pin.drive_high() if is_open else pin.drive_low()  # pulled up: high is open


def door_toml(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "door.toml"
    path.write_text(
        f'data_dir = "{tmp_path}"\n[site]\nid = "forest"\n{SITE_KEY_TOML}'
        f'[door]\nid = "front"\nheld_open_s = 30\nopen_grace_s = 2\n{extra}'
        + MOCK_PINS_TOML
        + '[reader]\nkind = "mock"\n'
        + f"[door_contact]\npin = {CONTACT_PIN}\nbounce_s = 0\n"
        + f"[exit_button]\npin = {EXIT_PIN}\nbounce_s = 0\n"
        + f'[feedback]\nkind = "gpio"\ngreen_pin = {GREEN_PIN}\nred_pin = {RED_PIN}\n'
    )
    return path


@pytest.fixture
def make_door(tmp_path: Path) -> Iterator[Any]:
    opened: list[Door] = []

    def make(extra: str = "", list_: AclSnapshot | None = None, clock: Clock | None = None) -> Door:
        config = load_config(DoorConfig, door_toml(tmp_path, extra), environ={})
        clock = clock or Clock()
        hardware = open_door_hardware(config)
        replica = Replica(tmp_path / "acl.sqlite3", "front")
        if list_ is not None:
            replica.apply_snapshot(list_)
        outbox = Outbox(tmp_path / "outbox.sqlite3", synchronous="normal")
        link = Link(mqtt_config(1), Topics("forest"), client_id="door-front", outbox=outbox)
        saved = SavedState(tmp_path / "door-state.json")
        controller = DoorController(
            config,
            hardware,
            replica,
            link,
            saved,
            clock=lambda: clock.now,
            monotonic=lambda: clock.mono,
        )
        door = Door(controller, hardware, outbox, replica, clock, link)
        opened.append(door)
        hardware.pin_factory.pin(CONTACT_PIN).drive_low()  # the door starts closed
        controller.start()
        return door

    yield make
    for door in opened:
        door.controller.close()
        door.hardware.close()
        door.replica.close()
        door.outbox.close()


def close_door(door: Door) -> None:
    door.controller.close()
    door.hardware.close()
    door.replica.close()
    door.outbox.close()


# --- taps ---------------------------------------------------------------------


def test_a_member_in_the_list_is_let_in_and_the_tap_is_recorded(make_door):
    door = make_door(list_=snapshot())
    event = door.tap(MEMBER)
    assert (event.granted, event.reason, event.member_id, event.role) == (
        True, "member", "m-astrid", "member"
    )  # fmt: skip
    assert event.credential == credential_hash(SITE_KEY, MEMBER)
    assert event.card_hint == "e5f6"
    assert event.timing.read_ms == pytest.approx(0.2)
    assert event.timing.decide_ms >= 0
    assert event.timing.lock_ms is not None
    assert door.lock_states() == [False, True]
    assert not door.hardware.lock.locked
    assert door.controller.state().lock == "unlocked"
    wait_until(lambda: any(s.state for s in door.pin(GREEN_PIN).states), 2)


def test_unknown_and_off_schedule_cards_are_refused_and_the_lock_never_moves(make_door, caplog):
    caplog.set_level("INFO")
    door = make_door(list_=snapshot())
    assert door.tap(STRANGER).reason == "unknown_credential"
    assert door.tap(NIGHT_OWL).reason == "outside_schedule"  # 09:30, the night tier is 22-24
    assert door.lock_states() == [False]
    wait_until(lambda: any(s.state for s in door.pin(RED_PIN).states), 2)
    assert "…BEEF" in caplog.text
    assert "DEADBEEF" not in caplog.text  # never a whole UID in the log


def test_before_its_first_list_a_door_refuses_every_card(make_door):
    door = make_door()
    assert door.replica.version == 0
    assert door.tap(MEMBER).reason == "unknown_credential"
    assert door.lock_states() == [False]


def test_the_list_decides_guests_and_grants(make_door):
    booking = AclGrant(start=NOW - timedelta(minutes=15), end=NOW + timedelta(hours=1),
                       reason="booking")  # fmt: skip
    late = bytes.fromhex("04AA")
    door = make_door(list_=snapshot(1, POLICY, entry(late, "m-late", tier="nights",
                                                     grants=(booking,))))  # fmt: skip
    assert door.tap(GUEST).reason == "guest_pass"
    assert door.tap(late).reason == "booking"
    door.clock.advance(11 * 3600)  # past the guest's pass and the booking
    assert door.tap(GUEST).reason == "expired"
    assert door.tap(late).reason == "outside_schedule"


def test_a_reader_is_throttled_after_repeated_denials_but_an_admin_still_passes(make_door):
    door = make_door("denied_taps = 3\ndenied_window_s = 10\ndenied_cooldown_s = 30\n", snapshot())
    for _ in range(3):
        assert door.tap(STRANGER).reason == "unknown_credential"
    assert door.tap(MEMBER).reason == "rate_limited"
    assert door.tap(MEMBER, reader="side").reason == "member"  # per reader
    assert door.tap(ADMIN).reason == "admin"
    door.clock.advance(31)
    assert door.tap(MEMBER).reason == "member"


def test_taps_through_the_reader_thread_reach_the_controller(make_door):
    door = make_door(list_=snapshot())
    door.hardware.reader.driver.tap(MEMBER)
    assert wait_until(lambda: len(door.events(AccessEvent)) == 1, 5)
    assert door.events(AccessEvent)[0].granted


# --- exit button and contact ----------------------------------------------------


def test_the_exit_button_unlocks_in_every_mode_and_is_recorded(make_door):
    door = make_door(list_=snapshot())
    assert door.command("lockdown").ok
    button = door.pin(EXIT_PIN)
    button.drive_low()
    button.drive_high()
    assert wait_until(lambda: door.events(ExitEvent), 2)
    assert door.events(ExitEvent)[0].unlocked_s == 5.0
    assert True in door.lock_states()  # egress is never locked in


def test_opening_while_locked_is_forced_open_until_closed(make_door):
    door = make_door(list_=snapshot())
    door.contact(True)
    assert wait_until(lambda: door.events(AlarmEvent), 2)
    alarm = door.events(AlarmEvent)[0]
    assert (alarm.alarm, alarm.active) == ("forced_open", True)
    assert door.controller.state().alarms == ("forced_open",)
    door.contact(False)
    assert wait_until(lambda: len(door.events(AlarmEvent)) == 2, 2)
    assert (door.events(AlarmEvent)[1].alarm, door.events(AlarmEvent)[1].active) == (
        "forced_open", False
    )  # fmt: skip
    assert door.controller.state().alarms == ()


def test_opening_after_a_grant_is_fine_but_staying_open_raises_held_open(make_door):
    door = make_door(list_=snapshot())
    door.tap(MEMBER)
    door.clock.advance(6)  # the 5 s unlock is over, but within the 2 s grace after it
    door.contact(True)
    assert wait_until(lambda: door.controller.watch.is_open, 2)
    door.controller.tick()
    assert door.events(AlarmEvent) == []
    door.clock.advance(31)
    door.controller.tick()
    alarms = door.events(AlarmEvent)
    assert [(a.alarm, a.active) for a in alarms] == [("held_open", True)]
    assert "held_open" in door.controller.state().alarms


def test_an_opening_long_after_the_grant_is_forced(make_door):
    door = make_door(list_=snapshot())
    door.tap(MEMBER)
    door.clock.advance(7.5)  # unlock 5 s + grace 2 s are over
    door.contact(True)
    assert wait_until(lambda: door.events(AlarmEvent), 2)
    assert door.events(AlarmEvent)[0].alarm == "forced_open"


# --- commands and modes ------------------------------------------------------------


def test_an_expired_command_is_refused_and_not_executed(make_door):
    door = make_door(list_=snapshot())
    result = door.command("unlock", expires_in=-1)
    assert (result.ok, result.reason) == (False, "expired")
    assert door.lock_states() == [False]
    result = door.command("unlock", duration_s=4)
    assert (result.ok, result.reason, result.detail) == (True, "unlocked", "for 4 s")
    assert door.lock_states() == [False, True]


def test_lockdown_admits_only_break_glass_survives_a_restart_and_normal_ends_it(make_door):
    door = make_door(list_=snapshot())
    door.tap(MEMBER)
    assert door.command("lockdown").reason == "lockdown"
    assert door.hardware.lock.locked  # the running unlock ended at once
    assert door.tap(MEMBER).reason == "lockdown"
    assert door.tap(ADMIN).reason == "break_glass"
    refused = door.command("unlock")
    assert (refused.ok, refused.reason) == (False, "lockdown")
    change = door.events(ModeEvent)[-1]
    assert (change.mode, change.previous, change.cause, change.detail) == (
        "lockdown", "normal", "command", "operator:ingrid"
    )  # fmt: skip
    close_door(door)
    again = make_door()
    assert again.controller.mode is Mode.LOCKDOWN
    assert again.events(ModeEvent)[-1].cause == "restart"
    assert again.tap(MEMBER).reason == "lockdown"
    assert again.command("normal").ok
    assert again.tap(MEMBER).reason == "member"


def test_hold_open_keeps_the_lock_released_until_it_expires(make_door):
    door = make_door(list_=snapshot())
    result = door.command("hold_open", duration_s=3600)
    assert (result.ok, result.reason) == (True, "hold_open")
    lock = door.hardware.lock
    assert not lock.locked
    assert door.controller.state().mode == "hold_open"
    assert door.tap(MEMBER).timing.lock_ms is None  # already open: nothing to drive
    door.contact(True)
    door.clock.advance(600)
    door.controller.tick()
    assert door.events(AlarmEvent) == []  # held open on purpose: no alarm
    door.clock.advance(3001)
    door.controller.tick()
    assert lock.locked
    mode = door.events(ModeEvent)[-1]
    assert (mode.mode, mode.previous, mode.cause) == ("normal", "hold_open", "expiry")


def test_the_lock_stays_released_through_a_long_hold_by_renewing(make_door):
    door = make_door(list_=snapshot())
    door.command("hold_open")
    lock = door.hardware.lock
    first = lock.relock_in
    assert first == pytest.approx(lock.max_unlock_s, abs=0.5)
    lock.unlock_for(lock.max_unlock_s / 2 - 1)  # as if time had passed
    door.controller.tick()
    assert lock.relock_in == pytest.approx(lock.max_unlock_s, abs=0.5)


def test_first_person_in_starts_the_open_hours_and_they_end_on_schedule(make_door):
    policy = POLICY.model_copy(update={"open_schedule": "office", "first_person_in": True})
    door = make_door(list_=snapshot(1, policy))
    door.controller.tick()
    assert door.controller.mode is Mode.NORMAL  # in hours, but nobody has come yet
    door.tap(GUEST)  # a guest does not open the building
    assert door.controller.mode is Mode.NORMAL
    door.tap(MEMBER)
    assert door.controller.mode is Mode.SCHEDULED_OPEN
    assert door.events(ModeEvent)[-1].cause == "first_person_in"
    door.clock.advance(9 * 3600)  # 18:30: the office schedule is over
    door.controller.tick()
    assert door.controller.mode is Mode.NORMAL
    assert door.hardware.lock.locked


def test_an_open_schedule_without_first_person_in_opens_by_itself(make_door):
    policy = POLICY.model_copy(update={"open_schedule": "office"})
    clock = Clock(now=NOW - timedelta(hours=2))  # 07:30, before opening
    door = make_door(list_=snapshot(1, policy), clock=clock)
    door.controller.tick()
    assert door.hardware.lock.locked
    clock.advance(2 * 3600)
    door.controller.tick()
    assert door.controller.mode is Mode.SCHEDULED_OPEN
    assert not door.hardware.lock.locked
    assert door.events(ModeEvent)[-1].cause == "schedule"


# --- sync and staleness ------------------------------------------------------------------


def test_a_gap_in_deltas_asks_for_the_snapshot_and_decisions_go_on(make_door):
    door = make_door(list_=snapshot(5))
    door.controller.apply_update(
        AclDelta(
            door_id="front", from_version=6, to_version=7, removes=(entry(MEMBER, "x").credential,)
        )
    )
    assert door.controller.resyncs == 1
    assert door.replica.version == 5
    assert door.tap(MEMBER).granted
    door.controller.apply_update(
        AclDelta(
            door_id="front", from_version=5, to_version=6, removes=(entry(MEMBER, "x").credential,)
        )
    )
    assert door.tap(MEMBER).reason == "unknown_credential"  # revoked
    assert door.controller.state().acl_version == 6


def test_a_list_for_another_door_is_counted_and_ignored(make_door):
    door = make_door(list_=snapshot(2))
    door.controller.apply_update(AclSnapshot(door_id="back", version=9))
    assert door.replica.version == 2
    assert door.controller.telemetry().rejected_messages == 1


def test_a_stale_list_admits_only_admins_when_so_configured(make_door, tmp_path):
    door = make_door('offline_policy = "admin_only"\nstale_after_h = 1\n', snapshot())
    assert door.tap(MEMBER).reason == "offline_admin_only"  # never synced on this connection
    assert door.tap(ADMIN).granted
    door.controller.last_sync = NOW - timedelta(minutes=30)
    assert door.tap(MEMBER).reason == "member"
    door.clock.advance(3600)
    assert door.tap(MEMBER).reason == "offline_admin_only"


def test_keep_is_the_default_offline_policy(make_door):
    door = make_door(list_=snapshot())
    assert door.controller.last_sync is None
    assert door.tap(MEMBER).granted


# --- reporting and failures ---------------------------------------------------------------


def test_telemetry_reports_latency_reader_and_outbox(make_door):
    door = make_door(list_=snapshot())
    for _ in range(4):
        door.tap(MEMBER)
    telemetry = door.controller.telemetry()
    assert telemetry.taps == 4
    assert telemetry.tap_p50_ms is not None
    assert telemetry.tap_p95_ms >= telemetry.tap_p50_ms
    assert telemetry.outbox_depth == len(door.outbox) >= 4
    assert telemetry.acl_entries == 4
    assert telemetry.reader.reader_id == "main"
    assert telemetry.reader.open


def test_a_full_outbox_never_stops_the_door(make_door):
    door = make_door(list_=snapshot())
    door.outbox.max_messages = len(door.outbox)
    event_count = len(door.messages())
    door.controller.on_tap(CardTap(MEMBER, CardKind.ISO14443A, "main"))
    assert len(door.messages()) == event_count  # not stored ...
    assert door.lock_states() == [False, True]  # ... but the member got in


def test_a_lock_that_fails_raises_an_alarm_and_the_tap_is_still_recorded(make_door, mocker):
    door = make_door(list_=snapshot())
    mocker.patch.object(door.hardware.lock, "unlock_for", side_effect=LockError("relay gone"))
    event = door.tap(MEMBER)
    assert event.granted
    assert event.timing.lock_ms is None
    alarm = door.events(AlarmEvent)[-1]
    assert (alarm.alarm, alarm.active, alarm.detail) == ("lock_fault", True, "relay gone")


def test_a_snapshot_payload_is_taken_up_in_batches_and_a_repeat_is_not_decoded(make_door, mocker):
    door = make_door()
    data = ACL_SNAPSHOT.encode(snapshot(4))
    door.controller.apply_update(data)
    assert door.replica.version == 4
    assert door.tap(MEMBER).granted
    decode = mocker.spy(ACL_SNAPSHOT, "decode_in_parts")
    door.controller.apply_update(data)  # the hub republished the same version
    assert decode.call_count == 0
    door.controller.apply_update(ACL_SNAPSHOT.encode(snapshot(5)))
    assert decode.call_count == 1
    assert door.replica.version == 5


def test_a_snapshot_with_one_bad_entry_is_refused_whole(make_door):
    door = make_door(list_=snapshot(1))
    good = json.loads(ACL_SNAPSHOT.encode(snapshot(2, POLICY, entry(STRANGER, "m-new"))))
    good["entries"][-1]["credential"] = "not a hash"
    door.controller.apply_update(json.dumps(good).encode())
    assert door.replica.version == 1
    assert door.tap(STRANGER).reason == "unknown_credential"
    assert door.controller.telemetry().rejected_messages == 1
    door.controller.apply_update(b"\x00garbage")
    assert door.controller.telemetry().rejected_messages == 2


@pytest.mark.parametrize(
    ("head", "version"),
    [
        (b'{"v":1,"id":"x","ts":"t","door_id":"front","version":42,"policy":{}', 42),
        (b'{"v": 1, "version" : 7, "entries": []}', 7),
        (b'{"policy":{"version":3},"version":9}', None),  # nested first: not trusted
        (b'{"entries":[{"version":3}],"version":9}', None),
        (b"garbage", None),
    ],
)
def test_the_version_is_peeked_only_from_the_top_level_head(head, version):
    assert peek_version(head) == version


def test_a_large_snapshot_is_applied_by_a_child_process(make_door, mocker):
    door = make_door(list_=snapshot(1))
    filler = [AclEntry(credential=f"{i:064x}", member_id=f"x{i}") for i in range(11_000)]
    data = ACL_SNAPSHOT.encode(snapshot(2, POLICY, entry(STRANGER, "m-new"), *filler))
    assert len(data) > LARGE_PAYLOAD
    child = mocker.spy(controller_module, "apply_in_child")
    door.controller.apply_update(data)
    assert child.call_count == 1
    assert (door.replica.version, len(door.replica)) == (2, 11_005)
    assert door.tap(STRANGER).reason == "member"
