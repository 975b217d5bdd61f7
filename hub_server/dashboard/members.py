"""Members: find, add, edit and deactivate them; their cards, added by UID or by a tap;
their data exported, or the member erased.

The list searches as you type (htmx swaps ``#member-results`` out of the
same full page, so it works as a plain GET form without JavaScript). Enrol
by tap starts an enrolment at a door and polls it every second until the
hub's ingest attaches the next unknown card tapped there. Erasing asks on a
page of its own where the operator types the member's id or full name.
"""

import json
import re
from typing import Annotated, get_args
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import Field

from hub_server import (
    access_log,
    cards,
    doors,
    enrolment,
    member_erasure,
    member_export,
    members,
    organisations,
    places,
    presence,
)
from hub_server.api.context import ApiContext, Context
from hub_server.dashboard import forms, render
from hub_server.dashboard.auth import Operator, is_htmx
from hub_server.dashboard.forms import Confirmed, Posted
from hub_server.errors import Conflict, Invalid, NotFound
from hub_server.member_csv import format_moment, parse_moment
from hub_server.models import (
    CardIn,
    CredentialKind,
    EntityId,
    Input,
    Member,
    MemberChange,
    MemberIn,
    MemberRole,
    MemberStatus,
)
from hub_server.web_sessions import WebSession
from hublink.messages import utcnow

router = APIRouter()

PAGE_SIZE = 50
"""Members per page of the list."""

RECENT = 10
"""Presence sessions and access log entries the member page shows."""

ENROL_TIMEOUT_S = 120
"""How long an enrolment started here waits for the tap."""

STATUSES: tuple[MemberStatus, ...] = get_args(MemberStatus)
ROLES: tuple[MemberRole, ...] = get_args(MemberRole)
KINDS: tuple[CredentialKind, ...] = get_args(CredentialKind)

FIELDS = tuple(name for name in MemberIn.model_fields if name != "id")
"""The member form's fields: :class:`MemberIn`'s, but the id (the hub makes one)."""

OPTIONAL = ("email", "organisation", "valid_from", "valid_until")
"""Fields that may be left empty (empty means none)."""

_BARE_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class EnrolForm(Input):
    """The enrol-by-tap form: which door's reader, and a label for the new card."""

    door_id: EntityId
    label: str = Field(default="", max_length=80)


# --- the list --------------------------------------------------------------


@router.get("/members")
def member_list(
    *,
    request: Request,
    ctx: Context,
    user: Operator,
    q: Annotated[str, Query(max_length=200)] = "",
    organisation: Annotated[str, Query(max_length=200)] = "",
    status: Annotated[str, Query(max_length=20)] = "",
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    erased: Annotated[str, Query(max_length=80)] = "",
) -> HTMLResponse:
    """Members by name: search (case and accents ignored), filters, 50 a page; a notice
    after an erasure (``erased``: the tombstone's id)."""
    chosen = _status(status)
    search = q.strip() or None
    total = members.count(
        ctx.store, search=search, organisation=organisation or None, status=chosen
    )
    found = members.find(
        ctx.store,
        search=search,
        organisation=organisation or None,
        status=chosen,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    keep = {key: value for key, value in (("q", q), ("organisation", organisation)) if value}
    if chosen:
        keep["status"] = chosen
    pages: dict[str, object] = {
        "prev_url": _list_url(keep, page - 1) if page > 1 else None,
        "next_url": _list_url(keep, page + 1) if page * PAGE_SIZE < total else None,
    }
    return render.page(
        request,
        "members.html",
        user,
        title="Members",
        found=found,
        total=total,
        first=(page - 1) * PAGE_SIZE + 1,
        last=(page - 1) * PAGE_SIZE + len(found),
        q=q,
        organisation=organisation,
        status=chosen or "",
        organisation_options=[("", "Any organisation"), *_organisation_options(ctx)],
        status_options=[("", "Any status"), *((s, s) for s in STATUSES)],
        notice=_erased_notice(ctx, erased),
        values=pages,
    )


# --- add and edit ------------------------------------------------------------


@router.get("/members/new")
def new_member_form(request: Request, ctx: Context, user: Operator) -> HTMLResponse:
    """The form for a new member."""
    values = dict.fromkeys(FIELDS, "") | {"tier": "member", "role": "member", "status": "active"}
    return _member_form(request, ctx, user, values, {})


@router.post("/members")
def add_member(request: Request, ctx: Context, user: Operator, data: Posted) -> Response:
    """Add the member, or the form again with what was wrong next to each field."""
    values = {key: data.get(key, "") for key in FIELDS}
    moments, errors = _moments(values, ctx.zone)
    model, problems = forms.parse(MemberIn, {**values, **moments}, blank_is_none=OPTIONAL)
    errors = _placed({**problems, **errors})
    if model is not None and not errors:
        try:
            member = members.add(ctx.store, model, user.actor)
        except (Invalid, Conflict, NotFound) as err:
            errors = _service_error(err)
        else:
            return RedirectResponse(f"/members/{member.id}", status_code=303)
    return _member_form(request, ctx, user, values, errors, status_code=422)


@router.get("/members/{member_id}/edit")
def edit_member_form(
    request: Request, ctx: Context, user: Operator, member_id: str
) -> HTMLResponse:
    """The member's details in a form."""
    member = members.get(ctx.store, member_id)
    return _member_form(request, ctx, user, _form_values(member, ctx.zone), {}, member=member)


@router.post("/members/{member_id}")
def change_member(
    request: Request, ctx: Context, user: Operator, member_id: str, data: Posted
) -> Response:
    """Change the fields that differ from what is stored; the others stay as they are."""
    member = members.get(ctx.store, member_id)
    current = _form_values(member, ctx.zone)
    values = {key: data.get(key, current[key]) for key in FIELDS}
    changed = {key: value for key, value in values.items() if value != current[key]}
    moments, errors = _moments(changed, ctx.zone)
    model, problems = forms.parse(MemberChange, {**changed, **moments}, blank_is_none=OPTIONAL)
    errors = _placed({**problems, **errors})
    if model is not None and not errors:
        try:
            members.change(ctx.store, member.id, model, user.actor)
        except (Invalid, Conflict, NotFound) as err:
            errors = _service_error(err)
        else:
            return RedirectResponse(f"/members/{member.id}", status_code=303)
    return _member_form(request, ctx, user, values, errors, member=member, status_code=422)


@router.post("/members/{member_id}/deactivate")
def deactivate_member(
    request: Request, ctx: Context, user: Operator, member_id: str, yes: Confirmed
) -> Response:
    """Ask first; then take the member off every door's list."""
    member = members.get(ctx.store, member_id)
    if not yes:
        return render.confirm(
            request,
            user,
            title="Deactivate member",
            question=(
                f"Deactivate {member.first_name} {member.last_name}? Their cards stop opening"
                " doors with the next list update; the member, cards and history stay on record."
            ),
            action=f"/members/{member.id}/deactivate",
            button="Deactivate",
            back=f"/members/{member.id}",
        )
    members.deactivate(ctx.store, member.id, user.actor)
    return RedirectResponse(f"/members/{member.id}", status_code=303)


# --- export and erasure -------------------------------------------------------


@router.get("/members/{member_id}/export.json")
def export_member_data(ctx: Context, user: Operator, member_id: str) -> Response:
    """Everything held about the member, as a JSON download (recorded in the audit log)."""
    data = member_export.export(ctx.store, member_id, actor=user.actor)
    return Response(
        json.dumps(data, ensure_ascii=False, indent=2),
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="{member_id}-data.json"',
            "Cache-Control": "no-store",
        },
    )


@router.post("/members/{member_id}/erase")
def erase_member(
    *,
    request: Request,
    ctx: Context,
    user: Operator,
    member_id: str,
    yes: Confirmed,
    data: Posted,
) -> Response:
    """Ask first, on a page where the operator types the member's id or full name; then
    erase the member and go back to the list, which says what was done."""
    member = members.get(ctx.store, member_id)
    if not yes:
        return _erase_page(request, user, member)
    typed = data.get("confirm", "")
    if not _names(typed, member):
        problem = f"type {member.id} or the member's full name to erase them"
        return _erase_page(request, user, member, typed=typed, error=problem, status_code=422)
    result = member_erasure.erase(ctx.store, member.id, user.actor, utcnow())
    return RedirectResponse(f"/members?erased={result.tombstone_id}", status_code=303)


def _names(typed: str, member: Member) -> bool:
    """Whether ``typed`` is the member's id or full name (case and spacing aside)."""
    words = " ".join(typed.split()).casefold()
    return bool(words) and words in (
        member.id.casefold(),
        f"{member.first_name} {member.last_name}".casefold(),
    )


def _erase_page(
    request: Request,
    user: WebSession,
    member: Member,
    *,
    typed: str = "",
    error: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    return render.page(
        request,
        "member_erase.html",
        user,
        title=f"Erase {member.first_name} {member.last_name}",
        status_code=status_code,
        member=member,
        typed=typed,
        errors={"confirm": error} if error else {},
    )


def _erased_notice(ctx: ApiContext, tombstone_id: str) -> str:
    """What the erasure that left ``tombstone_id`` did, from its audit entry."""
    counts = member_erasure.erasure_counts(ctx.store, tombstone_id) if tombstone_id else None
    if counts is None:
        return ""
    kept = sum(n for key, n in counts.items() if key.endswith(".kept"))
    cancelled = sum(n for key, n in counts.items() if key.endswith(".cancelled"))
    return (
        f"The member is erased: {counts.get('credentials.deleted', 0)} card(s) deleted, "
        f"{cancelled} future booking(s), sign-up(s) and guest pass(es) cancelled, "
        f"{kept} past record(s) kept as \u201c{member_erasure.TOMBSTONE_NAME}\u201d "
        f"({tombstone_id}). Taps and stays remain only as anonymous counts."
    )


# --- one member --------------------------------------------------------------


@router.get("/members/{member_id}")
def member_page(request: Request, ctx: Context, user: Operator, member_id: str) -> HTMLResponse:
    """A member: details, cards, recent presence and recent taps."""
    return _member_page(request, ctx, user, members.get(ctx.store, member_id))


@router.post("/members/{member_id}/cards")
def add_card(
    request: Request, ctx: Context, user: Operator, member_id: str, data: Posted
) -> Response:
    """Attach a card by its UID (hashed with the site key at once; the UID is not kept)."""
    member = members.get(ctx.store, member_id)
    values = {
        "uid": data.get("uid", ""),
        "kind": data.get("kind") or "card",
        "label": data.get("label", ""),
    }
    errors: dict[str, str] = {}
    if ctx.site_key is None:
        errors["uid"] = (
            "this hub has no site key: set [site] key in the hub's configuration to add"
            " cards by UID (or enrol the card by a tap)"
        )
    else:
        model, errors = forms.parse(CardIn, {**values, "member_id": member.id})
        if model is not None:
            try:
                cards.add(ctx.store, ctx.site_key, model, user.actor)
            except Invalid as err:
                errors = {err.field: err.problem}
            except Conflict as err:
                errors = {"uid": str(err)}
            else:
                return RedirectResponse(f"/members/{member.id}#cards", status_code=303)
    errors = _placed(errors, ("uid", "kind", "label"))
    return _member_page(
        request, ctx, user, member, card_values=values, card_errors=errors, status_code=422
    )


@router.post("/cards/{card_id}/revoke")
def revoke_card(
    request: Request, ctx: Context, user: Operator, card_id: int, yes: Confirmed
) -> Response:
    """Ask first; then revoke the card (it leaves every door's list with the next update)."""
    card = cards.get(ctx.store, card_id)
    member = members.get(ctx.store, card.member_id)
    if not yes:
        label = f" ({card.label})" if card.label else ""
        return render.confirm(
            request,
            user,
            title="Revoke card",
            question=(
                f"Revoke card …{card.hint}{label} of {member.first_name} {member.last_name}?"
                " It stops opening doors with the next list update and cannot be made active"
                " again (add or enrol it anew)."
            ),
            action=f"/cards/{card.id}/revoke",
            button="Revoke card",
            back=f"/members/{member.id}#cards",
        )
    cards.revoke(ctx.store, card.id, user.actor)
    return RedirectResponse(f"/members/{member.id}#cards", status_code=303)


# --- enrol by tap ------------------------------------------------------------


@router.post("/members/{member_id}/enrol")
def start_enrolment(
    request: Request, ctx: Context, user: Operator, member_id: str, data: Posted
) -> Response:
    """Wait for a card at a door; htmx gets the enrol block, a plain form the member page."""
    member = members.get(ctx.store, member_id)
    values = {"door_id": data.get("door_id", ""), "enrol_label": data.get("enrol_label", "")}
    model, errors = forms.parse(
        EnrolForm, {"door_id": values["door_id"], "label": values["enrol_label"]}
    )
    if model is not None:
        try:
            started = enrolment.start(
                ctx.store,
                member.id,
                model.door_id,
                user.actor,
                timeout_s=ENROL_TIMEOUT_S,
                label=model.label,
            )
        except NotFound as err:
            errors = {"door_id": str(err)}
        else:
            target = f"/members/{member.id}/enrolments/{started.id}"
            if not is_htmx(request):
                return RedirectResponse(target, status_code=303)
            return _enrol_block(request, ctx, user, member, enrol=started)
    errors = {("enrol_label" if key == "label" else key): value for key, value in errors.items()}
    errors = _placed(errors, ("door_id", "enrol_label"))
    if is_htmx(request):
        # htmx swaps only 2xx answers: the block with its errors must arrive as one
        return _enrol_block(request, ctx, user, member, enrol_values=values, enrol_errors=errors)
    return _member_page(
        request, ctx, user, member, enrol_values=values, enrol_errors=errors, status_code=422
    )


@router.get("/members/{member_id}/enrolments/{enrolment_id}")
def enrolment_status(
    request: Request, ctx: Context, user: Operator, member_id: str, enrolment_id: int
) -> Response:
    """How the enrolment stands: htmx polls it (204 while waiting), a browser gets the page."""
    member = members.get(ctx.store, member_id)
    found = enrolment.get(ctx.store, enrolment_id)
    if found.member_id != member.id:
        raise NotFound(f"no enrolment {enrolment_id} for member {member.id}")
    if not is_htmx(request):
        return _member_page(request, ctx, user, member, enrol=found)
    if found.status == "waiting":
        return Response(status_code=204)  # no swap: the element keeps polling
    return HTMLResponse(
        render.fragment(
            request,
            "member_enrolment.html",
            user=user,
            member=member,
            enrol=found,
            door_name=_door_name(ctx, found.door_id),
            cards=cards.find(ctx.store, member_id=member.id, include_revoked=True),
            oob=found.status == "done",
        )
    )


# --- helpers -----------------------------------------------------------------


def _status(text: str) -> MemberStatus | None:
    if not text:
        return None
    if text not in STATUSES:
        raise Invalid("status", f"must be one of {', '.join(STATUSES)}")
    return text


def _list_url(keep: dict[str, str], page: int) -> str:
    return "/members?" + urlencode({**keep, "page": page} if page > 1 else keep)


def _organisation_options(ctx: ApiContext) -> list[tuple[str, str]]:
    return [(org.id, org.name) for org in organisations.all_organisations(ctx.store)]


def _form_values(member: Member, zone: ZoneInfo) -> dict[str, str]:
    """A member as the form shows it (validity as local dates, the last day inclusive)."""
    return {
        "first_name": member.first_name,
        "last_name": member.last_name,
        "email": member.email or "",
        "organisation": member.organisation_id or "",
        "tier": member.tier,
        "role": member.role,
        "status": member.status,
        "valid_from": format_moment(member.valid_from, zone),
        "valid_until": format_moment(member.valid_until, zone, end_of_day=True),
    }


def _moments(values: dict[str, str], zone: ZoneInfo) -> tuple[dict[str, object], dict[str, str]]:
    """The validity dates given, as times (``valid_until`` a last day, inclusive), and errors."""
    moments: dict[str, object] = {}
    errors: dict[str, str] = {}
    for key in ("valid_from", "valid_until"):
        text = values.get(key, "")
        if not text:
            continue
        try:
            moments[key] = parse_moment(text, zone, field=key, end_of_day=key == "valid_until")
        except Invalid as err:
            errors[key] = err.problem
            moments[key] = None  # reported above; not checked again by the model
    return moments, errors


def _placed(errors: dict[str, str], fields: tuple[str, ...] = FIELDS) -> dict[str, str]:
    """Errors by field; one for a field the form does not show goes to the top of the form."""
    return forms.placed(errors, fields)


def _service_error(err: Invalid | Conflict | NotFound) -> dict[str, str]:
    """A service's refusal, next to the field it concerns."""
    if isinstance(err, Invalid):
        return _placed({err.field: err.problem})
    if isinstance(err, Conflict):  # the only conflict a member change can meet: the email
        return {"email": str(err)}
    return {"organisation": str(err)}  # the member exists: what was not found is the organisation


def _member_form(
    request: Request,
    ctx: ApiContext,
    user: WebSession,
    values: dict[str, str],
    errors: dict[str, str],
    *,
    member: Member | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    zone = ctx.config.hub.timezone
    return render.page(
        request,
        "member_form.html",
        user,
        title=f"Edit {member.first_name} {member.last_name}" if member else "Add a member",
        status_code=status_code,
        form=values,
        errors=errors,
        action=f"/members/{member.id}" if member else "/members",
        back=f"/members/{member.id}" if member else "/members",
        button="Save changes" if member else "Add member",
        zone=zone,
        date_types={
            key: "date" if not values[key] or _BARE_DATE.fullmatch(values[key]) else "text"
            for key in ("valid_from", "valid_until")
        },
        organisation_options=[("", "No organisation"), *_organisation_options(ctx)],
        role_options=[(role, role) for role in ROLES],
        status_options=[(status, status) for status in STATUSES],
    )


def _door_name(ctx: ApiContext, door_id: str) -> str:
    try:
        return doors.get(ctx.store, door_id).name
    except NotFound:
        return door_id


def _enrol_values(ctx: ApiContext, enrol_values: dict[str, str] | None) -> dict[str, object]:
    door_list = doors.all_doors(ctx.store)
    return {
        "door_options": [(door.id, door.name) for door in door_list],
        "enrol_values": enrol_values or {"door_id": "", "enrol_label": ""},
    }


def _enrol_block(
    request: Request,
    ctx: ApiContext,
    user: WebSession,
    member: Member,
    *,
    enrol: enrolment.Enrolment | None = None,
    enrol_values: dict[str, str] | None = None,
    enrol_errors: dict[str, str] | None = None,
) -> HTMLResponse:
    return HTMLResponse(
        render.fragment(
            request,
            "member_enrol.html",
            user=user,
            member=member,
            enrol=enrol,
            door_name=_door_name(ctx, enrol.door_id) if enrol else "",
            enrol_errors=enrol_errors or {},
            **_enrol_values(ctx, enrol_values),
        )
    )


def _member_page(
    request: Request,
    ctx: ApiContext,
    user: WebSession,
    member: Member,
    *,
    card_values: dict[str, str] | None = None,
    card_errors: dict[str, str] | None = None,
    enrol_values: dict[str, str] | None = None,
    enrol_errors: dict[str, str] | None = None,
    enrol: enrolment.Enrolment | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    zone = ctx.zone
    log = access_log.page(ctx.store, access_log.AccessLogFilter(member_id=member.id), limit=RECENT)
    return render.page(
        request,
        "member.html",
        user,
        title=f"{member.first_name} {member.last_name}",
        status_code=status_code,
        member=member,
        valid_from=format_moment(member.valid_from, zone),
        valid_until=format_moment(member.valid_until, zone, end_of_day=True),
        cards=cards.find(ctx.store, member_id=member.id, include_revoked=True),
        sessions=presence.history(ctx.store, member.id, limit=RECENT),
        zone_names={zone.id: zone.name for zone in places.zones(ctx.store)},
        room_names={room.id: room.name for room in places.rooms(ctx.store)},
        log=log,
        card_values=card_values or {"uid": "", "kind": "card", "label": ""},
        card_errors=card_errors or {},
        kind_options=[(kind, kind) for kind in KINDS],
        enrol=enrol,
        door_name=_door_name(ctx, enrol.door_id) if enrol else "",
        enrol_errors=enrol_errors or {},
        erasable=not member_erasure.is_tombstone(member.id),
        values=_enrol_values(ctx, enrol_values),
    )
