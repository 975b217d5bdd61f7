"""What the routes work with: the store, the configuration, the site key and extras."""

from dataclasses import dataclass, field
from typing import Annotated, TypeVar, cast
from zoneinfo import ZoneInfo

from fastapi import Depends, FastAPI, Request, Response

from hub_server.api.errors import Unavailable
from hub_server.config import HubConfig
from hub_server.store import Store

T = TypeVar("T")


@dataclass
class ApiContext:
    """The hub's parts a route may use; one per application, on ``app.state.hub``.

    ``extras`` holds what the server adds after start-up (the occupancy board,
    the door command queue, …) by name; a route fetches one with :meth:`extra`.
    """

    store: Store
    config: HubConfig
    site_key: bytes | None
    extras: dict[str, object] = field(default_factory=dict)

    @property
    def zone(self) -> ZoneInfo:
        """The site's time zone (``[hub] timezone``)."""
        return ZoneInfo(self.config.hub.timezone)

    def extra(self, name: str, kind: type[T]) -> T:
        """The extra ``name``, checked to be a ``kind``; :class:`Unavailable` when missing."""
        value = self.extras.get(name)
        if not isinstance(value, kind):
            raise Unavailable(f"{name} is not available on this hub right now")
        return value


def hub_context(request: Request) -> ApiContext:
    """The application's context (a FastAPI dependency: ``ctx: Context``)."""
    return context_of(request.app)


def context_of(app: FastAPI) -> ApiContext:
    """The context :func:`~hub_server.api.app.create_app` put on ``app``."""
    return cast(ApiContext, app.state.hub)


Context = Annotated[ApiContext, Depends(hub_context)]
"""A route parameter typed ``Context`` receives the :class:`ApiContext`."""


def set_location(request: Request, response: Response, route: str, **params: object) -> None:
    """Point a 201 answer's ``Location`` at the new resource (by the GET route's name)."""
    response.headers["Location"] = str(request.app.url_path_for(route, **params))
