"""Doors: their state, remote unlock, lockdown and hold-open hours.

Commands go out over the server's MQTT link (the ``bus`` extra); without
it the page says so (503) instead of pretending. Unlock, lockdown and
clearing a schedule ask first (:func:`render.confirm`).
"""

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import Field

from hub_server import commands, doors
from hub_server.api.context import ApiContext, Context
from hub_server.api.errors import Unavailable
from hub_server.api.live import BUS
from hub_server.dashboard import forms, render
from hub_server.dashboard.auth import Operator
from hub_server.dashboard.forms import Confirmed, Posted
from hub_server.models import Door, EntityId, Input
from hub_server.web_sessions import WebSession
from hublink.messages import WEEKDAYS, utcnow

router = APIRouter()

RECENT_COMMANDS = 10
"""Commands a door's page lists (the doors page lists as many across all doors)."""

NO_LINK = "the hub's MQTT link is unavailable right now: no command can be sent to the doors"


class UnlockIn(Input):
    """How long to unlock for; none: the door's own unlock time."""

    seconds: float | None = Field(default=None, gt=0, le=commands.MAX_UNLOCK_S)


class LockdownIn(Input):
    """Lock down (``on``) or back to normal (``off``), one door or all of them."""

    state: Literal["on", "off"]
    door: EntityId | None = None


@router.get("/doors")
def doors_page(request: Request, ctx: Context, user: Operator) -> HTMLResponse:
    """Every door: link, lock, contact, mode, alarms, list versions, hold-open hours."""
    return _doors_page(request, ctx, user)


@router.get("/doors/{door_id}")
def door_page(request: Request, ctx: Context, user: Operator, door_id: str) -> HTMLResponse:
    """One door: its state, unlock, lockdown, its hold-open hours and recent commands."""
    return _door_page(request, ctx, user, door_id)


@router.get("/doors/{door_id}/live")
def door_live(request: Request, ctx: Context, user: Operator, door_id: str) -> HTMLResponse:
    """The door's state and commands (htmx polls it while a command awaits its answer)."""
    return HTMLResponse(render.fragment(request, "door_live.html", **_live_values(ctx, door_id)))


@router.post("/doors/{door_id}/unlock")
def unlock(
    request: Request, ctx: Context, user: Operator, door_id: str, *, data: Posted, yes: Confirmed
) -> Response:
    """Unlock a door once, after the operator confirmed."""
    door = doors.get(ctx.store, door_id)
    parsed, errors = forms.parse(UnlockIn, data, blank_is_none=["seconds"])
    if parsed is None:
        return _door_page(request, ctx, user, door_id, errors=errors, unlock=data, status=422)
    bus = _bus(ctx)
    if not yes:
        length = f"for {parsed.seconds:g} s" if parsed.seconds else "for its usual time"
        return render.confirm(
            request,
            user,
            title="Unlock a door",
            question=f"Unlock {door.name} {length}?",
            action=f"/doors/{door_id}/unlock",
            button="Unlock",
            fields={"seconds": data.get("seconds", "")},
            back=f"/doors/{door_id}",
        )
    _send(ctx, bus, [door_id], "unlock", actor=user.actor, seconds=parsed.seconds)
    return RedirectResponse(f"/doors/{door_id}", status_code=303)


@router.post("/lockdown")
def lockdown(
    request: Request, ctx: Context, user: Operator, data: Posted, yes: Confirmed
) -> Response:
    """Lock down one door or all of them, or end it, after the operator confirmed."""
    parsed, errors = forms.parse(LockdownIn, data, blank_is_none=["door"])
    if parsed is None:
        return _doors_page(request, ctx, user, errors=errors, status=422)
    targets = [doors.get(ctx.store, parsed.door)] if parsed.door else doors.all_doors(ctx.store)
    back = f"/doors/{parsed.door}" if parsed.door else "/doors"
    if not targets:
        return _doors_page(request, ctx, user, errors={"form": "no doors yet"}, status=422)
    bus = _bus(ctx)
    if not yes:
        which = targets[0].name if parsed.door else f"all {len(targets)} doors"
        question = (
            f"Lock down {which}? Only admin cards will open them until the lockdown ends."
            if parsed.state == "on"
            else f"End the lockdown of {which} and go back to normal?"
        )
        return render.confirm(
            request,
            user,
            title="Lockdown" if parsed.state == "on" else "End the lockdown",
            question=question,
            action="/lockdown",
            button="Lock down" if parsed.state == "on" else "Back to normal",
            fields={"state": parsed.state, "door": parsed.door or ""},
            back=back,
        )
    action: commands.Action = "lockdown" if parsed.state == "on" else "normal"
    _send(ctx, bus, [door.id for door in targets], action, actor=user.actor)
    return RedirectResponse(back, status_code=303)


@router.post("/doors/{door_id}/schedule")
def schedule(
    request: Request, ctx: Context, user: Operator, door_id: str, *, data: Posted, yes: Confirmed
) -> Response:
    """Save a door's hold-open hours; with every day empty (or ``clear``), remove them."""
    current = doors.open_schedule(ctx.store, door_id)
    weekly, errors = doors.parse_weekly(data)
    if errors:
        return _door_page(request, ctx, user, door_id, errors=errors, hours=data, status=422)
    if weekly and data.get("clear") != "yes":
        doors.set_open_schedule(ctx.store, door_id, weekly, user.actor)
    elif current is not None:
        if not yes:
            door = doors.get(ctx.store, door_id)
            return render.confirm(
                request,
                user,
                title="Remove the hold-open hours",
                question=f"Stop holding {door.name} open ({doors.describe_weekly(current)})? "
                "It will stay locked except for taps and unlocks.",
                action=f"/doors/{door_id}/schedule",
                button="Remove the hours",
                fields={"clear": "yes"},
                back=f"/doors/{door_id}",
            )
        doors.clear_open_schedule(ctx.store, door_id, user.actor)
    return RedirectResponse(f"/doors/{door_id}", status_code=303)


def _bus(ctx: ApiContext) -> commands.Bus:
    try:
        return ctx.extra(BUS, commands.Bus)  # type: ignore[type-abstract]  # noqa: S610
    except Unavailable as err:
        raise Unavailable(NO_LINK) from err


def _send(
    ctx: ApiContext,
    bus: commands.Bus,
    door_ids: list[str],
    action: commands.Action,
    *,
    actor: str,
    seconds: float | None = None,
) -> None:
    for door_id in door_ids:
        try:
            commands.issue(ctx.store, bus, door_id, action, actor, duration_s=seconds)
        except commands.NotSent as err:
            raise Unavailable(f"{err} ({NO_LINK})") from err


def _doors_page(
    request: Request,
    ctx: ApiContext,
    user: WebSession,
    *,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    every = doors.all_doors(ctx.store)
    return render.page(
        request,
        "doors.html",
        user,
        title="Doors",
        doors=every,
        list_states={door.id: doors.list_state(door) for door in every},
        hours=doors.open_schedules(ctx.store),
        describe=doors.describe_weekly,
        commands=commands.recent(ctx.store, limit=RECENT_COMMANDS),
        names={door.id: door.name for door in every},
        now=utcnow(),
        errors=errors or {},
        status_code=status,
    )


def _door_page(
    request: Request,
    ctx: ApiContext,
    user: WebSession,
    door_id: str,
    *,
    errors: dict[str, str] | None = None,
    unlock: dict[str, str] | None = None,
    hours: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    live = _live_values(ctx, door_id)
    door = live["door"]
    assert isinstance(door, Door)
    current = doors.open_schedule(ctx.store, door_id)
    return render.page(
        request,
        "door.html",
        user,
        title=door.name,
        values=live,
        has_hours=current is not None,
        hours=hours if hours is not None else doors.weekly_text(current),
        days=[(day, doors.DAY_NAMES[day]) for day in WEEKDAYS],
        unlock=unlock or {},
        errors=errors or {},
        status_code=status,
    )


def _live_values(ctx: ApiContext, door_id: str) -> dict[str, object]:
    door = doors.get(ctx.store, door_id)
    recent = commands.recent(ctx.store, door_id, limit=RECENT_COMMANDS)
    now = utcnow()
    return {
        "door": door,
        "list_state": doors.list_state(door),
        "commands": recent,
        "now": now,
        "waiting": any(not c.answered and c.expires_at > now for c in recent),
    }
