"""How errors become HTTP answers: a status and ``{"error": message, "field": name}``.

The services raise :mod:`hub_server.errors`; this module maps them:
:class:`~hub_server.errors.NotFound` 404, :class:`~hub_server.errors.Invalid`
422 (with ``field``), :class:`~hub_server.errors.Conflict` 409 (a
:class:`~hub_server.errors.Refused` with its code in ``reason``),
:class:`Unauthorized` 401, :class:`Unavailable` and
:class:`~hub_server.errors.StoreError` 503, any other hub error 400.
An :class:`OverflowError` (a number or date past what SQLite or
``datetime`` holds, which a model's bounds should have caught) is a 422
too, without ``field``: bad input must never be a 500.
FastAPI's own validation errors (bad JSON, wrong types, unknown fields)
become the same 422 shape, naming the first field at fault.
"""

import logging
from collections.abc import Sequence
from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from hub_server.errors import Conflict, HubError, Invalid, NotFound, Refused, StoreError

log = logging.getLogger(__name__)


class ApiError(HubError):
    """Root of the errors only the HTTP API raises."""


class Unauthorized(ApiError):
    """No token, or one that is unknown or revoked."""

    def __init__(self, message: str, *, invalid_token: bool) -> None:
        super().__init__(message)
        self.invalid_token = invalid_token


class Unavailable(ApiError):
    """The hub lacks what the request needs (a site key, a part not running)."""


class ErrorBody(BaseModel):
    """What every error answer holds."""

    error: str
    field: str | None = None
    reason: str | None = Field(
        default=None,
        description="a 409's refusal code (`full`, `room_taken`, …), as the kiosk words it",
    )


STATUS: dict[type[HubError], int] = {
    NotFound: 404,
    Invalid: 422,
    Conflict: 409,
    Unauthorized: 401,
    Unavailable: 503,
    StoreError: 503,
}

_DESCRIPTIONS = {
    401: "No token, or an unknown or revoked one",
    404: "Something the request names does not exist",
    409: "The change clashes with what is stored, or a rule refuses it (`reason` says which)",
    422: "Input that breaks a rule; `field` names it",
    503: "The hub cannot do this now",
}

_SOURCES = ("body", "query", "path", "header", "cookie")


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for these error statuses, for a route's ``responses=``."""
    return {code: {"model": ErrorBody, "description": _DESCRIPTIONS[code]} for code in codes}


def status_of(err: HubError) -> int:
    """The HTTP status for a hub error."""
    for kind in type(err).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return 400


def error_response(
    status: int,
    message: str,
    field: str | None = None,
    headers: dict[str, str] | None = None,
    *,
    reason: str | None = None,
) -> JSONResponse:
    """An error answer in the API's one shape."""
    body = ErrorBody(error=message, field=field, reason=reason)
    content = body.model_dump(exclude_none=True)
    return JSONResponse(content, status_code=status, headers=headers)


def hub_error_response(err: HubError) -> JSONResponse:
    """The answer for an error a service (or the API) raised."""
    status = status_of(err)
    if isinstance(err, Invalid):
        return error_response(status, str(err), err.field)
    if isinstance(err, Refused):
        return error_response(status, str(err), reason=err.reason)
    if isinstance(err, Unauthorized):
        challenge = 'Bearer error="invalid_token"' if err.invalid_token else "Bearer"
        return error_response(status, str(err), headers={"WWW-Authenticate": challenge})
    if status >= 500:
        log.warning("HTTP API: %s", err)
    return error_response(status, str(err))


def validation_response(err: RequestValidationError) -> JSONResponse:
    """The 422 for input FastAPI rejected before a route ran."""
    problems: Sequence[Any] = err.errors()
    if not problems:
        return error_response(422, "the request is not valid", "body")
    first = problems[0]
    loc = tuple(first.get("loc", ()))
    source = str(loc[0]) if loc and loc[0] in _SOURCES else "body"
    if first.get("type") == "json_invalid":
        detail = first.get("ctx", {}).get("error", "")
        field = "body"
        message = "body: not valid JSON" + (f" ({detail})" if detail else "")
    else:
        rest = loc[1:] if loc and loc[0] in _SOURCES else loc
        field = ".".join(str(part) for part in rest) or source
        problem = str(first.get("msg", "is not valid")).removeprefix("Value error, ")
        message = f"{field}: {problem}"
    if len(problems) > 1:
        message += f" (and {len(problems) - 1} more)"
    return error_response(422, message, field)


def http_error_response(err: HTTPException) -> JSONResponse:
    """Starlette's own errors (no such path, method not allowed) in the API's shape."""
    headers = dict(err.headers) if err.headers else None
    return error_response(err.status_code, str(err.detail), headers=headers)


def out_of_range_response(err: OverflowError) -> JSONResponse:
    """A value past what Python or SQLite can hold that no model bound caught: still input."""
    log.warning("HTTP API: a value out of range got past validation: %s", err)
    return error_response(422, f"a number or date in the request is out of range ({err})")


def internal_error_response(err: Exception) -> JSONResponse:
    """A bug: logged with its traceback, answered without details."""
    log.error("HTTP API: unexpected error", exc_info=err)
    return error_response(500, "internal error: the hub's log has the details")
