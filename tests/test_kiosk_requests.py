"""The hub's answers to kiosk requests, through the ingest as the server runs it (real SQLite)."""

from datetime import timedelta

import pytest

from hub_server import presence
from hub_server.config import CommunitySection, HubConfig
from hub_server.ingest import Inbound, Ingest
from hub_server.kiosk_requests import KioskRules
from hub_server.store import Store
from hublink.messages import AccessEvent, KioskRequest
from tests.helpers.community_data import ROOM, START, add_event, community, dump
from tests.helpers.hub_data import credential

NOW = START - timedelta(hours=3)  # 14:00 UTC, 15:00 in Stockholm, the day of the event
ZONE = "Europe/Stockholm"
VISITOR_CARD = "ab" * 32
CONFIG = HubConfig.model_validate({"site": {"id": "s"}, "hub": {"timezone": ZONE}})


@pytest.fixture
def store():
    with Store.memory() as store:
        yield community(store)


@pytest.fixture
def ingest(store):
    rules = KioskRules(ZONE, CommunitySection())
    return Ingest(store, presence.rules_from(CONFIG), kiosk=rules, clock=lambda: NOW)


def ask(ingest, action, member="m-asa", *, request=None, **params):
    request = request or KioskRequest(
        ts=NOW, action=action, credential=credential(member), params=params
    )
    result = ingest.process([Inbound("kiosk", "entrance", request)])
    [(kiosk_id, response)] = result.responses
    assert kiosk_id == "entrance"
    assert response.request_id == request.id
    return response


def test_a_signup_at_the_kiosk_takes_a_seat_and_comes_back_in_the_members_plans(store, ingest):
    event = add_event(store, max_guests=2)
    answer = ask(ingest, "signup", event_id=event.id, guests=1)
    assert (answer.ok, answer.reason) == (True, "signed_up")
    [item] = answer.agenda
    assert (item.kind, item.ref, item.title, item.guests) == ("signup", event.id, "Forest yoga", 1)
    row = store.query_one("SELECT status, guests, source FROM signups")
    assert tuple(row) == ("confirmed", 1, "kiosk")


def test_a_request_delivered_twice_is_carried_out_once_and_answered_alike(store, ingest):
    event = add_event(store)
    request = KioskRequest(ts=NOW, action="signup", credential=credential("m-asa"),
                           params={"event_id": event.id})  # fmt: skip
    first = ask(ingest, "signup", request=request)
    again = ask(ingest, "signup", request=request)
    assert (first.reason, again.reason) == ("signed_up", "signed_up")
    assert store.query_one("SELECT count(*) FROM signups")[0] == 1


def test_a_full_event_puts_the_member_on_the_waitlist_with_their_place(store, ingest):
    event = add_event(store, capacity=1)
    assert ask(ingest, "signup", "m-bjorn", event_id=event.id).reason == "signed_up"
    answer = ask(ingest, "signup", event_id=event.id)
    assert (answer.ok, answer.reason, answer.data) == (True, "waitlisted", {"waitlist_position": 1})
    assert [(i.kind, i.position) for i in answer.agenda] == [("waitlist", 1)]


def test_refusals_carry_the_services_reason_codes_and_change_nothing(store, ingest):
    event = add_event(store, max_guests=1, cancel_deadline_min=24 * 60)
    assert ask(ingest, "signup", event_id=event.id).reason == "signed_up"
    before = dump(store)
    cases = [
        ("signup", {"event_id": event.id}, "already_signed_up"),
        ("signup", {"event_id": event.id, "guests": 0}, "already_signed_up"),
        ("cancel_signup", {"event_id": event.id}, "past_deadline"),
        ("signup", {"event_id": "ev-nope"}, "invalid_request"),
        ("signup", {"event_id": event.id, "guests": "many"}, "invalid_request"),
        ("booking", {"room_id": ROOM}, "invalid_request"),
        ("guest", {}, "invalid_request"),
    ]
    for action, params, reason in cases:
        answer = ask(ingest, action, **params)
        assert (answer.ok, answer.reason) == (False, reason), (action, params)
    assert dump(store) == before


def test_cancel_a_signup_before_the_deadline(store, ingest):
    event = add_event(store)
    ask(ingest, "signup", event_id=event.id)
    answer = ask(ingest, "cancel_signup", event_id=event.id)
    assert (answer.ok, answer.reason, answer.agenda) == (True, "cancelled", ())
    assert ask(ingest, "cancel_signup", event_id=event.id).reason == "not_signed_up"


def test_book_now_and_a_second_booking_of_the_same_slot_is_refused(store, ingest):
    answer = ask(ingest, "booking", room_id=ROOM, starts_at=NOW.isoformat(), minutes=60)
    assert (answer.ok, answer.reason) == (True, "booked")
    [item] = answer.agenda
    assert (item.kind, item.title, item.starts_at, item.ends_at) == (
        "booking", "Lookout", NOW, NOW + timedelta(hours=1)
    )  # fmt: skip
    later = NOW + timedelta(minutes=30)
    taken = ask(ingest, "booking", "m-bjorn", room_id=ROOM, starts_at=later.isoformat(),
                minutes=60)  # fmt: skip
    assert (taken.ok, taken.reason) == (False, "room_taken")
    old = NOW - timedelta(hours=1)
    late = ask(ingest, "booking", "m-bjorn", room_id=ROOM, starts_at=old.isoformat(), minutes=60)
    assert late.reason == "too_late"
    assert store.query_one("SELECT count(*) FROM bookings")[0] == 1


def test_a_guest_with_a_visitor_card_gets_a_day_pass(store, ingest):
    answer = ask(ingest, "guest", first_name="Bo", card=VISITOR_CARD)
    assert (answer.ok, answer.reason, answer.data) == (True, "guest_registered", {"guest": "Bo"})
    row = store.query_one("SELECT first_name, host_member_id, credential FROM guest_passes")
    assert tuple(row) == ("Bo", "m-asa", VISITOR_CARD)
    # the guest's own card may not ask for anything but check-out
    assert ask(ingest, "signup", request=KioskRequest(
        ts=NOW, action="signup", credential=VISITOR_CARD, params={"event_id": "x"}
    )).reason == "not_allowed"  # fmt: skip
    member_card = ask(ingest, "guest", first_name="Ebba", card=credential("m-bjorn"))
    assert (member_card.ok, member_card.reason) == (False, "card_in_use")


def test_guests_beyond_the_tiers_daily_limit_are_refused(store, ingest):
    with store.write() as db:
        db.execute("UPDATE tiers SET guests_per_day = 1")
    assert ask(ingest, "guest", first_name="Bo").reason == "guest_registered"
    assert ask(ingest, "guest", first_name="Ebba").reason == "guest_limit"


def test_an_unknown_card_is_answered_without_naming_anyone(store, ingest):
    answer = ask(ingest, "today", request=KioskRequest(
        ts=NOW, action="today", credential="cd" * 32
    ))  # fmt: skip
    assert (answer.ok, answer.reason, answer.agenda) == (False, "unknown_credential", None)


def test_the_days_request_lists_the_plans_and_checks_the_member_in_to_an_event_about_to_start(
    store, ingest
):
    soon = add_event(store, title="Storytelling", starts_at=NOW + timedelta(minutes=20),
                     ends_at=NOW + timedelta(hours=1))  # fmt: skip
    later = add_event(store, title="Friday talk", starts_at=NOW + timedelta(days=3),
                      ends_at=NOW + timedelta(days=3, hours=1))  # fmt: skip
    far = add_event(store, title="Next month", starts_at=NOW + timedelta(days=20),
                    ends_at=NOW + timedelta(days=20, hours=1))  # fmt: skip
    for event in (soon, later, far):
        ask(ingest, "signup", event_id=event.id)
    answer = ask(ingest, "today")
    assert (answer.ok, answer.reason) == (True, "today")
    assert [item.title for item in answer.agenda] == ["Storytelling", "Friday talk"]
    attended = store.query("SELECT event_id FROM signups WHERE attended_at IS NOT NULL")
    assert [row[0] for row in attended] == [soon.id]


def test_a_granted_tap_at_the_events_zone_marks_attendance_and_elsewhere_does_not(store):
    event = add_event(store, starts_at=NOW + timedelta(minutes=10),
                      ends_at=NOW + timedelta(hours=1), zone_id="glade")  # fmt: skip
    ingest = Ingest(store, presence.rules_from(CONFIG), clock=lambda: NOW)
    ask(ingest, "signup", event_id=event.id)

    def tap(door_id, minutes):
        return Inbound("door", door_id, AccessEvent(
            ts=NOW + timedelta(minutes=minutes), reader_id="r1", credential=credential("m-asa"),
            granted=True, reason="member", member_id="m-asa",
        ))  # fmt: skip

    ingest.process([tap("front", 1)])  # the entrance, in the campfire zone
    assert store.query_one("SELECT attended_at FROM signups")[0] is None
    ingest.process([tap("glade", 2)])
    assert store.query_one("SELECT attended_at FROM signups")[0] is not None


def test_a_guest_counts_as_in_shows_with_their_host_and_checks_out_at_the_kiosk(store, ingest):
    ask(ingest, "guest", first_name="Bo", card=VISITOR_CARD)
    pass_id = store.query_one("SELECT id FROM guest_passes")[0]
    ingest.process([Inbound("door", "front", AccessEvent(
        ts=NOW + timedelta(minutes=1), reader_id="r1", credential=VISITOR_CARD, granted=True,
        reason="guest_pass", member_id=pass_id, role="guest",
    ))])  # fmt: skip
    [person] = [p for p in presence.who_is_in(store) if p.member_id == pass_id]
    assert (person.first_name, person.organisation) == ("Bo", "Guest of Åsa Test")
    assert presence.counts(store).zones["campfire"] == 1
    out = KioskRequest(ts=NOW + timedelta(minutes=2), action="check_out", credential=VISITOR_CARD)
    assert ask(ingest, "check_out", request=out).reason == "checked_out"
    assert not presence.is_present(store, pass_id)
