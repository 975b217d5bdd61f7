"""``/members``: find, read, add, change and deactivate members."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from hub_server import members
from hub_server.api.auth import Actor
from hub_server.api.context import Context, set_location
from hub_server.api.errors import responses
from hub_server.models import Member, MemberChange, MemberIn, MemberStatus

router = APIRouter(tags=["members"])

MAX_LIMIT = 500
MAX_OFFSET = 1_000_000_000


class MemberPage(BaseModel):
    """One page of members, and how many match in all."""

    items: list[Member]
    total: int
    limit: int
    offset: int


@router.get("/members", responses=responses(404))
def list_members(
    *,
    ctx: Context,
    search: Annotated[str | None, Query(max_length=200, description="names, email or id")] = None,
    organisation: Annotated[
        str | None, Query(max_length=200, description="organisation id or name")
    ] = None,
    status: MemberStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> MemberPage:
    """Members by last and first name; ``total`` counts every match."""
    found = members.find(
        ctx.store,
        search=search,
        organisation=organisation,
        status=status,
        limit=limit,
        offset=offset,
    )
    total = members.count(ctx.store, search=search, organisation=organisation, status=status)
    return MemberPage(items=found, total=total, limit=limit, offset=offset)


@router.get("/members/{member_id}", responses=responses(404))
def get_member(ctx: Context, member_id: str) -> Member:
    """One member."""
    return members.get(ctx.store, member_id)


@router.post("/members", status_code=201, responses=responses(404, 409))
def add_member(
    ctx: Context, actor: Actor, data: MemberIn, request: Request, response: Response
) -> Member:
    """Add a member; ``organisation`` is an organisation's id or name."""
    member = members.add(ctx.store, data, actor)
    set_location(request, response, "get_member", member_id=member.id)
    return member


@router.patch("/members/{member_id}", responses=responses(404, 409))
def change_member(ctx: Context, actor: Actor, member_id: str, data: MemberChange) -> Member:
    """Change the fields the body names; the others stay."""
    return members.change(ctx.store, member_id, data, actor)


@router.post("/members/{member_id}/deactivate", responses=responses(404))
def deactivate_member(ctx: Context, actor: Actor, member_id: str) -> Member:
    """Take a member off every door's list; their record and cards stay."""
    return members.deactivate(ctx.store, member_id, actor)
