"""The kiosk's view-models: what each screen says after taps, presses, answers and time."""

from dataclasses import asdict
from datetime import timedelta

import pytest

from hublink.messages import AgendaItem, KioskResponse
from kiosk.views import AnswerView, BadgeView, ChoiceView, ConfirmView, DeniedView, IdleView
from tests.helpers.kiosk_data import (
    ASA,
    BJORN,
    GUEST,
    NOW,
    STRANGER,
    Rig,
    event,
    events,
    make_rig,
    occupancy,
    room,
)


@pytest.fixture
def rig(tmp_path) -> Rig:
    return make_rig(tmp_path)


def texts(view: object) -> str:
    """Every text a view holds, for 'does not show' checks."""
    return repr(asdict(view))


def labels(view: BadgeView | ChoiceView | ConfirmView | AnswerView | DeniedView) -> dict[str, bool]:
    buttons = [*getattr(view, "options", ()), *view.actions]
    return {b.id: b.enabled for b in buttons}


def answer(rig: Rig, action: str, ok: bool, reason: str, **data: object) -> None:
    request = rig.sender.last(action)
    rig.model.answer(KioskResponse(request_id=request.id, ok=ok, reason=reason, data=data))


# --- idle -----------------------------------------------------------------


def test_idle_shows_zones_rooms_todays_events_and_open(rig):
    view = rig.model.view()
    assert isinstance(view, IdleView)
    assert view.clock == "10:00"  # Stockholm, from 09:00 UTC
    assert view.date == "Wednesday 25 November"
    assert view.open_text == "Open"
    assert view.zones_heading == "11 people here now"
    assert [(z.name, z.count_text, z.level, z.level_text) for z in view.zones] == [
        ("Forest glade", "9 / 12", "amber", "Filling up"),
        ("Campfire circle", "2 / 20", "green", "Room to work"),
    ]
    assert view.zones[0].share == pytest.approx(0.75)
    assert [(r.name, r.status_text, r.free) for r in view.rooms] == [
        ("Lookout room", "Free until 12:00", True),
        ("Oasis room", "Booked until 10:30", False),
    ]
    # tomorrow's event is not today's
    assert [(e.time_text, e.title, e.seats_text) for e in view.events] == [
        ("15:00–16:30", "Storytelling", "1 seat left")
    ]
    assert view.offline_text == ""
    assert view.waiting_text == ""


def test_room_lines_cover_booked_in_use_free_and_next_booking(rig):
    rig.feeds.occupancy_payload(
        occupancy(
            rooms=[
                room(
                    "a",
                    "Attic",
                    booked_until=NOW + timedelta(hours=1),
                    next_booking_at=NOW + timedelta(hours=3),
                ),
                room("b", "Barn", count=2),
                room("c", "Cellar"),
                room("d", "Den", booked_until=NOW - timedelta(minutes=5)),  # over
                room("e", "Eaves", next_booking_at=NOW + timedelta(days=1, hours=1)),
            ]
        )
    )
    lines = {r.name: (r.status_text, r.free, r.next_text) for r in rig.model.idle_view().rooms}
    assert lines == {
        "Attic": ("Booked until 11:00", False, "Next booking 13:00"),
        "Barn": ("In use", False, ""),
        "Cellar": ("Free", True, ""),
        "Den": ("Free", True, ""),
        "Eaves": ("Free until Thursday 11:00", True, ""),
    }


def test_full_events_show_the_waitlist_and_ended_events_go(rig):
    rig.feeds.events_payload(
        events(
            event("full", "Full one", timedelta(hours=1), capacity=5, taken=5, waitlist=3),
            event("nowait", "No queue", timedelta(hours=2), capacity=5, taken=6),
            event("over", "Over", -timedelta(hours=3), hours=1),
            event("running", "Running", -timedelta(minutes=30), hours=1, capacity=4, taken=1),
        )
    )
    view = rig.model.idle_view()
    assert [(e.title, e.seats_text, e.full) for e in view.events] == [
        ("Running", "3 seats left", False),
        ("Full one", "Full · 3 on the waitlist", True),
        ("No queue", "Full · join the waitlist", True),
    ]


def test_idle_before_the_hub_has_said_anything(tmp_path):
    rig = make_rig(tmp_path, feed=False, online=False)
    view = rig.model.idle_view()
    assert view.zones == ()
    assert view.events == ()
    assert view.empty_text == "Waiting for the hub…"
    assert view.offline_text == "Offline — no news from the hub yet"
    assert view.open_text == ""


def test_offline_says_since_when_and_goes_when_the_hub_is_back(rig):
    rig.clock.advance(120)
    rig.feeds.link_status(False)
    assert rig.model.idle_view().offline_text == "Offline — showing what the hub said at 10:00"
    rig.feeds.link_status(True)
    assert rig.model.idle_view().offline_text != ""  # connected, but the hub has not said online
    rig.feeds.hub_status(True)
    assert rig.model.idle_view().offline_text == ""
    rig.feeds.hub_status(False)  # the hub's last will
    assert rig.model.idle_view().offline_text.startswith("Offline")


def test_closed_and_unknown_opening(rig):
    rig.feeds.occupancy_payload(occupancy(open_now=False))
    assert rig.model.idle_view().open_text == "Closed"
    rig.feeds.occupancy_payload(occupancy(open_now=None))
    assert rig.model.idle_view().open_text == ""


# --- taps -----------------------------------------------------------------


def test_a_granted_tap_greets_by_first_name_and_asks_for_the_day(rig):
    rig.model.tap(ASA, granted=True, reason="member")
    view = rig.model.view()
    assert isinstance(view, BadgeView)
    assert view.greeting == "Hej, Åsa!"
    assert labels(view) == {
        "checkout": True,
        "signup": True,
        "guest": True,
        "booking": True,
        "done": True,
    }
    today = rig.sender.last("today")
    assert today.credential == ASA
    assert today.params == {}


def test_no_day_asked_for_while_offline(tmp_path):
    rig = make_rig(tmp_path, online=False)
    rig.model.tap(ASA, granted=True)
    assert rig.model.view().greeting == "Hej, Åsa!"
    assert rig.sender.sent == []


def test_a_denied_tap_gives_a_reason_and_no_name(rig):
    rig.model.tap(ASA, granted=False, reason="credential_suspended")
    view = rig.model.view()
    assert isinstance(view, DeniedView)
    assert view.message == "This card is not active — please ask a host."
    assert "Åsa" not in texts(view)
    assert rig.sender.sent == []


@pytest.mark.parametrize(
    ("reason", "words"),
    [
        ("unknown_credential", "We don't know this card"),
        ("outside_schedule", "at this hour"),
        ("rate_limited", "wait a moment"),
        ("unknown_schedule", "please ask a host"),  # no wording of its own
        ("something_new", "please ask a host"),
    ],
)
def test_every_refusal_is_worded(rig, reason, words):
    rig.model.tap(STRANGER, granted=False, reason=reason)
    assert words in rig.model.view().message


def test_the_kiosks_own_reader_greets_only_cards_in_the_directory(rig):
    rig.model.tap(BJORN, granted=None)
    assert rig.model.view().greeting == "Hej, Björn!"
    rig.model.tap(STRANGER, granted=None)
    view = rig.model.view()
    assert isinstance(view, DeniedView)
    assert "We don't know this card" in view.message


def test_a_card_the_door_let_in_but_the_directory_lacks_gets_a_nameless_welcome(rig):
    rig.model.tap(STRANGER, granted=True, reason="member")
    view = rig.model.view()
    assert isinstance(view, BadgeView)
    assert view.greeting == "Welcome!"
    assert rig.sender.sent == []  # no member id: no day to ask for


def test_a_guest_sees_the_hosts_first_name_and_only_check_out(rig):
    rig.model.tap(GUEST, granted=True, reason="guest_pass")
    view = rig.model.view()
    assert isinstance(view, BadgeView)
    assert (view.greeting, view.subtitle) == ("Hej, Bo!", "Guest of Björn")
    assert set(labels(view)) == {"checkout", "done"}
    rig.model.press("signup")
    assert rig.model.screen == "badge"


def test_the_members_day_shows_on_the_badge(rig):
    rig.model.tap(ASA, granted=True)
    today = rig.sender.last("today")
    agenda = (
        AgendaItem(
            kind="booking",
            ref="b-1",
            title="Lookout room",
            starts_at=NOW + timedelta(hours=3),
            ends_at=NOW + timedelta(hours=4),
            room_id="lookout-room",
        ),
        AgendaItem(
            kind="signup",
            ref="ev-story",
            title="Storytelling",
            guests=1,
            starts_at=NOW + timedelta(hours=5),
            ends_at=NOW + timedelta(hours=6),
        ),
        AgendaItem(
            kind="waitlist",
            ref="ev-yoga",
            title="Morning stretch",
            position=2,
            starts_at=NOW + timedelta(hours=1),
            ends_at=NOW + timedelta(hours=2),
        ),
        AgendaItem(
            kind="signup",
            ref="ev-talk",
            title="Friday talk",
            starts_at=NOW + timedelta(days=2, hours=8),
            ends_at=NOW + timedelta(days=2, hours=9),
        ),
    )
    rig.model.answer(KioskResponse(request_id=today.id, ok=True, reason="today", agenda=agenda))
    view = rig.model.view()
    assert isinstance(view, BadgeView)
    assert view.agenda_heading == "Your plans"
    assert view.agenda == (
        "11:00–12:00 Morning stretch — number 2 on the waitlist",
        "13:00–14:00 Lookout room is booked for you",
        "15:00–16:00 Storytelling, with 1 colleague",
        "Friday 18:00–19:00 Friday talk",
    )
    assert labels(view)["cancel_signup"] is True


def test_a_hub_without_the_day_leaves_the_badge_as_it_was(rig):
    rig.model.tap(ASA, granted=True)
    before = rig.model.view()
    rig.model.answer(
        KioskResponse(request_id=rig.sender.last("today").id, ok=False, reason="not_supported")
    )
    assert rig.model.view() == before
    assert rig.cache.waiting() == 0  # the day is not a request that waits for an answer


# --- actions --------------------------------------------------------------


def test_sign_up_with_a_colleague_end_to_end(rig):
    rig.model.tap(ASA, granted=True)
    rig.model.press("signup")
    view = rig.model.view()
    assert isinstance(view, ChoiceView)
    assert [(o.id, o.label, o.detail) for o in view.options] == [
        ("event:ev-story", "Storytelling", "Today 15:00–16:30 · 1 seat left"),
        ("event:ev-yoga", "Morning stretch", "Tomorrow 10:00–11:30 · Full · 2 on the waitlist"),
    ]
    rig.model.press("event:ev-story")
    view = rig.model.view()
    assert [o.label for o in view.options] == [
        "Just me",
        "Me and 1 colleague",
        "Me and 2 colleagues",
    ]
    rig.model.press("guests:1")
    view = rig.model.view()
    assert isinstance(view, ConfirmView)
    assert view.lines == ("Storytelling", "Today 15:00–16:30", "Me and 1 colleague")
    assert view.warning == "Not enough seats left: you will go on the waitlist."
    rig.model.press("confirm")
    request = rig.sender.last("signup")
    assert (request.credential, request.params) == (ASA, {"event_id": "ev-story", "guests": 1})
    view = rig.model.view()
    assert isinstance(view, AnswerView)
    assert (view.state, view.message) == ("waiting", "Sending…")
    answer(rig, "signup", True, "waitlisted", waitlist_position=2)
    view = rig.model.view()
    assert view.state == "done"
    assert view.message == "Storytelling is full: you are number 2 on the waitlist."


def test_an_event_without_guests_skips_the_colleagues_step_and_back_goes_back(rig):
    rig.model.tap(ASA, granted=True)
    rig.model.press("signup")
    rig.model.press("event:ev-yoga")
    assert isinstance(rig.model.view(), ConfirmView)
    rig.model.press("back")
    assert rig.model.view().prompt == "Which event?"
    rig.model.press("back")
    assert rig.model.screen == "badge"


def test_an_event_already_on_the_day_cannot_be_picked_again(rig):
    rig.model.tap(ASA, granted=True)
    item = AgendaItem(
        kind="signup",
        ref="ev-story",
        title="Storytelling",
        starts_at=NOW + timedelta(hours=5),
        ends_at=NOW + timedelta(hours=6),
    )
    rig.model.answer(
        KioskResponse(
            request_id=rig.sender.last("today").id, ok=True, reason="today", agenda=(item,)
        )
    )
    rig.model.press("signup")
    options = {o.id: (o.enabled, o.detail) for o in rig.model.view().options}
    assert options["event:ev-story"] == (False, "Today 15:00–16:30 · You are signed up")
    rig.model.press("event:ev-story")
    assert rig.model.view().prompt == "Which event?"


def test_cancel_a_signup(rig):
    rig.model.tap(ASA, granted=True)
    item = AgendaItem(
        kind="signup",
        ref="ev-story",
        title="Storytelling",
        starts_at=NOW + timedelta(hours=5),
        ends_at=NOW + timedelta(hours=6),
    )
    rig.model.answer(
        KioskResponse(
            request_id=rig.sender.last("today").id, ok=True, reason="today", agenda=(item,)
        )
    )
    rig.model.press("cancel_signup")
    rig.model.press("event:ev-story")
    rig.model.press("confirm")
    assert rig.sender.last("cancel_signup").params == {"event_id": "ev-story"}
    answer(rig, "cancel_signup", False, "past_deadline")
    view = rig.model.view()
    assert (view.state, view.message) == ("refused", "The deadline for Storytelling has passed.")


def test_register_a_guest_on_the_on_screen_keys(rig):
    rig.model.tap(ASA, granted=True)
    rig.model.press("guest")
    for key in ("key: ", "key:B", "key:O", "key: ", "key: ", "key:Å", "key:S", "backspace"):
        rig.model.press(key)
    view = rig.model.view()
    assert view.text == "Bo Å"  # leading and double spaces dropped
    rig.model.press("continue")
    view = rig.model.view()
    assert isinstance(view, ConfirmView)
    assert view.lines[0] == "Tap the card Bo Å will carry today on the reader."
    rig.model.press("no_card")
    view = rig.model.view()
    assert view.lines[:2] == (
        "Bo Å will be your guest today.",
        "Without a card: Bo Å comes in with you.",
    )
    rig.model.press("confirm")
    assert rig.sender.last("guest").params == {"first_name": "Bo Å"}
    answer(rig, "guest", True, "guest_registered")
    assert rig.model.view().message == "Bo Å is your guest today. Welcome!"


def test_a_visitor_card_tapped_at_the_door_becomes_the_guests_card(rig):
    rig.model.tap(ASA, granted=True)
    rig.model.press("guest")
    for key in ("key:B", "key:O", "continue"):
        rig.model.press(key)
    rig.model.tap(BJORN, granted=True)  # a member's card: not taken, and no greeting
    view = rig.model.view()
    assert view.warning == "That card is already someone's. Please tap a visitor card."
    assert rig.model.screen == "flow"
    rig.model.tap(STRANGER, granted=False, reason="unknown_credential")
    view = rig.model.view()
    assert view.lines[1] == "With the card you tapped."
    rig.model.press("back")  # back to the card step forgets the card
    assert rig.model.view().warning == ""
    rig.model.tap(STRANGER, granted=False, reason="unknown_credential")
    rig.model.press("confirm")
    request = rig.sender.last("guest")
    assert request.credential == ASA  # the host asks
    assert request.params == {"first_name": "Bo", "card": STRANGER}


def test_a_tap_during_the_name_step_still_greets_whoever_tapped(rig):
    rig.model.tap(ASA, granted=True)
    rig.model.press("guest")
    rig.model.press("key:B")
    rig.model.tap(STRANGER, granted=False, reason="unknown_credential")
    assert rig.model.screen == "denied"


def test_a_guest_name_is_needed_and_has_a_length_limit(rig):
    rig.model.tap(ASA, granted=True)
    rig.model.press("guest")
    assert labels(rig.model.view())["continue"] is False
    rig.model.press("continue")
    assert rig.model.view().kind == "name_entry"
    for _ in range(50):
        rig.model.press("key:A")
    assert len(rig.model.view().text) == 40


def test_book_a_room_for_what_fits_before_its_next_booking(rig):
    rig.model.tap(ASA, granted=True)
    rig.model.press("booking")
    view = rig.model.view()
    # the Oasis room is booked until 10:30: not offered
    assert [(o.id, o.detail, o.enabled) for o in view.options] == [
        ("room:lookout-room", "Free until 12:00", True)
    ]
    rig.model.press("room:lookout-room")
    view = rig.model.view()
    assert [(o.id, o.detail) for o in view.options] == [
        ("hours:1", "until 11:00"),
        ("hours:2", "until 12:00"),
    ]
    rig.model.press("hours:3")  # does not fit: nothing happens
    assert rig.model.view().kind == "choice"
    rig.model.press("hours:2")
    rig.model.press("confirm")
    assert rig.sender.last("booking").params == {
        "room_id": "lookout-room",
        "starts_at": "2026-11-25T09:00:00+00:00",
        "minutes": 120,
    }
    answer(rig, "booking", False, "room_taken")
    assert "Someone has just booked Lookout room" in rig.model.view().message


def test_a_room_too_close_to_its_next_booking_is_shown_but_cannot_be_picked(rig):
    rig.feeds.occupancy_payload(
        occupancy(rooms=[room("r", "Nook", next_booking_at=NOW + timedelta(minutes=40))])
    )
    rig.model.tap(ASA, granted=True)
    rig.model.press("booking")
    assert labels(rig.model.view()) == {"room:r": False, "back": True}
    rig.model.press("room:r")
    assert rig.model.view().prompt == "Which room?"


def test_nothing_to_pick_disables_the_action(rig):
    rig.feeds.occupancy_payload(occupancy(rooms=[room("r", "Nook", count=1)]))
    rig.feeds.events_payload(events())
    rig.model.tap(ASA, granted=True)
    assert labels(rig.model.view())["booking"] is False
    assert labels(rig.model.view())["signup"] is False


def test_check_out_answers_with_the_first_name(rig):
    rig.model.tap(ASA, granted=True)
    rig.model.press("checkout")
    assert rig.sender.last("check_out").params == {}
    answer(rig, "check_out", True, "checked_out")
    view = rig.model.view()
    assert (view.title, view.message) == ("Done!", "You are checked out. See you soon, Åsa!")
    assert labels(view) == {"more": True, "done": True}
    rig.model.press("more")
    assert rig.model.screen == "badge"


def test_an_unknown_refusal_names_its_code(rig):
    rig.model.tap(ASA, granted=True)
    rig.model.press("checkout")
    answer(rig, "check_out", False, "brand_new_reason")
    assert rig.model.view().message == "That did not work (brand_new_reason) — please ask a host."


def test_stale_buttons_change_nothing(rig):
    revision = rig.model.revision
    for button in ("confirm", "event:ev-story", "more", "key:A", "checkout"):
        rig.model.press(button)
    assert rig.model.screen == "idle"
    assert rig.model.revision == revision
    assert rig.sender.sent == []


# --- offline, answers later, nothing lost ---------------------------------


def test_offline_requests_are_saved_and_answered_at_the_next_tap(tmp_path):
    rig = make_rig(tmp_path, online=False)
    rig.model.tap(ASA, granted=True)
    rig.model.press("checkout")
    view = rig.model.view()
    assert (view.title, view.state) == ("Saved", "queued")
    assert "goes out as soon as it is back" in view.message
    rig.model.press("done")
    idle = rig.model.view()
    assert idle.waiting_text == "1 request waiting for the hub"
    assert "Åsa" not in texts(idle)
    # the hub comes back and answers while Åsa is away
    rig.online()
    answer(rig, "check_out", True, "checked_out")
    assert rig.model.idle_view().waiting_text == ""
    rig.model.tap(ASA, granted=True)
    badge = rig.model.view()
    assert badge.earlier == ("You are checked out. See you soon, Åsa!",)
    assert badge.agenda_heading == "While you were away"
    rig.model.press("done")
    rig.model.tap(ASA, granted=True)
    assert rig.model.view().earlier == ()  # shown once


def test_an_answer_seen_on_screen_is_not_shown_again(rig):
    rig.model.tap(ASA, granted=True)
    rig.model.press("checkout")
    answer(rig, "check_out", True, "checked_out")
    rig.model.press("done")
    rig.model.tap(ASA, granted=True)
    assert rig.model.view().earlier == ()


def test_answers_are_matched_after_a_restart(tmp_path):
    rig = make_rig(tmp_path, online=False)
    rig.model.tap(ASA, granted=True)
    rig.model.press("signup")
    rig.model.press("event:ev-yoga")
    rig.model.press("confirm")
    request = rig.sender.last("signup")
    rig.cache.close()
    again = make_rig(tmp_path, feed=False)  # a new process: only the cache file carries over
    assert again.model.idle_view().zones != ()  # occupancy from the cache
    again.model.answer(KioskResponse(request_id=request.id, ok=True, reason="signed_up"))
    again.model.tap(ASA, granted=True)  # the directory came from the cache too
    view = again.model.view()
    assert view.greeting == "Hej, Åsa!"
    assert view.earlier == ("You are signed up for Morning stretch.",)


def test_a_request_that_cannot_be_stored_says_so(rig):
    rig.model.tap(ASA, granted=True)
    rig.sender.fail = True
    rig.model.press("checkout")
    view = rig.model.view()
    assert (view.state, view.message) == (
        "refused",
        "Your request could not be saved — please ask a host.",
    )


def test_answers_for_other_kiosks_requests_are_ignored(rig):
    rig.model.answer(
        KioskResponse(
            request_id="019abc12-3456-7def-8123-456789abcdef", ok=True, reason="checked_out"
        )
    )
    assert rig.model.screen == "idle"


def test_old_requests_are_forgotten_after_a_week(rig):
    rig.model.tap(ASA, granted=True)
    rig.model.press("checkout")
    rig.clock.advance(timedelta(days=8).total_seconds())
    assert rig.model.forget_old_requests() == 1
    assert rig.cache.waiting() == 0


# --- time -----------------------------------------------------------------


def test_the_badge_goes_back_to_idle_after_its_time_unless_touched(rig):
    rig.model.tap(ASA, granted=True)
    rig.clock.advance(9)
    rig.model.tick()
    assert rig.model.screen == "badge"
    rig.model.touch()
    rig.clock.advance(9)
    rig.model.tick()
    assert rig.model.screen == "badge"
    rig.clock.advance(1.5)
    rig.model.tick()
    assert rig.model.screen == "idle"


def test_an_abandoned_flow_times_out_and_a_new_tap_replaces_it(rig):
    rig.model.tap(ASA, granted=True)
    rig.model.press("guest")
    rig.model.press("key:X")
    rig.model.tap(BJORN, granted=True)
    view = rig.model.view()
    assert view.greeting == "Hej, Björn!"
    rig.model.press("guest")
    rig.clock.advance(29)
    rig.model.tick()
    assert rig.model.view().text == ""  # Åsa's X is gone
    rig.clock.advance(2)
    rig.model.tick()
    assert rig.model.screen == "idle"


def test_an_answer_stays_for_its_time(rig):
    rig.model.tap(ASA, granted=True)
    rig.model.press("checkout")
    rig.clock.advance(20)
    answer(rig, "check_out", True, "checked_out")
    rig.clock.advance(5)
    rig.model.tick()
    assert rig.model.screen == "answer"
    rig.clock.advance(1.5)
    rig.model.tick()
    assert rig.model.screen == "idle"


def test_the_clock_changes_the_view_once_a_minute(rig):
    rig.model.tick()
    revision = rig.model.revision
    rig.clock.advance(30)
    rig.model.tick()
    assert rig.model.revision == revision
    rig.clock.advance(31)
    rig.model.tick()
    assert rig.model.revision == revision + 1
    assert rig.model.idle_view().clock == "10:01"


def test_listeners_hear_every_change(rig):
    heard: list[int] = []
    rig.model.add_listener(lambda: heard.append(rig.model.revision))
    rig.model.tap(ASA, granted=True)
    rig.model.press("signup")
    assert heard == sorted(heard)
    assert len(heard) >= 2
    assert heard[-1] == rig.model.revision
