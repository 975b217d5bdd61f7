"""The access-log query service: filters, keyset pages, and the indexes they ride."""

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest

from hub_server import access_log, members
from hub_server.access_log import AccessLogFilter, encode_cursor
from hub_server.errors import Invalid
from hub_server.models import MemberIn
from hub_server.store import Store, now_text

T0 = datetime(2025, 5, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def store() -> Iterator[Store]:
    with Store.memory() as store:
        yield store


def add_event(
    store: Store,
    event_id: str,
    ts: datetime,
    *,
    door: str = "front",
    granted: bool = True,
    reason: str = "ok",
    member: str | None = None,
    hint: str | None = "b2c3",
    role: str | None = "member",
) -> None:
    with store.write() as db:
        db.execute(
            "INSERT INTO access_events (id, ts, door_id, reader_id, granted, reason, member_id,"
            " credential, card_hint, role, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                event_id, now_text(ts), door, "r1", int(granted), reason, member, None, hint,
                role, now_text(ts),
            ),
        )  # fmt: skip


def add_member(store: Store, member_id: str, first: str, last: str) -> None:
    members.add(store, MemberIn(id=member_id, first_name=first, last_name=last), "test")


def flat(pages: list[list[str]]) -> list[str]:
    return [item for page in pages for item in page]


def every_page(store: Store, filters: AccessLogFilter, limit: int) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        got = access_log.page(store, filters, limit, cursor)
        pages.append([item.id for item in got.items])
        cursor = got.next_cursor
        if cursor is None:
            return pages
        assert len(pages) < 100, "pagination does not end"


def test_entries_come_newest_first_with_the_member_name_while_the_member_exists(store):
    add_member(store, "m-asa", "Åsa", "Berg")
    add_event(store, "e1", T0, member="m-asa")
    add_event(store, "e2", T0 + timedelta(seconds=5), member="m-gone", granted=False,
              reason="unknown_member")  # fmt: skip
    add_event(store, "e3", T0 + timedelta(seconds=9), member=None, hint="ffff", role=None,
              granted=False, reason="unknown_credential")  # fmt: skip
    got = access_log.page(store, AccessLogFilter())
    assert [e.id for e in got.items] == ["e3", "e2", "e1"]
    assert got.next_cursor is None
    newest, gone, asa = got.items
    assert (asa.first_name, asa.last_name, asa.member_id, asa.granted) == (
        "Åsa", "Berg", "m-asa", True,
    )  # fmt: skip
    assert asa.ts == T0
    assert asa.door_id == "front"
    assert asa.reader_id == "r1"
    assert asa.card_hint == "b2c3"
    assert asa.role == "member"
    assert (gone.member_id, gone.first_name, gone.last_name) == ("m-gone", None, None)
    assert (newest.granted, newest.reason, newest.card_hint) == (
        False,
        "unknown_credential",
        "ffff",
    )


def test_pages_cover_every_entry_once_in_order(store):
    for n in range(25):
        add_event(store, f"e{n:02d}", T0 + timedelta(minutes=n))
    pages = every_page(store, AccessLogFilter(), 10)
    assert [len(p) for p in pages] == [10, 10, 5]
    assert flat(pages) == [f"e{n:02d}" for n in reversed(range(25))]


def test_a_full_last_page_has_no_next_cursor(store):
    for n in range(4):
        add_event(store, f"e{n}", T0 + timedelta(minutes=n))
    assert every_page(store, AccessLogFilter(), 2) == [["e3", "e2"], ["e1", "e0"]]


def test_entries_with_the_same_time_are_not_lost_between_pages(store):
    for n in range(7):
        add_event(store, f"e{n}", T0)  # one burst, one timestamp
    pages = every_page(store, AccessLogFilter(), 3)
    assert flat(pages) == [f"e{n}" for n in reversed(range(7))]


def test_filters_combine_and_paginate(store):
    for n in range(40):
        add_event(
            store,
            f"e{n:02d}",
            T0 + timedelta(minutes=n),
            door="front" if n % 2 else "back",
            member="m-a" if n % 4 < 2 else "m-b",
            granted=n % 5 != 0,
            reason="ok" if n % 5 else "outside_schedule",
        )
    filters = AccessLogFilter(
        member_id="m-a",
        door_id="front",
        since=T0 + timedelta(minutes=5),
        until=T0 + timedelta(minutes=37),
    )
    wanted = [f"e{n:02d}" for n in reversed(range(5, 37)) if n % 2 and n % 4 < 2]  # 5, 9, 13, …, 33
    assert wanted[0] == "e33"
    pages = every_page(store, filters, 3)
    assert flat(pages) == wanted
    assert len(pages) == 3  # 8 entries: 3 + 3 + 2

    denied = every_page(store, AccessLogFilter(granted=False), 3)
    assert flat(denied) == [f"e{n:02d}" for n in reversed(range(40)) if n % 5 == 0]
    by_reason = access_log.page(store, AccessLogFilter(reason="outside_schedule"), 500)
    assert [e.id for e in by_reason.items] == flat(denied)
    granted = access_log.page(store, AccessLogFilter(granted=True, door_id="back"), 500)
    assert [e.id for e in granted.items] == [
        f"e{n:02d}" for n in reversed(range(40)) if n % 2 == 0 and n % 5
    ]


def test_since_is_inclusive_until_exclusive_and_offsets_count(store):
    for n in range(5):
        add_event(store, f"e{n}", T0 + timedelta(hours=n))
    stockholm = timezone(timedelta(hours=2))
    filters = AccessLogFilter(
        since=(T0 + timedelta(hours=1)).astimezone(stockholm),  # 11:00+02:00 is 09:00Z
        until=T0 + timedelta(hours=3),
    )
    assert [e.id for e in access_log.page(store, filters).items] == ["e2", "e1"]


def test_a_cursor_below_until_continues_the_page(store):
    for n in range(10):
        add_event(store, f"e{n}", T0 + timedelta(minutes=n))
    filters = AccessLogFilter(until=T0 + timedelta(minutes=5))
    assert every_page(store, filters, 2) == [["e4", "e3"], ["e2", "e1"], ["e0"]]


def test_a_cursor_above_until_leaves_until_in_charge(store):
    for n in range(10):
        add_event(store, f"e{n}", T0 + timedelta(minutes=n))
    first = access_log.page(store, AccessLogFilter(), 2)  # e9, e8: the cursor is at e8
    assert first.next_cursor is not None
    narrowed = AccessLogFilter(until=T0 + timedelta(minutes=5))
    got = access_log.page(store, narrowed, 3, first.next_cursor)
    assert [e.id for e in got.items] == ["e4", "e3", "e2"]


def test_iter_all_reads_every_match_a_page_at_a_time(store, monkeypatch):
    monkeypatch.setattr(access_log, "EXPORT_PAGE", 3)
    for n in range(10):
        add_event(store, f"e{n}", T0 + timedelta(minutes=n), granted=n != 4)
    got = [e.id for e in access_log.iter_all(store, AccessLogFilter(granted=True))]
    assert got == [f"e{n}" for n in reversed(range(10)) if n != 4]
    assert list(access_log.iter_all(store, AccessLogFilter(door_id="nowhere"))) == []


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        (AccessLogFilter(since=datetime(2025, 5, 1, 8, 0)), "since"),
        (AccessLogFilter(until=datetime(2025, 5, 1, 8, 0)), "until"),
        (AccessLogFilter(since=T0, until=T0), "until"),
        (AccessLogFilter(since=T0, until=T0 - timedelta(seconds=1)), "until"),
    ],
)
def test_bad_filters_name_their_field(store, filters, field):
    with pytest.raises(Invalid) as caught:
        access_log.page(store, filters)
    assert caught.value.field == field


@pytest.mark.parametrize("limit", [0, -1, 501])
def test_the_limit_is_bounded(store, limit):
    with pytest.raises(Invalid) as caught:
        access_log.page(store, AccessLogFilter(), limit)
    assert caught.value.field == "limit"


def b64(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "abc",
        "!!!!",
        "x" * 401,
        b64({"ts": "2025-05-01T08:00:00+00:00", "id": "e1"}),
        b64(["2025-05-01T08:00:00+00:00"]),
        b64(["2025-05-01T08:00:00+00:00", ""]),
        b64(["yesterday", "e1"]),
        b64(["2025-05-01T08:00:00", "e1"]),  # no offset
        b64([1, 2]),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ],
)
def test_a_cursor_the_api_did_not_make_is_invalid(store, cursor):
    with pytest.raises(Invalid) as caught:
        access_log.page(store, AccessLogFilter(), 10, cursor)
    assert caught.value.field == "cursor"


def test_a_cursor_round_trips(store):
    cursor = encode_cursor("2025-05-01T08:00:00.000000+00:00", "0196-abc")
    assert access_log.decode_cursor(cursor) == ("2025-05-01T08:00:00.000000+00:00", "0196-abc")


CURSOR = encode_cursor(now_text(T0), "e5")


def table_step(plan: list[str]) -> str:
    (step,) = [line for line in plan if line.split()[1] == "e"]
    return step


@pytest.mark.parametrize(
    ("filters", "index"),
    [
        (AccessLogFilter(member_id="m-a"), "access_events_member"),
        (AccessLogFilter(door_id="front"), "access_events_door"),
        (AccessLogFilter(since=T0), "access_events_ts"),
        (AccessLogFilter(until=T0), "access_events_ts"),
        (AccessLogFilter(since=T0, until=T0 + timedelta(days=1)), "access_events_ts"),
        (AccessLogFilter(member_id="m-a", since=T0, granted=False), "access_events_member"),
        (AccessLogFilter(door_id="front", until=T0, reason="ok"), "access_events_door"),
    ],
)
@pytest.mark.parametrize("cursor", [None, CURSOR])
def test_filtered_pages_search_an_index_and_never_sort(store, filters, index, cursor):
    for n in range(20):  # a few rows, so the planner has something to look at
        add_event(store, f"e{n}", T0 + timedelta(minutes=n), member=f"m-{n % 3}")
    plan = access_log.query_plan(store, filters, cursor)
    step = table_step(plan)
    assert step.startswith(f"SEARCH e USING INDEX {index} ("), plan
    assert not any("TEMP B-TREE" in line for line in plan), plan


@pytest.mark.parametrize(
    "filters", [AccessLogFilter(), AccessLogFilter(granted=False, reason="unknown_credential")]
)
def test_unfiltered_pages_walk_the_time_index_and_a_cursor_makes_it_a_search(store, filters):
    plan = access_log.query_plan(store, filters)
    assert table_step(plan) == "SCAN e USING INDEX access_events_ts", plan  # stops at LIMIT
    assert not any("TEMP B-TREE" in line for line in plan), plan
    with_cursor = table_step(access_log.query_plan(store, filters, CURSOR))
    assert with_cursor.startswith("SEARCH e USING INDEX access_events_ts ("), with_cursor


def test_member_and_door_together_use_one_of_their_indexes(store):
    plan = access_log.query_plan(store, AccessLogFilter(member_id="m-a", door_id="front"), CURSOR)
    step = table_step(plan)
    assert step.startswith(
        ("SEARCH e USING INDEX access_events_member (", "SEARCH e USING INDEX access_events_door (")
    ), plan
    assert not any("TEMP B-TREE" in line for line in plan), plan
