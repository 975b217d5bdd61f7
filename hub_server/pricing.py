"""What a room booking costs: minutes inside and outside office hours, at the room's rates.

Pure functions, no store. A booking is walked in the site's local time and
split into minutes inside the office hours (a weekly schedule; never on a
holiday, a local date) and minutes outside them. The minutes are real
elapsed minutes: a booking across a daylight-saving change counts the hour
the clocks skip not at all and the hour they repeat twice, each by the
local time it was spent in. Amounts are integer cents, rounded half up.
"""

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hublink.messages import WEEKDAYS, ScheduleSpec, time_range_minutes

DAY_MINUTES = 24 * 60
_MINUTE = timedelta(minutes=1)

Ranges = tuple[tuple[int, int], ...]
"""A day's office hours as ``(start, end)`` minutes after local midnight."""


@dataclass(frozen=True)
class Price:
    """A booking's minutes by rate and what they cost, in cents."""

    office_minutes: int
    off_hours_minutes: int
    amount_cents: int


def price(
    starts_at: datetime,
    ends_at: datetime,
    *,
    hourly_rate_cents: int,
    out_of_hours_rate_cents: int | None,
    office: ScheduleSpec,
    holidays: Collection[date],
    timezone: str,
) -> Price:
    """The price of ``[starts_at, ends_at)`` (aware, whole minutes) in the room's rates.

    Office minutes cost ``hourly_rate_cents`` an hour, the others
    ``out_of_hours_rate_cents`` (``None``: the hourly rate too); the amount
    is rounded half up to a whole cent.
    """
    office_minutes, off_minutes = split_minutes(
        starts_at, ends_at, office=office, holidays=holidays, timezone=timezone
    )
    off_rate = hourly_rate_cents if out_of_hours_rate_cents is None else out_of_hours_rate_cents
    sixtieths = office_minutes * hourly_rate_cents + off_minutes * off_rate
    return Price(office_minutes, off_minutes, divide_half_up(sixtieths, 60))


def split_minutes(
    starts_at: datetime,
    ends_at: datetime,
    *,
    office: ScheduleSpec,
    holidays: Collection[date],
    timezone: str,
) -> tuple[int, int]:
    """``(office, out of hours)`` minutes of ``[starts_at, ends_at)``; they add up to its length.

    ``ValueError`` unless both are aware, whole minutes, and the end is after the start.
    """
    for value in (starts_at, ends_at):
        if value.tzinfo is None or value.second or value.microsecond:
            raise ValueError(f"{value!r} is not an aware time in whole minutes")
    if ends_at <= starts_at:
        raise ValueError("a booking must end after it starts")
    inside = outside = 0
    for minutes, is_office in _segments(starts_at, ends_at, office, holidays, ZoneInfo(timezone)):
        if is_office:
            inside += minutes
        else:
            outside += minutes
    return inside, outside


def divide_half_up(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` (both non-negative) rounded half up, in integers."""
    return (2 * numerator + denominator) // (2 * denominator)


def format_cents(cents: int) -> str:
    """Cents as a currency-free decimal amount: ``123450`` -> ``"1234.50"``."""
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def _segments(
    starts_at: datetime,
    ends_at: datetime,
    office: ScheduleSpec,
    holidays: Collection[date],
    zone: ZoneInfo,
) -> Iterator[tuple[int, bool]]:
    """``(minutes, inside office hours)`` runs covering the booking, in order.

    Each run stays within one local day, between two office-hour boundaries
    and at one UTC offset, so everything in it is alike.
    """
    weekly = _weekly(office)
    closed = frozenset(holidays)
    at = starts_at.astimezone(UTC)
    end = ends_at.astimezone(UTC)
    while at < end:
        local = at.astimezone(zone)
        minute = local.hour * 60 + local.minute
        ranges = () if local.date() in closed else weekly[local.weekday()]
        is_office, boundary = _place(minute, ranges)
        left = int((end - at) / _MINUTE)
        step = _same_offset(at, min(boundary - minute, left), zone)
        yield step, is_office
        at += step * _MINUTE


def _weekly(office: ScheduleSpec) -> tuple[Ranges, ...]:
    """The office hours per weekday, Monday first."""
    return tuple(
        tuple(sorted(time_range_minutes(text) for text in office.weekly.get(day, ())))
        for day in WEEKDAYS
    )


def _place(minute: int, ranges: Ranges) -> tuple[bool, int]:
    """Whether ``minute`` of the day is in office hours, and the next minute that may change it."""
    inside = any(start <= minute < end for start, end in ranges)
    later = [edge for pair in ranges for edge in pair if edge > minute]
    return inside, min(later, default=DAY_MINUTES)


def _same_offset(at: datetime, minutes: int, zone: ZoneInfo) -> int:
    """How many of the ``minutes`` from ``at`` share its UTC offset (the clocks may change)."""
    offset = at.astimezone(zone).utcoffset()
    if (at + (minutes - 1) * _MINUTE).astimezone(zone).utcoffset() == offset:
        return minutes
    same, changed = 0, minutes - 1  # bisect: the first minute at another offset
    while changed - same > 1:
        middle = (same + changed) // 2
        if (at + middle * _MINUTE).astimezone(zone).utcoffset() == offset:
            same = middle
        else:
            changed = middle
    return changed
