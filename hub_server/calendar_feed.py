"""Calendar feeds (iCalendar, RFC 5545): public events for anyone, a member's own behind a token.

- **Public** (``/calendar.ics``): scheduled events with visibility ``open``
  from :data:`PAST_DAYS` ago to :data:`AHEAD_DAYS` ahead, each with its
  place (room or zone), the free seats when the feed was made and the host's
  first name; never who signed up. Events cancelled in that span stay in the
  feed as ``STATUS:CANCELLED``, so subscribed calendars drop them.
- **A member's own** (``/calendar/member/<token>.ics``): the events they
  signed up for (``CONFIRMED``, or ``TENTATIVE`` while on the waitlist, with
  their place in it), the events they host and their room bookings.

A member's token is shown once when issued (``htc_`` and 43 URL-safe
characters) and stored as its SHA-256; issuing a new one replaces the old,
so a leaked address is closed by issuing again.
"""

import secrets
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import icalendar

from hub_server import audit
from hub_server.errors import NotFound
from hub_server.store import Store, now_text, parse_time
from hub_server.tokens import token_hash

TOKEN_PREFIX = "htc_"  # noqa: S105 (a prefix, not a secret)
MAX_TOKEN_LENGTH = 100
PAST_DAYS = 30
AHEAD_DAYS = 180
PRODUCT_ID = "-//hubtap//calendar//EN"


@dataclass(frozen=True)
class FeedItem:
    """One entry of a feed."""

    uid: str
    summary: str
    starts_at: datetime
    ends_at: datetime
    updated_at: datetime
    description: str = ""
    location: str = ""
    status: str = "CONFIRMED"  # or TENTATIVE, CANCELLED


_EVENT_COLUMNS = (
    "e.id, e.title, e.description, e.starts_at, e.ends_at, e.capacity, e.status,"
    " e.updated_at, m.first_name AS host, COALESCE(r.name, z.name, '') AS place,"
    " (SELECT COALESCE(SUM(1 + c.guests), 0) FROM signups c"
    "   WHERE c.event_id = e.id AND c.status = 'confirmed')"
    " + (SELECT COUNT(*) FROM invitations i WHERE i.event_id = e.id AND i.status = 'invited')"
    " AS taken"
)
_EVENT_JOINS = (
    " JOIN members m ON m.id = e.host_member_id"
    " LEFT JOIN rooms r ON r.id = e.room_id LEFT JOIN zones z ON z.id = e.zone_id"
)


def public_items(store: Store, now: datetime) -> list[FeedItem]:
    """The open events around ``now``: seats and the host's first name, no attendees."""
    rows = store.query(
        f"SELECT {_EVENT_COLUMNS} FROM events e {_EVENT_JOINS}"  # noqa: S608 (constants)
        " WHERE e.visibility = 'open' AND e.ends_at >= ? AND e.starts_at < ?"
        " ORDER BY e.starts_at, e.id",
        (now_text(now - timedelta(days=PAST_DAYS)), now_text(now + timedelta(days=AHEAD_DAYS))),
    )
    items = []
    for row in rows:
        free = max(0, row["capacity"] - row["taken"])
        lines = [f"Hosted by {row['host']}.", f"{free} of {row['capacity']} seats free."]
        if row["description"]:
            lines.insert(0, row["description"])
        items.append(_event_item(row, "\n\n".join(lines), _status(row["status"])))
    return items


def member_items(store: Store, member_id: str, now: datetime) -> list[FeedItem]:
    """A member's signups, hosted events and room bookings around ``now``."""
    since = now_text(now - timedelta(days=PAST_DAYS))
    until = now_text(now + timedelta(days=AHEAD_DAYS))
    items: dict[str, FeedItem] = {}
    hosted = store.query(
        f"SELECT {_EVENT_COLUMNS} FROM events e {_EVENT_JOINS}"  # noqa: S608 (constants)
        " WHERE e.host_member_id = ? AND e.ends_at >= ? AND e.starts_at < ?",
        (member_id, since, until),
    )
    for row in hosted:
        text = f"You host this. {row['taken']} of {row['capacity']} seats taken."
        items[row["id"]] = _event_item(row, text, _status(row["status"]))
    signed = store.query(
        f"SELECT {_EVENT_COLUMNS}, s.status AS signup, s.guests, s.id AS queue_id"  # noqa: S608
        f" FROM signups s JOIN events e ON e.id = s.event_id {_EVENT_JOINS}"
        " WHERE s.member_id = ? AND s.status != 'cancelled' AND e.ends_at >= ?"
        " AND e.starts_at < ?",
        (member_id, since, until),
    )
    for row in signed:
        if row["id"] in items:
            continue
        if row["signup"] == "waitlisted":
            place = _queue_place(store, row["id"], row["queue_id"])
            text, status = f"You are number {place} on the waitlist.", "TENTATIVE"
        else:
            text, status = "You are signed up.", "CONFIRMED"
        if row["guests"]:
            text += f" With {row['guests']} colleague(s)."
        items[row["id"]] = _event_item(row, text, _status(row["status"], status))
    for row in store.query(
        "SELECT b.id, b.starts_at, b.ends_at, b.status, b.created_at, b.cancelled_at,"
        " r.name AS room FROM bookings b JOIN rooms r ON r.id = b.room_id"
        " WHERE b.member_id = ? AND b.event_id IS NULL AND b.ends_at >= ? AND b.starts_at < ?",
        (member_id, since, until),
    ):
        items[row["id"]] = FeedItem(
            uid=row["id"],
            summary=f"{row['room']} booked",
            starts_at=_time(row["starts_at"]),
            ends_at=_time(row["ends_at"]),
            updated_at=_time(row["cancelled_at"] or row["created_at"]),
            location=row["room"],
            status=_status(row["status"]),
        )
    return sorted(items.values(), key=lambda item: (item.starts_at, item.uid))


def render(items: Iterable[FeedItem], *, name: str, site_id: str, now: datetime) -> bytes:
    """``items`` as an iCalendar document (UTF-8, CRLF lines folded at 75 octets)."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    for item in items:
        event = icalendar.Event()
        event.add("uid", f"{item.uid}@{site_id}.hubtap")
        event.add("dtstamp", now)
        event.add("last-modified", item.updated_at)
        event.add("dtstart", item.starts_at)
        event.add("dtend", item.ends_at)
        event.add("summary", item.summary)
        if item.description:
            event.add("description", item.description)
        if item.location:
            event.add("location", item.location)
        event.add("status", item.status)
        calendar.add_component(event)
    document: bytes = calendar.to_ical()
    return document


def issue_token(store: Store, member_id: str, actor: str) -> str:
    """A new private feed token for ``member_id`` (replacing any earlier one); shown once."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with store.write() as db:
        if db.execute("SELECT 1 FROM members WHERE id = ?", (member_id,)).fetchone() is None:
            raise NotFound(f"no member {member_id!r}")
        db.execute(
            "INSERT INTO calendar_tokens (member_id, token_hash, created_at) VALUES (?, ?, ?)"
            " ON CONFLICT (member_id) DO UPDATE SET token_hash = excluded.token_hash,"
            " created_at = excluded.created_at",
            (member_id, token_hash(token), now_text()),
        )
        audit.record(db, actor, "calendar.token", member_id)
    return token


def revoke_token(store: Store, member_id: str, actor: str) -> bool:
    """Close ``member_id``'s private feed; False if there was none."""
    with store.write() as db:
        cursor = db.execute("DELETE FROM calendar_tokens WHERE member_id = ?", (member_id,))
        if cursor.rowcount:
            audit.record(db, actor, "calendar.revoke", member_id)
    return bool(cursor.rowcount)


def member_of_token(store: Store, token: str) -> str | None:
    """The member whose private feed ``token`` opens, if any."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > MAX_TOKEN_LENGTH:
        return None
    row = store.query_one(
        "SELECT c.member_id FROM calendar_tokens c JOIN members m ON m.id = c.member_id"
        " WHERE c.token_hash = ? AND m.status != 'inactive'",
        (token_hash(token),),
    )
    return None if row is None else str(row[0])


def _event_item(row: sqlite3.Row, description: str, status: str) -> FeedItem:
    return FeedItem(
        uid=row["id"],
        summary=row["title"],
        starts_at=_time(row["starts_at"]),
        ends_at=_time(row["ends_at"]),
        updated_at=_time(row["updated_at"]),
        description=description,
        location=row["place"],
        status=status,
    )


def _status(stored: str, live: str = "CONFIRMED") -> str:
    return "CANCELLED" if stored == "cancelled" else live


def _queue_place(store: Store, event_id: str, queue_id: int) -> int:
    row = store.query_one(
        "SELECT COUNT(*) FROM signups WHERE event_id = ? AND status = 'waitlisted' AND id <= ?",
        (event_id, queue_id),
    )
    return int(row[0]) if row else 1


def _time(text: str) -> datetime:
    moment = parse_time(text)
    assert moment is not None
    return moment
