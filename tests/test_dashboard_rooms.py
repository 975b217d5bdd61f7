"""The dashboard's Rooms, Guests and Billing pages and the tiers, through a signed-in browser.

Bookings are made on a Tuesday a week or two ahead (office hours 08:00-17:00 on weekdays,
Europe/Stockholm), in the room ``studio``: 120.00 an hour in office hours, 80.00 outside.
Guest passes are for today (a pass is for today or later).
"""

import csv
import io
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hub_server import audit, bookings, guests, members, places, tiers
from hub_server.bookings import BookingIn
from hub_server.models import RoomIn, build
from hub_server.site import create_site
from hub_server.store import Store
from hublink.credentials import credential_hash
from hublink.messages import utcnow
from tests.helpers.community_data import add_event, add_member, community
from tests.helpers.dashboard import SITE_KEY, Browser, config, signed_in, site_for
from tests.helpers.hub_data import UIDS

ZONE_NAME = "Europe/Stockholm"
ZONE = ZoneInfo(ZONE_NAME)
ACTOR = "web:operator"
ROOM = "studio"
GUEST_CARD = "04DEADBEEF0042"


def next_tuesday() -> date:
    """A Tuesday 7 to 13 days after today (local), so every booking on it is in the future."""
    today = utcnow().astimezone(ZONE).date()
    return today + timedelta(days=7 + (1 - today.weekday()) % 7)


DAY = next_tuesday()
MONTH = f"{DAY:%Y-%m}"


def at(clock: str, day: date = DAY) -> datetime:
    """A local time on ``day``."""
    hours, minutes = map(int, clock.split(":"))
    return datetime(day.year, day.month, day.day, hours, minutes, tzinfo=ZONE)


@pytest.fixture
def store():
    with Store.memory() as store:
        community(store)  # Åsa and Björn of Skogsbyrån, Sigrid of none; the free room lookout
        room = RoomIn(
            id=ROOM,
            name="Studio",
            capacity=12,
            hourly_rate_cents=12000,
            out_of_hours_rate_cents=8000,
        )
        places.add_room(store, room, "test")
        yield store


@pytest.fixture
def site(store):
    return site_for(store, config(hub={"timezone": ZONE_NAME}))


@pytest.fixture
def browser(store, site) -> Browser:
    return signed_in(store, site)


def book(store: Store, start: str, minutes: int, member: str = "m-asa", room: str = ROOM) -> str:
    """A booking made through the service (as the API or the CLI makes one)."""
    data = build(BookingIn, room_id=room, member_id=member, starts_at=at(start), minutes=minutes)
    cfg = config(hub={"timezone": ZONE_NAME})
    made = bookings.book(
        store,
        data,
        actor="test",
        source="api",
        community=cfg.community,
        timezone=ZONE_NAME,
        now=utcnow(),
    )
    return made.id


def form(start: str = "16:00", minutes: str = "120", **more: str) -> dict[str, str]:
    values = {
        "room": ROOM,
        "member": "m-asa",
        "start": f"{DAY}T{start}",
        "minutes": minutes,
        "day": str(DAY),
    }
    return {**values, **more}


def rows(html: str, room: str) -> list[tuple[str, str]]:
    """A room's day in the page: ``(time, what)`` per row, ``what`` a booking id or ``free``."""
    section = re.search(
        rf'<section class="room-day"[^>]*data-room="{room}">(.*?)</section>', html, re.S
    )
    assert section, f"no room {room} on the page"
    found = []
    for row in re.findall(r"<tr (?:id|class)=.*?</tr>", section.group(1), re.S):
        time = re.search(r'<th scope="row">([^<]*)</th>', row)
        booking = re.search(r'data-booking="([^"]+)"', row)
        assert time
        found.append((time.group(1), booking.group(1) if booking else "free"))
    return found


def row_of(html: str, row_id: str) -> str:
    found = re.search(rf'<tr id="{row_id}".*?</tr>', html, re.S)
    assert found, f"no row {row_id}"
    return found.group(0)


def error_for(html: str, field: str) -> str | None:
    found = re.search(rf'<p class="error" id="e-{field}"[^>]*>([^<]*)</p>', html)
    return found.group(1) if found else None


def form_error(html: str) -> str | None:
    found = re.search(r'<p class="error" role="alert">([^<]*)</p>', html)
    return found.group(1) if found else None


def input_value(html: str, field: str) -> str:
    found = re.search(rf'<input id="f-{field}" name="{field}"[^>]* value="([^"]*)"', html)
    assert found, f"no input {field}"
    return found.group(1)


def booked(store: Store, day: date = DAY) -> list[bookings.Booking]:
    return bookings.of_day(store, day, ZONE_NAME)


def audit_actions(store: Store, prefix: str) -> list[tuple[str, str]]:
    """The audit log's entries of actions starting with ``prefix``, oldest first."""
    entries = reversed(audit.entries(store, limit=1000))
    return [(e.actor, e.action) for e in entries if e.action.startswith(prefix)]


# --- the day view -------------------------------------------------------------------


def test_the_day_view_lists_each_rooms_bookings_and_gaps_in_local_time(browser, store):
    first = book(store, "10:00", 90)  # 09:00-10:30 UTC: the page shows local times
    late = book(store, "22:00", 180, member="m-sigrid")  # runs into the next day
    event = add_event(
        store,
        now=utcnow(),
        title="Pottery",
        zone_id=None,
        room_id=ROOM,
        starts_at=at("13:00"),
        ends_at=at("15:00"),
    )
    page = browser.get("/bookings", params={"day": str(DAY)})
    assert page.status_code == 200
    reservation = next(b.id for b in booked(store) if b.event_id == event.id)
    assert rows(page.text, ROOM) == [
        ("00:00–10:00", "free"),
        ("10:00–11:30", first),
        ("11:30–13:00", "free"),
        ("13:00–15:00", reservation),
        ("15:00–22:00", "free"),
        (f"22:00–{DAY + timedelta(days=1)} 01:00", late),
    ]
    assert rows(page.text, "lookout") == [("00:00–24:00", "free")]
    mine = row_of(page.text, first)
    for shown in ("Åsa Test", "Skogsbyrån", "180.00", "api"):  # 1.5 h in office hours at 120
        assert shown in mine
    assert "Sigrid Test" in row_of(page.text, late)
    assert "240.00" in row_of(page.text, late)  # 3 h out of office hours at 80.00
    marked = row_of(page.text, reservation)
    assert "Event" in marked
    assert "Pottery" in marked
    assert f'href="/events/{event.id}"' in marked
    assert "/cancel" not in marked  # an event's reservation is cancelled with its event
    # the day before sees the late booking's first hours only from its own midnight on
    before = browser.get("/bookings", params={"day": str(DAY - timedelta(days=1))})
    assert rows(before.text, ROOM) == [("00:00–24:00", "free")]
    after = browser.get("/bookings", params={"day": str(DAY + timedelta(days=1))})
    assert rows(after.text, ROOM) == [(f"{DAY} 22:00–01:00", late), ("01:00–24:00", "free")]


def test_the_day_view_defaults_to_today_and_links_the_days_around(browser):
    today = utcnow().astimezone(ZONE).date()
    page = browser.get("/bookings")
    assert input_value(page.text, "day") == str(today)
    assert f'href="/bookings?day={today - timedelta(days=1)}" rel="prev"' in page.text
    assert f'href="/bookings?day={today + timedelta(days=1)}" rel="next"' in page.text
    other = browser.get("/bookings", params={"day": str(DAY)})
    assert input_value(other.text, "start") == f"{DAY}T09:00"  # the form starts on that day
    assert '<a href="/bookings">Today</a>' in other.text


@pytest.mark.parametrize("day", ["tomorrow", "2026-02-30", "20261201", "0001-01-01"])
def test_a_bad_day_is_a_page_naming_the_field(browser, day):
    page = browser.get("/bookings", params={"day": day})
    assert page.status_code == 422
    assert "day:" in page.text


# --- booking --------------------------------------------------------------------------


def test_booking_through_the_form_stores_one_booking_at_its_price(browser, store):
    answer = browser.post("/bookings", form(member="Åsa Test"))  # by name, as typed
    assert answer.status_code == 303
    [made] = booked(store)
    assert answer.headers["location"] == f"/bookings?day={DAY}&booked={made.id}#{made.id}"
    assert (made.room_id, made.member_id, made.source) == (ROOM, "m-asa", "dashboard")
    assert (made.starts_at, made.ends_at) == (at("16:00"), at("18:00"))
    # 16:00-17:00 in office hours at 120.00, 17:00-18:00 outside them at 80.00
    assert (made.office_minutes, made.off_hours_minutes, made.amount_cents) == (60, 60, 20000)
    assert audit_actions(store, "booking.") == [(ACTOR, "booking.add")]
    page = browser.get(answer.headers["location"])
    assert "Booked Studio on" in page.text
    assert "from 16:00 to 18:00 for Åsa Test: 200.00" in page.text
    assert 'class="highlight"' in row_of(page.text, made.id)


def test_a_clash_is_refused_with_the_clashing_times_and_the_form_kept(browser, store):
    first = book(store, "16:00", 120)
    answer = browser.post("/bookings", form(start="17:30", minutes="60", member="m-bjorn"))
    assert answer.status_code == 409
    assert form_error(answer.text) == "Studio is booked from 16:00 to 18:00"
    assert input_value(answer.text, "start") == f"{DAY}T17:30"
    assert input_value(answer.text, "member") == "m-bjorn"
    assert '<option value="60" selected>' in answer.text
    assert [b.id for b in booked(store)] == [first]
    assert rows(answer.text, ROOM)[1] == ("16:00–18:00", first)  # the day of the clash
    # back to back is fine
    assert browser.post("/bookings", form(start="18:00", minutes="30")).status_code == 303
    assert len(booked(store)) == 2


@pytest.mark.parametrize(
    ("changes", "field", "problem"),
    [
        ({"start": ""}, "start", "is required"),
        ({"start": "next tuesday"}, "start", "is not a date"),
        ({"start": f"{DAY}T25:00"}, "start", "is not a date"),
        ({"minutes": "50"}, "minutes", "whole number of 15 minutes"),
        ({"minutes": "600"}, "minutes", "at most 8 hours"),
        ({"minutes": "0"}, "minutes", "greater than 0"),
        ({"minutes": "lots"}, "minutes", "valid integer"),
        ({"member": ""}, "member", "is required"),
        ({"member": "Nobody Here"}, "member", "no member 'Nobody Here'"),
        ({"room": "nowhere"}, "form", "no room 'nowhere'"),
    ],
)
def test_bad_fields_are_shown_next_to_them(browser, store, changes, field, problem):
    answer = browser.post("/bookings", {**form(), **changes})
    assert answer.status_code == 422
    shown = form_error(answer.text) if field == "form" else error_for(answer.text, field)
    assert shown is not None
    assert problem in shown.replace("&#39;", "'")
    assert booked(store) == []
    assert audit_actions(store, "booking.") == []


def test_a_start_in_the_past_is_refused_too_late(browser, store):
    yesterday = utcnow().astimezone(ZONE).date() - timedelta(days=1)
    answer = browser.post("/bookings", form(start="10:00") | {"start": f"{yesterday}T10:00"})
    assert answer.status_code == 409
    assert "Too late to book Studio" in (form_error(answer.text) or "")
    assert booked(store, yesterday) == []


def test_two_members_of_one_name_must_be_picked_by_id(browser, store):
    add_member(store, "m-asa2", "Åsa")  # a second Åsa Test
    answer = browser.post("/bookings", form(member="asa test"))
    assert answer.status_code == 422
    assert error_for(answer.text, "member") == "2 members are called asa test: pick one by id"
    assert browser.post("/bookings", form(member="m-asa2")).status_code == 303
    assert [b.member_id for b in booked(store)] == ["m-asa2"]


def test_the_member_list_offers_active_members_only(browser, store):
    members.deactivate(store, "m-bjorn", "test")
    page = browser.get("/bookings", params={"day": str(DAY)})
    offered = re.findall(r'<option value="(m-[^"]+)">', page.text)
    assert sorted(offered) == ["m-asa", "m-sigrid"]


# --- cancelling -------------------------------------------------------------------


def test_cancel_asks_first_then_frees_the_room(browser, store):
    made = book(store, "10:00", 60)
    ask = browser.post(f"/bookings/{made}/cancel")
    assert ask.status_code == 200
    assert "Cancel the booking of Studio on" in ask.text
    assert "from 10:00 to 11:00" in ask.text
    assert 'name="confirmed" value="yes"' in ask.text
    assert bookings.get(store, made).status == "booked"  # asking changed nothing
    done = browser.post(f"/bookings/{made}/cancel", {"confirmed": "yes"})
    assert done.status_code == 303
    assert done.headers["location"] == f"/bookings?day={DAY}&cancelled={made}"
    assert bookings.get(store, made).status == "cancelled"
    assert audit_actions(store, "booking.cancel") == [(ACTOR, "booking.cancel")]
    page = browser.get(done.headers["location"])
    assert "Cancelled the booking of Studio" in page.text
    assert rows(page.text, ROOM) == [("00:00–24:00", "free")]


def test_an_events_reservation_cannot_be_cancelled_here(browser, store):
    event = add_event(
        store, now=utcnow(), zone_id=None, room_id=ROOM, starts_at=at("13:00"), ends_at=at("14:00")
    )
    [reservation] = booked(store)
    answer = browser.post(f"/bookings/{reservation.id}/cancel", {"confirmed": "yes"})
    assert answer.status_code == 422
    assert "cancel the event instead" in answer.text
    assert bookings.get(store, reservation.id).status == "booked"
    assert event.id == reservation.event_id
    assert browser.post("/bookings/b-000000000000/cancel").status_code == 404


def test_writes_need_the_csrf_token(browser, store):
    answer = browser.client.post("/bookings", data=form())
    assert answer.status_code == 403
    assert booked(store) == []


# --- hosts --------------------------------------------------------------------------


def test_hosts_use_rooms_and_guests_but_not_billing(store, site):
    host = signed_in(store, site, role="host")
    page = host.get("/bookings")
    assert page.status_code == 200
    assert 'href="/guests"' in page.text
    assert 'href="/billing"' not in page.text
    assert host.get("/guests").status_code == 200
    assert host.post("/bookings", form()).status_code == 303
    assert host.post("/guests", {"first_name": "Bo", "host": "m-asa"}).status_code == 303
    for path in ("/billing", "/billing/tiers", f"/billing/{MONTH}/summary.csv"):
        assert host.get(path).status_code == 403, path
    refused = host.post("/billing/tiers", {"id": "vip", "name": "VIP", "guests_per_day": "9"})
    assert refused.status_code == 403
    assert host.post("/billing/tiers/member", {"guests_per_day": "9"}).status_code == 403
    assert [t.id for t in tiers.all_tiers(store)] == ["member"]
    assert tiers.get(store, "member").guests_per_day == 3


# --- guests -------------------------------------------------------------------------


def passes(store: Store) -> list[guests.GuestPass]:
    return guests.of_day(store, utcnow().astimezone(ZONE).date())


def test_register_a_guest_without_a_card(browser, store):
    answer = browser.post("/guests", {"first_name": " Bo ", "host": "Åsa Test"})
    assert answer.status_code == 303
    [made] = passes(store)
    assert (made.first_name, made.host_member_id, made.has_card, made.source) == (
        "Bo",
        "m-asa",
        False,
        "dashboard",
    )
    page = browser.get("/guests")
    row = row_of(page.text, made.id)
    assert '<th scope="row">Bo</th>' in row
    assert "Åsa" in row
    assert "none" in row
    assert audit_actions(store, "guest.") == [(ACTOR, "guest.add")]


def test_register_a_guest_with_a_card_shows_only_its_hint(browser, store):
    answer = browser.post("/guests", {"first_name": "Bo", "host": "m-asa", "card": GUEST_CARD})
    assert answer.status_code == 303
    [made] = passes(store)
    assert made.has_card
    assert made.hint == "0042"
    stored = store.query_one("SELECT credential FROM guest_passes WHERE id = ?", (made.id,))
    assert stored is not None
    assert stored[0] == credential_hash(SITE_KEY, bytes.fromhex(GUEST_CARD))
    page = browser.get("/guests")
    assert "…0042" in row_of(page.text, made.id)
    assert stored[0] not in page.text
    assert stored[0].upper() not in page.text
    assert GUEST_CARD not in page.text
    assert GUEST_CARD.lower() not in page.text


def test_a_members_card_is_refused_for_a_guest(browser, store):
    answer = browser.post("/guests", {"first_name": "Bo", "host": "m-asa", "card": UIDS["m-bjorn"]})
    assert answer.status_code == 409
    assert error_for(answer.text, "card") == (
        "This card belongs to a member: a guest needs another card"
    )
    assert input_value(answer.text, "first_name") == "Bo"
    assert passes(store) == []


def test_over_the_tier_limit_is_refused(browser, store):
    tiers.update(store, "member", tiers.TierChange(guests_per_day=1), "test")
    assert browser.post("/guests", {"first_name": "Bo", "host": "m-asa"}).status_code == 303
    answer = browser.post("/guests", {"first_name": "Liv", "host": "m-asa"})
    assert answer.status_code == 409
    today = utcnow().astimezone(ZONE).date()
    assert (
        form_error(answer.text) == f"Åsa may bring 1 guest a day, and has registered 1 for {today}"
    )
    assert [p.first_name for p in passes(store)] == ["Bo"]


@pytest.mark.parametrize(
    ("changes", "field", "problem"),
    [
        ({"first_name": ""}, "first_name", "must not be empty"),
        ({"host": ""}, "host", "is required"),
        ({"host": "m-nobody"}, "host", "no member 'm-nobody'"),
        ({"card": "not hex"}, "card", "not a card UID"),
    ],
)
def test_bad_guest_fields_are_shown_next_to_them(browser, store, changes, field, problem):
    answer = browser.post("/guests", {"first_name": "Bo", "host": "m-asa", **changes})
    assert answer.status_code == 422
    shown = error_for(answer.text, field)
    assert shown is not None
    assert problem in shown.replace("&#39;", "'")
    assert passes(store) == []


def test_without_a_site_key_the_page_says_so_and_refuses_a_card(store):
    site = create_site(store, config(hub={"timezone": ZONE_NAME}), site_key=None)
    browser = signed_in(store, site)
    page = browser.get("/guests")
    assert "this hub has no site key" in page.text
    answer = browser.post("/guests", {"first_name": "Bo", "host": "m-asa", "card": GUEST_CARD})
    assert answer.status_code == 422
    assert "this hub has no site key" in answer.text
    assert passes(store) == []


def test_give_a_guest_a_card_then_cancel_the_pass(browser, store):
    browser.post("/guests", {"first_name": "Bo", "host": "m-asa"})
    [made] = passes(store)
    refused = browser.post(f"/guests/{made.id}/card", {"card": UIDS["m-asa"]})
    assert refused.status_code == 409
    assert "belongs to a member" in row_of(refused.text, made.id)
    assert not guests.get(store, made.id).has_card
    given = browser.post(f"/guests/{made.id}/card", {"card": GUEST_CARD})
    assert given.status_code == 303
    assert guests.get(store, made.id).hint == "0042"
    ask = browser.post(f"/guests/{made.id}/cancel")
    assert ask.status_code == 200
    assert "Cancel Bo's pass" in ask.text.replace("&#39;", "'")
    assert guests.get(store, made.id).status == "active"
    done = browser.post(f"/guests/{made.id}/cancel", {"confirmed": "yes"})
    assert done.status_code == 303
    assert guests.get(store, made.id).status == "cancelled"
    assert "cancelled" in row_of(browser.get("/guests").text, made.id)


def test_a_past_day_lists_passes_but_offers_no_registration(browser):
    yesterday = utcnow().astimezone(ZONE).date() - timedelta(days=1)
    assert "Register a guest" in browser.get("/guests").text
    page = browser.get("/guests", params={"day": str(yesterday)})
    assert page.status_code == 200
    assert "Register a guest" not in page.text


# --- billing ------------------------------------------------------------------------


def bill_rows(html: str) -> dict[str, list[str]]:
    """The billing table: the organisation's name (or Total) and its cells."""
    table = re.search(r'<table class="billing">(.*?)</table>', html, re.S)
    assert table, "no billing table"
    found = {}
    for row in re.findall(r"<tr data-.*?</tr>", table.group(1), re.S):
        name = re.sub(r"<[^>]+>", "", re.search(r'<th scope="row">(.*?)</th>', row).group(1))
        found[name] = re.findall(r'<td class="num">([^<]*)</td>', row)
    return found


def test_the_billing_page_totals_the_months_bookings(browser, store):
    made = [
        book(store, "09:00", 60),  # Åsa, Skogsbyrån: 120.00
        book(store, "16:00", 120, member="m-bjorn"),  # Skogsbyrån: 120.00 + 80.00
        book(store, "18:00", 45, member="m-sigrid"),  # no organisation: 60.00
    ]
    cancelled = book(store, "20:00", 60)
    bookings.cancel(store, cancelled, actor="test", now=utcnow())
    add_event(
        store, now=utcnow(), zone_id=None, room_id=ROOM, starts_at=at("12:00"), ends_at=at("13:00")
    )
    page = browser.get("/billing", params={"month": MONTH})
    assert page.status_code == 200
    assert bill_rows(page.text) == {
        "Skogsbyrån": ["2", "2.00", "1.00", "320.00"],
        "No organisation": ["1", "0.00", "0.75", "60.00"],
        "Total": ["3", "2.00", "1.75", "380.00"],
    }
    assert sum(bookings.get(store, b).amount_cents for b in made) == 38000
    assert 'href="/billing/tiers"' in page.text
    assert "Tiers and guest limits" in page.text
    assert f'href="/billing/{MONTH}/summary.csv"' in page.text
    empty = browser.get("/billing", params={"month": "1999-01"})
    assert "No bookings billed in January 1999" in empty.text


def test_the_csvs_match_the_page(browser, store):
    made = {book(store, "09:00", 60), book(store, "18:00", 45, member="m-sigrid")}
    page = bill_rows(browser.get("/billing", params={"month": MONTH}).text)
    summary = browser.get(f"/billing/{MONTH}/summary.csv")
    assert summary.status_code == 200
    assert summary.headers["content-type"] == "text/csv; charset=utf-8"
    assert summary.headers["content-disposition"] == (
        f'attachment; filename="billing-{MONTH}-summary.csv"'
    )
    lines = list(csv.DictReader(io.StringIO(summary.text)))
    assert {line["organisation"]: [line["bookings"], line["amount"]] for line in lines} == {
        name: [cells[0], cells[3]] for name, cells in page.items() if name != "Total"
    }
    assert all(line["month"] == MONTH for line in lines)
    for line in lines:
        cells = page[line["organisation"]]
        assert f"{int(line['office_minutes']) / 60:.2f}" == cells[1]
        assert f"{int(line['off_hours_minutes']) / 60:.2f}" == cells[2]
    detail = browser.get(f"/billing/{MONTH}/detail.csv")
    assert detail.headers["content-disposition"] == (
        f'attachment; filename="billing-{MONTH}-detail.csv"'
    )
    rows_ = list(csv.DictReader(io.StringIO(detail.text)))
    assert {row["booking_id"] for row in rows_} == made
    assert sorted((row["start"], row["end"], row["amount"]) for row in rows_) == [
        ("09:00", "10:00", "120.00"),
        ("18:00", "18:45", "60.00"),
    ]


@pytest.mark.parametrize("month", ["2026-13", "November", "26-11"])
def test_a_bad_month_is_a_page_naming_the_field(browser, month):
    for path in ("/billing?month=" + month, f"/billing/{month}/summary.csv"):
        answer = browser.get(path)
        assert answer.status_code == 422, path
        assert "month:" in answer.text


# --- tiers --------------------------------------------------------------------------


def test_tiers_are_listed_added_and_changed(browser, store):
    page = browser.get("/billing/tiers")
    assert page.status_code == 200
    row = row_of(page.text, "tier-member")
    assert 'name="guests_per_day" type="number" min="0" max="100" value="3"' in row
    added = browser.post("/billing/tiers", {"id": "staff", "name": "Staff", "guests_per_day": "5"})
    assert added.status_code == 303
    assert tiers.get(store, "staff").guests_per_day == 5
    again = browser.post("/billing/tiers", {"id": "staff", "name": "Other", "guests_per_day": "1"})
    assert again.status_code == 409
    assert error_for(again.text, "id") == "a tier with id staff exists"
    assert tiers.get(store, "staff").name == "Staff"
    changed = browser.post("/billing/tiers/member", {"name": "Member", "guests_per_day": "1"})
    assert changed.status_code == 303
    assert tiers.get(store, "member").guests_per_day == 1
    assert audit_actions(store, "tier.") == [(ACTOR, "tier.add"), (ACTOR, "tier.change")]
    page = browser.get("/billing/tiers")
    assert 'value="1"' in row_of(page.text, "tier-member")
    assert 'value="5"' in row_of(page.text, "tier-staff")


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"id": "staff", "name": "Staff", "guests_per_day": "101"}, "guests_per_day"),
        ({"id": "staff", "name": "Staff", "guests_per_day": "-1"}, "guests_per_day"),
        ({"id": "no spaces", "name": "Staff", "guests_per_day": "1"}, "id"),
        ({"id": "staff", "name": "", "guests_per_day": "1"}, "name"),
    ],
)
def test_a_bad_new_tier_is_shown_next_to_the_field(browser, store, values, field):
    answer = browser.post("/billing/tiers", values)
    assert answer.status_code == 422
    assert error_for(answer.text, field)
    assert input_value(answer.text, "name") == values["name"]
    assert [t.id for t in tiers.all_tiers(store)] == ["member"]


def test_a_bad_change_is_shown_on_its_row(browser, store):
    answer = browser.post("/billing/tiers/member", {"name": "Member", "guests_per_day": "-1"})
    assert answer.status_code == 422
    assert "guests_per_day: Input should be greater than or equal to 0" in row_of(
        answer.text, "tier-member"
    )
    assert tiers.get(store, "member").guests_per_day == 3
    assert browser.post("/billing/tiers/nope", {"guests_per_day": "1"}).status_code == 404
