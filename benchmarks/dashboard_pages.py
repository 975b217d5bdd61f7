"""Server time of the dashboard's busiest pages with 10,000 members and 1,000,000 access events.

The store is a copy of ``benchmarks.hub_common``'s (10,000 members, their
cards, 1,000,000 access events and the presence sessions built from them),
``Store.open`` on a file, plus :data:`PRESENT` members checked in now (so
"who is in" has rows). The dashboard is the real application
(``create_site``), called in this process through Starlette's ``TestClient``
with an operator's session: each timing runs from sending the request to
having the whole body, so it includes the test client's own overhead
(about 1 ms) and is an upper bound of the server's time. Each page is
fetched once unmeasured, then ``count`` times.

Pages: the overview (occupancy, who is in, doors, the newest access log
entries), the members list (first page of 10,000, and a search), the
access log (first page, one door's entries, and an older page through its
cursor), and the occupancy charts (8 weeks of stays swept in Python;
reported, no target). Target: p95 of each other page at most **100 ms**.
"""

import re
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from fastapi.testclient import TestClient

from benchmarks.common import BenchmarkError, Result, main_pinned, percentile, pinned
from benchmarks.door_common import ms_summary
from benchmarks.hub_common import (
    EVENT_DOORS,
    HISTORY_END,
    TIMEZONE,
    copy_events_store,
    member_id,
    usable,
)
from hub_server import users
from hub_server.config import HubConfig
from hub_server.errors import HubError
from hub_server.site import create_site
from hub_server.store import Store, now_text
from tests.helpers.dashboard import PASSWORD, csrf_in

DEFAULT_COUNT = 100
TARGET_P95_MS = 100.0
NO_TARGET = ("charts",)
"""Pages measured and reported without a target."""
PRESENT = 300
"""Members checked in now, in the first zone."""
_OLDER = re.compile(r'href="(/access-log\?[^"]*cursor=[^"]+)"')


def run(count: int = DEFAULT_COUNT, pin: bool = True) -> Result:
    """Fetch each page ``count`` times; p50/p95/p99 of the time to a whole answer."""
    result: Result = {
        "benchmark": "dashboard_pages",
        "count": count,
        "how": "create_site in this process, Starlette TestClient, an operator's session",
        "target_p95_ms": TARGET_P95_MS,
    }
    started = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory(prefix="hubtap-dashboard-pages-") as workdir:
            path, figures = copy_events_store(Path(workdir))
            result["store"] = figures
            with pinned(pin) as cpus:
                result["cpus"] = cpus
                result["pages"] = _measure(path, count)
    except (BenchmarkError, HubError, OSError) as err:
        result.update(error=f"{type(err).__name__}: {err}", meets_target=False)
        return result
    pages = result["pages"]
    result["meets_target"] = all(
        page["p95_ms"] <= TARGET_P95_MS for name, page in pages.items() if name not in NO_TARGET
    )
    result["duration_s"] = round(time.perf_counter() - started, 1)
    return result


def _measure(path: Path, count: int) -> dict[str, dict[str, float | int]]:
    config = HubConfig.model_validate(
        {"data_dir": str(path.parent), "site": {"id": "bench"}, "hub": {"timezone": TIMEZONE}}
    )
    with Store.open(path) as store:
        _check_in(store)
        users.add(store, "bench", PASSWORD, "operator", "bench")
        client = TestClient(create_site(store, config, site_key=None), follow_redirects=False)
        form = client.get("/login")
        answer = client.post(
            "/login", data={"username": "bench", "password": PASSWORD, "csrf": csrf_in(form.text)}
        )
        if answer.status_code != 303:
            raise BenchmarkError(f"could not sign in: {answer.status_code}")
        first_log = client.get("/access-log")
        older = _OLDER.search(first_log.text)
        if older is None:
            raise BenchmarkError("the access log page has no link to older entries")
        pages = {
            "overview": "/",
            "members": "/members",
            "members_search": "/members?q=first123",
            "access_log": "/access-log",
            "access_log_door": f"/access-log?door={EVENT_DOORS[1].id}",
            "access_log_older": older.group(1).replace("&amp;", "&"),
            "charts": "/charts",
        }
        return {name: _time(partial(_fetch, client, page), count) for name, page in pages.items()}


def _fetch(client: TestClient, path: str) -> None:
    answer = client.get(path)
    if answer.status_code != 200:
        raise BenchmarkError(f"GET {path}: {answer.status_code}")


def _time(call: Callable[[], None], count: int) -> dict[str, float | int]:
    call()  # once unmeasured: templates compiled, pages of the database cached
    seconds = []
    for _ in range(count):
        started = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - started)
    summary = ms_summary(seconds)
    summary["p95_ms"] = round(percentile(sorted(seconds), 0.95) * 1e3, 3)
    return summary


def _check_in(store: Store) -> None:
    """:data:`PRESENT` members in the first zone since the history's end."""
    zone = store.query_one("SELECT id FROM zones ORDER BY id LIMIT 1")
    if zone is None:
        raise BenchmarkError("the store has no zones")
    since = now_text(HISTORY_END)
    present = [member_id(i) for i in range(PRESENT * 2) if usable(i)][:PRESENT]
    with store.write() as db:
        db.conn.executemany(
            "INSERT INTO presence (member_id, zone_id, started_at, visit_start)"
            " VALUES (?, ?, ?, ?)",
            [(member, zone["id"], since, since) for member in present],
        )


def main() -> int:
    """Run alone: ``python -m benchmarks.dashboard_pages [--count N] [--no-pin]``."""
    return main_pinned(run, __doc__, DEFAULT_COUNT, "requests per page")


if __name__ == "__main__":
    raise SystemExit(main())
