"""Membership tiers: the service and ``hubtap tiers``."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub_server import audit, members, tiers
from hub_server.errors import Conflict, Invalid, NotFound
from hub_server.models import MemberIn, build
from hub_server.store import Store
from hub_server.tiers import TierChange, TierIn
from tests.test_hub_cli import ACTOR as CLI_ACTOR
from tests.test_hub_cli import Hub, rows

ACTOR = "test"


@pytest.fixture
def store() -> Iterator[Store]:
    with Store.memory() as store:
        yield store


@pytest.fixture
def hub(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch) -> Hub:
    """``hubtap`` with the tiers commands registered (``hub_server.cli`` lists them later)."""
    for name in list(os.environ):
        if name.startswith("HUBTAP_"):
            monkeypatch.delenv(name)
    return Hub(tmp_path, capsys)


def test_the_schemas_member_tier_allows_three_guests_a_day(store):
    assert tiers.all_tiers(store) == [
        tiers.Tier(id="member", name="Member", guests_per_day=3, members=0)
    ]


def test_a_tier_is_added_changed_and_counts_its_members_but_not_deactivated_ones(store):
    added = tiers.add(
        store, build(TierIn, id="resident", name=" Resident ", guests_per_day=5), ACTOR
    )
    assert (added.id, added.name, added.guests_per_day, added.members) == (
        "resident",
        "Resident",
        5,
        0,
    )
    for first in ("Åsa", "Björn"):
        members.add(store, build(MemberIn, first_name=first, last_name="T", tier="resident"), ACTOR)
    gone = members.add(
        store, build(MemberIn, first_name="Eva", last_name="T", tier="resident"), ACTOR
    )
    members.deactivate(store, gone.id, ACTOR)

    changed = tiers.update(store, "resident", build(TierChange, guests_per_day=0), ACTOR)
    assert (changed.name, changed.guests_per_day, changed.members) == ("Resident", 0, 2)
    renamed = tiers.update(store, "resident", build(TierChange, name="Resident+"), ACTOR)
    assert (renamed.name, renamed.guests_per_day) == ("Resident+", 0)
    assert [t.id for t in tiers.all_tiers(store)] == ["member", "resident"]
    logged = [(e.action, e.target, e.detail) for e in audit.entries(store) if "tier" in e.action]
    assert logged == [
        ("tier.change", "resident", {"name": "Resident+"}),
        ("tier.change", "resident", {"guests_per_day": 0}),
        ("tier.add", "resident", {"name": "Resident", "guests_per_day": 5}),
    ]


def test_a_new_tier_allows_three_guests_unless_told(store):
    assert tiers.add(store, build(TierIn, id="flex", name="Flex"), ACTOR).guests_per_day == 3


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"id": "bad id", "name": "X"}, "id"),
        ({"id": "x", "name": "  "}, "name"),
        ({"id": "x", "name": "X", "guests_per_day": -1}, "guests_per_day"),
        ({"id": "x", "name": "X", "guests_per_day": 101}, "guests_per_day"),
    ],
)
def test_bad_tiers_name_the_field(values, field):
    with pytest.raises(Invalid) as err:
        build(TierIn, **values)
    assert err.value.field == field


def test_a_taken_id_and_an_unknown_tier_are_refused_and_nothing_is_written(store):
    with pytest.raises(Conflict, match="a tier with id member exists"):
        tiers.add(store, build(TierIn, id="member", name="Again"), ACTOR)
    with pytest.raises(NotFound, match="no tier 'gold'"):
        tiers.update(store, "gold", build(TierChange, name="Gold"), ACTOR)
    with pytest.raises(NotFound):
        tiers.get(store, "gold")
    assert tiers.get(store, "member").name == "Member"
    assert audit.entries(store) == []


def test_tiers_on_the_command_line(hub):
    assert hub.ok("tiers", "add", "resident", "--name", "Resident", "--guests-per-day", "5") == (
        "tier resident (Resident) added: 5 guests a day\n"
    )
    assert hub.ok("tiers", "set", "member", "--guests-per-day", "1") == (
        "tier member (Member): 1 guest a day\n"
    )
    hub.ok("members", "add", "--first-name", "Åsa", "--last-name", "Ö", "--tier", "resident")
    assert rows(hub.ok("tiers", "list")) == [
        ["ID", "NAME", "GUESTS/DAY", "MEMBERS"],
        ["member", "Member", "1", "0"],
        ["resident", "Resident", "5", "1"],
    ]
    with hub.store() as store:
        assert [e.actor for e in audit.entries(store) if e.action.startswith("tier.")] == [
            CLI_ACTOR,
            CLI_ACTOR,
        ]


def test_bad_tier_commands_are_one_line_errors(hub):
    hub.ok("db", "init")
    too_many = hub("tiers", "set", "member", "--guests-per-day", "101")
    assert (too_many.status, too_many.err) == (
        1,
        "hubtap: guests_per_day: Input should be less than or equal to 100\n",
    )
    unknown = hub("tiers", "set", "gold", "--name", "Gold")
    assert (unknown.status, unknown.err) == (1, "hubtap: no tier 'gold'\n")
