"""Events on a real store: input rules, room reservations, changes, cancelling, queries, CLI."""

import argparse
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hub_server import (
    audit,
    cli_events,
    events,
    invitations,
    members,
    notifications,
    signups,
    upcoming_events,
)
from hub_server.errors import Conflict, Invalid, NotFound, Refused
from hub_server.events import EventChange, EventIn
from hub_server.invitations import InvitationIn
from hub_server.models import build
from hub_server.store import Store
from tests.helpers.community_data import (
    ACTOR,
    END,
    NOW,
    ROOM,
    START,
    add_event,
    add_member,
    book_room,
    community,
    dump,
    event_values,
)

HOUR = timedelta(hours=1)
ZONE = ZoneInfo("Europe/Stockholm")


@pytest.fixture
def store() -> Iterator[Store]:
    with Store.memory() as s:
        yield community(s)


def sign_up(store: Store, event_id: str, member_id: str, guests: int = 0) -> signups.SignupResult:
    return signups.sign_up(
        store, event_id, member_id, guests=guests, actor=ACTOR, source="dashboard", now=NOW
    )


def change(store: Store, event_id: str, now: datetime = NOW, **values: object) -> events.Event:
    return events.update(store, event_id, build(EventChange, **values), actor=ACTOR, now=now)


def actions(store: Store) -> list[str]:
    return [e.action for e in reversed(audit.entries(store))]


def bookings_of(store: Store, event_id: str) -> list[dict[str, object]]:
    rows = store.query("SELECT * FROM bookings WHERE event_id = ? ORDER BY rowid", (event_id,))
    return [dict(row) for row in rows]


# --- input ---------------------------------------------------------------------------


def test_an_event_is_added_with_every_field_and_audited(store):
    event = add_event(
        store,
        title="  Forest   yoga ",
        description="Bring a mat.\nAnd water.",
        capacity=10,
        visibility="open",
        max_guests=2,
        cancel_deadline_min=60,
    )
    assert event.id.startswith("ev-")
    assert len(event.id) == 15
    assert event.title == "Forest yoga"
    assert event.description == "Bring a mat.\nAnd water."
    assert (event.host_member_id, event.host_first_name) == ("m-sigrid", "Sigrid")
    assert (event.zone_id, event.room_id, event.place) == ("campfire", None, "Campfire circle")
    assert (event.starts_at, event.ends_at) == (START, END)
    assert (event.capacity, event.taken, event.free, event.waitlisted) == (10, 0, 10, 0)
    assert (event.visibility, event.max_guests, event.status) == ("open", 2, "scheduled")
    assert event.cancel_until == START - HOUR
    assert (event.created_by, event.created_at) == (ACTOR, NOW)
    assert events.get(store, event.id) == event
    entry = audit.entries(store, limit=1)[0]
    assert (entry.action, entry.target, entry.detail["title"]) == (
        "event.add",
        event.id,
        "Forest yoga",
    )


@pytest.mark.parametrize(
    ("overrides", "field", "problem"),
    [
        ({"ends_at": START}, "ends_at", "must be after starts_at"),
        ({"ends_at": START - HOUR}, "ends_at", "must be after starts_at"),
        ({"ends_at": START + timedelta(days=7, seconds=1)}, "ends_at", "at most 7 days"),
        ({"room_id": ROOM}, "room_id", "not both"),
        ({"zone_id": None}, "room_id", "give a room or a zone"),
        ({"title": "   "}, "title", "must not be empty"),
        ({"title": "x" * 201}, "title", "longer than 200"),
        ({"title": "a\u0000b"}, "title", "control characters"),
        ({"description": "x" * 4001}, "description", "longer than 4000"),
        ({"description": "bell\u0007"}, "description", "control characters"),
        ({"capacity": 0}, "capacity", "greater than or equal to 1"),
        ({"capacity": 10_001}, "capacity", "less than or equal to 10000"),
        ({"max_guests": 21}, "max_guests", "less than or equal to 20"),
        ({"cancel_deadline_min": 10_081}, "cancel_deadline_min", "less than or equal to 10080"),
        ({"visibility": "public"}, "visibility", "'members' or 'open'"),
        ({"starts_at": datetime(2026, 12, 1, 17)}, "starts_at", "timezone"),
        ({"host_member_id": "no such/id"}, "host_member_id", "pattern"),
    ],
)
def test_bad_event_input_names_the_field(overrides, field, problem):
    with pytest.raises(Invalid) as caught:
        build(EventIn, **event_values(**overrides))
    assert caught.value.field == field
    assert problem in caught.value.problem


def test_a_week_long_event_and_a_multiline_description_are_fine():
    data = build(
        EventIn,
        **event_values(ends_at=START + timedelta(days=7), description="one\r\ntwo\rthree"),
    )
    assert data.description == "one\ntwo\nthree"


def test_the_host_must_exist_and_be_active(store):
    with pytest.raises(NotFound, match="no member 'm-nobody'"):
        add_event(store, host_member_id="m-nobody")
    members.deactivate(store, "m-bjorn", ACTOR)
    before = dump(store)
    with pytest.raises(Invalid) as caught:
        add_event(store, host_member_id="m-bjorn")
    assert caught.value.field == "host_member_id"
    assert "Björn is not an active member" in caught.value.problem
    assert dump(store) == before


def test_the_place_must_exist_and_the_room_must_hold_the_capacity(store):
    with pytest.raises(NotFound, match="no zone 'attic'"):
        add_event(store, zone_id="attic")
    with pytest.raises(NotFound, match="no room 'attic'"):
        add_event(store, zone_id=None, room_id="attic")
    with pytest.raises(Invalid) as caught:
        add_event(store, zone_id=None, room_id=ROOM, capacity=9)
    assert (caught.value.field, caught.value.problem) == (
        "capacity",
        "Lookout holds 8 people, not 9",
    )
    assert store.query("SELECT * FROM events") == []


def test_a_taken_event_id_is_a_conflict(store):
    add_event(store, id="ev-yoga")
    with pytest.raises(Conflict, match="ev-yoga exists"):
        add_event(store, id="ev-yoga")


# --- rooms ---------------------------------------------------------------------------


def test_an_event_in_a_room_reserves_it_unbilled(store):
    event = add_event(store, zone_id=None, room_id=ROOM, capacity=8)
    assert (event.room_id, event.zone_id, event.place) == (ROOM, "campfire", "Lookout")
    [booking] = bookings_of(store, event.id)
    assert booking["id"].startswith("b-")
    assert (booking["room_id"], booking["member_id"], booking["organisation_id"]) == (
        ROOM,
        "m-sigrid",
        None,
    )
    assert (booking["status"], booking["source"], booking["amount_cents"]) == ("booked", "event", 0)
    assert (booking["starts_at"], booking["ends_at"]) == (
        START.isoformat(timespec="microseconds"),
        END.isoformat(timespec="microseconds"),
    )


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (START, END),  # identical
        (START + HOUR / 2, END - HOUR / 2),  # inside
        (START - HOUR, END + HOUR),  # covering
        (START - HOUR, START + HOUR / 2),  # over the start
        (END - HOUR / 2, END + HOUR),  # over the end
    ],
)
def test_two_events_in_one_room_at_overlapping_times_are_refused(store, start, end):
    add_event(store, zone_id=None, room_id=ROOM, capacity=8)
    before = dump(store)
    with pytest.raises(Refused) as caught:
        add_event(store, zone_id=None, room_id=ROOM, capacity=8, starts_at=start, ends_at=end)
    assert (caught.value.reason, str(caught.value)) == ("room_taken", "Lookout is booked then")
    assert dump(store) == before


def test_back_to_back_events_and_a_plain_booking_share_a_room(store):
    add_event(store, zone_id=None, room_id=ROOM, capacity=8)
    add_event(store, zone_id=None, room_id=ROOM, capacity=8, starts_at=END, ends_at=END + HOUR)
    add_event(store, zone_id=None, room_id=ROOM, capacity=8, starts_at=START - HOUR, ends_at=START)
    book_room(store, END + HOUR, END + 2 * HOUR)
    with pytest.raises(Refused, match="Lookout is booked then"):
        add_event(
            store,
            zone_id=None,
            room_id=ROOM,
            capacity=8,
            starts_at=END + HOUR,
            ends_at=END + 3 * HOUR,
        )
    assert store.query_one("SELECT count(*) FROM events")[0] == 3


def test_a_cancelled_booking_does_not_block_an_event(store):
    book_room(store, START, END, status="cancelled")
    add_event(store, zone_id=None, room_id=ROOM, capacity=8)


def test_moving_an_event_moves_its_reservation_and_is_checked_again(store):
    event = add_event(store, zone_id=None, room_id=ROOM, capacity=8)
    book_room(store, END + HOUR, END + 2 * HOUR)
    moved = change(store, event.id, starts_at=START + HOUR, ends_at=END + HOUR)
    assert (moved.starts_at, moved.ends_at) == (START + HOUR, END + HOUR)
    [booking] = bookings_of(store, event.id)
    assert booking["starts_at"] == (START + HOUR).isoformat(timespec="microseconds")
    before = dump(store)
    with pytest.raises(Refused, match="Lookout is booked then") as caught:
        change(store, event.id, ends_at=END + 2 * HOUR)
    assert caught.value.reason == "room_taken"
    assert dump(store) == before


def test_moving_between_a_zone_and_a_room_makes_and_cancels_the_reservation(store):
    event = add_event(store, capacity=8)
    assert bookings_of(store, event.id) == []
    in_room = change(store, event.id, room_id=ROOM)
    assert (in_room.room_id, in_room.zone_id) == (ROOM, "campfire")
    assert [b["status"] for b in bookings_of(store, event.id)] == ["booked"]
    in_glade = change(store, event.id, zone_id="glade")
    assert (in_glade.room_id, in_glade.zone_id, in_glade.place) == (None, "glade", "Forest glade")
    assert [b["status"] for b in bookings_of(store, event.id)] == ["cancelled"]
    with pytest.raises(Invalid, match="not both"):
        change(store, event.id, zone_id="glade", room_id=ROOM)


def test_a_new_host_takes_over_the_reservation(store):
    event = add_event(store, zone_id=None, room_id=ROOM, capacity=8)
    change(store, event.id, host_member_id="m-asa")
    assert [b["member_id"] for b in bookings_of(store, event.id)] == ["m-asa"]


# --- changes -------------------------------------------------------------------------


def test_capacity_cannot_go_below_the_seats_taken(store):
    event = add_event(store, capacity=4, max_guests=2)
    sign_up(store, event.id, "m-asa", guests=2)
    before = dump(store)
    with pytest.raises(Invalid) as caught:
        change(store, event.id, capacity=2)
    assert (caught.value.field, caught.value.problem) == ("capacity", "3 seats are taken")
    assert dump(store) == before
    assert change(store, event.id, capacity=3).capacity == 3


def test_capacity_cannot_go_below_what_a_waitlisted_signup_needs(store):
    event = add_event(store, capacity=4, max_guests=3)
    sign_up(store, event.id, "m-asa", guests=1)
    sign_up(store, event.id, "m-bjorn", guests=3)  # needs 4: waits
    with pytest.raises(Invalid, match="a waitlisted signup needs 4 seats"):
        change(store, event.id, capacity=3)


def test_a_larger_capacity_promotes_from_the_waitlist_in_order(store):
    add_member(store, "m-dag", "Dag")
    event = add_event(store, capacity=1)
    sign_up(store, event.id, "m-asa")
    assert sign_up(store, event.id, "m-bjorn").status == "waitlisted"
    assert sign_up(store, event.id, "m-dag").status == "waitlisted"
    grown = change(store, event.id, capacity=2)
    assert (grown.taken, grown.waitlisted) == (2, 1)
    statuses = {a.member_id: (a.status, a.position) for a in signups.of_event(store, event.id)}
    assert statuses == {
        "m-asa": ("confirmed", None),
        "m-bjorn": ("confirmed", None),
        "m-dag": ("waitlisted", 1),
    }
    [note] = notifications.pending(store)
    assert (note.kind, note.member_id, note.event_id) == ("signup.promoted", "m-bjorn", event.id)
    assert note.body == {
        "title": "Forest yoga",
        "starts_at": START.isoformat(timespec="microseconds"),
        "guests": 0,
    }
    assert "signup.promote" in actions(store)


def test_max_guests_cannot_go_below_a_signups_guests(store):
    event = add_event(store, max_guests=3)
    sign_up(store, event.id, "m-asa", guests=2)
    with pytest.raises(Invalid) as caught:
        change(store, event.id, max_guests=1)
    assert (caught.value.field, caught.value.problem) == (
        "max_guests",
        "a signup brings 2 colleagues",
    )
    assert change(store, event.id, max_guests=2).max_guests == 2


def test_a_started_events_times_cannot_change_but_its_title_can(store):
    event = add_event(store)
    with pytest.raises(Invalid) as caught:
        change(store, event.id, now=START, ends_at=END + HOUR)
    assert caught.value.field == "ends_at"
    assert "Forest yoga has started" in caught.value.problem
    assert change(store, event.id, now=START, title="Forest yoga II").title == "Forest yoga II"
    assert change(store, event.id, now=NOW, ends_at=END + HOUR).ends_at == END + HOUR


def test_a_change_keeps_the_window_rules(store):
    event = add_event(store)
    with pytest.raises(Invalid, match="ends_at: must be after starts_at"):
        change(store, event.id, starts_at=END)
    with pytest.raises(Invalid, match="at most 7 days"):
        change(store, event.id, ends_at=START + timedelta(days=8))
    with pytest.raises(Invalid, match="title: cannot be empty"):
        change(store, event.id, title=None)


def test_an_open_event_with_invitations_stays_open(store):
    event = add_event(store, visibility="open")
    invitations.invite(
        store,
        event.id,
        build(InvitationIn, name="Erik", email="erik@example.org"),
        actor=ACTOR,
        now=NOW,
    )
    with pytest.raises(Invalid, match="1 outsiders are invited"):
        change(store, event.id, visibility="members")


def test_an_empty_change_changes_nothing(store):
    event = add_event(store)
    before = dump(store)
    assert change(store, event.id) == event
    assert dump(store) == before


def test_a_change_is_audited_with_what_changed(store):
    event = add_event(store)
    change(store, event.id, title="Yoga", capacity=20)
    entry = audit.entries(store, limit=1)[0]
    assert (entry.action, entry.target) == ("event.change", event.id)
    assert entry.detail == {"title": "Yoga", "capacity": 20}


# --- cancelling ----------------------------------------------------------------------


def test_cancelling_an_event_cancels_everything_and_notifies_members(store):
    event = add_event(store, zone_id=None, room_id=ROOM, capacity=1, visibility="open")
    sign_up(store, event.id, "m-asa")
    sign_up(store, event.id, "m-bjorn")  # waitlisted
    sign_up(store, event.id, "m-sigrid")
    signups.cancel(store, event.id, "m-sigrid", actor=ACTOR, now=NOW)  # already gone
    later = NOW + HOUR
    cancelled = events.cancel(store, event.id, actor=ACTOR, now=later)
    assert (cancelled.status, cancelled.taken, cancelled.waitlisted) == ("cancelled", 0, 0)
    rows = store.query(
        "SELECT member_id, status, cancelled_at FROM signups WHERE event_id = ? ORDER BY id",
        (event.id,),
    )
    assert [(r["member_id"], r["status"]) for r in rows] == [
        ("m-asa", "cancelled"),
        ("m-bjorn", "cancelled"),
        ("m-sigrid", "cancelled"),
    ]
    assert rows[0]["cancelled_at"] == later.isoformat(timespec="microseconds")
    notes = [(n.kind, n.member_id, n.body["had"]) for n in notifications.pending(store)]
    assert notes == [
        ("event.cancelled", "m-asa", "confirmed"),
        ("event.cancelled", "m-bjorn", "waitlisted"),
    ]
    assert [b["status"] for b in bookings_of(store, event.id)] == ["cancelled"]
    entry = audit.entries(store, limit=1)[0]
    assert (entry.action, entry.detail) == ("event.cancel", {"signups": 2, "invitations": 0})
    # the room is free again, and a cancelled event takes no more signups or changes
    add_event(store, zone_id=None, room_id=ROOM, capacity=8)
    with pytest.raises(Refused) as caught:
        sign_up(store, event.id, "m-sigrid")
    assert (caught.value.reason, str(caught.value)) == (
        "event_cancelled",
        "Forest yoga is cancelled",
    )
    with pytest.raises(Refused, match="cancelled"):
        change(store, event.id, capacity=3)


def test_cancelling_an_event_withdraws_its_invitations_and_twice_is_harmless(store):
    event = add_event(store, visibility="open")
    invitations.invite(
        store,
        event.id,
        build(InvitationIn, name="Erik", email="erik@example.org"),
        actor=ACTOR,
        now=NOW,
    )
    first = events.cancel(store, event.id, actor=ACTOR, now=NOW)
    before = dump(store)
    assert events.cancel(store, event.id, actor=ACTOR, now=NOW + HOUR) == first
    assert dump(store) == before
    assert [i.status for i in invitations.of_event(store, event.id, include_cancelled=True)] == [
        "cancelled"
    ]


def test_cancelling_an_unknown_event_is_not_found(store):
    with pytest.raises(NotFound, match="no event 'ev-none'"):
        events.cancel(store, "ev-none", actor=ACTOR, now=NOW)


# --- nesting -------------------------------------------------------------------------


def test_services_join_an_outer_write_and_a_refusal_leaves_it_clean(store):
    add_event(store, id="ev-first", zone_id=None, room_id=ROOM, capacity=8)
    with store.write():
        event = add_event(store, id="ev-yoga", capacity=1)
        assert sign_up(store, event.id, "m-asa").status == "confirmed"
        with pytest.raises(Refused):
            add_event(store, id="ev-clash", zone_id=None, room_id=ROOM, capacity=8)
        with pytest.raises(Refused):
            sign_up(store, event.id, "m-asa")
    assert events.get(store, "ev-yoga").taken == 1
    with pytest.raises(NotFound):
        events.get(store, "ev-clash")
    assert actions(store).count("signup.add") == 1


# --- queries -------------------------------------------------------------------------


def test_find_filters_by_window_visibility_host_and_status(store):
    a = add_event(store, id="ev-a")
    b = add_event(store, id="ev-b", visibility="open", host_member_id="m-asa",
                  starts_at=START + 2 * HOUR, ends_at=END + 2 * HOUR)  # fmt: skip
    c = add_event(
        store, id="ev-c", starts_at=START + timedelta(days=2), ends_at=END + timedelta(days=2)
    )
    events.cancel(store, c.id, actor=ACTOR, now=NOW)
    week = {"since": NOW, "until": NOW + timedelta(days=7)}
    assert [e.id for e in events.find(store, **week)] == [a.id, b.id]
    assert [e.id for e in events.find(store, **week, include_cancelled=True)] == [a.id, b.id, c.id]
    assert [e.id for e in events.find(store, **week, visibility="open")] == [b.id]
    assert [e.id for e in events.find(store, **week, host="m-asa")] == [b.id]
    # an event on at the window's edges counts; one ended by `since` does not
    assert [e.id for e in events.find(store, since=END, until=END + HOUR)] == [b.id]
    assert [e.id for e in events.find(store, since=START - HOUR, until=START)] == []


def test_upcoming_lists_seats_without_names(store):
    yoga = add_event(store, id="ev-yoga", capacity=2, max_guests=1)
    add_event(
        store, id="ev-later", starts_at=START + timedelta(days=3), ends_at=END + timedelta(days=3)
    )
    gone = add_event(store, id="ev-gone", starts_at=START + HOUR, ends_at=END + HOUR)
    events.cancel(store, gone.id, actor=ACTOR, now=NOW)
    sign_up(store, yoga.id, "m-asa", guests=1)
    sign_up(store, yoga.id, "m-bjorn")
    [seats] = events.upcoming(store, NOW, 2)
    assert (seats.id, seats.title, seats.place, seats.zone_id) == (
        "ev-yoga",
        "Forest yoga",
        "Campfire circle",
        "campfire",
    )
    assert (seats.capacity, seats.taken, seats.free, seats.waitlisted, seats.max_guests) == (
        2,
        2,
        0,
        1,
        1,
    )
    assert [s.id for s in events.upcoming(store, NOW, 7)] == ["ev-yoga", "ev-later"]
    assert [s.id for s in events.upcoming(store, END, 7)] == ["ev-later"]  # ended at END
    text = upcoming_events.current(store, NOW, 7).model_dump_json()  # what the kiosks get
    for name in ("Sigrid", "Åsa", "Björn", "m-sigrid", "m-asa"):
        assert name not in text


def test_get_of_an_unknown_event_is_not_found(store):
    with pytest.raises(NotFound, match="no event 'ev-x'"):
        events.get(store, "ev-x")


# --- the command line ----------------------------------------------------------------


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("HUBTAP_CONFIG", "HUBTAP_HUB__TIMEZONE"):
        monkeypatch.delenv(name, raising=False)
    data_dir = tmp_path / "data"
    config = tmp_path / "hub.toml"
    config.write_text(
        f'data_dir = "{data_dir}"\n[site]\nid = "testsite"\n[hub]\ntimezone = "Europe/Stockholm"\n'
    )
    with Store.in_folder(data_dir) as s:
        community(s)
    return config


def run(config: Path, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="hubtap")
    cli_events.add_commands(parser.add_subparsers(dest="command", required=True))
    capsys.readouterr()
    args = parser.parse_args([*argv, "--config", str(config)])
    status = args.run(args)
    out, err = capsys.readouterr()
    return status, out, err


def test_the_events_commands(hub, capsys):
    start = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    local = start.astimezone(ZONE).replace(tzinfo=None).isoformat(sep=" ", timespec="minutes")
    end = (start + 2 * HOUR).astimezone(ZONE).replace(tzinfo=None).isoformat(timespec="minutes")
    status, out, err = run(
        hub, capsys, "events", "add", "--title", "Forest yoga", "--host", "m-sigrid",
        "--room", ROOM, "--start", local, "--end", end, "--capacity", "2", "--max-guests", "1",
        "--cancel-deadline-min", "30",
    )  # fmt: skip
    assert (status, err) == (0, "")
    event_id = out.strip()
    assert event_id.startswith("ev-")
    assert run(hub, capsys, "events", "signup", event_id, "m-asa", "--guests", "1")[1] == (
        f"Åsa (m-asa) has a seat at Forest yoga ({event_id})\n"
    )
    assert run(hub, capsys, "events", "signup", event_id, "m-bjorn")[1] == (
        f"Björn (m-bjorn) is on the waitlist for Forest yoga ({event_id}), place 1\n"
    )
    status, out, _ = run(hub, capsys, "events", "list")
    assert status == 0
    assert "Forest yoga" in out
    assert "2/2" in out
    assert event_id in out
    assert local[:16] in out  # shown in the hub's time zone
    status, out, _ = run(hub, capsys, "events", "show", event_id)
    assert "Lookout (lookout)" in out
    assert "2 of 2 taken, 1 waiting" in out
    assert "Åsa" in out
    assert "Björn" in out
    status, out, err = run(hub, capsys, "events", "signup", event_id, "m-asa")
    assert (status, err) == (1, "hubtap: Åsa is already signed up for Forest yoga\n")
    status, out, _ = run(hub, capsys, "events", "unsignup", event_id, "m-asa")
    assert out == (
        f"Åsa (m-asa) is no longer signed up for Forest yoga ({event_id})\n"
        "Björn (m-bjorn) moved up from the waitlist\n"
    )
    status, out, _ = run(hub, capsys, "events", "cancel", event_id)
    assert (status, out) == (
        0,
        f"Forest yoga ({event_id}) is cancelled; members who had a place are notified\n",
    )
    assert "Forest yoga" not in run(hub, capsys, "events", "list")[1]
    assert "cancelled" in run(hub, capsys, "events", "list", "--all")[1]


def test_events_add_refuses_bad_input_in_one_line(hub, capsys):
    status, _, err = run(
        hub, capsys, "events", "add", "--title", "Yoga", "--host", "m-sigrid", "--zone", "campfire",
        "--start", "2026-12-01T18:00", "--end", "2026-12-01T17:00", "--capacity", "5",
    )  # fmt: skip
    assert (status, err) == (1, "hubtap: ends_at: must be after starts_at\n")
