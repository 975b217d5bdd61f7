"""A member's data export: everything the hub holds about one member, as JSON.

What it holds (``docs/privacy.md``): the profile; the cards (with their keyed hashes,
the member's identifiers on the doors' lists); every tap (granted or not) by the member
or with one of their cards; presence stays and check-outs; card enrolments; sign-ups
(with each event's title and times); the events they host; their room bookings; the guest
passes they registered (the guest's first name is the member's own record); the
notifications addressed to them; whether they have a private calendar address (never the
token); and the audit-log entries about them (targeting them, or naming their id).

Every table holding a member's id is a :data:`SECTIONS` entry (or the profile, the
calendar token or the audit log), and a test checks that no such column is left out.
The export is one transaction, recorded in the audit log (``member.export``).
"""

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hub_server import audit
from hub_server.errors import NotFound
from hub_server.store import Store, now_text
from hublink.messages import utcnow

FORMAT = "hubtap-member-export/1"
"""The export's ``format``: its name and version (a new version when fields change)."""

MemberColumn = tuple[str, str]
"""A ``(table, column)`` that holds a member's id."""


@dataclass(frozen=True)
class Section:
    """One list in the export: the rows ``sql`` selects (parameter ``:member``) from the
    table whose ``column`` holds the member's id."""

    name: str
    column: MemberColumn
    sql: str


MEMBER_CARDS = "SELECT hash FROM credentials WHERE member_id = :member"
"""SQL: the hashes of the member's cards, revoked ones too."""

SECTIONS: tuple[Section, ...] = (
    Section(
        "credentials",
        ("credentials", "member_id"),
        "SELECT id, kind, label, hint, hash, status, issued_at, revoked_at FROM credentials"
        " WHERE member_id = :member ORDER BY id",
    ),
    Section(
        "access_events",
        ("access_events", "member_id"),
        "SELECT id, ts, door_id, reader_id, granted, reason, role, credential, card_hint,"  # noqa: S608
        " received_at FROM access_events"
        f" WHERE member_id = :member OR credential IN ({MEMBER_CARDS}) ORDER BY ts, id",
    ),
    Section(
        "presence",
        ("presence", "member_id"),
        "SELECT id, zone_id, room_id, visit_start, started_at, ended_at, end_reason"
        " FROM presence WHERE member_id = :member ORDER BY started_at, id",
    ),
    Section(
        "checkouts",
        ("checkouts", "member_id"),
        "SELECT id, ts, source FROM checkouts WHERE member_id = :member ORDER BY ts, id",
    ),
    Section(
        "enrolments",
        ("enrolments", "member_id"),
        "SELECT id, door_id, kind, label, status, requested_by, requested_at, expires_at,"
        " credential_id FROM enrolments WHERE member_id = :member ORDER BY id",
    ),
    Section(
        "signups",
        ("signups", "member_id"),
        "SELECT s.id, s.event_id, e.title AS event_title, e.starts_at AS event_starts_at,"
        " e.ends_at AS event_ends_at, s.status, s.guests, s.source, s.created_at,"
        " s.updated_at, s.promoted_at, s.cancelled_at, s.attended_at"
        " FROM signups s JOIN events e ON e.id = s.event_id"
        " WHERE s.member_id = :member ORDER BY e.starts_at, s.id",
    ),
    Section(
        "hosted_events",
        ("events", "host_member_id"),
        "SELECT id, title, description, zone_id, room_id, starts_at, ends_at, capacity,"
        " visibility, max_guests, status, created_at, updated_at FROM events"
        " WHERE host_member_id = :member ORDER BY starts_at, id",
    ),
    Section(
        "bookings",
        ("bookings", "member_id"),
        "SELECT b.id, b.room_id, r.name AS room, b.organisation_id, b.event_id, b.starts_at,"
        " b.ends_at, b.status, b.office_minutes, b.off_hours_minutes, b.amount_cents,"
        " b.source, b.created_at, b.cancelled_at"
        " FROM bookings b JOIN rooms r ON r.id = b.room_id"
        " WHERE b.member_id = :member ORDER BY b.starts_at, b.id",
    ),
    Section(
        "guest_passes",
        ("guest_passes", "host_member_id"),
        "SELECT id, first_name, event_id, day, valid_from, valid_until, hint,"
        " credential IS NOT NULL AS has_card, status, source, created_at, cancelled_at"
        " FROM guest_passes WHERE host_member_id = :member ORDER BY day, created_at, id",
    ),
    Section(
        "notifications",
        ("notifications", "member_id"),
        "SELECT id, kind, event_id, body, created_at, attempts, delivered_at"
        " FROM notifications WHERE member_id = :member ORDER BY id",
    ),
)

PROFILE: MemberColumn = ("members", "id")
CALENDAR: MemberColumn = ("calendar_tokens", "member_id")

EXPORTED: frozenset[MemberColumn] = frozenset(
    {PROFILE, CALENDAR, *(section.column for section in SECTIONS)}
)
"""Every column holding a member's id that the export reads."""

_JSON_COLUMNS = frozenset({"body", "detail"})
"""Columns stored as JSON text: exported as the values they hold."""

ABOUT_MEMBER = "target = :member OR instr(detail, :quoted) > 0"
"""SQL: the audit-log entries about a member (parameters :func:`about_params`)."""


def about_params(member_id: str) -> dict[str, str]:
    """The parameters of :data:`ABOUT_MEMBER` (the id as a JSON string, quotes and all)."""
    return {"member": member_id, "quoted": json.dumps(member_id)}


def export(
    store: Store, member_id: str, *, actor: str, now: datetime | None = None
) -> dict[str, Any]:
    """Everything held about ``member_id``, JSON-ready; :class:`NotFound` if no such member.

    Read in one transaction, which also records the export in the audit log.
    """
    now = now or utcnow()
    with store.write() as db:
        conn = db.conn
        profile = conn.execute(
            "SELECT m.id, m.first_name, m.last_name, m.email, m.organisation_id,"
            " o.name AS organisation, m.tier, m.role, m.status, m.valid_from, m.valid_until,"
            " m.created_at, m.updated_at"
            " FROM members m LEFT JOIN organisations o ON o.id = m.organisation_id"
            " WHERE m.id = ?",
            (member_id,),
        ).fetchone()
        if profile is None:
            raise NotFound(f"no member {member_id!r}")
        params = {"member": member_id}
        data: dict[str, Any] = {
            "format": FORMAT,
            "exported_at": now_text(now),
            "member": _values(profile),
        }
        for section in SECTIONS:
            data[section.name] = _rows(conn, section.sql, params)
        token = conn.execute(
            "SELECT created_at FROM calendar_tokens WHERE member_id = ?", (member_id,)
        ).fetchone()
        data["calendar"] = {
            "has_private_address": token is not None,
            "issued_at": None if token is None else token[0],
        }
        data["audit_log"] = _rows(
            conn,
            f"SELECT id, ts, actor, action, target, detail FROM audit_log WHERE {ABOUT_MEMBER}"  # noqa: S608
            " ORDER BY id",
            about_params(member_id),
        )
        audit.record(db, actor, "member.export", member_id)
    return data


def _rows(conn: sqlite3.Connection, sql: str, params: dict[str, str]) -> list[dict[str, Any]]:
    return [_values(row) for row in conn.execute(sql, params)]


def _values(row: sqlite3.Row) -> dict[str, Any]:
    return {
        key: json.loads(row[key]) if key in _JSON_COLUMNS and row[key] else row[key]
        for key in row.keys()  # noqa: SIM118  (sqlite3.Row iterates its values)
    }
