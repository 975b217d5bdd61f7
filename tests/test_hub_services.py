"""The hub's services on an in-memory store: members, organisations, cards, places, doors."""

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from hub_server import audit, cards, doors, members, organisations, places
from hub_server.errors import Conflict, Invalid, NotFound
from hub_server.models import (
    CardIn,
    DoorIn,
    MemberChange,
    MemberIn,
    OrganisationIn,
    RoomIn,
    ZoneIn,
    build,
)
from hub_server.store import Store
from hublink.credentials import credential_hash, parse_uid

KEY = bytes(range(32))
ACTOR = "test:admin"


@pytest.fixture
def store() -> Iterator[Store]:
    with Store.memory() as s:
        yield s


def add_member(store: Store, first: str = "Åsa", last: str = "Öberg", **values: object) -> str:
    data = build(MemberIn, first_name=first, last_name=last, **values)
    return members.add(store, data, ACTOR).id


def actions(store: Store) -> list[tuple[str, str]]:
    return [(e.action, e.target) for e in reversed(audit.entries(store))]


# --- organisations -----------------------------------------------------------


def test_an_organisation_gets_a_readable_id_and_counts_active_members(store):
    org = organisations.add(store, OrganisationIn(name="Skogsbyrån AB"), ACTOR)
    assert org.id == "o-skogsbyran-ab"
    add_member(store, organisation="Skogsbyrån AB")
    gone = add_member(store, "Björn", "Ek", organisation=org.id)
    members.deactivate(store, gone, ACTOR)
    assert organisations.get(store, org.id).members == 1
    assert [o.name for o in organisations.all_organisations(store)] == ["Skogsbyrån AB"]


def test_an_organisation_name_is_taken_in_any_case(store):
    organisations.add(store, OrganisationIn(name="Skogsbyrån AB"), ACTOR)
    with pytest.raises(Conflict):
        organisations.add(store, OrganisationIn(name="skogsbyrån ab", id="o-other"), ACTOR)
    second = organisations.add(store, OrganisationIn(name="Skogsbyran"), ACTOR)
    assert second.id == "o-skogsbyran"


def test_organisations_resolve_by_id_or_name_and_say_which_is_missing(store):
    org = organisations.add(store, OrganisationIn(name="Ærø Kommune"), ACTOR)
    assert organisations.resolve(store.read(), org.id) == org.id
    assert organisations.resolve(store.read(), "Ærø Kommune") == org.id
    with pytest.raises(NotFound, match="no organisation 'Nowhere'"):
        organisations.resolve(store.read(), "Nowhere")


# --- members -------------------------------------------------------------------


def test_add_and_get_a_member_with_every_field(store):
    organisations.add(store, OrganisationIn(name="Skogsbyrån AB", id="o-skog"), ACTOR)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    end = datetime(2026, 12, 31, tzinfo=UTC)
    member_id = add_member(
        store,
        email="asa@example.se",
        organisation="o-skog",
        role="admin",
        valid_from=start,
        valid_until=end,
        id="m-asa",
    )
    member = members.get(store, member_id)
    assert member_id == "m-asa"
    assert (member.first_name, member.last_name, member.email) == ("Åsa", "Öberg", "asa@example.se")
    assert (member.organisation_id, member.organisation) == ("o-skog", "Skogsbyrån AB")
    assert (member.tier, member.role, member.status) == ("member", "admin", "active")
    assert (member.valid_from, member.valid_until) == (start, end)


def test_a_member_gets_a_random_id_when_none_is_given(store):
    first, second = add_member(store), add_member(store, "Björn", "Ek")
    assert first.startswith("m-")
    assert first != second


def test_names_are_stored_in_nfc(store):
    decomposed = "A\u030asa"  # A + combining ring: how some systems send Å
    member = members.get(store, add_member(store, decomposed, "Ærø"))
    assert member.first_name == "Åsa"
    assert len(member.first_name) == 3


def test_get_an_unknown_member_is_not_found(store):
    with pytest.raises(NotFound, match="no member 'nobody'"):
        members.get(store, "nobody")


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("asa", ["Åsa"]),
        ("ÅSA", ["Åsa"]),
        ("oberg", ["Åsa"]),
        ("soren", ["Søren"]),
        ("aero", ["Søren"]),
        ("example.dk", ["Søren"]),
        ("bjö ek", ["Björn"]),
        ("e", ["Björn", "Søren", "Åsa"]),  # Ek, Ærø, Öberg
        ("zzz", []),
    ],
)
def test_search_ignores_case_and_accents(store, search, expected):
    add_member(store, "Åsa", "Öberg", email="asa@example.se")
    add_member(store, "Søren", "Ærø", email="soren@example.dk")
    add_member(store, "Björn", "Ek")
    assert [m.first_name for m in members.find(store, search=search)] == expected


def test_find_filters_by_organisation_and_status_and_pages(store):
    org = organisations.add(store, OrganisationIn(name="Skogsbyrån AB"), ACTOR)
    for n in range(5):
        add_member(store, f"Person{n}", f"L{n}", organisation=org.id)
    outsider = add_member(store, "Out", "Sider")
    members.deactivate(store, outsider, ACTOR)
    assert len(members.find(store, organisation="skogsbyrån ab")) == 5
    assert [m.id for m in members.find(store, status="inactive")] == [outsider]
    page = members.find(store, limit=2, offset=2)
    assert [m.last_name for m in page] == ["L2", "L3"]
    assert members.count(store) == 6
    assert members.count(store, status="active") == 5
    with pytest.raises(NotFound):
        members.find(store, organisation="nowhere")


def test_a_taken_email_is_a_conflict_in_any_case(store):
    first = add_member(store, email="asa@example.se")
    with pytest.raises(Conflict, match=f"already used by member {first}"):
        add_member(store, "Åsa", "Andersson", email="ASA@example.se")
    other = add_member(store, "Björn", "Ek", email="bjorn@example.se")
    with pytest.raises(Conflict):
        members.change(store, other, MemberChange(email="asa@example.se"), ACTOR)
    # a member may keep their own email
    members.change(store, first, MemberChange(email="asa@example.se"), ACTOR)


def test_a_taken_id_is_a_conflict(store):
    add_member(store, id="m-asa")
    with pytest.raises(Conflict, match="m-asa"):
        add_member(store, "Björn", "Ek", id="m-asa")


def test_an_unknown_tier_is_invalid_and_names_the_known_ones(store):
    with pytest.raises(Invalid) as caught:
        add_member(store, tier="gold")
    assert caught.value.field == "tier"
    assert "known: member" in caught.value.problem
    assert members.count(store) == 0


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"first_name": " ", "last_name": "Ek"}, "first_name"),
        ({"first_name": "Åsa", "last_name": ""}, "last_name"),
        ({"first_name": "Åsa", "last_name": "Ek", "email": "not-an-email"}, "email"),
        ({"first_name": "Åsa", "last_name": "Ek", "role": "owner"}, "role"),
        ({"first_name": "Åsa", "last_name": "Ek", "id": "has space"}, "id"),
        ({"first_name": "Åsa", "last_name": "Ek", "valid_from": "2026-01-01"}, "valid_from"),
    ],
)
def test_member_input_names_the_bad_field(values, field):
    with pytest.raises(Invalid) as caught:
        build(MemberIn, **values)
    assert caught.value.field == field


def test_an_unknown_organisation_is_not_found_and_adds_nobody(store):
    with pytest.raises(NotFound, match="no organisation 'Nowhere'"):
        add_member(store, organisation="Nowhere")
    assert members.count(store) == 0


def test_change_updates_only_what_is_given_and_keeps_search_current(store):
    member_id = add_member(store, email="asa@example.se")
    changed = members.change(store, member_id, MemberChange(last_name="Ängström"), ACTOR)
    assert (changed.first_name, changed.last_name, changed.email) == (
        "Åsa",
        "Ängström",
        "asa@example.se",
    )
    assert changed.updated_at >= changed.created_at
    assert [m.id for m in members.find(store, search="angstrom")] == [member_id]
    assert members.find(store, search="oberg") == []


def test_change_refuses_a_window_that_ends_before_it_starts(store):
    member_id = add_member(store, valid_from=datetime(2026, 6, 1, tzinfo=UTC))
    with pytest.raises(Invalid) as caught:
        members.change(
            store, member_id, MemberChange(valid_until=datetime(2026, 5, 1, tzinfo=UTC)), ACTOR
        )
    assert caught.value.field == "valid_until"
    assert members.get(store, member_id).valid_until is None


def test_change_an_unknown_member_is_not_found(store):
    with pytest.raises(NotFound):
        members.change(store, "nobody", MemberChange(first_name="X"), ACTOR)


def test_deactivate_makes_a_member_inactive_and_bumps_the_access_lists(store):
    member_id = add_member(store)
    before = store.counter("access_lists")
    assert members.deactivate(store, member_id, ACTOR).status == "inactive"
    assert store.counter("access_lists") > before
    assert members.get(store, member_id).status == "inactive"


# --- cards ---------------------------------------------------------------------


def test_a_card_is_stored_as_its_keyed_hash_with_a_hint(store):
    member_id = add_member(store)
    card = cards.add(
        store, KEY, CardIn(member_id=member_id, uid="04:A1:B2:C3", label="blue"), ACTOR
    )
    assert card.hash == credential_hash(KEY, bytes.fromhex("04a1b2c3"))
    assert (card.hint, card.member_id, card.label, card.status) == (
        "b2c3",
        member_id,
        "blue",
        "active",
    )
    dumped = store.query("SELECT * FROM credentials")
    assert "04a1b2c3" not in str([tuple(row) for row in dumped]).lower()
    assert cards.find_by_uid(store, KEY, "04 a1 b2 c3").id == card.id
    assert [c.id for c in cards.find(store, member_id=member_id)] == [card.id]


def test_a_card_enrolled_to_anyone_is_a_conflict(store):
    asa, bjorn = add_member(store), add_member(store, "Björn", "Ek")
    cards.add(store, KEY, CardIn(member_id=asa, uid="04a1b2c3"), ACTOR)
    with pytest.raises(Conflict, match=f"already enrolled to member {asa}"):
        cards.add(store, KEY, CardIn(member_id=bjorn, uid="04A1B2C3"), ACTOR)
    assert cards.find(store, member_id=bjorn) == []


def test_a_revoked_card_can_be_enrolled_again(store):
    asa, bjorn = add_member(store), add_member(store, "Björn", "Ek")
    first = cards.add(store, KEY, CardIn(member_id=asa, uid="04a1b2c3"), ACTOR)
    revoked = cards.revoke(store, first.id, ACTOR)
    assert revoked.status == "revoked"
    assert revoked.revoked_at is not None
    with pytest.raises(Conflict, match="already revoked"):
        cards.revoke(store, first.id, ACTOR)
    again = cards.add(store, KEY, CardIn(member_id=bjorn, uid="04a1b2c3"), ACTOR)
    assert again.id != first.id
    assert cards.find_by_uid(store, KEY, "04a1b2c3").id == again.id  # the active one first
    assert [c.id for c in cards.find(store)] == [again.id]
    assert {c.id for c in cards.find(store, include_revoked=True)} == {first.id, again.id}


def test_cards_for_unknown_members_cards_and_uids(store):
    with pytest.raises(NotFound, match="no member 'nobody'"):
        cards.add(store, KEY, CardIn(member_id="nobody", uid="04a1b2c3"), ACTOR)
    with pytest.raises(NotFound):
        cards.revoke(store, 99, ACTOR)
    with pytest.raises(NotFound, match="no card with UID 0102"):
        cards.find_by_uid(store, KEY, "0102")
    with pytest.raises(Invalid) as caught:
        cards.add(store, KEY, CardIn(member_id="nobody", uid="xyz"), ACTOR)
    assert caught.value.field == "uid"


def test_another_site_key_gives_another_hash(store):
    member_id = add_member(store)
    cards.add(store, KEY, CardIn(member_id=member_id, uid="04a1b2c3"), ACTOR)
    with pytest.raises(NotFound):
        cards.find_by_uid(store, bytes(32), "04a1b2c3")
    assert credential_hash(KEY, parse_uid("04a1b2c3")) != credential_hash(
        bytes(32), b"\x04\xa1\xb2\xc3"
    )


# --- zones, rooms, doors ---------------------------------------------------------


def test_zones_and_rooms(store):
    zone = places.add_zone(store, ZoneIn(id="glade", name="Forest glade", capacity=20), ACTOR)
    assert zone.capacity == 20
    room = places.add_room(
        store,
        RoomIn(id="camp", name="Campfire", zone_id="glade", capacity=8, hourly_rate_cents=15000),
        ACTOR,
    )
    assert (room.zone_id, room.hourly_rate_cents, room.out_of_hours_rate_cents) == (
        "glade",
        15000,
        None,
    )
    assert [z.id for z in places.zones(store)] == ["glade"]
    assert [r.id for r in places.rooms(store)] == ["camp"]
    with pytest.raises(Conflict):
        places.add_zone(store, ZoneIn(id="other", name="FOREST GLADE", capacity=1), ACTOR)


def test_a_room_in_an_unknown_zone_is_not_found(store):
    with pytest.raises(NotFound, match="no zone 'nowhere'"):
        places.add_room(store, RoomIn(id="r", name="R", zone_id="nowhere", capacity=2), ACTOR)
    assert places.rooms(store) == []
    with pytest.raises(NotFound):
        places.get_zone(store, "nowhere")


def test_doors_take_their_zone_from_their_room(store):
    places.add_zone(store, ZoneIn(id="glade", name="Forest glade", capacity=20), ACTOR)
    places.add_room(store, RoomIn(id="camp", name="Campfire", zone_id="glade", capacity=8), ACTOR)
    door = doors.add(store, DoorIn(id="camp-door", name="Campfire door", room_id="camp"), ACTOR)
    assert (door.zone_id, door.room_id, door.direction, door.group) == (
        "glade",
        "camp",
        "in",
        "default",
    )
    assert door.online is None
    assert door.list_version is None
    assert doors.door_ids(store) == ["camp-door"]


def test_doors_refuse_unknown_places_exit_zones_and_taken_ids(store):
    with pytest.raises(NotFound, match="no zone 'nowhere'"):
        doors.add(store, DoorIn(id="d", name="D", zone_id="nowhere"), ACTOR)
    with pytest.raises(NotFound, match="no room 'nowhere'"):
        doors.add(store, DoorIn(id="d", name="D", room_id="nowhere"), ACTOR)
    places.add_zone(store, ZoneIn(id="glade", name="Forest glade", capacity=20), ACTOR)
    with pytest.raises(Invalid):
        doors.add(store, DoorIn(id="d", name="D", direction="out", zone_id="glade"), ACTOR)
    doors.add(store, DoorIn(id="front", name="Front"), ACTOR)
    with pytest.raises(Conflict):
        doors.add(store, DoorIn(id="front", name="Again"), ACTOR)
    assert [d.id for d in doors.all_doors(store)] == ["front"]


# --- audit -----------------------------------------------------------------------


def test_every_action_is_audited_with_its_actor(store):
    org = organisations.add(store, OrganisationIn(name="Skogsbyrån AB"), ACTOR)
    member_id = add_member(store, organisation=org.id)
    members.change(store, member_id, MemberChange(tier="member"), ACTOR)
    card = cards.add(store, KEY, CardIn(member_id=member_id, uid="04a1b2c3"), ACTOR)
    cards.revoke(store, card.id, ACTOR)
    members.deactivate(store, member_id, ACTOR)
    places.add_zone(store, ZoneIn(id="glade", name="Forest glade", capacity=20), ACTOR)
    places.add_room(store, RoomIn(id="camp", name="Campfire", capacity=8), ACTOR)
    doors.add(store, DoorIn(id="front", name="Front"), ACTOR)
    assert actions(store) == [
        ("organisation.add", org.id),
        ("member.add", member_id),
        ("member.change", member_id),
        ("card.add", member_id),
        ("card.revoke", member_id),
        ("member.change", member_id),
        ("zone.add", "glade"),
        ("room.add", "camp"),
        ("door.add", "front"),
    ]
    entries = audit.entries(store)
    assert {e.actor for e in entries} == {ACTOR}
    card_entry = next(e for e in entries if e.action == "card.add")
    assert card_entry.detail == {"card": card.id, "hint": "b2c3"}
    assert next(e for e in entries if e.action == "member.add").detail == {"name": "Åsa Öberg"}


def test_a_refused_action_leaves_no_audit_entry(store):
    add_member(store, email="asa@example.se")
    with pytest.raises(Conflict):
        add_member(store, "Björn", "Ek", email="asa@example.se")
    assert [action for action, _ in actions(store)] == ["member.add"]


def test_names_and_emails_are_unique_ignoring_case_beyond_ascii():
    with Store.memory() as store:
        organisations.add(store, build(OrganisationIn, name="Ærø Kommune"), "t")
        with pytest.raises(Conflict):
            organisations.add(store, build(OrganisationIn, name="ÆRØ KOMMUNE"), "t")
        assert organisations.resolve(store.read(), "ærø kommune") == "o-aero-kommune"
        members.add(store, build(MemberIn, first_name="Å", last_name="Ö", email="Åsa@Skog.se"), "t")
        with pytest.raises(Conflict, match="already used"):
            members.add(
                store, build(MemberIn, first_name="B", last_name="C", email="åsa@skog.se"), "t"
            )
