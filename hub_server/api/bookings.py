"""``/bookings``: rooms booked by the minute, never double-booked, priced when booked.

The rules are :mod:`hub_server.bookings`'; a clash is a 409 with ``reason``
``room_taken``. Days are local days of the hub's time zone.
"""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from hub_server import bookings, places
from hub_server.api.auth import Actor
from hub_server.api.context import Context, set_location
from hub_server.api.errors import responses
from hub_server.api.queries import IncludeCancelled, LocalDay, Since, Until, period
from hub_server.bookings import Booking, BookingIn
from hub_server.errors import Invalid
from hub_server.local_days import day_bounds, local_day
from hublink import messages

router = APIRouter(tags=["bookings"])

ROOM_DAYS = 30
"""How far ``GET /bookings?room=…&since=…`` looks ahead without ``until``."""


@router.get("/bookings", responses=responses(404))
def list_bookings(
    *,
    ctx: Context,
    day: LocalDay = None,
    room: Annotated[str | None, Query(max_length=64, description="one room's bookings")] = None,
    since: Since = None,
    until: Until = None,
    include_cancelled: IncludeCancelled = False,
) -> list[Booking]:
    """A day's bookings (every room's by room, or ``room``'s), or ``room``'s from ``since``
    to ``until`` (default: the next 30 days), by start."""
    if since is None and until is None:
        on = day or local_day(messages.utcnow(), ctx.zone)
        if room is None:
            return bookings.of_day(
                ctx.store, on, ctx.config.hub.timezone, include_cancelled=include_cancelled
            )
        start, end = day_bounds(on, ctx.zone)
    elif day is not None:
        raise Invalid("day", "give a day, or since and until, not both")
    elif room is None:
        raise Invalid("room", "since and until are for one room (for every room, give a day)")
    else:
        start, end = period(since, until, ROOM_DAYS)
    places.get_room(ctx.store, room)  # 404 rather than an empty list
    return bookings.of_room(
        ctx.store, room, since=start, until=end, include_cancelled=include_cancelled
    )


@router.get("/bookings/{booking_id}", responses=responses(404))
def get_booking(ctx: Context, booking_id: str) -> Booking:
    """One booking."""
    return bookings.get(ctx.store, booking_id)


@router.post("/bookings", status_code=201, responses=responses(404, 409))
def book(
    ctx: Context, actor: Actor, data: BookingIn, request: Request, response: Response
) -> Booking:
    """Book a room for ``minutes`` from ``starts_at``, priced and billed to the member's
    organisation; ``room_taken`` when it clashes."""
    booking = bookings.book(
        ctx.store,
        data,
        actor=actor,
        source="api",
        community=ctx.config.community,
        timezone=ctx.config.hub.timezone,
        now=messages.utcnow(),
    )
    set_location(request, response, "get_booking", booking_id=booking.id)
    return booking


@router.post("/bookings/{booking_id}/cancel", responses=responses(404, 409))
def cancel_booking(ctx: Context, actor: Actor, booking_id: str) -> Booking:
    """Cancel a booking before it starts (``too_late`` after)."""
    return bookings.cancel(ctx.store, booking_id, actor=actor, now=messages.utcnow())
