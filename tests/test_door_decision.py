"""The access decision: a table over every rule, and properties that must always hold."""

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from door import decision as decision_module
from door.decision import Credential, DeniedTapLimiter, Grant, Mode, Situation, decide
from door.errors import DoorError
from door.schedule import WeeklySchedule

# Wednesday 2026-11-25, 09:30 in Stockholm (UTC+1 in winter).
NOW = datetime(2026, 11, 25, 8, 30, tzinfo=UTC)
HOUR = timedelta(hours=1)
OFFICE = WeeklySchedule(
    "Europe/Stockholm", {d: [(8 * 60, 18 * 60)] for d in range(5)}, frozenset({date(2026, 12, 24)})
)
EVENINGS = WeeklySchedule("Europe/Stockholm", {2: [(18 * 60, 22 * 60)]})
SCHEDULES = {"office": OFFICE, "evenings": EVENINGS}
TIERS = {"resident": None, "day": "office", "evening": "evenings", "ghost": "gone"}
SYNCED = Situation(tiers=TIERS, schedules=SCHEDULES, last_sync=NOW - HOUR)

MEMBER = Credential("m1")
ADMIN = Credential("a1", role="admin")


@pytest.mark.parametrize(
    ("credential", "situation", "now", "granted", "reason"),
    [
        (None, SYNCED, NOW, False, "unknown_credential"),
        (MEMBER, SYNCED, NOW, True, "member"),
        (Credential("m1", active=False), SYNCED, NOW, False, "credential_suspended"),
        (Credential("m1", valid_from=NOW + HOUR), SYNCED, NOW, False, "not_yet_valid"),
        (Credential("m1", valid_until=NOW), SYNCED, NOW, False, "expired"),
        (Credential("m1", valid_until=NOW + HOUR), SYNCED, NOW, True, "member"),
        (Credential("m1", tier="day"), SYNCED, NOW, True, "member"),
        (Credential("m1", tier="evening"), SYNCED, NOW, False, "outside_schedule"),
        (Credential("m1", tier="evening"), SYNCED, NOW + 9 * HOUR, True, "member"),
        (
            Credential("m1", tier="day"),
            SYNCED,
            datetime(2026, 12, 24, 9, tzinfo=UTC),  # a Thursday, but Christmas Eve
            False,
            "holiday",
        ),
        (
            Credential("m1", tier="day"),
            SYNCED,
            datetime(2026, 11, 28, 9, tzinfo=UTC),  # Saturday
            False,
            "outside_schedule",
        ),
        (Credential("m1", tier="ghost"), SYNCED, NOW, False, "unknown_schedule"),
        (Credential("m1", tier="resident"), SYNCED, NOW + 14 * HOUR, True, "member"),
        (Credential("m1", tier="visitor"), SYNCED, NOW, False, "tier_not_allowed"),
        (
            Credential("m1", tier="visitor", grants=(Grant(NOW, NOW + HOUR, "event"),)),
            SYNCED,
            NOW,
            True,
            "event",
        ),
        (
            Credential("m1", tier="evening", grants=(Grant(NOW - HOUR, NOW + HOUR, "booking"),)),
            SYNCED,
            NOW,
            True,
            "booking",
        ),
        (
            Credential("m1", tier="evening", grants=(Grant(NOW - HOUR, NOW, "event"),)),
            SYNCED,
            NOW,
            False,
            "outside_schedule",  # the event window has ended
        ),
        (
            Credential("m1", tier="day", grants=(Grant(NOW, NOW + HOUR, "event"),)),
            SYNCED,
            NOW,
            True,
            "event",  # a window beats the schedule check
        ),
        (
            Credential("g1", role="guest", valid_until=NOW + HOUR, host_member_id="m1"),
            SYNCED,
            NOW,
            True,
            "guest_pass",
        ),
        (Credential("g1", role="guest", valid_until=NOW - HOUR), SYNCED, NOW, False, "expired"),
        (ADMIN, SYNCED, NOW, True, "admin"),
        (MEMBER, Situation(mode=Mode.LOCKDOWN, last_sync=NOW), NOW, False, "lockdown"),
        (ADMIN, Situation(mode=Mode.LOCKDOWN, last_sync=NOW), NOW, True, "break_glass"),
        (Credential("a1", role="admin", active=False), SYNCED, NOW, False, "credential_suspended"),
        (MEMBER, Situation(mode=Mode.HOLD_OPEN, last_sync=NOW), NOW, True, "member"),
        (MEMBER, Situation(last_sync=NOW - 48 * HOUR), NOW, True, "member"),  # keep the list
        (
            MEMBER,
            Situation(last_sync=NOW - 48 * HOUR, stale_policy="admin_only"),
            NOW,
            False,
            "offline_admin_only",
        ),
        (
            MEMBER,
            Situation(last_sync=None, stale_policy="admin_only"),
            NOW,
            False,
            "offline_admin_only",
        ),
        (ADMIN, Situation(last_sync=None, stale_policy="admin_only"), NOW, True, "admin"),
        (MEMBER, Situation(last_sync=NOW, stale_policy="admin_only"), NOW, True, "member"),
        (MEMBER, Situation(last_sync=NOW, throttled=True), NOW, False, "rate_limited"),
        (None, Situation(last_sync=NOW, throttled=True), NOW, False, "rate_limited"),
        (ADMIN, Situation(last_sync=NOW, throttled=True), NOW, True, "admin"),
    ],
)
def test_decision_table(credential, situation, now, granted, reason):
    decision = decide(credential, now, situation)
    assert (decision.granted, decision.reason) == (granted, reason)
    if credential is not None:
        assert decision.member_id == credential.member_id
        assert decision.role == credential.role


def documented_reasons() -> dict[str, bool]:
    """Reason code -> granted, from the table in ``door.decision``'s docstring."""
    found = {}
    for line in decision_module.__doc__.splitlines():
        if line.startswith("| `"):
            codes, granted = line.split("|")[1:3]
            for code in re.findall(r"`([a-z_]+)`", codes):
                found[code] = granted.strip() == "yes"
    return found


DOCUMENTED_REASONS = documented_reasons()


def test_the_docstring_names_every_reason_and_the_table_reaches_each():
    assert len(DOCUMENTED_REASONS) == 17
    cases = test_decision_table.pytestmark[0].args[1]
    assert {case[4] for case in cases} == set(DOCUMENTED_REASONS)


times = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)
)
offsets = st.timedeltas(min_value=timedelta(days=-400), max_value=timedelta(days=400))


@st.composite
def credentials(draw):
    now_ref = draw(times)
    start = draw(st.none() | st.just(now_ref + draw(offsets)))
    end = draw(st.none() | st.just(now_ref + draw(offsets)))
    grants = tuple(
        Grant(
            s,
            s + draw(st.timedeltas(timedelta(0), timedelta(days=2))),
            draw(st.sampled_from(["booking", "event"])),
        )
        for s in draw(st.lists(times, max_size=3))
    )
    return Credential(
        member_id="m1",
        role=draw(st.sampled_from(["member", "guest", "admin"])),
        active=draw(st.booleans()),
        valid_from=start,
        valid_until=end,
        tier=draw(st.sampled_from([None, "resident", "day", "evening", "ghost", "visitor"])),
        grants=grants,
    )


situations = st.builds(
    Situation,
    mode=st.sampled_from(list(Mode)),
    tiers=st.just(TIERS),
    schedules=st.just(SCHEDULES),
    last_sync=st.none() | times,
    stale_policy=st.sampled_from(["keep", "admin_only"]),
    throttled=st.booleans(),
)


@given(credentials(), situations, times)
def test_no_grant_for_a_suspended_or_expired_or_not_yet_valid_credential(
    credential, situation, now
):
    decision = decide(credential, now, situation)
    if decision.granted:
        assert credential.active
        assert credential.valid_from is None or credential.valid_from <= now
        assert credential.valid_until is None or now < credential.valid_until


@given(credentials(), situations, times)
def test_lockdown_admits_only_break_glass(credential, situation, now):
    situation = Situation(
        mode=Mode.LOCKDOWN,
        tiers=TIERS,
        schedules=SCHEDULES,
        last_sync=situation.last_sync,
        throttled=situation.throttled,
    )
    decision = decide(credential, now, situation)
    assert decision.granted == (decision.reason == "break_glass")
    if decision.granted:
        assert credential.role == "admin"


@given(situations, times)
def test_an_unknown_card_is_never_admitted(situation, now):
    assert not decide(None, now, situation).granted


@given(credentials(), situations, times)
def test_every_outcome_has_a_documented_reason_code(credential, situation, now):
    decision = decide(credential, now, situation)
    assert decision.reason in DOCUMENTED_REASONS
    assert DOCUMENTED_REASONS[decision.reason] == decision.granted


def test_schedules_follow_the_local_clock_across_daylight_saving():
    early = WeeklySchedule("Europe/Stockholm", {d: [(7 * 60, 8 * 60)] for d in range(7)})
    winter = datetime(2026, 1, 15, 6, 30, tzinfo=UTC)  # 07:30 CET
    summer = datetime(2026, 7, 15, 5, 30, tzinfo=UTC)  # 07:30 CEST
    assert early.check(winter) is None
    assert early.check(summer) is None
    assert early.check(summer + HOUR) == "outside_schedule"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"timezone": "Mars/Olympus", "days": {}}, "unknown time zone 'Mars/Olympus'"),
        ({"timezone": "UTC", "days": {7: []}}, "weekday 7"),
        ({"timezone": "UTC", "days": {0: [(600, 500)]}}, "interval 600-500"),
        ({"timezone": "UTC", "days": {0: [(0, 1441)]}}, "interval 0-1441"),
    ],
)
def test_a_bad_schedule_is_refused(kwargs, message):
    with pytest.raises(DoorError, match=message):
        WeeklySchedule(**kwargs)


def test_the_limiter_throttles_a_reader_after_repeated_denials_and_lets_go_after_cooldown():
    limiter = DeniedTapLimiter(max_denials=3, window_s=10, cooldown_s=30)
    denied = decide(None, NOW, SYNCED)
    for t in (0.0, 1.0):
        limiter.record("front", denied, t)
    assert not limiter.throttled("front", 2.0)
    limiter.record("front", denied, 2.0)
    assert limiter.throttled("front", 2.5)
    assert not limiter.throttled("back", 2.5)  # per reader
    assert not limiter.throttled("front", 32.5)


def test_denials_spread_out_or_granted_taps_do_not_throttle():
    limiter = DeniedTapLimiter(max_denials=3, window_s=10, cooldown_s=30)
    denied = decide(None, NOW, SYNCED)
    granted = decide(MEMBER, NOW, SYNCED)
    for t in (0.0, 11.0, 22.0):  # never three within ten seconds
        limiter.record("front", denied, t)
    for t in (23.0, 24.0, 25.0):
        limiter.record("front", granted, t)
    assert not limiter.throttled("front", 25.5)


def test_the_door_guide_lists_the_same_reasons():
    guide = (Path(__file__).resolve().parent.parent / "docs" / "door.md").read_text()
    section = guide.split("## Reasons", 1)[1].split("\n## ", 1)[0]
    found = {}
    for line in section.splitlines():
        if line.startswith("| `"):
            codes, granted = line.split("|")[1:3]
            for code in re.findall(r"`([a-z_]+)`", codes):
                found[code] = granted.strip() == "yes"
    assert found == DOCUMENTED_REASONS
