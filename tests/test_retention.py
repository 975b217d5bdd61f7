"""Retention with a frozen clock: old records gone, the hourly counts equal what they replaced."""

import random
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from hub_server import occupancy_history as history
from hub_server import retention
from hub_server.config import RetentionSection
from hub_server.store import Store, now_text
from hublink.messages import utcnow
from tests.helpers.hub_data import seed
from tests.test_hub_cli import Hub, hub, rows  # noqa: F401 (the hub fixture)

STOCKHOLM = ZoneInfo("Europe/Stockholm")
NOW = datetime(2026, 10, 1, 12, 34, tzinfo=UTC)
CONFIG = RetentionSection()  # 180 days, audit 730
CUTOFF = datetime(2026, 4, 4, 12, 0, tzinfo=UTC)
"""``NOW`` less 180 days, down to the hour."""
FIRST_DAY = date(2025, 10, 20)
"""The first day with stays (before the autumn DST change of 2025)."""
ZONES = (None, "campfire", "glade", "nowhere")
DOORS = ("front", "glade", "exit")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def local(*parts: int, fold: int = 0) -> datetime:
    return datetime(*parts, tzinfo=STOCKHOLM, fold=fold).astimezone(UTC)


def insert(store: Store, table: str, **values: Any) -> None:
    stored = {k: now_text(v) if isinstance(v, datetime) else v for k, v in values.items()}
    with store.write() as db:
        db[table].insert(stored)


def stay(
    store: Store, member: str, zone: str | None, start: datetime, end: datetime | None
) -> None:
    insert(
        store, "presence", member_id=member, zone_id=zone, started_at=start, visit_start=start,
        ended_at=end,
    )  # fmt: skip


def tap(store: Store, at: datetime, door: str, granted: bool) -> None:
    insert(
        store, "access_events", id=str(uuid.uuid4()), ts=at, door_id=door, reader_id="r1",
        granted=int(granted), reason="member" if granted else "unknown_credential",
        member_id="m-asa" if granted else None, received_at=at,
    )  # fmt: skip


def seed_stays(store: Store) -> None:
    """Stays from ``FIRST_DAY`` to past the cut-off: a random few a day, and the cases."""
    chance = random.Random(9)
    day = FIRST_DAY
    while day < CUTOFF.date():
        for n in range(chance.randint(0, 5)):
            start = utc(day.year, day.month, day.day, chance.randint(0, 22), chance.randint(0, 59))
            moved = start + timedelta(minutes=chance.randint(1, 150))
            member = f"m-{n}"
            stay(store, member, chance.choice(("campfire", "glade", None)), start, moved)
            if chance.random() < 0.5:  # on into another zone
                stay(
                    store,
                    member,
                    chance.choice(("campfire", "glade")),
                    moved,
                    moved + (moved - start),
                )
        day += timedelta(days=1)
    # the spring DST day: two people in one hour, in two zones, across the missing hour
    stay(store, "m-asa", "campfire", local(2026, 3, 29, 0, 30), local(2026, 3, 29, 4, 10))
    stay(store, "m-bjorn", "glade", local(2026, 3, 29, 1, 15), local(2026, 3, 29, 3, 30))
    # the autumn DST day: a stay across the repeated hour
    stay(store, "m-asa", "glade", local(2025, 10, 26, 2, 30), local(2025, 10, 26, 2, 30, fold=1))
    # one person in two zones in one hour
    stay(store, "m-asa", "campfire", utc(2026, 3, 30, 9, 0), utc(2026, 3, 30, 9, 20))
    stay(store, "m-asa", "glade", utc(2026, 3, 30, 9, 20), utc(2026, 3, 30, 10, 40))
    stay(store, "m-bjorn", "glade", utc(2026, 3, 30, 9, 30), utc(2026, 3, 30, 9, 50))
    # across the cut-off, ending on it, still open, recent
    stay(
        store,
        "m-sigrid",
        "campfire",
        CUTOFF - timedelta(minutes=105),
        CUTOFF + timedelta(minutes=90),
    )
    stay(store, "m-bjorn", "glade", CUTOFF - timedelta(hours=2), CUTOFF)
    stay(store, "m-gunnar", "glade", CUTOFF - timedelta(hours=20), None)
    stay(store, "m-asa", "campfire", NOW - timedelta(days=2), NOW - timedelta(days=2, hours=-3))


def charts(store: Store, now: datetime = NOW) -> dict[str, Any]:
    """Everything the charts read about the seeded stays, to compare before and after."""
    days = (CUTOFF.date() - FIRST_DAY).days + 3
    found: dict[str, Any] = {}
    for zone in ZONES:
        for tz in (STOCKHOLM, ZoneInfo("UTC")):
            found[f"hourly {zone} {tz}"] = history.hourly(
                store, zone, FIRST_DAY, days, tz=tz, now=now
            )
        for day in (date(2026, 3, 29), date(2025, 10, 26), CUTOFF.date()):
            found[f"day {zone} {day}"] = history.day_hours(store, zone, day, tz=STOCKHOLM, now=now)
        for before in (date(2025, 11, 3), date(2026, 3, 30), date(2026, 4, 6)):
            found[f"week {zone} {before}"] = history.weekday_hour_average(
                store, zone, before, tz=STOCKHOLM, now=now
            )
    return found


def first_hour(store: Store) -> datetime:
    """The hour the earliest stay began in: where the first fold starts."""
    first = datetime.fromisoformat(store.query_one("SELECT min(started_at) FROM presence")[0])
    return first.replace(minute=0, second=0, microsecond=0)


def snapshot(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    tables = ("presence", "access_events", "occupancy_hourly", "access_hourly", "marks",
              "checkouts", "door_log", "enrolments", "notifications", "guest_passes",
              "invitations", "signups", "bookings", "audit_log")  # fmt: skip
    return {t: [tuple(r) for r in store.query(f"SELECT * FROM {t} ORDER BY 1, 2")] for t in tables}


@pytest.fixture
def store() -> Iterator[Store]:
    with Store.memory() as store:
        yield store


@pytest.fixture
def stays(store: Store) -> Store:
    seed_stays(store)
    return store


# --- occupancy ------------------------------------------------------------------------------


def test_the_cutoffs_are_whole_hours_access_days_and_audit_days_back():
    assert retention.cutoffs(CONFIG, NOW) == (CUTOFF, utc(2024, 10, 1, 12))
    short = RetentionSection(access_days=1, audit_days=2)
    assert retention.cutoffs(short, NOW) == (utc(2026, 9, 30, 12), utc(2026, 9, 29, 12))


def test_folded_hours_read_as_the_stays_they_replaced(stays):
    before = charts(stays)
    assert sum(before[f"hourly None {STOCKHOLM}"].values()) > 1000  # not an empty comparison
    assert len(before[f"day None {date(2026, 3, 29)}"]) == 23
    assert len(before[f"day None {date(2025, 10, 26)}"]) == 25

    first = first_hour(stays)

    result = retention.run(stays, CONFIG, NOW)

    assert result.folded_until == CUTOFF == history.folded_until(stays)
    assert result.folded_hours == (CUTOFF - first) // timedelta(hours=1)
    assert charts(stays) == before
    assert (
        stays.query_one("SELECT count(*) FROM presence WHERE ended_at < ?", (now_text(CUTOFF),))[0]
        == 0
    )
    kept = stays.query("SELECT member_id, started_at FROM presence ORDER BY started_at")
    assert [(r[0], r[1]) for r in kept] == [
        ("m-gunnar", now_text(CUTOFF - timedelta(hours=20))),  # open
        ("m-bjorn", now_text(CUTOFF - timedelta(hours=2))),  # ends on the cut-off
        ("m-sigrid", now_text(CUTOFF - timedelta(minutes=105))),  # spans it
        ("m-asa", now_text(NOW - timedelta(days=2))),  # recent
    ]
    assert result.deleted["presence"] > 300
    stored = stays.query("SELECT zone_id, sum(people) FROM occupancy_hourly GROUP BY zone_id")
    assert {r[0] for r in stored} == {"", "campfire", "glade"}


def test_the_folded_counts_are_the_distinct_people_of_each_hour(store):
    stay(store, "m-asa", "campfire", utc(2026, 3, 30, 9, 0), utc(2026, 3, 30, 9, 20))
    stay(store, "m-asa", "glade", utc(2026, 3, 30, 9, 20), utc(2026, 3, 30, 10, 40))
    stay(store, "m-bjorn", "glade", utc(2026, 3, 30, 9, 30), utc(2026, 3, 30, 9, 50))
    retention.run(store, CONFIG, NOW)
    found = store.query("SELECT hour, zone_id, people FROM occupancy_hourly ORDER BY 1, 2")
    nine, ten = now_text(utc(2026, 3, 30, 9)), now_text(utc(2026, 3, 30, 10))
    assert [tuple(r) for r in found] == [
        (nine, "", 2), (nine, "campfire", 1), (nine, "glade", 2), (ten, "", 1), (ten, "glade", 1),
    ]  # fmt: skip


def test_a_run_stopped_midway_leaves_exact_charts_and_the_next_run_finishes(stays, monkeypatch):
    before = charts(stays)
    stop = threading.Event()
    folds = []
    fold = history.fold

    def fold_then_stop(db: Any, start: datetime, end: datetime, now: datetime) -> int:
        folds.append(start)
        if len(folds) == 40:
            stop.set()
        return fold(db, start, end, now)

    monkeypatch.setattr(history, "fold", fold_then_stop)
    first = first_hour(stays)
    stopped = retention.run(stays, CONFIG, NOW, stop=stop)
    mark = history.folded_until(stays)
    assert mark == first + timedelta(days=40) == stopped.folded_until
    assert charts(stays) == before
    assert stopped.total == 0  # it stopped before deleting anything
    assert stays.query("SELECT * FROM audit_log") == []

    finished = retention.run(stays, CONFIG, NOW)
    assert finished.folded_until == CUTOFF
    assert finished.folded_hours == (CUTOFF - mark) // timedelta(hours=1)
    assert charts(stays) == before


def test_a_second_run_changes_nothing_and_a_later_one_folds_further(stays):
    retention.run(stays, CONFIG, NOW)
    after_first = snapshot(stays)
    again = retention.run(stays, CONFIG, NOW)
    assert (again.folded_hours, again.total) == (0, 0)
    assert snapshot(stays) == after_first

    later = NOW + timedelta(days=10)
    before = charts(stays, later)
    result = retention.run(stays, CONFIG, later)
    assert result.folded_until == CUTOFF + timedelta(days=10)
    assert result.folded_hours == 240
    assert result.deleted["presence"] == 2  # the stay across the old cut-off, the one ending on it
    assert charts(stays, later) == before
    assert [r[0] for r in stays.query("SELECT member_id FROM presence ORDER BY started_at")] == [
        "m-gunnar",
        "m-asa",
    ]


def test_a_hub_without_stays_marks_the_cutoff_and_logs_nothing(store):
    result = retention.run(store, CONFIG, NOW)
    assert (result.folded_hours, result.total, result.folded_until) == (0, 0, CUTOFF)
    assert store.query("SELECT * FROM audit_log") == []
    stay(store, "m-asa", "campfire", CUTOFF + timedelta(hours=1), CUTOFF + timedelta(hours=3))
    later = retention.run(store, CONFIG, NOW + timedelta(days=1))
    assert later.folded_hours == 24
    assert later.deleted["presence"] == 1
    counts = history.hourly(store, "campfire", CUTOFF.date(), 1, tz=ZoneInfo("UTC"), now=NOW)
    assert [counts[CUTOFF + timedelta(hours=h)] for h in range(5)] == [0, 1, 1, 0, 0]


# --- access events --------------------------------------------------------------------------


def test_access_events_become_taps_per_door_and_hour(store, monkeypatch):
    monkeypatch.setattr(retention, "BATCH", 7)  # an hour's taps split over batches add up
    chance = random.Random(4)
    taps = [
        (CUTOFF + timedelta(minutes=chance.randint(-3 * 24 * 60, 24 * 60)), chance.choice(DOORS),
         chance.random() < 0.8)
        for _ in range(120)
    ]  # fmt: skip
    taps += [(CUTOFF - timedelta(minutes=m), "front", m % 2 == 0) for m in range(1, 20)]
    taps.append((CUTOFF, "front", True))
    for at, door, granted in taps:
        tap(store, at, door, granted)
    old = [(at, door, granted) for at, door, granted in taps if at < CUTOFF]
    per_hour = Counter(
        (now_text(at.replace(minute=0, second=0, microsecond=0)), door, granted)
        for at, door, granted in old
    )
    expected = {
        (hour, door): (per_hour[hour, door, True], per_hour[hour, door, False])
        for hour, door, _ in per_hour
    }

    result = retention.run(store, CONFIG, NOW)

    found = store.query("SELECT hour, door_id, granted, denied FROM access_hourly")
    assert {(r[0], r[1]): (r[2], r[3]) for r in found} == expected
    assert result.deleted["access_events"] == len(old)
    left = store.query("SELECT ts FROM access_events ORDER BY ts")
    assert [r[0] for r in left] == sorted(now_text(at) for at, _, _ in taps if at >= CUTOFF)
    assert retention.run(store, CONFIG, NOW).total == 0
    assert {(r[0], r[1]): (r[2], r[3]) for r in store.query("SELECT * FROM access_hourly")} == (
        expected
    )


# --- the other records and the audit log ----------------------------------------------------


def seed_records(store: Store) -> None:
    """Old (before the cut-off) and new rows of every other table retention looks at."""
    seed(store)
    old, new = CUTOFF - timedelta(days=1), CUTOFF + timedelta(days=1)
    insert(store, "rooms", id="lookout", name="Lookout", capacity=8, created_at=old)
    for when, tag in ((old, "old"), (new, "new")):
        insert(store, "checkouts", id=f"c-{tag}", member_id="m-asa", ts=when, source="kiosk")
        insert(store, "door_log", id=f"d-{tag}", ts=when, door_id="front", kind="alarm", body="{}",
               received_at=when)  # fmt: skip
        for delivered in (when, None):  # an undelivered one is past news too
            insert(store, "notifications", kind="signup", member_id="m-asa", body="{}",
                   created_at=when, delivered_at=delivered)  # fmt: skip
        insert(store, "events", id=f"e-{tag}", title=tag, host_member_id="m-sigrid",
               zone_id="campfire", starts_at=when - timedelta(hours=2), ends_at=when, capacity=5,
               created_by="test", created_at=old, updated_at=old)  # fmt: skip
        insert(store, "invitations", event_id=f"e-{tag}", name="Erik", email=f"erik-{tag}@x.se",
               email_key=f"erik-{tag}@x.se", created_by="test", created_at=old)  # fmt: skip
        insert(store, "signups", event_id=f"e-{tag}", member_id="m-asa", status="confirmed",
               source="kiosk", created_by="test", created_at=old, updated_at=old)  # fmt: skip
        insert(store, "bookings", id=f"b-{tag}", room_id="lookout", member_id="m-asa",
               starts_at=when, ends_at=when + timedelta(hours=1), source="kiosk",
               created_by="test", created_at=old)  # fmt: skip
        for status in ("waiting", "done"):
            insert(store, "enrolments", member_id="m-asa", door_id="front", requested_by="test",
                   requested_at=when, expires_at=when, status=status)  # fmt: skip
    old_invitation = store.query_one("SELECT id FROM invitations WHERE event_id = 'e-old'")[0]
    for tag, until in (("old", old), ("new", new)):
        # both invited to the old event; the new pass (another day) outlives the invitation
        insert(store, "guest_passes", id=f"g-{tag}", first_name="Erik", host_member_id="m-asa",
               event_id="e-old", invitation_id=old_invitation, day=until.date().isoformat(),
               valid_from=until - timedelta(hours=8), valid_until=until, credential="a" * 64,
               hint="1234", source="kiosk", created_by="test", created_at=old)  # fmt: skip
    for ts in (NOW - timedelta(days=731), NOW - timedelta(days=729)):
        insert(store, "audit_log", ts=ts, actor="test", action="member.add", target="m-x")


def ids(store: Store, table: str, column: str = "id") -> list[Any]:
    return [r[0] for r in store.query(f"SELECT {column} FROM {table} ORDER BY 1")]


def test_other_personal_records_go_and_signups_and_bookings_stay(store):
    seed_records(store)
    result = retention.run(store, CONFIG, NOW)
    new = now_text(CUTOFF + timedelta(days=1))
    assert ids(store, "checkouts") == ["c-new"]
    assert ids(store, "door_log") == ["d-new"]
    assert ids(store, "notifications", "created_at") == [new, new]
    assert [
        tuple(r) for r in store.query("SELECT requested_at, status FROM enrolments ORDER BY 1, 2")
    ] == [
        (now_text(CUTOFF - timedelta(days=1)), "waiting"),  # still waiting: kept
        (new, "done"),
        (new, "waiting"),
    ]
    assert ids(store, "invitations", "event_id") == ["e-new"]
    passes = store.query("SELECT id, invitation_id FROM guest_passes")
    assert [tuple(r) for r in passes] == [("g-new", None)]  # its invitation went
    assert ids(store, "signups", "event_id") == ["e-new", "e-old"]
    assert ids(store, "bookings") == ["b-new", "b-old"]
    assert ids(store, "events") == ["e-new", "e-old"]
    assert {k: v for k, v in result.deleted.items() if v} == {
        "checkouts": 1, "door_log": 1, "enrolments": 1, "notifications": 2, "guest_passes": 1,
        "invitations": 1, "audit_log": 1,
    }  # fmt: skip


def test_the_audit_log_keeps_audit_days_and_records_the_run(store):
    seed_records(store)
    result = retention.run(store, CONFIG, NOW, actor="cli:test")
    seeded = store.query("SELECT ts FROM audit_log WHERE target = 'm-x'")
    assert [r[0] for r in seeded] == [now_text(NOW - timedelta(days=729))]
    last = store.query("SELECT * FROM audit_log ORDER BY id DESC LIMIT 1")[0]
    assert (last["actor"], last["action"]) == ("cli:test", "retention.run")
    assert f'"cutoff": "{now_text(CUTOFF)}"' in last["detail"]
    assert '"audit_log": 1' in last["detail"]
    assert '"checkouts": 1' in last["detail"]
    assert result.deleted["audit_log"] == 1
    default = retention.run(store, CONFIG, NOW + timedelta(days=2))
    assert default.deleted["audit_log"] == 1  # the 729-day-old entry
    assert store.query("SELECT actor FROM audit_log ORDER BY id DESC LIMIT 1")[0][0] == "hub"


def test_a_dry_run_counts_what_a_run_deletes_and_changes_nothing(stays):
    seed_records(stays)
    for minute in range(30):
        tap(stays, CUTOFF + timedelta(minutes=minute * 7 - 120), "front", True)
    before = snapshot(stays)
    planned = retention.pending(stays, CONFIG, NOW)
    assert snapshot(stays) == before
    done = retention.run(stays, CONFIG, NOW)
    assert planned == done
    assert done.deleted["access_events"] == 18
    state = retention.status(stays, CONFIG, NOW)
    assert state.folded_until == CUTOFF
    assert set(state.due.values()) == {0}
    assert state.rows["access_events"] == 12
    assert state.rows["occupancy_hourly"] > 0


# --- the commands ---------------------------------------------------------------------------


def test_the_commands_show_delete_and_report(hub: Hub):  # noqa: F811 (the fixture)
    hub.write_config(extra='[hub]\ntimezone = "UTC"\n[retention]\naccess_days = 30\n')
    now = utcnow()
    with hub.store() as store:
        stay(store, "m-asa", "glade", now - timedelta(days=40, hours=2), now - timedelta(days=40))
        stay(store, "m-asa", "glade", now - timedelta(days=2, hours=2), now - timedelta(days=2))
        tap(store, now - timedelta(days=40), "front", True)

    out = hub.ok("retention", "run", "--dry-run")
    assert "would fold" in out
    table = dict(r for r in rows(out.split("\n", 3)[3]) if len(r) == 2)
    assert (table["presence"], table["access_events"], table["total"]) == ("1", "1", "2")
    with hub.store() as store:
        assert store.query_one("SELECT count(*) FROM presence")[0] == 2
        assert history.folded_until(store) is None

    out = hub.ok("retention", "run")
    assert "folded " in out
    assert "(access_days 30)" in out
    with hub.store() as store:
        assert store.query_one("SELECT count(*) FROM presence")[0] == 1
        assert store.query_one("SELECT count(*) FROM access_events")[0] == 0
        mark = history.folded_until(store)
    assert mark == retention.cutoffs(RetentionSection(access_days=30), now)[0]

    out = hub.ok("retention", "status")
    assert f"occupancy kept as hourly counts: up to {mark:%Y-%m-%d %H:%M}" in out
    status = {r[0]: r[1:] for r in rows(out.split("\n", 3)[3])}
    assert status["presence"] == ["1", "0"]
    assert status["access_hourly"] == ["1", "-"]
