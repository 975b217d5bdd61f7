"""``/zones`` and ``/rooms``: where people are, and how many fit."""

from fastapi import APIRouter, Request, Response

from hub_server import places
from hub_server.api.auth import Actor
from hub_server.api.context import Context, set_location
from hub_server.api.errors import responses
from hub_server.models import Room, RoomIn, Zone, ZoneIn

router = APIRouter(tags=["places"])


@router.get("/zones")
def list_zones(ctx: Context) -> list[Zone]:
    """Every zone, by name."""
    return places.zones(ctx.store)


@router.get("/zones/{zone_id}", responses=responses(404))
def get_zone(ctx: Context, zone_id: str) -> Zone:
    """One zone."""
    return places.get_zone(ctx.store, zone_id)


@router.post("/zones", status_code=201, responses=responses(409))
def add_zone(
    ctx: Context, actor: Actor, data: ZoneIn, request: Request, response: Response
) -> Zone:
    """Add a zone."""
    zone = places.add_zone(ctx.store, data, actor)
    set_location(request, response, "get_zone", zone_id=zone.id)
    return zone


@router.get("/rooms")
def list_rooms(ctx: Context) -> list[Room]:
    """Every room, by name."""
    return places.rooms(ctx.store)


@router.get("/rooms/{room_id}", responses=responses(404))
def get_room(ctx: Context, room_id: str) -> Room:
    """One room."""
    return places.get_room(ctx.store, room_id)


@router.post("/rooms", status_code=201, responses=responses(404, 409))
def add_room(
    ctx: Context, actor: Actor, data: RoomIn, request: Request, response: Response
) -> Room:
    """Add a room; its zone, if given, must exist."""
    room = places.add_room(ctx.store, data, actor)
    set_location(request, response, "get_room", room_id=room.id)
    return room
