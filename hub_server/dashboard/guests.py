"""Guests: a day's guest passes; register one, give it a card, cancel it.

For operators and hosts. ``/guests?day=2026-12-01`` (today when left out)
lists the day's passes. A card is given by its UID, hashed with the site
key at once (as a member's card is): the hub keeps the hash and the last
four hex digits only, and without a ``[site] key`` the page says so. Every
rule (the host's tier limit, a card in use) is the guests service's; its
refusal is shown next to the form.
"""

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hub_server import cards, events, guests
from hub_server.api.context import ApiContext, Context
from hub_server.dashboard import forms, render
from hub_server.dashboard.auth import SignedIn
from hub_server.dashboard.bookings import (
    DayParam,
    day_values,
    member_options,
    parse_day,
    resolve_member,
)
from hub_server.dashboard.forms import Confirmed, Posted
from hub_server.errors import Conflict, Invalid, NotFound, Refused
from hub_server.guests import GuestIn
from hub_server.local_days import day_bounds
from hub_server.web_sessions import WebSession
from hublink.messages import utcnow

router = APIRouter()

FIELDS = ("first_name", "host", "card", "event")
"""The register form's fields."""
_FORM_FIELD = {
    "host_member_id": "host",
    "credential": "card",
    "hint": "card",
    "event_id": "event",
}
""":class:`GuestIn`'s fields by the form field they come from, where the names differ."""

NO_SITE_KEY = (
    "this hub has no site key: set [site] key in the hub's configuration to give guests"
    " cards by UID (a guest can still come in with their host, or get a card at the kiosk)"
)


@router.get("/guests")
def day_view(request: Request, ctx: Context, user: SignedIn, day: DayParam = "") -> HTMLResponse:
    """The day's guest passes, cancelled ones too, and the form to register a guest."""
    return _day_page(request, ctx, user, parse_day(ctx, day))


@router.post("/guests")
def register(request: Request, ctx: Context, user: SignedIn, data: Posted) -> Response:
    """Register a guest for the day; back to the day, or the form with what was wrong."""
    day = parse_day(ctx, data.get("day", ""))
    values = {key: data.get(key, "") for key in FIELDS}
    errors: dict[str, str] = {}
    given: dict[str, object] = {
        "first_name": values["first_name"],
        "event_id": values["event"] or None,
        "day": day,
    }
    try:
        given["host_member_id"] = resolve_member(ctx, values["host"], "host")
    except Invalid as err:
        errors["host"] = err.problem
    if values["card"]:
        try:
            given["credential"], given["hint"] = hashed_card(ctx, values["card"])
        except Invalid as err:
            errors["card"] = err.problem
    model, problems = forms.parse(GuestIn, given)
    errors = {**forms.placed(problems, FIELDS, _FORM_FIELD), **errors}
    status = 422
    if model is not None and not errors:
        try:
            guests.register(
                ctx.store,
                model,
                actor=user.actor,
                source="dashboard",
                timezone=ctx.config.hub.timezone,
                now=utcnow(),
            )
        except Refused as err:  # guest_limit, card_in_use, not_allowed, not_signed_up
            errors, status = {"card" if err.reason == "card_in_use" else "form": str(err)}, 409
        except Invalid as err:
            errors = forms.placed({err.field: err.problem}, FIELDS, _FORM_FIELD)
        except (NotFound, Conflict) as err:
            errors = {"form": str(err)}
        else:
            return RedirectResponse(f"/guests?day={day}", status_code=303)
    return _day_page(request, ctx, user, day, form=values, errors=errors, status_code=status)


@router.post("/guests/{pass_id}/card")
def give_card(
    request: Request, ctx: Context, user: SignedIn, pass_id: str, data: Posted
) -> Response:
    """Give a running pass a card by its UID (in place of any card it had)."""
    found = guests.get(ctx.store, pass_id)
    status = 422
    try:
        credential, hint = hashed_card(ctx, data.get("card", ""))
        guests.give_card(ctx.store, found.id, credential, hint, actor=user.actor, now=utcnow())
    except Invalid as err:
        problem = err.problem
    except Refused as err:  # card_in_use, or the pass is cancelled or over
        problem, status = str(err), 409
    else:
        return RedirectResponse(f"/guests?day={found.day}#{found.id}", status_code=303)
    return _day_page(
        request, ctx, user, found.day, card_errors={found.id: problem}, status_code=status
    )


@router.post("/guests/{pass_id}/cancel")
def cancel(
    request: Request, ctx: Context, user: SignedIn, pass_id: str, yes: Confirmed
) -> Response:
    """Ask first; then cancel the pass (its card stops opening doors with the next list)."""
    found = guests.get(ctx.store, pass_id)
    if not yes:
        return render.confirm(
            request,
            user,
            title="Cancel a guest pass",
            question=(
                f"Cancel {found.first_name}'s pass for {found.day} (guest of"
                f" {found.host_first_name})? Their card stops opening doors with the next"
                " list update."
            ),
            action=f"/guests/{found.id}/cancel",
            button="Cancel the pass",
            back=f"/guests?day={found.day}",
        )
    guests.cancel(ctx.store, found.id, actor=user.actor, now=utcnow())
    return RedirectResponse(f"/guests?day={found.day}", status_code=303)


def hashed_card(ctx: ApiContext, text: str) -> tuple[str, str]:
    """A card's keyed hash and its hint from the UID typed; :class:`Invalid` for ``card``."""
    if ctx.site_key is None:
        raise Invalid("card", NO_SITE_KEY)
    return cards.hashed_uid(ctx.site_key, text, "card")


def _day_page(
    request: Request,
    ctx: ApiContext,
    user: WebSession,
    day: date,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    card_errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    since, until = day_bounds(day, ctx.zone)
    on_the_day = events.find(ctx.store, since=since, until=until, include_cancelled=True)
    return render.page(
        request,
        "guests.html",
        user,
        title="Guests",
        status_code=status_code,
        passes=guests.of_day(ctx.store, day),
        event_titles={event.id: event.title for event in on_the_day},
        event_options=[("", "No event")]
        + [(e.id, e.title) for e in on_the_day if e.status == "scheduled"],
        now=utcnow(),
        may_register=day >= parse_day(ctx, ""),
        has_site_key=ctx.site_key is not None,
        no_site_key=NO_SITE_KEY,
        form=form or dict.fromkeys(FIELDS, ""),
        errors=errors or {},
        card_errors=card_errors or {},
        member_options=member_options(ctx),
        values=day_values(ctx, day),
    )
