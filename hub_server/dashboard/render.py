"""Rendering pages: the layout, the navigation by role, local times, confirmations."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from hub_server.api.context import context_of
from hub_server.users import ROLES, Role
from hub_server.web_sessions import WebSession

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")


@dataclass(frozen=True)
class NavItem:
    """One entry of the navigation bar and who sees it."""

    path: str
    label: str
    roles: tuple[Role, ...] = ("operator",)


NAV: tuple[NavItem, ...] = (
    NavItem("/", "Overview", ROLES),
    NavItem("/members", "Members"),
    NavItem("/organisations", "Organisations"),
    NavItem("/doors", "Doors"),
    NavItem("/events", "Events", ROLES),
    NavItem("/bookings", "Rooms", ROLES),
    NavItem("/guests", "Guests", ROLES),
    NavItem("/billing", "Billing"),
    NavItem("/access-log", "Access log"),
    NavItem("/charts", "Occupancy charts", ROLES),
    NavItem("/audit", "Audit log"),
)


def local_time(request: Request) -> "LocalTime":
    """The site's clock for templates: ``local(dt)`` formats a UTC time in the hub's zone."""
    return LocalTime(context_of(request.app).zone)


@dataclass(frozen=True)
class LocalTime:
    """Formats UTC times in the site's time zone."""

    zone: ZoneInfo

    def __call__(self, when: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        """``when`` as local text, ``—`` for none."""
        return "—" if when is None else when.astimezone(self.zone).strftime(fmt)


def page(
    request: Request,
    template: str,
    user: WebSession,
    *,
    title: str,
    values: dict[str, object] | None = None,
    status_code: int = 200,
    **more: object,
) -> HTMLResponse:
    """A whole page inside the layout, with ``values`` and ``more`` for the template."""
    values = {**(values or {}), **more}
    nav = [item for item in NAV if user.role in item.roles]
    context = {"user": user, "title": title, "nav": nav, "local": local_time(request)}
    context.update(values)
    return TEMPLATES.TemplateResponse(request, template, context, status_code=status_code)


def fragment(request: Request, template: str, **values: object) -> str:
    """A part of a page (for htmx and the live stream), as HTML text."""
    return TEMPLATES.get_template(template).render(
        request=request, local=local_time(request), **values
    )


def confirm(
    request: Request,
    user: WebSession,
    *,
    title: str,
    question: str,
    action: str,
    button: str,
    fields: Mapping[str, object] | None = None,
    back: str = "/",
) -> HTMLResponse:
    """A page that asks before a destructive action: the same form again, with ``confirmed``."""
    return page(
        request,
        "confirm.html",
        user,
        title=title,
        question=question,
        action=action,
        button=button,
        fields=dict(fields or {}),
        back=back,
    )
