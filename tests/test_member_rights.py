"""Member rights: exporting everything held about a member, and erasing the member.

Yrsa Quistgaard (``m-yrsa``, of ``o-skog``) has one of every kind of record the hub
keeps (see :func:`yrsa`); the other members come from ``tests/helpers/community_data``.
The service runs on a real SQLite store; the command line and the dashboard over it.
"""

import json
import stat
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from hub_server import (
    access_lists,
    audit,
    billing,
    bookings,
    calendar_feed,
    cards,
    enrolment,
    events,
    guests,
    kiosk_directory,
    member_erasure,
    member_export,
    members,
    notifications,
    places,
    presence,
    signups,
)
from hub_server import occupancy_history as history
from hub_server.config import CommunitySection
from hub_server.errors import Invalid, NotFound
from hub_server.events import EventIn
from hub_server.guests import GuestIn
from hub_server.ingest import Inbound, Ingest
from hub_server.member_erasure import ErasureResult
from hub_server.models import Card, CardIn, MemberIn, RoomIn, build
from hub_server.presence_rules import PresenceRules
from hub_server.store import Store
from hublink.credentials import credential_hash
from hublink.messages import AccessEvent
from tests.helpers.community_data import ACTOR, NOW, START, add_event, community
from tests.helpers.dashboard import Browser, config, signed_in, site_for
from tests.helpers.door_hardware import SITE_KEY
from tests.test_hub_cli import Hub, hub, rows  # noqa: F401  (hub: a fixture)

UTC_RULES = PresenceRules(timezone=ZoneInfo("UTC"), closing_time=None, max_stay=timedelta(hours=14))
YESTERDAY = (NOW - timedelta(days=1)).replace(hour=0, minute=0)
MEMBER = "m-yrsa"
UID = "04C0FFEE1234"
GUEST_UID = "04DDEEFF0011"
STUDIO = "studio"
MONTH = "2026-11"


def at(day: datetime, hour: int, minute: int = 0) -> datetime:
    return day.replace(hour=hour, minute=minute)


@dataclass(frozen=True)
class Yrsa:
    """What :func:`yrsa` made, to look for before and after."""

    card_hash: str
    hint: str
    full_event: str
    past_event: str
    hosted_event: str
    past_booking: str
    future_booking: str
    past_pass: str
    running_pass: str

    @property
    def identifiers(self) -> dict[str, str]:
        """What must not be anywhere once she is erased."""
        return {
            "id": MEMBER,
            "first name": "Yrsa",
            "last name": "Quistgaard",
            "email": "yrsa.quistgaard@example.org",
            "card hash": self.card_hash,
        }


def tap(at: datetime, door_id: str, card: str, **values: Any) -> Inbound:
    event = AccessEvent.model_validate(
        {"ts": at, "reader_id": "r1", "credential": card, "card_hint": UID[-4:].lower()}
        | {"granted": True, "reason": "member", "member_id": MEMBER, "role": "member"}
        | values
    )
    return Inbound("door", door_id, event)


def add_yrsa(store: Store) -> Card:
    """Yrsa Quistgaard, of ``o-skog``, with a card (:data:`UID`); returns the card."""
    data = build(
        MemberIn,
        id=MEMBER,
        first_name="Yrsa",
        last_name="Quistgaard",
        email="yrsa.quistgaard@example.org",
        organisation="o-skog",
    )
    members.add(store, data, ACTOR)
    return cards.add(store, SITE_KEY, build(CardIn, member_id=MEMBER, uid=UID), ACTOR)


def yrsa(store: Store) -> Yrsa:
    """Yrsa and one of everything: card, taps and stays (one open now), a check-out, an
    enrolment, sign-ups (past; a seat at a full event Björn waits for), an event she hosts,
    bookings (past, future), guest passes (past; running, with a card), a notification,
    a calendar address. Björn and Sigrid book the studio in the same month."""
    community(store)
    card = add_yrsa(store)
    card_hash = card.hash
    places.add_room(
        store,
        build(RoomIn, id=STUDIO, name="Studio", zone_id="glade", capacity=4,
              hourly_rate_cents=6000),
        ACTOR,
    )  # fmt: skip
    ingest = Ingest(store, UTC_RULES, clock=lambda: NOW)
    ingest.process(
        [
            tap(at(YESTERDAY, 8, 55), "front", card_hash, granted=False,
                reason="unknown_credential", member_id=None, role=None),
            tap(at(YESTERDAY, 9), "front", card_hash),
            tap(at(YESTERDAY, 9, 30), "glade", card_hash),
        ]
    )  # fmt: skip
    with store.write() as db:
        presence.record_checkout(db, MEMBER, at(YESTERDAY, 11), "kiosk")
        presence.rebuild(db, MEMBER, at(YESTERDAY, 11), UTC_RULES, NOW)
    ingest.process([tap(NOW - timedelta(hours=1), "front", card_hash)])
    enrolment.start(store, MEMBER, "glade", ACTOR, timeout_s=60)
    calendar_feed.issue_token(store, MEMBER, ACTOR)

    earlier = NOW - timedelta(days=20)
    past_event = add_event(
        store, now=earlier, title="Map reading", starts_at=at(NOW - timedelta(days=10), 10),
        ends_at=at(NOW - timedelta(days=10), 12),
    ).id  # fmt: skip
    signups.sign_up(store, past_event, MEMBER, actor=ACTOR, source="cli", now=earlier)
    full_event = add_event(store, title="Fire making", capacity=1).id
    signups.sign_up(store, full_event, MEMBER, actor=ACTOR, source="kiosk", now=NOW)
    signups.sign_up(store, full_event, "m-bjorn", actor=ACTOR, source="kiosk", now=NOW)
    hosted_event = events.add(
        store,
        build(EventIn, title="Knitting circle", host_member_id=MEMBER, zone_id="glade",
              starts_at=START + timedelta(days=2), ends_at=START + timedelta(days=2, hours=1),
              capacity=6),
        actor=ACTOR, now=NOW,
    ).id  # fmt: skip
    with store.write() as db:
        notifications.record(
            db, "signup.promoted", member_id=MEMBER, event_id=past_event, at=earlier,
            title="Map reading",
        )  # fmt: skip

    community_rules = CommunitySection()

    def book(member_id: str, starts_at: datetime, hours: int, now: datetime) -> str:
        data = build(
            bookings.BookingIn, room_id=STUDIO, member_id=member_id, starts_at=starts_at,
            minutes=60 * hours,
        )  # fmt: skip
        made = bookings.book(
            store, data, actor=ACTOR, source="cli", community=community_rules, timezone="UTC",
            now=now,
        )  # fmt: skip
        return made.id

    past_booking = book(MEMBER, at(NOW - timedelta(days=14), 10), 2, earlier)
    book("m-bjorn", at(NOW - timedelta(days=14), 13), 1, earlier)
    book("m-sigrid", at(NOW - timedelta(days=13), 13), 3, earlier)
    future_booking = book(MEMBER, START + timedelta(days=1), 1, NOW)

    def register(day: date, now: datetime, first_name: str, uid: str | None) -> str:
        card = None if uid is None else credential_hash(SITE_KEY, bytes.fromhex(uid))
        data = build(GuestIn, first_name=first_name, host_member_id=MEMBER, day=day,
                     credential=card)  # fmt: skip
        return guests.register(store, data, actor=ACTOR, source="cli", timezone="UTC", now=now).id

    past_pass = register(earlier.date(), earlier, "Ola", None)
    running_pass = register(NOW.date(), NOW - timedelta(hours=2), "Kari", GUEST_UID)
    return Yrsa(
        card_hash=card_hash,
        hint=card.hint,
        full_event=full_event,
        past_event=past_event,
        hosted_event=hosted_event,
        past_booking=past_booking,
        future_booking=future_booking,
        past_pass=past_pass,
        running_pass=running_pass,
    )


@pytest.fixture
def store() -> Store:
    return Store.memory()


@pytest.fixture
def seeded(store: Store) -> Yrsa:
    return yrsa(store)


def erase(store: Store) -> ErasureResult:
    return member_erasure.erase(store, MEMBER, "test:operator", NOW)


def identifiers_in_database(store: Store, needles: dict[str, str]) -> list[str]:
    """``table.column: what`` for every text cell of every table holding one of ``needles``."""
    found = []
    for (table,) in store.query("SELECT name FROM sqlite_master WHERE type = 'table'"):
        for row in store.query(f"SELECT * FROM {table}"):
            for column in row.keys():  # noqa: SIM118  (sqlite3.Row)
                value = row[column]
                found += [
                    f"{table}.{column}: {what}"
                    for what, needle in needles.items()
                    if isinstance(value, str | bytes)
                    and (needle.encode() if isinstance(value, bytes) else needle) in value
                ]
    return found


def member_columns(store: Store) -> set[tuple[str, str]]:
    """Every column of the schema that holds a member's id: named ``member_id`` or
    ``…_member_id``, or a foreign key to ``members``."""
    found: set[tuple[str, str]] = {("members", "id")}
    for (table,) in store.query("SELECT name FROM sqlite_master WHERE type = 'table'"):
        for column in store.query(f"PRAGMA table_info({table})"):
            if column["name"] == "member_id" or column["name"].endswith("_member_id"):
                found.add((table, column["name"]))
        for key in store.query(f"PRAGMA foreign_key_list({table})"):
            if key["table"] == "members":
                found.add((table, key["from"]))
    return found


# --- what the service covers ------------------------------------------------------------


def test_every_column_holding_a_member_id_is_exported_and_erased(store):
    columns = member_columns(store)
    assert ("guest_passes", "host_member_id") in columns  # the walk finds what it should
    assert columns - member_export.EXPORTED == set(), "add it to the export"
    assert columns - member_erasure.ERASED == set(), "erase it"


# --- export -------------------------------------------------------------------------------


def test_the_export_holds_one_of_every_kind_of_record_and_is_audited(store, seeded):
    data = member_export.export(store, MEMBER, actor="test:operator", now=NOW)
    assert (data["format"], data["exported_at"]) == (
        member_export.FORMAT,
        "2026-11-30T17:00:00.000000+00:00",
    )
    profile = data["member"]
    assert {key: profile[key] for key in ("id", "first_name", "last_name", "email")} == {
        "id": MEMBER,
        "first_name": "Yrsa",
        "last_name": "Quistgaard",
        "email": "yrsa.quistgaard@example.org",
    }
    assert (profile["organisation"], profile["tier"], profile["status"]) == (
        "Skogsbyrån",
        "member",
        "active",
    )
    [card] = data["credentials"]
    assert (card["hash"], card["hint"], card["status"]) == (seeded.card_hash, seeded.hint, "active")
    assert [(e["door_id"], e["granted"], e["reason"]) for e in data["access_events"]] == [
        ("front", 0, "unknown_credential"),  # her card, before it was hers
        ("front", 1, "member"),
        ("glade", 1, "member"),
        ("front", 1, "member"),
    ]
    assert [(s["zone_id"], s["end_reason"]) for s in data["presence"]] == [
        ("campfire", "moved"),
        ("glade", "kiosk"),
        ("campfire", None),
    ]
    assert [c["source"] for c in data["checkouts"]] == ["kiosk"]
    assert [(e["door_id"], e["status"]) for e in data["enrolments"]] == [("glade", "waiting")]
    assert [(s["event_title"], s["status"]) for s in data["signups"]] == [
        ("Map reading", "confirmed"),
        ("Fire making", "confirmed"),
    ]
    assert [e["title"] for e in data["hosted_events"]] == ["Knitting circle"]
    assert [(b["id"], b["room"], b["amount_cents"]) for b in data["bookings"]] == [
        (seeded.past_booking, "Studio", 12000),
        (seeded.future_booking, "Studio", 6000),
    ]
    assert [(g["first_name"], g["has_card"]) for g in data["guest_passes"]] == [
        ("Ola", 0),
        ("Kari", 1),
    ]
    [note] = data["notifications"]
    assert (note["kind"], note["body"]) == ("signup.promoted", {"title": "Map reading"})
    assert data["calendar"]["has_private_address"] is True
    actions = [entry["action"] for entry in data["audit_log"]]
    assert {"member.add", "card.add", "enrol.start", "calendar.token", "signup.add"} <= set(actions)
    assert all(
        entry["target"] == MEMBER or MEMBER in json.dumps(entry["detail"])
        for entry in data["audit_log"]
    )
    token_hash = store.query_one("SELECT token_hash FROM calendar_tokens")[0]
    assert token_hash not in json.dumps(data)
    json.dumps(data, allow_nan=False)  # JSON-ready as it is
    last = audit.entries(store, limit=1)[0]
    assert (last.actor, last.action, last.target) == ("test:operator", "member.export", MEMBER)


def test_the_export_of_nobody_is_not_found_and_records_nothing(store, seeded):
    before = len(audit.entries(store, limit=1000))
    with pytest.raises(NotFound):
        member_export.export(store, "m-nobody", actor="test:operator")
    assert len(audit.entries(store, limit=1000)) == before


# --- erasure ----------------------------------------------------------------------------


def test_erasure_leaves_none_of_the_members_identifiers_in_any_table(store, seeded):
    assert len(identifiers_in_database(store, seeded.identifiers)) > 10
    result = erase(store)
    assert identifiers_in_database(store, seeded.identifiers) == []
    assert store.query("SELECT 1 FROM access_events WHERE card_hint = ?", (seeded.hint,)) == []
    about = audit.find(store, action="card.").entries
    assert [e.detail["hint"] for e in about if e.target == result.tombstone_id] == [
        member_erasure.REDACTED
    ]


def test_erasure_counts_what_it_did_and_records_it_without_a_name(store, seeded):
    result = erase(store)
    assert result.counts == {
        "bookings.cancelled": 1,
        "guest_passes.cancelled": 1,
        "signups.cancelled": 1,
        "presence.ended": 1,
        "signups.kept": 2,
        "bookings.kept": 2,
        "events.kept": 1,
        "guest_passes.kept": 2,
        "access_events.anonymised": 4,
        "enrolments.deleted": 1,
        "credentials.deleted": 1,
        "calendar_tokens.deleted": 1,
        "checkouts.deleted": 1,
        "notifications.deleted": 1,
        "presence.anonymised": 3,
        "audit_log.redacted": result.counts["audit_log.redacted"],
    }
    assert result.counts["audit_log.redacted"] >= 8
    assert result.promoted == ("m-bjorn",)
    last = audit.entries(store, limit=1)[0]
    assert (last.actor, last.action, last.target, last.detail) == (
        "test:operator",
        "member.erased",
        result.tombstone_id,
        result.counts,
    )
    assert member_erasure.erasure_counts(store, result.tombstone_id) == result.counts


def test_a_tombstone_keeps_the_organisation_and_tier_and_takes_over_the_past(store, seeded):
    result = erase(store)
    with pytest.raises(NotFound):
        members.get(store, MEMBER)
    stand_in = members.get(store, result.tombstone_id)
    assert result.tombstone_id.startswith("erased-")
    assert (stand_in.first_name, stand_in.last_name, stand_in.email) == ("Erased", "member", None)
    assert (stand_in.organisation_id, stand_in.tier, stand_in.status) == (
        "o-skog",
        "member",
        "inactive",
    )
    assert bookings.get(store, seeded.past_booking).member_id == result.tombstone_id
    assert events.get(store, seeded.hosted_event).host_member_id == result.tombstone_id
    assert guests.get(store, seeded.past_pass).host_member_id == result.tombstone_id
    [kept] = signups.of_event(store, seeded.past_event)
    assert (kept.member_id, kept.status) == (result.tombstone_id, "confirmed")
    entries = audit.find(store, action="member.add").entries
    [added] = [e for e in entries if e.target == result.tombstone_id]
    assert added.detail == {"name": member_erasure.REDACTED}
    [signed] = [
        e for e in audit.find(store, action="signup.add").entries if e.target == seeded.past_event
    ]
    assert signed.detail["member"] == result.tombstone_id


def test_erasure_gives_the_seat_to_the_waitlist_and_frees_the_room_and_the_guest_pass(
    store, seeded
):
    assert signups.seats(store, seeded.full_event).waitlisted == 1
    erase(store)
    [bjorn] = signups.of_event(store, seeded.full_event)
    assert (bjorn.member_id, bjorn.status) == ("m-bjorn", "confirmed")
    [told] = [n for n in notifications.recent(store) if n.member_id == "m-bjorn"]
    assert told.kind == "signup.promoted"
    assert bookings.get(store, seeded.future_booking).status == "cancelled"
    freed = bookings.of_room(
        store, STUDIO, since=START + timedelta(days=1), until=START + timedelta(days=1, hours=1)
    )
    assert freed == []
    assert guests.get(store, seeded.running_pass).status == "cancelled"
    assert guests.get(store, seeded.past_pass).status == "active"  # the past stays as it was


def test_erasure_takes_the_member_and_their_guest_off_every_list_and_directory(store, seeded):
    guest_card = credential_hash(SITE_KEY, bytes.fromhex(GUEST_UID))
    lists_before, directory_before = store.counter("access_lists"), store.counter("directory")

    def listed() -> set[str]:
        held = access_lists.compute(store, "UTC", NOW.date(), now=NOW)["front"]
        return {e.credential for e in held.shared_entries()} | {
            e.credential for e in kiosk_directory.compute(store, NOW)
        }

    assert {seeded.card_hash, guest_card} <= listed()
    erase(store)
    assert listed() & {seeded.card_hash, guest_card} == set()
    assert store.counter("access_lists") > lists_before
    assert store.counter("directory") > directory_before


def test_billing_of_the_past_month_is_the_same_after_erasure(store, seeded):
    before = billing.monthly(store, MONTH, "UTC")
    assert before.total_cents == 12000 + 6000 + 18000
    erase(store)
    assert billing.monthly(store, MONTH, "UTC") == before
    lines = billing.detail(store, MONTH, "UTC")
    assert [line.member for line in lines if line.booking_id == seeded.past_booking] == [
        "Erased member"
    ]


def test_occupancy_counts_drop_now_and_past_hours_keep_their_counts(store, seeded):
    def hourly(zone_id: str | None) -> dict[datetime, int]:
        return history.hourly(store, zone_id, YESTERDAY.date(), 2, tz=ZoneInfo("UTC"), now=NOW)

    before = {zone: hourly(zone) for zone in (None, "campfire", "glade")}
    assert presence.counts(store).zones == {"campfire": 1}
    erase(store)
    assert presence.counts(store).site == 0
    assert {zone: hourly(zone) for zone in ("campfire", "glade")} == {
        zone: before[zone] for zone in ("campfire", "glade")
    }
    # Site-wide, a person counts once per holder: each stay has its own now, so in the
    # hour she moved from the campfire to the glade she counts twice (docs/privacy.md).
    site = hourly(None)
    moved = at(YESTERDAY, 9)
    assert {hour: n for hour, n in site.items() if n != before[None][hour]} == {
        moved: before[None][moved] + 1
    }
    holders = [row[0] for row in store.query("SELECT member_id FROM presence ORDER BY id")]
    assert len(set(holders)) == 3
    assert all(h.startswith("erased-") for h in holders)
    unlinked = store.query(
        "SELECT 1 FROM presence WHERE start_event IS NOT NULL OR end_event IS NOT NULL"
        " OR visit_start != started_at"
    )
    assert unlinked == []


def test_a_late_tap_of_an_erased_member_is_stored_without_them_and_opens_no_stay(store, seeded):
    erase(store)
    stays = store.query("SELECT * FROM presence ORDER BY id")
    late = tap(NOW - timedelta(minutes=30), "glade", seeded.card_hash)
    result = Ingest(store, UTC_RULES, clock=lambda: NOW).process([late])
    assert result.stored == 1
    row = store.query_one("SELECT * FROM access_events WHERE id = ?", (late.message.id,))
    assert (row["member_id"], row["credential"], row["card_hint"], row["role"]) == (
        None,
        None,
        None,
        None,
    )
    assert [dict(r) for r in store.query("SELECT * FROM presence ORDER BY id")] == [
        dict(r) for r in stays
    ]


def test_a_guests_tap_is_stored_as_it_came(store, seeded):
    kept = tap(NOW - timedelta(minutes=5), "front", "ab" * 32, member_id=seeded.running_pass,
               role="guest")  # fmt: skip
    assert member_erasure.unless_erased(store.read(), kept.message) == kept.message


def test_unknown_members_and_tombstones_are_refused_and_nothing_changes(store, seeded):
    with pytest.raises(NotFound):
        member_erasure.erase(store, "m-nobody", ACTOR, NOW)
    result = erase(store)
    with pytest.raises(Invalid) as refused:
        member_erasure.erase(store, result.tombstone_id, ACTOR, NOW)
    assert refused.value.field == "member"
    with pytest.raises(NotFound):
        erase(store)


# --- the command line ---------------------------------------------------------------------


@pytest.fixture
def cli(hub: Hub) -> Hub:  # noqa: F811 (the fixture)
    """``hubtap`` on a hub with Yrsa and her records."""
    with hub.store() as store:
        yrsa(store)
    return hub


def test_export_data_writes_json_to_stdout_or_an_owner_only_file(cli):
    shown = json.loads(cli.ok("members", "export-data", MEMBER))
    assert (shown["member"]["id"], len(shown["credentials"])) == (MEMBER, 1)
    target = cli.folder / "yrsa.json"
    target.write_text("old")
    target.chmod(0o644)
    done = cli("members", "export-data", MEMBER, "--output", str(target))
    assert (done.status, done.out, done.err) == (
        0,
        "",
        f"exported {MEMBER}'s data to {target}\n",
    )
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    written = json.loads(target.read_text(encoding="utf-8"))
    assert (written["member"]["last_name"], written["format"]) == (
        "Quistgaard",
        member_export.FORMAT,
    )
    with cli.store() as store:
        exports = audit.find(store, action="member.export").entries
    assert [(e.actor.startswith("cli:"), e.target) for e in exports] == [(True, MEMBER)] * 2


def test_export_data_and_erase_of_an_unknown_member_fail_with_status_1(cli):
    for command in (("export-data", "m-nobody"), ("erase", "m-nobody", "--yes")):
        failed = cli("members", *command)
        assert (failed.status, failed.out, failed.err) == (1, "", "hubtap: no member 'm-nobody'\n")


def test_erase_refuses_without_yes_saying_what_it_will_do(cli):
    refused = cli("members", "erase", MEMBER)
    assert refused.status == 1
    assert refused.err.startswith(f"hubtap: erasing {MEMBER} (Yrsa Quistgaard) cancels their")
    assert refused.err.endswith("It cannot be undone: run again with --yes\n")
    with cli.store() as store:
        assert members.get(store, MEMBER).status == "active"


def test_erase_with_yes_erases_and_prints_the_counts(cli):
    out = cli.ok("members", "erase", MEMBER, "--yes")
    first, table = out.split("\n", 1)
    with cli.store() as store:
        [entry] = audit.find(store, action="member.erased").entries
        with pytest.raises(NotFound):
            members.get(store, MEMBER)
    assert first == f"{MEMBER} is erased; what is kept now belongs to {entry.target}"
    assert entry.actor.startswith("cli:")
    printed = rows(table)
    assert printed[0] == ["RECORD", "COUNT"]
    assert {name: int(n) for name, n in printed[1:]} == entry.detail


# --- the dashboard --------------------------------------------------------------------------


@pytest.fixture
def site(store: Store, seeded: Yrsa) -> Any:
    return site_for(store, config(hub={"timezone": "UTC"}))


@pytest.fixture
def operator(store: Store, site: Any) -> Browser:
    return signed_in(store, site)


def test_an_operator_downloads_the_export_as_a_json_attachment(store, operator):
    page = operator.get(f"/members/{MEMBER}")
    assert f'href="/members/{MEMBER}/export.json"' in page.text
    answer = operator.get(f"/members/{MEMBER}/export.json")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.headers["content-disposition"] == f'attachment; filename="{MEMBER}-data.json"'
    assert answer.json()["member"]["email"] == "yrsa.quistgaard@example.org"
    last = audit.entries(store, limit=1)[0]
    assert (last.actor, last.action, last.target) == ("web:operator", "member.export", MEMBER)
    assert operator.get("/members/m-nobody/export.json").status_code == 404


def test_erasing_asks_for_the_id_or_full_name_and_then_erases(store, operator):
    asked = operator.post(f"/members/{MEMBER}/erase")
    assert asked.status_code == 200
    assert "Type the member id (m-yrsa) or full name to confirm" in asked.text
    wrong = operator.post(f"/members/{MEMBER}/erase", {"confirmed": "yes", "confirm": "Yrsa"})
    assert wrong.status_code == 422
    assert f"type {MEMBER} or the member&#39;s full name" in wrong.text
    assert members.get(store, MEMBER).status == "active"
    done = operator.post(
        f"/members/{MEMBER}/erase", {"confirmed": "yes", "confirm": "  yrsa   QUISTGAARD "}
    )
    assert done.status_code == 303
    [entry] = audit.find(store, action="member.erased").entries
    assert (entry.actor, done.headers["location"]) == (
        "web:operator",
        f"/members?erased={entry.target}",
    )
    listed = operator.get(done.headers["location"])
    assert "The member is erased: 1 card(s) deleted, 3 future booking(s)" in listed.text
    assert f"kept as \u201cErased member\u201d ({entry.target})" in listed.text
    assert "Erase member" not in operator.get(f"/members/{entry.target}").text


def test_the_id_confirms_an_erasure_too_and_without_csrf_nothing_happens(store, operator):
    form = {"confirmed": "yes", "confirm": MEMBER}
    forged = operator.client.post(f"/members/{MEMBER}/erase", data=form)
    assert forged.status_code == 403
    assert members.get(store, MEMBER).status == "active"
    assert operator.post(f"/members/{MEMBER}/erase", form).status_code == 303
    with pytest.raises(NotFound):
        members.get(store, MEMBER)


def test_hosts_may_neither_export_nor_erase(store, site):
    host = signed_in(store, site, role="host")
    assert host.get(f"/members/{MEMBER}/export.json").status_code == 403
    erased = host.post(f"/members/{MEMBER}/erase", {"confirmed": "yes", "confirm": MEMBER})
    assert erased.status_code == 403
    assert members.get(store, MEMBER).status == "active"
    assert audit.find(store, action="member.e").entries == []
