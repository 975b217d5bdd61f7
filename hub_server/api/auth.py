"""API tokens on every route: ``Authorization: Bearer <token>``.

:func:`authenticated` is a dependency of the whole application (see
``app.py``), so a router added later is behind it without asking. A route
that writes takes ``actor: Actor``: the audit log's ``token:<name>``.
"""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param

from hub_server import tokens
from hub_server.api.context import Context, context_of
from hub_server.api.errors import Unauthorized
from hub_server.store import Store
from hub_server.tokens import TokenInfo

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="token",
    description="An API token made with `hubtap tokens add NAME`.",
)

MISSING = "this API needs a token: send 'Authorization: Bearer <token>' (hubtap tokens add NAME)"
REFUSED = "unknown or revoked token"


def authenticated(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ctx: Context,
) -> TokenInfo:
    """The caller's token; :class:`Unauthorized` without a live one."""
    token = _check(ctx.store, credentials.credentials if credentials else None)
    request.state.token = token
    return token


def authenticate_request(request: Request) -> TokenInfo:
    """:func:`authenticated` outside the dependency system (for error handlers)."""
    token: TokenInfo | None = getattr(request.state, "token", None)
    if token is not None:
        return token
    scheme, credentials = get_authorization_scheme_param(request.headers.get("Authorization"))
    given = credentials if scheme.lower() == "bearer" and credentials else None
    token = _check(context_of(request.app).store, given)
    request.state.token = token
    return token


def _check(store: Store, given: str | None) -> TokenInfo:
    if not given:
        raise Unauthorized(MISSING, invalid_token=False)
    token = tokens.verify(store, given)
    if token is None:
        raise Unauthorized(REFUSED, invalid_token=True)
    return token


def actor(token: Annotated[TokenInfo, Depends(authenticated)]) -> str:
    """Who the audit log names for this request."""
    return token.actor


Actor = Annotated[str, Depends(actor)]
"""A route parameter typed ``Actor`` receives ``token:<name>``."""
