"""Events: the calendar, one event with its sign-ups and invitations, and the notifications.

Operators and hosts (dashboard accounts) see every event with its attendees; they add,
change and cancel events, sign members up, change their colleagues, give places back and
invite outsiders. Only operators give a seat back past the cancellation deadline
("cancel anyway") and see the notifications. Times are typed and shown in the hub's time
zone. A bad field comes back as the form with the problem next to it (422), a refusal
(:class:`Refused`) as the page with its message (409); neither changes anything.

After a change the browser is sent back to the event (303) with what was done in the
query (``done``, ``member``, ``invitation``, ``promoted``); the page words it from what
is stored now ("On the waitlist, position 2"), so a hand-made link cannot make it lie.
"""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from hub_server import events, invitations, local_days, members, notifications, places, signups
from hub_server.api.context import ApiContext, Context
from hub_server.dashboard import forms, render
from hub_server.dashboard.auth import Operator, SignedIn
from hub_server.dashboard.forms import Confirmed, Posted
from hub_server.errors import Conflict, Invalid, NotFound, Refused
from hub_server.events import Event, EventChange, EventIn
from hub_server.invitations import Invitation, InvitationIn
from hub_server.member_csv import parse_moment
from hub_server.models import Input, Member, fold
from hub_server.signups import Attendee
from hub_server.web_sessions import WebSession
from hublink.messages import utcnow

router = APIRouter()

M = TypeVar("M", bound=BaseModel)

WINDOW_DAYS = 30
"""Days of events the list shows at a time."""
MEMBER_CHOICES = 1000
"""Active members offered as you type a host or a member to sign up."""
NOTIFICATIONS = 100
"""Notifications the notifications page lists (the newest)."""

FIELDS = (
    "title",
    "description",
    "host",
    "place",
    "starts_at",
    "ends_at",
    "capacity",
    "visibility",
    "max_guests",
    "cancel_deadline_min",
)
"""The event form's fields."""
ON_FORM = {"host_member_id": "host", "zone_id": "place", "room_id": "place"}
"""The form field that shows a problem with an event model's field of another name."""
ZERO_IF_BLANK = ("max_guests", "cancel_deadline_min")
LOCAL_INPUT = "%Y-%m-%dT%H:%M"
"""How ``<input type="datetime-local">`` writes a time."""
VISIBILITIES = (
    ("members", "Members only"),
    ("open", "Open (public calendar; outsiders may be invited)"),
)
KINDS = {"signup.promoted": "Moved up from the waitlist", "event.cancelled": "Event cancelled"}
"""Notification kinds as the notifications page words them."""

_LISTED_ID = re.compile(r".*\(([^()\s]+)\)")
"""A member as the choices list offers them: ``Åsa Berg (m-asa)``."""


class GuestsIn(Input):
    """How many colleagues come along with a member."""

    guests: int = Field(ge=0, le=20)


# --- the list --------------------------------------------------------------------


@router.get("/events")
def event_list(
    request: Request,
    ctx: Context,
    user: SignedIn,
    start: Annotated[str, Query(alias="from", max_length=20)] = "",
) -> HTMLResponse:
    """Events from a local day (today unless ``?from=YYYY-MM-DD``) for 30 days, by start."""
    now = utcnow()
    today = local_days.local_day(now, ctx.zone)
    first = _day(start) if start.strip() else today
    window = timedelta(days=WINDOW_DAYS)
    since, _ = local_days.day_bounds(first, ctx.zone)
    until, _ = local_days.day_bounds(first + window, ctx.zone)
    return render.page(
        request,
        "events.html",
        user,
        title="Events",
        found=events.find(ctx.store, since=since, until=until, include_cancelled=True),
        first=first,
        last=first + window - timedelta(days=1),
        earlier=(first - window).isoformat(),
        later=(first + window).isoformat(),
        is_today=first == today,
        now=now,
        zone=ctx.config.hub.timezone,
    )


# --- add, change, cancel -----------------------------------------------------------


@router.get("/events/new")
def new_event_form(request: Request, ctx: Context, user: SignedIn) -> HTMLResponse:
    """The form for a new event."""
    values = (
        dict.fromkeys(FIELDS, "") | {"visibility": "members"} | dict.fromkeys(ZERO_IF_BLANK, "0")
    )
    return _event_form(request, ctx, user, values, {})


@router.post("/events/new")
def add_event(request: Request, ctx: Context, user: SignedIn, data: Posted) -> Response:
    """Add the event, or the form again with what was wrong next to each field."""
    values = {key: data.get(key, "") for key in FIELDS}
    parsed, errors = _parse_event(ctx, values, EventIn)
    status = 422
    if parsed is not None:
        try:
            event = events.add(ctx.store, parsed, actor=user.actor, now=utcnow())
        except (Invalid, Conflict, NotFound) as err:
            errors, status = _service_error(err)
        else:
            return RedirectResponse(f"/events/{event.id}", status_code=303)
    return _event_form(request, ctx, user, values, errors, status_code=status)


@router.get("/events/notifications")
def notification_list(request: Request, ctx: Context, user: Operator) -> HTMLResponse:
    """The newest notifications: to whom, about what, and whether they went out."""
    found = notifications.recent(ctx.store, limit=NOTIFICATIONS)
    people = _members(ctx, {n.member_id for n in found if n.member_id})
    titles = {}
    for event_id in {n.event_id for n in found if n.event_id}:
        try:
            titles[event_id] = events.get(ctx.store, event_id).title
        except NotFound:
            continue
    return render.page(
        request,
        "event_notifications.html",
        user,
        title="Notifications",
        found=found,
        names={key: f"{m.first_name} {m.last_name}" for key, m in people.items()},
        titles=titles,
        kinds=KINDS,
        sending=bool(ctx.config.community.notify_command),
        limit=NOTIFICATIONS,
    )


@router.get("/events/{event_id}/edit")
def edit_event_form(request: Request, ctx: Context, user: SignedIn, event_id: str) -> HTMLResponse:
    """The event's details in a form."""
    event = events.get(ctx.store, event_id)
    return _event_form(request, ctx, user, _form_values(ctx, event), {}, event=event)


@router.post("/events/{event_id}/edit")
def change_event(
    request: Request, ctx: Context, user: SignedIn, event_id: str, data: Posted
) -> Response:
    """Change the fields that differ from what is stored; the others stay as they are."""
    event = events.get(ctx.store, event_id)
    current = _form_values(ctx, event)
    values = {key: data.get(key, current[key]) for key in FIELDS}
    values["description"] = values["description"].replace("\r\n", "\n")
    changed = {key: value for key, value in values.items() if value != current[key]}
    parsed, errors = _parse_event(ctx, changed, EventChange)
    status = 422
    if parsed is not None:
        try:
            events.update(ctx.store, event.id, parsed, actor=user.actor, now=utcnow())
        except (Invalid, Conflict, NotFound) as err:
            errors, status = _service_error(err)
        else:
            return RedirectResponse(f"/events/{event.id}", status_code=303)
    return _event_form(request, ctx, user, values, errors, event=event, status_code=status)


@router.post("/events/{event_id}/cancel")
def cancel_event(
    request: Request, ctx: Context, user: SignedIn, event_id: str, yes: Confirmed
) -> Response:
    """Ask first; then call the event off (its sign-ups and invitations with it)."""
    event = events.get(ctx.store, event_id)
    if not yes:
        room = " The room's reservation is freed." if event.room_id else ""
        return render.confirm(
            request,
            user,
            title="Cancel the event",
            question=(
                f"Cancel {event.title} on {_local(ctx, event)}? Its {event.taken} taken seats"
                f" and {event.waitlisted} waitlist places are given back, and each member"
                f" gets a notification; invitations are withdrawn.{room}"
                " The event stays on record as cancelled."
            ),
            action=f"/events/{event.id}/cancel",
            button="Cancel the event",
            back=f"/events/{event.id}",
        )
    events.cancel(ctx.store, event.id, actor=user.actor, now=utcnow())
    return RedirectResponse(_done(event.id, "event_cancelled"), status_code=303)


# --- one event: sign-ups and invitations -------------------------------------------


@router.get("/events/{event_id}")
def event_page(
    *,
    request: Request,
    ctx: Context,
    user: SignedIn,
    event_id: str,
    done: Annotated[str, Query(max_length=20)] = "",
    member: Annotated[str, Query(max_length=100)] = "",
    invitation: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    promoted: Annotated[str, Query(max_length=2000)] = "",
) -> HTMLResponse:
    """An event: its details, seats, sign-ups and invitations, with what was just done."""
    event = events.get(ctx.store, event_id)
    return _event_page(
        request, ctx, user, event, said=Done(done, member, invitation, tuple(promoted.split(",")))
    )


@router.post("/events/{event_id}/signups")
def sign_up(
    request: Request, ctx: Context, user: SignedIn, event_id: str, data: Posted
) -> Response:
    """Sign a member up, with colleagues: a seat, or a place on the waitlist."""
    event = events.get(ctx.store, event_id)
    typed = {"member": data.get("member", ""), "guests": data.get("guests", "")}
    guests, problems = forms.parse(GuestsIn, {"guests": typed["guests"] or "0"})
    member_id = ""
    try:
        member_id = _member_id(ctx, typed["member"], "member")
    except Invalid as err:
        problems[err.field] = err.problem

    def write() -> str:
        assert guests is not None
        signups.sign_up(
            ctx.store, event.id, member_id, guests=guests.guests, actor=user.actor,
            source="dashboard", now=utcnow(),
        )  # fmt: skip
        return _done(event.id, "signed_up", member=member_id)

    return _attempt(request, ctx, user, event, write, form="signup", typed=typed, problems=problems)


@router.post("/events/{event_id}/signups/{member_id}/guests")
def change_guests(
    request: Request, ctx: Context, user: SignedIn, event_id: str, member_id: str, *, data: Posted
) -> Response:
    """Change how many colleagues come along with a member's sign-up (it keeps its place)."""
    event = events.get(ctx.store, event_id)
    person = members.get(ctx.store, member_id)
    parsed, problems = forms.parse(GuestsIn, {"guests": data.get("guests", "")})
    named = {f"{person.first_name} {person.last_name}'s colleagues": p for p in problems.values()}

    def write() -> str:
        assert parsed is not None
        result = signups.change_guests(
            ctx.store, event.id, person.id, parsed.guests, actor=user.actor, now=utcnow()
        )
        return _done(event.id, "guests", member=person.id, promoted=result.promoted)

    return _attempt(request, ctx, user, event, write, form="attendees", problems=named)


@router.post("/events/{event_id}/signups/{member_id}/cancel")
def cancel_signup(
    request: Request,
    ctx: Context,
    user: SignedIn,
    event_id: str,
    member_id: str,
    *,
    data: Posted,
    yes: Confirmed,
) -> Response:
    """Ask first; then give the member's seat or waitlist place back. Past the deadline only
    an operator's ``force=yes`` ("cancel anyway") does it; a host gets the refusal."""
    event = events.get(ctx.store, event_id)
    person = members.get(ctx.store, member_id)
    if not yes:
        return render.confirm(
            request,
            user,
            title="Cancel a sign-up",
            question=(
                f"Give {person.first_name} {person.last_name}'s place at {event.title}"
                f" ({_local(ctx, event)}) back? If it is a seat, the waitlist moves up."
            ),
            action=f"/events/{event.id}/signups/{person.id}/cancel",
            button="Cancel the sign-up",
            back=f"/events/{event.id}",
        )
    force = data.get("force") == "yes" and user.role == "operator"

    def write() -> str:
        result = signups.cancel(
            ctx.store, event.id, person.id, actor=user.actor, now=utcnow(), force=force
        )
        return _done(event.id, "cancelled", member=person.id, promoted=result.promoted)

    return _attempt(request, ctx, user, event, write, form="attendees", force_for=person.id)


@router.post("/events/{event_id}/invitations")
def invite(request: Request, ctx: Context, user: SignedIn, event_id: str, data: Posted) -> Response:
    """Invite an outsider (a name and an email) to an open event: it holds a seat."""
    event = events.get(ctx.store, event_id)
    typed = {"name": data.get("name", ""), "email": data.get("email", "")}
    parsed, problems = forms.parse(InvitationIn, typed)

    def write() -> str:
        assert parsed is not None
        made = invitations.invite(ctx.store, event.id, parsed, actor=user.actor, now=utcnow())
        return _done(event.id, "invited", invitation=made.id)

    return _attempt(request, ctx, user, event, write, form="invite", typed=typed, problems=problems)


@router.post("/events/{event_id}/invitations/{invitation_id}/cancel")
def uninvite(
    request: Request,
    ctx: Context,
    user: SignedIn,
    event_id: str,
    invitation_id: int,
    *,
    yes: Confirmed,
) -> Response:
    """Ask first; then withdraw an invitation (its seat goes to the waitlist)."""
    event = events.get(ctx.store, event_id)
    invited = invitations.get(ctx.store, event.id, invitation_id)
    if not yes:
        return render.confirm(
            request,
            user,
            title="Withdraw an invitation",
            question=(
                f"Withdraw the invitation of {invited.name} ({invited.email}) to {event.title}?"
                " Their seat goes to the waitlist."
            ),
            action=f"/events/{event.id}/invitations/{invited.id}/cancel",
            button="Withdraw the invitation",
            back=f"/events/{event.id}",
        )

    def write() -> str:
        waiting = _waiting(ctx, event.id)
        invitations.cancel(ctx.store, invited.id, actor=user.actor, now=utcnow())
        moved = waiting - _waiting(ctx, event.id)  # the service does not say whom it promoted
        return _done(event.id, "uninvited", invitation=invited.id, promoted=sorted(moved))

    return _attempt(request, ctx, user, event, write, form="invitations")


# --- reading the forms -------------------------------------------------------------


def _parse_event(
    ctx: ApiContext, values: dict[str, str], model: type[M]
) -> tuple[M | None, dict[str, str]]:
    """The event form's ``values`` as ``model``, or the problems by form field."""
    fields: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for key, text in values.items():
        try:
            if key == "host":
                fields["host_member_id"] = _member_id(ctx, text, "host")
            elif key == "place":
                fields["zone_id"], fields["room_id"] = _place(ctx, text)
            elif key in ("starts_at", "ends_at"):
                if not text:
                    raise Invalid(key, "give a date and a time")
                fields[key] = parse_moment(text, ctx.zone, field=key)
            else:
                fields[key] = text or ("0" if key in ZERO_IF_BLANK else "")
        except Invalid as err:
            errors[key] = err.problem
    parsed, problems = forms.parse(model, fields)
    errors = {**_placed(problems), **errors}  # a field that could not be read says why
    return (None if errors else parsed), errors


def _member_id(ctx: ApiContext, text: str, field: str) -> str:
    """The member ``text`` names: as the choices list offers them, an id, or a name that
    only one member has; :class:`Invalid` for ``field`` otherwise."""
    text = text.strip()
    if not text:
        raise Invalid(field, "type a name or a member id, and pick the member from the list")
    listed = _LISTED_ID.fullmatch(text)
    if listed:
        try:
            return members.get(ctx.store, listed.group(1)).id
        except NotFound as err:
            raise Invalid(field, str(err)) from err
    found = members.find(ctx.store, search=text, limit=10)
    exact = [m for m in found if m.id == text or fold(_full_name(m)) == fold(text)]
    chosen = exact or found
    if not chosen:
        raise Invalid(field, f"no member matches {text!r}")
    if len(chosen) > 1:
        raise Invalid(field, f"several members match {text!r}: pick one from the list")
    return chosen[0].id


def _place(ctx: ApiContext, text: str) -> tuple[str | None, str | None]:
    """A place choice (``zone:<id>`` or ``room:<id>``) as the zone and room ids."""
    zones, rooms = _place_choices(ctx)
    if text not in dict(zones) and text not in dict(rooms):
        raise Invalid("place", "choose a zone or a room from the list")
    kind, _, place_id = text.partition(":")
    return (place_id, None) if kind == "zone" else (None, place_id)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError as err:
        raise Invalid("from", f"{text.strip()!r} is not a date (YYYY-MM-DD)") from err


def _placed(errors: dict[str, str]) -> dict[str, str]:
    """Errors by form field, worded as the form calls them; others go to its top."""
    worded = {key: text.replace("starts_at", "the start") for key, text in errors.items()}
    return forms.placed(worded, FIELDS, ON_FORM)


def _service_error(err: Invalid | Conflict | NotFound) -> tuple[dict[str, str], int]:
    """A service's refusal of an event, next to the field it concerns, and its status."""
    if isinstance(err, Invalid):
        return _placed({err.field: err.problem}), 422
    if isinstance(err, Refused) and err.reason == "room_taken":
        return {"place": str(err)}, 409
    return {"form": str(err)}, 409 if isinstance(err, Conflict) else 422


# --- writing and answering ---------------------------------------------------------


def _attempt(
    request: Request,
    ctx: ApiContext,
    user: WebSession,
    event: Event,
    write: Callable[[], str],
    *,
    form: str,
    typed: dict[str, str] | None = None,
    problems: dict[str, str] | None = None,
    force_for: str | None = None,
) -> Response:
    """Do ``write`` (it answers where to go next) unless the form had ``problems``.

    Problems and refusals come back as the event's page: a problem next to its field
    when the form (``typed``) has it, else at the top of ``form``; a refusal at the top
    of ``form`` (409), with "cancel anyway" for ``force_for`` when an operator may.
    """
    if not problems:
        try:
            return RedirectResponse(write(), status_code=303)
        except Refused as err:
            forcible = err.reason == "past_deadline" and user.role == "operator"
            return _event_page(
                request, ctx, user, event, errors={form: str(err)}, typed=typed,
                force_for=force_for if forcible else None, status_code=409,
            )  # fmt: skip
        except Invalid as err:
            problems = {err.field: err.problem}
    fields = typed or {}
    errors = {
        (key if key in fields else form): (problem if key in fields else f"{key}: {problem}")
        for key, problem in problems.items()
    }
    return _event_page(request, ctx, user, event, errors=errors, typed=typed, status_code=422)


@dataclass(frozen=True)
class Done:
    """What the query of an event's page says was just done (see the module's docstring)."""

    done: str = ""
    member: str = ""
    invitation: int | None = None
    promoted: tuple[str, ...] = ()


def _done(
    event_id: str,
    done: str,
    *,
    member: str = "",
    invitation: int | None = None,
    promoted: Iterable[str] = (),
) -> str:
    """The event's page, saying what was done."""
    query = {
        "done": done,
        "member": member,
        "invitation": invitation or "",
        "promoted": ",".join(promoted),
    }
    return f"/events/{event_id}?" + urlencode({key: v for key, v in query.items() if v})


def _notice(
    event: Event, said: Done, attendees: list[Attendee], invited: list[Invitation]
) -> str | None:
    """What ``said`` says was done, worded from what is stored now (``None``: nothing)."""
    names = {a.member_id: f"{a.first_name} {a.last_name}" for a in attendees}
    live = {a.member_id: a for a in attendees if a.status != "cancelled"}
    signup = live.get(said.member)
    guest = next((i for i in invited if i.id == said.invitation), None)
    if said.done == "signed_up" and signup and signup.status == "confirmed":
        with_guests = f", with {_colleagues(signup.guests)}" if signup.guests else ""
        text = f"Signed up: {names[said.member]}{with_guests}."
    elif said.done == "signed_up" and signup:
        text = f"On the waitlist, position {signup.position}: {names[said.member]}."
    elif said.done == "guests" and signup:
        text = f"{names[said.member]} now brings {_colleagues(signup.guests)}."
    elif said.done == "cancelled" and said.member in names and not signup:
        text = f"{names[said.member]}'s place is given back."
    elif said.done == "invited" and guest and guest.status == "invited":
        text = f"Invited: {guest.name}."
    elif said.done == "uninvited" and guest and guest.status == "cancelled":
        text = f"Invitation withdrawn: {guest.name}."
    elif said.done == "event_cancelled" and event.status == "cancelled":
        text = f"{event.title} is cancelled; everyone who had a place gets a notification."
    else:
        return None
    moved = [names[m] for m in said.promoted if m in live and live[m].status == "confirmed"]
    return text + (" Moved up from the waitlist: " + ", ".join(moved) + "." if moved else "")


def _event_page(
    request: Request,
    ctx: ApiContext,
    user: WebSession,
    event: Event,
    *,
    said: Done = Done(),
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    force_for: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    now = utcnow()
    every = signups.of_event(ctx.store, event.id, include_cancelled=True)
    invited = invitations.of_event(ctx.store, event.id, include_cancelled=True)
    is_open = event.status == "scheduled" and now < event.starts_at
    host = _members(ctx, {event.host_member_id}).get(event.host_member_id)
    return render.page(
        request,
        "event.html",
        user,
        title=event.title,
        status_code=status_code,
        event=event,
        host=host,
        attendees=[a for a in every if a.status != "cancelled"],
        cancelled=sum(1 for a in every if a.status == "cancelled"),
        invited=[i for i in invited if i.status == "invited"],
        notice=_notice(event, said, every, invited),
        errors=errors or {},
        form=(typed or {}),
        force_for=force_for,
        is_open=is_open,
        is_running=event.status == "scheduled" and now < event.ends_at,
        may_invite=is_open and event.visibility == "open",
        choices=_member_choices(ctx) if is_open else [],
        now=now,
        zone=ctx.config.hub.timezone,
    )


def _event_form(
    request: Request,
    ctx: ApiContext,
    user: WebSession,
    values: dict[str, str],
    errors: dict[str, str],
    *,
    event: Event | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    zones, rooms = _place_choices(ctx)
    return render.page(
        request,
        "event_form.html",
        user,
        title=f"Edit {event.title}" if event else "New event",
        status_code=status_code,
        form=values,
        errors=errors,
        action=f"/events/{event.id}/edit" if event else "/events/new",
        back=f"/events/{event.id}" if event else "/events",
        button="Save changes" if event else "Add event",
        zone=ctx.config.hub.timezone,
        zones=zones,
        rooms=rooms,
        visibilities=VISIBILITIES,
        choices=_member_choices(ctx),
    )


# --- small helpers -----------------------------------------------------------------


def _form_values(ctx: ApiContext, event: Event) -> dict[str, str]:
    """An event as the form shows it (times local, the host as the choices list has them)."""
    host = _members(ctx, {event.host_member_id}).get(event.host_member_id)
    return {
        "title": event.title,
        "description": event.description,
        "host": _choice(host) if host else event.host_member_id,
        "place": f"room:{event.room_id}" if event.room_id else f"zone:{event.zone_id}",
        "starts_at": event.starts_at.astimezone(ctx.zone).strftime(LOCAL_INPUT),
        "ends_at": event.ends_at.astimezone(ctx.zone).strftime(LOCAL_INPUT),
        "capacity": str(event.capacity),
        "visibility": event.visibility,
        "max_guests": str(event.max_guests),
        "cancel_deadline_min": str(event.cancel_deadline_min),
    }


def _place_choices(ctx: ApiContext) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The place select's zones and rooms, as (value, label)."""
    zones = places.zones(ctx.store)
    zone_names = {zone.id: zone.name for zone in zones}
    rooms = [
        (
            f"room:{room.id}",
            room.name
            + (f", in {zone_names.get(room.zone_id, room.zone_id)}" if room.zone_id else "")
            + (f" ({room.capacity} people)" if room.capacity else ""),
        )
        for room in places.rooms(ctx.store)
    ]
    return [(f"zone:{zone.id}", zone.name) for zone in zones], rooms


def _member_choices(ctx: ApiContext) -> list[str]:
    """Active members as the host and sign-up fields offer them."""
    return [_choice(m) for m in members.find(ctx.store, status="active", limit=MEMBER_CHOICES)]


def _members(ctx: ApiContext, member_ids: Iterable[str]) -> dict[str, Member]:
    found = {}
    for member_id in member_ids:
        try:
            found[member_id] = members.get(ctx.store, member_id)
        except NotFound:
            continue
    return found


def _waiting(ctx: ApiContext, event_id: str) -> set[str]:
    return {a.member_id for a in signups.of_event(ctx.store, event_id) if a.status == "waitlisted"}


def _local(ctx: ApiContext, event: Event) -> str:
    return event.starts_at.astimezone(ctx.zone).strftime("%a %d %b %Y %H:%M")


def _full_name(member: Member) -> str:
    return f"{member.first_name} {member.last_name}"


def _choice(member: Member) -> str:
    return f"{_full_name(member)} ({member.id})"


def _colleagues(count: int) -> str:
    return "1 colleague" if count == 1 else f"{count} colleagues"
