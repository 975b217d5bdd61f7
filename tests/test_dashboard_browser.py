"""The dashboard in Debian's Chromium (Playwright) against a live ``hubtap server``.

One hub runs for the module: a real Mosquitto, the real ``hubtap server``
with its HTTP server on a free loopback port, and a real ``hubtap-door``
for the front door reading the nfcpy card emulator. Each test signs in with
a fresh browser context. A screenshot of every page is saved under
``build/artifacts/dashboard/``. Latencies are recorded as test properties,
not asserted: the targets are measured by ``benchmarks/dashboard_pages.py``.
"""

import csv
import io
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from hub_server import members, organisations
from hub_server.models import OrganisationIn, build
from tests.helpers.browser import checked_page, live_hub, screenshot_path, sign_in
from tests.helpers.hub_data import UIDS
from tests.helpers.hub_process import WAIT_S
from tests.helpers.hub_site import DoorRig, Site

pytestmark = pytest.mark.mosquitto

WAIT_MS = WAIT_S * 1000
NEW_CARD = "04C0FFEE00BEEF"  # nobody holds it until it is enrolled


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Site, str]]:
    with live_hub(tmp_path_factory.mktemp("dashboard")) as (site, base):
        site.start_door("front")
        yield site, base


@pytest.fixture
def page(hub: tuple[Site, str], chromium_browser: Browser) -> Iterator[Page]:
    """A fresh context, signed in as the operator; fails the test on any console error
    (a Content-Security-Policy violation shows there)."""
    with checked_page(chromium_browser, hub[1]) as page:
        sign_in_from_home(page)
        yield page


def sign_in_from_home(page: Page) -> None:
    """Open the overview, get sent to the login (screenshot), sign in as the operator."""
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login\?next=/$"))
    page.screenshot(path=screenshot_path("login"), full_page=True)
    sign_in(page)


def front(hub: tuple[Site, str]) -> DoorRig:
    site, _ = hub
    return next(rig for rig in site.doors if rig.id == "front")


# --- the scenarios ------------------------------------------------------------


def test_sign_in_and_out(page: Page):
    expect(page.get_by_text("Ada (operator)")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    page.goto("/members")
    expect(page).to_have_url(re.compile(r"/login\?next=/members$"))


def test_a_wrong_password_is_said_plainly(hub, chromium_browser: Browser):
    _, base = hub
    context = chromium_browser.new_context(base_url=base)
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong username or password")
    context.close()


def test_add_a_member(page: Page, hub):
    site, _ = hub
    page.goto("/members")
    page.get_by_role("link", name="Add a member").click()
    page.get_by_label("First name").fill("Øydis")
    page.get_by_label("Last name").fill("Ærø")
    page.get_by_label("Email").fill("oydis@example.org")
    page.get_by_label("Valid from").fill("2026-12-10")
    page.get_by_label("Valid until").fill("2026-12-01")
    page.get_by_role("button", name="Add member").click()
    expect(page.locator(".field.has-error")).to_contain_text("Valid until")  # inline
    expect(page.get_by_label("First name")).to_have_value("Øydis")  # the form is kept
    page.screenshot(path=screenshot_path("member-form-error"), full_page=True)
    page.get_by_label("Valid until").fill("2027-12-01")
    page.get_by_role("button", name="Add member").click()
    expect(page.get_by_role("heading", name="Øydis Ærø")).to_be_visible()
    assert [m.last_name for m in members.find(site.store, search="oydis")] == ["Ærø"]
    page.goto("/members")
    page.get_by_label("Search").fill("OYDIS")
    expect(page.locator("#member-results")).to_contain_text("Ærø")


def test_enrol_a_card_by_a_tap_at_the_door(page: Page, hub):
    site, _ = hub
    member = members.find(site.store, search="sigrid")[0]
    page.goto(f"/members/{member.id}")
    page.get_by_label("Door").select_option("front")
    page.get_by_role("button", name="Enrol a card by tap").click()
    expect(page.get_by_text("Tap the card")).to_be_visible()
    rig = front(hub)
    with rig.emulator.holding(NEW_CARD):
        expect(page.get_by_text(f"…{NEW_CARD[-4:].lower()} enrolled")).to_be_visible(
            timeout=WAIT_MS
        )
    expect(page.locator("#cards")).to_contain_text(NEW_CARD[-4:].lower())
    page.screenshot(path=screenshot_path("member-enrolled"), full_page=True)


def test_the_overview_follows_a_tap_without_a_reload(page: Page, hub, record_property):
    page.goto("/")
    count = page.locator('[data-count="campfire"]')
    before = int(count.inner_text())
    page.evaluate("window.hubtapMarker = 'still the same page'")
    expect(page.locator("#log")).to_be_visible()
    tapped = time.monotonic()
    event = front(hub).tap(UIDS["m-bjorn"])
    assert event.granted
    expect(count).to_have_text(str(before + 1), timeout=WAIT_MS)
    record_property("tap_to_overview_s", round(time.monotonic() - tapped, 3))
    expect(page.locator(f'#log [data-event="{event.id}"]')).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#who")).to_contain_text("Björn")
    assert page.evaluate("window.hubtapMarker") == "still the same page"
    page.screenshot(path=screenshot_path("overview"), full_page=True)


def test_remote_unlock_reaches_the_door(page: Page, hub):
    rig = front(hub)
    since = len(rig.site.states.items)
    page.goto("/doors")
    page.get_by_role("link", name="Front").click()
    page.get_by_role("button", name="Unlock Front…").click()
    page.screenshot(path=screenshot_path("door-unlock-confirm"), full_page=True)
    assert len(rig.site.states.items) == since or all(
        d.message.lock == "locked" for d in rig.site.states.items[since:]
    ), "nothing may be sent before the operator confirms"
    page.get_by_role("button", name="Unlock", exact=True).click()
    rig.wait_state(lambda s: s.lock == "unlocked", since)
    unlocked_at = next(
        i
        for i, d in enumerate(rig.site.states.items)
        if i >= since and d.ids["door_id"] == "front" and d.message.lock == "unlocked"
    )
    rig.wait_state(lambda s: s.lock == "locked", unlocked_at + 1)
    expect(page.locator("#door-live")).to_contain_text("done", timeout=WAIT_MS)


def test_export_the_access_log_as_csv(page: Page, hub, tmp_path: Path):
    front(hub).tap(UIDS["m-asa"])
    page.goto("/access-log")
    expect(page.locator("table")).to_contain_text("Åsa")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download these as CSV").click()
    saved = tmp_path / "log.csv"
    download.value.save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8-sig"))))
    assert any(row["first_name"] == "Åsa" and row["door"] == "front" for row in rows)


def test_every_page_renders_cleanly(page: Page, hub):
    site, _ = hub
    member = members.find(site.store, search="asa")[0]
    organisation = organisations.add(
        site.store, build(OrganisationIn, name="Forest Collective"), "test"
    )
    pages = {
        "overview-page": "/",
        "members": "/members",
        "member": f"/members/{member.id}",
        "member-new": "/members/new",
        "organisations": "/organisations",
        "doors": "/doors",
        "door": "/doors/front",
        "access-log": "/access-log",
        "charts": "/charts",
        "audit": "/audit",
        "organisation": f"/organisations/{organisation.id}",
    }
    for name, path in pages.items():
        answer = page.goto(path)
        assert answer is not None
        assert answer.status == 200, path
        expect(page.locator("h1")).to_be_visible()
        page.screenshot(path=screenshot_path(name), full_page=True)
    page.set_viewport_size({"width": 768, "height": 1024})  # a tablet
    page.goto("/")
    page.screenshot(path=screenshot_path("overview-tablet"), full_page=True)


def test_keyboard_reaches_the_navigation_first(page: Page):
    page.goto("/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Skip to content"
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('nav') !== null")
