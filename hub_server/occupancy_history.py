"""Occupancy history: how many people were in, hour by hour, from the recorded stays.

Counts only, never names. A person counts in an hour when one of their stays
(a row of ``presence``) overlaps it: site-wide a person counts once however
many zones they passed through in that hour; for a zone, people with a stay
in that zone overlapping the hour. A stay still open counts up to ``now``
and not beyond.

Hours are the site's local hours (``[hub] timezone``), stepped in real
hours from local midnight, so a day has 23 or 25 of them when the clocks
change. (Zones whose clocks move by half an hour are not catered for.)

Daylight saving in the weekday × hour averages: hours are keyed by their
local wall-clock hour. On the spring day the missing hour has no occurrence
that day, so its average is over the other weeks only (7 of 8). On the
autumn day the repeated hour counts once, as the busier of its two real
hours, so every cell stays an average of one-hour counts.

Anonymous aggregates: :func:`hourly` gives ``{UTC hour start: people}`` for
the site or one zone, and the averages are computed from those counts alone
(:func:`average_by_weekday_hour`). Retention (:mod:`hub_server.retention`)
folds old hours with :func:`fold`: it stores each hour's count per zone and
for the site (``occupancy_hourly``; no row is 0) and moves the mark
:data:`FOLDED_MARK` on, in one transaction; only then are stays that ended
before the mark deleted. :func:`hourly` reads the stored counts for hours
before the mark and counts the stays from it on, so the charts read the same
before and after.
"""

import math
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlite_utils

from hub_server import marks
from hub_server.errors import Invalid
from hub_server.store import Store, now_text, parse_time

HOUR = timedelta(hours=1)
LONGEST_STAY = timedelta(days=7)
"""How far before a window a stay overlapping it may have started (``max_stay_h`` ≤ 168)."""

WEEKS = 8
"""Weeks the weekday × hour averages cover."""

EARLIEST_DAY = date(2000, 1, 1)
"""The earliest day the charts accept."""

FOLDED_MARK = "occupancy_folded_until"
"""The ``marks`` row saying up to which UTC hour ``occupancy_hourly`` holds the counts."""

SITE = ""
"""``occupancy_hourly.zone_id`` of the whole site."""

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

_STAYS = (
    "SELECT member_id, started_at, ended_at FROM presence"
    " WHERE started_at >= ? AND started_at < ? AND (ended_at IS NULL OR ended_at >= ?)"
    " AND (? IS NULL OR zone_id = ?)"
)


@dataclass(frozen=True)
class Stay:
    """A member somewhere from ``started_at`` to ``ended_at`` (``None``: still in)."""

    member_id: str
    started_at: datetime
    ended_at: datetime | None


@dataclass(frozen=True)
class HourCount:
    """People in during one local hour of a day, for the day chart."""

    start: datetime
    """The hour's start in UTC."""
    label: str
    """The local hour, ``"09"``."""
    span: str
    """The local hours it runs between, ``"09:00–10:00"`` (with zone names on a DST day)."""
    people: int
    future: bool
    """The hour has not begun yet (``people`` is 0)."""


def day_start(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant the local ``day`` begins."""
    return datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)


def hour_starts(first_day: date, days: int, tz: ZoneInfo) -> list[datetime]:
    """The UTC starts of the local hours of ``days`` days from ``first_day``, in order."""
    start = day_start(first_day, tz)
    end = day_start(first_day + timedelta(days=days), tz)
    return [start + i * HOUR for i in range(math.ceil((end - start) / HOUR))]


Reader = Store | sqlite_utils.Database | sqlite3.Connection
"""The store (its reading connection), the database inside a write, or a connection."""


def stays(store: Reader, start: datetime, end: datetime, zone_id: str | None) -> list[Stay]:
    """The stays (in ``zone_id``, or anywhere) that may overlap ``[start, end)``; one query.

    It selects on ``started_at`` (indexed) from :data:`LONGEST_STAY` before
    ``start``; :func:`people_by_hour` drops what does not overlap.
    """
    rows = _conn(store).execute(
        _STAYS,
        (now_text(start - LONGEST_STAY), now_text(end), now_text(start), zone_id, zone_id),
    )
    return [
        Stay(row["member_id"], _time(row["started_at"]), parse_time(row["ended_at"]))
        for row in rows
    ]


def people_by_hour(stays: Sequence[Stay], hours: Sequence[datetime], now: datetime) -> list[int]:
    """Distinct people per hour of ``hours`` (consecutive UTC hour starts) over ``stays``.

    A stay counts in every hour it overlaps; one that starts and ends at the
    same instant counts in the hour it falls in. Open stays end at ``now``.
    """
    if not hours:
        return []
    start = hours[0]
    present: list[set[str]] = [set() for _ in hours]
    for stay in stays:
        ended = now if stay.ended_at is None else min(stay.ended_at, now)
        if ended < stay.started_at:
            continue  # began after now
        first = (stay.started_at - start) // HOUR
        last = max(first, -((start - ended) // HOUR) - 1)  # the hour before the one it ends at
        for index in range(max(first, 0), min(last, len(hours) - 1) + 1):
            present[index].add(stay.member_id)
    return [len(people) for people in present]


def hourly(
    store: Store,
    zone_id: str | None,
    first_day: date,
    days: int,
    *,
    tz: ZoneInfo,
    now: datetime,
) -> dict[datetime, int]:
    """People in per local hour of ``days`` days from ``first_day``, keyed by UTC hour start.

    ``zone_id`` ``None`` is the whole site. Hours after ``now`` count 0.
    """
    hours = hour_starts(first_day, days, tz)
    if not hours:
        return {}
    # The stays first, then the mark: a fold committed in between has stored the counts
    # of every hour before its mark, and the stays read before it cover every hour after.
    found = stays(store, hours[0], hours[-1] + HOUR, zone_id)
    folded = folded_until(store)
    live = [hour for hour in hours if folded is None or hour >= folded]
    counts = stored_counts(store, zone_id, hours[0], folded) if folded else {}
    counts |= dict(zip(live, people_by_hour(found, live, now), strict=True))
    return {hour: counts.get(hour, 0) for hour in hours}


def day_hours(
    store: Store, zone_id: str | None, day: date, *, tz: ZoneInfo, now: datetime
) -> list[HourCount]:
    """The local ``day`` hour by hour (23, 24 or 25 hours), for the day chart."""
    counts = hourly(store, zone_id, day, 1, tz=tz, now=now)
    offsets = {start.astimezone(tz).utcoffset() for start in counts}
    fmt = "%H:%M %Z" if len(offsets) > 1 else "%H:%M"

    def local(at: datetime) -> str:
        return at.astimezone(tz).strftime(fmt)

    return [
        HourCount(
            start=start,
            label=start.astimezone(tz).strftime("%H"),
            span=f"{local(start)}–{local(start + HOUR)}",
            people=people,
            future=start > now,
        )
        for start, people in counts.items()
    ]


def average_by_weekday_hour(
    counts: Mapping[datetime, int], tz: ZoneInfo
) -> dict[tuple[int, int], float]:
    """Average people per (weekday 0 = Monday, local hour) over hourly ``counts``.

    Each local day contributes one value per wall-clock hour it has: the
    repeated autumn hour counts once, as the larger of its two counts; the
    missing spring hour is left out of that weekday's average.
    """
    per_day: dict[tuple[date, int], int] = {}
    for start, people in counts.items():
        local = start.astimezone(tz)
        key = (local.date(), local.hour)
        per_day[key] = max(per_day.get(key, 0), people)
    totals: dict[tuple[int, int], list[int]] = {}
    for (day, hour), people in per_day.items():
        total = totals.setdefault((day.weekday(), hour), [0, 0])
        total[0] += people
        total[1] += 1
    return {key: total / occurrences for key, (total, occurrences) in totals.items()}


def weekday_hour_average(
    store: Store,
    zone_id: str | None,
    before: date,
    *,
    tz: ZoneInfo,
    now: datetime,
    weeks: int = WEEKS,
) -> dict[tuple[int, int], float]:
    """Average people per (weekday, local hour) over the ``weeks`` weeks before ``before``."""
    first, days = averages_window(before, weeks)
    return average_by_weekday_hour(hourly(store, zone_id, first, days, tz=tz, now=now), tz)


def averages_window(before: date, weeks: int = WEEKS) -> tuple[date, int]:
    """The first day and the number of days of the ``weeks`` whole weeks before ``before``."""
    return before - timedelta(weeks=weeks), 7 * weeks


def local_today(tz: ZoneInfo, now: datetime) -> date:
    """The site's date at ``now``."""
    return now.astimezone(tz).date()


def chosen_day(text: str, today: date) -> date:
    """The day ``text`` names (``YYYY-MM-DD``), ``today`` when blank; :class:`Invalid` otherwise."""
    if not text.strip():
        return today
    try:
        day = date.fromisoformat(text.strip())
    except ValueError as err:
        raise Invalid("day", "give a date as YYYY-MM-DD") from err
    if day > today:
        raise Invalid("day", "pick today or an earlier day")
    if day < EARLIEST_DAY:
        raise Invalid("day", f"pick a day from {EARLIEST_DAY.isoformat()} on")
    return day


# --- folded hours: the anonymous aggregates --------------------------------------------


def folded_until(store: Reader) -> datetime | None:
    """The UTC hour up to which the counts are stored (``None``: nothing folded yet)."""
    return parse_time(marks.get(_conn(store), FOLDED_MARK))


def stored_counts(
    store: Reader, zone_id: str | None, start: datetime, end: datetime
) -> dict[datetime, int]:
    """The stored people counts of the hours in ``[start, end)`` that have any."""
    rows = _conn(store).execute(
        "SELECT hour, people FROM occupancy_hourly WHERE zone_id = ? AND hour >= ? AND hour < ?",
        (zone_id or SITE, now_text(start), now_text(end)),
    )
    return {_time(row[0]): row[1] for row in rows}


def fold(db: sqlite_utils.Database, start: datetime, end: datetime, now: datetime) -> int:
    """Store the counts of the UTC hours ``[start, end)`` for the site and each zone with
    stays then, and move the mark to ``end``; inside the caller's write. Returns the rows
    stored. ``start`` and ``end`` are whole UTC hours; the stays are not touched."""
    hours = [start + i * HOUR for i in range((end - start) // HOUR)]
    zones = db.execute(
        "SELECT DISTINCT zone_id FROM presence WHERE started_at >= ? AND started_at < ?"
        " AND (ended_at IS NULL OR ended_at >= ?) AND zone_id IS NOT NULL",
        (now_text(start - LONGEST_STAY), now_text(end), now_text(start)),
    ).fetchall()
    rows = [
        (now_text(hour), zone_id or SITE, people)
        for zone_id in (None, *(row[0] for row in zones))
        for hour, people in zip(
            hours, people_by_hour(stays(db, start, end, zone_id), hours, now), strict=True
        )
        if people
    ]
    db.conn.executemany(
        "INSERT OR REPLACE INTO occupancy_hourly (hour, zone_id, people) VALUES (?, ?, ?)", rows
    )
    marks.put(db, FOLDED_MARK, now_text(end))
    return len(rows)


def _conn(store: Reader) -> sqlite3.Connection | sqlite_utils.Database:
    return store.read() if isinstance(store, Store) else store


def _time(value: object) -> datetime:
    parsed = parse_time(str(value))
    assert parsed is not None
    return parsed
