"""The Events pages in Debian's Chromium (Playwright) against a live ``hubtap server``.

One hub runs for the module (a real Mosquitto and the real ``hubtap server``
with its HTTP server on a free loopback port). An operator creates an event
through the form, typing into the ``datetime-local`` fields, finds it in the
list, signs a member up and sees the seats change. A screenshot of every
page is saved under ``build/artifacts/dashboard/``.
"""

import re
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect

from hub_server import events, local_days, places, signups
from hub_server.models import RoomIn, build
from hublink.messages import utcnow
from tests.helpers.browser import checked_page, live_hub, screenshot_path, sign_in
from tests.helpers.hub_site import Site

pytestmark = pytest.mark.mosquitto

ZONE = ZoneInfo("Europe/Stockholm")


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Site, str]]:
    with live_hub(tmp_path_factory.mktemp("events"), timezone=ZONE.key) as (site, base):
        room = build(RoomIn, id="lookout", name="Lookout", zone_id="campfire", capacity=8)
        places.add_room(site.store, room, "test")
        yield site, base


@pytest.fixture
def page(hub: tuple[Site, str], chromium_browser: Browser) -> Iterator[Page]:
    """A fresh context signed in as the operator; fails the test on any console error."""
    with checked_page(chromium_browser, hub[1]) as page:
        sign_in(page)
        yield page


def local(days: int, hour: int) -> datetime:
    today = local_days.local_day(utcnow(), ZONE)
    return datetime.combine(today + timedelta(days=days), time(hour), tzinfo=ZONE)


def test_create_an_event_and_sign_a_member_up(page: Page, hub: tuple[Site, str]) -> None:
    site, _ = hub
    starts, ends = local(3, 18), local(3, 20)
    page.get_by_role("link", name="Events", exact=True).click()
    expect(page.get_by_role("heading", name="Events")).to_be_visible()
    page.get_by_role("link", name="New event").click()
    page.get_by_label("Title").fill("Bark carving")
    page.get_by_label("Description").fill("Bring a knife.")
    page.get_by_label("Host").fill("Sigrid Test (m-sigrid)")
    page.get_by_label("Place").select_option(label="Lookout, in Campfire circle (8 people)")
    page.get_by_label("Starts").fill(starts.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Ends").fill(local(3, 17).strftime("%Y-%m-%dT%H:%M"))  # before the start
    page.get_by_label("Capacity").fill("5")
    page.get_by_label("Visibility").select_option("open")
    page.get_by_label("Colleagues per member").fill("2")
    page.get_by_role("button", name="Add event").click()
    expect(page.locator(".field.has-error")).to_contain_text("must be after the start")
    expect(page.get_by_label("Title")).to_have_value("Bark carving")  # the form is kept
    page.screenshot(path=screenshot_path("event-form-error"), full_page=True)
    page.get_by_label("Ends").fill(ends.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Add event").click()
    expect(page.get_by_role("heading", name="Bark carving")).to_be_visible()
    [event] = [e for e in events.upcoming(site.store, utcnow(), 7) if e.title == "Bark carving"]
    assert (event.starts_at, event.ends_at, event.room_id) == (starts, ends, "lookout")
    expect(page.locator("#seats")).to_have_text(re.compile(r"^0 of 5"))
    assert event.max_guests == 2

    page.get_by_role("link", name="Events", exact=True).click()
    row = page.locator(f'tr[data-event="{event.id}"]')
    expect(row).to_contain_text("Lookout")
    expect(row).to_contain_text(starts.strftime("%a %d %b %Y, 18:00") + "–20:00")
    expect(row.locator(f'[data-seats="{event.id}"]')).to_have_text("0 / 5")
    page.screenshot(path=screenshot_path("events"), full_page=True)

    row.get_by_role("link", name="Bark carving").click()
    page.get_by_role("combobox", name="Member", exact=True).fill("Åsa Test (m-asa)")
    page.get_by_label("Colleagues", exact=True).fill("0")
    page.get_by_role("button", name="Sign up", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Signed up: Åsa Test.")
    expect(page.locator("#seats")).to_have_text(re.compile(r"^1 of 5"))
    expect(page.locator('td[data-place="m-asa"]')).to_have_text("seat")
    assert [a.member_id for a in signups.of_event(site.store, event.id)] == ["m-asa"]
    page.screenshot(path=screenshot_path("event"), full_page=True)

    page.locator('tr[data-member="m-asa"]').get_by_role("button", name="Cancel…").click()
    page.screenshot(path=screenshot_path("event-cancel-signup-confirm"), full_page=True)
    page.get_by_role("button", name="Cancel the sign-up").click()
    expect(page.get_by_role("status")).to_have_text("Åsa Test's place is given back.")
    expect(page.locator("#seats")).to_have_text(re.compile(r"^0 of 5"))

    page.goto("/events/notifications")
    expect(page.get_by_role("heading", name="Notifications")).to_be_visible()
    page.screenshot(path=screenshot_path("event-notifications"), full_page=True)
