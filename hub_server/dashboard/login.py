"""Signing in and out.

The login form is protected against cross-site posts by a double submit:
a random token in a cookie of its own (``hubtap_login``) and in the form.
"""

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hub_server import audit, users, web_sessions
from hub_server.api.context import ApiContext, Context
from hub_server.dashboard.auth import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    SignedIn,
    policy,
)
from hub_server.dashboard.render import TEMPLATES
from hublink.messages import utcnow

router = APIRouter()


@router.get("/login")
def login_form(request: Request, ctx: Context, next: str = "/") -> Response:
    """The login page (or straight on, when already signed in)."""
    token = request.cookies.get(SESSION_COOKIE)
    if web_sessions.lookup(ctx.store, token, policy(ctx), utcnow(), touch=False) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _form(request, ctx, next=safe_next(next))


@router.post("/login")
def login(
    request: Request,
    ctx: Context,
    *,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=users.MAX_PASSWORD)] = "",
    csrf: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Check the password; a session cookie and on to ``next``, or the form with the reason."""
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not secrets.compare_digest(csrf.encode(), expected.encode()):
        return _form(
            request, ctx, next=safe_next(next), username=username, status_code=403,
            error="the login form had expired: please try again",
        )  # fmt: skip
    now = utcnow()
    try:
        user = users.authenticate(
            ctx.store, username, password, users.Lockout.from_config(ctx.config.dashboard), now
        )
    except users.LoginRefused as refused:
        status = 429 if refused.locked_until is not None else 401
        return _form(
            request, ctx, next=safe_next(next), username=username, status_code=status,
            error=str(refused).capitalize(),
        )  # fmt: skip
    token = web_sessions.start(ctx.store, user.id, policy(ctx), now)
    with ctx.store.write() as db:
        audit.record(db, user.actor, "user.login", user.username)
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=ctx.config.dashboard.secure_cookies,
        path="/",
    )
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, ctx: Context, user: SignedIn) -> Response:
    """End the session and go back to the login page."""
    web_sessions.end(ctx.store, request.cookies.get(SESSION_COOKIE, ""))
    with ctx.store.write() as db:
        audit.record(db, user.actor, "user.logout", user.username)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def safe_next(target: str) -> str:
    """``target`` if it is a path on this site, else ``/`` (no open redirects)."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def _form(
    request: Request,
    ctx: ApiContext,
    *,
    next: str,
    username: str = "",
    error: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    token = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(32)
    response = TEMPLATES.TemplateResponse(
        request,
        "login.html",
        {
            "title": "Sign in",
            "user": None,
            "nav": [],
            "csrf": token,
            "next": next,
            "username": username,
            "error": error,
            "site": ctx.config.site.id,
        },
        status_code=status_code,
    )
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=ctx.config.dashboard.secure_cookies,
        path="/login",
    )
    return response
