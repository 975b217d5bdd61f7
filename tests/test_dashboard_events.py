"""The dashboard's Events pages: the list, the event form, sign-ups, invitations, notifications."""

import html
import re
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from hub_server import events, invitations, local_days, notifications, signups
from hub_server.events import Event
from hub_server.store import Store
from hublink.messages import utcnow
from tests.helpers.community_data import add_event, add_member, book_room, community, dump
from tests.helpers.dashboard import Browser, config, signed_in, site_for

ZONE = ZoneInfo("Europe/Stockholm")
ACTOR = "web:operator"


@pytest.fixture
def store() -> Store:
    return community(Store.memory())


@pytest.fixture
def site(store: Store):
    return site_for(store, config(hub={"timezone": "Europe/Stockholm"}))


@pytest.fixture
def operator(store: Store, site) -> Browser:
    return signed_in(store, site)


@pytest.fixture
def host(store: Store, site) -> Browser:
    return signed_in(store, site, role="host")


def local(days: int, hour: int, minute: int = 0) -> datetime:
    """A local time ``days`` after today, in the hub's zone."""
    today = local_days.local_day(utcnow(), ZONE)
    return datetime.combine(today + timedelta(days=days), time(hour, minute), tzinfo=ZONE)


def typed(when: datetime) -> str:
    """A time as ``<input type="datetime-local">`` sends it."""
    return when.astimezone(ZONE).strftime("%Y-%m-%dT%H:%M")


def event_in(store: Store, days: int = 3, **overrides: Any) -> Event:
    """An event ``days`` from today, 18:00–20:00 local (Forest yoga in the campfire zone)."""
    values: dict[str, Any] = {"starts_at": local(days, 18), "ends_at": local(days, 20)}
    return add_event(store, now=utcnow(), **(values | overrides))


def sign(store: Store, event: Event, *member_ids: str, guests: int = 0) -> None:
    for member_id in member_ids:
        signups.sign_up(
            store, event.id, member_id, guests=guests, actor="test", source="cli", now=utcnow()
        )


def new_event(**changes: str) -> dict[str, str]:
    form = {
        "title": "Bark carving",
        "description": "Bring a knife.\n\nTea after.",
        "host": "Sigrid Test (m-sigrid)",
        "place": "room:lookout",
        "starts_at": typed(local(5, 18)),
        "ends_at": typed(local(5, 20, 30)),
        "capacity": "6",
        "visibility": "open",
        "max_guests": "2",
        "cancel_deadline_min": "120",
    }
    form.update(changes)
    return form


def error_for(page: str, field: str) -> str | None:
    found = re.search(rf'<p class="error" id="e-{field}">([^<]*)</p>', page)
    return html.unescape(found.group(1)) if found else None


def alerts(page: str) -> list[str]:
    return [
        html.unescape(a) for a in re.findall(r'<p class="error" role="alert">([^<]*)</p>', page)
    ]


def notice(page: str) -> str | None:
    found = re.search(r'id="notice">([^<]*)</p>', page)
    return html.unescape(found.group(1)) if found else None


def input_value(page: str, field: str) -> str:
    found = re.search(rf'<input id="f-{field}" name="{field}"[^>]* value="([^"]*)"', page)
    assert found, f"no input {field}"
    return html.unescape(found.group(1))


def followed(browser: Browser, answer: Any) -> str:
    """The page a 303 answer leads to."""
    assert answer.status_code == 303, answer.text
    page = browser.get(answer.headers["location"])
    assert page.status_code == 200
    return str(page.text)


def place_of(page: str, member_id: str) -> str:
    found = re.search(rf'<td data-place="{member_id}">(.*?)</td>', page)
    assert found, f"{member_id} is not listed"
    return re.sub(r"<[^>]+>", "", found.group(1)).strip()


def cancel_signup(browser: Browser, event: Event, member_id: str, **more: str) -> Any:
    return browser.post(
        f"/events/{event.id}/signups/{member_id}/cancel", {"confirmed": "yes", **more}
    )


# --- every page, both roles --------------------------------------------------------------


@pytest.mark.parametrize("role", ["operator", "host"])
def test_every_event_page_renders_for_operators_and_hosts(store, site, role):
    browser = signed_in(store, site, role=role)
    event = event_in(store)
    sign(store, event, "m-asa")
    for path in ("/events", "/events/new", f"/events/{event.id}", f"/events/{event.id}/edit"):
        page = browser.get(path)
        assert page.status_code == 200, path
        assert '<a href="/events" aria-current="page">Events</a>' in page.text
    page = browser.get(f"/events/{event.id}").text
    assert "Åsa Test" in page  # hosts run events: they see who comes
    assert ('href="/members/m-asa"' in page) == (role == "operator")  # but no member pages
    notifications_page = browser.get("/events/notifications")
    assert notifications_page.status_code == (200 if role == "operator" else 403)
    assert ('href="/events/notifications"' in browser.get("/events").text) == (role == "operator")


def test_unknown_events_and_bad_dates_are_error_pages(operator):
    assert operator.get("/events/ev-nothing").status_code == 404
    assert operator.get("/events/ev-nothing/edit").status_code == 404
    assert operator.post("/events/ev-nothing/signups", {"member": "m-asa"}).status_code == 404
    bad = operator.get("/events?from=someday")
    assert bad.status_code == 422
    assert "from: 'someday' is not a date" in html.unescape(bad.text)


# --- the list ----------------------------------------------------------------------------


def test_the_list_shows_place_times_seats_waitlist_and_status(store, operator):
    full = event_in(store, 2, title="Knots", room_id="lookout", zone_id=None, capacity=2)
    sign(store, full, "m-asa", "m-bjorn", "m-sigrid")
    off = event_in(store, 4, title="Moss walk")
    events.cancel(store, off.id, actor="test", now=utcnow())
    far = event_in(store, 45, title="Winter fire")
    page = operator.get("/events").text
    row = re.search(rf'<tr data-event="{full.id}">(.*?)</tr>', page, re.S)
    assert row
    cells = re.sub(r"<[^>]+>", "", row.group(1))
    assert "Lookout" in cells
    assert local(2, 18).strftime("%a %d %b %Y, 18:00") + "–20:00" in cells  # local times
    assert "Sigrid" in cells  # the host
    assert f'<td class="num" data-seats="{full.id}">2 / 2</td>' in page
    assert f'<td class="num" data-waitlist="{full.id}">1</td>' in page
    assert f'<tr data-event="{off.id}" class="cancelled">' in page
    assert re.search(rf'data-status="{off.id}"><span class="badge bad">cancelled', page)
    assert far.id not in page  # beyond 30 days
    later = operator.get("/events", params={"from": local(40, 0).date().isoformat()}).text
    assert far.id in later
    assert full.id not in later
    assert 'href="/events">From today</a>' in later


# --- add and edit ------------------------------------------------------------------------


def test_create_an_event_through_the_form(store, operator):
    form = operator.get("/events/new").text
    assert '<option value="room:lookout">Lookout, in Campfire circle (8 people)</option>' in form
    assert '<option value="zone:glade">Forest glade</option>' in form
    assert '<option value="Sigrid Test (m-sigrid)"></option>' in form  # the host's choices
    assert 'type="datetime-local"' in form
    answer = operator.post("/events/new", new_event())
    assert answer.status_code == 303
    event_id = answer.headers["location"].removeprefix("/events/")
    event = events.get(store, event_id)
    assert (event.title, event.host_member_id, event.room_id, event.zone_id) == (
        "Bark carving",
        "m-sigrid",
        "lookout",
        "campfire",
    )
    assert event.starts_at == local(5, 18)  # typed as local time, stored as UTC
    assert event.ends_at == local(5, 20, 30)
    assert event.starts_at.utcoffset() == timedelta(0)
    assert (event.capacity, event.visibility, event.max_guests, event.cancel_deadline_min) == (
        6,
        "open",
        2,
        120,
    )
    assert event.description == "Bring a knife.\n\nTea after."
    assert event.created_by == ACTOR
    page = operator.get(answer.headers["location"]).text
    assert "0 of 6" in page
    assert "<p>Tea after.</p>" in page


def test_a_host_found_by_name_and_a_zone(store, operator):
    answer = operator.post("/events/new", new_event(host="bjorn", place="zone:glade", capacity="4"))
    event = events.get(store, answer.headers["location"].removeprefix("/events/"))
    assert (event.host_member_id, event.zone_id, event.room_id) == ("m-bjorn", "glade", None)


def test_an_end_before_the_start_is_shown_next_to_the_end_and_nothing_is_stored(store, operator):
    before = dump(store)
    answer = operator.post("/events/new", new_event(ends_at=typed(local(5, 17))))
    assert answer.status_code == 422
    assert error_for(answer.text, "ends_at") == "must be after the start"
    assert error_for(answer.text, "starts_at") is None
    assert input_value(answer.text, "title") == "Bark carving"  # the form is kept
    assert input_value(answer.text, "ends_at") == typed(local(5, 17))
    assert dump(store) == before


@pytest.mark.parametrize(
    ("changes", "field", "problem"),
    [
        ({"title": ""}, "title", "must not be empty"),
        ({"host": "Nobody Here"}, "host", "no member matches 'Nobody Here'"),
        ({"host": "Test"}, "host", "several members match 'Test': pick one from the list"),
        ({"host": "Ghost (m-ghost)"}, "host", "no member 'm-ghost'"),
        ({"place": "room:attic"}, "place", "choose a zone or a room from the list"),
        ({"place": ""}, "place", "choose a zone or a room from the list"),
        ({"starts_at": "tomorrow"}, "starts_at", "'tomorrow' is not a date"),
        ({"starts_at": ""}, "starts_at", "give a date and a time"),
        ({"capacity": "0"}, "capacity", "Input should be greater than or equal to 1"),
        ({"capacity": "many"}, "capacity", "Input should be a valid integer"),
        ({"capacity": "9"}, "capacity", "Lookout holds 8 people, not 9"),  # the service's rule
        ({"max_guests": "21"}, "max_guests", "Input should be less than or equal to 20"),
        ({"visibility": "secret"}, "visibility", "Input should be 'members' or 'open'"),
        ({"ends_at": typed(local(13, 18))}, "ends_at", "must be at most 7 days after the start"),
    ],
)
def test_bad_fields_are_shown_next_to_the_field(store, operator, changes, field, problem):
    before = dump(store)
    answer = operator.post("/events/new", new_event(**changes))
    assert answer.status_code == 422
    assert (error_for(answer.text, field) or "").startswith(problem)
    assert dump(store) == before


def test_a_taken_room_is_refused_next_to_the_place(store, operator):
    book_room(store, local(5, 19), local(5, 20))
    before = dump(store)
    answer = operator.post("/events/new", new_event())
    assert answer.status_code == 409
    assert error_for(answer.text, "place") == "Lookout is booked then"
    assert dump(store) == before


def test_edit_changes_only_what_differs(store, operator):
    event = event_in(store, room_id="lookout", zone_id=None, capacity=4)
    form = operator.get(f"/events/{event.id}/edit").text
    assert input_value(form, "starts_at") == typed(local(3, 18))
    assert input_value(form, "host") == "Sigrid Test (m-sigrid)"
    assert '<option value="room:lookout" selected>' in form
    values = {
        "title": "Forest yoga",
        "description": "",
        "host": "Sigrid Test (m-sigrid)",
        "place": "room:lookout",
        "starts_at": typed(local(3, 18)),
        "ends_at": typed(local(3, 21)),
        "capacity": "8",
        "visibility": "members",
        "max_guests": "0",
        "cancel_deadline_min": "0",
    }
    answer = operator.post(f"/events/{event.id}/edit", values)
    assert answer.status_code == 303
    changed = events.get(store, event.id)
    assert (changed.capacity, changed.ends_at, changed.starts_at) == (8, local(3, 21), local(3, 18))
    [entry] = store.query("SELECT detail FROM audit_log WHERE action = 'event.change'")
    assert set(re.findall(r'"(\w+)":', entry["detail"])) == {"capacity", "ends_at"}


def test_edit_errors_keep_the_form_and_change_nothing(store, operator):
    event = event_in(store, capacity=4)
    sign(store, event, "m-asa", "m-bjorn", "m-sigrid")
    before = dump(store)
    page = operator.get(f"/events/{event.id}/edit").text
    values = {f: input_value(page, f) for f in ("title", "host", "starts_at", "ends_at")}
    values |= {"place": "zone:campfire", "visibility": "members", "capacity": "2"}
    answer = operator.post(f"/events/{event.id}/edit", values | {"ends_at": typed(local(3, 17))})
    assert answer.status_code == 422
    assert error_for(answer.text, "ends_at") == "must be after the start"
    assert input_value(answer.text, "capacity") == "2"
    answer = operator.post(f"/events/{event.id}/edit", values)  # fewer seats than are taken
    assert answer.status_code == 422
    assert error_for(answer.text, "capacity") == "3 seats are taken"
    assert dump(store) == before


# --- sign-ups ----------------------------------------------------------------------------


def test_sign_up_until_full_then_the_waitlist_with_positions(store, operator):
    event = event_in(store, capacity=3, max_guests=2)
    add_member(store, "m-dag", "Dag")
    page = followed(
        operator,
        operator.post(f"/events/{event.id}/signups", {"member": "Åsa Test (m-asa)", "guests": "1"}),
    )
    assert notice(page) == "Signed up: Åsa Test, with 1 colleague."
    assert '<dd id="seats">2 of 3' in page
    page = followed(operator, operator.post(f"/events/{event.id}/signups", {"member": "m-sigrid"}))
    assert notice(page) == "Signed up: Sigrid Test."
    assert '<dd id="seats">3 of 3' in page
    page = followed(operator, operator.post(f"/events/{event.id}/signups", {"member": "björn"}))
    assert notice(page) == "On the waitlist, position 1: Björn Test."
    page = followed(operator, operator.post(f"/events/{event.id}/signups", {"member": "Dag"}))
    assert notice(page) == "On the waitlist, position 2: Dag Test."
    assert place_of(page, "m-asa") == "seat"
    assert place_of(page, "m-dag") == "waitlist, position 2"
    assert "2 sign-ups wait" in page
    assert [(a.member_id, a.status) for a in signups.of_event(store, event.id)] == [
        ("m-asa", "confirmed"),
        ("m-sigrid", "confirmed"),
        ("m-bjorn", "waitlisted"),
        ("m-dag", "waitlisted"),
    ]


def test_sign_up_refusals_and_bad_input_change_nothing(store, operator):
    event = event_in(store, max_guests=2)
    sign(store, event, "m-asa")
    before = dump(store)
    again = operator.post(f"/events/{event.id}/signups", {"member": "m-asa"})
    assert again.status_code == 409
    assert alerts(again.text) == ["Åsa is already signed up for Forest yoga"]
    no_org = operator.post(f"/events/{event.id}/signups", {"member": "m-sigrid", "guests": "1"})
    assert no_org.status_code == 409
    assert "Sigrid has none on record" in alerts(no_org.text)[0]
    assert input_value(no_org.text, "guests") == "1"  # what was typed stays
    nobody = operator.post(f"/events/{event.id}/signups", {"member": "Zed", "guests": "-1"})
    assert nobody.status_code == 422
    assert error_for(nobody.text, "member") == "no member matches 'Zed'"
    assert error_for(nobody.text, "guests") == "Input should be greater than or equal to 0"
    assert input_value(nobody.text, "member") == "Zed"
    assert dump(store) == before


def test_cancel_asks_first_then_promotes_and_says_who(store, operator):
    event = event_in(store, capacity=1)
    sign(store, event, "m-asa", "m-bjorn")
    before = dump(store)
    ask = operator.post(f"/events/{event.id}/signups/m-asa/cancel")
    assert ask.status_code == 200
    assert "Give Åsa Test&#39;s place at Forest yoga" in ask.text
    assert '<input type="hidden" name="confirmed" value="yes">' in ask.text
    assert dump(store) == before  # nothing until confirmed
    page = followed(operator, cancel_signup(operator, event, "m-asa"))
    assert notice(page) == "Åsa Test's place is given back. Moved up from the waitlist: Björn Test."
    assert (
        place_of(page, "m-bjorn") == f"seat (moved up {utcnow().astimezone(ZONE):%Y-%m-%d %H:%M})"
    )
    assert "1 cancelled sign-up on record." in page
    assert [n.member_id for n in notifications.pending(store)] == ["m-bjorn"]


def test_past_the_deadline_a_host_is_refused_and_an_operator_may_force(store, operator, host):
    soon = utcnow() + timedelta(minutes=30)
    event = event_in(
        store, starts_at=soon, ends_at=soon + timedelta(hours=1), cancel_deadline_min=60
    )
    sign(store, event, "m-asa")
    before = dump(store)
    refused = cancel_signup(host, event, "m-asa")
    assert refused.status_code == 409
    assert alerts(refused.text) == [
        "Places at Forest yoga can only be given back until 60 minutes before it starts"
    ]
    assert 'name="force"' not in refused.text  # hosts cannot force
    assert cancel_signup(host, event, "m-asa", force="yes").status_code == 409
    assert dump(store) == before
    refused = cancel_signup(operator, event, "m-asa")
    assert refused.status_code == 409
    assert '<input type="checkbox" name="force" value="yes" required' in refused.text
    assert (
        f'action="/events/{event.id}/signups/m-asa/cancel" aria-label="Cancel anyway"'
        in refused.text
    )
    assert dump(store) == before
    page = followed(operator, cancel_signup(operator, event, "m-asa", force="yes"))
    assert notice(page) == "Åsa Test's place is given back."
    [entry] = store.query("SELECT actor, detail FROM audit_log WHERE action = 'signup.cancel'")
    assert entry["actor"] == ACTOR
    assert '"force": true' in entry["detail"]


def test_change_colleagues_refused_when_full_and_fewer_promote(store, operator):
    event = event_in(store, capacity=4, max_guests=3)
    sign(store, event, "m-asa", guests=2)
    sign(store, event, "m-bjorn")
    guests = f"/events/{event.id}/signups/m-bjorn/guests"
    before = dump(store)
    full = operator.post(guests, {"guests": "2"})
    assert full.status_code == 409
    assert alerts(full.text) == ["Forest yoga is full (4 of 4 seats taken; 2 needed)"]
    bad = operator.post(guests, {"guests": "x"})
    assert bad.status_code == 422
    assert alerts(bad.text)[0].startswith(
        "Björn Test's colleagues: Input should be a valid integer"
    )
    assert dump(store) == before
    add_member(store, "m-dag", "Dag")
    sign(store, event, "m-dag", guests=1)  # waits: two seats needed, none free
    page = followed(
        operator, operator.post(f"/events/{event.id}/signups/m-asa/guests", {"guests": "0"})
    )
    assert notice(page) == "Åsa Test now brings 0 colleagues. Moved up from the waitlist: Dag Test."
    assert signups.seats(store, event.id).taken == 4


# --- invitations -------------------------------------------------------------------------


def test_invite_outsiders_to_an_open_event_and_withdraw(store, operator, host):
    event = event_in(store, capacity=2, visibility="open")
    page = followed(
        host,
        host.post(f"/events/{event.id}/invitations", {"name": "Bo Ek", "email": "bo@example.org"}),
    )
    assert notice(page) == "Invited: Bo Ek."
    assert '<a href="mailto:bo@example.org">bo@example.org</a>' in page
    assert '<dd id="seats">1 of 2' in page
    before = dump(store)
    again = operator.post(
        f"/events/{event.id}/invitations", {"name": "Bo", "email": "BO@example.org"}
    )
    assert again.status_code == 409
    assert alerts(again.text) == ["BO@example.org is already invited to Forest yoga"]
    bad = operator.post(f"/events/{event.id}/invitations", {"name": "", "email": "not-an-email"})
    assert bad.status_code == 422
    assert error_for(bad.text, "name") == "must not be empty"
    assert error_for(bad.text, "email") == "'not-an-email' is not an email address"
    assert dump(store) == before
    sign(store, event, "m-sigrid")  # the last seat
    sign(store, event, "m-asa")  # waits
    [bo] = invitations.of_event(store, event.id)
    withdraw = f"/events/{event.id}/invitations/{bo.id}/cancel"
    ask = operator.post(withdraw)
    assert "Withdraw the invitation of Bo Ek (bo@example.org)" in ask.text
    assert invitations.of_event(store, event.id) == [bo]
    page = followed(operator, operator.post(withdraw, {"confirmed": "yes"}))
    assert notice(page) == "Invitation withdrawn: Bo Ek. Moved up from the waitlist: Åsa Test."
    assert "No outsiders invited." in page
    assert operator.post(f"/events/{event.id}/invitations/999/cancel").status_code == 404


def test_a_members_only_event_takes_no_outsiders(store, operator):
    event = event_in(store)
    page = operator.get(f"/events/{event.id}").text
    assert "Invite an outsider" not in page
    before = dump(store)
    answer = operator.post(
        f"/events/{event.id}/invitations", {"name": "Bo", "email": "bo@example.org"}
    )
    assert answer.status_code == 409
    assert alerts(answer.text) == ["Forest yoga is for members only: outsiders cannot be invited"]
    assert dump(store) == before


# --- cancelling the event, notifications -------------------------------------------------


def test_cancel_the_event_after_confirming(store, operator):
    event = event_in(store, capacity=1, visibility="open")
    sign(store, event, "m-asa", "m-bjorn")
    before = dump(store)
    ask = operator.post(f"/events/{event.id}/cancel")
    assert ask.status_code == 200
    assert "Its 1 taken seats and 1 waitlist places are given back" in ask.text
    assert dump(store) == before
    page = followed(operator, operator.post(f"/events/{event.id}/cancel", {"confirmed": "yes"}))
    assert notice(page) == "Forest yoga is cancelled; everyone who had a place gets a notification."
    assert events.get(store, event.id).status == "cancelled"
    assert "Sign up a member" not in page
    assert f'action="/events/{event.id}/cancel"' not in page
    assert sorted(str(n.member_id) for n in notifications.pending(store)) == ["m-asa", "m-bjorn"]
    assert f'<tr data-event="{event.id}" class="cancelled">' in operator.get("/events").text
    refused = operator.post(f"/events/{event.id}/signups", {"member": "m-sigrid"})
    assert refused.status_code == 409
    assert alerts(refused.text) == ["Forest yoga is cancelled"]


def test_the_notifications_page(store, operator):
    event = event_in(store, capacity=1, title="Knots")
    sign(store, event, "m-asa", "m-bjorn")
    signups.cancel(store, event.id, "m-asa", actor="test", now=utcnow())  # promotes Björn
    failing = notifications.NotificationSender(store, ("sh", "-c", "echo mail is down >&2; exit 3"))
    assert failing.deliver_due() == 1
    events.cancel(store, event.id, actor="test", now=utcnow())  # tells Björn
    page = operator.get("/events/notifications").text
    rows = re.findall(r'<tr data-notification="(\d+)">(.*?)</tr>', page, re.S)
    assert [int(n) for n, _ in rows] == sorted(
        (n.id for n in notifications.recent(store)), reverse=True
    )  # newest first
    newest, oldest = (row for _, row in rows)
    assert 'Event cancelled <span class="muted">(event.cancelled)' in newest
    assert ">Björn Test</a>" in newest
    assert ">Knots</a>" in newest
    assert "waiting" in newest
    assert 'Moved up from the waitlist <span class="muted">(signup.promoted)' in oldest
    assert "not yet" in oldest
    assert '<td class="num">1</td>' in oldest  # one attempt
    assert "<td>exit status 3: mail is down</td>" in oldest
    assert "No <code>notify_command</code> is set" in page


# --- the notice and CSRF -------------------------------------------------------------------


def test_the_notice_is_worded_from_what_is_stored(store, operator):
    event = event_in(store, capacity=1)
    said = {"done": "signed_up", "member": "m-asa", "promoted": "m-bjorn"}
    fake = operator.get(f"/events/{event.id}", params=said)
    assert notice(fake.text) is None  # Åsa is not signed up: the link cannot say she is
    sign(store, event, "m-asa", "m-bjorn")
    real = operator.get(f"/events/{event.id}", params=said)
    assert notice(real.text) == "Signed up: Åsa Test."  # Björn waits: he was not moved up
    signups.cancel(store, event.id, "m-asa", actor="test", now=utcnow())
    moved = operator.get(f"/events/{event.id}", params=said | {"done": "cancelled"})
    assert notice(moved.text) == (
        "Åsa Test's place is given back. Moved up from the waitlist: Björn Test."
    )


def test_writes_without_the_csrf_token_are_refused(store, operator):
    event = event_in(store)
    before = dump(store)
    for path, data in (
        ("/events/new", new_event()),
        (f"/events/{event.id}/signups", {"member": "m-asa"}),
        (f"/events/{event.id}/cancel", {"confirmed": "yes"}),
    ):
        answer = operator.client.post(path, data=data)
        assert answer.status_code == 403, path
        assert "this form has expired" in answer.text
    assert dump(store) == before
