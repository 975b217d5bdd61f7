"""Hours on site from the presence table: visits, clipping, months in the hub's time zone."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hub_server import members, organisations, site_hours
from hub_server.errors import Invalid
from hub_server.models import MemberIn, OrganisationIn, build
from hub_server.store import Store, now_text

STOCKHOLM = ZoneInfo("Europe/Stockholm")
HOUR = 3600.0


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=STOCKHOLM)


@pytest.fixture
def store() -> Store:
    store = Store.memory()
    organisations.add(store, build(OrganisationIn, id="o-fjord", name="Fjord AB"), "test")
    organisations.add(store, build(OrganisationIn, id="o-gran", name="Gran & Co"), "test")
    for member_id, org in (("m-a", "o-fjord"), ("m-b", "o-fjord"), ("m-c", "o-gran")):
        members.add(
            store,
            build(MemberIn, id=member_id, first_name=member_id, last_name="X", organisation=org),
            "test",
        )
    members.add(store, build(MemberIn, id="m-free", first_name="Free", last_name="Lance"), "test")
    return store


def stay(
    store: Store,
    member_id: str,
    started: datetime,
    ended: datetime | None,
    *,
    visit_start: datetime | None = None,
    zone: str = "campfire",
) -> None:
    with store.write() as db:
        db.execute(
            "INSERT INTO presence (member_id, zone_id, started_at, visit_start, ended_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (
                member_id,
                zone,
                now_text(started),
                now_text(visit_start or started),
                None if ended is None else now_text(ended),
            ),
        )


def test_month_boundaries_are_local_midnights_across_dst():
    march = site_hours.month_period(date(2026, 3, 1), STOCKHOLM)
    assert march == (utc("2026-02-28T23:00"), utc("2026-03-31T22:00"))
    assert march[1] - march[0] == timedelta(days=31) - timedelta(hours=1)
    october = site_hours.month_period(date(2026, 10, 1), STOCKHOLM)
    assert october[1] - october[0] == timedelta(days=31) + timedelta(hours=1)
    december = site_hours.month_period(date(2026, 12, 1), ZoneInfo("UTC"))
    assert december == (utc("2026-12-01T00:00"), utc("2027-01-01T00:00"))


def test_month_of_and_shift_month_use_the_local_calendar():
    # 23:30 UTC on 31 March is already 1 April in Stockholm
    assert site_hours.month_of(utc("2026-03-31T23:30"), STOCKHOLM) == date(2026, 4, 1)
    assert site_hours.month_of(utc("2026-03-31T23:30"), ZoneInfo("UTC")) == date(2026, 3, 1)
    assert site_hours.shift_month(date(2026, 12, 1), 1) == date(2027, 1, 1)
    assert site_hours.shift_month(date(2026, 1, 1), -1) == date(2025, 12, 1)


@pytest.mark.parametrize(
    "text", ["2026-13", "2026-00", "26-11", "2026-1", "november", "", "0001-01"]
)
def test_a_bad_month_is_invalid(text):
    with pytest.raises(Invalid) as caught:
        site_hours.parse_month(text)
    assert caught.value.field == "month"


def test_parse_month():
    assert site_hours.parse_month("2026-11") == date(2026, 11, 1)


def test_a_visit_across_midnight_at_month_end_is_split_between_the_months(store):
    stay(store, "m-a", local("2026-03-31T22:00"), local("2026-04-01T02:30"))
    march = site_hours.month_period(date(2026, 3, 1), STOCKHOLM)
    april = site_hours.month_period(date(2026, 4, 1), STOCKHOLM)
    assert site_hours.member_seconds(store, *march) == {"m-a": 2 * HOUR}
    assert site_hours.member_seconds(store, *april) == {"m-a": 2.5 * HOUR}


def test_a_visit_at_the_start_of_a_dst_month_counts_from_local_midnight(store):
    # 23:30 local on 28 February to 00:30 local on 1 March: half an hour is March's
    stay(store, "m-a", utc("2026-02-28T22:30"), utc("2026-02-28T23:30"))
    march = site_hours.month_period(date(2026, 3, 1), STOCKHOLM)
    assert site_hours.member_seconds(store, *march) == {"m-a": 0.5 * HOUR}


def test_a_night_when_the_clocks_go_forward_has_its_real_length(store):
    # 22:00 on 28 March to 06:00 on 29 March, Stockholm: 7 hours, the clocks skip 02:00-03:00
    stay(store, "m-a", local("2026-03-28T22:00"), local("2026-03-29T06:00"))
    march = site_hours.month_period(date(2026, 3, 1), STOCKHOLM)
    assert site_hours.member_seconds(store, *march) == {"m-a": 7 * HOUR}


def test_an_open_visit_counts_up_to_now(store):
    stay(store, "m-a", utc("2026-05-10T08:00"), None)
    may = site_hours.month_period(date(2026, 5, 1), ZoneInfo("UTC"))
    now = utc("2026-05-10T11:15")
    assert site_hours.member_seconds(store, *may, now=now) == {"m-a": 3.25 * HOUR}
    # a month that ended before now only gets its part
    june = site_hours.month_period(date(2026, 6, 1), ZoneInfo("UTC"))
    later = utc("2026-06-01T02:00")
    assert site_hours.member_seconds(store, *may, now=later)["m-a"] == (16 + 24 * 21) * HOUR
    assert site_hours.member_seconds(store, *june, now=later) == {"m-a": 2 * HOUR}


def test_an_open_visit_does_not_count_in_a_month_after_now(store):
    stay(store, "m-a", utc("2026-05-10T08:00"), None)
    june = site_hours.month_period(date(2026, 6, 1), ZoneInfo("UTC"))
    assert site_hours.member_seconds(store, *june, now=utc("2026-05-10T09:00")) == {}


def test_several_zones_within_one_visit_count_once(store):
    arrived = utc("2026-05-04T08:00")
    stay(store, "m-a", arrived, utc("2026-05-04T10:00"), visit_start=arrived, zone="campfire")
    # overlapping stays of the same visit (a room inside the zone, a late tap)
    stay(
        store,
        "m-a",
        utc("2026-05-04T09:00"),
        utc("2026-05-04T12:00"),
        visit_start=arrived,
        zone="glade",
    )
    stay(
        store,
        "m-a",
        utc("2026-05-04T09:30"),
        utc("2026-05-04T11:00"),
        visit_start=arrived,
        zone="campfire",
    )
    may = site_hours.month_period(date(2026, 5, 1), ZoneInfo("UTC"))
    assert site_hours.member_seconds(store, *may) == {"m-a": 4 * HOUR}


def test_separate_visits_add_up_and_overlapping_visits_count_once(store):
    stay(store, "m-b", utc("2026-05-04T08:00"), utc("2026-05-04T09:00"))
    stay(store, "m-b", utc("2026-05-05T08:00"), utc("2026-05-05T10:00"))
    # a second visit that overlaps the first (bad data must still not double-count)
    stay(store, "m-b", utc("2026-05-05T09:00"), utc("2026-05-05T11:00"))
    may = site_hours.month_period(date(2026, 5, 1), ZoneInfo("UTC"))
    assert site_hours.member_seconds(store, *may) == {"m-b": 4 * HOUR}


def test_a_visit_whose_first_stay_ended_before_the_period_still_counts(store):
    # the visit starts in April; its first stay ends there, the second runs into May
    arrived = utc("2026-04-30T20:00")
    stay(store, "m-a", arrived, utc("2026-04-30T23:00"), visit_start=arrived)
    stay(store, "m-a", utc("2026-04-30T23:00"), utc("2026-05-01T01:00"), visit_start=arrived)
    may = site_hours.month_period(date(2026, 5, 1), ZoneInfo("UTC"))
    april = site_hours.month_period(date(2026, 4, 1), ZoneInfo("UTC"))
    assert site_hours.member_seconds(store, *may) == {"m-a": 1 * HOUR}
    assert site_hours.member_seconds(store, *april) == {"m-a": 4 * HOUR}


def test_visits_outside_the_period_do_not_count(store):
    stay(store, "m-a", utc("2026-04-02T08:00"), utc("2026-04-02T09:00"))
    stay(store, "m-a", utc("2026-06-02T08:00"), utc("2026-06-02T09:00"))
    may = site_hours.month_period(date(2026, 5, 1), ZoneInfo("UTC"))
    assert site_hours.member_seconds(store, *may) == {}


def test_hours_per_organisation_and_members_without_one(store):
    stay(store, "m-a", utc("2026-05-04T08:00"), utc("2026-05-04T10:00"))
    stay(store, "m-b", utc("2026-05-04T09:00"), utc("2026-05-04T12:00"))
    stay(store, "m-c", utc("2026-05-06T08:00"), utc("2026-05-06T08:30"))
    stay(store, "m-free", utc("2026-05-07T08:00"), utc("2026-05-07T13:00"))
    may = site_hours.month_period(date(2026, 5, 1), ZoneInfo("UTC"))
    assert site_hours.organisation_seconds(store, *may) == {
        "o-fjord": 5 * HOUR,  # two people in at once: their hours add up
        "o-gran": 0.5 * HOUR,
        None: 5 * HOUR,
    }
    assert site_hours.member_seconds(store, *may, organisation_id="o-fjord") == {
        "m-a": 2 * HOUR,
        "m-b": 3 * HOUR,
    }


def test_organisation_members_lists_everyone_with_their_hours(store):
    stay(store, "m-b", utc("2026-05-04T09:00"), utc("2026-05-04T12:00"))
    stay(store, "m-c", utc("2026-05-04T09:00"), utc("2026-05-04T12:00"))
    may = site_hours.month_period(date(2026, 5, 1), ZoneInfo("UTC"))
    listed = site_hours.organisation_members(store, "o-fjord", *may)
    assert [(m.member_id, m.hours) for m in listed] == [("m-a", 0.0), ("m-b", 3.0)]


def test_covered_seconds_merges_and_clips():
    start, end = utc("2026-05-01T00:00"), utc("2026-05-02T00:00")
    spans = [
        (utc("2026-04-30T23:00"), utc("2026-05-01T01:00")),  # clipped to 1 h
        (utc("2026-05-01T05:00"), utc("2026-05-01T07:00")),
        (utc("2026-05-01T06:00"), utc("2026-05-01T08:00")),  # overlaps: 3 h together
        (utc("2026-05-01T08:00"), utc("2026-05-01T09:00")),  # touches: 4 h together
        (utc("2026-05-01T23:30"), utc("2026-05-02T03:00")),  # clipped to 0.5 h
        (utc("2026-05-03T00:00"), utc("2026-05-03T01:00")),  # outside
    ]
    assert site_hours.covered_seconds(spans, start, end) == 5.5 * HOUR
    assert site_hours.covered_seconds([], start, end) == 0.0
