"""``/doors``: doors and zone readers, with what each last said about itself."""

from fastapi import APIRouter, Request, Response

from hub_server import doors
from hub_server.api.auth import Actor
from hub_server.api.context import Context, set_location
from hub_server.api.errors import responses
from hub_server.models import Door, DoorIn

router = APIRouter(tags=["doors"])


@router.get("/doors")
def list_doors(ctx: Context) -> list[Door]:
    """Every door, by id."""
    return doors.all_doors(ctx.store)


@router.get("/doors/{door_id}", responses=responses(404))
def get_door(ctx: Context, door_id: str) -> Door:
    """One door and its last known state."""
    return doors.get(ctx.store, door_id)


@router.post("/doors", status_code=201, responses=responses(404, 409))
def add_door(
    ctx: Context, actor: Actor, data: DoorIn, request: Request, response: Response
) -> Door:
    """Register a door; it gets its access list with the next publication."""
    door = doors.add(ctx.store, data, actor)
    set_location(request, response, "get_door", door_id=door.id)
    return door
