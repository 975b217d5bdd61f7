"""The dashboard's access log (filters in local time, paging, CSV export) and audit log."""

import csv
import html
import io
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hub_server import access_log, audit, members, presence
from hub_server.access_log import AccessLogFilter
from hub_server.csv_safety import safe_cell, safe_row
from hub_server.ingest import Inbound, Ingest
from hub_server.models import MemberIn, build
from hub_server.store import Store
from hublink.messages import AccessEvent
from tests.helpers.dashboard import config, signed_in, site_for
from tests.helpers.hub_data import seed, tap

STOCKHOLM = "Europe/Stockholm"
BASE = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)  # 08:00 in Stockholm (summer time)
EVENT = re.compile(r'data-event="([^"]+)"')
AUDIT_ROW = re.compile(r'data-audit="(\d+)"')
OLDER = re.compile(r'<a href="([^"]+)" rel="next">')


@pytest.fixture
def store():
    with Store.memory() as store:
        yield seed(store)


@pytest.fixture
def site(store):
    return site_for(store, config(hub={"timezone": STOCKHOLM}))


@pytest.fixture
def operator(store, site):
    return signed_in(store, site)


def ingest(store: Store, *taps: tuple[str, AccessEvent]) -> list[str]:
    """Store the taps (door id, event) as the server would; their ids."""
    Ingest(store, presence.rules_from(config())).process(
        [Inbound("door", door_id, event) for door_id, event in taps]
    )
    return [event.id for _, event in taps]


def shown(page: str) -> list[str]:
    return EVENT.findall(page)


def older_link(page: str) -> str | None:
    found = OLDER.search(page)
    return html.unescape(found.group(1)) if found else None


# --- filters ---------------------------------------------------------------------


def test_the_page_lists_entries_newest_first_with_names_and_links(store, operator):
    first, second, third = ingest(
        store,
        ("front", tap("m-asa", BASE)),
        ("side", tap(None, BASE + timedelta(minutes=1), granted=False, card_hint="beef")),
        ("exit", tap("m-bjorn", BASE + timedelta(minutes=2))),
    )
    page = operator.get("/access-log")
    assert page.status_code == 200
    assert shown(page.text) == [third, second, first]
    assert '<a href="/members/m-asa">Åsa Test</a>' in page.text
    assert "card …beef" in page.text
    assert "2026-05-04 08:00:00" in page.text  # local time, not UTC
    assert "unknown_credential" in page.text


def test_filters_by_door_decision_member_and_reason(store, operator):
    asa_front, bjorn_front, denied_side, asa_exit = ingest(
        store,
        ("front", tap("m-asa", BASE)),
        ("front", tap("m-bjorn", BASE + timedelta(minutes=1))),
        ("side", tap(None, BASE + timedelta(minutes=2), granted=False)),
        ("exit", tap("m-asa", BASE + timedelta(minutes=3))),
    )
    assert shown(operator.get("/access-log?door=front").text) == [bjorn_front, asa_front]
    assert shown(operator.get("/access-log?decision=denied").text) == [denied_side]
    assert shown(operator.get("/access-log?decision=granted&door=").text) == [
        asa_exit,
        bjorn_front,
        asa_front,
    ]
    assert shown(operator.get("/access-log?member=m-asa").text) == [asa_exit, asa_front]
    assert shown(operator.get("/access-log?reason=unknown_credential").text) == [denied_side]
    both = operator.get("/access-log?member=m-asa&door=exit")
    assert shown(both.text) == [asa_exit]
    assert 'value="m-asa"' in both.text  # the filters stay in the form
    assert '<option value="exit" selected>' in both.text


def test_local_dates_follow_daylight_saving_time(store, operator):
    # 2026-03-29 is 23 hours long in Stockholm: 00:00 CET is 23:00Z the day before,
    # and the next midnight is 00:00 CEST, 22:00Z.
    day = "2026-03-29"
    before, early, late, after = ingest(
        store,
        ("front", tap("m-asa", datetime(2026, 3, 28, 22, 59, tzinfo=UTC))),
        ("front", tap("m-asa", datetime(2026, 3, 28, 23, 30, tzinfo=UTC))),
        ("front", tap("m-asa", datetime(2026, 3, 29, 21, 59, tzinfo=UTC))),
        ("front", tap("m-asa", datetime(2026, 3, 29, 22, 30, tzinfo=UTC))),
    )
    page = operator.get(f"/access-log?from={day}&to={day}")
    assert shown(page.text) == [late, early]
    assert before not in page.text
    assert after not in page.text
    # a time is local too (23:59 CEST is 21:59Z); "from" includes it, "to" stops before it
    hours = operator.get("/access-log?from=2026-03-29T00:30&to=2026-03-29T23:59")
    assert shown(hours.text) == [early]
    evening = operator.get("/access-log?from=2026-03-29T23:59")
    assert shown(evening.text) == [after, late]


def test_local_filter_converts_to_utc_in_the_service():
    zone = ZoneInfo(STOCKHOLM)
    filters, errors = access_log.local_filter(
        {"from": "2026-10-25", "to": "2026-10-25", "decision": "denied"}, zone, ["front"]
    )
    assert errors == {}
    assert filters == AccessLogFilter(
        since=datetime(2026, 10, 24, 22, 0, tzinfo=UTC),  # 00:00 CEST
        until=datetime(2026, 10, 25, 23, 0, tzinfo=UTC),  # 00:00 CET: a 25-hour day
        granted=False,
    )


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=yesterday", "from"),
        ("to=2026-02-30", "to"),
        ("from=2026-05-02&to=2026-05-01", "to"),
        ("to=9999-12-31", "to"),
        ("from=0001-01-01", "from"),
        ("door=nowhere", "door"),
        ("decision=maybe", "decision"),
        ("member=%3Cscript%3E", "member"),
        ("reason=DROP%20TABLE", "reason"),
    ],
)
def test_a_bad_filter_is_an_inline_error(store, operator, query, field):
    ingest(store, ("front", tap("m-asa", BASE)))
    page = operator.get(f"/access-log?{query}")
    assert page.status_code == 422
    assert f'id="e-{field}"' in page.text
    assert f'aria-invalid="true" aria-describedby="e-{field}"' in page.text
    assert shown(page.text) == []
    assert "<script>" not in page.text


def test_a_bad_cursor_is_a_422_with_a_message(store, operator):
    page = operator.get("/access-log?cursor=not-a-cursor")
    assert page.status_code == 422
    assert "not a cursor" in page.text


# --- paging -----------------------------------------------------------------------


def test_paging_back_shows_every_entry_once_and_keeps_the_filters(store, operator):
    # 130 taps at the front, two per second (same timestamp: the id breaks the tie),
    # and others at the side that the door filter must keep out
    taps = [("front", tap("m-asa", BASE + timedelta(seconds=n // 2))) for n in range(130)] + [
        ("side", tap("m-bjorn", BASE + timedelta(seconds=n))) for n in range(20)
    ]
    ingest(store, *taps)
    expected = [entry.id for entry in access_log.iter_all(store, AccessLogFilter(door_id="front"))]
    assert len(expected) == 130
    seen: list[str] = []
    path: str | None = "/access-log?door=front"
    pages = 0
    while path is not None:
        page = operator.get(path)
        assert page.status_code == 200
        rows = shown(page.text)
        assert len(rows) <= 50
        seen += rows
        pages += 1
        if pages > 1:
            assert "door=front" in path
            assert '<a href="/access-log?door=front">← Newest</a>' in page.text
        path = older_link(page.text)
    assert pages == 3
    assert seen == expected  # newest first, no gaps, no repeats


# --- CSV export -------------------------------------------------------------------------


def test_the_csv_export_has_the_filtered_rows_and_is_audited(store, operator):
    ingest(
        store,
        ("front", tap("m-asa", BASE)),
        ("side", tap(None, BASE + timedelta(minutes=1), granted=False, card_hint="beef")),
        ("exit", tap("m-bjorn", BASE + timedelta(minutes=2))),
    )
    answer = operator.get("/access-log.csv?door=&decision=any&from=2026-05-04")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    disposition = answer.headers["content-disposition"]
    assert re.fullmatch(r'attachment; filename="access-log-\d{4}-\d{2}-\d{2}\.csv"', disposition)
    rows = list(csv.reader(io.StringIO(answer.text)))
    assert rows[0] == list(access_log.CSV_COLUMNS)
    assert rows[1] == [
        "2026-05-04T06:02:00.000000+00:00",
        "2026-05-04T08:02:00+02:00",
        "exit",
        "r1",
        "m-bjorn",
        "Björn",
        "Test",
        "",
        "yes",
        "member",
    ]
    assert rows[2][2:] == ["side", "r1", "", "", "", "beef", "no", "unknown_credential"]
    assert len(rows) == 4
    denied = operator.get("/access-log.csv?decision=denied")
    assert [row[2] for row in csv.reader(io.StringIO(denied.text))] == ["door", "side"]
    [first, second] = [e for e in audit.entries(store) if e.action == "access_log.export"][::-1]
    assert first.actor == "web:operator"
    assert first.detail["since"].startswith("2026-05-03 22:00:00")
    assert second.detail == {"granted": False}


def test_a_bad_export_filter_is_the_page_with_an_error(store, operator):
    answer = operator.get("/access-log.csv?to=soon")
    assert answer.status_code == 422
    assert 'id="e-to"' in answer.text
    assert not [e for e in audit.entries(store) if e.action == "access_log.export"]


def test_the_export_defuses_spreadsheet_formulas(store, operator):
    evil = '=HYPERLINK("http://evil.example","click")'
    members.add(store, build(MemberIn, id="m-evil", first_name=evil, last_name="+1-2"), "test")
    ingest(store, ("front", tap("m-evil", BASE)))
    rows = list(csv.reader(io.StringIO(operator.get("/access-log.csv").text)))
    assert rows[1][5:7] == ["'" + evil, "'+1-2"]
    page = operator.get("/access-log")  # the page shows the name as it is, escaped
    assert "=HYPERLINK(&#34;http://evil.example&#34;" in page.text


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+46 70", "'+46 70"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Åsa", "Åsa"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_safe_cell(cell, expected):
    assert safe_cell(cell) == expected


def test_safe_row_makes_text_of_every_cell():
    assert safe_row([None, 3, "=x", True]) == ["", "3", "'=x", "True"]


# --- the audit log ---------------------------------------------------------------------


def record(store: Store, count: int, actor: str, action: str) -> None:
    with store.write() as db:
        for n in range(count):
            audit.record(db, actor, action, f"t{n}", n=n, note=None)


def test_the_audit_page_shows_entries_with_their_details(store, operator):
    record(store, 1, "web:alice", "member.suspend")
    with store.write() as db:
        audit.record(db, "cli:bob", "door.unlock", "front", seconds=5, command="c-1", x=None)
    page = operator.get("/audit")
    assert page.status_code == 200
    newest = page.text.index("door.unlock")
    assert newest < page.text.index("member.suspend")
    assert "seconds=5" in page.text
    assert "command=c-1" in page.text
    assert "x=" not in page.text
    assert "cli:bob" in page.text


def test_the_audit_page_filters_by_actor_and_action_prefix(store, operator):
    record(store, 2, "web:alice", "member.suspend")
    record(store, 1, "web:bob", "member.add")
    record(store, 1, "web:alice", "door.unlock")
    record(store, 1, "cli:carol", "access_log.export")
    record(store, 1, "cli:carol", "accessXlog.export")

    def targets(query: str) -> list[tuple[str, str]]:
        page = operator.get(f"/audit?{query}")
        assert page.status_code == 200
        ids = [int(i) for i in AUDIT_ROW.findall(page.text)]
        found = {e.id: (e.actor, e.action) for e in audit.entries(store, limit=500)}
        return [found[i] for i in ids]

    assert targets("actor=ALICE&action=member.") == [("web:alice", "member.suspend")] * 2
    assert targets("actor=web:&action=member.") == [
        ("web:bob", "member.add"),
        ("web:alice", "member.suspend"),
        ("web:alice", "member.suspend"),
    ]
    # "_" is a plain character, not a LIKE wildcard
    assert targets("action=access_log") == [("cli:carol", "access_log.export")]
    assert targets("actor=nobody") == []


def test_the_audit_page_pages_back_by_id(store, operator):
    record(store, 250, "web:alice", "member.suspend")
    record(store, 5, "web:bob", "door.unlock")
    ids: list[int] = []
    path: str | None = "/audit?actor=alice"
    while path is not None:
        page = operator.get(path)
        rows = [int(i) for i in AUDIT_ROW.findall(page.text)]
        assert len(rows) <= 100
        ids += rows
        path = older_link(page.text)
        assert path is None or "actor=alice" in path
    everything = audit.find(store, actor="alice", limit=500)
    assert ids == [e.id for e in everything.entries]
    assert len(ids) == 250


def test_audit_find_in_the_service(store):
    record(store, 3, "web:alice", "member.suspend")
    first = audit.find(store, action="member.susp", limit=2)
    assert [e.target for e in first.entries] == ["t2", "t1"]
    assert first.before == first.entries[-1].id
    rest = audit.find(store, action="member.susp", limit=2, before_id=first.before)
    assert [e.target for e in rest.entries] == ["t0"]
    assert rest.before is None
    assert audit.detail_pairs({"a": 1, "b": None, "c": "x", "d": [1]}) == [
        ("a", "1"),
        ("c", "x"),
        ("d", "[1]"),
    ]


@pytest.mark.parametrize("before", ["abc", "-1", "0", "99999999999999999999999", "١٢"])
def test_a_bad_audit_page_is_a_422(operator, before):
    page = operator.get(f"/audit?before={before}")
    assert page.status_code == 422
    assert "that page does not exist" in page.text


def test_a_too_long_audit_filter_is_an_inline_error(operator):
    page = operator.get("/audit?actor=" + "a" * 101)
    assert page.status_code == 422
    assert 'id="e-actor"' in page.text


# --- roles -----------------------------------------------------------------------------------


def test_a_host_gets_403_on_the_logs(store, site):
    host = signed_in(store, site, role="host")
    for path in ("/access-log", "/access-log.csv", "/audit"):
        assert host.get(path).status_code == 403, path
    assert not [e for e in audit.entries(store) if e.action == "access_log.export"]
