"""Signups, the waitlist, invitations and attendance on a real store."""

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import pytest

from hub_server import audit, events, invitations, members, notifications, signups
from hub_server.errors import Invalid, NotFound, Refused
from hub_server.invitations import InvitationIn
from hub_server.models import MemberChange, build
from hub_server.signups import SignupResult
from hub_server.store import Store
from tests.helpers.community_data import (
    ACTOR,
    END,
    NOW,
    ROOM,
    START,
    add_event,
    add_member,
    community,
    dump,
)

MINUTE = timedelta(minutes=1)


@pytest.fixture
def store() -> Iterator[Store]:
    with Store.memory() as s:
        community(s)
        add_member(s, "m-dag", "Dag")
        add_member(s, "m-eva", "Eva")
        yield s


def sign_up(
    store: Store,
    event_id: str,
    member_id: str,
    guests: int = 0,
    *,
    now: datetime = NOW,
    request_id: str | None = None,
) -> SignupResult:
    return signups.sign_up(
        store, event_id, member_id, guests=guests, actor=ACTOR, source="kiosk", now=now,
        request_id=request_id,
    )  # fmt: skip


def cancel(
    store: Store,
    event_id: str,
    member_id: str,
    *,
    now: datetime = NOW,
    force: bool = False,
    request_id: str | None = None,
) -> SignupResult:
    return signups.cancel(
        store, event_id, member_id, actor=ACTOR, now=now, force=force, request_id=request_id
    )


def guests(
    store: Store, event_id: str, member_id: str, count: int, *, now: datetime = NOW
) -> SignupResult:
    return signups.change_guests(store, event_id, member_id, count, actor=ACTOR, now=now)


def invite(store: Store, event_id: str, email: str, name: str = "Erik") -> invitations.Invitation:
    data = build(InvitationIn, name=name, email=email)
    return invitations.invite(store, event_id, data, actor=ACTOR, now=NOW)


def refused(reason: str, call: Callable[[], object], store: Store) -> str:
    """Run ``call``; it must be refused with ``reason`` and write nothing. Returns the message."""
    before = dump(store)
    with pytest.raises(Refused) as caught:
        call()
    assert caught.value.reason == reason
    assert dump(store) == before
    return str(caught.value)


def queue(store: Store, event_id: str) -> list[tuple[str, str, int | None]]:
    return [(a.member_id, a.status, a.position) for a in signups.of_event(store, event_id)]


# --- signing up ------------------------------------------------------------------------


def test_a_signup_takes_one_seat_plus_guests_and_is_audited(store):
    event = add_event(store, capacity=5, max_guests=2)
    result = sign_up(store, event.id, "m-asa", guests=2)
    assert result == SignupResult(event.id, "m-asa", "confirmed", 2, None, ())
    assert signups.seats(store, event.id) == signups.Seats(capacity=5, taken=3, waitlisted=0)
    assert signups.seats(store, event.id).free == 2
    entry = audit.entries(store, limit=1)[0]
    assert (entry.action, entry.target, entry.actor) == ("signup.add", event.id, ACTOR)
    assert entry.detail["member"] == "m-asa"
    assert entry.detail["guests"] == 2
    row = store.query_one("SELECT * FROM signups")
    assert (row["source"], row["created_by"], row["status"]) == ("kiosk", ACTOR, "confirmed")


def test_a_full_event_puts_newcomers_on_the_waitlist_in_order(store):
    event = add_event(store, capacity=2)
    sign_up(store, event.id, "m-asa")
    sign_up(store, event.id, "m-bjorn")
    assert sign_up(store, event.id, "m-dag") == SignupResult(event.id, "m-dag", "waitlisted", 0, 1)
    assert sign_up(store, event.id, "m-eva").position == 2
    assert signups.position(store.read(), event.id, "m-eva") == 2
    assert signups.position(store.read(), event.id, "m-asa") is None
    assert queue(store, event.id) == [
        ("m-asa", "confirmed", None),
        ("m-bjorn", "confirmed", None),
        ("m-dag", "waitlisted", 1),
        ("m-eva", "waitlisted", 2),
    ]


def test_a_newcomer_never_jumps_the_waitlist(store):
    event = add_event(store, capacity=3, max_guests=2)
    sign_up(store, event.id, "m-asa")
    sign_up(store, event.id, "m-bjorn", guests=2)  # needs 3, 2 free: waits
    assert signups.seats(store, event.id).free == 2
    # one seat would fit Dag alone, but Björn is first in the queue
    assert sign_up(store, event.id, "m-dag").status == "waitlisted"


def test_the_host_may_sign_up_for_their_own_event(store):
    event = add_event(store, host_member_id="m-sigrid")
    assert sign_up(store, event.id, "m-sigrid").status == "confirmed"


def test_a_second_live_signup_is_refused(store):
    event = add_event(store)
    sign_up(store, event.id, "m-asa")
    message = refused("already_signed_up", lambda: sign_up(store, event.id, "m-asa"), store)
    assert message == "Åsa is already signed up for Forest yoga"


def test_signups_close_when_the_event_starts(store):
    event = add_event(store)
    message = refused("event_started", lambda: sign_up(store, event.id, "m-asa", now=START), store)
    assert message == "Forest yoga has started: signups are closed"
    assert sign_up(store, event.id, "m-asa", now=START - MINUTE).status == "confirmed"


def test_an_inactive_member_may_not_sign_up(store):
    event = add_event(store)
    members.deactivate(store, "m-asa", ACTOR)
    message = refused("not_allowed", lambda: sign_up(store, event.id, "m-asa"), store)
    assert message == "Åsa's membership is inactive: no sign-ups"


def test_a_member_outside_their_validity_may_not_sign_up(store):
    event = add_event(store)
    members.change(store, "m-asa", build(MemberChange, valid_until=NOW), ACTOR)
    message = refused("not_allowed", lambda: sign_up(store, event.id, "m-asa"), store)
    assert message == "Åsa's membership has ended: no sign-ups"
    members.change(store, "m-bjorn", build(MemberChange, valid_from=NOW + MINUTE), ACTOR)
    message = refused("not_allowed", lambda: sign_up(store, event.id, "m-bjorn"), store)
    assert message == "Björn's membership has not started yet: no sign-ups"
    assert sign_up(store, event.id, "m-bjorn", now=NOW + MINUTE).status == "confirmed"


@pytest.mark.parametrize(
    ("event", "member", "count", "message"),
    [
        ((0, 12), "m-asa", 1, "Forest yoga takes no guests, not 1"),
        ((2, 12), "m-asa", 3, "Forest yoga allows up to 2 colleagues per member, not 3"),
        ((2, 12), "m-sigrid", 1, "Colleagues come from your organisation, and Sigrid has none"),
        ((5, 3), "m-asa", 3, "Forest yoga has 3 seats in all: at most 2 colleagues can come along"),
    ],
)
def test_too_many_guests_are_refused(store, event, member, count, message):
    max_guests, capacity = event
    event = add_event(store, max_guests=max_guests, capacity=capacity)
    text = refused("too_many_guests", lambda: sign_up(store, event.id, member, guests=count), store)
    assert text.startswith(message)


def test_negative_guests_and_unknown_ids(store):
    event = add_event(store)
    with pytest.raises(Invalid, match="guests: must be 0 or more"):
        sign_up(store, event.id, "m-asa", guests=-1)
    with pytest.raises(NotFound, match="no event 'ev-none'"):
        sign_up(store, "ev-none", "m-asa")
    with pytest.raises(NotFound, match="no member 'm-none'"):
        sign_up(store, event.id, "m-none")
    assert store.query("SELECT * FROM signups") == []


def test_a_repeated_request_id_changes_nothing_and_answers_the_same(store):
    event = add_event(store, capacity=1)
    sign_up(store, event.id, "m-asa")
    first = sign_up(store, event.id, "m-bjorn", request_id="req-1")
    before = dump(store)
    assert sign_up(store, event.id, "m-bjorn", request_id="req-1") == first
    assert first.status == "waitlisted"
    assert dump(store) == before
    with pytest.raises(Invalid, match="request_id: 'req-1' was used for another signup"):
        sign_up(store, event.id, "m-dag", request_id="req-1")


# --- cancelling ----------------------------------------------------------------------


def test_cancelling_a_seat_keeps_the_row_and_promotes_the_head(store):
    event = add_event(store, capacity=1)
    sign_up(store, event.id, "m-asa")
    sign_up(store, event.id, "m-bjorn")
    sign_up(store, event.id, "m-dag")
    later = NOW + MINUTE
    result = cancel(store, event.id, "m-asa", now=later)
    assert result == SignupResult(event.id, "m-asa", "cancelled", 0, None, ("m-bjorn",))
    assert queue(store, event.id) == [("m-bjorn", "confirmed", None), ("m-dag", "waitlisted", 1)]
    [cancelled] = [
        a
        for a in signups.of_event(store, event.id, include_cancelled=True)
        if a.status == "cancelled"
    ]
    assert (cancelled.member_id, cancelled.cancelled_at) == ("m-asa", later)
    [promoted] = [a for a in signups.of_event(store, event.id) if a.member_id == "m-bjorn"]
    assert promoted.promoted_at == later
    [note] = notifications.pending(store)
    assert (note.kind, note.member_id, note.event_id, note.created_at) == (
        "signup.promoted",
        "m-bjorn",
        event.id,
        later,
    )
    assert note.body["title"] == "Forest yoga"
    assert [e.action for e in audit.entries(store, limit=2)] == ["signup.cancel", "signup.promote"]


def test_promotion_is_strict_the_head_that_does_not_fit_holds_the_queue(store):
    event = add_event(store, capacity=3, max_guests=2)
    sign_up(store, event.id, "m-asa", guests=1)
    sign_up(store, event.id, "m-dag")
    sign_up(store, event.id, "m-bjorn", guests=2)  # head: needs 3
    sign_up(store, event.id, "m-eva")  # would fit in 1
    assert cancel(store, event.id, "m-dag").promoted == ()
    assert queue(store, event.id)[1:] == [("m-bjorn", "waitlisted", 1), ("m-eva", "waitlisted", 2)]
    assert cancel(store, event.id, "m-asa").promoted == ("m-bjorn",)
    assert cancel(store, event.id, "m-bjorn").promoted == ("m-eva",)


def test_several_are_promoted_at_once_in_queue_order(store):
    event = add_event(store, capacity=3, max_guests=2)
    sign_up(store, event.id, "m-asa", guests=2)
    sign_up(store, event.id, "m-bjorn")
    sign_up(store, event.id, "m-dag")
    assert cancel(store, event.id, "m-asa").promoted == ("m-bjorn", "m-dag")
    assert [n.member_id for n in notifications.pending(store)] == ["m-bjorn", "m-dag"]


def test_a_seat_cannot_be_given_back_after_the_deadline_unless_forced(store):
    event = add_event(store, capacity=1, cancel_deadline_min=60)
    sign_up(store, event.id, "m-asa")
    sign_up(store, event.id, "m-bjorn")
    deadline = START - timedelta(minutes=60)
    message = refused(
        "past_deadline", lambda: cancel(store, event.id, "m-asa", now=deadline), store
    )
    assert (
        message == "Places at Forest yoga can only be given back until 60 minutes before it starts"
    )
    # a waitlisted place can still be given back
    assert cancel(store, event.id, "m-bjorn", now=deadline).status == "cancelled"
    assert cancel(store, event.id, "m-asa", now=deadline - MINUTE).status == "cancelled"


def test_without_a_deadline_seats_can_be_given_back_until_the_start(store):
    event = add_event(store)
    sign_up(store, event.id, "m-asa")
    message = refused("past_deadline", lambda: cancel(store, event.id, "m-asa", now=START), store)
    assert message == "Places at Forest yoga can only be given back until it starts"
    forced = cancel(store, event.id, "m-asa", now=START + MINUTE, force=True)
    assert forced.status == "cancelled"


def test_nothing_can_be_given_back_after_the_end(store):
    event = add_event(store, capacity=1)
    sign_up(store, event.id, "m-asa")
    sign_up(store, event.id, "m-bjorn")
    message = refused("past_deadline", lambda: cancel(store, event.id, "m-bjorn", now=END), store)
    assert message == "Forest yoga has ended: places can no longer be given back"
    refused("past_deadline", lambda: cancel(store, event.id, "m-asa", now=END, force=True), store)


def test_cancelling_without_a_signup_is_refused(store):
    event = add_event(store)
    message = refused("not_signed_up", lambda: cancel(store, event.id, "m-asa"), store)
    assert message == "Åsa is not signed up for Forest yoga"
    sign_up(store, event.id, "m-asa")
    cancel(store, event.id, "m-asa")
    refused("not_signed_up", lambda: cancel(store, event.id, "m-asa"), store)


def test_signing_up_again_goes_to_the_back_of_the_queue(store):
    event = add_event(store, capacity=1)
    sign_up(store, event.id, "m-asa")
    sign_up(store, event.id, "m-bjorn")
    sign_up(store, event.id, "m-dag")
    cancel(store, event.id, "m-bjorn")
    assert sign_up(store, event.id, "m-bjorn").position == 2
    rows = store.query("SELECT member_id, status FROM signups ORDER BY id")
    assert [tuple(r) for r in rows] == [
        ("m-asa", "confirmed"),
        ("m-bjorn", "cancelled"),
        ("m-dag", "waitlisted"),
        ("m-bjorn", "waitlisted"),
    ]


def test_a_repeated_cancel_request_answers_the_same_and_spares_a_later_signup(store):
    event = add_event(store, capacity=1)
    sign_up(store, event.id, "m-asa")
    sign_up(store, event.id, "m-bjorn")
    first = cancel(store, event.id, "m-asa", request_id="req-c")
    assert first.promoted == ("m-bjorn",)
    before = dump(store)
    assert cancel(store, event.id, "m-asa", request_id="req-c") == first
    assert dump(store) == before
    sign_up(store, event.id, "m-asa")  # waitlisted again
    assert cancel(store, event.id, "m-asa", request_id="req-c") == first
    assert queue(store, event.id) == [("m-bjorn", "confirmed", None), ("m-asa", "waitlisted", 1)]
    # another request id is a new cancel
    assert cancel(store, event.id, "m-asa", request_id="req-d").promoted == ()
    assert queue(store, event.id) == [("m-bjorn", "confirmed", None)]


# --- guests --------------------------------------------------------------------------


def test_more_guests_need_free_seats_and_an_empty_waitlist(store):
    event = add_event(store, capacity=4, max_guests=3)
    sign_up(store, event.id, "m-asa")
    sign_up(store, event.id, "m-bjorn", guests=1)
    assert guests(store, event.id, "m-asa", 1) == SignupResult(
        event.id, "m-asa", "confirmed", 1, None
    )
    message = refused("full", lambda: guests(store, event.id, "m-asa", 2), store)
    assert message == "Forest yoga is full (4 of 4 seats taken)"
    guests(store, event.id, "m-bjorn", 0)  # one seat free now
    sign_up(store, event.id, "m-dag", guests=1)  # needs 2: waits
    message = refused("full", lambda: guests(store, event.id, "m-asa", 2), store)
    assert message == "Forest yoga is full: 1 signup waits for a seat"


def test_fewer_guests_promote_from_the_waitlist(store):
    event = add_event(store, capacity=3, max_guests=2)
    sign_up(store, event.id, "m-asa", guests=2)
    sign_up(store, event.id, "m-bjorn")
    result = guests(store, event.id, "m-asa", 1)
    assert result == SignupResult(event.id, "m-asa", "confirmed", 1, None, ("m-bjorn",))
    entry = next(e for e in audit.entries(store) if e.action == "signup.guests")
    assert entry.detail == {"member": "m-asa", "guests": 1, "was": 2}


def test_a_waitlisted_signup_changes_its_guests_and_keeps_its_place(store):
    event = add_event(store, capacity=1, max_guests=0)
    sign_up(store, event.id, "m-asa")
    sign_up(store, event.id, "m-bjorn")
    sign_up(store, event.id, "m-dag")
    events.update(
        store, event.id, events.EventChange(capacity=3, max_guests=2), actor=ACTOR, now=NOW
    )
    # now Björn and Dag are in; Eva waits behind a bigger party
    sign_up(store, event.id, "m-eva")
    assert guests(store, event.id, "m-eva", 2) == SignupResult(
        event.id, "m-eva", "waitlisted", 2, 1
    )


def test_a_waitlisted_head_that_shrinks_to_fit_is_promoted(store):
    event = add_event(store, capacity=3, max_guests=2)
    sign_up(store, event.id, "m-asa", guests=1)
    sign_up(store, event.id, "m-bjorn", guests=2)
    assert guests(store, event.id, "m-bjorn", 0).status == "confirmed"


def test_guest_changes_have_the_signup_rules(store):
    event = add_event(store, max_guests=1)
    refused("not_signed_up", lambda: guests(store, event.id, "m-asa", 1), store)
    sign_up(store, event.id, "m-asa")
    sign_up(store, event.id, "m-sigrid")
    refused("too_many_guests", lambda: guests(store, event.id, "m-asa", 2), store)
    refused("too_many_guests", lambda: guests(store, event.id, "m-sigrid", 1), store)
    message = refused(
        "event_started", lambda: guests(store, event.id, "m-asa", 1, now=START), store
    )
    assert message == "Forest yoga has started: guests can no longer change"
    before = dump(store)
    assert guests(store, event.id, "m-asa", 0).guests == 0  # the same count: nothing to do
    assert dump(store) == before


# --- invitations ---------------------------------------------------------------------


def test_an_invitation_takes_a_seat_at_an_open_event(store):
    event = add_event(store, capacity=2, visibility="open")
    invitation = invite(store, event.id, "Erik@Example.org")
    assert (invitation.name, invitation.email, invitation.status) == (
        "Erik",
        "Erik@Example.org",
        "invited",
    )
    assert signups.seats(store, event.id).taken == 1
    message = refused("already_invited", lambda: invite(store, event.id, "erik@example.ORG"), store)
    assert message == "erik@example.ORG is already invited to Forest yoga"
    entry = audit.entries(store, limit=1)[0]
    assert (entry.action, entry.detail) == ("invitation.add", {"invitation": invitation.id})


def test_members_only_events_take_no_invitations(store):
    event = add_event(store)
    message = refused("not_allowed", lambda: invite(store, event.id, "erik@example.org"), store)
    assert message == "Forest yoga is for members only: outsiders cannot be invited"


def test_an_invitation_needs_a_free_seat_and_an_empty_waitlist(store):
    event = add_event(store, capacity=2, visibility="open", max_guests=1)
    invite(store, event.id, "erik@example.org")
    sign_up(store, event.id, "m-asa")
    message = refused("full", lambda: invite(store, event.id, "frida@example.org"), store)
    assert message == "Forest yoga is full (2 of 2 seats taken)"
    events.update(store, event.id, events.EventChange(capacity=3), actor=ACTOR, now=NOW)
    sign_up(store, event.id, "m-bjorn", guests=1)  # needs 2, 1 free: waits
    message = refused("full", lambda: invite(store, event.id, "frida@example.org"), store)
    assert message == "Forest yoga is full: 1 signup waits for a seat"


def test_withdrawing_an_invitation_promotes_from_the_waitlist(store):
    event = add_event(store, capacity=1, visibility="open")
    invitation = invite(store, event.id, "erik@example.org")
    sign_up(store, event.id, "m-asa")
    withdrawn = invitations.cancel(store, invitation.id, actor=ACTOR, now=NOW + MINUTE)
    assert (withdrawn.status, withdrawn.cancelled_at) == ("cancelled", NOW + MINUTE)
    assert queue(store, event.id) == [("m-asa", "confirmed", None)]
    before = dump(store)
    assert invitations.cancel(store, invitation.id, actor=ACTOR, now=NOW) == withdrawn
    assert dump(store) == before
    # the same email may be invited again
    assert invitations.of_event(store, event.id) == []
    events.update(store, event.id, events.EventChange(capacity=2), actor=ACTOR, now=NOW)
    invite(store, event.id, "erik@example.org")
    assert [i.status for i in invitations.of_event(store, event.id, include_cancelled=True)] == [
        "cancelled",
        "invited",
    ]


def test_invitation_input_and_closed_events(store):
    with pytest.raises(Invalid, match="email: 'erik' is not an email address"):
        build(InvitationIn, name="Erik", email="erik")
    with pytest.raises(Invalid, match="email: must not be empty"):
        build(InvitationIn, name="Erik", email="  ")
    with pytest.raises(Invalid, match="name: must not be empty"):
        build(InvitationIn, name="", email="erik@example.org")
    event = add_event(store, visibility="open")
    refused(
        "event_started",
        lambda: invitations.invite(
            store,
            event.id,
            build(InvitationIn, name="E", email="e@example.org"),
            actor=ACTOR,
            now=START,
        ),
        store,
    )
    with pytest.raises(NotFound, match="no invitation 99"):
        invitations.cancel(store, 99, actor=ACTOR, now=NOW)


def test_an_invitation_is_read_only_through_its_own_event(store):
    event = add_event(store, visibility="open")
    other = add_event(store, title="Moss walk", visibility="open")
    invited = invite(store, event.id, "erik@example.org")
    assert invitations.get(store, event.id, invited.id) == invited
    with pytest.raises(NotFound, match=f"no invitation {invited.id} to event {other.id}"):
        invitations.get(store, other.id, invited.id)
    with pytest.raises(NotFound):
        invitations.get(store, "e-nowhere", invited.id)


# --- attendance ----------------------------------------------------------------------


def attend(
    store: Store, member_id: str, at: datetime, place: signups.Place | None = None
) -> list[str]:
    with store.write() as db:
        return signups.mark_attended(db, member_id, at, place=place, checkin_before_min=30)


def test_a_kiosk_tap_in_the_window_marks_attendance_once(store):
    event = add_event(store)
    sign_up(store, event.id, "m-asa")
    assert attend(store, "m-asa", START - timedelta(minutes=31)) == []
    assert attend(store, "m-asa", START - timedelta(minutes=30)) == [event.id]
    assert attend(store, "m-asa", START) == []  # already marked
    [attendee] = signups.of_event(store, event.id)
    assert attendee.attended_at == START - timedelta(minutes=30)


def test_attendance_ends_with_the_event_and_needs_a_confirmed_seat(store):
    event = add_event(store, capacity=1)
    sign_up(store, event.id, "m-asa")
    sign_up(store, event.id, "m-bjorn")
    assert attend(store, "m-asa", END) == []
    assert attend(store, "m-bjorn", START) == []  # waitlisted
    assert attend(store, "m-dag", START) == []  # not signed up
    assert attend(store, "m-asa", END - MINUTE) == [event.id]


def test_a_tap_counts_at_the_events_room_or_zone_only(store):
    in_room = add_event(store, zone_id=None, room_id=ROOM, capacity=8)
    in_glade = add_event(store, zone_id="glade", capacity=4)
    for event in (in_room, in_glade):
        sign_up(store, event.id, "m-asa")
    assert attend(store, "m-asa", START, place=("elsewhere", None)) == []
    assert attend(store, "m-asa", START, place=(None, "other-room")) == []
    assert attend(store, "m-asa", START, place=("campfire", None)) == [
        in_room.id
    ]  # the room's zone
    assert attend(store, "m-asa", START, place=("glade", None)) == [in_glade.id]


def test_a_tap_at_the_room_itself_counts(store):
    event = add_event(store, zone_id=None, room_id=ROOM, capacity=8)
    sign_up(store, event.id, "m-asa")
    assert attend(store, "m-asa", START, place=(None, ROOM)) == [event.id]


def test_a_cancelled_event_takes_no_attendance(store):
    event = add_event(store)
    sign_up(store, event.id, "m-asa")
    events.cancel(store, event.id, actor=ACTOR, now=NOW)
    assert attend(store, "m-asa", START) == []


# --- queries -------------------------------------------------------------------------


def test_a_members_signups_with_their_waitlist_places(store):
    first = add_event(store, id="ev-1", capacity=1)
    day = timedelta(days=1)
    second = add_event(
        store, id="ev-2", zone_id=None, room_id=ROOM, capacity=8, max_guests=1,
        starts_at=START + day, ends_at=END + day,
    )  # fmt: skip
    gone = add_event(store, id="ev-3")
    sign_up(store, first.id, "m-bjorn")
    sign_up(store, first.id, "m-asa")
    sign_up(store, second.id, "m-asa", guests=1)
    sign_up(store, gone.id, "m-asa")
    events.cancel(store, gone.id, actor=ACTOR, now=NOW)
    found = signups.of_member(store, "m-asa", since=NOW, until=NOW + timedelta(days=7))
    assert [(s.event_id, s.status, s.guests, s.position) for s in found] == [
        ("ev-1", "waitlisted", 0, 1),
        ("ev-2", "confirmed", 1, None),
    ]
    assert (found[1].room_id, found[1].zone_id, found[1].title) == (ROOM, "campfire", "Forest yoga")
    assert signups.of_member(store, "m-asa", since=END, until=END + timedelta(hours=1)) == []


def test_of_event_lists_names_for_the_dashboard_and_knows_unknown_events(store):
    event = add_event(store, capacity=1)
    sign_up(store, event.id, "m-asa")
    sign_up(store, event.id, "m-bjorn")
    [asa, bjorn] = signups.of_event(store, event.id)
    assert (asa.first_name, asa.last_name, asa.source) == ("Åsa", "Test", "kiosk")
    assert (bjorn.status, bjorn.position) == ("waitlisted", 1)
    with pytest.raises(NotFound):
        signups.of_event(store, "ev-none")
    with pytest.raises(NotFound):
        signups.seats(store, "ev-none")
