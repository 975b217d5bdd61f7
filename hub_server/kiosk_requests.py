"""The hub's answers to what members ask for at a kiosk: sign-ups, guests, bookings, their plans.

Check-out is answered inside the ingest's batch (it changes presence);
everything else here, each request in its own transaction after the batch
is stored, so a refusal or a bug in one request never costs the batch its
taps. Every answer carries a reason code from ``docs/protocol.md``: the
services' :class:`~hub_server.errors.Refused` codes pass straight through,
unreadable params are ``invalid_request``. Requests are idempotent by their
id (the kiosk's outbox may deliver one twice): each service keeps the
request id and answers a repeat as it did the first time.

A member's plans (``agenda``) go with every answer: today's bookings still
to end and the sign-ups and waitlist places of the coming
:data:`PLAN_DAYS` days. A ``today`` request is also a tap at the kiosk, so
it marks the member as attending an event starting soon (``community.
checkin_before_min``).
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hub_server import bookings, guests, signups
from hub_server.bookings import BookingIn
from hub_server.config import CommunitySection
from hub_server.errors import HubError, Refused
from hub_server.guests import GuestIn
from hub_server.local_days import day_bounds, local_day
from hub_server.models import build
from hub_server.store import Store, now_text
from hublink.messages import (
    AgendaItem,
    CredentialHash,
    EntityId,
    KioskRequest,
    KioskResponse,
    UtcDatetime,
)

log = logging.getLogger(__name__)

PLAN_DAYS = 7
MAX_AGENDA = 64
"""The contract's limit on agenda items; the soonest are kept."""


@dataclass(frozen=True)
class KioskRules:
    """What answering needs from the hub's configuration."""

    timezone: str
    community: CommunitySection


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Signup(_Params):
    event_id: EntityId
    guests: int = Field(default=0, ge=0, le=20)


class _Cancel(_Params):
    event_id: EntityId


class _Guest(_Params):
    first_name: Annotated[str, Field(min_length=1, max_length=80)]
    card: CredentialHash | None = None


class _Booking(_Params):
    room_id: EntityId
    starts_at: UtcDatetime
    minutes: int = Field(gt=0, le=24 * 60)


def member_of(store: Store, credential: str, now: datetime) -> tuple[str, bool] | None:
    """Whose card this is: ``(member id, is a guest's pass)``, or None if nobody's."""
    row = store.query_one(
        "SELECT c.member_id FROM credentials c JOIN members m ON m.id = c.member_id"
        " WHERE c.hash = ? AND c.status = 'active' AND m.status != 'inactive'",
        (credential,),
    )
    if row is not None:
        return str(row[0]), False
    found = guests.pass_of_card(store.read(), credential, now_text(now))
    return None if found is None else (str(found["id"]), True)


@dataclass(frozen=True)
class _Asked:
    """One request being carried out, and what carrying it out needs."""

    store: Store
    request: KioskRequest
    member_id: str
    actor: str
    rules: KioskRules
    now: datetime


Outcome = tuple[str, dict[str, Any]]
"""The reason code and data of a request that went through."""


def answer(
    store: Store, kiosk_id: str, request: KioskRequest, rules: KioskRules, now: datetime
) -> KioskResponse:
    """Carry out ``request`` (any action but ``check_out``) and say how it went."""
    who = member_of(store, request.credential, now)
    if who is None:
        return _reply(request, False, "unknown_credential")
    member_id, is_guest = who
    if is_guest:
        return _reply(request, False, "not_allowed")
    handler = _HANDLERS.get(request.action)
    if handler is None:
        return _reply(request, False, "not_supported")
    asked = _Asked(store, request, member_id, f"kiosk:{kiosk_id}", rules, now)
    try:
        reason, data = handler(asked)
    except Refused as err:
        return _reply(request, False, err.reason, agenda=plans(store, member_id, now, rules))
    except (HubError, ValidationError) as err:
        log.warning(
            "kiosk %s: %s request %s refused as invalid: %s",
            kiosk_id,
            request.action,
            request.id,
            err,
        )
        return _reply(request, False, "invalid_request")
    return _reply(request, True, reason, data, agenda=plans(store, member_id, now, rules))


def _signup(asked: _Asked) -> Outcome:
    params = _Signup.model_validate(asked.request.params)
    result = signups.sign_up(
        asked.store,
        params.event_id,
        asked.member_id,
        guests=params.guests,
        actor=asked.actor,
        source="kiosk",
        now=asked.now,
        request_id=asked.request.id,
    )
    if result.status == "waitlisted":
        return "waitlisted", {"waitlist_position": result.position}
    return "signed_up", {}


def _cancel(asked: _Asked) -> Outcome:
    params = _Cancel.model_validate(asked.request.params)
    signups.cancel(
        asked.store,
        params.event_id,
        asked.member_id,
        actor=asked.actor,
        now=asked.now,
        request_id=asked.request.id,
    )
    return "cancelled", {}


def _guest(asked: _Asked) -> Outcome:
    params = _Guest.model_validate(asked.request.params)
    made = guests.register(
        asked.store,
        build(
            GuestIn,
            first_name=params.first_name,
            host_member_id=asked.member_id,
            credential=params.card,
        ),
        actor=asked.actor,
        source="kiosk",
        timezone=asked.rules.timezone,
        now=asked.now,
        request_id=asked.request.id,
    )
    return "guest_registered", {"guest": made.first_name}


def _booking(asked: _Asked) -> Outcome:
    params = _Booking.model_validate(asked.request.params)
    made = bookings.book(
        asked.store,
        build(
            BookingIn,
            room_id=params.room_id,
            member_id=asked.member_id,
            starts_at=params.starts_at,
            minutes=params.minutes,
        ),
        actor=asked.actor,
        source="kiosk",
        community=asked.rules.community,
        timezone=asked.rules.timezone,
        now=asked.now,
        request_id=asked.request.id,
    )
    return "booked", {"booking_id": made.id}


def _today(asked: _Asked) -> Outcome:
    """A tap at the kiosk: attendance at an event about to start."""
    with asked.store.write() as db:
        signups.mark_attended(
            db,
            asked.member_id,
            asked.request.ts,
            place=None,
            checkin_before_min=asked.rules.community.checkin_before_min,
        )
    return "today", {}


_HANDLERS: dict[str, Callable[[_Asked], Outcome]] = {
    "signup": _signup,
    "cancel_signup": _cancel,
    "guest": _guest,
    "booking": _booking,
    "today": _today,
}


def plans(store: Store, member_id: str, now: datetime, rules: KioskRules) -> tuple[AgendaItem, ...]:
    """The member's plans: today's bookings still to end, the coming week's sign-ups."""
    zone = ZoneInfo(rules.timezone)
    midnight = day_bounds(local_day(now, zone), zone)[1]
    items = [
        AgendaItem(
            kind="waitlist" if s.status == "waitlisted" else "signup",
            ref=s.event_id,
            title=s.title[:80],
            starts_at=s.starts_at,
            ends_at=s.ends_at,
            room_id=s.room_id,
            guests=s.guests,
            position=s.position,
        )
        for s in signups.of_member(
            store, member_id, since=now, until=now + timedelta(days=PLAN_DAYS)
        )
    ]
    items += [
        AgendaItem(
            kind="booking",
            ref=b.id,
            title=b.room_name[:80],
            starts_at=b.starts_at,
            ends_at=b.ends_at,
            room_id=b.room_id,
        )
        for b in bookings.of_member(store, member_id, since=now, until=midnight)
        if b.status == "booked" and b.event_id is None
    ]
    items.sort(key=lambda item: (item.starts_at, item.ref))
    return tuple(items[:MAX_AGENDA])


def _reply(
    request: KioskRequest,
    ok: bool,
    reason: str,
    data: dict[str, Any] | None = None,
    *,
    agenda: tuple[AgendaItem, ...] | None = None,
) -> KioskResponse:
    return KioskResponse(
        request_id=request.id, ok=ok, reason=reason, data=data or {}, agenda=agenda
    )
