"""The overview: occupancy per zone, who is in, the doors, and the access log, all live."""

from collections.abc import Mapping

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, StreamingResponse

from hub_server import access_log, doors, occupancy, presence, web_sessions
from hub_server.api.context import ApiContext, Context
from hub_server.dashboard import live
from hub_server.dashboard.auth import SESSION_COOKIE, SignedIn, policy
from hub_server.dashboard.render import fragment, page
from hub_server.web_sessions import WebSession
from hublink.messages import utcnow

router = APIRouter()

LOG_ROWS = 15
"""Access log entries the overview shows."""

PARTS = ("occupancy", "who", "doors", "log")


def overview_parts(ctx: ApiContext, user: WebSession) -> dict[str, object]:
    """What the overview shows this user: hosts see counts and doors, never names."""
    values: dict[str, object] = {
        "occupancy": occupancy.current(ctx.store, ctx.config.occupancy, ctx.config.hub.timezone),
        "doors": doors.all_doors(ctx.store),
    }
    if user.role == "operator":
        values["who"] = presence.who_is_in(ctx.store)
        values["log"] = access_log.page(ctx.store, access_log.AccessLogFilter(), limit=LOG_ROWS)
    return values


@router.get("/")
def overview_page(request: Request, ctx: Context, user: SignedIn) -> HTMLResponse:
    """The overview page."""
    return page(request, "overview.html", user, title="Overview", values=overview_parts(ctx, user))


@router.get("/live/overview")
def overview_stream(request: Request, ctx: Context, user: SignedIn) -> StreamingResponse:
    """The overview's live parts as Server-Sent Events (``occupancy``, ``doors``, …)."""
    feed = ctx.extra(live.FEED, live.ChangeFeed)  # noqa: S610
    token = request.cookies.get(SESSION_COOKIE)

    def render() -> Mapping[str, str]:
        values = overview_parts(ctx, user)
        return {
            name: fragment(request, f"overview_{name}.html", **values)
            for name in PARTS
            if name in values
        }

    async def still_signed_in() -> bool:
        now = utcnow()
        return web_sessions.lookup(ctx.store, token, policy(ctx), now, touch=False) is not None

    return StreamingResponse(
        live.stream(feed, render, still_signed_in),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
