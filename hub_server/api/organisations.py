"""``/organisations``: the companies and agencies members belong to."""

from fastapi import APIRouter, Request, Response

from hub_server import organisations
from hub_server.api.auth import Actor
from hub_server.api.context import Context, set_location
from hub_server.api.errors import responses
from hub_server.models import Organisation, OrganisationIn

router = APIRouter(tags=["organisations"])


@router.get("/organisations")
def list_organisations(ctx: Context) -> list[Organisation]:
    """Every organisation by name, with its count of members not inactive."""
    return organisations.all_organisations(ctx.store)


@router.get("/organisations/{organisation_id}", responses=responses(404))
def get_organisation(ctx: Context, organisation_id: str) -> Organisation:
    """One organisation."""
    return organisations.get(ctx.store, organisation_id)


@router.post("/organisations", status_code=201, responses=responses(409))
def add_organisation(
    ctx: Context, actor: Actor, data: OrganisationIn, request: Request, response: Response
) -> Organisation:
    """Add an organisation; without an ``id`` one is made from the name."""
    organisation = organisations.add(ctx.store, data, actor)
    set_location(request, response, "get_organisation", organisation_id=organisation.id)
    return organisation
