"""Events: member-hosted workshops in a zone or a room, with seats, guests and a waitlist.

An event has a title, a description, a host (an active member), a place (a zone, or a
room, which puts it in the room's zone too), a start and an end (after the start, at most
7 days later), a capacity, a visibility (``members``, or ``open``: outsiders may be
invited by email, see :mod:`hub_server.invitations`), how many colleagues each member may
bring (``max_guests``) and a cancellation deadline in minutes before the start (0: places
may be given back until it starts). Seats, the waitlist and attendance are
:mod:`hub_server.signups`' rules.

- **Rooms.** An event in a room reserves the room: a booking (``source`` ``event``, by the
  host, amount 0: events are not billed) is made in the same transaction, and a room
  already booked then is refused (``room_taken``); back-to-back is fine. Moving or
  retiming the event moves its booking (checked again); cancelling the event cancels
  it. The event's capacity may not exceed the room's (when the room has one).
- **Changes.** The capacity may not go below the seats taken, nor below what a
  waitlisted signup needs; a larger capacity promotes from the waitlist. ``max_guests``
  may not go below what a live signup brings. Once an event has started its times stay.
  Visibility ``members`` needs the outsiders' invitations cancelled first.
- **Cancelling** an event keeps it on record (``cancelled``) and cancels every live
  signup, each with an ``event.cancelled`` notification for its member, every
  invitation and its room reservation.

Every change is audited (``event.add``, ``event.change``, ``event.cancel``), is one write
transaction (joining the caller's) and checks everything before writing anything.
"""

import secrets
import sqlite3
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

import sqlite_utils
from pydantic import AfterValidator, Field, ValidationInfo, field_validator

from hub_server import audit, invitations, signups
from hub_server.errors import Conflict, Invalid, NotFound, Refused
from hub_server.models import EntityId, Input, one_line
from hub_server.store import Store, now_text
from hublink.messages import UtcDatetime

Visibility = Literal["members", "open"]
EventStatus = Literal["scheduled", "cancelled"]

MAX_TITLE = 200
MAX_DESCRIPTION = 4000
MAX_LENGTH = timedelta(days=7)
"""The longest an event may last."""
MAX_DEADLINE_MIN = 10_080


def _clean_title(value: str) -> str:
    return one_line(value, MAX_TITLE)


def _clean_description(value: str) -> str:
    value = unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n"))
    if len(value) > MAX_DESCRIPTION:
        raise ValueError(f"is longer than {MAX_DESCRIPTION} characters")
    if any(unicodedata.category(ch) == "Cc" and ch != "\n" for ch in value):
        raise ValueError("contains control characters (only line breaks are allowed)")
    return value


def _check_window(starts_at: datetime, ends_at: datetime) -> None:
    if ends_at <= starts_at:
        raise ValueError("must be after starts_at")
    if ends_at - starts_at > MAX_LENGTH:
        raise ValueError(f"must be at most {MAX_LENGTH.days} days after starts_at")


def _one_place(zone_id: str | None, room_id: str | None) -> None:
    if zone_id is None and room_id is None:
        raise ValueError("give a room or a zone")
    if zone_id is not None and room_id is not None:
        raise ValueError("give a room or a zone, not both")


Title = Annotated[str, AfterValidator(_clean_title)]
Description = Annotated[str, AfterValidator(_clean_description)]


class EventIn(Input):
    """A new event."""

    title: Title
    description: Description = ""
    host_member_id: EntityId
    zone_id: EntityId | None = None
    room_id: EntityId | None = Field(default=None, validate_default=True)
    starts_at: UtcDatetime
    ends_at: UtcDatetime
    capacity: int = Field(ge=1, le=10_000)
    visibility: Visibility = "members"
    max_guests: int = Field(default=0, ge=0, le=20)
    cancel_deadline_min: int = Field(default=0, ge=0, le=MAX_DEADLINE_MIN)
    id: EntityId | None = None

    @field_validator("room_id")
    @classmethod
    def _check_place(cls, value: str | None, info: ValidationInfo) -> str | None:
        if "zone_id" in info.data:  # else the zone was invalid, and that is the error
            _one_place(info.data["zone_id"], value)
        return value

    @field_validator("ends_at")
    @classmethod
    def _check_ends(cls, value: datetime, info: ValidationInfo) -> datetime:
        if "starts_at" in info.data:
            _check_window(info.data["starts_at"], value)
        return value


class EventChange(Input):
    """Fields of an event to change; those left out stay. A zone replaces the room and a
    room the zone."""

    title: Title | None = None
    description: Description | None = None
    host_member_id: EntityId | None = None
    zone_id: EntityId | None = None
    room_id: EntityId | None = None
    starts_at: UtcDatetime | None = None
    ends_at: UtcDatetime | None = None
    capacity: int | None = Field(default=None, ge=1, le=10_000)
    visibility: Visibility | None = None
    max_guests: int | None = Field(default=None, ge=0, le=20)
    cancel_deadline_min: int | None = Field(default=None, ge=0, le=MAX_DEADLINE_MIN)


@dataclass(frozen=True)
class Event:
    """An event as stored, with its place's name and its seats.

    ``zone_id`` is the event's zone: its own, or its room's for an event in a room.
    """

    id: str
    title: str
    description: str
    host_member_id: str
    host_first_name: str
    zone_id: str | None
    room_id: str | None
    place: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    taken: int
    waitlisted: int
    visibility: Visibility
    max_guests: int
    cancel_deadline_min: int
    status: EventStatus
    created_by: str
    created_at: datetime
    updated_at: datetime

    @property
    def free(self) -> int:
        """Seats nobody holds."""
        return self.capacity - self.taken

    @property
    def cancel_until(self) -> datetime:
        """Until when a confirmed seat may be given back."""
        return self.starts_at - timedelta(minutes=self.cancel_deadline_min)


def new_event_id() -> str:
    """A random event id."""
    return f"ev-{secrets.token_hex(6)}"


# --- changes -------------------------------------------------------------------


def add(store: Store, data: EventIn, *, actor: str, now: datetime) -> Event:
    """Create an event (and its room's reservation)."""
    event_id = data.id or new_event_id()
    with store.write() as db:
        if db.execute("SELECT 1 FROM events WHERE id = ?", (event_id,)).fetchone():
            raise Conflict(f"an event with id {event_id} exists")
        _check_host(db, data.host_member_id)
        _check_place(db, data.zone_id, data.room_id, data.capacity)
        if data.room_id is not None:
            _check_room_free(db, data.room_id, data.starts_at, data.ends_at, event_id)
        db.execute(
            "INSERT INTO events (id, title, description, host_member_id, zone_id, room_id,"
            " starts_at, ends_at, capacity, visibility, max_guests, cancel_deadline_min,"
            " created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
            " ?, ?)",
            (
                event_id, data.title, data.description, data.host_member_id, data.zone_id,
                data.room_id, now_text(data.starts_at), now_text(data.ends_at), data.capacity,
                data.visibility, data.max_guests, data.cancel_deadline_min, actor,
                now_text(now), now_text(now),
            ),
        )  # fmt: skip
        if data.room_id is not None:
            _reserve(db, event_id, actor=actor, now=now)
        audit.record(
            db, actor, "event.add", event_id,
            title=data.title, starts_at=now_text(data.starts_at), capacity=data.capacity,
            place=data.room_id or data.zone_id,
        )  # fmt: skip
        return _load(db, event_id)


def update(store: Store, event_id: str, data: EventChange, *, actor: str, now: datetime) -> Event:
    """Change the fields ``data`` sets (see the module's rules for what may change)."""
    fields = data.model_dump(exclude_unset=True)
    with store.write() as db:
        current = signups.event_row(db, event_id)
        if not fields:
            return _load(db, event_id)
        if current["status"] == "cancelled":
            raise Refused("event_cancelled", f"{current['title']} is cancelled")
        values = _column_values(fields)
        merged = {**dict(current), **values}
        starts_at = datetime.fromisoformat(merged["starts_at"])
        ends_at = datetime.fromisoformat(merged["ends_at"])
        _check_times(current, starts_at, ends_at, now)
        if "host_member_id" in fields:
            _check_host(db, merged["host_member_id"])
        _check_seats(db, current, merged)
        _check_place(db, merged["zone_id"], merged["room_id"], merged["capacity"])
        if merged["room_id"] is not None:
            _check_room_free(db, merged["room_id"], starts_at, ends_at, event_id)
        # every check passed: write
        assignments = ", ".join(f"{column} = ?" for column in (*values, "updated_at"))
        db.execute(
            f"UPDATE events SET {assignments} WHERE id = ?",  # noqa: S608  (columns are ours)
            (*values.values(), now_text(now), event_id),
        )
        if merged["room_id"] is None:
            _release(db, event_id, now)
        elif _RESERVATION & values.keys():
            _reserve(db, event_id, actor=actor, now=now)
        audit.record(db, actor, "event.change", event_id, **values)
        signups.promote(db, event_id, actor=actor, now=now)
        return _load(db, event_id)


def cancel(store: Store, event_id: str, *, actor: str, now: datetime) -> Event:
    """Call an event off: its signups, invitations and room reservation are cancelled and
    each member who had a place or a waitlist place gets a notification. A cancelled event
    stays cancelled (a repeat changes nothing)."""
    with store.write() as db:
        event = signups.event_row(db, event_id)
        if event["status"] == "cancelled":
            return _load(db, event_id)
        db.execute(
            "UPDATE events SET status = 'cancelled', updated_at = ? WHERE id = ?",
            (now_text(now), event_id),
        )
        cancelled = signups.cancel_all(db, event_id, now=now)
        uninvited = invitations.cancel_all(db, event_id, now=now)
        _release(db, event_id, now)
        audit.record(db, actor, "event.cancel", event_id, signups=cancelled, invitations=uninvited)
        return _load(db, event_id)


# --- queries -------------------------------------------------------------------


def get(store: Store, event_id: str) -> Event:
    """One event; :class:`NotFound` if there is none."""
    return _load(store.read(), event_id)


def find(
    store: Store,
    *,
    since: datetime,
    until: datetime,
    visibility: Visibility | None = None,
    host: str | None = None,
    include_cancelled: bool = False,
) -> list[Event]:
    """Events that are on at some time between ``since`` and ``until``, by start."""
    rows = store.query(
        _SELECT + " WHERE e.ends_at > ? AND e.starts_at < ?"
        " AND (? IS NULL OR e.visibility = ?) AND (? IS NULL OR e.host_member_id = ?)"
        " AND (? OR e.status = 'scheduled') ORDER BY e.starts_at, e.id",
        (now_text(since), now_text(until), visibility, visibility, host, host, include_cancelled),
    )
    return [_event(row) for row in rows]


def upcoming(store: Store, now: datetime, days: int) -> list[Event]:
    """Scheduled events not yet over that start within ``days``, by start: what the kiosks
    show (their seats; never who took them)."""
    rows = store.query(
        _SELECT + " WHERE e.status = 'scheduled' AND e.ends_at > ? AND e.starts_at < ?"
        " ORDER BY e.starts_at, e.id",
        (now_text(now), now_text(now + timedelta(days=days))),
    )
    return [_event(row) for row in rows]


# --- checks and the room reservation -------------------------------------------


def _column_values(fields: dict[str, Any]) -> dict[str, Any]:
    """An :class:`EventChange`'s fields as the columns to set (a zone clears the room and a
    room the zone; times as stored)."""
    for key, value in fields.items():
        if value is None and key not in ("zone_id", "room_id"):
            raise Invalid(key, "cannot be empty")
    values = {key: now_text(v) if isinstance(v, datetime) else v for key, v in fields.items()}
    if "zone_id" in fields or "room_id" in fields:
        values["zone_id"], values["room_id"] = fields.get("zone_id"), fields.get("room_id")
        try:
            _one_place(values["zone_id"], values["room_id"])
        except ValueError as err:
            raise Invalid("room_id", str(err)) from err
    return values


def _check_host(db: sqlite_utils.Database, member_id: str) -> None:
    row = db.execute("SELECT first_name, status FROM members WHERE id = ?", (member_id,)).fetchone()
    if row is None:
        raise NotFound(f"no member {member_id!r}")
    if row["status"] != "active":
        raise Invalid(
            "host_member_id", f"{row['first_name']} is not an active member, so cannot host"
        )


def _check_place(
    db: sqlite_utils.Database, zone_id: str | None, room_id: str | None, capacity: int
) -> None:
    if (
        zone_id is not None
        and not db.execute("SELECT 1 FROM zones WHERE id = ?", (zone_id,)).fetchone()
    ):
        raise NotFound(f"no zone {zone_id!r}")
    if room_id is None:
        return
    room = db.execute("SELECT name, capacity FROM rooms WHERE id = ?", (room_id,)).fetchone()
    if room is None:
        raise NotFound(f"no room {room_id!r}")
    if 0 < room["capacity"] < capacity:
        raise Invalid("capacity", f"{room['name']} holds {room['capacity']} people, not {capacity}")


def _check_times(
    current: sqlite3.Row, starts_at: datetime, ends_at: datetime, now: datetime
) -> None:
    was = (datetime.fromisoformat(current["starts_at"]), datetime.fromisoformat(current["ends_at"]))
    if (starts_at, ends_at) != was and now >= was[0]:
        field = "starts_at" if starts_at != was[0] else "ends_at"
        raise Invalid(field, f"{current['title']} has started: its times can no longer change")
    try:
        _check_window(starts_at, ends_at)
    except ValueError as err:
        raise Invalid("ends_at", str(err)) from err


def _check_seats(db: sqlite_utils.Database, current: sqlite3.Row, merged: dict[str, Any]) -> None:
    event_id = current["id"]
    capacity = merged["capacity"]
    if capacity != current["capacity"]:
        taken = signups.seats_of(db, event_id).taken
        if capacity < taken:
            raise Invalid("capacity", f"{taken} seats are taken")
        needs = db.execute(
            "SELECT max(1 + guests) FROM signups WHERE event_id = ? AND status = 'waitlisted'",
            (event_id,),
        ).fetchone()[0]
        if needs is not None and capacity < needs:
            raise Invalid("capacity", f"a waitlisted signup needs {needs} seats")
    if merged["max_guests"] < current["max_guests"]:
        most = db.execute(
            "SELECT max(guests) FROM signups WHERE event_id = ? AND status != 'cancelled'",
            (event_id,),
        ).fetchone()[0]
        if most is not None and most > merged["max_guests"]:
            raise Invalid("max_guests", f"a signup brings {most} colleagues")
    if merged["visibility"] == "members" and current["visibility"] == "open":
        invited = len(invitations.live(db, event_id))
        if invited:
            raise Invalid(
                "visibility", f"{invited} outsiders are invited: cancel their invitations first"
            )


def _check_room_free(
    db: sqlite_utils.Database, room_id: str, starts_at: datetime, ends_at: datetime, event_id: str
) -> None:
    clash = db.execute(
        "SELECT 1 FROM bookings WHERE room_id = ? AND status = 'booked'"
        " AND starts_at < ? AND ? < ends_at AND event_id IS NOT ?",
        (room_id, now_text(ends_at), now_text(starts_at), event_id),
    ).fetchone()
    if clash is not None:
        raise _room_taken(db, room_id)


def _room_taken(db: sqlite_utils.Database, room_id: str) -> Refused:
    name = db.execute("SELECT name FROM rooms WHERE id = ?", (room_id,)).fetchone()["name"]
    return Refused("room_taken", f"{name} is booked then")


_RESERVATION = {"room_id", "host_member_id", "starts_at", "ends_at"}
"""What an event's room booking copies from it."""


def _reserve(db: sqlite_utils.Database, event_id: str, *, actor: str, now: datetime) -> None:
    """Make the event's room booking match the event (moving it, or making it)."""
    event = signups.event_row(db, event_id)
    place = (event["room_id"], event["host_member_id"], event["starts_at"], event["ends_at"])
    try:
        moved = db.execute(
            "UPDATE bookings SET room_id = ?, member_id = ?, starts_at = ?, ends_at = ?"
            " WHERE event_id = ? AND status = 'booked'",
            (*place, event_id),
        ).rowcount
        if not moved:
            db.execute(
                "INSERT INTO bookings (id, room_id, member_id, event_id, starts_at, ends_at,"
                " source, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, 'event', ?, ?)",
                (f"b-{secrets.token_hex(6)}", place[0], place[1], event_id, *place[2:],
                 actor, now_text(now)),
            )  # fmt: skip
    except sqlite3.IntegrityError as err:  # the schema's trigger: the last line of defence
        if "room_taken" in str(err):
            raise _room_taken(db, event["room_id"]) from err
        raise


def _release(db: sqlite_utils.Database, event_id: str, now: datetime) -> None:
    db.execute(
        "UPDATE bookings SET status = 'cancelled', cancelled_at = ?"
        " WHERE event_id = ? AND status = 'booked'",
        (now_text(now), event_id),
    )


# --- reading -------------------------------------------------------------------


_SELECT = (
    "SELECT e.*, coalesce(e.zone_id, r.zone_id) AS place_zone_id,"  # noqa: S608
    " coalesce(r.name, z.name, '') AS place, m.first_name AS host_first_name, "
    + signups.SEAT_COLUMNS
    + " FROM events e LEFT JOIN rooms r ON r.id = e.room_id"
    " LEFT JOIN zones z ON z.id = e.zone_id JOIN members m ON m.id = e.host_member_id"
)


def _load(conn: Any, event_id: str) -> Event:
    row = conn.execute(_SELECT + " WHERE e.id = ?", (event_id,)).fetchone()
    if row is None:
        raise NotFound(f"no event {event_id!r}")
    return _event(row)


def _event(row: sqlite3.Row) -> Event:
    return Event(
        id=row["id"],
        title=row["title"],
        description=row["description"],
        host_member_id=row["host_member_id"],
        host_first_name=row["host_first_name"],
        zone_id=row["place_zone_id"],
        room_id=row["room_id"],
        place=row["place"],
        starts_at=datetime.fromisoformat(row["starts_at"]),
        ends_at=datetime.fromisoformat(row["ends_at"]),
        capacity=row["capacity"],
        taken=row["taken"],
        waitlisted=row["waitlisted"],
        visibility=row["visibility"],
        max_guests=row["max_guests"],
        cancel_deadline_min=row["cancel_deadline_min"],
        status=row["status"],
        created_by=row["created_by"],
        created_at=datetime.fromisoformat(row["created_at"]),
        updated_at=datetime.fromisoformat(row["updated_at"]),
    )
