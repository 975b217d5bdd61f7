"""Rooms, guests and billing in Debian's Chromium (Playwright) against a live ``hubtap server``.

One hub runs for the module (a real Mosquitto and the real ``hubtap server``
with its HTTP server on a free loopback port, in Europe/Stockholm), with the
room Studio at 120.00 an hour in office hours and 80.00 outside them. An
operator books it through the form, typing the local start into the
``datetime-local`` field, and tries the same slot again. A screenshot of
every page lands under ``build/artifacts/dashboard/``.
"""

import re
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect

from hub_server import bookings, guests, places, tiers
from hub_server.bookings import BookingIn
from hub_server.config import CommunitySection
from hub_server.models import RoomIn
from hub_server.pricing import format_cents
from hublink.messages import utcnow
from tests.helpers.browser import checked_page, live_hub, screenshot_path, sign_in
from tests.helpers.hub_site import Site

pytestmark = pytest.mark.mosquitto

ZONE_NAME = "Europe/Stockholm"
ZONE = ZoneInfo(ZONE_NAME)
EXPECTED_STATUSES = ("status of 409", "status of 422")
"""Chromium logs a form sent back with its refusal (409) or errors (422) as a failed load."""


def next_tuesday() -> date:
    """A Tuesday 7 to 13 days ahead (local): office hours 08:00-17:00 apply, nothing is past."""
    today = utcnow().astimezone(ZONE).date()
    return today + timedelta(days=7 + (1 - today.weekday()) % 7)


DAY = next_tuesday()


def at_local(clock: str) -> datetime:
    """A local time on :data:`DAY`."""
    return datetime.combine(DAY, time.fromisoformat(clock), tzinfo=ZONE)


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Site, str]]:
    with live_hub(tmp_path_factory.mktemp("rooms"), timezone=ZONE_NAME) as (site, base):
        room = RoomIn(
            id="studio",
            name="Studio",
            capacity=6,
            hourly_rate_cents=12000,
            out_of_hours_rate_cents=8000,
        )
        places.add_room(site.store, room, "test")
        yield site, base


@pytest.fixture
def page(hub: tuple[Site, str], chromium_browser: Browser) -> Iterator[Page]:
    """A fresh context signed in as the operator; any other console error fails the test."""
    with checked_page(chromium_browser, hub[1], EXPECTED_STATUSES) as page:
        sign_in(page)
        yield page


def fill_booking(page: Page, start: str, length: str) -> None:
    """Fill the booking form: the studio, Åsa, the local start typed in, the length."""
    page.get_by_label("Room", exact=True).select_option("studio")
    page.get_by_label("Member").fill("Åsa Test")
    page.get_by_label("Start").fill(f"{DAY}T{start}")
    page.get_by_label("Length").select_option(label=length)
    page.get_by_role("button", name="Book", exact=True).click()


def test_book_a_room_and_meet_the_clash(page: Page, hub):
    site, _ = hub
    page.get_by_role("link", name="Rooms").click()
    expect(page.get_by_role("heading", name="Rooms", level=1)).to_be_visible()
    page.screenshot(path=screenshot_path("bookings-today"), full_page=True)
    page.locator("#f-day").fill(DAY.isoformat())
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(rf"/bookings\?day={DAY}$"))
    studio = page.locator('section[data-room="studio"]')
    expect(studio.locator("tbody tr")).to_have_text(["00:00–24:00free"])  # time, then "free"

    fill_booking(page, "16:00", "2 h")
    expect(page.get_by_role("status")).to_contain_text(
        "Booked Studio on " + DAY.isoformat() + " from 16:00 to 18:00 for Åsa Test: 200.00"
    )
    made = studio.locator("tr.highlight")
    expect(made).to_contain_text("16:00–18:00")
    expect(made).to_contain_text("Åsa Test")
    expect(made).to_contain_text("200.00")
    expect(studio.locator("tbody tr")).to_have_count(3)  # free, the booking, free
    page.screenshot(path=screenshot_path("bookings-booked"), full_page=True)

    fill_booking(page, "17:00", "1 h")
    expect(page.get_by_role("alert")).to_have_text("Studio is booked from 16:00 to 18:00")
    expect(page.get_by_label("Start")).to_have_value(f"{DAY}T17:00")  # the form is kept
    expect(page.get_by_label("Member")).to_have_value("Åsa Test")
    page.screenshot(path=screenshot_path("bookings-clash"), full_page=True)
    [stored] = bookings.of_day(site.store, DAY, ZONE_NAME)
    assert (stored.member_id, stored.amount_cents, stored.source) == ("m-asa", 20000, "dashboard")


def test_guests_billing_and_tiers_pages(page: Page, hub):
    site, _ = hub
    page.get_by_role("link", name="Guests").click()
    page.get_by_label("First name").fill("Bo")
    page.get_by_label("Host").fill("m-bjorn")
    page.get_by_label("Card UID").fill("04 de ad be ef 00 77")
    page.get_by_role("button", name="Register guest").click()
    row = page.locator("table.guests tbody tr", has_text="Bo")
    expect(row).to_contain_text("…0077")
    expect(row).to_contain_text("active")
    page.screenshot(path=screenshot_path("guests"), full_page=True)
    today = utcnow().astimezone(ZONE).date()
    assert [(g.first_name, g.hint) for g in guests.of_day(site.store, today)] == [("Bo", "0077")]

    data = BookingIn(
        room_id="studio", member_id="m-sigrid", starts_at=at_local("09:00"), minutes=60
    )
    bookings.book(
        site.store,
        data,
        actor="test",
        source="cli",
        community=CommunitySection(),
        timezone=ZONE_NAME,
        now=utcnow(),
    )
    page.get_by_role("link", name="Billing").click()
    page.locator("#f-month").fill(f"{DAY:%Y-%m}")
    page.get_by_role("button", name="Show").click()
    total = page.locator("table.billing tfoot tr")
    expected = sum(b.amount_cents for b in bookings.of_day(site.store, DAY, ZONE_NAME))
    expect(total).to_contain_text(format_cents(expected))
    expect(page.locator("table.billing")).to_contain_text("No organisation")  # Sigrid's
    page.screenshot(path=screenshot_path("billing"), full_page=True)

    page.get_by_role("link", name="Tiers and guest limits").click()
    page.locator("#f-guests-member").fill("2")
    page.locator("tr#tier-member").get_by_role("button", name="Save").click()
    expect(page.locator("#f-guests-member")).to_have_value("2")
    assert tiers.get(site.store, "member").guests_per_day == 2
    page.screenshot(path=screenshot_path("tiers"), full_page=True)
