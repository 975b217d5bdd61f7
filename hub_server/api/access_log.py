"""``/access-log``: who tapped where and what the door decided, newest first."""

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from hub_server import access_log
from hub_server.access_log import MAX_LIMIT, AccessLogFilter, AccessLogPage
from hub_server.api.context import Context

router = APIRouter(tags=["access log"])

_WHEN = "ISO 8601 with a UTC offset, e.g. 2025-05-01T08:00:00Z"


@router.get("/access-log")
def access_log_page(
    *,
    ctx: Context,
    member: Annotated[str | None, Query(max_length=64, description="member id")] = None,
    door: Annotated[str | None, Query(max_length=64, description="door id")] = None,
    since: Annotated[AwareDatetime | None, Query(description=_WHEN + " (inclusive)")] = None,
    until: Annotated[AwareDatetime | None, Query(description=_WHEN + " (exclusive)")] = None,
    granted: bool | None = None,
    reason: Annotated[str | None, Query(max_length=64, description="reason code")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: Annotated[
        str | None, Query(max_length=400, description="next_cursor of the previous page")
    ] = None,
) -> AccessLogPage:
    """One page of access decisions; follow ``next_cursor`` for older ones."""
    filters = AccessLogFilter(
        member_id=member,
        door_id=door,
        since=since,
        until=until,
        granted=granted,
        reason=reason,
    )
    return access_log.page(ctx.store, filters, limit, cursor)
