"""Occupancy charts: people on site (or in a zone) by hour for a day, and a weekday × hour map.

Counts only, never names, so hosts see this page too. The numbers come from
:mod:`hub_server.occupancy_history`; :mod:`svg_charts` draws them.
"""

from datetime import date, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from hub_server import occupancy_history, places
from hub_server.api.context import Context
from hub_server.dashboard import svg_charts
from hub_server.dashboard.auth import SignedIn
from hub_server.dashboard.render import page
from hub_server.errors import Invalid
from hub_server.occupancy_history import WEEKDAYS, WEEKS, HourCount
from hublink.messages import utcnow

router = APIRouter()

HOURS = [f"{hour:02d}" for hour in range(24)]
SPANS = [f"{hour:02d}:00–{(hour + 1) % 24:02d}:00" for hour in range(24)]


@router.get("/charts")
def charts_page(
    request: Request, ctx: Context, user: SignedIn, zone: str = "", day: str = ""
) -> HTMLResponse:
    """The charts for ``zone`` (blank: the whole site) on ``day`` (blank: today)."""
    tz = ctx.zone
    now = utcnow()
    zone_id = zone.strip() or None
    place = places.get_zone(ctx.store, zone_id).name if zone_id else "the whole site"
    form: dict[str, object] = {
        "zone": zone_id or "",
        "day": day,
        "zone_options": [("", "Whole site"), *((z.id, z.name) for z in places.zones(ctx.store))],
    }
    try:
        chosen = occupancy_history.chosen_day(day, occupancy_history.local_today(tz, now))
    except Invalid as err:
        return page(
            request,
            "charts.html",
            user,
            title="Occupancy charts",
            values=form,
            errors={err.field: err.problem},
            status_code=422,
        )
    hours = occupancy_history.day_hours(ctx.store, zone_id, chosen, tz=tz, now=now)
    averages = occupancy_history.weekday_hour_average(ctx.store, zone_id, chosen, tz=tz, now=now)
    first, days = occupancy_history.averages_window(chosen)
    return page(
        request,
        "charts.html",
        user,
        title="Occupancy charts",
        values=form,
        errors={},
        place=place,
        chosen=chosen,
        hours=hours,
        day_chart=day_chart(hours, place, chosen),
        week_rows=week_rows(averages),
        week_chart=week_chart(averages, place, first, first + timedelta(days=days - 1)),
        first=first,
        last=first + timedelta(days=days - 1),
        weeks=WEEKS,
    )


def day_chart(hours: list[HourCount], place: str, day: date) -> str:
    """The SVG bar chart of one day's hours."""
    return svg_charts.bar_chart(
        [(hour.label, None if hour.future else hour.people) for hour in hours],
        titles=[hour.span for hour in hours],
        title=f"People in {place} by hour on {day.isoformat()}",
    )


def week_rows(averages: dict[tuple[int, int], float]) -> list[tuple[str, list[float | None]]]:
    """``(weekday, average per hour)`` rows, Monday first; ``None`` where no hour occurred."""
    return [
        (name, [averages.get((weekday, hour)) for hour in range(24)])
        for weekday, name in enumerate(WEEKDAYS)
    ]


def week_chart(averages: dict[tuple[int, int], float], place: str, first: date, last: date) -> str:
    """The SVG weekday × hour heatmap of the averages."""
    return svg_charts.heatmap(
        week_rows(averages),
        columns=HOURS,
        column_titles=SPANS,
        row_labels=[name[:3] for name in WEEKDAYS],
        title=(
            f"Average people in {place} by weekday and hour,"
            f" {first.isoformat()} to {last.isoformat()}"
        ),
    )
