"""The dashboard application: pages behind a login, static files, error pages.

Errors never show as a 500 for bad input: a hub error becomes a page that
says what was wrong (404, 409, 422 …), a request the routes cannot parse a
400 page naming the field, and only a bug a 500 page (logged).
"""

import logging
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub_server.api.context import ApiContext
from hub_server.api.errors import STATUS
from hub_server.dashboard import (
    access_log,
    audit,
    billing,
    bookings,
    calendar,
    charts,
    doors,
    events,
    guests,
    login,
    members,
    organisations,
    overview,
    spaceapi,
)
from hub_server.dashboard.auth import (
    CsrfRefused,
    Forbidden,
    SignInNeeded,
    is_htmx,
    is_stream,
    signed_in,
)
from hub_server.dashboard.live import FEED, ChangeFeed
from hub_server.dashboard.render import TEMPLATES
from hub_server.errors import HubError

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def create_dashboard(ctx: ApiContext, feed: ChangeFeed) -> FastAPI:
    """The dashboard over ``ctx`` (shared with the API); ``feed`` drives the live parts."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    ctx.extras[FEED] = feed
    app.state.hub = ctx
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(login.router)
    app.include_router(calendar.router)  # public: no sign-in
    app.include_router(spaceapi.router)  # public: no sign-in, any origin
    pages = APIRouter(dependencies=[Depends(signed_in)])
    for module in (
        overview,
        members,
        organisations,
        doors,
        events,
        bookings,
        guests,
        billing,
        access_log,
        charts,
        audit,
    ):
        pages.include_router(module.router)
    app.include_router(pages)
    _add_error_handlers(app)
    app.add_middleware(SecurityHeaders)
    return app


class SecurityHeaders:
    """Adds :data:`SECURITY_HEADERS`, and ``Cache-Control: no-store`` to every page."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith("/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                for name, value in SECURITY_HEADERS.items():
                    headers.append((name.lower().encode(), value.encode()))
                chosen = any(name.lower() == b"cache-control" for name, _ in headers)
                if not static and not chosen:  # a public document may set its own
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def _add_error_handlers(app: FastAPI) -> None:
    async def on_sign_in_needed(request: Request, err: Exception) -> Response:
        if is_htmx(request) or request.method != "GET" or is_stream(request):
            return Response(status_code=401, headers={"HX-Redirect": "/login"})
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={_quote(target)}", status_code=303)

    async def on_forbidden(request: Request, err: Exception) -> Response:
        return error_page(request, 403, "Not for your role", str(err))

    async def on_csrf(request: Request, err: Exception) -> Response:
        return error_page(request, 403, "Form expired", str(err))

    async def on_hub_error(request: Request, err: Exception) -> Response:
        status = next((code for kind, code in STATUS.items() if isinstance(err, kind)), 400)
        return error_page(request, status, "That did not work", str(err))

    async def on_invalid_request(request: Request, err: Exception) -> Response:
        assert isinstance(err, RequestValidationError)
        first = err.errors()[0] if err.errors() else {"loc": (), "msg": "bad request"}
        field = ".".join(str(p) for p in first["loc"][1:]) or "request"
        return error_page(request, 400, "Bad request", f"{field}: {first['msg']}")

    async def on_http_error(request: Request, err: Exception) -> Response:
        assert isinstance(err, HTTPException)
        return error_page(request, err.status_code, "Not here", str(err.detail))

    async def on_overflow(request: Request, err: Exception) -> Response:
        return error_page(request, 400, "Bad request", "a number or date is out of range")

    async def on_bug(request: Request, err: Exception) -> Response:
        log.error("dashboard error on %s %s", request.method, request.url.path, exc_info=err)
        return error_page(request, 500, "Something went wrong", "the hub's log has the details")

    app.add_exception_handler(SignInNeeded, on_sign_in_needed)
    app.add_exception_handler(Forbidden, on_forbidden)
    app.add_exception_handler(CsrfRefused, on_csrf)
    app.add_exception_handler(HubError, on_hub_error)
    app.add_exception_handler(RequestValidationError, on_invalid_request)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(OverflowError, on_overflow)
    app.add_exception_handler(Exception, on_bug)


def error_page(request: Request, status: int, title: str, message: str) -> HTMLResponse:
    """A plain page that says what went wrong, with a way back."""
    session = getattr(request.state, "session", None)
    return TEMPLATES.TemplateResponse(
        request,
        "error.html",
        {"title": title, "message": message, "status": status, "user": session, "nav": []},
        status_code=status,
    )


def _quote(path: str) -> str:
    return quote(path, safe="/")
