"""Occupancy history: distinct people per local hour, DST days, weekday × hour averages."""

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from hub_server import occupancy_history as history
from hub_server.errors import Invalid
from hub_server.store import Store, now_text

UTC_TZ = ZoneInfo("UTC")
STOCKHOLM = ZoneInfo("Europe/Stockholm")
LATER = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
"""A ``now`` well after every stay the tests record."""


@pytest.fixture
def store():
    with Store.memory() as store:
        yield store


def utc(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def local(tz: ZoneInfo, *parts: int, fold: int = 0) -> datetime:
    return datetime(*parts, tzinfo=tz, fold=fold).astimezone(UTC)


def record(
    store: Store,
    member: str,
    zone: str | None,
    start: datetime,
    end: datetime | None,
) -> None:
    with store.write() as db:
        db.execute(
            "INSERT INTO presence (member_id, zone_id, room_id, started_at, visit_start,"
            " ended_at) VALUES (?, ?, NULL, ?, ?, ?)",
            (member, zone, now_text(start), now_text(start), end and now_text(end)),
        )


def by_local_hour(counts: dict[datetime, int], tz: ZoneInfo) -> dict[int, int]:
    """Counts keyed by local hour (for days without a repeated hour)."""
    keyed = {start.astimezone(tz).hour: people for start, people in counts.items()}
    assert len(keyed) == len(counts)
    return keyed


DAY = date(2026, 11, 10)


def test_a_stay_counts_in_every_hour_it_overlaps(store):
    record(store, "m-asa", "campfire", utc(DAY, 9, 30), utc(DAY, 12, 15))
    counts = by_local_hour(history.hourly(store, None, DAY, 1, tz=UTC_TZ, now=LATER), UTC_TZ)
    assert len(counts) == 24
    assert [counts[h] for h in range(8, 14)] == [0, 1, 1, 1, 1, 0]
    assert sum(counts.values()) == 4


def test_a_stay_ending_on_the_hour_does_not_count_in_the_next(store):
    record(store, "m-asa", "campfire", utc(DAY, 9, 0), utc(DAY, 11, 0))
    counts = by_local_hour(history.hourly(store, None, DAY, 1, tz=UTC_TZ, now=LATER), UTC_TZ)
    assert [counts[h] for h in (8, 9, 10, 11)] == [0, 1, 1, 0]


def test_a_stay_that_began_days_before_counts(store):
    record(store, "m-asa", "campfire", utc(DAY, 9) - timedelta(days=3), utc(DAY, 2, 30))
    counts = by_local_hour(history.hourly(store, None, DAY, 1, tz=UTC_TZ, now=LATER), UTC_TZ)
    assert [counts[h] for h in range(4)] == [1, 1, 1, 0]


def test_moving_between_zones_counts_once_on_the_site_and_once_in_each_zone(store):
    record(store, "m-asa", "campfire", utc(DAY, 10, 0), utc(DAY, 10, 20))
    record(store, "m-asa", "glade", utc(DAY, 10, 20), utc(DAY, 11, 40))
    record(store, "m-bjorn", "glade", utc(DAY, 10, 30), utc(DAY, 10, 45))

    def hours(zone_id: str | None) -> list[int]:
        counts = history.hourly(store, zone_id, DAY, 1, tz=UTC_TZ, now=LATER)
        return [by_local_hour(counts, UTC_TZ)[h] for h in (9, 10, 11, 12)]

    assert hours(None) == [0, 2, 1, 0]
    assert hours("campfire") == [0, 1, 0, 0]
    assert hours("glade") == [0, 2, 1, 0]
    assert hours("nowhere") == [0, 0, 0, 0]


def test_an_open_stay_counts_up_to_now_and_not_beyond(store):
    now = utc(DAY, 10, 30)
    record(store, "m-asa", "campfire", utc(DAY, 8, 10), None)
    counts = by_local_hour(history.hourly(store, None, DAY, 1, tz=UTC_TZ, now=now), UTC_TZ)
    assert [counts[h] for h in (7, 8, 9, 10, 11, 12)] == [0, 1, 1, 1, 0, 0]
    hours = history.day_hours(store, None, DAY, tz=UTC_TZ, now=now)
    assert [(h.label, h.people, h.future) for h in hours[10:12]] == [
        ("10", 1, False),
        ("11", 0, True),
    ]


def test_an_open_stay_that_began_after_now_counts_nowhere(store):
    record(store, "m-asa", "campfire", utc(DAY, 11), None)
    counts = history.hourly(store, None, DAY, 1, tz=UTC_TZ, now=utc(DAY, 10))
    assert sum(counts.values()) == 0


def test_stays_across_midnight_count_on_both_local_days(store):
    record(
        store,
        "m-asa",
        "campfire",
        local(STOCKHOLM, 2026, 11, 10, 22, 30),
        local(STOCKHOLM, 2026, 11, 11, 1, 30),
    )
    first = by_local_hour(history.hourly(store, None, DAY, 1, tz=STOCKHOLM, now=LATER), STOCKHOLM)
    second = by_local_hour(
        history.hourly(store, None, DAY + timedelta(days=1), 1, tz=STOCKHOLM, now=LATER),
        STOCKHOLM,
    )
    assert [first[h] for h in (21, 22, 23)] == [0, 1, 1]
    assert [second[h] for h in (0, 1, 2)] == [1, 1, 0]
    both = history.hourly(store, None, DAY, 2, tz=STOCKHOLM, now=LATER)
    assert len(both) == 48
    assert sum(both.values()) == 4


def test_the_spring_dst_day_has_23_hours_without_two_oclock(store):
    spring = date(2026, 3, 29)
    # 01:30 CET to 03:30 CEST is one real hour, across the jump
    record(
        store,
        "m-asa",
        "campfire",
        local(STOCKHOLM, 2026, 3, 29, 1, 30),
        local(STOCKHOLM, 2026, 3, 29, 3, 30),
    )
    hours = history.day_hours(store, None, spring, tz=STOCKHOLM, now=LATER)
    assert len(hours) == 23
    assert [h.label for h in hours[:4]] == ["00", "01", "03", "04"]
    assert [h.people for h in hours[:4]] == [0, 1, 1, 0]
    assert hours[1].span == "01:00 CET–03:00 CEST"


def test_the_autumn_dst_day_has_25_hours_with_two_oclock_twice(store):
    autumn = date(2026, 10, 25)
    # 02:15–02:45 the second time (CET, after the clocks went back): 01:15–01:45 UTC
    record(store, "m-asa", "campfire", utc(autumn, 1, 15), utc(autumn, 1, 45))
    hours = history.day_hours(store, None, autumn, tz=STOCKHOLM, now=LATER)
    assert len(hours) == 25
    assert [h.label for h in hours[1:5]] == ["01", "02", "02", "03"]
    assert [h.people for h in hours[1:5]] == [0, 0, 1, 0]
    assert [h.span for h in hours[2:4]] == ["02:00 CEST–02:00 CET", "02:00 CET–03:00 CET"]


def test_the_repeated_autumn_hour_averages_as_the_busier_of_its_two_hours(store):
    autumn = date(2026, 10, 25)  # a Sunday
    for member in ("a", "b"):  # the first 02:00 (CEST) is 00:00–01:00 UTC
        record(store, member, "campfire", utc(autumn, 0, 10), utc(autumn, 0, 50))
    for member in ("c", "d", "e"):  # the second (CET) is 01:00–02:00 UTC
        record(store, member, "campfire", utc(autumn, 1, 10), utc(autumn, 1, 50))
    counts = history.hourly(store, None, autumn, 1, tz=STOCKHOLM, now=LATER)
    averages = history.average_by_weekday_hour(counts, STOCKHOLM)
    assert averages[(6, 2)] == 3.0
    assert averages[(6, 1)] == 0.0
    assert len(averages) == 24


def test_the_missing_spring_hour_averages_over_the_weeks_that_have_it(store):
    before = date(2026, 4, 6)  # a Monday: the 8 weeks from 2026-02-09 include 2026-03-29
    first, days = history.averages_window(before)
    assert (first, days) == (date(2026, 2, 9), 56)
    sundays = [first + timedelta(days=6 + 7 * week) for week in range(8)]
    assert date(2026, 3, 29) in sundays
    for sunday in sundays:
        if sunday != date(2026, 3, 29):
            start = local(STOCKHOLM, sunday.year, sunday.month, sunday.day, 2, 10)
            record(store, "m-asa", "campfire", start, start + timedelta(minutes=40))
    averages = history.weekday_hour_average(store, None, before, tz=STOCKHOLM, now=LATER)
    assert averages[(6, 2)] == 1.0  # 7 of 7 occurrences, not 7 of 8
    assert averages[(6, 3)] == 0.0
    assert averages[(5, 2)] == 0.0


def test_one_person_on_four_of_eight_tuesdays_averages_a_half(store):
    before = date(2026, 11, 25)  # a Wednesday
    first, _ = history.averages_window(before)
    tuesdays = [first + timedelta(days=(1 - first.weekday()) % 7 + 7 * week) for week in range(8)]
    assert all(day.weekday() == 1 and first <= day < before for day in tuesdays)
    for tuesday in tuesdays[::2]:
        start = local(STOCKHOLM, tuesday.year, tuesday.month, tuesday.day, 10)
        record(store, "m-asa", "campfire", start, start + timedelta(hours=1))
    averages = history.weekday_hour_average(store, None, before, tz=STOCKHOLM, now=LATER)
    assert averages[(1, 10)] == 0.5
    assert averages[(1, 9)] == 0.0
    assert averages[(1, 11)] == 0.0  # it ended at 11:00 sharp
    assert averages[(2, 10)] == 0.0
    in_other_zone = history.weekday_hour_average(store, "glade", before, tz=STOCKHOLM, now=LATER)
    assert in_other_zone[(1, 10)] == 0.0


def test_the_window_leaves_out_the_chosen_day(store):
    before = date(2026, 11, 24)  # a Tuesday
    start = local(STOCKHOLM, 2026, 11, 24, 10)
    record(store, "m-asa", "campfire", start, start + timedelta(hours=1))
    averages = history.weekday_hour_average(store, None, before, tz=STOCKHOLM, now=LATER)
    assert averages[(1, 10)] == 0.0
    after = history.weekday_hour_average(
        store, None, before + timedelta(days=1), tz=STOCKHOLM, now=LATER
    )
    assert after[(1, 10)] == 1 / 8


def test_an_empty_store_gives_zeros(store):
    counts = history.hourly(store, None, DAY, 1, tz=STOCKHOLM, now=LATER)
    assert len(counts) == 24
    assert set(counts.values()) == {0}
    averages = history.weekday_hour_average(store, None, DAY, tz=STOCKHOLM, now=LATER)
    assert len(averages) == 7 * 24
    assert set(averages.values()) == {0.0}


def test_keys_are_utc_hour_starts_from_local_midnight(store):
    counts = history.hourly(store, None, DAY, 1, tz=STOCKHOLM, now=LATER)
    starts = list(counts)
    assert starts[0] == datetime(2026, 11, 9, 23, 0, tzinfo=UTC)
    assert all(b - a == timedelta(hours=1) for a, b in pairwise(starts))


@pytest.mark.parametrize(
    ("text", "expected"),
    [("", date(2026, 11, 25)), (" 2026-11-01 ", date(2026, 11, 1)), ("2026-11-10", DAY)],
)
def test_the_chosen_day_defaults_to_today(text, expected):
    assert history.chosen_day(text, date(2026, 11, 25)) == expected


@pytest.mark.parametrize("text", ["yesterday", "2026-13-01", "2026-11-26", "1999-12-31", "9" * 40])
def test_a_bad_day_is_invalid_and_names_the_field(text):
    with pytest.raises(Invalid) as caught:
        history.chosen_day(text, date(2026, 11, 25))
    assert caught.value.field == "day"
