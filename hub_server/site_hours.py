"""Hours on site: how long members were in within a period, per member and per organisation.

Presence keeps one row per zone stay; the stays of one visit share
``visit_start``. A visit lasts from ``visit_start`` to the latest end of its
stays (a stay still open counts up to ``now``), so moving between zones, or
stays that overlap, count once. Each visit is clipped to the period
``[start, end)``, and a member's visits are merged before they are summed, so
no second is counted twice. Months are calendar months in the hub's time
zone (:func:`month_period`: local midnights, right across a DST change).

Hours count for the organisation a member belongs to now.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from hub_server.errors import Invalid
from hub_server.store import Store, now_text
from hublink.messages import utcnow

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
FIRST_YEAR = 1970
LAST_YEAR = 9998
"""Months outside these years are refused (their bounds would leave ``datetime``'s range)."""

Interval = tuple[datetime, datetime]


# --- months ------------------------------------------------------------------


def parse_month(text: str) -> date:
    """``YYYY-MM`` as the first day of that month; :class:`Invalid` for ``month`` otherwise."""
    found = _MONTH.fullmatch(text.strip())
    if found is None:
        raise Invalid("month", f"{text[:20]!r} is not a month (YYYY-MM, e.g. 2026-11)")
    year, month = int(found.group(1)), int(found.group(2))
    if not 1 <= month <= 12:
        raise Invalid("month", f"{text!r} has no month {month}")
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise Invalid("month", f"must be between {FIRST_YEAR}-01 and {LAST_YEAR}-12")
    return date(year, month, 1)


def month_of(when: datetime, zone: ZoneInfo) -> date:
    """The first day of the local month ``when`` falls in."""
    return when.astimezone(zone).date().replace(day=1)


def shift_month(month: date, months: int) -> date:
    """The first day of the month ``months`` after (or before, if negative) ``month``."""
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_period(month: date, zone: ZoneInfo) -> Interval:
    """The month of ``month`` as UTC times ``[start, end)``: from local midnight to local midnight.

    In a month where the clocks change the period is an hour shorter or longer
    than its days times 24 hours.
    """
    start = datetime.combine(month.replace(day=1), time(), tzinfo=zone)
    end = datetime.combine(shift_month(month, 1), time(), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


# --- hours -------------------------------------------------------------------


def covered_seconds(intervals: Iterable[Interval], start: datetime, end: datetime) -> float:
    """Seconds of ``[start, end)`` inside at least one of ``intervals`` (overlaps count once)."""
    clipped = sorted(
        (max(a, start), min(b, end)) for a, b in intervals if min(b, end) > max(a, start)
    )
    total = 0.0
    current: Interval | None = None
    for a, b in clipped:
        if current is not None and a <= current[1]:
            current = (current[0], max(current[1], b))
            continue
        if current is not None:
            total += (current[1] - current[0]).total_seconds()
        current = (a, b)
    if current is not None:
        total += (current[1] - current[0]).total_seconds()
    return total


def visits(
    store: Store,
    start: datetime,
    end: datetime,
    *,
    now: datetime | None = None,
    organisation_id: str | None = None,
) -> dict[str, list[Interval]]:
    """Each member's visits that touch ``[start, end)`` (unclipped), optionally of one organisation.

    A visit runs from its ``visit_start`` to the latest end of its stays, an
    open stay ending at ``now``.
    """
    now_at = now_text(now or utcnow())
    sql = (
        "SELECT member_id, visit_start, max(coalesce(ended_at, ?)) AS visit_end FROM presence"
        " WHERE visit_start < ? AND (ended_at IS NULL OR ended_at > ?)"
    )
    params: list[str] = [now_at, now_text(end), now_text(start)]
    if organisation_id is not None:
        sql += " AND member_id IN (SELECT id FROM members WHERE organisation_id = ?)"
        params.append(organisation_id)
    found: dict[str, list[Interval]] = {}
    for row in store.query(sql + " GROUP BY member_id, visit_start", params):
        began = datetime.fromisoformat(row["visit_start"])
        ended = datetime.fromisoformat(row["visit_end"])
        found.setdefault(row["member_id"], []).append((began, ended))
    return found


def member_seconds(
    store: Store,
    start: datetime,
    end: datetime,
    *,
    now: datetime | None = None,
    organisation_id: str | None = None,
) -> dict[str, float]:
    """Seconds on site in ``[start, end)`` per member in it, optionally of one organisation."""
    return {
        member_id: seconds
        for member_id, spans in visits(
            store, start, end, now=now, organisation_id=organisation_id
        ).items()
        if (seconds := covered_seconds(spans, start, end)) > 0
    }


def organisation_seconds(
    store: Store, start: datetime, end: datetime, *, now: datetime | None = None
) -> dict[str | None, float]:
    """Seconds on site in ``[start, end)`` per organisation; ``None`` sums members without one."""
    per_member = member_seconds(store, start, end, now=now)
    if not per_member:
        return {}
    rows = store.query("SELECT id, organisation_id FROM members")
    organisation = {row["id"]: row["organisation_id"] for row in rows}
    totals: dict[str | None, float] = {}
    for member_id, seconds in per_member.items():
        key = organisation.get(member_id)
        totals[key] = totals.get(key, 0.0) + seconds
    return totals


@dataclass(frozen=True)
class MemberHours:
    """A member of an organisation and their time on site in a period."""

    member_id: str
    first_name: str
    last_name: str
    status: str
    seconds: float

    @property
    def hours(self) -> float:
        """The time on site in hours."""
        return self.seconds / 3600


def organisation_members(
    store: Store,
    organisation_id: str,
    start: datetime,
    end: datetime,
    *,
    now: datetime | None = None,
) -> list[MemberHours]:
    """Every member of the organisation (any status), by name, with their seconds in the period."""
    seconds = member_seconds(store, start, end, now=now, organisation_id=organisation_id)
    rows = store.query(
        "SELECT id, first_name, last_name, status FROM members WHERE organisation_id = ?"
        " ORDER BY last_name COLLATE NOCASE, first_name COLLATE NOCASE, id",
        (organisation_id,),
    )
    return [
        MemberHours(
            member_id=row["id"],
            first_name=row["first_name"],
            last_name=row["last_name"],
            status=row["status"],
            seconds=seconds.get(row["id"], 0.0),
        )
        for row in rows
    ]
