"""Billing: a month's room bookings per organisation, its CSV exports, and the tiers.

For operators. ``/billing?month=2026-11`` (this month when left out) sums the
bookings that start in that local month, as :mod:`hub_server.billing` does
for ``hubtap bookings billing``; the CSVs are its exports. ``/billing/tiers``
lists the membership tiers with their daily guest limits, and adds and
changes them.
"""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hub_server import billing, tiers
from hub_server.api.context import ApiContext, Context
from hub_server.dashboard import forms, render
from hub_server.dashboard.auth import Operator
from hub_server.dashboard.forms import Posted
from hub_server.dashboard.organisations import MonthParam, month_picker
from hub_server.errors import Conflict
from hub_server.pricing import format_cents
from hub_server.tiers import TierChange, TierIn
from hub_server.web_sessions import WebSession

router = APIRouter()

TIER_FIELDS = ("id", "name", "guests_per_day")


@router.get("/billing")
def billing_page(
    request: Request, ctx: Context, user: Operator, month: MonthParam = ""
) -> HTMLResponse:
    """The month's bill per organisation, with the total and the CSV links."""
    _, picker = month_picker(ctx, month)
    report = billing.monthly(ctx.store, str(picker["month"]), ctx.config.hub.timezone)
    return render.page(
        request,
        "billing.html",
        user,
        title="Billing",
        report=report,
        total_bookings=sum(line.bookings for line in report.lines),
        total_office=sum(line.office_minutes for line in report.lines),
        total_off_hours=sum(line.off_hours_minutes for line in report.lines),
        format_cents=format_cents,
        hours=_hours,
        values=picker,
    )


@router.get("/billing/{month}/summary.csv")
def summary_csv(ctx: Context, user: Operator, month: str) -> Response:
    """The month's bill per organisation as CSV (as ``hubtap bookings billing``)."""
    report = billing.monthly(ctx.store, month, ctx.config.hub.timezone)
    return _csv(billing.summary_csv(report), f"billing-{report.month}-summary.csv")


@router.get("/billing/{month}/detail.csv")
def detail_csv(ctx: Context, user: Operator, month: str) -> Response:
    """Every booking billed in the month as CSV (as ``hubtap bookings billing --detail``)."""
    report = billing.monthly(ctx.store, month, ctx.config.hub.timezone)  # checks the month
    lines = billing.detail(ctx.store, report.month, ctx.config.hub.timezone)
    return _csv(billing.detail_csv(lines), f"billing-{report.month}-detail.csv")


# --- tiers --------------------------------------------------------------------------


@router.get("/billing/tiers")
def tier_page(request: Request, ctx: Context, user: Operator) -> HTMLResponse:
    """Every tier with its members and daily guest limit; forms to change and add."""
    return _tier_page(request, ctx, user)


@router.post("/billing/tiers")
def add_tier(request: Request, ctx: Context, user: Operator, data: Posted) -> Response:
    """Add a tier, or the page again with what was wrong next to each field."""
    values = {key: data.get(key, "") for key in TIER_FIELDS}
    model, errors = forms.parse(TierIn, values)
    if model is not None:
        try:
            tiers.add(ctx.store, model, user.actor)
        except Conflict as err:
            return _tier_page(request, ctx, user, form=values, errors={"id": str(err)}, status=409)
        return RedirectResponse(f"/billing/tiers#tier-{model.id}", status_code=303)
    return _tier_page(
        request, ctx, user, form=values, errors=forms.placed(errors, TIER_FIELDS), status=422
    )


@router.post("/billing/tiers/{tier_id}")
def change_tier(
    request: Request, ctx: Context, user: Operator, tier_id: str, data: Posted
) -> Response:
    """Change a tier's name and daily guest limit (its id never changes)."""
    tier = tiers.get(ctx.store, tier_id)
    values = {key: data.get(key, "") for key in ("name", "guests_per_day")}
    model, errors = forms.parse(TierChange, values, blank_is_none=values)
    if model is None:
        problem = "; ".join(f"{key}: {text}" for key, text in errors.items())
        return _tier_page(request, ctx, user, row_errors={tier.id: problem}, status=422)
    tiers.update(ctx.store, tier.id, model, user.actor)
    return RedirectResponse(f"/billing/tiers#tier-{tier.id}", status_code=303)


def _hours(minutes: int) -> str:
    """Minutes as hours with two decimals: ``90`` -> ``1.50``."""
    return f"{minutes / 60:.2f}"


def _csv(text: str, filename: str) -> Response:
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _tier_page(
    request: Request,
    ctx: ApiContext,
    user: WebSession,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    row_errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    return render.page(
        request,
        "tiers.html",
        user,
        title="Tiers and guest limits",
        status_code=status,
        tiers=tiers.all_tiers(ctx.store),
        form=form or {"id": "", "name": "", "guests_per_day": "3"},
        errors=errors or {},
        row_errors=row_errors or {},
        most=tiers.MAX_GUESTS_PER_DAY,
    )
