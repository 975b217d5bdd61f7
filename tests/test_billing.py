"""Monthly billing per organisation: what a month bills, totals, CSV, safety, bad months."""

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from hub_server import billing, bookings, members, organisations, places
from hub_server.billing import BillingReport, OrganisationBill
from hub_server.bookings import BookingIn
from hub_server.config import CommunitySection
from hub_server.errors import Invalid
from hub_server.models import MemberChange, MemberIn, OrganisationIn, RoomIn, build
from hub_server.store import Store, now_text
from tests.helpers.hub_data import ACTOR, seed

TZ = "Europe/Stockholm"
ZONE = ZoneInfo(TZ)
NOW = datetime(2026, 10, 1, tzinfo=UTC)
FORMULA = "=HYPERLINK(1)"


def local(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=ZONE).astimezone(UTC)


def book(store: Store, member: str, start: datetime, minutes: int = 60, room: str = "lookout"):
    data = build(BookingIn, room_id=room, member_id=member, starts_at=start, minutes=minutes)
    return bookings.book(
        store,
        data,
        actor=ACTOR,
        source="dashboard",
        community=CommunitySection(),
        timezone=TZ,
        now=NOW,
    )


@pytest.fixture
def store() -> Iterator[Store]:
    """Three organisations (one named like a formula), a member of each, Björn in none."""
    with Store.memory() as s:
        seed(s)
        for org_id, name in (("o-alfa", "Alfa AB"), ("o-ekorre", "Ekorre AB"), ("o-f", FORMULA)):
            organisations.add(s, OrganisationIn(name=name, id=org_id), ACTOR)
        members.change(s, "m-asa", MemberChange(organisation="o-alfa"), ACTOR)
        members.change(s, "m-sigrid", MemberChange(organisation="o-ekorre"), ACTOR)
        members.add(
            s, build(MemberIn, id="m-ola", first_name="Ola", last_name="Form", organisation="o-f"),
            ACTOR,
        )  # fmt: skip
        places.add_room(
            s,
            build(RoomIn, id="lookout", name="Lookout", capacity=8, hourly_rate_cents=6000,
                  out_of_hours_rate_cents=9000),
            ACTOR,
        )  # fmt: skip
        places.add_room(
            s, build(RoomIn, id="oasis", name="Oasis", capacity=4, hourly_rate_cents=2550), ACTOR
        )
        yield s


@pytest.fixture
def november(store: Store) -> dict[str, list[str]]:
    """Bookings in and around November 2026 (office hours mon-fri 08-17, local time)."""
    billed = {
        "o-alfa": [
            book(store, "m-asa", local(11, 2, 10)).id,  # Monday: 60.00
            book(store, "m-asa", local(11, 30, 23, 30)).id,  # the last evening: 90.00
            book(store, "m-asa", local(11, 1, 0, 30), 30).id,  # 23:30 UTC in October: 45.00
        ],
        "o-ekorre": [book(store, "m-sigrid", local(11, 3, 16), 90, room="oasis").id],  # 38.25
        "o-f": [book(store, "m-ola", local(11, 4, 9)).id],  # 60.00
        "none": [book(store, "m-bjorn", local(11, 5, 9), 15).id],  # 15.00
    }
    book(store, "m-asa", local(12, 1, 0, 30))  # 23:30 UTC on 30 November: December's
    book(store, "m-asa", local(10, 31, 23))  # October's
    cancelled = book(store, "m-sigrid", local(11, 10, 10))
    bookings.cancel(store, cancelled.id, actor=ACTOR, now=NOW)
    stamp = now_text(NOW)
    with store.write() as db:
        db.execute(
            "INSERT INTO events (id, title, host_member_id, room_id, starts_at, ends_at, capacity,"
            " created_by, created_at, updated_at) VALUES ('ev-1', 'Forest yoga', 'm-asa',"
            " 'lookout', ?, ?, 12, 'test', ?, ?)",
            (now_text(local(11, 12, 10)), now_text(local(11, 12, 12)), stamp, stamp),
        )
        db.execute(
            "INSERT INTO bookings (id, room_id, member_id, event_id, starts_at, ends_at, source,"
            " created_by, created_at) VALUES ('b-0000000000e1', 'lookout', 'm-asa', 'ev-1',"
            " ?, ?, 'event', 'test', ?)",
            (now_text(local(11, 12, 10)), now_text(local(11, 12, 12)), stamp),
        )
    return billed


def test_a_month_bills_each_organisation_by_name_and_no_organisation_last(store, november):
    report = billing.monthly(store, "2026-11", TZ)
    assert report == BillingReport(
        "2026-11",
        [
            OrganisationBill("o-f", FORMULA, 1, 60, 0, 6000),
            OrganisationBill("o-alfa", "Alfa AB", 3, 60, 90, 6000 + 9000 + 4500),
            OrganisationBill("o-ekorre", "Ekorre AB", 1, 60, 30, 3825),
            OrganisationBill(None, "No organisation", 1, 15, 0, 1500),
        ],
        6000 + 19500 + 3825 + 1500,
    )


def test_billing_follows_the_organisation_at_booking_time(store, november):
    members.change(store, "m-asa", MemberChange(organisation="o-ekorre"), ACTOR)
    lines = {bill.organisation_id: bill for bill in billing.monthly(store, "2026-11", TZ).lines}
    assert lines["o-alfa"].bookings == 3
    assert lines["o-ekorre"].bookings == 1


def test_months_are_local_and_may_be_empty(store, november):
    december = billing.monthly(store, "2026-12", TZ)
    assert [(b.organisation_id, b.bookings) for b in december.lines] == [("o-alfa", 1)]
    october = billing.monthly(store, "2026-10", TZ)
    assert [(b.organisation_id, b.bookings) for b in october.lines] == [("o-alfa", 1)]
    assert billing.monthly(store, "2027-01", TZ) == BillingReport("2027-01", [], 0)
    # in UTC the last evening and the first night fall the other way
    in_utc = billing.monthly(store, "2026-11", "UTC")
    assert sum(b.bookings for b in in_utc.lines) == 6


def test_the_summary_csv_parses_back_with_formulas_defused(store, november):
    text = billing.summary_csv(billing.monthly(store, " 2026-11 ", TZ))
    assert text.endswith("\r\n")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [
        list(billing.SUMMARY_COLUMNS),
        ["2026-11", "o-f", "'" + FORMULA, "1", "60", "0", "60.00"],
        ["2026-11", "o-alfa", "Alfa AB", "3", "60", "90", "195.00"],
        ["2026-11", "o-ekorre", "Ekorre AB", "1", "60", "30", "38.25"],
        ["2026-11", "", "No organisation", "1", "15", "0", "15.00"],
    ]


def test_the_detail_lists_each_billed_booking_in_local_time(store, november):
    lines = billing.detail(store, "2026-11", TZ)
    assert [line.booking_id for line in lines] == [
        *november["o-f"],
        *sorted(november["o-alfa"], key=lambda i: bookings.get(store, i).starts_at),
        *november["o-ekorre"],
        *november["none"],
    ]
    rows = list(csv.reader(io.StringIO(billing.detail_csv(lines))))
    assert rows[0] == list(billing.DETAIL_COLUMNS)
    by_id = {row[-1]: row for row in rows[1:]}
    first_night, last_evening = november["o-alfa"][2], november["o-alfa"][1]
    assert by_id[first_night] == ["2026-11-01", "00:30", "01:00", "Lookout", "Åsa Test",
                                  "o-alfa", "Alfa AB", "0", "30", "45.00", first_night]  # fmt: skip
    assert by_id[last_evening][:3] == ["2026-11-30", "23:30", "00:30"]
    assert by_id[november["o-f"][0]][5:7] == ["o-f", "'" + FORMULA]
    assert by_id[november["none"][0]][4:7] == ["Björn Test", "", "No organisation"]
    assert (
        sum(line.amount_cents for line in lines)
        == billing.monthly(store, "2026-11", TZ).total_cents
    )


def test_a_member_named_like_a_formula_is_defused_in_the_detail(store):
    members.change(store, "m-bjorn", MemberChange(first_name="@SUM(1)"), ACTOR)
    book(store, "m-bjorn", local(11, 5, 9))
    rows = list(csv.reader(io.StringIO(billing.detail_csv(billing.detail(store, "2026-11", TZ)))))
    assert rows[1][4] == "'@SUM(1) Test"


@pytest.mark.parametrize("month", ["2026-13", "2026-00", "11-2026", "november", "", "2026-1"])
def test_an_invalid_month_is_refused(store, month):
    with pytest.raises(Invalid) as caught:
        billing.monthly(store, month, TZ)
    assert caught.value.field == "month"
    with pytest.raises(Invalid):
        billing.detail(store, month, TZ)


def test_the_month_query_uses_the_start_index(store):
    plan = " ".join(
        str(tuple(row))
        for row in store.query(
            "EXPLAIN QUERY PLAN SELECT count(*) FROM bookings b WHERE " + billing._BILLED,
            ("a", "b"),
        )
    )
    assert "bookings_starts" in plan
