"""``/cards`` and ``/members/{id}/cards``: attach, list and revoke cards.

A card is added by its UID, which the hub hashes with the site key at once;
no answer ever holds a UID, only its last 4 hex digits (``hint``) and hash.
"""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import StringConstraints

from hub_server import cards, members
from hub_server.api.auth import Actor
from hub_server.api.context import Context, set_location
from hub_server.api.errors import Unavailable, responses
from hub_server.models import Card, CardIn, CredentialKind, Input, build

router = APIRouter(tags=["cards"])

NO_SITE_KEY = (
    "this hub has no site key, so it cannot hash a card UID: set [site] key in hub.toml "
    "(or HUBTAP_SITE__KEY) and restart the server"
)


class CardBody(Input):
    """:class:`~hub_server.models.CardIn` without ``member_id``, which the path gives."""

    uid: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    kind: CredentialKind = "card"
    label: Annotated[str, StringConstraints(max_length=80)] = ""


IncludeRevoked = Annotated[bool, Query(description="list revoked cards too")]
CardId = Annotated[int, Path(ge=1, le=2**63 - 1)]


@router.get("/cards")
def list_cards(ctx: Context, include_revoked: IncludeRevoked = False) -> list[Card]:
    """Every member's cards, newest first."""
    return cards.find(ctx.store, include_revoked=include_revoked)


@router.get("/cards/{card_id}", responses=responses(404))
def get_card(ctx: Context, card_id: CardId) -> Card:
    """One card."""
    return cards.get(ctx.store, card_id)


@router.post("/cards/{card_id}/revoke", responses=responses(404, 409))
def revoke_card(ctx: Context, actor: Actor, card_id: CardId) -> Card:
    """Revoke a card: the doors drop it with their next list."""
    return cards.revoke(ctx.store, card_id, actor)


@router.get("/members/{member_id}/cards", responses=responses(404))
def list_member_cards(
    ctx: Context, member_id: str, include_revoked: IncludeRevoked = False
) -> list[Card]:
    """A member's cards, newest first."""
    members.get(ctx.store, member_id)  # 404 rather than an empty list
    return cards.find(ctx.store, member_id=member_id, include_revoked=include_revoked)


@router.post("/members/{member_id}/cards", status_code=201, responses=responses(404, 409, 503))
def add_member_card(
    *,
    ctx: Context,
    actor: Actor,
    member_id: str,
    body: CardBody,
    request: Request,
    response: Response,
) -> Card:
    """Attach the card with this UID (hex, as a reader prints it) to the member."""
    if ctx.site_key is None:
        raise Unavailable(NO_SITE_KEY)
    data = build(CardIn, member_id=member_id, **body.model_dump())
    card = cards.add(ctx.store, ctx.site_key, data, actor)
    set_location(request, response, "get_card", card_id=card.id)
    return card
