"""The public calendar: a read-only page and the iCalendar feeds (no sign-in needed).

``/calendar`` lists the open events with their free seats; ``/calendar.ics``
is the same as a feed; ``/calendar/member/<token>.ics`` is one member's own
feed (an unknown token is a plain 404). See :mod:`hub_server.calendar_feed`.
"""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from hub_server import calendar_feed
from hub_server.api.context import Context
from hub_server.dashboard.render import TEMPLATES, local_time
from hub_server.errors import NotFound
from hublink.messages import utcnow

router = APIRouter()

ICAL = "text/calendar; charset=utf-8"


@router.get("/calendar.ics")
def public_feed(ctx: Context) -> Response:
    """The open events as an iCalendar feed."""
    now = utcnow()
    items = calendar_feed.public_items(ctx.store, now)
    name = f"{ctx.config.site.id} events"
    body = calendar_feed.render(items, name=name, site_id=ctx.config.site.id, now=now)
    return Response(body, media_type=ICAL)


@router.get("/calendar/member/{token}.ics")
def member_feed(token: str, ctx: Context) -> Response:
    """One member's events and bookings, behind their token."""
    member_id = calendar_feed.member_of_token(ctx.store, token)
    if member_id is None:
        raise NotFound("no such calendar")
    now = utcnow()
    items = calendar_feed.member_items(ctx.store, member_id, now)
    name = f"My {ctx.config.site.id} calendar"
    body = calendar_feed.render(items, name=name, site_id=ctx.config.site.id, now=now)
    return Response(body, media_type=ICAL)


@router.get("/calendar", response_class=HTMLResponse)
def public_page(request: Request, ctx: Context) -> HTMLResponse:
    """The open events, for anyone: when, where, free seats, the host's first name."""
    now = utcnow()
    items = [item for item in calendar_feed.public_items(ctx.store, now) if item.ends_at > now]
    context = {
        "title": "Events",
        "user": None,
        "nav": [],
        "items": items,
        "local": local_time(request),
        "site": ctx.config.site.id,
    }
    return TEMPLATES.TemplateResponse(request, "calendar.html", context)
