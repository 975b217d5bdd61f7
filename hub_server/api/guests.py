"""``/guests``: members' guests' day passes, by first name, optionally with a visitor card.

A card is given by its UID, which the hub hashes with the site key at once (as
``/members/{id}/cards`` does); no answer holds the UID or its hash, only
``has_card`` and ``hint`` (the UID's last 4 hex digits).
"""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Request, Response
from pydantic import StringConstraints

from hub_server import cards, guests
from hub_server.api.auth import Actor
from hub_server.api.cards import NO_SITE_KEY
from hub_server.api.context import ApiContext, Context, set_location
from hub_server.api.errors import Unavailable, responses
from hub_server.api.queries import LocalDay
from hub_server.guests import FirstName, GuestIn, GuestPass, PassId
from hub_server.local_days import local_day
from hub_server.models import EntityId, Input, build
from hublink import messages

router = APIRouter(tags=["guests"])

Uid = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class GuestBody(Input):
    """:class:`~hub_server.guests.GuestIn` with a card's ``uid`` in place of its hash."""

    first_name: FirstName
    host_member_id: EntityId
    uid: Uid | None = None
    day: date | None = None
    event_id: EntityId | None = None
    id: PassId | None = None


class PassCardBody(Input):
    """The card a guest will carry."""

    uid: Uid


def _hashed(ctx: ApiContext, uid_text: str) -> tuple[str, str]:
    """A card's keyed hash and its hint, from its UID; 503 without a site key."""
    if ctx.site_key is None:
        raise Unavailable(NO_SITE_KEY)
    return cards.hashed_uid(ctx.site_key, uid_text)


@router.get("/guests")
def list_guests(ctx: Context, day: LocalDay = None) -> list[GuestPass]:
    """The day's passes (cancelled ones too), by time of registration."""
    return guests.of_day(ctx.store, day or local_day(messages.utcnow(), ctx.zone))


@router.get("/guests/{pass_id}", responses=responses(404))
def get_guest(ctx: Context, pass_id: str) -> GuestPass:
    """One pass."""
    return guests.get(ctx.store, pass_id)


@router.post("/guests", status_code=201, responses=responses(404, 409, 503))
def add_guest(
    ctx: Context, actor: Actor, body: GuestBody, request: Request, response: Response
) -> GuestPass:
    """Register a member's guest until midnight ending ``day`` (default: today)."""
    credential, hint = (None, None) if body.uid is None else _hashed(ctx, body.uid)
    data = build(GuestIn, **body.model_dump(exclude={"uid"}), credential=credential, hint=hint)
    found = guests.register(
        ctx.store,
        data,
        actor=actor,
        source="api",
        timezone=ctx.config.hub.timezone,
        now=messages.utcnow(),
    )
    set_location(request, response, "get_guest", pass_id=found.id)
    return found


@router.post("/guests/{pass_id}/card", responses=responses(404, 409, 503))
def give_card(ctx: Context, actor: Actor, pass_id: str, body: PassCardBody) -> GuestPass:
    """Put the card with this UID on a running pass, in place of any card it had."""
    credential, hint = _hashed(ctx, body.uid)
    return guests.give_card(
        ctx.store, pass_id, credential, hint, actor=actor, now=messages.utcnow()
    )


@router.post("/guests/{pass_id}/cancel", responses=responses(404, 409))
def cancel_guest(ctx: Context, actor: Actor, pass_id: str) -> GuestPass:
    """Cancel a pass: it leaves the doors' lists and the kiosks' directory."""
    return guests.cancel(ctx.store, pass_id, actor=actor, now=messages.utcnow())
