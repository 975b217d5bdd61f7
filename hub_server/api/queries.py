"""Query parameters the community routers share: periods, local days, cancelled ones too."""

from datetime import date, datetime, timedelta
from typing import Annotated, TypeVar

from fastapi import Query
from pydantic import AfterValidator

from hub_server.errors import Invalid
from hub_server.site_hours import FIRST_YEAR, LAST_YEAR
from hublink import messages
from hublink.messages import UtcDatetime

D = TypeVar("D", date, datetime)


def _in_years(value: D) -> D:
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"must be in the years {FIRST_YEAR} to {LAST_YEAR}")
    return value


_WHEN = "ISO 8601 with a UTC offset, e.g. 2026-12-01T17:00:00Z"
When = Annotated[UtcDatetime, AfterValidator(_in_years)]
Since = Annotated[When | None, Query(description=_WHEN + "; default: now")]
Until = Annotated[When | None, Query(description=_WHEN)]
LocalDay = Annotated[
    Annotated[date, AfterValidator(_in_years)] | None,
    Query(description="a day in the hub's time zone, YYYY-MM-DD; default: today"),
]
IncludeCancelled = Annotated[bool, Query(description="list cancelled ones too")]


def period(since: datetime | None, until: datetime | None, days: int) -> tuple[datetime, datetime]:
    """``[since, until)`` from query parameters: ``since`` defaults to now, ``until`` to
    ``days`` after ``since``; :class:`Invalid` naming the parameter at fault."""
    start = since or messages.utcnow()
    end = until or start + timedelta(days=days)
    if end <= start:
        raise Invalid("until", "must be after since")
    return start, end
