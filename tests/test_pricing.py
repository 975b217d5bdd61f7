"""Room prices: office and out-of-hours minutes in local time, holidays, DST, rounding."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub_server.config import CommunitySection
from hub_server.pricing import Price, divide_half_up, format_cents, price, split_minutes
from hublink.messages import WEEKDAYS, ScheduleSpec, time_range_minutes

TZ = "Europe/Stockholm"
ZONE = ZoneInfo(TZ)
OFFICE = CommunitySection().office_schedule()  # mon-fri 08:00-17:00


def local(*args: int) -> datetime:
    """A local time, as UTC (so that differences are real elapsed time)."""
    return datetime(*args, tzinfo=ZONE).astimezone(UTC)  # type: ignore[misc]


def cost(
    start: datetime,
    end: datetime,
    *,
    hourly: int = 6000,
    off: int | None = 9000,
    office: ScheduleSpec = OFFICE,
    holidays: tuple[date, ...] = (),
) -> Price:
    return price(
        start,
        end,
        hourly_rate_cents=hourly,
        out_of_hours_rate_cents=off,
        office=office,
        holidays=holidays,
        timezone=TZ,
    )


def test_a_booking_inside_office_hours_costs_the_hourly_rate():
    # Tuesday 2026-12-01, 10:00-11:30
    assert cost(local(2026, 12, 1, 10), local(2026, 12, 1, 11, 30)) == Price(90, 0, 9000)


def test_a_booking_across_the_evening_boundary_is_split():
    # 16:00-18:30: one hour at 60.00, one and a half at 90.00
    assert cost(local(2026, 12, 1, 16), local(2026, 12, 1, 18, 30)) == Price(60, 90, 6000 + 13500)


def test_a_booking_across_the_morning_boundary_is_split():
    assert cost(local(2026, 12, 1, 7, 15), local(2026, 12, 1, 8, 45)) == Price(45, 45, 4500 + 6750)


def test_a_booking_covering_the_whole_office_day_and_more():
    got = cost(local(2026, 12, 1, 6), local(2026, 12, 1, 19))
    assert got == Price(9 * 60, 4 * 60, 9 * 6000 + 4 * 9000)


def test_a_night_across_midnight_into_the_next_office_day():
    # Tuesday 22:00 to Wednesday 09:00: 10 hours off, 1 hour office
    got = cost(local(2026, 12, 1, 22), local(2026, 12, 2, 9))
    assert got == Price(60, 600, 6000 + 10 * 9000)


def test_weekends_are_out_of_hours():
    # Friday 16:00 to Saturday 10:00
    got = cost(local(2026, 12, 4, 16), local(2026, 12, 5, 10))
    assert got == Price(60, 17 * 60, 6000 + 17 * 9000)


def test_a_holiday_is_out_of_hours_all_day():
    christmas_eve = date(2026, 12, 24)  # a Thursday
    got = cost(local(2026, 12, 24, 9), local(2026, 12, 24, 11), holidays=(christmas_eve,))
    assert got == Price(0, 120, 18000)
    # the day after is an ordinary Friday
    across = cost(local(2026, 12, 24, 16), local(2026, 12, 25, 9), holidays=(christmas_eve,))
    assert across == Price(60, 16 * 60, 6000 + 16 * 9000)


def test_a_holiday_is_the_local_date_not_the_utc_one():
    # 00:30 local on the holiday is still the previous day in UTC
    got = cost(local(2026, 12, 24, 0, 30), local(2026, 12, 24, 9), holidays=(date(2026, 12, 24),))
    assert got.office_minutes == 0
    got = cost(local(2026, 12, 23, 16), local(2026, 12, 24, 0, 30), holidays=(date(2026, 12, 24),))
    assert got.office_minutes == 60  # Wednesday 16-17 counts, the holiday's first half hour not


def test_no_out_of_hours_rate_means_the_hourly_rate():
    assert cost(local(2026, 12, 1, 16), local(2026, 12, 1, 18), off=None) == Price(60, 60, 12000)


def test_a_free_room_costs_nothing():
    assert (
        cost(local(2026, 12, 5, 10), local(2026, 12, 5, 12), hourly=0, off=None).amount_cents == 0
    )


def test_amounts_round_half_up_to_a_whole_cent():
    # 15 minutes at 1.02/h = 25.5 cents -> 26; at 1.01/h = 25.25 -> 25; at 1.03/h = 25.75 -> 26
    start = local(2026, 12, 1, 10)
    quarter = start + timedelta(minutes=15)
    assert cost(start, quarter, hourly=102).amount_cents == 26
    assert cost(start, quarter, hourly=101).amount_cents == 25
    assert cost(start, quarter, hourly=103).amount_cents == 26
    # 1 minute at 0.30/h = 0.5 cents -> 1; at 0.29/h -> 0
    minute = start + timedelta(minutes=1)
    assert cost(start, minute, hourly=30).amount_cents == 1
    assert cost(start, minute, hourly=29).amount_cents == 0


def test_divide_half_up_stays_exact_for_huge_integers():
    big = 10**30
    assert divide_half_up(big * 60 + 30, 60) == big + 1
    assert divide_half_up(big * 60 + 29, 60) == big


def test_format_cents():
    assert format_cents(123450) == "1234.50"
    assert format_cents(5) == "0.05"
    assert format_cents(0) == "0.00"


# --- daylight saving time in Europe/Stockholm ------------------------------------------

SUNDAYS = ScheduleSpec(id="sundays", weekly={"sun": ("00:00-02:30",)})


def test_spring_forward_counts_real_minutes_and_skips_the_missing_hour():
    # 2026-03-29: 02:00 CET jumps to 03:00 CEST. 00:00-04:00 local lasts 3 real hours;
    # the office hours 00:00-02:30 hold only 00:00-02:00, since 02:00-02:30 never happens.
    start, end = local(2026, 3, 29, 0), local(2026, 3, 29, 4)
    assert end - start == timedelta(hours=3)
    assert cost(start, end, office=SUNDAYS) == Price(120, 60, 2 * 6000 + 9000)


def test_fall_back_counts_the_repeated_hour_twice():
    # 2026-10-25: 03:00 CEST falls back to 02:00 CET. 01:00-04:00 local lasts 4 real hours;
    # the office hours 02:00-03:00 happen twice.
    office = ScheduleSpec(id="repeat", weekly={"sun": ("02:00-03:00",)})
    start, end = local(2026, 10, 25, 1), local(2026, 10, 25, 4)
    assert end - start == timedelta(hours=4)
    assert cost(start, end, office=office) == Price(120, 120, 2 * 6000 + 2 * 9000)


def test_a_booking_across_the_change_on_an_ordinary_schedule():
    # Saturday 22:00 to Monday 09:00 across the spring change: 34 real hours, 1 in the office
    start, end = local(2026, 3, 28, 22), local(2026, 3, 30, 9)
    got = cost(start, end)
    assert got.office_minutes + got.off_hours_minutes == 34 * 60
    assert got.office_minutes == 60


def test_bad_times_are_refused():
    start = local(2026, 12, 1, 10)
    with pytest.raises(ValueError, match="whole minutes"):
        cost(start + timedelta(seconds=30), start + timedelta(hours=1))
    with pytest.raises(ValueError, match="whole minutes"):
        cost(start.replace(tzinfo=None), start + timedelta(hours=1))
    with pytest.raises(ValueError, match="end after it starts"):
        cost(start, start)


# --- properties ----------------------------------------------------------------------

schedules = st.builds(
    lambda days, start, length: ScheduleSpec(
        id="any",
        weekly={day: (f"{_clock(start)}-{_clock(start + length)}",) for day in days},
    ),
    st.sets(st.sampled_from(WEEKDAYS)),
    st.integers(0, 22 * 60),
    st.integers(1, 120),
)

DST_CHANGES = [datetime(2026, 3, 29, 1, tzinfo=UTC), datetime(2026, 10, 25, 1, tzinfo=UTC)]
starts = st.one_of(
    st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31)).map(
        lambda d: d.replace(second=0, microsecond=0, tzinfo=UTC)
    ),
    st.builds(  # close to a change of the clocks
        lambda change, minutes: change + timedelta(minutes=minutes),
        st.sampled_from(DST_CHANGES),
        st.integers(-30 * 60, 30),
    ),
)


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@given(
    start=starts,
    minutes=st.integers(1, 3 * 24 * 60),
    rates=st.tuples(st.integers(0, 100_000), st.one_of(st.none(), st.integers(0, 100_000))),
    office=schedules,
    holidays=st.sets(st.dates(date(2025, 1, 1), date(2028, 12, 31)), max_size=5),
)
def test_minutes_add_up_and_the_amount_lies_between_the_rates(
    start, minutes, rates, office, holidays
):
    hourly, off = rates
    end = start + timedelta(minutes=minutes)
    got = price(
        start,
        end,
        hourly_rate_cents=hourly,
        out_of_hours_rate_cents=off,
        office=office,
        holidays=holidays,
        timezone=TZ,
    )
    assert got.office_minutes + got.off_hours_minutes == minutes
    both = (hourly, hourly if off is None else off)
    assert divide_half_up(minutes * min(both), 60) <= got.amount_cents
    assert got.amount_cents <= divide_half_up(minutes * max(both), 60)


@given(
    start=starts,
    minutes=st.integers(1, 2 * 24 * 60),
    office=schedules,
    holiday=st.one_of(st.none(), st.integers(-1, 2)),
)
def test_the_split_matches_a_minute_by_minute_walk(start, minutes, office, holiday):
    holidays = set() if holiday is None else {start.astimezone(ZONE).date() + timedelta(holiday)}
    expected = 0
    for n in range(minutes):
        at = (start + timedelta(minutes=n)).astimezone(ZONE)
        minute = at.hour * 60 + at.minute
        ranges = office.weekly.get(WEEKDAYS[at.weekday()], ())
        if at.date() not in holidays and any(
            lo <= minute < hi for lo, hi in map(time_range_minutes, ranges)
        ):
            expected += 1
    end = start + timedelta(minutes=minutes)
    got = split_minutes(start, end, office=office, holidays=holidays, timezone=TZ)
    assert got == (expected, minutes - expected)
