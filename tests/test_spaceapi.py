"""The SpaceAPI v15 document: the shipped schema, live values, privacy, the public route."""

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft7Validator

from hub_server import cards, members, places, presence, site_open, spaceapi
from hub_server.config import HubConfig
from hub_server.dashboard import spaceapi as spaceapi_route
from hub_server.ingest import Inbound, Ingest
from hub_server.models import CardIn, MemberIn, RoomIn, build
from hub_server.store import Store
from hublink.credentials import credential_hash
from hublink.messages import Availability, DoorMode, DoorState
from tests.helpers.dashboard import site_for
from tests.helpers.door_hardware import SITE_KEY
from tests.helpers.hub_data import ACTOR, seed, tap

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)  # 09:00 in Stockholm, a Wednesday
BASE = "https://hub.example/"
SITE = {"site": {"id": "forest"}, "hub": {"timezone": "Europe/Stockholm"}}
FULL = {
    "space": "Forest Hub",
    "contact": {"email": "hello@forest.example", "matrix": "#forest:example.org"},
    "location": {"address": "Skogsvägen 1, 123 45 Skog, Sweden", "lat": 59.3, "lon": 18.1,
                 "country_code": "SE", "hint": "The green door"},
    "areas": {"campfire": 42.5},
}  # fmt: skip
SCHEMA = json.loads(spaceapi.SCHEMA.read_text(encoding="utf-8"))
VALIDATOR = Draft7Validator(SCHEMA)
_stamps = count(1)

# a member who must never show: every identifier distinctive enough to search for
ZEB = {"id": "m-zebulon", "first": "Zebulonia", "last": "Quixotebottom",
       "email": "zq.private@example.org", "uid": "04DEADBEEF0101"}  # fmt: skip


def config(**spaceapi_section: Any) -> HubConfig:
    return HubConfig.model_validate({**SITE, "spaceapi": spaceapi_section})


@pytest.fixture
def store() -> Iterator[Store]:
    """Zones Campfire circle and Forest glade; doors front, glade, exit, side (none reported)."""
    with Store.memory() as store:
        yield seed(store)


def build_doc(store: Store, cfg: HubConfig | None = None, now: datetime = T0) -> dict[str, Any]:
    return spaceapi.document(store, cfg or config(**FULL), BASE, now)


def schema_errors(doc: dict[str, Any]) -> list[str]:
    return sorted(error.message for error in VALIDATOR.iter_errors(doc))


def ingest(store: Store, door_id: str, *messages: Any) -> None:
    """Messages from a door, written as the server's ingest writes them."""
    rules = presence.rules_from(config())
    Ingest(store, rules, clock=lambda: T0).process([Inbound("door", door_id, m) for m in messages])


def report(store: Store, door_id: str, lock: str = "locked", mode: DoorMode = "normal") -> None:
    """A door's state report (each newer than the last)."""
    ts = T0 + timedelta(milliseconds=next(_stamps))
    ingest(store, door_id, DoorState(lock=lock, mode=mode, acl_version=1, ts=ts))


def people(doc: dict[str, Any]) -> dict[str, int]:
    return {entry["location"]: entry["value"] for entry in doc["sensors"]["people_now_present"]}


# --- the schema -------------------------------------------------------------------------


def test_the_schema_is_draft_7_and_names_its_source():
    Draft7Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "http://json-schema.org/draft-07/schema#"
    source = SCHEMA["$comment"]
    assert "https://schema.spaceapi.io/15.json" in source
    assert "2d23eae3b1b5e4b048655ff9998b0844e3f896aa" in source
    assert "not copied" in source


def test_the_document_fits_v15_and_holds_the_configured_site(store):
    doc = build_doc(store)
    assert schema_errors(doc) == []
    assert doc["api_compatibility"] == ["15"]
    assert (doc["space"], doc["logo"], doc["url"]) == (
        "Forest Hub", "https://hub.example/static/favicon.svg", "https://hub.example/",
    )  # fmt: skip
    assert doc["contact"] == {"email": "hello@forest.example", "matrix": "#forest:example.org"}
    assert doc["location"] == {
        "address": "Skogsvägen 1, 123 45 Skog, Sweden", "lat": 59.3, "lon": 18.1,
        "country_code": "SE", "hint": "The green door", "timezone": "Europe/Stockholm",
        "areas": [{"name": "Campfire circle", "square_meters": 42.5}],
    }  # fmt: skip
    assert doc["feeds"] == {"calendar": {"type": "ical", "url": "https://hub.example/calendar.ics"}}
    outside_v15 = set(doc) - set(SCHEMA["properties"])
    assert outside_v15 == {"ext_rooms"}  # v15: additions start with ext_


def test_a_bare_configuration_still_fits_v15(store):
    doc = spaceapi.document(store, HubConfig.model_validate({"site": {"id": "forest"}}), BASE, T0)
    assert schema_errors(doc) == []
    assert doc["space"] == "forest"
    assert doc["contact"] == {}
    assert doc["location"] == {"timezone": "UTC"}  # no areas: v15 wants at least one if given
    assert "open" not in doc["state"]  # no door held open, no open hours: not known


def test_logo_and_url_come_from_the_configuration_when_set(store):
    cfg = config(logo="https://forest.example/logo.png", url="https://forest.example/")
    doc = build_doc(store, cfg)
    assert (doc["logo"], doc["url"]) == (
        "https://forest.example/logo.png",
        "https://forest.example/",
    )


def _without(key: str):
    return lambda doc: doc.pop(key)


def _set(path: str, value: Any):
    *parents, last = path.split(".")

    def change(doc: dict[str, Any]) -> None:
        for part in parents:
            doc = doc[part][0] if isinstance(doc[part], list) else doc[part]
        doc[last] = value

    return change


BREAKAGES = {
    **{f"no {key}": _without(key) for key in ("api_compatibility", "space", "logo", "url")},
    "no contact": _without("contact"),
    "api_compatibility without 15": _set("api_compatibility", ["14"]),
    "space not a string": _set("space", 15),
    "lat without lon": lambda doc: doc["location"].pop("lon"),
    "lon without lat": lambda doc: doc["location"].pop("lat"),
    "lat as text": _set("location.lat", "59.3"),
    "empty location": _set("location", {}),
    "area without square_meters": lambda doc: doc["location"]["areas"][0].pop("square_meters"),
    "no areas in the list": _set("location.areas", []),
    "open as a string": _set("state.open", "true"),
    "lastchange as text": _set("state.lastchange", "1764057600"),
    "people value as text": _set("sensors.people_now_present.value", "3"),
    "people without value": lambda doc: doc["sensors"]["people_now_present"][0].pop("value"),
    "empty names": _set("sensors.people_now_present.names", []),
    "door value not boolean": _set("sensors.door_locked.value", "locked"),
    "door without location": lambda doc: doc["sensors"]["door_locked"][0].pop("location"),
    "calendar without url": lambda doc: doc["feeds"]["calendar"].pop("url"),
    "contact email not a string": _set("contact.email", ["a@b.c"]),
}


@pytest.mark.parametrize("breakage", BREAKAGES)
def test_the_schema_rejects_what_v15_forbids(store, breakage):
    report(store, "front", "locked", "hold_open")  # so state.open and door_locked are present
    good = build_doc(store)
    assert schema_errors(good) == []
    bad = copy.deepcopy(good)
    BREAKAGES[breakage](bad)
    assert schema_errors(bad) != [], breakage


# --- live values ------------------------------------------------------------------------


def test_people_are_counted_per_zone_and_for_the_whole_site(store):
    assert build_doc(store)["sensors"]["people_now_present"] == [
        {"value": 0, "location": "Campfire circle"},
        {"value": 0, "location": "Forest glade"},
        {"value": 0, "location": "Forest Hub", "name": "whole site"},
    ]
    ingest(store, "front", tap("m-asa", T0), tap("m-bjorn", T0))
    ingest(store, "glade", tap("m-sigrid", T0))
    doc = build_doc(store)
    assert people(doc) == {"Campfire circle": 2, "Forest glade": 1, "Forest Hub": 3}
    assert all("names" not in entry for entry in doc["sensors"]["people_now_present"])
    ingest(store, "exit", tap("m-asa", T0 + timedelta(minutes=5)))  # Åsa leaves
    assert people(build_doc(store)) == {"Campfire circle": 1, "Forest glade": 1, "Forest Hub": 2}


def test_a_tap_shows_in_the_next_document(store):
    before = build_doc(store)
    ingest(store, "glade", tap("m-bjorn", T0 + timedelta(seconds=1)))
    after = build_doc(store, now=T0 + timedelta(seconds=2))
    assert people(before)["Forest glade"] == 0
    assert people(after)["Forest glade"] == 1
    assert schema_errors(after) == []


def test_doors_say_whether_they_are_locked_once_they_have_reported(store):
    assert build_doc(store)["sensors"]["door_locked"] == []
    ingest(store, "glade", Availability(ts=T0, status="online"))  # online, lock not reported
    report(store, "front", "locked")
    report(store, "exit", "unlocked")
    assert build_doc(store)["sensors"]["door_locked"] == [
        {"value": False, "location": "Exit", "name": "Exit"},  # no zone: the door's name
        {"value": True, "location": "Campfire circle", "name": "Front"},
    ]
    report(store, "front", "unlocked")
    report(store, "exit", "locked")
    locked = {d["name"]: d["value"] for d in build_doc(store)["sensors"]["door_locked"]}
    assert locked == {"Exit": True, "Front": False}


def test_state_follows_door_modes_and_lastchange_moves_only_when_open_changes(store):
    def state(minutes: int) -> dict[str, Any]:
        return build_doc(store, now=T0 + timedelta(minutes=minutes))["state"]

    unix = int(T0.timestamp())
    assert state(0) == {"lastchange": unix}  # not known: open left out
    assert state(1) == {"lastchange": unix}  # still not known: unchanged
    report(store, "side", "unlocked", "hold_open")
    assert state(2) == {"open": True, "lastchange": unix + 120}
    report(store, "front", "locked", "normal")
    assert state(3) == {"open": True, "lastchange": unix + 120}  # still open
    report(store, "exit", "locked", "lockdown")
    assert state(4) == {"open": False, "lastchange": unix + 240, "message": "lockdown"}
    report(store, "exit", "locked", "normal")
    assert state(5) == {"open": True, "lastchange": unix + 300}


def test_observe_writes_the_mark_only_when_the_state_changes(store):
    def mark() -> str:
        return store.query_one("SELECT value FROM marks WHERE name = ?", (site_open.MARK,))[0]

    assert site_open.observe(store, T0, "Europe/Stockholm") == (None, T0)
    first = mark()
    assert site_open.observe(store, T0 + timedelta(hours=1), "Europe/Stockholm") == (None, T0)
    assert mark() == first
    report(store, "front", "unlocked", "hold_open")
    later = T0 + timedelta(hours=2)
    assert site_open.observe(store, later, "Europe/Stockholm") == (True, later)
    assert json.loads(mark()) == {"open": True, "since": "2026-11-25T10:00:00.000000+00:00"}


def test_an_unreadable_mark_is_recorded_afresh(store, caplog):
    with store.write() as db:
        db.execute("INSERT INTO marks (name, value) VALUES (?, 'not json')", (site_open.MARK,))
    later = T0 + timedelta(hours=1)
    assert site_open.observe(store, later, "UTC") == (None, later)
    assert "unreadable" in caplog.text
    assert site_open.observe(store, later + timedelta(hours=1), "UTC") == (None, later)


def test_rooms_say_whether_they_are_in_use(store):
    places.add_room(
        store, build(RoomIn, id="fjall", name="Fjäll", zone_id="glade", capacity=6), "t"
    )
    with store.write() as db:
        db.execute("UPDATE doors SET room_id = 'fjall' WHERE id = 'glade'")
    room = {"name": "Fjäll", "location": "Forest glade", "people": 0, "in_use": False}
    assert build_doc(store)["ext_rooms"] == [room]
    ingest(store, "glade", tap("m-sigrid", T0))
    assert build_doc(store)["ext_rooms"] == [{**room, "people": 1, "in_use": True}]


def test_no_member_identifier_is_ever_in_the_document(store):
    members.add(
        store,
        build(MemberIn, id=ZEB["id"], first_name=ZEB["first"], last_name=ZEB["last"],
              email=ZEB["email"]),
        ACTOR,
    )  # fmt: skip
    cards.add(store, SITE_KEY, build(CardIn, member_id=ZEB["id"], uid=ZEB["uid"]), ACTOR)
    hashed = credential_hash(SITE_KEY, bytes.fromhex(ZEB["uid"]))
    ingest(store, "front", tap(ZEB["id"], T0, credential=hashed), tap("m-asa", T0))
    report(store, "front", "locked", "hold_open")
    text = json.dumps(build_doc(store), ensure_ascii=False)
    assert people(json.loads(text))["Forest Hub"] == 2  # they are counted …
    for private in (*ZEB.values(), hashed, "Åsa", "m-asa", "Test"):  # … never named
        assert private.lower() not in text.lower(), private


# --- start-up checks --------------------------------------------------------------------


def test_a_sound_configuration_has_no_problems(store):
    assert spaceapi.config_problems(store, config(**FULL).spaceapi) == []
    assert spaceapi.config_problems(store, config(enabled=False, areas={"x": 1}).spaceapi) == []


def test_each_configuration_problem_is_named(store):
    section = config(
        areas={"campfire": 10, "kitchen": 12},
        logo="logo.png",
        url="ftp://forest.example/",
    ).spaceapi
    assert spaceapi.config_problems(store, section) == [
        '[spaceapi] areas: "kitchen" is not a zone (known: campfire, glade)',
        '[spaceapi] logo: "logo.png" is not an absolute http(s) URL',
        '[spaceapi] url: "ftp://forest.example/" is not an absolute http(s) URL',
        "[spaceapi] contact: no way to reach the space is set"
        " (give one of email, phone, matrix, mastodon, ml)",
        "[spaceapi] location: neither address nor lat/lon is set, so SpaceAPI directories"
        " cannot show where the space is",
    ]


def test_contacts_not_in_their_spaceapi_form_are_named(store):
    contact = {"email": "hello", "ml": "list@forest.example", "phone": "08-123 45",
               "matrix": "forest", "mastodon": "@forest@social.example"}  # fmt: skip
    section = config(contact=contact, location={"lat": 59.3, "lon": 18.1}).spaceapi
    assert spaceapi.config_problems(store, section) == [
        '[spaceapi] contact.email: "hello" is not an e-mail address',
        '[spaceapi] contact.phone: "08-123 45" is not a phone number with + and the country code',
        '[spaceapi] contact.matrix: "forest" is not a Matrix address (#room:server)',
    ]


# --- the route --------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(spaceapi_route, "utcnow", clock)
    return clock


def client_for(store: Store, **section: Any) -> TestClient:
    return TestClient(site_for(store, config(**{**FULL, **section})), follow_redirects=False)


def test_anyone_may_fetch_the_document_from_any_origin(store, clock):
    client = client_for(store, cache_s=30)
    answer = client.get("/spaceapi.json", headers={"Origin": "https://map.spaceapi.io"})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["access-control-allow-origin"] == "*"
    assert answer.headers.get_list("cache-control") == ["public, max-age=30"]
    doc = answer.json()
    assert schema_errors(doc) == []
    assert doc["feeds"]["calendar"]["url"] == "http://testserver/calendar.ics"
    preflight = client.options(
        "/spaceapi.json",
        headers={"Origin": "https://map.spaceapi.io", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "GET" in preflight.headers["access-control-allow-methods"]


def test_the_document_is_served_again_until_cache_s_has_passed(store, clock):
    client = client_for(store, cache_s=30)
    assert people(client.get("/spaceapi.json").json())["Forest Hub"] == 0
    ingest(store, "front", tap("m-asa", T0))
    clock.now = T0 + timedelta(seconds=29)
    assert people(client.get("/spaceapi.json").json())["Forest Hub"] == 0  # cached
    clock.now = T0 + timedelta(seconds=30)
    assert people(client.get("/spaceapi.json").json())["Forest Hub"] == 1


def test_with_cache_s_0_every_request_is_built_afresh(store, clock):
    client = client_for(store, cache_s=0)
    first = client.get("/spaceapi.json")
    assert first.headers.get_list("cache-control") == ["public, max-age=0"]
    ingest(store, "front", tap("m-asa", T0))
    assert people(client.get("/spaceapi.json").json())["Forest Hub"] == 1


def test_a_request_for_another_host_does_not_change_what_others_get(store, clock):
    client = client_for(store, cache_s=30)
    odd = client.get("/spaceapi.json", headers={"Host": "evil.example"}).json()
    assert odd["url"] == "http://evil.example/"
    assert client.get("/spaceapi.json").json()["url"] == "http://testserver/"


def test_turned_off_there_is_no_document(store, clock):
    assert client_for(store).get("/spaceapi.json").status_code == 200  # on: it is there
    client = client_for(store, enabled=False)
    assert client.get("/spaceapi.json").status_code == 404
    assert client.options("/spaceapi.json").status_code == 404
