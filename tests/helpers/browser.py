"""Debian's Chromium driven by Playwright, as the brief prescribes (never a downloaded browser)."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright

from hub_server import users
from hub_server.demo import free_port
from tests.helpers.brokers import Mosquitto
from tests.helpers.dashboard import PASSWORD
from tests.helpers.hub_site import Site, running_site

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "build" / "artifacts" / "dashboard"
"""Screenshots of every page land here (``build/`` is not committed)."""


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Chromium, closed at the end."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def screenshot_path(name: str) -> Path:
    """Where the screenshot ``name`` goes (the folder is made)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / f"{name}.png"


@contextmanager
def live_hub(workdir: Path, *, timezone: str = "UTC") -> Iterator[tuple[Site, str]]:
    """A real Mosquitto and ``hubtap server`` (HTTP on a free loopback port) in ``timezone``,
    with the operator account ``ada``; the site and the dashboard's base URL."""
    (workdir / "broker").mkdir()
    broker = Mosquitto(workdir / "broker")
    broker.start()
    port = free_port()
    try:
        extra = f'[hub]\ntimezone = "{timezone}"\n'
        with running_site(broker, workdir, http_port=port, extra=extra) as site:
            users.add(site.store, "ada", PASSWORD, "operator", "test", display_name="Ada")
            yield site, f"http://127.0.0.1:{port}"
    finally:
        broker.stop()


@contextmanager
def checked_page(
    browser: Browser, base: str, expected: tuple[str, ...] = ("status of 422",)
) -> Iterator[Page]:
    """A page in a fresh context; at the end, any console error but the ``expected`` ones
    (Chromium logs a form sent back with its errors as a failed load) fails the test,
    and so would a Content-Security-Policy violation."""
    context = browser.new_context(base_url=base, accept_downloads=True)
    page = context.new_page()
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and not any(text in message.text for text in expected):
            problems.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda err: problems.append(str(err)))
    yield page
    context.close()
    assert problems == [], f"the browser reported errors: {problems}"


def sign_in(page: Page, username: str = "ada", password: str = PASSWORD) -> None:
    """Sign in through the login form; lands on the overview."""
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
