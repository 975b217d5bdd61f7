"""Who is signed in: the session cookie, roles, and the CSRF check on every write.

Every dashboard route depends on :func:`signed_in` (a router-wide
dependency), so a page added later is behind the login without asking.
Without a live session a page redirects to ``/login``; an htmx or
event-stream request gets 401 (htmx follows its ``HX-Redirect``). A request
that writes (POST, PUT, PATCH, DELETE) must carry the session's CSRF token,
as the form field ``csrf`` or the ``X-CSRF-Token`` header (htmx sends the
header on every request, see ``base.html``).
"""

import secrets
from typing import Annotated

from fastapi import Depends, Request

from hub_server.api.context import Context
from hub_server.errors import HubError
from hub_server.web_sessions import SessionPolicy, WebSession, lookup
from hublink.messages import utcnow

SESSION_COOKIE = "hubtap_session"
LOGIN_COOKIE = "hubtap_login"
"""Holds the login form's CSRF token before anyone is signed in (double submit)."""

CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_PROBLEM = (
    "this form has expired or did not come from this dashboard: reload the page and try again"
)
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class SignInNeeded(HubError):
    """No live session: the page redirects to the login."""


class Forbidden(HubError):
    """Signed in, but the role may not do this (hosts on operator pages)."""


class CsrfRefused(HubError):
    """A write without the session's CSRF token."""


def policy(ctx: Context) -> SessionPolicy:
    """The session lifetimes ``[dashboard]`` asks for."""
    return SessionPolicy.from_config(ctx.config.dashboard)


async def signed_in(request: Request, ctx: Context) -> WebSession:
    """The live session; :class:`SignInNeeded` without one, :class:`CsrfRefused` on a bad write."""
    session = lookup(
        ctx.store,
        request.cookies.get(SESSION_COOKIE),
        policy(ctx),
        utcnow(),
        touch=not is_stream(request),
    )
    if session is None:
        raise SignInNeeded("sign in first")
    if request.method in UNSAFE:
        await check_csrf(request, session.csrf_token)
    request.state.session = session
    return session


async def check_csrf(request: Request, expected: str) -> None:
    """:class:`CsrfRefused` unless the request carries ``expected``."""
    given = request.headers.get(CSRF_HEADER)
    if given is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if not given or not secrets.compare_digest(given.encode(), expected.encode()):
        raise CsrfRefused(CSRF_PROBLEM)


def operator(user: Annotated[WebSession, Depends(signed_in)]) -> WebSession:
    """The session, if its user is an operator; :class:`Forbidden` for hosts."""
    if user.role != "operator":
        raise Forbidden("this page is for operators")
    return user


def is_stream(request: Request) -> bool:
    """Whether the request is the live event stream (which does not count as activity)."""
    return request.headers.get("accept", "").startswith("text/event-stream")


def is_htmx(request: Request) -> bool:
    """Whether htmx made the request (it wants a fragment or an ``HX-Redirect``)."""
    return request.headers.get("HX-Request") == "true"


SignedIn = Annotated[WebSession, Depends(signed_in)]
"""A route parameter typed ``SignedIn`` receives the session of any role."""

Operator = Annotated[WebSession, Depends(operator)]
"""A route parameter typed ``Operator`` receives an operator's session."""
