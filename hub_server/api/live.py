"""Live state and actions on doors: occupancy, who is in, door commands, enrol by tap."""

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from hub_server import commands, enrolment, occupancy, presence
from hub_server.api.auth import Actor
from hub_server.api.context import Context
from hub_server.api.errors import responses
from hub_server.models import EntityId, Input
from hublink.messages import Occupancy

router = APIRouter(tags=["live"])

BUS = "bus"
"""The extra holding the server's link (a :class:`commands.Bus`)."""


class CommandIn(Input):
    """A command for a door."""

    action: commands.Action
    duration_s: float | None = Field(default=None, gt=0, le=commands.MAX_UNLOCK_S)


class EnrolIn(Input):
    """Where to wait for the member's new card, and for how long."""

    door_id: EntityId
    timeout_s: float = Field(default=120, gt=0, le=enrolment.MAX_WAIT_S)
    label: str = Field(default="", max_length=80)


class PresentOut(BaseModel):
    """A member in now (operators only)."""

    member_id: str
    zone_id: str | None
    room_id: str | None
    since: datetime
    visit_start: datetime


@router.get("/occupancy")
def get_occupancy(ctx: Context) -> Occupancy:
    """People in per zone, room and site, as the retained ``occupancy`` topic carries it."""
    return occupancy.current(ctx.store, ctx.config.occupancy, ctx.config.hub.timezone)


@router.get("/presence")
def get_presence(ctx: Context) -> list[PresentOut]:
    """Who is in now, oldest arrival first."""
    return [
        PresentOut(
            member_id=s.member_id,
            zone_id=s.zone_id,
            room_id=s.room_id,
            since=s.started_at,
            visit_start=s.visit_start,
        )
        for s in presence.present(ctx.store)
    ]


@router.post("/doors/{door_id}/commands", status_code=202, responses=responses(404, 503))
def send_command(
    ctx: Context, actor: Actor, door_id: str, data: CommandIn
) -> commands.CommandRecord:
    """Send a command; the door's answer shows on ``GET /commands/{id}``."""
    bus = ctx.extra(BUS, commands.Bus)  # type: ignore[type-abstract]  # noqa: S610
    command = commands.issue(
        ctx.store, bus, door_id, data.action, actor, duration_s=data.duration_s
    )
    return commands.get(ctx.store, command.id)


@router.get("/commands/{command_id}", responses=responses(404))
def get_command(ctx: Context, command_id: str) -> commands.CommandRecord:
    """A command and, once the door has answered, its result."""
    return commands.get(ctx.store, command_id)


@router.post("/members/{member_id}/enrol", status_code=202, responses=responses(404))
def enrol(ctx: Context, actor: Actor, member_id: str, data: EnrolIn) -> enrolment.Enrolment:
    """Attach the next unknown card tapped at ``door_id`` to the member."""
    return enrolment.start(
        ctx.store, member_id, data.door_id, actor, timeout_s=data.timeout_s, label=data.label
    )


@router.get("/enrolments/{enrolment_id}", responses=responses(404))
def get_enrolment(ctx: Context, enrolment_id: int) -> enrolment.Enrolment:
    """An enrolment and how it ended."""
    return enrolment.get(ctx.store, enrolment_id)
