"""The access log: every tap and what the door decided, filtered, paged, exported as CSV.

Filters come as query parameters (``member``, ``door``, ``from``, ``to``,
``decision``, ``reason``), so a filtered view is a link to share; dates are
local to the hub (``[hub] timezone``). Pages go back with an opaque
``cursor``; the CSV export takes the same filters.
"""

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from hub_server import access_log, doors
from hub_server.api.context import ApiContext, Context
from hub_server.dashboard import render
from hub_server.dashboard.auth import Operator
from hub_server.errors import Invalid
from hub_server.web_sessions import WebSession

router = APIRouter()

PAGE_SIZE = 50
"""Entries per page."""

FILTERS = ("member", "door", "from", "to", "decision", "reason")
"""The query parameters that filter (the page and the export take the same)."""


@dataclass(frozen=True)
class _Asked:
    """The filters as given (to show again), the door names, the parsed filters, problems."""

    shown: dict[str, str]
    door_names: dict[str, str]
    filters: access_log.AccessLogFilter
    errors: dict[str, str]


@router.get("/access-log")
def access_log_page(request: Request, ctx: Context, user: Operator) -> HTMLResponse:
    """One page of entries, newest first, with the filters and links to page back."""
    asked = _asked(request, ctx)
    cursor = request.query_params.get("cursor") or None
    errors = asked.errors
    log = None
    if not errors:
        try:
            log = access_log.page(ctx.store, asked.filters, limit=PAGE_SIZE, cursor=cursor)
        except Invalid as err:
            errors = {"form" if err.field == "cursor" else err.field: err.problem}
    return _page(request, user, asked, errors=errors, log=log, cursor=cursor)


@router.get("/access-log.csv", response_model=None)
def access_log_csv(request: Request, ctx: Context, user: Operator) -> Response:
    """Every entry matching the filters as a CSV file (recorded in the audit log)."""
    asked = _asked(request, ctx)
    if asked.errors:
        return _page(request, user, asked, errors=asked.errors)
    zone = ctx.zone
    chunks = access_log.export_csv(ctx.store, asked.filters, zone, user.actor)
    filename = f"access-log-{datetime.now(zone).date().isoformat()}.csv"
    return StreamingResponse(
        chunks,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _asked(request: Request, ctx: ApiContext) -> _Asked:
    shown = {key: (request.query_params.get(key) or "").strip()[:200] for key in FILTERS}
    door_names = {door.id: door.name for door in doors.all_doors(ctx.store)}
    zone = ctx.zone
    filters, errors = access_log.local_filter(shown, zone, door_names.keys())
    return _Asked(shown, door_names, filters, errors)


def _page(
    request: Request,
    user: WebSession,
    asked: _Asked,
    *,
    errors: dict[str, str],
    log: access_log.AccessLogPage | None = None,
    cursor: str | None = None,
) -> HTMLResponse:
    given = {key: value for key, value in asked.shown.items() if value}
    older = (
        "/access-log?" + urlencode({**given, "cursor": log.next_cursor})
        if log is not None and log.next_cursor
        else None
    )
    newest = ("/access-log?" + urlencode(given)) if cursor else None
    return render.page(
        request,
        "access_log.html",
        user,
        title="Access log",
        shown=asked.shown,
        door_options=[("", "All doors"), *asked.door_names.items()],
        door_names=asked.door_names,
        decisions=[("any", "Any"), ("granted", "Granted"), ("denied", "Denied")],
        errors=errors,
        log=log,
        older=older,
        newest=newest,
        export="/access-log.csv" + ("?" + urlencode(given) if given else ""),
        status_code=422 if errors else 200,
    )
