"""Presence in the store: sessions rebuilt from the recorded movements.

New granted taps and check-outs are recorded first (``access_events``,
``checkouts``); then each member concerned has their sessions from the
earliest new movement on rebuilt by :func:`presence_rules.replay` from what
is recorded. Taps in order touch only the open session; a tap that arrives
late (a door that was offline) rewrites the stretch it falls into, so the
result never depends on the order events arrive in.
"""

import sqlite3
import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import sqlite_utils

from hub_server.config import HubConfig
from hub_server.presence_rules import Movement, PresenceRules, Session, expire, replay
from hub_server.store import Store, now_text, parse_time


def rules_from(config: HubConfig) -> PresenceRules:
    """The presence rules a hub's configuration sets."""
    closing = config.presence.closing_time
    return PresenceRules(
        timezone=ZoneInfo(config.hub.timezone),
        closing_time=None if closing is None else time.fromisoformat(closing),
        max_stay=timedelta(hours=config.presence.max_stay_h),
    )


def rebuild(
    db: sqlite_utils.Database,
    member_id: str,
    since: datetime,
    rules: PresenceRules,
    now: datetime,
) -> bool:
    """Rebuild ``member_id``'s sessions from ``since`` on; True if anything changed."""
    since_text = now_text(since)
    rows = db.execute(
        "SELECT * FROM presence WHERE member_id = ? AND (ended_at IS NULL OR ended_at >= ?)"
        " ORDER BY started_at LIMIT 1",
        (member_id, since_text),
    ).fetchall()
    start: Session | None = None
    skip_event: str | None = None
    cutoff = since_text
    if rows and rows[0]["started_at"] <= since_text:
        start = _session(rows[0], reopen=True)
        cutoff = rows[0]["started_at"]
        skip_event = rows[0]["start_event"]
    before = _sessions_from(db, member_id, cutoff)
    moves = movements(db, member_id, cutoff, skip_event)
    after = replay(moves, rules, now, start)
    if before == after:
        return False
    db.execute("DELETE FROM presence WHERE member_id = ? AND started_at >= ?", (member_id, cutoff))
    db.conn.executemany(_INSERT, [_row(s) for s in after])
    return True


def movements(
    db: sqlite_utils.Database, member_id: str, since: str, skip_event: str | None = None
) -> list[Movement]:
    """The member's recorded movements from ``since`` (granted taps and check-outs)."""
    rows = db.execute(
        "SELECT e.id, e.ts, d.direction, d.zone_id, d.room_id, NULL AS reason"
        " FROM access_events e JOIN doors d ON d.id = e.door_id"
        " WHERE e.member_id = ? AND e.ts >= ? AND e.granted = 1 AND e.id IS NOT ?"
        " UNION ALL SELECT id, ts, 'out', NULL, NULL, source FROM checkouts"
        " WHERE member_id = ? AND ts >= ?",
        (member_id, since, skip_event, member_id, since),
    ).fetchall()
    return [
        Movement(
            member_id=member_id,
            ts=_time(row["ts"]),
            direction=row["direction"],
            zone_id=row["zone_id"],
            room_id=row["room_id"],
            event_id=row["id"],
            reason=row["reason"],
        )
        for row in rows
    ]


def record_checkout(
    db: sqlite_utils.Database,
    member_id: str,
    at: datetime,
    source: Literal["kiosk", "operator"],
    checkout_id: str | None = None,
) -> bool:
    """Record a check-out (idempotent by id); True if it was new."""
    cursor = db.execute(
        "INSERT OR IGNORE INTO checkouts (id, member_id, ts, source) VALUES (?, ?, ?, ?)",
        (checkout_id or str(uuid.uuid4()), member_id, now_text(at), source),
    )
    return cursor.rowcount == 1


def is_present(db: sqlite_utils.Database | Store, member_id: str) -> bool:
    """True if the member has an open session."""
    conn = db.read() if isinstance(db, Store) else db
    row = conn.execute(
        "SELECT 1 FROM presence WHERE member_id = ? AND ended_at IS NULL", (member_id,)
    ).fetchone()
    return row is not None


def expire_due(db: sqlite_utils.Database, rules: PresenceRules, now: datetime) -> int:
    """End every open session whose stay ran out by ``now``; returns how many."""
    ended = 0
    for row in db.execute("SELECT * FROM presence WHERE ended_at IS NULL").fetchall():
        closed = expire(_session(row), now, rules)
        if closed is not None:
            db.execute(
                "UPDATE presence SET ended_at = ?, end_reason = ? WHERE id = ?",
                (now_text(closed.ended_at), closed.end_reason, row["id"]),
            )
            ended += 1
    return ended


@dataclass(frozen=True)
class Counts:
    """People present now: on the site, per zone and per room."""

    site: int
    zones: dict[str, int]
    rooms: dict[str, int]


def counts(store: Store) -> Counts:
    """How many people are in, from the open sessions."""
    rows = store.query(
        "SELECT zone_id, room_id, count(*) AS n FROM presence WHERE ended_at IS NULL"
        " GROUP BY zone_id, room_id"
    )
    zones: dict[str, int] = {}
    rooms: dict[str, int] = {}
    for row in rows:
        if row["zone_id"] is not None:
            zones[row["zone_id"]] = zones.get(row["zone_id"], 0) + row["n"]
        if row["room_id"] is not None:
            rooms[row["room_id"]] = rooms.get(row["room_id"], 0) + row["n"]
    return Counts(sum(row["n"] for row in rows), zones, rooms)


def present(store: Store) -> list[Session]:
    """Open sessions, oldest first (operators only: who is in)."""
    rows = store.query("SELECT * FROM presence WHERE ended_at IS NULL ORDER BY started_at")
    return [_session(row) for row in rows]


@dataclass(frozen=True)
class PersonIn:
    """Someone in now, named (operators only)."""

    member_id: str
    first_name: str
    last_name: str
    organisation: str | None
    zone: str | None
    room: str | None
    since: datetime
    visit_start: datetime


def who_is_in(store: Store) -> list[PersonIn]:
    """Everyone in now with their name and where they are, by name; a guest (whose stays
    carry their pass id) shows as "Guest of" their host instead of an organisation."""
    rows = store.query(
        "SELECT p.member_id, coalesce(m.first_name, g.first_name) AS first_name,"
        " coalesce(m.last_name, '') AS last_name,"
        " CASE WHEN g.id IS NULL THEN o.name"
        " ELSE 'Guest of ' || h.first_name || ' ' || h.last_name END AS organisation,"
        " z.name AS zone, r.name AS room, p.started_at, p.visit_start"
        " FROM presence p LEFT JOIN members m ON m.id = p.member_id"
        " LEFT JOIN guest_passes g ON m.id IS NULL AND g.id = p.member_id"
        " LEFT JOIN members h ON h.id = g.host_member_id"
        " LEFT JOIN organisations o ON o.id = m.organisation_id"
        " LEFT JOIN zones z ON z.id = p.zone_id LEFT JOIN rooms r ON r.id = p.room_id"
        " WHERE p.ended_at IS NULL AND (m.id IS NOT NULL OR g.id IS NOT NULL)"
        " ORDER BY coalesce(m.search, lower(g.first_name)), p.member_id"
    )
    return [
        PersonIn(
            member_id=row["member_id"],
            first_name=row["first_name"],
            last_name=row["last_name"],
            organisation=row["organisation"],
            zone=row["zone"],
            room=row["room"],
            since=_time(row["started_at"]),
            visit_start=_time(row["visit_start"]),
        )
        for row in rows
    ]


def history(store: Store, member_id: str, limit: int = 100) -> list[Session]:
    """A member's sessions, newest first."""
    rows = store.query(
        "SELECT * FROM presence WHERE member_id = ? ORDER BY started_at DESC LIMIT ?",
        (member_id, limit),
    )
    return [_session(row) for row in rows]


def _sessions_from(db: sqlite_utils.Database, member_id: str, since: str) -> list[Session]:
    rows = db.execute(
        "SELECT * FROM presence WHERE member_id = ? AND started_at >= ? ORDER BY started_at, id",
        (member_id, since),
    ).fetchall()
    return [_session(row) for row in rows]


def _session(row: sqlite3.Row, *, reopen: bool = False) -> Session:
    ended = not reopen
    return Session(
        member_id=row["member_id"],
        zone_id=row["zone_id"],
        room_id=row["room_id"],
        started_at=_time(row["started_at"]),
        visit_start=_time(row["visit_start"]),
        start_event=row["start_event"],
        ended_at=parse_time(row["ended_at"]) if ended else None,
        end_reason=row["end_reason"] if ended else None,
        end_event=row["end_event"] if ended else None,
    )


_INSERT = (
    "INSERT INTO presence (member_id, zone_id, room_id, started_at, visit_start, start_event,"
    " ended_at, end_reason, end_event) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _row(session: Session) -> tuple[str | None, ...]:
    """A session as the values of :data:`_INSERT` (plain SQL: ingest calls this per member)."""
    return (
        session.member_id,
        session.zone_id,
        session.room_id,
        now_text(session.started_at),
        now_text(session.visit_start),
        session.start_event,
        None if session.ended_at is None else now_text(session.ended_at),
        session.end_reason,
        session.end_event,
    )


def _time(value: object) -> datetime:
    parsed = parse_time(str(value))
    assert parsed is not None
    return parsed
