"""Presence as a pure function of movements: the door table, automatic ends, any arrival order."""

import itertools
import re
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from hub_server import presence_rules
from hub_server.presence_rules import Movement, PresenceRules, Session, advance, replay

STOCKHOLM = ZoneInfo("Europe/Stockholm")
RULES = PresenceRules(timezone=STOCKHOLM, closing_time=time(23, 0), max_stay=timedelta(hours=14))
T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)  # 09:00 in Stockholm


def move(minutes: float, direction: str, zone: str | None = "lookout", n: int = 0) -> Movement:
    return Movement(
        member_id="m-1",
        ts=T0 + timedelta(minutes=minutes),
        direction=direction,  # type: ignore[arg-type]
        zone_id=zone,
        room_id=None,
        event_id=f"e{minutes:08.2f}-{n}",
    )


def summary(sessions: list[Session]) -> list[tuple[str | None, float, float | None, str | None]]:
    def minutes(at: datetime | None) -> float | None:
        return None if at is None else (at - T0).total_seconds() / 60

    return [(s.zone_id, minutes(s.started_at), minutes(s.ended_at), s.end_reason) for s in sessions]


def test_an_in_door_starts_a_stay_and_an_out_door_ends_it():
    sessions = replay([move(0, "in"), move(60, "out", None)], RULES, T0 + timedelta(hours=2))
    assert summary(sessions) == [("lookout", 0, 60, "exit")]


def test_a_zone_reader_moves_the_member_and_keeps_the_visit_start():
    sessions = replay(
        [move(0, "in", "campfire"), move(30, "zone", "glade"), move(90, "out", None)],
        RULES,
        T0 + timedelta(hours=3),
    )
    assert summary(sessions) == [("campfire", 0, 30, "moved"), ("glade", 30, 90, "exit")]
    assert sessions[1].visit_start == T0


def test_a_retap_where_the_member_already_is_changes_nothing():
    sessions = replay([move(0, "in"), move(5, "in")], RULES, T0 + timedelta(hours=1))
    assert summary(sessions) == [("lookout", 0, None, None)]


def test_a_toggle_reader_alternates_arrival_and_departure():
    sessions = replay(
        [move(0, "toggle"), move(10, "toggle"), move(20, "toggle")], RULES, T0 + timedelta(hours=1)
    )
    assert summary(sessions) == [("lookout", 0, 10, "toggle"), ("lookout", 20, None, None)]


def test_leaving_without_having_arrived_is_ignored():
    assert replay([move(0, "out", None)], RULES, T0 + timedelta(hours=1)) == []


def test_a_stay_ends_at_closing_time_in_the_sites_time_zone():
    # 09:00 local arrival; closing at 23:00 local = 22:00 UTC, 14 h after 08:00 UTC
    sessions = replay([move(0, "in")], RULES, T0 + timedelta(days=1))
    assert summary(sessions) == [("lookout", 0, 14 * 60, "closing")]
    assert sessions[0].ended_at is not None
    assert sessions[0].ended_at.astimezone(STOCKHOLM).time() == time(23, 0)


def test_the_longest_stay_ends_a_visit_before_closing_time():
    rules = PresenceRules(STOCKHOLM, time(23, 0), timedelta(hours=2))
    sessions = replay([move(0, "in"), move(60, "zone", "glade")], rules, T0 + timedelta(hours=5))
    assert summary(sessions) == [("lookout", 0, 60, "moved"), ("glade", 60, 120, "max_stay")]


def test_a_tap_after_an_automatic_end_starts_a_new_visit():
    rules = PresenceRules(STOCKHOLM, None, timedelta(hours=1))
    sessions = replay([move(0, "in"), move(120, "toggle")], rules, T0 + timedelta(minutes=150))
    assert summary(sessions) == [("lookout", 0, 60, "max_stay"), ("lookout", 120, None, None)]


def test_an_open_stay_stays_open_until_its_time_runs_out():
    sessions = replay([move(0, "in")], RULES, T0 + timedelta(hours=13))
    assert summary(sessions) == [("lookout", 0, None, None)]


def test_closing_time_across_a_daylight_saving_change():
    rules = PresenceRules(STOCKHOLM, time(23, 0), timedelta(hours=48))
    arrival = datetime(2026, 10, 25, 8, 0, tzinfo=UTC)  # the day clocks go back in Stockholm
    sessions = replay(
        [Movement("m-1", arrival, "in", "z", None, "e1")], rules, arrival + timedelta(days=2)
    )
    assert sessions[0].ended_at == datetime(2026, 10, 25, 22, 0, tzinfo=UTC)  # 23:00 CET


def test_the_module_table_is_what_the_rules_do():
    table = re.findall(r"^\| `(\w+)` \| (.+?) \| (.+?) \|$", presence_rules.__doc__ or "", re.M)
    assert [row[0] for row in table] == ["in", "zone", "out", "toggle"]
    for direction, when_out, when_in in table:
        arrived = replay([move(0, direction)], RULES, T0 + timedelta(minutes=1))
        assert (len(arrived) == 1) == when_out.startswith("arrives"), direction
        elsewhere = replay(
            [move(0, "in", "other"), move(1, direction)], RULES, T0 + timedelta(minutes=2)
        )
        left = all(s.ended_at is not None for s in elsewhere)
        assert left == (when_in == "leaves"), direction


def test_docs_door_page_lists_the_same_table():
    docs = (Path(__file__).resolve().parent.parent / "docs" / "hub.md").read_text()
    table = re.findall(r"^\| `(\w+)` \| .+? \| .+? \|$", presence_rules.__doc__ or "", re.M)
    for direction in table:
        assert f"| `{direction}` |" in docs


DIRECTIONS = st.sampled_from(["in", "zone", "out", "toggle"])
ZONES = st.sampled_from(["campfire", "glade", "lookout"])


@st.composite
def movements(draw: st.DrawFn) -> list[Movement]:
    count = draw(st.integers(min_value=0, max_value=12))
    moves = []
    for n in range(count):
        minutes = draw(st.integers(min_value=0, max_value=48 * 60))
        direction = draw(DIRECTIONS)
        zone = None if direction == "out" else draw(ZONES)
        moves.append(move(minutes, direction, zone, n))
    return moves


@settings(max_examples=300, deadline=None)
@given(moves=movements(), order=st.randoms(use_true_random=False))
def test_arrival_order_never_changes_the_sessions(moves, order):
    now = T0 + timedelta(days=3)
    shuffled = list(moves)
    order.shuffle(shuffled)
    assert replay(shuffled, RULES, now) == replay(moves, RULES, now)


@settings(max_examples=300, deadline=None)
@given(moves=movements())
def test_applying_one_by_one_equals_replaying(moves):
    now = T0 + timedelta(days=3)
    ordered = sorted(moves, key=lambda m: (m.ts, m.event_id or ""))
    ended: list[Session] = []
    current = None
    for one in ordered:
        closed, current = advance(current, one, RULES)
        ended.extend(closed)
    assert replay(moves, RULES, now)[: len(ended)] == ended


@settings(max_examples=300, deadline=None)
@given(moves=movements())
def test_sessions_never_overlap_and_never_end_before_they_start(moves):
    sessions = replay(moves, RULES, T0 + timedelta(days=3))
    for earlier, later in itertools.pairwise(sessions):
        assert earlier.ended_at is not None
        assert earlier.ended_at <= later.started_at
    for session in sessions:
        assert session.ended_at is None or session.ended_at >= session.started_at
        assert session.started_at - session.visit_start <= RULES.max_stay
