"""``/billing/{month}``: a month's room bookings billed per organisation, as JSON or CSV.

A month is ``YYYY-MM`` in the hub's time zone; what it bills is
:mod:`hub_server.billing`'s rule (bookings starting in it, cancelled ones and
events' reservations left out, at the price stored when booked).
"""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response

from hub_server import billing
from hub_server.api.context import Context
from hub_server.billing import BillingReport
from hub_server.site_hours import parse_month

router = APIRouter(tags=["billing"])

Month = Annotated[str, Path(max_length=20, description="YYYY-MM, e.g. 2026-11")]

CSV_TYPE = "text/csv; charset=utf-8"
_CSV: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/csv": {"schema": {"type": "string"}}},
        "description": "CSV in UTF-8, as an attachment",
    }
}


def _attachment(text: str, month: str, part: str) -> Response:
    """``text`` as a CSV download named after the month (already checked) and ``part``."""
    filename = f"billing-{parse_month(month):%Y-%m}-{part}.csv"
    return Response(
        text,
        media_type=CSV_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/billing/{month}")
def billing_report(ctx: Context, month: Month) -> BillingReport:
    """The month's bill per organisation (no organisation last), amounts in cents."""
    return billing.monthly(ctx.store, month, ctx.config.hub.timezone)


@router.get("/billing/{month}/summary.csv", response_class=Response, responses=_CSV)
def billing_summary_csv(ctx: Context, month: Month) -> Response:
    """The month's bill as CSV: one row per organisation."""
    report = billing.monthly(ctx.store, month, ctx.config.hub.timezone)
    return _attachment(billing.summary_csv(report), month, "summary")


@router.get("/billing/{month}/detail.csv", response_class=Response, responses=_CSV)
def billing_detail_csv(ctx: Context, month: Month) -> Response:
    """The month's billed bookings as CSV: one row per booking, in local time."""
    lines = billing.detail(ctx.store, month, ctx.config.hub.timezone)
    return _attachment(billing.detail_csv(lines), month, "detail")
