"""Access that follows the calendar: event and booking grants and guests' passes on the lists.

Events, signups and bookings are rows written with SQL (their services are
elsewhere); guest passes go through :mod:`hub_server.guests`. The decisive
check feeds a computed list through a real door replica and the door's own
decision.
"""

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from door.decision import Situation, decide
from door.replica import Replica
from hub_server import access_lists, doors, guests, members, places
from hub_server.access_lists import MAX_GRANTS, DoorList
from hub_server.config import CommunitySection
from hub_server.list_publisher import ListPublisher
from hub_server.models import DoorIn, MemberChange, RoomIn, ZoneIn, build
from hub_server.store import Store, now_text
from hublink.messages import ACL_SNAPSHOT, AclDelta, AclGrant, AclSnapshot
from tests.helpers.hub_data import ACTOR, credential, seed
from tests.test_list_publisher import TOPICS, Clock, Sent

TZ = "Europe/Stockholm"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # a Wednesday; 13:00 in Stockholm
EVENING = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)  # 19:00 in Stockholm
LEAD = timedelta(minutes=15)
GUEST_CARD = "ab" * 32
ALL_DOORS = {"exit", "front", "glade", "lookout", "pine", "side"}
WAYS_IN = {"front", "side"}  # directions in and toggle


# --- calendar rows, as the events and bookings services store them -------------------------


def add_event(
    store: Store,
    event_id: str,
    start: datetime,
    end: datetime,
    *,
    zone: str | None = None,
    room: str | None = None,
    host: str = "m-sigrid",
    status: str = "scheduled",
    title: str = "Forest yoga",
) -> None:
    """An event row (``zone`` or ``room``)."""
    with store.write() as db:
        db.execute(
            "INSERT INTO events (id, title, host_member_id, zone_id, room_id, starts_at, ends_at,"
            " capacity, status, created_by, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, 12, ?, 'test', ?, ?)",
            (
                event_id, title, host, zone, room, now_text(start), now_text(end), status,
                now_text(NOW), now_text(NOW),
            ),
        )  # fmt: skip


def sign_up(store: Store, event_id: str, member_id: str, status: str = "confirmed") -> None:
    """A signup row."""
    with store.write() as db:
        db.execute(
            "INSERT INTO signups (event_id, member_id, status, source, created_by, created_at,"
            " updated_at) VALUES (?, ?, ?, 'kiosk', 'test', ?, ?)",
            (event_id, member_id, status, now_text(NOW), now_text(NOW)),
        )


def book(
    store: Store,
    booking_id: str,
    room: str,
    member_id: str,
    window: tuple[datetime, datetime],
    *,
    status: str = "booked",
    event_id: str | None = None,
) -> None:
    """A booking row."""
    with store.write() as db:
        db.execute(
            "INSERT INTO bookings (id, room_id, member_id, event_id, starts_at, ends_at, status,"
            " source, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'kiosk', 'test', ?)",
            (
                booking_id, room, member_id, event_id, now_text(window[0]), now_text(window[1]),
                status,
                now_text(NOW),
            ),
        )  # fmt: skip


def register_guest(store: Store, host: str = "m-asa", **values: object) -> guests.GuestPass:
    """A guest of ``host`` with the card ``GUEST_CARD``, registered at ``NOW`` for today."""
    now = values.pop("now", NOW)
    assert isinstance(now, datetime)
    fields: dict[str, object] = {"first_name": "Erik", "credential": GUEST_CARD} | values
    data = build(guests.GuestIn, host_member_id=host, **fields)
    return guests.register(store, data, actor=ACTOR, source="kiosk", timezone=TZ, now=now)


def use_office_hours(store: Store, tier_of: dict[str, str]) -> None:
    """Door group ``default`` admits tier ``day`` on weekdays 08:00-17:00 only, and
    ``member`` at any time; ``tier_of`` moves members to a tier."""
    weekly = {day: ["08:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
    with store.write() as db:
        db.execute("INSERT INTO tiers (id, name) VALUES ('day', 'Day')")
        db.execute(
            "INSERT INTO schedules (id, name, weekly) VALUES ('office', 'Office', ?)",
            (json.dumps(weekly),),
        )
        db.execute("INSERT INTO access_rules VALUES ('default', 'day', 'office')")
        db.execute("INSERT INTO access_rules VALUES ('default', 'member', NULL)")
        for member_id, tier in tier_of.items():
            db.execute("UPDATE members SET tier = ? WHERE id = ?", (tier, member_id))


# --- fixtures and helpers -------------------------------------------------------------------


@pytest.fixture
def store() -> Iterator[Store]:
    """The seeded hub, plus zone lookout with its door and room pine (in the glade) with its."""
    with Store.memory() as store:
        seed(store)
        places.add_zone(store, build(ZoneIn, id="lookout", name="Lookout", capacity=6), ACTOR)
        places.add_room(store, build(RoomIn, id="pine", name="Pine", zone_id="glade", capacity=8),
                        ACTOR)  # fmt: skip
        for door_id, zone, room in (("lookout", "lookout", None), ("pine", "glade", "pine")):
            doors.add(
                store,
                build(DoorIn, id=door_id, name=door_id, direction="zone", zone_id=zone,
                      room_id=room),
                ACTOR,
            )  # fmt: skip
        yield store


def lists(store: Store, now: datetime = NOW, **options: object) -> dict[str, DoorList]:
    return access_lists.compute(store, TZ, now.date(), now=now, **options)  # type: ignore[arg-type]


def grants_at(found: dict[str, DoorList], card: str) -> dict[str, tuple[tuple[str, str, str], ...]]:
    """Door id -> the grants ``card`` holds there (doors where it holds none left out)."""
    held = {}
    for door_id, door_list in found.items():
        key = door_list.key(card)
        if key is not None and key[6]:
            held[door_id] = key[6]
    return held


def grant(start: datetime, end: datetime, reason: str, lead: timedelta = LEAD) -> tuple[str, ...]:
    return (now_text(start - lead), now_text(end), reason)


# --- event grants ---------------------------------------------------------------------------


def test_a_signed_up_member_may_open_the_events_doors_and_the_ways_in_for_its_window(store):
    add_event(store, "ev-yoga", EVENING, EVENING + timedelta(hours=2), zone="lookout")
    sign_up(store, "ev-yoga", "m-asa")
    found = lists(store)
    window = (grant(EVENING, EVENING + timedelta(hours=2), "event"),)
    assert grants_at(found, credential("m-asa")) == dict.fromkeys({"lookout"} | WAYS_IN, window)
    assert grants_at(found, credential("m-bjorn")) == {}  # not signed up
    assert grants_at(found, credential("m-sigrid")) == dict.fromkeys(
        {"lookout"} | WAYS_IN, window
    )  # the event's host runs it
    entry = found["lookout"].entry(credential("m-asa"))
    assert entry.grants == (
        AclGrant(start=EVENING - LEAD, end=EVENING + timedelta(hours=2), reason="event"),
    )
    assert found["glade"].entry(credential("m-asa")).grants == ()


@pytest.mark.parametrize(
    ("event_status", "signup_status"),
    [("scheduled", "cancelled"), ("scheduled", "waitlisted"), ("cancelled", "confirmed")],
)
def test_no_grant_without_a_confirmed_place_at_a_scheduled_event(
    store, event_status, signup_status
):
    add_event(store, "ev-yoga", EVENING, EVENING + timedelta(hours=2), zone="lookout",
              status=event_status, host="m-bjorn")  # fmt: skip
    sign_up(store, "ev-yoga", "m-asa", signup_status)
    found = lists(store)
    assert grants_at(found, credential("m-asa")) == {}
    assert bool(grants_at(found, credential("m-bjorn"))) == (event_status == "scheduled")


def test_an_event_in_a_room_opens_the_room_its_zone_and_the_ways_in(store):
    add_event(store, "ev-talk", EVENING, EVENING + timedelta(hours=1), room="pine")
    sign_up(store, "ev-talk", "m-asa")
    held = grants_at(lists(store), credential("m-asa"))
    assert set(held) == {"pine", "glade"} | WAYS_IN


def test_the_lead_time_is_the_community_setting(store):
    add_event(store, "ev-yoga", EVENING, EVENING + timedelta(hours=2), zone="lookout")
    sign_up(store, "ev-yoga", "m-asa")
    found = lists(store, community=CommunitySection(access_lead_min=40))
    held = grants_at(found, credential("m-asa"))["lookout"]
    assert held == (grant(EVENING, EVENING + timedelta(hours=2), "event", timedelta(minutes=40)),)


def test_only_grants_not_ended_and_starting_within_seven_days_are_listed_nearest_first(store):
    hour = timedelta(hours=1)
    windows = {
        "ev-past": (NOW - 3 * hour, NOW - hour),  # ended
        "ev-now": (NOW - hour, NOW + hour),  # running
        "ev-soon": (EVENING, EVENING + hour),
        "ev-day6": (NOW + timedelta(days=6), NOW + timedelta(days=6) + hour),
        "ev-day8": (NOW + timedelta(days=8), NOW + timedelta(days=8) + hour),  # too far
    }
    for event_id, (start, end) in windows.items():
        add_event(store, event_id, start, end, zone="lookout")
        sign_up(store, event_id, "m-asa")
    held = grants_at(lists(store), credential("m-asa"))["lookout"]
    assert held == tuple(grant(*windows[e], "event") for e in ("ev-now", "ev-soon", "ev-day6"))
    later = grants_at(lists(store, NOW + 2 * hour), credential("m-asa"))["lookout"]
    assert later == tuple(grant(*windows[e], "event") for e in ("ev-soon", "ev-day6"))


def test_an_entry_holds_at_most_64_grants_the_nearest(store):
    starts = [NOW + timedelta(hours=2 * n) for n in range(MAX_GRANTS + 6)]
    for n, start in reversed(list(enumerate(starts))):
        add_event(store, f"ev-{n}", start, start + timedelta(hours=1), zone="lookout")
        sign_up(store, f"ev-{n}", "m-asa")
    held = grants_at(lists(store), credential("m-asa"))["lookout"]
    assert len(held) == MAX_GRANTS
    assert held == tuple(grant(s, s + timedelta(hours=1), "event") for s in starts[:MAX_GRANTS])
    entry = lists(store)["lookout"].entry(credential("m-asa"))
    assert ACL_SNAPSHOT.decode(
        ACL_SNAPSHOT.encode(AclSnapshot(door_id="lookout", version=1, entries=(entry,)))
    ).entries == (entry,)  # within the contract's limit


def test_a_suspended_member_keeps_no_grants(store):
    add_event(store, "ev-yoga", EVENING, EVENING + timedelta(hours=2), zone="lookout")
    sign_up(store, "ev-yoga", "m-asa")
    members.change(store, "m-asa", MemberChange(status="suspended"), ACTOR)
    found = lists(store)
    assert found["lookout"].key(credential("m-asa"))[2] == "suspended"  # type: ignore[index]
    assert grants_at(found, credential("m-asa")) == {}


# --- booking grants -------------------------------------------------------------------------


def test_a_booking_opens_the_rooms_doors_and_the_ways_in_to_the_booker(store):
    book(store, "b-1", "pine", "m-bjorn", (EVENING, EVENING + timedelta(hours=1)))
    tomorrow = NOW + timedelta(days=1)
    book(store, "b-2", "pine", "m-asa", (tomorrow, tomorrow + timedelta(hours=1)),
         status="cancelled")  # fmt: skip
    found = lists(store)
    window = (grant(EVENING, EVENING + timedelta(hours=1), "booking"),)
    assert grants_at(found, credential("m-bjorn")) == dict.fromkeys({"pine", "glade"} | WAYS_IN,
                                                                     window)  # fmt: skip
    assert grants_at(found, credential("m-asa")) == {}  # a cancelled booking


def test_an_events_room_booking_gives_the_event_grant_only(store):
    add_event(store, "ev-talk", EVENING, EVENING + timedelta(hours=1), room="pine",
              host="m-bjorn")  # fmt: skip
    book(store, "b-1", "pine", "m-bjorn", (EVENING, EVENING + timedelta(hours=1)),
         event_id="ev-talk")  # fmt: skip
    held = grants_at(lists(store), credential("m-bjorn"))
    assert {reason for grants in held.values() for _, _, reason in grants} == {"event"}


# --- guests ---------------------------------------------------------------------------------


def test_a_guests_pass_is_on_every_list_as_a_guest_naming_the_host(store):
    issued = register_guest(store)
    found = lists(store)
    midnight = datetime(2026, 11, 25, 23, 0, tzinfo=UTC)  # the end of the day in Stockholm
    for door_list in found.values():
        assert door_list.key(GUEST_CARD) == (
            issued.id, "guest", "active", None, now_text(NOW), now_text(midnight), (), "m-asa",
        )  # fmt: skip
    [entry] = [e for e in found["front"].all_entries() if e.credential == GUEST_CARD]
    assert (entry.role, entry.host_member_id, entry.valid_until) == ("guest", "m-asa", midnight)


def test_a_guest_carries_the_hosts_tier_where_the_door_has_tier_rules(store):
    use_office_hours(store, {"m-asa": "day"})
    register_guest(store)
    found = lists(store)
    assert found["front"].key(GUEST_CARD)[3] == "day"  # type: ignore[index]


def test_guests_of_a_suspended_or_deactivated_host_and_unusable_passes_are_left_out(store):
    register_guest(store, "m-bjorn")
    register_guest(store, "m-sigrid", credential="cd" * 32)
    register_guest(store, "m-asa", credential=None, first_name="Nocard")
    cancelled = register_guest(store, "m-asa", credential="ef" * 32)
    guests.cancel(store, cancelled.id, actor=ACTOR, now=NOW)
    members.change(store, "m-bjorn", MemberChange(status="suspended"), ACTOR)
    members.deactivate(store, "m-sigrid", ACTOR)
    front = lists(store)["front"]
    assert {e.member_id for e in front.all_entries()} == {"m-asa", "m-bjorn"}


def test_a_pass_is_listed_from_up_to_seven_days_ahead_until_it_ends(store):
    ahead = register_guest(store, day=(NOW + timedelta(days=3)).date())
    assert lists(store)["front"].key(GUEST_CARD)[0] == ahead.id  # type: ignore[index]
    assert (
        lists(store, ahead.valid_from - timedelta(days=7, seconds=1))["front"].key(GUEST_CARD)
        is None
    )
    assert lists(store, ahead.valid_until)["front"].key(GUEST_CARD) is None  # it has ended


def test_a_guest_of_an_event_may_come_when_the_host_holds_a_confirmed_place(store):
    add_event(store, "ev-yoga", EVENING, EVENING + timedelta(hours=2), zone="lookout")
    sign_up(store, "ev-yoga", "m-asa")
    sign_up(store, "ev-yoga", "m-bjorn", "waitlisted")
    register_guest(store, "m-asa", event_id="ev-yoga")
    register_guest(store, "m-bjorn", event_id="ev-yoga", credential="cd" * 32)
    found = lists(store)
    window = (grant(EVENING, EVENING + timedelta(hours=2), "event"),)
    assert grants_at(found, GUEST_CARD) == dict.fromkeys({"lookout"} | WAYS_IN, window)
    assert grants_at(found, "cd" * 32) == {}  # the host is only on the waitlist


# --- through a real door ----------------------------------------------------------------------


def door_decides(door_list: DoorList, card: str, at: datetime, tmp_path: Path) -> tuple[bool, str]:
    """Send ``door_list`` to a door as the hub does (encoded, decoded, applied to its
    replica) and decide a tap of ``card`` there at ``at``."""
    snapshot = AclSnapshot(
        door_id=door_list.door_id,
        version=1,
        policy=door_list.policy,
        entries=tuple(door_list.all_entries()),
    )
    with Replica(tmp_path / f"{door_list.door_id}.sqlite3", door_list.door_id) as replica:
        replica.apply_snapshot(ACL_SNAPSHOT.decode(ACL_SNAPSHOT.encode(snapshot)))
        policy = replica.policy
        situation = Situation(tiers=policy.tiers, schedules=policy.schedules)
        decision = decide(replica.lookup(card), at, situation)
    return decision.granted, decision.reason


def test_a_member_whose_tier_is_closed_at_19_gets_in_for_the_19_oclock_event_only(store, tmp_path):
    use_office_hours(store, {"m-asa": "day", "m-bjorn": "day"})
    add_event(store, "ev-yoga", EVENING, EVENING + timedelta(hours=2), zone="lookout")
    sign_up(store, "ev-yoga", "m-asa")
    register_guest(store, "m-asa", event_id="ev-yoga")
    register_guest(store, "m-asa", credential="cd" * 32, first_name="Olle")  # no event
    front = lists(store)["front"]
    asa, bjorn = credential("m-asa"), credential("m-bjorn")

    def at(local_hhmm: str, card: str) -> tuple[bool, str]:
        hour, minute = map(int, local_hhmm.split(":"))
        moment = datetime(2026, 11, 25, hour - 1, minute, tzinfo=UTC)  # Stockholm is UTC+1
        return door_decides(front, card, moment, tmp_path)

    assert at("10:00", asa) == (True, "member")  # office hours: the tier opens the door
    assert at("18:40", asa) == (False, "outside_schedule")  # before the lead time
    assert at("18:45", asa) == (True, "event")  # 15 minutes before
    assert at("20:59", asa) == (True, "event")
    assert at("21:00", asa) == (False, "outside_schedule")  # the event has ended
    assert at("19:30", bjorn) == (False, "outside_schedule")  # same tier, not signed up
    assert at("19:30", GUEST_CARD) == (True, "event")  # the host's guest for the event
    assert at("19:30", "cd" * 32) == (False, "outside_schedule")  # a guest with no event
    assert at("14:00", "cd" * 32) == (True, "guest_pass")  # registered at 13:00
    assert at("12:00", "cd" * 32) == (False, "not_yet_valid")
    assert door_decides(lists(store)["exit"], asa, EVENING, tmp_path) == (
        False,
        "outside_schedule",
    )  # not a way in


# --- publishing -------------------------------------------------------------------------------


def test_a_new_signup_goes_out_as_a_delta_to_the_events_doors_only(store):
    sent, ticks = Sent(), Clock()
    clock = {"now": NOW}
    publisher = ListPublisher(
        store, sent, TOPICS, TZ, monotonic=ticks, today=NOW.date,
        clock=lambda: clock["now"],
    )  # fmt: skip
    publisher.check()
    sent.clear()
    add_event(store, "ev-yoga", EVENING, EVENING + timedelta(hours=2), zone="lookout",
              host="m-bjorn")  # fmt: skip
    sign_up(store, "ev-yoga", "m-asa")
    publisher.check()
    window = AclGrant(start=EVENING - LEAD, end=EVENING + timedelta(hours=2), reason="event")
    [delta] = sent.of(AclDelta, "lookout")
    assert {e.member_id: e.grants for e in delta.upserts} == {
        "m-asa": (window,),
        "m-bjorn": (window,),
    }
    assert delta.removes == ()
    assert sent.of(AclDelta, "glade") == []
    assert sent.of(AclDelta, "exit") == []
    ticks.now += 5
    publisher.check()  # the snapshots the deltas made due
    [snapshot] = sent.of(AclSnapshot, "lookout")
    assert {e.member_id: e.grants for e in snapshot.entries}["m-asa"] == (window,)
    [front] = sent.of(AclSnapshot, "front")
    assert {e.member_id: e.grants for e in front.entries} == {
        "m-asa": (window,),
        "m-bjorn": (window,),
        "m-sigrid": (),
    }

    sent.clear()
    clock["now"] = EVENING + timedelta(hours=3)  # the event is over; nothing in the store moved
    assert not publisher.check()  # not before the refresh is due
    ticks.now += publisher.refresh_s
    assert publisher.check()
    [ended] = sent.of(AclDelta, "lookout")
    assert [(e.member_id, e.grants) for e in ended.upserts] == sorted(
        [("m-asa", ()), ("m-bjorn", ())], key=lambda pair: credential(pair[0])
    )
    assert sent.of(AclDelta, "glade") == []


def test_a_grant_change_changes_only_the_digest_of_the_doors_it_concerns(store):
    before = lists(store)
    add_event(store, "ev-yoga", EVENING, EVENING + timedelta(hours=2), zone="lookout")
    after = lists(store)  # the host's grant
    changed = {d for d in ALL_DOORS if before[d].digest != after[d].digest}
    assert changed == {"lookout"} | WAYS_IN
    assert after["glade"].entries is after["lookout"].entries  # shared; grants in the overlay
    assert lists(store)["lookout"].digest == after["lookout"].digest  # stable


def test_deltas_with_grants_take_every_door_from_one_snapshot_to_the_next(store):
    sent, ticks = Sent(), Clock()
    clock = {"now": NOW}
    publisher = ListPublisher(
        store, sent, TOPICS, TZ, monotonic=ticks, today=NOW.date, clock=lambda: clock["now"]
    )
    publisher.check()
    view = {
        door_id: {e.credential: e for e in sent.of(AclSnapshot, door_id)[0].entries}
        for door_id in ALL_DOORS
    }

    def step() -> None:
        sent.clear()
        publisher.check()
        for door_id in ALL_DOORS:
            for delta in sent.of(AclDelta, door_id):
                view[door_id].update({e.credential: e for e in delta.upserts})
                for removed in delta.removes:
                    del view[door_id][removed]
        publisher.flush(force=True)
        for door_id in ALL_DOORS:
            [snapshot] = sent.of(AclSnapshot, door_id) or [None]
            if snapshot is not None:
                assert view[door_id] == {e.credential: e for e in snapshot.entries}, door_id

    add_event(store, "ev-yoga", EVENING, EVENING + timedelta(hours=2), zone="lookout")
    sign_up(store, "ev-yoga", "m-asa")
    step()
    assert view["lookout"][credential("m-asa")].grants
    members.change(store, "m-asa", MemberChange(status="suspended"), ACTOR)  # shared + overlay
    book(store, "b-1", "pine", "m-bjorn", (EVENING, EVENING + timedelta(hours=1)))
    step()
    assert view["lookout"][credential("m-asa")].status == "suspended"
    assert view["lookout"][credential("m-asa")].grants == ()
    assert view["pine"][credential("m-bjorn")].grants
    members.change(store, "m-asa", MemberChange(status="active"), ACTOR)
    register_guest(store, "m-asa", event_id="ev-yoga")
    step()
    assert view["lookout"][GUEST_CARD].grants
    clock["now"] = EVENING + timedelta(hours=3)  # everything has ended but the guest's day
    ticks.now += publisher.refresh_s
    step()
    assert [c for c, e in view["lookout"].items() if e.grants] == []
    assert view["lookout"][GUEST_CARD].role == "guest"
