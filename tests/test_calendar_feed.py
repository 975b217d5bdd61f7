"""The iCalendar feeds and the public calendar page, parsed back with the icalendar library."""

from datetime import UTC, datetime, timedelta

import icalendar
import pytest
from fastapi.testclient import TestClient

from hub_server import calendar_feed, members, places
from hub_server.models import RoomIn, build
from hub_server.store import Store, now_text
from tests.helpers.dashboard import site_for
from tests.helpers.hub_data import ACTOR, seed

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@pytest.fixture
def store():
    with Store.memory() as store:
        seed(store)
        places.add_room(
            store, build(RoomIn, id="loft", name="Loft", zone_id="glade", capacity=8), ACTOR
        )
        yield store


def add_event(store, event_id, title, *, visibility="open", capacity=10, status="scheduled",
              host="m-asa", start=NOW + timedelta(days=1), hours=2, description=""):  # fmt: skip
    with store.write() as db:
        db.execute(
            "INSERT INTO events (id, title, description, host_member_id, room_id, starts_at,"
            " ends_at, capacity, visibility, status, created_by, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, 'loft', ?, ?, ?, ?, ?, 'test', ?, ?)",
            (
                event_id, title, description, host, now_text(start),
                now_text(start + timedelta(hours=hours)), capacity, visibility, status,
                now_text(NOW), now_text(NOW),
            ),
        )  # fmt: skip


def sign_up(store, event_id, member_id, status="confirmed", guests=0):
    with store.write() as db:
        db.execute(
            "INSERT INTO signups (event_id, member_id, guests, status, source, created_by,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, 'test', 'test', ?, ?)",
            (event_id, member_id, guests, status, now_text(NOW), now_text(NOW)),
        )


def parse(document: bytes) -> dict[str, icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(document)
    return {str(event["uid"]).split("@")[0]: event for event in calendar.walk("VEVENT")}


def test_the_public_feed_has_open_events_with_free_seats_and_no_attendees(store):
    add_event(store, "ev-yoga", "Forest yoga", capacity=5, description="Bring a mat; be calm.")
    add_event(store, "ev-board", "Board meeting", visibility="members")
    sign_up(store, "ev-yoga", "m-bjorn", guests=1)
    document = calendar_feed.render(
        calendar_feed.public_items(store, NOW), name="Forest events", site_id="forest", now=NOW
    )
    events = parse(document)
    assert set(events) == {"ev-yoga"}
    yoga = events["ev-yoga"]
    assert str(yoga["summary"]) == "Forest yoga"
    assert yoga.decoded("dtstart") == NOW + timedelta(days=1)
    assert yoga.decoded("dtend") == NOW + timedelta(days=1, hours=2)
    assert str(yoga["location"]) == "Loft"
    description = str(yoga["description"])
    assert "Bring a mat; be calm." in description
    assert "3 of 5 seats free" in description  # Björn and his colleague
    assert "Hosted by Åsa" in description
    assert "Björn" not in document.decode()
    assert "Test" not in document.decode()
    assert str(yoga["uid"]) == "ev-yoga@forest.hubtap"


def test_the_feed_is_valid_rfc_5545_text(store):
    add_event(store, "ev-long", "Å" * 150, description="ö, semicolons; and\nnewlines")
    document = calendar_feed.render(
        calendar_feed.public_items(store, NOW), name="x", site_id="forest", now=NOW
    )
    lines = document.split(b"\r\n")
    assert lines[0] == b"BEGIN:VCALENDAR"
    assert lines[-2] == b"END:VCALENDAR"
    assert all(len(line) <= 75 for line in lines)  # folded at 75 octets
    assert b"\n" not in document.replace(b"\r\n", b"")
    event = parse(document)["ev-long"]
    assert str(event["summary"]) == "Å" * 150
    assert "ö, semicolons; and\nnewlines" in str(event["description"])


def test_a_cancelled_open_event_stays_in_the_feed_as_cancelled(store):
    add_event(store, "ev-off", "Called off", status="cancelled")
    event = parse(calendar_feed.render(calendar_feed.public_items(store, NOW), name="x",
                                       site_id="s", now=NOW))["ev-off"]  # fmt: skip
    assert str(event["status"]) == "CANCELLED"


def test_events_long_past_or_far_ahead_are_left_out(store):
    add_event(store, "ev-old", "Old", start=NOW - timedelta(days=calendar_feed.PAST_DAYS + 2))
    add_event(store, "ev-far", "Far", start=NOW + timedelta(days=calendar_feed.AHEAD_DAYS + 1))
    add_event(store, "ev-soon", "Soon")
    assert [item.uid for item in calendar_feed.public_items(store, NOW)] == ["ev-soon"]


def test_a_members_feed_has_their_signups_waitlist_places_hosted_events_and_bookings(store):
    add_event(store, "ev-yoga", "Forest yoga", visibility="members")
    add_event(store, "ev-full", "Full talk", start=NOW + timedelta(days=2), capacity=1)
    add_event(store, "ev-mine", "Björn hosts", host="m-bjorn", start=NOW + timedelta(days=3))
    add_event(store, "ev-other", "Not his", start=NOW + timedelta(days=4))
    sign_up(store, "ev-yoga", "m-bjorn", guests=2)
    sign_up(store, "ev-full", "m-asa")
    sign_up(store, "ev-full", "m-sigrid", status="waitlisted")
    sign_up(store, "ev-full", "m-bjorn", status="waitlisted")
    with store.write() as db:
        db.execute(
            "INSERT INTO bookings (id, room_id, member_id, starts_at, ends_at, source,"
            " created_by, created_at) VALUES ('b-1', 'loft', 'm-bjorn', ?, ?, 'test', 'test', ?)",
            (now_text(NOW + timedelta(days=5)), now_text(NOW + timedelta(days=5, hours=1)),
             now_text(NOW)),
        )  # fmt: skip
    events = parse(calendar_feed.render(calendar_feed.member_items(store, "m-bjorn", NOW),
                                        name="mine", site_id="s", now=NOW))  # fmt: skip
    assert set(events) == {"ev-yoga", "ev-full", "ev-mine", "b-1"}
    assert str(events["ev-yoga"]["status"]) == "CONFIRMED"
    assert "2 colleague" in str(events["ev-yoga"]["description"])
    assert str(events["ev-full"]["status"]) == "TENTATIVE"
    assert "number 2 on the waitlist" in str(events["ev-full"]["description"])
    assert "You host this" in str(events["ev-mine"]["description"])
    assert str(events["b-1"]["summary"]) == "Loft booked"


def test_a_token_opens_one_members_feed_until_a_new_one_is_issued(store):
    first = calendar_feed.issue_token(store, "m-bjorn", ACTOR)
    assert first.startswith(calendar_feed.TOKEN_PREFIX)
    assert len(first) > 40
    assert calendar_feed.member_of_token(store, first) == "m-bjorn"
    second = calendar_feed.issue_token(store, "m-bjorn", ACTOR)
    assert calendar_feed.member_of_token(store, first) is None
    assert calendar_feed.member_of_token(store, second) == "m-bjorn"
    assert store.query_one("SELECT token_hash FROM calendar_tokens")[0] != second  # hashed
    assert calendar_feed.member_of_token(store, "htc_guess") is None
    assert calendar_feed.member_of_token(store, "x" * 500) is None
    members.deactivate(store, "m-bjorn", ACTOR)
    assert calendar_feed.member_of_token(store, second) is None
    assert calendar_feed.revoke_token(store, "m-bjorn", ACTOR)
    assert not calendar_feed.revoke_token(store, "m-bjorn", ACTOR)


def test_the_http_feeds_and_the_public_page_need_no_sign_in(store):
    add_event(store, "ev-yoga", "Forest yoga")
    add_event(store, "ev-secret", "Members only", visibility="members")
    sign_up(store, "ev-secret", "m-bjorn")
    token = calendar_feed.issue_token(store, "m-bjorn", ACTOR)
    client = TestClient(site_for(store), follow_redirects=False)
    public = client.get("/calendar.ics")
    assert public.status_code == 200
    assert public.headers["content-type"] == "text/calendar; charset=utf-8"
    assert set(parse(public.content)) == {"ev-yoga"}
    own = client.get(f"/calendar/member/{token}.ics")
    assert own.status_code == 200
    assert set(parse(own.content)) == {"ev-secret"}
    assert client.get("/calendar/member/htc_nope.ics").status_code == 404
    page = client.get("/calendar")
    assert page.status_code == 200
    assert "Forest yoga" in page.text
    assert "Members only" not in page.text
    assert 'href="/calendar.ics"' in page.text
