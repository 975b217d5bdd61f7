"""Room bookings by the hour: never double-booked, priced when booked.

A booking holds a room ``[starts_at, ends_at)`` (back to back is fine).
The check for a clash runs in the same write transaction as the insert
(``BEGIN IMMEDIATE`` serialises writers, also across processes), and the
schema's trigger (``bookings_no_overlap_insert``) refuses whatever slips
past it; either way the caller gets ``Refused('room_taken')`` naming the
clashing booking's local times, never who holds it.

The price (minutes in and out of office hours, the amount) is computed and
stored at booking time, so a later change of rates never rewrites history;
the organisation is the member's at booking time, so billing follows who
booked. A booking with an ``event_id`` is an event's reservation of its
room (amount 0, not billed): it is cancelled with its event, not here.
"""

import secrets
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

import sqlite_utils
from pydantic import BaseModel, Field, StringConstraints, field_validator

from hub_server import audit, pricing
from hub_server.config import CommunitySection
from hub_server.errors import Conflict, Invalid, NotFound, Refused
from hub_server.local_days import day_bounds
from hub_server.membership import check_standing
from hub_server.models import EntityId, Input, Source
from hub_server.site_hours import LAST_YEAR
from hub_server.store import Store, now_text
from hublink.messages import UtcDatetime

BookingStatus = Literal["booked", "cancelled"]
BookingId = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^b-[0-9a-f]{12}$")]

MAX_MINUTES = 24 * 60
"""The longest booking the input model takes (``booking_max_h`` is at most 24)."""
LONGEST_RESERVATION = timedelta(days=7)
"""No reservation is longer (bookings: ``booking_max_h``; events: 7 days). Reads of what
overlaps a period look back no further; the overlap trigger, which has no such bound,
still refuses any clash."""
LOOKAHEAD = timedelta(hours=24)
"""How far :func:`room_windows` looks for a room's next booking."""
MAX_REQUEST_ID = 100


class BookingIn(Input):
    """A room booked by a member for a whole number of minutes from ``starts_at``."""

    room_id: EntityId
    member_id: EntityId
    starts_at: UtcDatetime = Field(description="truncated to the whole minute")
    minutes: int = Field(gt=0, le=MAX_MINUTES)
    id: BookingId | None = None

    @field_validator("starts_at")
    @classmethod
    def _whole_minute(cls, value: datetime) -> datetime:
        if value.year > LAST_YEAR:
            raise ValueError(f"must be in the year {LAST_YEAR} or before")
        return value.replace(second=0, microsecond=0)

    @property
    def ends_at(self) -> datetime:
        """When the booking ends (exclusive)."""
        return self.starts_at + timedelta(minutes=self.minutes)


class Booking(BaseModel):
    """A booking as stored, with the names of its room, member and organisation."""

    id: str
    room_id: str
    room_name: str
    member_id: str
    member_first_name: str
    member_last_name: str
    organisation_id: str | None
    organisation_name: str | None
    event_id: str | None
    starts_at: datetime
    ends_at: datetime
    status: BookingStatus
    office_minutes: int
    off_hours_minutes: int
    amount_cents: int
    source: str
    created_at: datetime
    cancelled_at: datetime | None

    @property
    def minutes(self) -> int:
        """How long the booking is, in real minutes."""
        return (self.ends_at - self.starts_at) // timedelta(minutes=1)


@dataclass(frozen=True)
class RoomWindow:
    """A room's bookings around now: booked until when (``None``: free now), and the next."""

    booked_until: datetime | None
    next_booking_at: datetime | None


def new_booking_id() -> str:
    """A random booking id, ``b-`` and 12 hex digits."""
    return f"b-{secrets.token_hex(6)}"


# --- booking and cancelling ------------------------------------------------------------


def book(
    store: Store,
    data: BookingIn,
    *,
    actor: str,
    source: Source,
    community: CommunitySection,
    timezone: str,
    now: datetime,
    request_id: str | None = None,
) -> Booking:
    """Book a room; every rule is checked before anything is written.

    A repeated ``request_id`` (a kiosk's request delivered twice) returns the
    booking the first one made. :class:`NotFound` for an unknown room or
    member, :class:`Invalid` for a length the rules do not allow,
    :class:`Refused` with ``not_allowed`` (the member is not active),
    ``too_late`` (it would start in the past) or ``room_taken``.
    """
    _check_length(data.minutes, community)
    if request_id is not None and not 0 < len(request_id) <= MAX_REQUEST_ID:
        raise Invalid("request_id", f"must be 1 to {MAX_REQUEST_ID} characters")
    zone = ZoneInfo(timezone)
    starts_at, ends_at = data.starts_at, data.ends_at
    with store.write() as db:
        if request_id is not None:
            first = db.execute(
                "SELECT id FROM bookings WHERE request_id = ?", (request_id,)
            ).fetchone()
            if first is not None:
                return get(store, first[0])  # committed by an earlier call: readable
        room = db.execute("SELECT * FROM rooms WHERE id = ?", (data.room_id,)).fetchone()
        if room is None:
            raise NotFound(f"no room {data.room_id!r}")
        member = db.execute("SELECT * FROM members WHERE id = ?", (data.member_id,)).fetchone()
        if member is None:
            raise NotFound(f"no member {data.member_id!r}")
        check_standing(member, now, "bookings")
        _check_start(room["name"], starts_at, now, community, zone)
        _refuse_clash(db, room, starts_at, ends_at, zone)
        cost = _price(db, room, data, community, timezone)
        booking_id = data.id or new_booking_id()
        if db.execute("SELECT 1 FROM bookings WHERE id = ?", (booking_id,)).fetchone():
            raise Conflict(f"a booking with id {booking_id} exists")
        try:
            db.execute(
                "INSERT INTO bookings (id, room_id, member_id, organisation_id, starts_at,"
                " ends_at, status, office_minutes, off_hours_minutes, amount_cents, source,"
                " request_id, created_by, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, 'booked', ?, ?, ?, ?, ?, ?, ?)",
                (
                    booking_id, data.room_id, data.member_id, member["organisation_id"],
                    now_text(starts_at), now_text(ends_at), cost.office_minutes,
                    cost.off_hours_minutes, cost.amount_cents, source, request_id, actor,
                    now_text(now),
                ),
            )  # fmt: skip
        except sqlite3.IntegrityError as err:
            if "room_taken" in str(err):  # the trigger: the last line of defence
                _refuse_clash(db, room, starts_at, ends_at, zone)
                raise Refused("room_taken", f"{room['name']} is already booked then") from err
            raise Conflict(f"booking {booking_id} clashes with what is stored: {err}") from err
        audit.record(
            db,
            actor,
            "booking.add",
            booking_id,
            room=data.room_id,
            member=data.member_id,
            starts_at=now_text(starts_at),
            ends_at=now_text(ends_at),
            amount_cents=cost.amount_cents,
            source=source,
            request_id=request_id,
        )
    return get(store, booking_id)


def cancel(store: Store, booking_id: str, *, actor: str, now: datetime) -> Booking:
    """Cancel a booking before it starts; the row stays, no longer billed or blocking.

    Cancelling a cancelled booking changes nothing. :class:`Refused`
    ``too_late`` once it has started; :class:`Invalid` for an event's
    reservation (cancel the event instead).
    """
    with store.write() as db:
        row = db.execute(
            "SELECT b.*, r.name AS room_name FROM bookings b JOIN rooms r ON r.id = b.room_id"
            " WHERE b.id = ?",
            (booking_id,),
        ).fetchone()
        if row is None:
            raise NotFound(f"no booking {booking_id!r}")
        if row["event_id"] is not None:
            raise Invalid("booking_id", "reserves the room for an event: cancel the event instead")
        if row["status"] == "booked":
            if now_text(now) >= row["starts_at"]:
                raise Refused(
                    "too_late",
                    f"The booking of {row['room_name']} has started: it can no longer be cancelled",
                )
            db.execute(
                "UPDATE bookings SET status = 'cancelled', cancelled_at = ? WHERE id = ?",
                (now_text(now), booking_id),
            )
            audit.record(db, actor, "booking.cancel", booking_id, room=row["room_id"])
    return get(store, booking_id)


def _check_length(minutes: int, community: CommunitySection) -> None:
    step = community.booking_step_min
    if minutes % step:
        raise Invalid("minutes", f"must be a whole number of {step} minutes")
    longest = int(community.booking_max_h * 60)
    if minutes > longest:
        raise Invalid("minutes", f"must be at most {community.booking_max_h:g} hours")


def _check_start(
    room_name: str, starts_at: datetime, now: datetime, community: CommunitySection, zone: ZoneInfo
) -> None:
    if starts_at < now - timedelta(minutes=community.booking_grace_min):
        raise Refused(
            "too_late",
            f"Too late to book {room_name} from {_clock(starts_at, zone, now)}: "
            "it starts in the past",
        )


def _price(
    db: sqlite_utils.Database,
    room: sqlite3.Row,
    data: BookingIn,
    community: CommunitySection,
    timezone: str,
) -> pricing.Price:
    """The booking's price at the room's rates now, holidays from the store."""
    zone = ZoneInfo(timezone)
    starts_at, ends_at = data.starts_at, data.ends_at
    holidays = db.execute(
        "SELECT day FROM holidays WHERE day BETWEEN ? AND ?",
        (
            starts_at.astimezone(zone).date().isoformat(),
            ends_at.astimezone(zone).date().isoformat(),
        ),
    )
    return pricing.price(
        starts_at,
        ends_at,
        hourly_rate_cents=room["hourly_rate_cents"],
        out_of_hours_rate_cents=room["out_of_hours_rate_cents"],
        office=community.office_schedule(),
        holidays={date.fromisoformat(row[0]) for row in holidays},
        timezone=timezone,
    )


def _refuse_clash(
    db: sqlite_utils.Database,
    room: sqlite3.Row,
    starts_at: datetime,
    ends_at: datetime,
    zone: ZoneInfo,
) -> None:
    """:class:`Refused` ``room_taken`` naming the first booking of the room that overlaps."""
    clash = db.execute(
        "SELECT starts_at, ends_at FROM bookings WHERE room_id = ? AND status = 'booked'"
        " AND starts_at < ? AND ends_at > ? AND starts_at >= ? ORDER BY starts_at LIMIT 1",
        (room["id"], now_text(ends_at), now_text(starts_at), _lookback(starts_at)),
    ).fetchone()
    if clash is not None:
        begins = datetime.fromisoformat(clash["starts_at"])
        ends = datetime.fromisoformat(clash["ends_at"])
        raise Refused(
            "room_taken",
            f"{room['name']} is booked from {_clock(begins, zone, starts_at)} "
            f"to {_clock(ends, zone, starts_at)}",
        )


def _clock(when: datetime, zone: ZoneInfo, near: datetime) -> str:
    """``when`` in local time: ``10:00`` on the local day of ``near``, else with its date."""
    local = when.astimezone(zone)
    if local.date() == near.astimezone(zone).date():
        return f"{local:%H:%M}"
    return f"{local:%Y-%m-%d %H:%M}"


def _lookback(starts_at: datetime) -> str:
    return now_text(starts_at - LONGEST_RESERVATION)


# --- reading -------------------------------------------------------------------------


def get(store: Store, booking_id: str) -> Booking:
    """One booking; :class:`NotFound` if there is none."""
    row = store.query_one(_SELECT + " WHERE b.id = ?", (booking_id,))
    if row is None:
        raise NotFound(f"no booking {booking_id!r}")
    return Booking(**dict(row))


def of_room(
    store: Store,
    room_id: str,
    *,
    since: datetime,
    until: datetime,
    include_cancelled: bool = False,
) -> list[Booking]:
    """The room's bookings overlapping ``[since, until)``, by start."""
    return _overlapping(store, since, until, include_cancelled, "b.room_id = ?", room_id)


def of_member(
    store: Store,
    member_id: str,
    *,
    since: datetime,
    until: datetime,
    include_cancelled: bool = False,
) -> list[Booking]:
    """The member's bookings overlapping ``[since, until)``, by start."""
    return _overlapping(store, since, until, include_cancelled, "b.member_id = ?", member_id)


def of_day(
    store: Store, day: date, timezone: str, *, include_cancelled: bool = False
) -> list[Booking]:
    """Every room's bookings overlapping the local ``day``, by room name and start (a day view)."""
    since, until = day_bounds(day, ZoneInfo(timezone))
    found = _overlapping(store, since, until, include_cancelled)
    return sorted(found, key=lambda b: (b.room_name.casefold(), b.starts_at, b.id))


def _overlapping(
    store: Store,
    since: datetime,
    until: datetime,
    include_cancelled: bool,
    where: str = "",
    *params: str,
) -> list[Booking]:
    """Bookings overlapping ``[since, until)``, with ``where`` (SQL of ours) and its ``params``."""
    if until <= since:
        raise Invalid("until", "must be after since")
    status = "" if include_cancelled else " AND b.status = 'booked'"
    rows = store.query(
        f"{_SELECT} WHERE b.starts_at >= ? AND b.starts_at < ? AND b.ends_at > ?{status}"
        + (f" AND {where}" if where else "")
        + " ORDER BY b.starts_at, b.id",
        (_lookback(since), now_text(until), now_text(since), *params),
    )
    return [Booking(**dict(row)) for row in rows]


def room_windows(
    db_or_store: Store | sqlite3.Connection | sqlite_utils.Database, now: datetime
) -> dict[str, RoomWindow]:
    """Every room's window at ``now``: no names, for the occupancy topic and "book now".

    ``booked_until`` is the end of the run of back-to-back (or overlapping)
    bookings covering ``now``; ``next_booking_at`` the start of the first
    booking after ``now`` not part of that run. Both look only at bookings
    starting within :data:`LOOKAHEAD` of ``now``.
    """
    conn = db_or_store.read() if isinstance(db_or_store, Store) else db_or_store
    horizon = now + LOOKAHEAD
    spans: dict[str, list[tuple[datetime, datetime]]] = {
        row[0]: [] for row in conn.execute("SELECT id FROM rooms")
    }
    for room_id, starts, ends in conn.execute(
        "SELECT room_id, starts_at, ends_at FROM bookings WHERE status = 'booked'"
        " AND starts_at < ? AND ends_at > ? AND starts_at >= ? ORDER BY starts_at",
        (now_text(horizon), now_text(now), _lookback(now)),
    ):
        spans[room_id].append((datetime.fromisoformat(starts), datetime.fromisoformat(ends)))
    return {room_id: _window(found, now) for room_id, found in spans.items()}


def _window(spans: Sequence[tuple[datetime, datetime]], now: datetime) -> RoomWindow:
    """The window of one room's bookings (by start, each ending after ``now``)."""
    run_end: datetime | None = None
    for starts, ends in spans:
        if starts <= now or (run_end is not None and starts <= run_end):
            run_end = ends if run_end is None else max(run_end, ends)
    later = (starts for starts, _ in spans if starts > (run_end or now))
    return RoomWindow(run_end, next(later, None))


_SELECT = (
    "SELECT b.id, b.room_id, r.name AS room_name, b.member_id,"
    " m.first_name AS member_first_name, m.last_name AS member_last_name,"
    " b.organisation_id, o.name AS organisation_name, b.event_id, b.starts_at, b.ends_at,"
    " b.status, b.office_minutes, b.off_hours_minutes, b.amount_cents, b.source,"
    " b.created_at, b.cancelled_at"
    " FROM bookings b JOIN rooms r ON r.id = b.room_id JOIN members m ON m.id = b.member_id"
    " LEFT JOIN organisations o ON o.id = b.organisation_id"
)
