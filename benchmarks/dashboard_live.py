"""A granted tap at a door → the overview in a browser showing the new count.

The hub is the real ``HubServer`` with its HTTP server on a free loopback
port, on a copy of ``benchmarks.hub_common``'s store (10,000 members,
1,000,000 access events). Debian's Chromium (Playwright, headless) is
signed in as an operator and shows the overview, which follows the hub
over Server-Sent Events. A ``MutationObserver`` (installed through
Playwright, outside the page's own scripts) notes ``Date.now()`` whenever
the count of the zone ``ground`` changes.

The door is a ``Link`` with the door's durable ``Outbox`` for ``front`` (an
``in`` door into ``ground``) in this process; each tap is a different
member arriving, published as ``DoorController.on_tap`` reports it. The
latency runs from just before the door's ``publish`` (``time.time()``) to
the observer's note of the new count (the same wall clock). Taps are spaced
by :data:`GAP_S` after the count showed, so each is measured alone (the
stream sends at most every 0.25 s). Target: none stated; reported (p95).
"""

import random
import tempfile
import time
from pathlib import Path

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright

from benchmarks.common import (
    CONNECT_TIMEOUT_S,
    BenchmarkError,
    Result,
    main_alone,
    mqtt_config,
    percentile,
)
from benchmarks.door_common import ms_summary
from benchmarks.hub_common import copy_events_store, hub_config
from benchmarks.hub_occupancy import DOOR_ID, SITE_ID, ZONE_ID, arrival, arrivals
from hub_server import users
from hub_server.demo import free_port
from hub_server.errors import HubError
from hub_server.server import HubServer, hub_link
from hub_server.store import Store
from hublink.errors import HublinkError
from hublink.link import Link
from hublink.outbox import Outbox
from hublink.topics import Topics
from tests.helpers.browser import CHROMIUM, FLAGS
from tests.helpers.dashboard import PASSWORD

DEFAULT_COUNT = 60
GAP_S = (0.3, 0.5)
SHOW_TIMEOUT_MS = 5000
SEED = 23

OBSERVE = """(zone) => {
  window.benchChanges = [];
  const cell = () => document.querySelector(`[data-count="${zone}"]`);
  new MutationObserver(() => {
    const found = cell();
    if (found) window.benchChanges.push([Date.now(), found.textContent]);
  }).observe(document.querySelector('#occupancy'), {childList: true, subtree: true,
                                                    characterData: true});
}"""


def run(port: int, count: int = DEFAULT_COUNT) -> Result:
    """``count`` taps; the time until the browser's overview shows each new count."""
    result: Result = {
        "benchmark": "dashboard_live",
        "count": count,
        "hub": "HubServer in this process with HTTP, Store.open on a file",
        "browser": f"{CHROMIUM} through Playwright, headless",
        "gap_s": list(GAP_S),
    }
    started = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory(prefix="hubtap-dashboard-live-") as workdir:
            folder = Path(workdir)
            path, figures = copy_events_store(folder)
            result["store"] = figures
            latencies = _measure(port, folder, path, count)
    except (BenchmarkError, HubError, HublinkError, PlaywrightError, OSError) as err:
        result["error"] = f"{type(err).__name__}: {err}"
        return result
    summary = ms_summary(latencies)
    summary["p95_ms"] = round(percentile(sorted(latencies), 0.95) * 1e3, 3)
    result["tap_to_browser"] = summary
    result["duration_s"] = round(time.perf_counter() - started, 1)
    return result


def _measure(port: int, folder: Path, path: Path, count: int) -> list[float]:
    http_port = free_port()
    config = hub_config(folder, port, SITE_ID, "bench-hub-dashboard", http={"port": http_port})
    with Store.open(path) as store:
        users.add(store, "bench", PASSWORD, "operator", "bench")
        server = HubServer(config, store, hub_link(config))
        server.start()
        try:
            if not server.link.wait_connected(CONNECT_TIMEOUT_S):
                raise BenchmarkError("the hub's link did not connect")
            return _taps(port, folder, f"http://127.0.0.1:{http_port}", count)
        finally:
            server.stop()


def _taps(port: int, folder: Path, base: str, count: int) -> list[float]:
    rng = random.Random(SEED)
    topics = Topics(SITE_ID)
    members = arrivals(count)
    latencies: list[float] = []
    with (
        sync_playwright() as playwright,
        Outbox(folder / "outbox.sqlite3", "full") as outbox,
        Link(mqtt_config(port), topics, client_id=f"bench-door-{DOOR_ID}", outbox=outbox) as door,
    ):
        if not door.wait_connected(CONNECT_TIMEOUT_S):
            raise BenchmarkError("the door's link did not connect")
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page(base_url=base)
            page.goto("/login")
            page.get_by_label("Username").fill("bench")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            cell = page.locator(f'[data-count="{ZONE_ID}"]')
            cell.wait_for(timeout=SHOW_TIMEOUT_MS)
            page.wait_for_timeout(500)  # the stream's first send has landed
            page.evaluate(OBSERVE, ZONE_ID)
            shown = int(cell.inner_text())
            for member in members:
                sent_at = time.time()
                door.publish(topics.door_event(DOOR_ID), arrival(member))
                shown += 1
                page.wait_for_function(
                    "([zone, want]) => window.benchChanges.some(([, text]) => text === want)",
                    arg=[ZONE_ID, str(shown)],
                    timeout=SHOW_TIMEOUT_MS,
                    polling=10,
                )
                changes = page.evaluate("window.benchChanges")
                seen_ms = next(at for at, text in changes if text == str(shown))
                latencies.append(seen_ms / 1000 - sent_at)
                time.sleep(rng.uniform(*GAP_S))
        finally:
            browser.close()
    return latencies


if __name__ == "__main__":
    raise SystemExit(main_alone(run, __doc__, DEFAULT_COUNT))
