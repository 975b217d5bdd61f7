"""``/events``: events, their sign-ups (seats and the waitlist) and invited outsiders.

The rules are the services' (:mod:`hub_server.events`, :mod:`hub_server.signups`,
:mod:`hub_server.invitations`); a refusal is a 409 whose ``reason`` is the kiosk's code
(``full``, ``already_signed_up``, ``past_deadline``, …).
"""

from collections.abc import Iterable
from typing import Annotated, TypeVar

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import Field

from hub_server import events, invitations, signups
from hub_server.api.auth import Actor
from hub_server.api.context import Context, set_location
from hub_server.api.errors import responses
from hub_server.api.queries import IncludeCancelled, Since, Until, period
from hub_server.errors import NotFound
from hub_server.events import Event, EventChange, EventIn, Visibility
from hub_server.invitations import Invitation, InvitationIn
from hub_server.models import EntityId, Input
from hub_server.signups import Attendee, SignupResult
from hublink import messages

router = APIRouter(tags=["events"])

T = TypeVar("T")

EVENT_DAYS = 30
"""How far ``GET /events`` looks ahead without ``until``."""
MAX_GUESTS = 10_000
"""More colleagues than any event seats: the service words the refusal (``too_many_guests``)."""

InvitationId = Annotated[int, Path(ge=1, le=2**63 - 1)]


class SignupIn(Input):
    """A member to sign up, with how many colleagues come along."""

    member_id: EntityId
    guests: int = Field(default=0, ge=0, le=MAX_GUESTS)


class GuestsIn(Input):
    """A sign-up's new number of colleagues."""

    guests: int = Field(ge=0, le=MAX_GUESTS)


def _the(found: Iterable[T], missing: str) -> T:
    """The first of ``found``; :class:`NotFound` with ``missing`` when there is none."""
    for item in found:
        return item
    raise NotFound(missing)


# --- events ----------------------------------------------------------------------------


@router.get("/events")
def list_events(
    *,
    ctx: Context,
    since: Since = None,
    until: Until = None,
    visibility: Visibility | None = None,
    host: Annotated[str | None, Query(max_length=64, description="the host's member id")] = None,
    include_cancelled: IncludeCancelled = False,
) -> list[Event]:
    """Events on at some time from ``since`` to ``until`` (default: the next 30 days), by start."""
    start, end = period(since, until, EVENT_DAYS)
    return events.find(
        ctx.store,
        since=start,
        until=end,
        visibility=visibility,
        host=host,
        include_cancelled=include_cancelled,
    )


@router.get("/events/{event_id}", responses=responses(404))
def get_event(ctx: Context, event_id: str) -> Event:
    """One event, with its seats taken and how many wait."""
    return events.get(ctx.store, event_id)


@router.post("/events", status_code=201, responses=responses(404, 409))
def add_event(
    ctx: Context, actor: Actor, data: EventIn, request: Request, response: Response
) -> Event:
    """Add an event; one in a room reserves the room (``room_taken`` if it is booked then)."""
    event = events.add(ctx.store, data, actor=actor, now=messages.utcnow())
    set_location(request, response, "get_event", event_id=event.id)
    return event


@router.patch("/events/{event_id}", responses=responses(404, 409))
def change_event(ctx: Context, actor: Actor, event_id: str, data: EventChange) -> Event:
    """Change the fields the body names; a larger capacity promotes from the waitlist."""
    return events.update(ctx.store, event_id, data, actor=actor, now=messages.utcnow())


@router.post("/events/{event_id}/cancel", responses=responses(404))
def cancel_event(ctx: Context, actor: Actor, event_id: str) -> Event:
    """Call the event off: its sign-ups, invitations and room reservation are cancelled."""
    return events.cancel(ctx.store, event_id, actor=actor, now=messages.utcnow())


# --- sign-ups --------------------------------------------------------------------------


@router.get("/events/{event_id}/signups", responses=responses(404))
def list_signups(
    ctx: Context, event_id: str, include_cancelled: IncludeCancelled = False
) -> list[Attendee]:
    """The event's sign-ups: seats, then the waitlist in order (``position`` 1 is next)."""
    return signups.of_event(ctx.store, event_id, include_cancelled=include_cancelled)


@router.get("/events/{event_id}/signups/{member_id}", responses=responses(404))
def get_signup(ctx: Context, event_id: str, member_id: str) -> Attendee:
    """The member's live sign-up for the event."""
    return _the(
        (a for a in signups.of_event(ctx.store, event_id) if a.member_id == member_id),
        f"{member_id} is not signed up for {event_id}",
    )


@router.post("/events/{event_id}/signups", status_code=201, responses=responses(404, 409))
def sign_up(
    *,
    ctx: Context,
    actor: Actor,
    event_id: str,
    data: SignupIn,
    request: Request,
    response: Response,
) -> SignupResult:
    """Sign a member up: a seat (``confirmed``), or a place on the waitlist (``waitlisted``,
    with its ``position``)."""
    result = signups.sign_up(
        ctx.store,
        event_id,
        data.member_id,
        guests=data.guests,
        actor=actor,
        source="api",
        now=messages.utcnow(),
    )
    set_location(request, response, "get_signup", event_id=event_id, member_id=data.member_id)
    return result


@router.patch("/events/{event_id}/signups/{member_id}", responses=responses(404, 409))
def change_guests(
    ctx: Context, actor: Actor, event_id: str, member_id: str, data: GuestsIn
) -> SignupResult:
    """Change how many colleagues come along; the sign-up keeps its place."""
    return signups.change_guests(
        ctx.store, event_id, member_id, data.guests, actor=actor, now=messages.utcnow()
    )


@router.delete("/events/{event_id}/signups/{member_id}", responses=responses(404, 409))
def cancel_signup(
    ctx: Context,
    actor: Actor,
    event_id: str,
    member_id: str,
    force: Annotated[bool, Query(description="give a seat back past the deadline")] = False,
) -> SignupResult:
    """Give the seat or waitlist place back; ``promoted`` lists who moved up to a seat."""
    return signups.cancel(
        ctx.store, event_id, member_id, actor=actor, now=messages.utcnow(), force=force
    )


# --- invitations -----------------------------------------------------------------------


@router.get("/events/{event_id}/invitations", responses=responses(404))
def list_invitations(
    ctx: Context, event_id: str, include_cancelled: IncludeCancelled = False
) -> list[Invitation]:
    """The outsiders invited to the event, in the order they were invited."""
    return invitations.of_event(ctx.store, event_id, include_cancelled=include_cancelled)


@router.get("/events/{event_id}/invitations/{invitation_id}", responses=responses(404))
def get_invitation(ctx: Context, event_id: str, invitation_id: InvitationId) -> Invitation:
    """One of the event's invitations (cancelled ones too)."""
    return invitations.get(ctx.store, event_id, invitation_id)


@router.post("/events/{event_id}/invitations", status_code=201, responses=responses(404, 409))
def invite(
    *,
    ctx: Context,
    actor: Actor,
    event_id: str,
    data: InvitationIn,
    request: Request,
    response: Response,
) -> Invitation:
    """Invite an outsider to an ``open`` event: one seat, if one is free and nobody waits."""
    invitation = invitations.invite(ctx.store, event_id, data, actor=actor, now=messages.utcnow())
    set_location(
        request, response, "get_invitation", event_id=event_id, invitation_id=invitation.id
    )
    return invitation


@router.delete("/events/{event_id}/invitations/{invitation_id}", responses=responses(404))
def uninvite(ctx: Context, actor: Actor, event_id: str, invitation_id: InvitationId) -> Invitation:
    """Withdraw an invitation; its seat goes to the waitlist."""
    invitations.get(ctx.store, event_id, invitation_id)  # 404 unless it is this event's
    return invitations.cancel(ctx.store, invitation_id, actor=actor, now=messages.utcnow())
