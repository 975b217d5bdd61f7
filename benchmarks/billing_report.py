"""The monthly billing report for 40 organisations over a year of room bookings.

The store (``Store.open`` on a file, ``Europe/Stockholm``) holds 40
organisations, 200 members (195 in an organisation, 5 in none) and 4
rooms with an hourly and an out-of-hours rate. Every day of 2026 each room
is booked from 07:00 to midnight local time in bookings of 15 to 90
minutes with short gaps (about 28,000 bookings; one in 20 cancelled), each
priced by ``hub_server.pricing`` with the default office hours and the
Swedish holidays, and written in one transaction (newest first: the
schema's overlap trigger then looks at few rows per insert).

Measured, each ``count`` times after one unmeasured call:

- ``monthly``: ``billing.monthly`` and ``billing.summary_csv`` of each of
  the 12 months (per month, and all months together);
- ``detail_busiest``: ``billing.detail`` and ``billing.detail_csv`` of the
  month with the most bookings;
- ``book`` (reported only): ``bookings.book`` of a new booking into that
  year of history (the clash check, the trigger, the price, the audit);
- ``room_windows`` (reported only): every room's window at midday.

Target: p95 of ``monthly`` and ``detail_busiest`` at most **100 ms**, the
budget of a dashboard page.
"""

import random
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

from benchmarks.common import BenchmarkError, Result, main_pinned, percentile, pinned
from benchmarks.door_common import ms_summary
from hub_server import billing, bookings
from hub_server.bookings import BookingIn
from hub_server.config import CommunitySection
from hub_server.errors import HubError
from hub_server.models import build
from hub_server.pricing import price
from hub_server.store import Store, now_text

DEFAULT_COUNT = 20
TARGET_P95_MS = 100.0
TIMEZONE = "Europe/Stockholm"
YEAR = 2026
ORGANISATIONS = 40
MEMBERS = 200
WITHOUT_ORGANISATION = 5
ROOMS = (  # id, name, hourly, out of hours (cents)
    ("lookout", "Lookout", 45_000, 60_000),
    ("national-park", "National park", 90_000, None),
    ("rest-stop", "Rest stop", 20_000, 25_000),
    ("campfire", "Campfire circle", 30_000, 30_000),
)
HOLIDAYS = tuple(
    date.fromisoformat(day)
    for day in (
        "2026-01-01", "2026-01-06", "2026-04-03", "2026-04-06", "2026-05-01", "2026-05-14",
        "2026-06-06", "2026-06-19", "2026-12-24", "2026-12-25", "2026-12-26", "2026-12-31",
    )
)  # fmt: skip
LENGTHS = (15, 30, 30, 45, 60, 60, 90)
GAPS = (0, 0, 0, 15, 15)
FIRST_MINUTE = 7 * 60
CANCELLED_ONE_IN = 20
MIDDAY = datetime(YEAR, 6, 10, 10, tzinfo=UTC)
"""When ``room_windows`` is asked: a Wednesday at noon, local time."""
SEED = 20261201
ACTOR = "bench"


def run(count: int = DEFAULT_COUNT, pin: bool = True) -> Result:
    """Build the year, then time the reports ``count`` times each."""
    result: Result = {
        "benchmark": "billing_report",
        "count": count,
        "how": "Store.open on a file, the billing functions called in this process",
        "target_p95_ms": TARGET_P95_MS,
    }
    started = time.perf_counter()
    try:
        with (
            tempfile.TemporaryDirectory(prefix="hubtap-billing-") as workdir,
            Store.open(Path(workdir) / "hub.sqlite3") as store,
        ):
            result["store"] = _populate(store)
            with pinned(pin) as cpus:
                result["cpus"] = cpus
                result.update(_measure(store, count))
    except (BenchmarkError, HubError, OSError) as err:
        result.update(error=f"{type(err).__name__}: {err}", meets_target=False)
        return result
    result["meets_target"] = (
        result["monthly"]["all"]["p95_ms"] <= TARGET_P95_MS
        and result["detail_busiest"]["p95_ms"] <= TARGET_P95_MS
    )
    result["duration_s"] = round(time.perf_counter() - started, 1)
    return result


# --- the year ---------------------------------------------------------------------------


def _populate(store: Store) -> dict[str, int | float]:
    started = time.perf_counter()
    rng = random.Random(SEED)
    stamp = now_text(datetime(YEAR - 1, 12, 1, tzinfo=UTC))
    organisations = [(f"o-{n:02d}", f"Organisation {n:02d}") for n in range(ORGANISATIONS)]
    members = [
        (f"m-{n:03d}", None if n < WITHOUT_ORGANISATION else organisations[n % ORGANISATIONS][0])
        for n in range(MEMBERS)
    ]
    rows = sorted(_bookings(rng, members), key=lambda row: str(row[4]), reverse=True)
    with store.write() as db:
        db.conn.executemany(
            "INSERT INTO organisations (id, name, name_key, created_at) VALUES (?, ?, ?, ?)",
            [(i, name, name.casefold(), stamp) for i, name in organisations],
        )
        db.conn.executemany(
            "INSERT INTO members (id, first_name, last_name, organisation_id, created_at,"
            " updated_at) VALUES (?, ?, 'Bench', ?, ?, ?)",
            [(i, f"First{i[2:]}", org, stamp, stamp) for i, org in members],
        )
        db.conn.executemany(
            "INSERT INTO rooms (id, name, capacity, hourly_rate_cents, out_of_hours_rate_cents,"
            " created_at) VALUES (?, ?, 10, ?, ?, ?)",
            [(*room, stamp) for room in ROOMS],
        )
        db.conn.executemany(
            "INSERT INTO holidays (day) VALUES (?)", [(d.isoformat(),) for d in HOLIDAYS]
        )
        db.conn.executemany(
            "INSERT INTO bookings (id, room_id, member_id, organisation_id, starts_at, ends_at,"
            " status, office_minutes, off_hours_minutes, amount_cents, source, created_by,"
            " created_at, cancelled_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'dashboard', ?,"
            " ?, ?)",
            rows,
        )
    return {
        "organisations": ORGANISATIONS,
        "members": MEMBERS,
        "rooms": len(ROOMS),
        "bookings": len(rows),
        "cancelled": sum(1 for row in rows if row[6] == "cancelled"),
        "build_s": round(time.perf_counter() - started, 1),
    }


def _bookings(
    rng: random.Random, members: list[tuple[str, str | None]]
) -> Iterator[tuple[object, ...]]:
    """Rows of the year's bookings, room by room and day by day."""
    zone = ZoneInfo(TIMEZONE)
    office = CommunitySection().office_schedule()
    stamp = now_text(datetime(YEAR - 1, 12, 1, tzinfo=UTC))
    day = date(YEAR, 1, 1)
    while day.year == YEAR:
        midnight = datetime.combine(day, clock(), tzinfo=zone)
        for room_id, _, hourly, off in ROOMS:
            minute = FIRST_MINUTE + rng.choice(GAPS)
            while minute < 24 * 60:
                length = min(rng.choice(LENGTHS), 24 * 60 - minute)
                # local wall-clock minutes from midnight, then real (UTC) times
                start = (midnight + timedelta(minutes=minute)).astimezone(UTC)
                end = start + timedelta(minutes=length)
                cost = price(
                    start,
                    end,
                    hourly_rate_cents=hourly,
                    out_of_hours_rate_cents=off,
                    office=office,
                    holidays=HOLIDAYS,
                    timezone=TIMEZONE,
                )
                member_id, org_id = rng.choice(members)
                cancelled = rng.randrange(CANCELLED_ONE_IN) == 0
                yield (
                    f"b-{rng.getrandbits(48):012x}", room_id, member_id, org_id,
                    now_text(start), now_text(end), "cancelled" if cancelled else "booked",
                    cost.office_minutes, cost.off_hours_minutes, cost.amount_cents, ACTOR, stamp,
                    stamp if cancelled else None,
                )  # fmt: skip
                minute += length + rng.choice(GAPS)
        day += timedelta(days=1)


# --- measuring --------------------------------------------------------------------------


def _measure(store: Store, count: int) -> Result:
    months = [f"{YEAR}-{month:02d}" for month in range(1, 13)]
    per_month: dict[str, dict[str, float | int]] = {}
    every: list[float] = []
    sizes: dict[str, int] = {}
    for month in months:
        seconds = _times(partial(_summary, store, month), count)
        per_month[month] = _summary_ms(seconds)
        every += seconds
        sizes[month] = sum(b.bookings for b in billing.monthly(store, month, TIMEZONE).lines)
    busiest = max(months, key=lambda m: sizes[m])
    detail: Result = {
        **_summary_ms(_times(partial(_detail, store, busiest), count)),
        "month": busiest,
        "bookings": sizes[busiest],
    }
    return {
        "monthly": {"all": _summary_ms(every), "per_month": per_month},
        "detail_busiest": detail,
        "book": _summary_ms(_book_times(store, count)),
        "room_windows": _summary_ms(_times(partial(bookings.room_windows, store, MIDDAY), count)),
    }


def _summary(store: Store, month: str) -> None:
    report = billing.monthly(store, month, TIMEZONE)
    if len(report.lines) != ORGANISATIONS + 1:
        raise BenchmarkError(f"{month}: {len(report.lines)} lines, not {ORGANISATIONS + 1}")
    billing.summary_csv(report)


def _detail(store: Store, month: str) -> None:
    billing.detail_csv(billing.detail(store, month, TIMEZONE))


def _book_times(store: Store, count: int) -> list[float]:
    """Book ``count`` new hours in 2027 (after the year), each timed, plus one unmeasured."""
    now = datetime(YEAR + 1, 1, 1, tzinfo=UTC)
    seconds = []
    for n in range(count + 1):
        data = build(
            BookingIn,
            room_id=ROOMS[n % len(ROOMS)][0],
            member_id="m-100",
            starts_at=now + timedelta(hours=1 + n),
            minutes=60,
        )
        started = time.perf_counter()
        bookings.book(
            store,
            data,
            actor=ACTOR,
            source="api",
            community=CommunitySection(),
            timezone=TIMEZONE,
            now=now,
        )
        if n:
            seconds.append(time.perf_counter() - started)
    return seconds


def _times(call: Callable[[], object], count: int) -> list[float]:
    call()  # once unmeasured: pages of the database cached
    seconds = []
    for _ in range(count):
        started = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - started)
    return seconds


def _summary_ms(seconds: list[float]) -> dict[str, float | int]:
    summary = ms_summary(seconds)
    summary["p95_ms"] = round(percentile(sorted(seconds), 0.95) * 1e3, 3)
    return summary


def main() -> int:
    """Run alone: ``python -m benchmarks.billing_report [--count N] [--no-pin]``."""
    return main_pinned(run, __doc__, DEFAULT_COUNT, "calls per measurement")


if __name__ == "__main__":
    raise SystemExit(main())
