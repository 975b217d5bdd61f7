"""Organisations: each with its members and their hours on site in a month.

Months are calendar months in the hub's time zone (``?month=2026-11``; this
month when left out); hours come from :mod:`hub_server.site_hours`.
"""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hub_server import organisations, site_hours
from hub_server.api.context import ApiContext, Context
from hub_server.dashboard import forms, render
from hub_server.dashboard.auth import Operator
from hub_server.dashboard.forms import Posted
from hub_server.errors import Conflict
from hub_server.models import OrganisationIn
from hub_server.web_sessions import WebSession
from hublink.messages import utcnow

router = APIRouter()

MonthParam = Annotated[str, Query(max_length=20)]


@router.get("/organisations")
def organisation_list(
    request: Request, ctx: Context, user: Operator, month: MonthParam = ""
) -> HTMLResponse:
    """Every organisation with its active members and their hours on site in the month."""
    return _list_page(request, ctx, user, month, form={"name": ""}, errors={})


@router.post("/organisations")
def add_organisation(request: Request, ctx: Context, user: Operator, data: Posted) -> Response:
    """Add an organisation, or the list again with what was wrong with the name."""
    values = {"name": data.get("name", "")}
    model, errors = forms.parse(OrganisationIn, values)
    if model is not None:
        try:
            org = organisations.add(ctx.store, model, user.actor)
        except Conflict as err:
            errors = {"name": str(err)}
        else:
            return RedirectResponse(f"/organisations/{org.id}", status_code=303)
    if set(errors) - {"name"}:
        errors = {"name": "; ".join(errors.values())}
    return _list_page(request, ctx, user, "", form=values, errors=errors, status_code=422)


@router.get("/organisations/{org_id}")
def organisation_page(
    request: Request, ctx: Context, user: Operator, org_id: str, month: MonthParam = ""
) -> HTMLResponse:
    """An organisation's members (any status) with their hours on site in the month."""
    org = organisations.get(ctx.store, org_id)
    chosen, months = month_picker(ctx, month)
    people = site_hours.organisation_members(ctx.store, org.id, *chosen)
    return render.page(
        request,
        "organisation.html",
        user,
        title=org.name,
        org=org,
        people=people,
        total_hours=sum(person.hours for person in people),
        values=months,
    )


def _list_page(
    request: Request,
    ctx: ApiContext,
    user: WebSession,
    month: str,
    *,
    form: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> HTMLResponse:
    chosen, months = month_picker(ctx, month)
    seconds = site_hours.organisation_seconds(ctx.store, *chosen)
    return render.page(
        request,
        "organisations.html",
        user,
        title="Organisations",
        status_code=status_code,
        orgs=organisations.all_organisations(ctx.store),
        hours={key: value / 3600 for key, value in seconds.items()},
        form=form,
        errors=errors,
        values=months,
    )


def month_picker(ctx: ApiContext, month: str) -> tuple[site_hours.Interval, dict[str, object]]:
    """The month asked for (this month by default) as a UTC period, and the picker's values."""
    zone = ctx.zone
    this_month = site_hours.month_of(utcnow(), zone)
    chosen = site_hours.parse_month(month) if month.strip() else this_month
    period = site_hours.month_period(chosen, zone)
    return period, {
        "month": chosen.strftime("%Y-%m"),
        "month_label": chosen.strftime("%B %Y"),
        "prev_month": site_hours.shift_month(chosen, -1).strftime("%Y-%m"),
        "next_month": site_hours.shift_month(chosen, 1).strftime("%Y-%m"),
        "is_this_month": chosen == this_month,
        "zone": ctx.config.hub.timezone,
    }
