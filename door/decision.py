"""The access decision: a pure function of a credential, the time and the door's situation.

Every outcome carries a reason code (events and the kiosk show them):

| reason | granted | when |
|---|---|---|
| `admin` | yes | an admin (break-glass) credential, any schedule, offline too |
| `break_glass` | yes | an admin credential while the door is in lockdown |
| `booking`, `event` | yes | inside a room-booking or event window the hub listed for this card |
| `member` | yes | the member's tier is admitted here, within its schedule |
| `guest_pass` | yes | a guest's day pass, within its validity |
| `unknown_credential` | no | the card is not in this door's list |
| `credential_suspended` | no | the card or its member is suspended |
| `not_yet_valid`, `expired` | no | outside the membership's or pass's validity window |
| `lockdown` | no | the door is in lockdown (only admins pass) |
| `offline_admin_only` | no | the list is stale and the policy admits only admins |
| `rate_limited` | no | too many denied taps at this reader just now |
| `tier_not_allowed` | no | the member's tier is not admitted at this door |
| `holiday`, `outside_schedule` | no | outside the weekly schedule of the member's tier here |
| `unknown_schedule` | no | the list names a schedule the door does not have (fail secure) |

Revocation is removal: a revoked card is not in the list (`unknown_credential`).
"""

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from door.schedule import WeeklySchedule

Role = Literal["member", "guest", "admin"]


class Mode(enum.StrEnum):
    """What a door is doing; in the held-open modes taps are still decided and logged."""

    NORMAL = "normal"
    LOCKDOWN = "lockdown"  # only admin (break-glass) credentials open it
    HOLD_OPEN = "hold_open"  # held open by an operator's command
    SCHEDULED_OPEN = "scheduled_open"  # held open by the list's open schedule


@dataclass(frozen=True, slots=True)
class Grant:
    """Extra access for a booking or an event, lead time included by the hub."""

    start: datetime
    end: datetime
    reason: Literal["booking", "event"]


@dataclass(frozen=True, slots=True)
class Credential:
    """One card in the door's list, as the decision needs it."""

    member_id: str
    role: Role = "member"
    active: bool = True
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    tier: str | None = None  # None: no tier rule
    grants: tuple[Grant, ...] = ()
    host_member_id: str | None = None  # a guest's host


@dataclass(frozen=True)
class Situation:
    """The door's state that a decision depends on."""

    mode: Mode = Mode.NORMAL
    tiers: Mapping[str, str | None] = field(default_factory=dict)  # tier -> schedule id
    schedules: Mapping[str, WeeklySchedule] = field(default_factory=dict)
    last_sync: datetime | None = None
    stale_after: timedelta = timedelta(hours=24)
    stale_policy: Literal["keep", "admin_only"] = "keep"
    throttled: bool = False  # the reader's denied-tap limit is reached

    def is_stale(self, now: datetime) -> bool:
        """Whether the list has gone unsynced for longer than ``stale_after``."""
        return self.last_sync is None or now - self.last_sync > self.stale_after


@dataclass(frozen=True, slots=True)
class Decision:
    """Whether the door opens, and why."""

    granted: bool
    reason: str
    member_id: str | None = None
    role: Role | None = None


def decide(credential: Credential | None, now: datetime, situation: Situation) -> Decision:
    """Decide a tap of ``credential`` (None: not in the list) at ``now`` (aware)."""
    if credential is None:
        return Decision(False, "rate_limited" if situation.throttled else "unknown_credential")
    granted, reason = _judge(credential, now, situation)
    return Decision(granted, reason, credential.member_id, credential.role)


def _judge(credential: Credential, now: datetime, situation: Situation) -> tuple[bool, str]:
    refusal = _validity(credential, now)
    if refusal:
        return False, refusal
    if credential.role == "admin":
        return True, "break_glass" if situation.mode is Mode.LOCKDOWN else "admin"
    refusal = _door_refusal(now, situation)
    if refusal:
        return False, refusal
    for extra in credential.grants:
        if extra.start <= now < extra.end:
            return True, extra.reason
    refusal = _schedule(credential, now, situation)
    if refusal:
        return False, refusal
    return True, "guest_pass" if credential.role == "guest" else "member"


def _door_refusal(now: datetime, situation: Situation) -> str | None:
    if situation.throttled:
        return "rate_limited"
    if situation.mode is Mode.LOCKDOWN:
        return "lockdown"
    if situation.stale_policy == "admin_only" and situation.is_stale(now):
        return "offline_admin_only"
    return None


def _validity(credential: Credential, now: datetime) -> str | None:
    if not credential.active:
        return "credential_suspended"
    if credential.valid_from is not None and now < credential.valid_from:
        return "not_yet_valid"
    if credential.valid_until is not None and now >= credential.valid_until:
        return "expired"
    return None


def _schedule(credential: Credential, now: datetime, situation: Situation) -> str | None:
    if credential.tier is None:
        return None
    if credential.tier not in situation.tiers:
        return "tier_not_allowed"
    schedule_id = situation.tiers[credential.tier]
    if schedule_id is None:
        return None
    schedule = situation.schedules.get(schedule_id)
    if schedule is None:
        return "unknown_schedule"
    return schedule.check(now)


class DeniedTapLimiter:
    """Throttles a reader after ``max_denials`` denied taps within ``window_s`` seconds.

    While throttled (``cooldown_s`` from the last denial that tripped it),
    every non-admin tap is denied as ``rate_limited``: someone trying card
    after card gets nowhere, an admin still gets in.
    """

    def __init__(self, max_denials: int = 5, window_s: float = 30.0, cooldown_s: float = 30.0):
        self.max_denials = max_denials
        self.window_s = window_s
        self.cooldown_s = cooldown_s
        self._denials: dict[str, list[float]] = {}
        self._throttled_until: dict[str, float] = {}

    def throttled(self, reader_id: str, now: float) -> bool:
        """Whether taps at ``reader_id`` are throttled at ``now`` (monotonic seconds)."""
        return now < self._throttled_until.get(reader_id, float("-inf"))

    def record(self, reader_id: str, decision: Decision, now: float) -> None:
        """Count a decision; a denial may throttle the reader."""
        if decision.granted:
            return
        recent = [t for t in self._denials.get(reader_id, []) if now - t < self.window_s]
        recent.append(now)
        self._denials[reader_id] = recent[-self.max_denials :]
        if len(recent) >= self.max_denials:
            self._throttled_until[reader_id] = now + self.cooldown_s
