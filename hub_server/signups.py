"""Signups: places at events, colleagues coming along, the waitlist, attendance.

The rules, on every surface (kiosk, dashboard, API, ``hubtap``):

- **Seats.** An event's seats taken are ``1 + guests`` for every confirmed signup plus one
  for every live invitation of an outsider (:mod:`hub_server.invitations`); the free seats
  are its capacity less those. No change ever takes an event over its capacity.
- **Guests** are colleagues from the member's own organisation who come along: a count
  from 0 to the event's ``max_guests``. A member with no organisation on record brings
  none, and nobody brings more than the event could ever seat (``capacity - 1``);
  otherwise ``too_many_guests``.
- **Signing up** needs a scheduled event (``event_cancelled``) that has not started
  (``event_started``), an active member (``not_allowed``) who has no live signup for it
  (``already_signed_up``). When nobody is waiting and ``1 + guests`` seats are free the
  signup is *confirmed*; otherwise it is *waitlisted*. The waitlist is a strict queue in
  signup order: a newcomer never jumps it, even when a smaller party would fit. A host may
  sign up for their own event like anyone.
- **Promotion.** Whenever seats are freed (a cancelled seat, fewer guests, a larger
  capacity, a cancelled invitation), waitlisted signups are promoted in queue order while
  the one at the head fits; the first that does not fit stops the queue (strict order: the
  parties behind it wait too). Each promotion sets ``promoted_at`` and records a
  ``signup.promoted`` notification (:mod:`hub_server.notifications`) in the same
  transaction. Nothing is promoted once the event has ended.
- **Changing guests** keeps the signup's place. A confirmed signup gets more guests only
  when the extra seats are free and nobody is waiting (else ``full``, and the signup is
  as it was); fewer guests free seats for the waitlist. A waitlisted signup just changes
  its count. Not once the event has started (``event_started``).
- **Cancelling.** A confirmed seat may be given back until the event's cancellation
  deadline, ``cancel_deadline_min`` minutes before it starts (0: until it starts); after
  that ``past_deadline``, unless forced (operators and hosts on the dashboard). A
  waitlisted place may be given back until the event ends; once it has ended nothing is
  given back, forced or not (``past_deadline``). Without a live signup:
  ``not_signed_up``. A cancelled signup stays on record (``cancelled``, with
  ``cancelled_at``); signing up again later makes a new signup at the back of the queue.
- **Repeated requests.** A kiosk's outbox may deliver a request twice. A signup's
  ``request_id`` is stored with it (unique): a repeat changes nothing and answers with
  that signup as it stands now (the same answer, unless it has moved up or been
  cancelled since). A cancel's request id is kept in its audit entry, with
  what the cancel did: a repeat answers the same (and never cancels a later signup).
- **Attendance.** A tap at the event's room or zone, or at a kiosk, between
  ``checkin_before_min`` minutes before a confirmed signup's event starts and its end
  marks the signup attended (:func:`mark_attended`).

Every function taking the store is one write transaction (joining the caller's when there
is one) and checks everything before it writes: a refusal leaves the database untouched.
Refusals are :class:`~hub_server.errors.Refused` with the kiosk's reason codes.
"""

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import sqlite_utils

from hub_server import audit, notifications
from hub_server.errors import Invalid, NotFound, Refused
from hub_server.membership import check_standing
from hub_server.store import Store, now_text, parse_time

Source = Literal["kiosk", "dashboard", "api", "cli"]
SignupStatus = Literal["confirmed", "waitlisted", "cancelled"]
Place = tuple[str | None, str | None]
"""Where a tap was: ``(zone_id, room_id)`` of the door."""

SEAT_COLUMNS = (
    "(SELECT coalesce(sum(1 + s.guests), 0) FROM signups s"
    " WHERE s.event_id = e.id AND s.status = 'confirmed')"
    " + (SELECT count(*) FROM invitations i WHERE i.event_id = e.id AND i.status = 'invited')"
    " AS taken,"
    " (SELECT count(*) FROM signups s WHERE s.event_id = e.id AND s.status = 'waitlisted')"
    " AS waitlisted"
)
"""SQL columns ``taken`` and ``waitlisted`` for a query over ``events e``."""
_POSITION = (
    "(SELECT count(*) FROM signups w WHERE w.event_id = s.event_id"
    " AND w.status = 'waitlisted' AND w.id <= s.id)"
)
"""SQL: the waitlist place of ``signups s`` (when it is waitlisted)."""


@dataclass(frozen=True)
class Seats:
    """An event's seats: how many there are, how many are taken, how many signups wait."""

    capacity: int
    taken: int
    waitlisted: int

    @property
    def free(self) -> int:
        """Seats nobody holds."""
        return self.capacity - self.taken


@dataclass(frozen=True)
class SignupResult:
    """What a signup change left: the signup's status, guests and waitlist place (1-based),
    and the members promoted from the waitlist by this change, in queue order."""

    event_id: str
    member_id: str
    status: SignupStatus
    guests: int
    position: int | None
    promoted: tuple[str, ...] = ()


@dataclass(frozen=True)
class Attendee:
    """A signup as the event's host and operators see it (dashboard only: full names)."""

    signup_id: int
    member_id: str
    first_name: str
    last_name: str
    guests: int
    status: SignupStatus
    position: int | None
    source: str
    created_at: datetime
    promoted_at: datetime | None
    cancelled_at: datetime | None
    attended_at: datetime | None


@dataclass(frozen=True)
class MemberSignup:
    """One of a member's live signups, with its event."""

    event_id: str
    title: str
    starts_at: datetime
    ends_at: datetime
    zone_id: str | None
    room_id: str | None
    status: SignupStatus
    guests: int
    position: int | None
    attended_at: datetime | None


# --- changes -------------------------------------------------------------------


def sign_up(
    store: Store,
    event_id: str,
    member_id: str,
    *,
    guests: int = 0,
    actor: str,
    source: Source,
    now: datetime,
    request_id: str | None = None,
) -> SignupResult:
    """Sign ``member_id`` up for ``event_id`` with ``guests`` colleagues: a seat, or a
    place on the waitlist (see the module's rules)."""
    with store.write() as db:
        if request_id is not None:
            earlier = db.execute(
                "SELECT * FROM signups WHERE request_id = ?", (request_id,)
            ).fetchone()
            if earlier is not None:
                if (earlier["event_id"], earlier["member_id"]) != (event_id, member_id):
                    raise Invalid("request_id", f"{request_id!r} was used for another signup")
                return _result(db, earlier)
        event = event_row(db, event_id)
        member = _member_row(db, member_id)
        check_open(event, now, "signups are closed")
        check_standing(member, now, "sign-ups")
        if _live(db, event_id, member_id) is not None:
            raise Refused(
                "already_signed_up",
                f"{member['first_name']} is already signed up for {event['title']}",
            )
        _check_guests(event, member, guests)
        seats = seats_of(db, event_id)
        fits = seats.waitlisted == 0 and 1 + guests <= seats.free
        status = "confirmed" if fits else "waitlisted"
        cursor = db.execute(
            "INSERT INTO signups (event_id, member_id, guests, status, source, request_id,"
            " created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (event_id, member_id, guests, status, source, request_id, actor,
             now_text(now), now_text(now)),
        )  # fmt: skip
        audit.record(
            db, actor, "signup.add", event_id,
            member=member_id, status=status, guests=guests, source=source, request_id=request_id,
        )  # fmt: skip
        return _result(db, _signup(db, cursor.lastrowid))


def change_guests(
    store: Store, event_id: str, member_id: str, guests: int, *, actor: str, now: datetime
) -> SignupResult:
    """Change how many colleagues come along with a live signup; it keeps its place."""
    with store.write() as db:
        event = event_row(db, event_id)
        member = _member_row(db, member_id)
        check_open(event, now, "guests can no longer change")
        row = _live(db, event_id, member_id)
        if row is None:
            raise _not_signed_up(event, member)
        _check_guests(event, member, guests)
        extra = guests - row["guests"]
        if extra == 0:
            return _result(db, row)
        if row["status"] == "confirmed" and extra > 0:
            seats = seats_of(db, event_id)
            if seats.waitlisted or extra > seats.free:
                raise full(event, seats, extra)
        db.execute(
            "UPDATE signups SET guests = ?, updated_at = ? WHERE id = ?",
            (guests, now_text(now), row["id"]),
        )
        audit.record(
            db, actor, "signup.guests", event_id, member=member_id, guests=guests,
            was=row["guests"],
        )  # fmt: skip
        promoted = promote(db, event_id, actor=actor, now=now)
        return _result(db, _signup(db, row["id"]), promoted)


def cancel(
    store: Store,
    event_id: str,
    member_id: str,
    *,
    actor: str,
    now: datetime,
    force: bool = False,
    request_id: str | None = None,
) -> SignupResult:
    """Give a seat or a waitlist place back; ``force`` ignores the cancellation deadline."""
    with store.write() as db:
        event = event_row(db, event_id)
        member = _member_row(db, member_id)
        if request_id is not None:
            repeat = _cancel_by_request(db, event_id, member_id, request_id)
            if repeat is not None:
                return repeat
        row = _live(db, event_id, member_id)
        if row is None:
            raise _not_signed_up(event, member)
        _check_may_cancel(event, row["status"], now, force=force)
        db.execute(
            "UPDATE signups SET status = 'cancelled', cancelled_at = ?, updated_at = ?"
            " WHERE id = ?",
            (now_text(now), now_text(now), row["id"]),
        )
        promoted = promote(db, event_id, actor=actor, now=now)
        audit.record(
            db, actor, "signup.cancel", event_id,
            member=member_id, signup=row["id"], was=row["status"], force=force,
            request_id=request_id, promoted=list(promoted),
        )  # fmt: skip
        return SignupResult(event_id, member_id, "cancelled", row["guests"], None, promoted)


def promote(
    db: sqlite_utils.Database, event_id: str, *, actor: str, now: datetime
) -> tuple[str, ...]:
    """Promote waitlisted signups in queue order while the head fits (inside a write);
    returns the promoted members' ids. Call after anything that frees seats."""
    event = event_row(db, event_id)
    if event["status"] != "scheduled" or now >= datetime.fromisoformat(event["ends_at"]):
        return ()
    promoted: list[str] = []
    while True:
        head = db.execute(
            "SELECT * FROM signups WHERE event_id = ? AND status = 'waitlisted'"
            " ORDER BY id LIMIT 1",
            (event_id,),
        ).fetchone()
        if head is None or 1 + head["guests"] > seats_of(db, event_id).free:
            return tuple(promoted)
        db.execute(
            "UPDATE signups SET status = 'confirmed', promoted_at = ?, updated_at = ? WHERE id = ?",
            (now_text(now), now_text(now), head["id"]),
        )
        notifications.record(
            db, "signup.promoted", member_id=head["member_id"], event_id=event_id, at=now,
            title=event["title"], starts_at=event["starts_at"], guests=head["guests"],
        )  # fmt: skip
        audit.record(
            db, actor, "signup.promote", event_id, member=head["member_id"], signup=head["id"]
        )
        promoted.append(head["member_id"])


def cancel_all(db: sqlite_utils.Database, event_id: str, *, now: datetime) -> int:
    """Cancel every live signup of a cancelled event (inside its write), each with an
    ``event.cancelled`` notification; returns how many there were."""
    event = event_row(db, event_id)
    live = db.execute(
        "SELECT * FROM signups WHERE event_id = ? AND status != 'cancelled' ORDER BY id",
        (event_id,),
    ).fetchall()
    for row in live:
        db.execute(
            "UPDATE signups SET status = 'cancelled', cancelled_at = ?, updated_at = ?"
            " WHERE id = ?",
            (now_text(now), now_text(now), row["id"]),
        )
        notifications.record(
            db, "event.cancelled", member_id=row["member_id"], event_id=event_id, at=now,
            title=event["title"], starts_at=event["starts_at"], had=row["status"],
            guests=row["guests"],
        )  # fmt: skip
    return len(live)


def mark_attended(
    db: sqlite_utils.Database | sqlite3.Connection,
    member_id: str,
    at: datetime,
    *,
    place: Place | None,
    checkin_before_min: int,
) -> list[str]:
    """Mark the member attended at every event a tap at ``at`` checks them in to; returns
    those events' ids (the ones newly marked).

    Inside the caller's write (the hub's ingest). An event counts when the member's signup
    is confirmed, the event is scheduled and ``at`` is within ``[starts_at -
    checkin_before_min, ends_at)``; and ``place`` is ``None`` (a kiosk tap: any such
    event), or the tap's room is the event's room, or the tap's zone is the event's zone
    (the room's zone for an event in a room).
    """
    rows = db.execute(
        "SELECT s.id, s.event_id, e.room_id, coalesce(e.zone_id, r.zone_id) AS zone_id"
        " FROM signups s JOIN events e ON e.id = s.event_id"
        " LEFT JOIN rooms r ON r.id = e.room_id"
        " WHERE s.member_id = ? AND s.status = 'confirmed' AND s.attended_at IS NULL"
        " AND e.status = 'scheduled' AND e.starts_at <= ? AND e.ends_at > ?"
        " ORDER BY e.starts_at, e.id",
        (member_id, now_text(at + timedelta(minutes=checkin_before_min)), now_text(at)),
    ).fetchall()
    marked = [row for row in rows if _at_place(row, place)]
    for row in marked:
        db.execute("UPDATE signups SET attended_at = ? WHERE id = ?", (now_text(at), row["id"]))
    return [row["event_id"] for row in marked]


# --- queries -------------------------------------------------------------------


def seats(source: Store | sqlite_utils.Database | sqlite3.Connection, event_id: str) -> Seats:
    """An event's seats; :class:`NotFound` if there is no such event."""
    return seats_of(source.read() if isinstance(source, Store) else source, event_id)


def seats_of(conn: Any, event_id: str) -> Seats:
    """:func:`seats` on a connection (or inside a write)."""
    row = conn.execute(
        f"SELECT e.capacity, {SEAT_COLUMNS} FROM events e WHERE e.id = ?",  # noqa: S608  (constants)
        (event_id,),
    ).fetchone()
    if row is None:
        raise NotFound(f"no event {event_id!r}")
    return Seats(row["capacity"], row["taken"], row["waitlisted"])


def position(
    db: sqlite_utils.Database | sqlite3.Connection, event_id: str, member_id: str
) -> int | None:
    """The member's place on the event's waitlist (1 is next), or ``None`` if not waiting."""
    row = db.execute(
        f"SELECT {_POSITION} AS position"  # noqa: S608  (constants)
        " FROM signups s WHERE s.event_id = ? AND s.member_id = ? AND s.status = 'waitlisted'",
        (event_id, member_id),
    ).fetchone()
    return None if row is None else int(row["position"])


def of_event(store: Store, event_id: str, *, include_cancelled: bool = False) -> list[Attendee]:
    """An event's signups: confirmed, then the waitlist in order, then (if asked) cancelled."""
    conn = store.read()
    event_row(conn, event_id)
    rows = conn.execute(
        "SELECT s.*, m.first_name, m.last_name, CASE WHEN s.status = 'waitlisted' THEN"
        " row_number() OVER (PARTITION BY s.status ORDER BY s.id) END AS position"
        " FROM signups s JOIN members m ON m.id = s.member_id"
        " WHERE s.event_id = ? AND (? OR s.status != 'cancelled')"
        " ORDER BY CASE s.status WHEN 'confirmed' THEN 0 WHEN 'waitlisted' THEN 1 ELSE 2 END,"
        " s.id",
        (event_id, include_cancelled),
    ).fetchall()
    return [
        Attendee(
            signup_id=row["id"],
            member_id=row["member_id"],
            first_name=row["first_name"],
            last_name=row["last_name"],
            guests=row["guests"],
            status=row["status"],
            position=row["position"],
            source=row["source"],
            created_at=datetime.fromisoformat(row["created_at"]),
            promoted_at=parse_time(row["promoted_at"]),
            cancelled_at=parse_time(row["cancelled_at"]),
            attended_at=parse_time(row["attended_at"]),
        )
        for row in rows
    ]


def of_member(
    store: Store, member_id: str, *, since: datetime, until: datetime
) -> list[MemberSignup]:
    """A member's live signups for scheduled events between ``since`` and ``until``, by start."""
    rows = store.query(
        "SELECT s.*, e.title, e.starts_at, e.ends_at, e.room_id,"  # noqa: S608  (constants)
        " coalesce(e.zone_id, r.zone_id) AS zone_id,"
        f" CASE WHEN s.status = 'waitlisted' THEN {_POSITION} END AS position"
        " FROM signups s JOIN events e ON e.id = s.event_id"
        " LEFT JOIN rooms r ON r.id = e.room_id"
        " WHERE s.member_id = ? AND s.status != 'cancelled' AND e.status = 'scheduled'"
        " AND e.ends_at > ? AND e.starts_at < ? ORDER BY e.starts_at, e.id",
        (member_id, now_text(since), now_text(until)),
    )
    return [
        MemberSignup(
            event_id=row["event_id"],
            title=row["title"],
            starts_at=datetime.fromisoformat(row["starts_at"]),
            ends_at=datetime.fromisoformat(row["ends_at"]),
            zone_id=row["zone_id"],
            room_id=row["room_id"],
            status=row["status"],
            guests=row["guests"],
            position=row["position"],
            attended_at=parse_time(row["attended_at"]),
        )
        for row in rows
    ]


# --- what the changes share ------------------------------------------------------


def event_row(conn: Any, event_id: str) -> sqlite3.Row:
    """An event's stored row; :class:`NotFound` if there is none."""
    row: sqlite3.Row | None = conn.execute(
        "SELECT * FROM events WHERE id = ?", (event_id,)
    ).fetchone()
    if row is None:
        raise NotFound(f"no event {event_id!r}")
    return row


def full(event: sqlite3.Row, seats: Seats, needed: int) -> Refused:
    """The refusal for ``needed`` seats that cannot be had now."""
    if seats.waitlisted:
        waiting = "1 signup waits" if seats.waitlisted == 1 else f"{seats.waitlisted} signups wait"
        return Refused("full", f"{event['title']} is full: {waiting} for a seat")
    return Refused(
        "full",
        f"{event['title']} is full ({seats.taken} of {seats.capacity} seats taken"
        + (f"; {needed} needed)" if needed > 1 else ")"),
    )


def check_open(event: sqlite3.Row, now: datetime, what: str) -> None:
    """Refuse a change to a cancelled or started event (``what`` says what is closed)."""
    if event["status"] == "cancelled":
        raise Refused("event_cancelled", f"{event['title']} is cancelled")
    if now >= datetime.fromisoformat(event["starts_at"]):
        raise Refused("event_started", f"{event['title']} has started: {what}")


def _check_guests(event: sqlite3.Row, member: sqlite3.Row, guests: int) -> None:
    title = event["title"]
    if guests < 0:
        raise Invalid("guests", "must be 0 or more")
    if guests > event["max_guests"]:
        allowed = (
            "takes no guests"
            if event["max_guests"] == 0
            else f"allows up to {event['max_guests']} colleagues per member"
        )
        raise Refused("too_many_guests", f"{title} {allowed}, not {guests}")
    if guests > 0 and member["organisation_id"] is None:
        raise Refused(
            "too_many_guests",
            f"Colleagues come from your organisation, and {member['first_name']} has none "
            "on record: sign up without guests",
        )
    if 1 + guests > event["capacity"]:
        raise Refused(
            "too_many_guests",
            f"{title} has {event['capacity']} seats in all: at most {event['capacity'] - 1} "
            "colleagues can come along",
        )


def _check_may_cancel(event: sqlite3.Row, status: str, now: datetime, *, force: bool) -> None:
    title = event["title"]
    if now >= datetime.fromisoformat(event["ends_at"]):
        raise Refused("past_deadline", f"{title} has ended: places can no longer be given back")
    if status != "confirmed" or force:
        return
    starts_at = datetime.fromisoformat(event["starts_at"])
    minutes = event["cancel_deadline_min"]
    if now >= starts_at - timedelta(minutes=minutes):
        until = f"{minutes} minutes before it starts" if minutes else "it starts"
        raise Refused("past_deadline", f"Places at {title} can only be given back until {until}")


def _cancel_by_request(
    db: sqlite_utils.Database, event_id: str, member_id: str, request_id: str
) -> SignupResult | None:
    """What an earlier cancel with this request id answered, if there was one."""
    row = db.execute(
        "SELECT detail FROM audit_log WHERE action = 'signup.cancel' AND target = ?"
        " AND json_extract(detail, '$.request_id') = ?"
        " AND json_extract(detail, '$.member') = ? ORDER BY id DESC LIMIT 1",
        (event_id, request_id, member_id),
    ).fetchone()
    if row is None:
        return None
    detail = json.loads(row["detail"])
    signup = _signup(db, detail["signup"])
    return SignupResult(
        event_id, member_id, "cancelled", signup["guests"], None, tuple(detail["promoted"])
    )


def _not_signed_up(event: sqlite3.Row, member: sqlite3.Row) -> Refused:
    return Refused("not_signed_up", f"{member['first_name']} is not signed up for {event['title']}")


def _member_row(conn: Any, member_id: str) -> sqlite3.Row:
    row: sqlite3.Row | None = conn.execute(
        "SELECT id, first_name, status, valid_from, valid_until, organisation_id FROM members"
        " WHERE id = ?",
        (member_id,),
    ).fetchone()
    if row is None:
        raise NotFound(f"no member {member_id!r}")
    return row


def _live(conn: Any, event_id: str, member_id: str) -> sqlite3.Row | None:
    row: sqlite3.Row | None = conn.execute(
        "SELECT * FROM signups WHERE event_id = ? AND member_id = ? AND status != 'cancelled'",
        (event_id, member_id),
    ).fetchone()
    return row


def _signup(conn: Any, signup_id: int | None) -> sqlite3.Row:
    row: sqlite3.Row = conn.execute("SELECT * FROM signups WHERE id = ?", (signup_id,)).fetchone()
    return row


def _result(conn: Any, row: sqlite3.Row, promoted: tuple[str, ...] = ()) -> SignupResult:
    return SignupResult(
        event_id=row["event_id"],
        member_id=row["member_id"],
        status=row["status"],
        guests=row["guests"],
        position=(
            position(conn, row["event_id"], row["member_id"])
            if row["status"] == "waitlisted"
            else None
        ),
        promoted=promoted,
    )


def _at_place(row: sqlite3.Row, place: Place | None) -> bool:
    if place is None:
        return True
    zone_id, room_id = place
    return (room_id is not None and row["room_id"] == room_id) or (
        zone_id is not None and row["zone_id"] == zone_id
    )
