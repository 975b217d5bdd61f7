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
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import icalendar

from hub_server import audit, bookings, events, signups
from hub_server.errors import NotFound
from hub_server.store import Store, now_text
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


def public_items(store: Store, now: datetime) -> list[FeedItem]:
    """The open events around ``now``: seats and the host's first name, no attendees."""
    since, until = _span(now)
    items = []
    for event in events.find(
        store, since=since, until=until, visibility="open", include_cancelled=True
    ):
        lines = [f"Hosted by {event.host_first_name}.",
                 f"{max(0, event.free)} of {event.capacity} seats free."]  # fmt: skip
        if event.description:
            lines.insert(0, event.description)
        items.append(_event_item(event, "\n\n".join(lines)))
    return items


def member_items(store: Store, member_id: str, now: datetime) -> list[FeedItem]:
    """A member's signups, hosted events and room bookings around ``now``."""
    since, until = _span(now)
    items: dict[str, FeedItem] = {}
    for event in events.find(
        store, since=since, until=until, host=member_id, include_cancelled=True
    ):
        text = f"You host this. {event.taken} of {event.capacity} seats taken."
        items[event.id] = _event_item(event, text)
    for signup in signups.of_member(store, member_id, since=since, until=until):
        if signup.event_id in items:
            continue
        if signup.status == "waitlisted":
            text, status = f"You are number {signup.position} on the waitlist.", "TENTATIVE"
        else:
            text, status = "You are signed up.", "CONFIRMED"
        if signup.guests:
            text += f" With {signup.guests} colleague(s)."
        items[signup.event_id] = _event_item(events.get(store, signup.event_id), text, status)
    for booking in bookings.of_member(
        store, member_id, since=since, until=until, include_cancelled=True
    ):
        if booking.event_id is not None:
            continue
        items[booking.id] = FeedItem(
            uid=booking.id,
            summary=f"{booking.room_name} booked",
            starts_at=booking.starts_at,
            ends_at=booking.ends_at,
            updated_at=booking.cancelled_at or booking.created_at,
            location=booking.room_name,
            status=_status(booking.status),
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


def _event_item(event: events.Event, description: str, live: str = "CONFIRMED") -> FeedItem:
    return FeedItem(
        uid=event.id,
        summary=event.title,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        updated_at=event.updated_at,
        description=description,
        location=event.place,
        status=_status(event.status, live),
    )


def _status(stored: str, live: str = "CONFIRMED") -> str:
    return "CANCELLED" if stored == "cancelled" else live


def _span(now: datetime) -> tuple[datetime, datetime]:
    return now - timedelta(days=PAST_DAYS), now + timedelta(days=AHEAD_DAYS)
