"""Rooms: a day's bookings of every room with its free gaps; book and cancel.

For operators and hosts. Days and times are the hub's (``[hub] timezone``):
``/bookings?day=2026-12-01`` shows each room's bookings overlapping that day
(today when left out) and the gaps between them. The form takes a local
start (``datetime-local``) and a length in ``booking_step_min`` steps up to
``booking_max_h``; every rule is the bookings service's, so a clash is its
``room_taken`` message. The day picker, the member picker and the placing of
errors by field here serve the guests and billing pages too.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hub_server import bookings, events, members, places
from hub_server.api.context import ApiContext, Context
from hub_server.bookings import Booking, BookingIn
from hub_server.config import CommunitySection
from hub_server.dashboard import forms, render
from hub_server.dashboard.auth import SignedIn
from hub_server.dashboard.forms import Confirmed, Posted
from hub_server.errors import Invalid, NotFound, Refused
from hub_server.local_days import day_bounds, local_day
from hub_server.member_csv import parse_moment
from hub_server.models import Room, fold
from hub_server.pricing import format_cents
from hub_server.site_hours import FIRST_YEAR, LAST_YEAR
from hub_server.web_sessions import WebSession
from hublink.messages import utcnow

router = APIRouter()

DayParam = Annotated[str, Query(max_length=20)]
IdParam = Annotated[str, Query(max_length=40)]

MEMBER_OPTIONS = 2000
"""At most this many active members in the member picker's list (typing an id always works)."""

FIELDS = ("room", "member", "start", "minutes")
"""The booking form's fields."""
_FORM_FIELD = {"room_id": "room", "member_id": "member", "starts_at": "start"}
""":class:`BookingIn`'s fields by the form field they come from, where the names differ."""

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_LOCAL_INPUT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$|^$")
"""What a ``datetime-local`` input can show; anything else typed is shown as text."""
DEFAULT_HOUR = 9
"""A booking form for another day than today starts at this local hour."""


@dataclass(frozen=True)
class Slot:
    """A stretch of a room's day, in local time: a booking, or free (``booking`` is None)."""

    starts: str
    ends: str
    booking: Booking | None = None


@dataclass(frozen=True)
class RoomDay:
    """A room and its day from midnight to midnight."""

    room: Room
    slots: list[Slot]


# --- the day view ------------------------------------------------------------------


@router.get("/bookings")
def day_view(
    *,
    request: Request,
    ctx: Context,
    user: SignedIn,
    day: DayParam = "",
    booked: IdParam = "",
    cancelled: IdParam = "",
) -> HTMLResponse:
    """Every room's bookings and free gaps on the day; a notice after booking or cancelling."""
    return _day_page(
        request,
        ctx,
        user,
        parse_day(ctx, day),
        notice=_notice(ctx, booked, cancelled),
        highlight=booked,
    )


@router.post("/bookings")
def book(request: Request, ctx: Context, user: SignedIn, data: Posted) -> Response:
    """Book a room; back to the day with the booking, or the form with what was wrong."""
    values = {key: data.get(key, "") for key in FIELDS}
    errors: dict[str, str] = {}
    given: dict[str, object] = {"room_id": values["room"], "minutes": values["minutes"]}
    try:
        given["starts_at"] = start_of(values["start"], ctx.zone)
    except Invalid as err:
        errors["start"] = err.problem
    try:
        given["member_id"] = resolve_member(ctx, values["member"])
    except Invalid as err:
        errors["member"] = err.problem
    model, problems = forms.parse(BookingIn, given)
    errors = {**forms.placed(problems, FIELDS, _FORM_FIELD), **errors}
    status = 422
    if model is not None and not errors:
        try:
            booking = bookings.book(
                ctx.store,
                model,
                actor=user.actor,
                source="dashboard",
                community=ctx.config.community,
                timezone=ctx.config.hub.timezone,
                now=utcnow(),
            )
        except Refused as err:  # room_taken, too_late, not_allowed: the service's words
            errors, status = {"form": str(err)}, 409
        except Invalid as err:
            errors = forms.placed({err.field: err.problem}, FIELDS, _FORM_FIELD)
        except NotFound as err:
            errors = {"form": str(err)}
        else:
            day = local_day(booking.starts_at, ctx.zone)
            return RedirectResponse(
                f"/bookings?day={day}&booked={booking.id}#{booking.id}", status_code=303
            )
    starts_at = given.get("starts_at")
    day = (
        local_day(starts_at, ctx.zone)
        if isinstance(starts_at, datetime)
        else parse_day(ctx, data.get("day", ""))
    )
    return _day_page(request, ctx, user, day, form=values, errors=errors, status_code=status)


@router.post("/bookings/{booking_id}/cancel")
def cancel(
    request: Request, ctx: Context, user: SignedIn, booking_id: str, yes: Confirmed
) -> Response:
    """Ask first; then cancel the booking (it frees the room; only before it starts)."""
    booking = bookings.get(ctx.store, booking_id)
    day = local_day(booking.starts_at, ctx.zone)
    if not yes:
        return render.confirm(
            request,
            user,
            title="Cancel a booking",
            question=(
                f"Cancel the booking of {describe(booking, ctx.zone)}? The room is free again"
                " at once and the booking is not billed."
            ),
            action=f"/bookings/{booking.id}/cancel",
            button="Cancel the booking",
            back=f"/bookings?day={day}",
        )
    bookings.cancel(ctx.store, booking.id, actor=user.actor, now=utcnow())
    return RedirectResponse(f"/bookings?day={day}&cancelled={booking.id}", status_code=303)


def describe(booking: Booking, zone: ZoneInfo) -> str:
    """``Lookout on 2026-12-01 from 10:00 to 11:30 for Åsa Test``."""
    starts = booking.starts_at.astimezone(zone)
    ends = booking.ends_at.astimezone(zone)
    until = f"{ends:%H:%M}" if ends.date() == starts.date() else f"{ends:%Y-%m-%d %H:%M}"
    return (
        f"{booking.room_name} on {starts:%Y-%m-%d} from {starts:%H:%M}"
        f" to {until} for {booking.member_first_name} {booking.member_last_name}"
    )


# --- shared with the guests page ---------------------------------------------------


def parse_day(ctx: ApiContext, text: str) -> date:
    """A local day from ``YYYY-MM-DD`` (empty: today in the hub's zone); :class:`Invalid` else."""
    value = text.strip()
    if not value:
        return local_day(utcnow(), ctx.zone)
    try:
        if not _DAY.fullmatch(value):
            raise ValueError(value)
        day = date.fromisoformat(value)
    except ValueError as err:
        raise Invalid("day", f"{value!r} is not a date (YYYY-MM-DD, e.g. 2026-12-01)") from err
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise Invalid("day", f"must be between {FIRST_YEAR} and {LAST_YEAR}")
    return day


def day_values(ctx: ApiContext, day: date) -> dict[str, object]:
    """What ``bookings_day_picker.html`` shows: the day, the days around it, the zone."""
    return {
        "day": day.isoformat(),
        "day_label": f"{day:%A} {day.day} {day:%B %Y}",
        "prev_day": (day - timedelta(days=1)).isoformat(),
        "next_day": (day + timedelta(days=1)).isoformat(),
        "is_today": day == local_day(utcnow(), ctx.zone),
        "zone": ctx.config.hub.timezone,
    }


def resolve_member(ctx: ApiContext, text: str, field: str = "member") -> str:
    """The id of the member ``text`` names: an id, or a full name (case and accents ignored)."""
    wanted = text.strip()
    if not wanted:
        raise Invalid(field, "is required: a member's id or full name")
    found = members.find(ctx.store, search=wanted, limit=MEMBER_OPTIONS)
    if any(member.id == wanted for member in found):
        return wanted
    named = [m for m in found if fold(f"{m.first_name} {m.last_name}") == fold(wanted)]
    if not named:
        raise Invalid(field, f"no member {wanted!r}: pick one from the list")
    if len(named) > 1:
        raise Invalid(field, f"{len(named)} members are called {wanted}: pick one by id")
    return named[0].id


def member_options(ctx: ApiContext) -> list[tuple[str, str]]:
    """Active members for the picker's list: their id and ``name · organisation``."""
    return [
        (m.id, f"{m.first_name} {m.last_name}" + (f" · {m.organisation}" if m.organisation else ""))
        for m in members.find(ctx.store, status="active", limit=MEMBER_OPTIONS)
    ]


def start_of(text: str, zone: ZoneInfo) -> datetime:
    """A local date and time (``2026-12-01T10:00``) as a moment; :class:`Invalid` for ``start``."""
    if not text.strip():
        raise Invalid("start", "is required: a date and time (YYYY-MM-DDTHH:MM)")
    return parse_moment(text, zone, field="start")


# --- helpers -----------------------------------------------------------------------


def _notice(ctx: ApiContext, booked: str, cancelled: str) -> str:
    """What was just done, from the redirect's ``booked`` or ``cancelled`` booking id."""
    try:
        booking = bookings.get(ctx.store, booked or cancelled) if booked or cancelled else None
    except NotFound:
        booking = None
    if booking is None:
        return ""
    if booked:
        return f"Booked {describe(booking, ctx.zone)}: {format_cents(booking.amount_cents)}."
    return f"Cancelled the booking of {describe(booking, ctx.zone)}."


def _timeline(
    found: Sequence[Booking], since: datetime, until: datetime
) -> list[tuple[datetime, datetime, Booking | None]]:
    """A room's bookings (by start) and the free gaps between them, from ``since`` to ``until``."""
    slots: list[tuple[datetime, datetime, Booking | None]] = []
    free_from = since
    for booking in found:
        if booking.starts_at > free_from:
            slots.append((free_from, booking.starts_at, None))
        slots.append((booking.starts_at, booking.ends_at, booking))
        free_from = max(free_from, booking.ends_at)
    if free_from < until:
        slots.append((free_from, until, None))
    return slots


def _room_days(ctx: ApiContext, rooms: Sequence[Room], day: date) -> list[RoomDay]:
    """Every room's day: its bookings and gaps, labelled in local time."""
    zone = ctx.zone
    since, until = day_bounds(day, zone)
    found = bookings.of_day(ctx.store, day, ctx.config.hub.timezone)

    def clock(moment: datetime) -> str:
        if moment == until:
            return "24:00"
        local = moment.astimezone(zone)
        return f"{local:%H:%M}" if local.date() == day else f"{local:%Y-%m-%d %H:%M}"

    return [
        RoomDay(
            room,
            [
                Slot(clock(starts), clock(ends), booking)
                for starts, ends, booking in _timeline(
                    [b for b in found if b.room_id == room.id], since, until
                )
            ],
        )
        for room in rooms
    ]


def _default_start(ctx: ApiContext, day: date, community: CommunitySection) -> str:
    """The form's start: the next whole step from now today, else the day at 09:00."""
    now = utcnow().astimezone(ctx.zone)
    if day != now.date():
        return f"{day.isoformat()}T{DEFAULT_HOUR:02d}:00"
    step = community.booking_step_min
    minutes = now.hour * 60 + now.minute
    ahead = now.replace(second=0, microsecond=0) + timedelta(minutes=step - minutes % step)
    return f"{ahead:%Y-%m-%dT%H:%M}"


def minute_options(community: CommunitySection) -> list[tuple[str, str]]:
    """Booking lengths: every ``booking_step_min`` up to ``booking_max_h`` hours."""
    step = community.booking_step_min
    longest = int(community.booking_max_h * 60)
    return [(str(m), _length(m)) for m in range(step, longest + 1, step)]


def _length(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    parts = (f"{hours} h" if hours else "", f"{rest} min" if rest else "")
    return " ".join(part for part in parts if part)


def _day_page(
    request: Request,
    ctx: ApiContext,
    user: WebSession,
    day: date,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    notice: str = "",
    highlight: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    community = ctx.config.community
    lengths = minute_options(community)
    since, until = day_bounds(day, ctx.zone)
    rooms = places.rooms(ctx.store)
    shown = form or {
        "room": rooms[0].id if rooms else "",
        "member": "",
        "start": _default_start(ctx, day, community),
        "minutes": "60" if any(value == "60" for value, _ in lengths) else lengths[0][0],
    }
    return render.page(
        request,
        "bookings.html",
        user,
        title="Rooms",
        status_code=status_code,
        room_days=_room_days(ctx, rooms, day),
        event_titles={
            e.id: e.title
            for e in events.find(ctx.store, since=since, until=until, include_cancelled=True)
        },
        format_cents=format_cents,
        highlight=highlight,
        notice=notice,
        form=shown,
        start_type="datetime-local" if _LOCAL_INPUT.fullmatch(shown["start"]) else "text",
        errors=errors or {},
        now=utcnow(),
        room_options=[(room.id, room.name) for room in rooms],
        minute_options=lengths,
        member_options=member_options(ctx),
        values=day_values(ctx, day),
    )
