"""Erasing a member: the person and their identifiers go; anonymous counts and billing stay.

What :func:`erase` does (``docs/privacy.md``, "Your rights"):

1. Gives back what they hold in the future, through the services and their rules: room
   bookings that have not started (the room frees), guest passes still running (they
   leave the doors and kiosks), and sign-ups for events that have not started (the
   waitlist moves up, and those promoted are notified).
2. Ends an open presence stay now (the occupancy drops).
3. Puts a *tombstone* in the member's place: a new inactive member ``erased-<hex>``
   named "Erased member", with no email, keeping the organisation and tier. It takes
   over what must stay for the hub's records: past and cancelled sign-ups and bookings
   (billing per organisation is unchanged), the events they host, and past guest passes.
4. Deletes their cards (the hashes), enrolments, calendar address, check-outs and the
   notifications addressed to them, then the member row itself.
5. Keeps the access log's rows for the doors' statistics but without the member's id,
   card hash, card hint or role; and gives each presence stay its own random holder
   (``erased-<hex>``), without the taps that began and ended it, so the occupancy charts
   keep their counts but the stays cannot be linked to each other or to the person. (A
   site-wide hourly count counts a person once per holder: in an hour in which the erased
   member moved between zones they now count once per stay.)
6. Points every audit-log entry about them at the tombstone, with the member's id
   replaced and their names, email and card hints redacted; then records
   ``member.erased`` (who did it, the tombstone, the counts; never the name).

Steps 2-6 are one transaction. Deleting cards and the member bumps the doors' and kiosks'
counters, so the running hub publishes new lists and directories within its poll interval.

A door that was offline may later deliver taps of the erased member; :func:`unless_erased`
makes such an event anonymous before the hub stores it, so nothing is brought back.
"""

import json
import secrets
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlite_utils

from hub_server import audit, bookings, guests, members, signups
from hub_server.errors import Conflict, Invalid, NotFound, Refused
from hub_server.member_export import ABOUT_MEMBER, MEMBER_CARDS, MemberColumn, about_params
from hub_server.models import MemberIn, build
from hub_server.store import Store, now_text
from hublink.messages import AccessEvent

ERASED_PREFIX = "erased-"
"""Tombstones and anonymous presence holders have ids starting with it."""
TOMBSTONE_FIRST_NAME = "Erased"
TOMBSTONE_LAST_NAME = "member"
TOMBSTONE_NAME = f"{TOMBSTONE_FIRST_NAME} {TOMBSTONE_LAST_NAME}"
REDACTED = "[erased]"
PERSONAL_KEYS = frozenset({"name", "first_name", "last_name", "email", "hint"})
"""Audit details that say who the member is or which card they had."""
ATTEMPTS = 3
"""Times :func:`erase` gives back what the member booked meanwhile before it gives up."""

REPOINTED: tuple[MemberColumn, ...] = (
    ("signups", "member_id"),
    ("bookings", "member_id"),
    ("events", "host_member_id"),
    ("guest_passes", "host_member_id"),
)
"""What the tombstone takes over (after the future is given back)."""
DELETED: tuple[MemberColumn, ...] = (
    ("enrolments", "member_id"),  # before the cards it may name
    ("credentials", "member_id"),
    ("calendar_tokens", "member_id"),
    ("checkouts", "member_id"),
    ("notifications", "member_id"),
)
"""What goes with the member."""
ANONYMISED: tuple[MemberColumn, ...] = (("access_events", "member_id"), ("presence", "member_id"))
"""What stays without them (see the module's notes)."""

ERASED: frozenset[MemberColumn] = frozenset({("members", "id"), *REPOINTED, *DELETED, *ANONYMISED})
"""Every column holding a member's id that erasure clears."""

_FUTURE_BOOKINGS = (
    "SELECT id FROM bookings WHERE member_id = ? AND status = 'booked' AND event_id IS NULL"
    " AND starts_at > ? ORDER BY starts_at"
)
_RUNNING_PASSES = (
    "SELECT id FROM guest_passes WHERE host_member_id = ? AND status = 'active'"
    " AND valid_until > ? ORDER BY valid_from"
)
_FUTURE_SIGNUPS = (
    "SELECT s.event_id FROM signups s JOIN events e ON e.id = s.event_id"
    " WHERE s.member_id = ? AND s.status != 'cancelled' AND e.status = 'scheduled'"
    " AND e.starts_at > ? ORDER BY e.starts_at, s.id"
)


@dataclass(frozen=True)
class ErasureResult:
    """What an erasure did: the tombstone that replaced the member, counts per table and
    change (``"signups.cancelled"``), and the members promoted from waitlists."""

    tombstone_id: str
    counts: dict[str, int]
    promoted: tuple[str, ...] = field(default=())


def new_anonymous_id() -> str:
    """A random ``erased-…`` id (64 bits), for a tombstone or an anonymous stay."""
    return f"{ERASED_PREFIX}{secrets.token_hex(8)}"


def is_tombstone(member_id: str) -> bool:
    """True for the id of a tombstone (an erased member's stand-in)."""
    return member_id.startswith(ERASED_PREFIX)


def erase(store: Store, member_id: str, actor: str, now: datetime) -> ErasureResult:
    """Erase ``member_id`` (see the module's notes); :class:`NotFound` for no such member,
    :class:`Invalid` for a tombstone, :class:`Conflict` if the member keeps booking."""
    if is_tombstone(member_id):
        raise Invalid("member", f"{member_id} is already an erased member's stand-in")
    for _ in range(ATTEMPTS):
        given_back = _give_back(store, member_id, actor, now)
        with store.write() as db:
            if not _holds_future(db, member_id, now):  # nothing booked meanwhile
                return _erase(store, db, member_id, actor=actor, now=now, counts=given_back)
    raise Conflict(f"{member_id} keeps booking rooms or guests: erasure stopped; try again")


def _give_back(store: Store, member_id: str, actor: str, now: datetime) -> dict[str, int]:
    """Cancel the member's future bookings and running guest passes, through their services
    (each its own transaction: they read back what they wrote)."""
    if store.query_one("SELECT 1 FROM members WHERE id = ?", (member_id,)) is None:
        raise NotFound(f"no member {member_id!r}")
    moment = now_text(now)
    cancelled = {"bookings.cancelled": 0, "guest_passes.cancelled": 0}
    for (booking_id,) in store.query(_FUTURE_BOOKINGS, (member_id, moment)):
        try:
            bookings.cancel(store, booking_id, actor=actor, now=now)
        except Refused:  # it started meanwhile: it stays, billed, with the tombstone
            continue
        cancelled["bookings.cancelled"] += 1
    for (pass_id,) in store.query(_RUNNING_PASSES, (member_id, moment)):
        try:
            guests.cancel(store, pass_id, actor=actor, now=now)
        except Conflict:  # cancelled meanwhile
            continue
        cancelled["guest_passes.cancelled"] += 1
    return cancelled


def _holds_future(db: sqlite_utils.Database, member_id: str, now: datetime) -> bool:
    moment = now_text(now)
    return any(
        db.execute(sql, (member_id, moment)).fetchone() is not None
        for sql in (_FUTURE_BOOKINGS, _RUNNING_PASSES)
    )


def _erase(
    store: Store,
    db: sqlite_utils.Database,
    member_id: str,
    *,
    actor: str,
    now: datetime,
    counts: dict[str, int],
) -> ErasureResult:
    """Steps 2-6, inside the caller's write (``db``, of ``store``)."""
    member = db.execute(
        "SELECT organisation_id, tier FROM members WHERE id = ?", (member_id,)
    ).fetchone()
    if member is None:
        raise NotFound(f"no member {member_id!r}")
    counts = dict(counts)
    promoted: list[str] = []
    future = db.execute(_FUTURE_SIGNUPS, (member_id, now_text(now))).fetchall()
    for (event_id,) in future:
        result = signups.cancel(store, event_id, member_id, actor=actor, now=now, force=True)
        promoted += result.promoted
    counts["signups.cancelled"] = len(future)
    counts["presence.ended"] = db.execute(
        "UPDATE presence SET ended_at = ?, end_reason = 'operator'"
        " WHERE member_id = ? AND ended_at IS NULL",
        (now_text(now), member_id),
    ).rowcount
    tombstone = members.insert(
        db,
        build(
            MemberIn,
            id=new_anonymous_id(),
            first_name=TOMBSTONE_FIRST_NAME,
            last_name=TOMBSTONE_LAST_NAME,
            organisation=member["organisation_id"],
            tier=member["tier"],
            status="inactive",
        ),
    )
    for table, column in REPOINTED:
        counts[f"{table}.kept"] = db.execute(
            f"UPDATE {table} SET {column} = ? WHERE {column} = ?",  # noqa: S608  (ours)
            (tombstone, member_id),
        ).rowcount
    counts["access_events.anonymised"] = db.execute(
        "UPDATE access_events SET member_id = NULL, credential = NULL, card_hint = NULL,"  # noqa: S608
        f" role = NULL WHERE member_id = :member OR credential IN ({MEMBER_CARDS})",
        {"member": member_id},
    ).rowcount
    for table, column in DELETED:
        counts[f"{table}.deleted"] = db.execute(
            f"DELETE FROM {table} WHERE {column} = ?",  # noqa: S608  (ours)
            (member_id,),
        ).rowcount
    counts["presence.anonymised"] = _anonymise_stays(db, member_id)
    counts["audit_log.redacted"] = _redact_audit(db, member_id, tombstone)
    db.execute("DELETE FROM members WHERE id = ?", (member_id,))
    audit.record(db, actor, "member.erased", tombstone, **counts)
    return ErasureResult(tombstone, counts, tuple(promoted))


def _anonymise_stays(db: sqlite_utils.Database, member_id: str) -> int:
    """Give each of the member's stays its own random holder; unlink it from the taps
    (``start_event``, ``end_event``) and from the visit (``visit_start``)."""
    stays = [
        row[0] for row in db.execute("SELECT id FROM presence WHERE member_id = ?", (member_id,))
    ]
    db.conn.executemany(
        "UPDATE presence SET member_id = ?, visit_start = started_at, start_event = NULL,"
        " end_event = NULL WHERE id = ?",
        [(new_anonymous_id(), stay_id) for stay_id in stays],
    )
    return len(stays)


def _redact_audit(db: sqlite_utils.Database, member_id: str, tombstone: str) -> int:
    """Point the audit-log entries about the member at the tombstone, redacted."""
    rows = db.execute(
        f"SELECT id, target, detail FROM audit_log WHERE {ABOUT_MEMBER}",  # noqa: S608
        about_params(member_id),
    ).fetchall()
    for row in rows:
        about = row["target"] == member_id
        detail = _redacted(json.loads(row["detail"]), member_id, tombstone, personal=about)
        db.execute(
            "UPDATE audit_log SET target = ?, detail = ? WHERE id = ?",
            (
                tombstone if about else row["target"],
                json.dumps(detail, ensure_ascii=False),
                row["id"],
            ),
        )
    return len(rows)


def _redacted(value: Any, member_id: str, tombstone: str, *, personal: bool) -> Any:
    """``value`` (an audit detail) with the member's id replaced and, if ``personal``,
    every :data:`PERSONAL_KEYS` value redacted."""
    if isinstance(value, dict):
        return {
            key: REDACTED
            if personal and key in PERSONAL_KEYS and item is not None
            else _redacted(item, member_id, tombstone, personal=personal)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_redacted(item, member_id, tombstone, personal=personal) for item in value]
    return tombstone if value == member_id else value


def erasure_counts(store: Store, tombstone_id: str) -> dict[str, int] | None:
    """The counts the erasure that left ``tombstone_id`` recorded (``None``: no such one)."""
    row = store.query_one(
        "SELECT detail FROM audit_log WHERE action = 'member.erased' AND target = ?"
        " ORDER BY id DESC LIMIT 1",
        (tombstone_id,),
    )
    if row is None:
        return None
    counts: dict[str, int] = json.loads(row[0])
    return counts


# --- late taps -----------------------------------------------------------------------


def holder_known(conn: sqlite3.Connection | sqlite_utils.Database, holder_id: str) -> bool:
    """True if ``holder_id`` is a member's or a guest pass's id (an access list holder)."""
    row = conn.execute(
        "SELECT 1 FROM members WHERE id = ? UNION ALL SELECT 1 FROM guest_passes WHERE id = ?",
        (holder_id, holder_id),
    ).fetchone()
    return row is not None


def unless_erased(
    conn: sqlite3.Connection | sqlite_utils.Database, event: AccessEvent
) -> AccessEvent:
    """``event``, or an anonymous copy of it (no member, card, hint or role) when it names a
    holder the hub no longer knows: an erased member's tap from a door that was offline.
    The hub's ingest stores this, so a late tap neither stores their identifiers again nor
    opens a presence stay."""
    if event.member_id is None or holder_known(conn, event.member_id):
        return event
    return event.model_copy(
        update={"member_id": None, "credential": None, "card_hint": None, "role": None}
    )
