"""Presence as a pure function of a member's movements: who is where, since when.

A granted tap is a :class:`Movement`. What it means depends on the door:

| door direction | member not in | member in |
|---|---|---|
| `in` | arrives, in the door's zone (or room) | moves there (a re-tap there: nothing) |
| `zone` | arrives, in the reader's zone | moves to the reader's zone |
| `out` | nothing | leaves |
| `toggle` | arrives, in the door's zone | leaves |

A stay is split into one :class:`Session` per zone; ``visit_start`` is when
the member arrived at the site. A stay ends by itself at the site's closing
time and after the longest stay allowed, whichever comes first (the session
ends at that moment, not when the hub noticed). Replaying a member's
movements in time order gives the same sessions as applying them one by
one, so events that arrive late or out of order are handled by replaying.
"""

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

Direction = Literal["in", "out", "toggle", "zone"]
EndReason = Literal["moved", "exit", "toggle", "kiosk", "closing", "max_stay", "operator"]


@dataclass(frozen=True, slots=True)
class Movement:
    """A granted tap at a door, as presence needs it."""

    member_id: str
    ts: datetime
    direction: Direction
    zone_id: str | None
    room_id: str | None
    event_id: str | None = None
    reason: "EndReason | None" = None  # why an ``out`` ends the stay (a kiosk check-out)


@dataclass(frozen=True, slots=True)
class Session:
    """A member in one zone (or room) for a while; open while ``ended_at`` is None."""

    member_id: str
    zone_id: str | None
    room_id: str | None
    started_at: datetime
    visit_start: datetime
    start_event: str | None = None
    ended_at: datetime | None = None
    end_reason: EndReason | None = None
    end_event: str | None = None

    def end(self, at: datetime, reason: EndReason, event: str | None = None) -> "Session":
        """This session, ended."""
        return replace(self, ended_at=max(at, self.started_at), end_reason=reason, end_event=event)


@dataclass(frozen=True)
class PresenceRules:
    """When stays end by themselves."""

    timezone: ZoneInfo
    closing_time: time | None
    max_stay: timedelta

    def automatic_end(self, session: Session) -> tuple[datetime, EndReason]:
        """When and why ``session``'s stay would end by itself."""
        limit = session.visit_start + self.max_stay
        if self.closing_time is not None:
            closing = self.next_closing(session.visit_start)
            if closing <= limit:
                return closing, "closing"
        return limit, "max_stay"

    def next_closing(self, after: datetime) -> datetime:
        """The first closing time strictly after ``after``."""
        assert self.closing_time is not None
        local = after.astimezone(self.timezone)
        day = local.date()
        for offset in range(3):
            candidate = datetime.combine(
                day + timedelta(days=offset), self.closing_time, self.timezone
            )
            if candidate > local:
                return candidate.astimezone(after.tzinfo)
        raise AssertionError("a closing time comes within three days")  # pragma: no cover


@dataclass(frozen=True)
class Step:
    """What one movement (or the passing of time) did."""

    closed: Session | None = None
    opened: Session | None = None


def expire(current: Session | None, now: datetime, rules: PresenceRules) -> Session | None:
    """``current`` ended automatically, if its stay ran out by ``now``; else None."""
    if current is None:
        return None
    at, reason = rules.automatic_end(current)
    return current.end(at, reason) if at <= now else None


def step(current: Session | None, move: Movement) -> Step:
    """Apply one movement to the member's open session (already expired where due)."""
    if move.direction == "out" or (move.direction == "toggle" and current is not None):
        if current is None:
            return Step()
        reason: EndReason = move.reason or ("exit" if move.direction == "out" else "toggle")
        return Step(closed=current.end(move.ts, reason, move.event_id))
    if current is not None and (current.zone_id, current.room_id) == (move.zone_id, move.room_id):
        return Step()  # tapped again where they already are
    opened = Session(
        member_id=move.member_id,
        zone_id=move.zone_id,
        room_id=move.room_id,
        started_at=move.ts,
        visit_start=current.visit_start if current is not None else move.ts,
        start_event=move.event_id,
    )
    closed = current.end(move.ts, "moved", move.event_id) if current is not None else None
    return Step(closed=closed, opened=opened)


def advance(
    current: Session | None, move: Movement, rules: PresenceRules
) -> tuple[list[Session], Session | None]:
    """Expire ``current`` if due by the movement's time, then apply it.

    Returns the sessions that ended and the open session afterwards.
    """
    ended: list[Session] = []
    expired = expire(current, move.ts, rules)
    if expired is not None:
        ended.append(expired)
        current = None
    result = step(current, move)
    if result.closed is not None:
        ended.append(result.closed)
        current = None
    if result.opened is not None:
        current = result.opened
    return ended, current


def replay(
    moves: Iterable[Movement], rules: PresenceRules, now: datetime, start: Session | None = None
) -> list[Session]:
    """Every session that ``moves`` (in any order) make, from ``start``, as of ``now``."""
    sessions: list[Session] = []
    current = start
    for move in sorted(moves, key=lambda m: (m.ts, m.event_id or "")):
        ended, current = advance(current, move, rules)
        sessions.extend(ended)
    expired = expire(current, now, rules)
    if expired is not None:
        sessions.append(expired)
    elif current is not None:
        sessions.append(current)
    return sessions
