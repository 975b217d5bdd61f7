"""The HTTP API's community routes: events, sign-ups, invitations, bookings, guests, billing."""

import csv
import io
import warnings
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI

from hub_server import audit, tiers, tokens
from hub_server.api.app import PREFIX, create_app
from hub_server.config import HubConfig
from hub_server.models import RoomIn, build
from hub_server.places import add_room
from hub_server.store import Store
from hub_server.tiers import TierChange
from hublink import messages
from hublink.credentials import credential_hash, parse_uid
from tests.helpers.community_data import END, NOW, ROOM, START, community, event_values
from tests.helpers.door_hardware import SITE_KEY
from tests.helpers.hub_data import UIDS

with warnings.catch_warnings():  # starlette would like httpx2; httpx is what we ship with
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

VISITOR_UID = "04:C0:FF:EE:00:11:22"
STUDIO = "studio"
"""A room with a rate (``lookout`` is free), for billing."""
COMMUNITY_PATHS = ("/events", "/bookings", "/guests", "/billing")


class Clock:
    """What ``hublink.messages.utcnow`` answers in these tests."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock(NOW)
    monkeypatch.setattr(messages, "utcnow", clock)
    return clock


@pytest.fixture
def store() -> Iterator[Store]:
    with Store.memory() as store:
        community(store)
        add_room(
            store,
            build(RoomIn, id=STUDIO, name="Studio", capacity=4, hourly_rate_cents=10_000),
            "test",
        )
        yield store


@pytest.fixture
def config() -> HubConfig:
    return HubConfig.model_validate(
        {"site": {"id": "testsite"}, "hub": {"timezone": "Europe/Stockholm"}}
    )


@pytest.fixture
def app(store: Store, config: HubConfig, clock: Clock) -> FastAPI:
    return create_app(store, config, site_key=SITE_KEY)


@pytest.fixture
def token(store: Store) -> str:
    return tokens.create(store, "ops", "admin")


@pytest.fixture
def client(app: FastAPI, token: str) -> TestClient:
    return TestClient(app, headers={"Authorization": f"Bearer {token}"})


def url(path: str) -> str:
    return PREFIX + path


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def refused(response: Any, reason: str) -> dict[str, Any]:
    """A 409 carrying ``reason``, and a message for people."""
    body: dict[str, Any] = ok(response, 409)
    assert body["reason"] == reason
    assert body["error"]
    assert "field" not in body
    return body


def invalid(response: Any, field: str) -> dict[str, Any]:
    body: dict[str, Any] = ok(response, 422)
    assert body["field"] == field
    assert "reason" not in body
    return body


def event_json(**overrides: Any) -> dict[str, Any]:
    values = event_values(**overrides)
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in values.items()}


def add_event(client: TestClient, **overrides: Any) -> dict[str, Any]:
    event: dict[str, Any] = ok(client.post(url("/events"), json=event_json(**overrides)), 201)
    return event


def sign_up(client: TestClient, event_id: str, member_id: str, guests: int = 0) -> Any:
    return client.post(
        url(f"/events/{event_id}/signups"), json={"member_id": member_id, "guests": guests}
    )


def book(client: TestClient, starts_at: datetime, minutes: int = 60, **values: Any) -> Any:
    body = {
        "room_id": ROOM,
        "member_id": "m-asa",
        "starts_at": starts_at.isoformat(),
        "minutes": minutes,
        **values,
    }
    return client.post(url("/bookings"), json=body)


def rows(store: Store, table: str) -> int:
    ((found,),) = store.query(f"SELECT count(*) FROM {table}")
    return int(found)


# --- errors ------------------------------------------------------------------------------


def test_other_409s_keep_their_shape(client):
    add_event(client, id="ev-yoga")
    body = ok(client.post(url("/events"), json=event_json(id="ev-yoga")), 409)
    assert set(body) == {"error"}
    assert "ev-yoga" in body["error"]


# --- events ------------------------------------------------------------------------------


def test_add_list_change_and_cancel_an_event(client, store, clock):
    in_room = event_json(room_id=ROOM, zone_id=None, capacity=8)
    response = client.post(url("/events"), json=in_room)
    event = ok(response, 201)
    assert response.headers["Location"] == url(f"/events/{event['id']}")
    assert ok(client.get(response.headers["Location"])) == event
    assert (event["title"], event["room_id"], event["zone_id"], event["place"]) == (
        "Forest yoga",
        ROOM,
        "campfire",
        "Lookout",
    )
    assert (event["starts_at"], event["ends_at"]) == (
        "2026-12-01T17:00:00Z",
        "2026-12-01T19:00:00Z",
    )
    assert (event["capacity"], event["taken"], event["waitlisted"]) == (8, 0, 0)
    assert event["status"] == "scheduled"
    assert event["created_by"] == "token:ops"

    assert [e["id"] for e in ok(client.get(url("/events")))] == [event["id"]]
    later = {"since": (END + timedelta(hours=1)).isoformat()}
    assert ok(client.get(url("/events"), params=later)) == []
    clock.now = START - timedelta(days=31)  # beyond the default 30 days ahead
    assert ok(client.get(url("/events"))) == []
    clock.now = NOW
    assert ok(client.get(url("/events"), params={"visibility": "open"})) == []
    assert ok(client.get(url("/events"), params={"host": "m-asa"})) == []

    changed = ok(client.patch(url(f"/events/{event['id']}"), json={"title": "Yoga", "capacity": 6}))
    assert (changed["title"], changed["capacity"]) == ("Yoga", 6)
    assert ok(client.get(url(f"/events/{event['id']}")))["title"] == "Yoga"

    cancelled = ok(client.post(url(f"/events/{event['id']}/cancel")))
    assert cancelled["status"] == "cancelled"
    assert ok(client.get(url("/events"))) == []
    everything = ok(client.get(url("/events"), params={"include_cancelled": "true"}))
    assert [e["status"] for e in everything] == ["cancelled"]
    assert rows(store, "bookings WHERE status = 'booked'") == 0  # the room is free again
    actions = [(e.actor, e.action) for e in audit.entries(store)][:3]
    assert actions == [
        ("token:ops", "event.cancel"),
        ("token:ops", "event.change"),
        ("token:ops", "event.add"),
    ]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"ends_at": (START - timedelta(minutes=1)).isoformat()}, "ends_at"),
        ({"ends_at": (START + timedelta(days=8)).isoformat()}, "ends_at"),
        ({"starts_at": "2026-12-01T17:00:00"}, "starts_at"),  # no offset
        ({"capacity": 0}, "capacity"),
        ({"visibility": "secret"}, "visibility"),
        ({"room_id": ROOM}, "room_id"),  # a room and a zone
        ({"title": ""}, "title"),
    ],
)
def test_a_bad_event_is_422_naming_the_field(client, store, overrides, field):
    invalid(client.post(url("/events"), json={**event_json(), **overrides}), field)
    assert rows(store, "events") == 0


def test_event_errors(client, store):
    event = add_event(client)
    assert ok(client.get(url("/events/ev-nope")), 404)["error"]
    assert ok(client.post(url("/events/ev-nope/cancel")), 404)["error"]
    assert ok(client.post(url("/events"), json=event_json(host_member_id="m-nobody")), 404)
    invalid(client.patch(url(f"/events/{event['id']}"), json={"capacity": "many"}), "capacity")
    invalid(client.get(url("/events"), params={"since": "2026-12-01T10:00:00"}), "since")
    invalid(
        client.get(url("/events"), params={"until": NOW.isoformat(), "since": START.isoformat()}),
        "until",
    )
    invalid(client.get(url("/events"), params={"since": "9999-12-31T00:00:00Z"}), "since")
    client.post(url(f"/events/{event['id']}/cancel"))
    refused(client.patch(url(f"/events/{event['id']}"), json={"title": "Again"}), "event_cancelled")


def test_an_event_in_a_booked_room_is_room_taken(client, store):
    ok(book(client, START), 201)
    in_room = event_json(room_id=ROOM, zone_id=None, capacity=8)
    refused(client.post(url("/events"), json=in_room), "room_taken")
    assert rows(store, "events") == 0


# --- sign-ups ----------------------------------------------------------------------------


def test_seats_then_the_waitlist_then_a_promotion(client, store):
    event = add_event(client, capacity=3, max_guests=1)
    signups_url = url(f"/events/{event['id']}/signups")
    response = sign_up(client, event["id"], "m-asa", guests=1)
    first = ok(response, 201)
    assert first == {
        "event_id": event["id"],
        "member_id": "m-asa",
        "status": "confirmed",
        "guests": 1,
        "position": None,
        "promoted": [],
    }
    assert response.headers["Location"] == signups_url + "/m-asa"
    assert ok(client.get(response.headers["Location"]))["status"] == "confirmed"
    assert ok(sign_up(client, event["id"], "m-sigrid"), 201)["status"] == "confirmed"

    waiting = ok(sign_up(client, event["id"], "m-bjorn"), 201)
    assert (waiting["status"], waiting["position"]) == ("waitlisted", 1)
    seen = ok(client.get(signups_url))
    assert [(a["member_id"], a["status"], a["guests"], a["position"]) for a in seen] == [
        ("m-asa", "confirmed", 1, None),
        ("m-sigrid", "confirmed", 0, None),
        ("m-bjorn", "waitlisted", 0, 1),
    ]
    assert seen[0]["first_name"] == "Åsa"
    assert ok(client.get(url(f"/events/{event['id']}")))["taken"] == 3

    gone = ok(client.delete(signups_url + "/m-sigrid"))
    assert (gone["status"], gone["promoted"]) == ("cancelled", ["m-bjorn"])
    assert [a["status"] for a in ok(client.get(signups_url))] == ["confirmed", "confirmed"]
    everyone = ok(client.get(signups_url, params={"include_cancelled": True}))
    assert [a["member_id"] for a in everyone] == ["m-asa", "m-bjorn", "m-sigrid"]
    assert ok(client.get(signups_url + "/m-sigrid"), 404)["error"]
    promoted = store.query("SELECT kind, member_id FROM notifications")
    assert [tuple(row) for row in promoted] == [("signup.promoted", "m-bjorn")]


def test_signup_refusals_carry_their_reason(client, store):
    event = add_event(client, capacity=2, max_guests=1)
    ok(sign_up(client, event["id"], "m-asa"), 201)
    refused(sign_up(client, event["id"], "m-asa"), "already_signed_up")
    refused(sign_up(client, event["id"], "m-sigrid", guests=1), "too_many_guests")  # no org
    refused(sign_up(client, event["id"], "m-bjorn", guests=5), "too_many_guests")
    ok(sign_up(client, event["id"], "m-bjorn"), 201)
    refused(client.patch(url(f"/events/{event['id']}/signups/m-asa"), json={"guests": 1}), "full")
    refused(client.delete(url(f"/events/{event['id']}/signups/m-sigrid")), "not_signed_up")
    invalid(sign_up(client, event["id"], "m-asa", guests=-1), "guests")
    invalid(client.post(url(f"/events/{event['id']}/signups"), json={"guests": 0}), "member_id")
    assert ok(sign_up(client, "ev-nope", "m-asa"), 404)["error"]
    assert ok(sign_up(client, event["id"], "m-nobody"), 404)["error"]
    assert [a["member_id"] for a in ok(client.get(url(f"/events/{event['id']}/signups")))] == [
        "m-asa",
        "m-bjorn",
    ]
    assert rows(store, "signups") == 2


def test_fewer_guests_free_seats_for_the_waitlist(client):
    event = add_event(client, capacity=2, max_guests=1)
    ok(sign_up(client, event["id"], "m-asa", guests=1), 201)
    assert ok(sign_up(client, event["id"], "m-bjorn"), 201)["position"] == 1
    changed = ok(client.patch(url(f"/events/{event['id']}/signups/m-asa"), json={"guests": 0}))
    assert (changed["guests"], changed["promoted"]) == (0, ["m-bjorn"])


def test_past_the_deadline_only_force_gives_a_seat_back(client, store, clock):
    event = add_event(client, cancel_deadline_min=60)
    ok(sign_up(client, event["id"], "m-asa"), 201)
    clock.now = START - timedelta(minutes=30)
    seat = url(f"/events/{event['id']}/signups/m-asa")
    refused(client.delete(seat), "past_deadline")
    refused(client.delete(seat, params={"force": "false"}), "past_deadline")
    assert ok(client.get(seat))["status"] == "confirmed"
    assert ok(client.delete(seat, params={"force": "true"}))["status"] == "cancelled"
    clock.now = START
    refused(sign_up(client, event["id"], "m-bjorn"), "event_started")


def test_a_cancelled_event_takes_no_signups(client):
    event = add_event(client)
    client.post(url(f"/events/{event['id']}/cancel"))
    refused(sign_up(client, event["id"], "m-asa"), "event_cancelled")


# --- invitations -------------------------------------------------------------------------


def test_invite_list_and_withdraw(client, store):
    event = add_event(client, visibility="open", capacity=2)
    invitations_url = url(f"/events/{event['id']}/invitations")
    response = client.post(invitations_url, json={"name": "Ulla Ute", "email": "ulla@example.org"})
    invitation = ok(response, 201)
    assert (invitation["name"], invitation["email"], invitation["status"]) == (
        "Ulla Ute",
        "ulla@example.org",
        "invited",
    )
    assert response.headers["Location"] == f"{invitations_url}/{invitation['id']}"
    assert ok(client.get(response.headers["Location"])) == invitation
    assert ok(client.get(invitations_url)) == [invitation]

    again = {"name": "Ulla", "email": "ULLA@example.org"}
    refused(client.post(invitations_url, json=again), "already_invited")
    ok(sign_up(client, event["id"], "m-asa"), 201)
    assert ok(sign_up(client, event["id"], "m-bjorn"), 201)["status"] == "waitlisted"
    refused(client.post(invitations_url, json={"name": "Per", "email": "per@example.org"}), "full")

    withdrawn = ok(client.delete(f"{invitations_url}/{invitation['id']}"))
    assert withdrawn["status"] == "cancelled"
    assert ok(client.get(invitations_url)) == []
    assert len(ok(client.get(invitations_url, params={"include_cancelled": True}))) == 1
    assert [a["status"] for a in ok(client.get(url(f"/events/{event['id']}/signups")))] == [
        "confirmed",
        "confirmed",
    ]


def test_invitation_errors(client, store):
    members_only = add_event(client)
    body = {"name": "Ulla", "email": "ulla@example.org"}
    refused(client.post(url(f"/events/{members_only['id']}/invitations"), json=body), "not_allowed")
    invalid(
        client.post(
            url(f"/events/{members_only['id']}/invitations"),
            json={"name": "Ulla", "email": "ulla@"},
        ),
        "email",
    )
    open_event = add_event(client, visibility="open", title="Open day")
    invitation = ok(client.post(url(f"/events/{open_event['id']}/invitations"), json=body), 201)
    # an invitation is only reachable through its own event
    elsewhere = url(f"/events/{members_only['id']}/invitations/{invitation['id']}")
    assert ok(client.delete(elsewhere), 404)["error"]
    assert ok(client.get(elsewhere), 404)["error"]
    invalid(client.delete(url(f"/events/{open_event['id']}/invitations/one")), "invitation_id")
    assert ok(client.get(url("/events/ev-nope/invitations")), 404)["error"]
    assert [row["status"] for row in store.query("SELECT status FROM invitations")] == ["invited"]


# --- bookings ----------------------------------------------------------------------------


def test_book_read_and_cancel(client, store):
    starts = datetime.fromisoformat("2026-12-01T09:00:00+01:00")
    response = book(client, starts, 90)
    booking = ok(response, 201)
    assert response.headers["Location"] == url(f"/bookings/{booking['id']}")
    assert ok(client.get(response.headers["Location"])) == booking
    assert (booking["room_id"], booking["member_id"], booking["organisation_id"]) == (
        ROOM,
        "m-asa",
        "o-skog",
    )
    assert (booking["starts_at"], booking["ends_at"]) == (
        "2026-12-01T08:00:00Z",
        "2026-12-01T09:30:00Z",
    )
    assert booking["source"] == "api"

    day = ok(client.get(url("/bookings"), params={"day": "2026-12-01"}))
    assert [b["id"] for b in day] == [booking["id"]]
    assert ok(client.get(url("/bookings"))) == []  # today is 2026-11-30
    assert ok(client.get(url("/bookings"), params={"day": "2026-12-02"})) == []
    mine = ok(client.get(url("/bookings"), params={"room": ROOM, "day": "2026-12-01"}))
    assert [b["id"] for b in mine] == [booking["id"]]
    assert ok(client.get(url("/bookings"), params={"room": STUDIO, "day": "2026-12-01"})) == []
    ahead = ok(client.get(url("/bookings"), params={"room": ROOM, "since": NOW.isoformat()}))
    assert [b["id"] for b in ahead] == [booking["id"]]
    window = {"room": ROOM, "since": "2026-12-01T09:30:00Z", "until": "2026-12-02T00:00:00Z"}
    assert ok(client.get(url("/bookings"), params=window)) == []

    cancelled = ok(client.post(url(f"/bookings/{booking['id']}/cancel")))
    assert cancelled["status"] == "cancelled"
    assert ok(client.get(url("/bookings"), params={"day": "2026-12-01"})) == []
    with_cancelled = {"day": "2026-12-01", "include_cancelled": True}
    assert [b["status"] for b in ok(client.get(url("/bookings"), params=with_cancelled))] == [
        "cancelled"
    ]


def test_an_overlapping_booking_is_room_taken_and_only_one_is_stored(client, store):
    ok(book(client, START, 60), 201)
    body = refused(
        book(client, START + timedelta(minutes=30), 60, member_id="m-bjorn"), "room_taken"
    )
    assert "Lookout is booked from 18:00 to 19:00" in body["error"]  # local time, no name
    assert "Åsa" not in body["error"]
    assert rows(store, "bookings") == 1
    ok(book(client, START + timedelta(minutes=60), 60, member_id="m-bjorn"), 201)  # back to back


def test_booking_errors(client, store, clock):
    invalid(book(client, START, 50), "minutes")  # not whole quarters
    invalid(book(client, START, 60 * 9), "minutes")
    invalid(book(client, START, 0), "minutes")
    naive = {
        "room_id": ROOM,
        "member_id": "m-asa",
        "starts_at": "2026-12-01T17:00:00",
        "minutes": 60,
    }
    invalid(client.post(url("/bookings"), json=naive), "starts_at")
    late = naive | {"starts_at": "9999-12-31T23:00:00Z"}  # would end past the year 9999
    invalid(client.post(url("/bookings"), json=late), "starts_at")
    refused(book(client, NOW - timedelta(hours=1)), "too_late")
    assert ok(book(client, START, 60, room_id="nope"), 404)["error"]
    invalid(client.get(url("/bookings"), params={"day": "2026-13-01"}), "day")
    invalid(client.get(url("/bookings"), params={"day": "9999-12-31"}), "day")  # no UTC end
    since_year_1 = {"room": ROOM, "since": "0001-01-02T00:00:00Z"}
    invalid(client.get(url("/bookings"), params=since_year_1), "since")
    invalid(client.get(url("/guests"), params={"day": "0001-01-01"}), "day")
    invalid(client.get(url("/bookings"), params={"since": NOW.isoformat()}), "room")
    invalid(
        client.get(
            url("/bookings"), params={"room": ROOM, "day": "2026-12-01", "until": START.isoformat()}
        ),
        "day",
    )
    invalid(
        client.get(
            url("/bookings"),
            params={"room": ROOM, "since": START.isoformat(), "until": NOW.isoformat()},
        ),
        "until",
    )
    assert ok(client.get(url("/bookings"), params={"room": "nope"}), 404)["error"]
    assert ok(client.get(url("/bookings/b-000000000000")), 404)["error"]
    booking = ok(book(client, START), 201)
    clock.now = START
    refused(client.post(url(f"/bookings/{booking['id']}/cancel")), "too_late")
    assert rows(store, "bookings") == 1


# --- guests ------------------------------------------------------------------------------


def test_a_guest_with_a_card_never_shows_its_hash(client, store):
    secret = credential_hash(SITE_KEY, parse_uid(VISITOR_UID))
    response = client.post(
        url("/guests"), json={"first_name": "Bo", "host_member_id": "m-asa", "uid": VISITOR_UID}
    )
    guest = ok(response, 201)
    assert (guest["first_name"], guest["host_first_name"], guest["has_card"], guest["hint"]) == (
        "Bo",
        "Åsa",
        True,
        "1122",
    )
    assert (guest["day"], guest["status"], guest["source"]) == ("2026-11-30", "active", "api")
    assert guest["valid_until"] == "2026-11-30T23:00:00Z"  # midnight in Stockholm
    assert response.headers["Location"] == url(f"/guests/{guest['id']}")
    stored = [row["credential"] for row in store.query("SELECT credential FROM guest_passes")]
    assert stored == [secret]  # hashed with the site key

    answers = [
        client.get(response.headers["Location"]),
        client.get(url("/guests")),
        client.get(url("/guests"), params={"day": "2026-11-30"}),
    ]
    for answer in [response, *answers]:
        assert answer.status_code == (201 if answer is response else 200)
        assert secret not in answer.text
        assert "credential" not in answer.text
        assert parse_uid(VISITOR_UID).hex() not in answer.text
    assert [g["id"] for g in ok(client.get(url("/guests")))] == [guest["id"]]
    assert ok(client.get(url("/guests"), params={"day": "2026-12-01"})) == []


def test_a_card_on_a_pass_and_its_refusals(client, store):
    guest = ok(
        client.post(url("/guests"), json={"first_name": "Bo", "host_member_id": "m-asa"}), 201
    )
    assert (guest["has_card"], guest["hint"]) == (False, None)
    carded = ok(client.post(url(f"/guests/{guest['id']}/card"), json={"uid": VISITOR_UID}))
    assert (carded["has_card"], carded["hint"]) == (True, "1122")
    other = {"first_name": "Eva", "host_member_id": "m-bjorn", "uid": VISITOR_UID}
    refused(client.post(url("/guests"), json=other), "card_in_use")
    members_card = {**other, "uid": UIDS["m-sigrid"]}
    refused(client.post(url("/guests"), json=members_card), "card_in_use")
    invalid(client.post(url("/guests"), json={**other, "uid": "not hex!"}), "uid")
    invalid(client.post(url(f"/guests/{guest['id']}/card"), json={}), "uid")
    invalid(client.post(url("/guests"), json={**other, "uid": None, "day": "2026-11-29"}), "day")
    invalid(
        client.post(
            url("/guests"),
            json={"first_name": "Eva", "host_member_id": "m-bjorn", "credential": "ab" * 32},
        ),
        "credential",
    )
    assert rows(store, "guest_passes") == 1

    cancelled = ok(client.post(url(f"/guests/{guest['id']}/cancel")))
    assert cancelled["status"] == "cancelled"
    body = ok(client.post(url(f"/guests/{guest['id']}/cancel")), 409)
    assert "reason" not in body  # a plain conflict, no rule's code
    refused(client.post(url(f"/guests/{guest['id']}/card"), json={"uid": "0a0b"}), "not_allowed")
    assert ok(client.get(url("/guests/g-000000000000")), 404)["error"]


def test_a_guest_over_the_tier_limit_is_refused(client, store):
    tiers.update(store, "member", TierChange(guests_per_day=1), "test")
    ok(client.post(url("/guests"), json={"first_name": "Bo", "host_member_id": "m-asa"}), 201)
    body = refused(
        client.post(url("/guests"), json={"first_name": "Eva", "host_member_id": "m-asa"}),
        "guest_limit",
    )
    assert "1 guest a day" in body["error"]
    assert rows(store, "guest_passes") == 1
    tomorrow = {"first_name": "Eva", "host_member_id": "m-asa", "day": "2026-12-01"}
    assert ok(client.post(url("/guests"), json=tomorrow), 201)["day"] == "2026-12-01"


def test_a_card_needs_a_site_key(store, config, token, clock):
    client = TestClient(
        create_app(store, config, site_key=None), headers={"Authorization": f"Bearer {token}"}
    )
    body = {"first_name": "Bo", "host_member_id": "m-asa"}
    assert (
        "site key"
        in ok(client.post(url("/guests"), json={**body, "uid": VISITOR_UID}), 503)["error"]
    )
    assert rows(store, "guest_passes") == 0
    guest = ok(client.post(url("/guests"), json=body), 201)  # no card: no key needed
    ok(client.post(url(f"/guests/{guest['id']}/card"), json={"uid": VISITOR_UID}), 503)


# --- billing -----------------------------------------------------------------------------


def test_billing_totals_equal_the_bookings_and_the_csvs_parse(client, store):
    made = [
        ok(book(client, START - timedelta(hours=9), 60, room_id=STUDIO), 201),  # 09:00 local
        ok(book(client, START, 90, room_id=STUDIO, member_id="m-bjorn"), 201),  # 18:00 local
        ok(book(client, START + timedelta(hours=2), 30, room_id=STUDIO, member_id="m-sigrid"), 201),
        ok(book(client, START, 60), 201),  # lookout: free
    ]
    ok(book(client, START + timedelta(days=40), 60, room_id=STUDIO), 201)  # January
    cancelled = ok(book(client, START + timedelta(hours=4), 60, room_id=STUDIO), 201)
    client.post(url(f"/bookings/{cancelled['id']}/cancel"))
    expected = sum(b["amount_cents"] for b in made)
    assert expected == 10_000 + 15_000 + 5_000

    report = ok(client.get(url("/billing/2026-12")))
    assert report["month"] == "2026-12"
    assert report["total_cents"] == expected
    assert [
        (line["organisation_id"], line["bookings"], line["amount_cents"])
        for line in report["lines"]
    ] == [("o-skog", 3, 25_000), (None, 1, 5_000)]

    response = client.get(url("/billing/2026-12/summary.csv"))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="billing-2026-12-summary.csv"'
    )
    summary = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["organisation"], r["bookings"], r["amount"]) for r in summary] == [
        ("Skogsbyrån", "3", "250.00"),
        ("No organisation", "1", "50.00"),
    ]

    response = client.get(url("/billing/2026-12/detail.csv"))
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="billing-2026-12-detail.csv"'
    )
    detail = list(csv.DictReader(io.StringIO(response.text)))
    assert sorted(r["booking_id"] for r in detail) == sorted(b["id"] for b in made)
    assert sum(round(float(r["amount"]) * 100) for r in detail) == expected
    first = next(r for r in detail if r["booking_id"] == made[0]["id"])
    assert (first["date"], first["start"], first["end"], first["room"]) == (
        "2026-12-01",
        "09:00",
        "10:00",
        "Studio",
    )

    assert ok(client.get(url("/billing/2027-01")))["total_cents"] == 10_000
    assert ok(client.get(url("/billing/2026-11"))) == {
        "month": "2026-11",
        "lines": [],
        "total_cents": 0,
    }


@pytest.mark.parametrize("month", ["2026-13", "november", "2026-1", "x" * 21])
@pytest.mark.parametrize("suffix", ["", "/summary.csv", "/detail.csv"])
def test_a_bad_month_is_422_naming_it(client, month, suffix):
    invalid(client.get(url(f"/billing/{month}{suffix}")), "month")


# --- the routes as a whole ---------------------------------------------------------------


def community_routes(app: FastAPI) -> list[tuple[str, str]]:
    return [
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
        if path.removeprefix(PREFIX).startswith(COMMUNITY_PATHS)
    ]


def concrete(path: str) -> str:
    return (
        path.replace("{invitation_id}", "1")
        .replace("{month}", "2026-12")
        .replace("{event_id}", "ev-x")
        .replace("{member_id}", "m-asa")
        .replace("{booking_id}", "b-x")
        .replace("{pass_id}", "g-x")
    )


def test_every_community_route_needs_a_token(app, client, store):
    event = add_event(client, visibility="open")
    routes = community_routes(app)
    assert len(routes) == 26
    anonymous = TestClient(app)
    for method, path in routes:
        real = concrete(path).replace("ev-x", event["id"])
        response = anonymous.request(method, real, json={"first_name": "Bo"})
        assert response.status_code == 401, (method, path, response.text)
        assert response.headers["WWW-Authenticate"] == "Bearer"
    assert rows(store, "signups") + rows(store, "guest_passes") + rows(store, "bookings") == 0


def test_the_openapi_document_lists_the_routes_and_the_reason(app):
    document = TestClient(app).get(url("/openapi.json")).json()
    paths = document["paths"]
    assert set(paths[url("/events")]) == {"get", "post"}
    assert set(paths[url("/events/{event_id}")]) == {"get", "patch"}
    assert set(paths[url("/events/{event_id}/signups/{member_id}")]) == {"get", "patch", "delete"}
    assert "delete" in paths[url("/events/{event_id}/invitations/{invitation_id}")]
    assert set(paths[url("/bookings")]) == {"get", "post"}
    assert "post" in paths[url("/guests/{pass_id}/card")]
    assert (
        "text/csv"
        in paths[url("/billing/{month}/detail.csv")]["get"]["responses"]["200"]["content"]
    )
    error = document["components"]["schemas"]["ErrorBody"]
    assert set(error["properties"]) == {"error", "field", "reason"}
    conflict = paths[url("/events/{event_id}/signups")]["post"]["responses"]["409"]
    assert conflict["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorBody")
    guest = document["components"]["schemas"]["GuestPass"]
    assert "has_card" in guest["properties"]
    assert "credential" not in guest["properties"]
    assert "uid" in document["components"]["schemas"]["GuestBody"]["properties"]
    assert "credential" not in document["components"]["schemas"]["GuestBody"]["properties"]
