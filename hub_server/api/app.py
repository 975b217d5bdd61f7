"""The HTTP API application: every route under ``/api/v1/``, every route behind a token.

``create_app(store, config, site_key=...)`` builds it; the server runs it
with uvicorn, tests with FastAPI's ``TestClient``. The OpenAPI document is
public at ``/api/v1/openapi.json`` (it describes the API, holds no data);
the Swagger and ReDoc pages are off, because they load their scripts from a
CDN and hubtap never does.

Adding a router (occupancy, door commands, …)
---------------------------------------------

1. Write ``hub_server/api/<resource>.py`` like the others: an
   ``APIRouter(tags=[...])`` whose routes are thin — take ``ctx: Context``
   (:class:`~hub_server.api.context.ApiContext`), and ``actor: Actor`` if
   they write (``token:<name>``, for ``audit.record``), call one service
   function, return a model. Services raise :mod:`hub_server.errors`; the
   handlers here turn those into 404/409/422 (see ``api/errors.py``)::

       from hub_server.api.auth import Actor        # not from app.py: it imports
       from hub_server.api.context import Context   # the routers (a cycle)

       router = APIRouter(tags=["occupancy"])

       @router.get("/occupancy")
       def occupancy(ctx: Context) -> OccupancyReport:
           board = ctx.extra("occupancy", OccupancyBoard)  # 503 while missing
           return board.report()

2. Include it in :func:`create_app` with one line beside the others::

       app.include_router(occupancy.router, prefix=PREFIX)

   (or, from outside, ``app.include_router(router, prefix=PREFIX)`` on the
   app ``create_app`` returned). Authentication needs nothing: it is an
   application-wide dependency, so every route of every router has it.

3. Put what the routes need into the context's ``extras``:
   ``create_app(..., extras={"occupancy": board})``, or later
   ``context_of(app).extras["commands"] = queue``. Routes fetch them with
   ``ctx.extra(name, Type)``, which checks the type and answers 503 while
   the part is missing.
"""

from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from hub_server.api import (
    access_log,
    billing,
    bookings,
    cards,
    doors,
    events,
    guests,
    live,
    members,
    organisations,
    places,
)
from hub_server.api.auth import authenticate_request, authenticated
from hub_server.api.context import ApiContext, context_of, hub_context
from hub_server.api.errors import (
    Unauthorized,
    http_error_response,
    hub_error_response,
    internal_error_response,
    out_of_range_response,
    responses,
    validation_response,
)
from hub_server.config import HubConfig
from hub_server.errors import HubError
from hub_server.store import Store

__all__ = ["PREFIX", "TITLE", "ApiContext", "context_of", "create_app", "hub_context"]

PREFIX = "/api/v1"
TITLE = "hubtap hub API"
OPENAPI_URL = f"{PREFIX}/openapi.json"


def api_version() -> str:
    """The installed hubtap's version, which the OpenAPI document carries."""
    try:
        return version("hubtap")
    except PackageNotFoundError:
        return "0+unknown"


def create_app(
    store: Store,
    config: HubConfig,
    *,
    site_key: bytes | None,
    extras: Mapping[str, object] | None = None,
) -> FastAPI:
    """The HTTP API over ``store``; without ``site_key`` cards cannot be added by UID."""
    app = FastAPI(
        title=TITLE,
        version=api_version(),
        description="Members, organisations, cards, doors, zones, rooms, the access log, "
        "events with their sign-ups and invitations, room bookings, guest passes and monthly "
        "billing of one hubtap hub. Every route needs `Authorization: Bearer <token>`. "
        "A `409` that a rule refused carries the rule's code in `reason` (`full`, "
        "`room_taken`, …).",
        openapi_url=OPENAPI_URL,
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
        dependencies=[Depends(authenticated)],
        responses=responses(401, 422),
    )
    app.state.hub = ApiContext(store, config, site_key, dict(extras or {}))
    _add_error_handlers(app)
    app.include_router(members.router, prefix=PREFIX)
    app.include_router(organisations.router, prefix=PREFIX)
    app.include_router(cards.router, prefix=PREFIX)
    app.include_router(doors.router, prefix=PREFIX)
    app.include_router(places.router, prefix=PREFIX)
    app.include_router(access_log.router, prefix=PREFIX)
    app.include_router(live.router, prefix=PREFIX)
    app.include_router(events.router, prefix=PREFIX)
    app.include_router(bookings.router, prefix=PREFIX)
    app.include_router(guests.router, prefix=PREFIX)
    app.include_router(billing.router, prefix=PREFIX)
    return app


def _add_error_handlers(app: FastAPI) -> None:
    def on_hub_error(request: Request, err: Exception) -> JSONResponse:
        assert isinstance(err, HubError)
        return hub_error_response(err)

    def on_invalid_request(request: Request, err: Exception) -> JSONResponse:
        assert isinstance(err, RequestValidationError)
        # FastAPI parses a JSON body before it runs any dependency, the token
        # check included: a stranger learns nothing from a 422 either.
        try:
            authenticate_request(request)
        except Unauthorized as denied:
            return hub_error_response(denied)
        return validation_response(err)

    def on_http_error(request: Request, err: Exception) -> JSONResponse:
        assert isinstance(err, HTTPException)
        return http_error_response(err)

    def on_overflow(request: Request, err: Exception) -> JSONResponse:
        assert isinstance(err, OverflowError)
        return out_of_range_response(err)

    def on_bug(request: Request, err: Exception) -> JSONResponse:
        return internal_error_response(err)

    app.add_exception_handler(HubError, on_hub_error)
    app.add_exception_handler(RequestValidationError, on_invalid_request)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(OverflowError, on_overflow)
    app.add_exception_handler(Exception, on_bug)
