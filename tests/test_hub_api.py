"""The hub's HTTP API through FastAPI's TestClient, on an in-memory store."""

import re
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI

from hub_server import access_log, audit, tokens
from hub_server.api.app import PREFIX, create_app
from hub_server.api.cards import CardBody
from hub_server.api.context import Context, context_of
from hub_server.config import HubConfig
from hub_server.models import CardIn
from hub_server.store import Store, now_text
from hublink.credentials import credential_hash, parse_uid

with warnings.catch_warnings():  # starlette would like httpx2; httpx is what we ship with
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

SITE_KEY = bytes.fromhex("5e" * 32)
UID = "04:A1:B2:C3:D4:E5:F6"
T0 = datetime(2025, 5, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def store() -> Iterator[Store]:
    with Store.memory() as store:
        yield store


@pytest.fixture
def config() -> HubConfig:
    return HubConfig.model_validate({"site": {"id": "testsite"}})


@pytest.fixture
def app(store: Store, config: HubConfig) -> FastAPI:
    return create_app(store, config, site_key=SITE_KEY)


@pytest.fixture
def anonymous(app: FastAPI) -> TestClient:
    return TestClient(app)


@pytest.fixture
def token(store: Store) -> str:
    return tokens.create(store, "ops", "admin")


@pytest.fixture
def client(app: FastAPI, token: str) -> TestClient:
    return TestClient(app, headers={"Authorization": f"Bearer {token}"})


def url(path: str) -> str:
    return PREFIX + path


def assert_error(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert isinstance(body["error"], str)
    assert body["error"]
    if field is None:
        assert "field" not in body
    else:
        assert body["field"] == field
    return body


def add_member(client: TestClient, **values: Any) -> dict[str, Any]:
    body = {"first_name": "Åsa", "last_name": "Berg", **values}
    response = client.post(url("/members"), json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


# --- authentication ---------------------------------------------------------


def test_no_token_is_401_with_a_bearer_challenge(anonymous):
    response = anonymous.get(url("/members"))
    body = assert_error(response, 401)
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert "Bearer" in body["error"]


@pytest.mark.parametrize(
    "header",
    [
        "Bearer htk_not-a-token",
        "Bearer nonsense",
        "Bearer " + "x" * 1000,
    ],
)
def test_a_bad_token_is_401(anonymous, token, header):
    response = anonymous.get(url("/members"), headers={"Authorization": header})
    assert_error(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", ["Basic b3BzOnNlY3JldA==", "Bearer", "", "htk_x"])
def test_a_header_that_is_no_bearer_token_is_401(anonymous, token, header):
    response = anonymous.get(url("/members"), headers={"Authorization": header})
    assert_error(response, 401)
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_the_right_token_in_another_scheme_is_401(anonymous, token):
    response = anonymous.get(url("/members"), headers={"Authorization": f"Basic {token}"})
    assert_error(response, 401)


def test_a_revoked_token_is_401(app, store, token):
    client = TestClient(app, headers={"Authorization": f"Bearer {token}"})
    assert client.get(url("/members")).status_code == 200
    tokens.revoke(store, "ops", "admin")
    response = client.get(url("/members"))
    assert_error(response, 401)
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def test_a_bad_body_without_a_token_is_401_not_422(anonymous):
    response = anonymous.post(
        url("/members"), content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert_error(response, 401)
    response = anonymous.post(url("/members"), json={"unknown": 1})
    assert_error(response, 401)


def concrete(path: str) -> str:
    return re.sub(r"\{card_id\}", "1", re.sub(r"\{[a-z_]+\}", "x", path))


def api_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every route with its method, as the OpenAPI document lists them."""
    return [
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    ]


def test_every_route_needs_a_token(app, anonymous):
    routes = api_routes(app)
    assert len(routes) >= 20
    for method, path in routes:
        assert path.startswith(PREFIX + "/")
        response = anonymous.request(method, concrete(path), json={})
        assert response.status_code == 401, (method, path, response.text)


def test_openapi_is_public_and_lists_the_routes(anonymous):
    response = anonymous.get(url("/openapi.json"))
    assert response.status_code == 200
    document = response.json()
    assert document["info"]["title"] == "hubtap hub API"
    assert document["info"]["version"] == version("hubtap")
    paths = document["paths"]
    assert set(paths[url("/members")]) == {"get", "post"}
    assert set(paths[url("/members/{member_id}")]) == {"get", "patch"}
    assert "post" in paths[url("/members/{member_id}/deactivate")]
    assert "get" in paths[url("/access-log")]
    assert document["components"]["securitySchemes"]["token"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token made with `hubtap tokens add NAME`.",
    }
    assert paths[url("/members")]["get"]["security"] == [{"token": []}]
    error_ref = paths[url("/members")]["post"]["responses"]["422"]["content"]
    assert error_ref["application/json"]["schema"]["$ref"].endswith("/ErrorBody")


@pytest.mark.parametrize("path", ["/docs", "/redoc", url("/docs"), "/docs/oauth2-redirect"])
def test_no_html_docs_pages(anonymous, path):
    assert anonymous.get(path).status_code == 404


def test_an_unknown_path_is_a_json_404(client):
    assert_error(client.get(url("/nothing-here")), 404)
    assert_error(client.delete(url("/members")), 405)


# --- members ----------------------------------------------------------------


def test_add_and_read_a_member(client, store):
    response = client.post(
        url("/members"),
        json={"first_name": " Åsa ", "last_name": "Berg", "email": "asa@example.org"},
    )
    assert response.status_code == 201
    member = response.json()
    assert member["first_name"] == "Åsa"
    assert member["email"] == "asa@example.org"
    assert response.headers["Location"] == url(f"/members/{member['id']}")
    assert client.get(response.headers["Location"]).json() == member
    entry = audit.entries(store)[0]  # the newest
    assert (entry.actor, entry.action, entry.target) == ("token:ops", "member.add", member["id"])


def test_list_members_filters_and_pages(client):
    client.post(url("/organisations"), json={"name": "Skogsbyrån AB", "id": "o-skog"})
    for first, last in [("Åsa", "Berg"), ("Bo", "Ek"), ("Cecilia", "Alm"), ("Dan", "Ek")]:
        add_member(client, first_name=first, last_name=last, organisation="Skogsbyrån AB")
    add_member(client, first_name="Eva", last_name="Ek", status="suspended")
    everyone = client.get(url("/members")).json()
    assert everyone["total"] == 5
    assert (everyone["limit"], everyone["offset"]) == (50, 0)
    assert [m["last_name"] for m in everyone["items"]] == ["Alm", "Berg", "Ek", "Ek", "Ek"]
    page = client.get(url("/members"), params={"limit": 2, "offset": 2}).json()
    assert [m["first_name"] for m in page["items"]] == ["Bo", "Dan"]
    assert (page["total"], page["limit"], page["offset"]) == (5, 2, 2)
    eks = client.get(url("/members"), params={"search": "ek", "organisation": "o-skog"}).json()
    assert [m["first_name"] for m in eks["items"]] == ["Bo", "Dan"]
    assert eks["total"] == 2
    asa = client.get(url("/members"), params={"search": "asa"}).json()
    assert [m["first_name"] for m in asa["items"]] == ["Åsa"]
    suspended = client.get(url("/members"), params={"status": "suspended"}).json()
    assert [m["first_name"] for m in suspended["items"]] == ["Eva"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"offset": -1}, "offset"),
        ({"status": "asleep"}, "status"),
        ({"search": "x" * 201}, "search"),
    ],
)
def test_list_members_rejects_bad_parameters(client, params, field):
    assert_error(client.get(url("/members"), params=params), 422, field)


def test_list_members_by_an_unknown_organisation_is_404(client):
    body = assert_error(client.get(url("/members"), params={"organisation": "nobody"}), 404)
    assert "nobody" in body["error"]


def test_change_and_deactivate_a_member(client, store):
    member = add_member(client, email="asa@example.org")
    response = client.patch(url(f"/members/{member['id']}"), json={"last_name": "Lind"})
    assert response.status_code == 200
    changed = response.json()
    assert (changed["first_name"], changed["last_name"]) == ("Åsa", "Lind")
    assert changed["email"] == "asa@example.org"  # not named, not changed
    response = client.post(url(f"/members/{member['id']}/deactivate"))
    assert response.status_code == 200
    assert response.json()["status"] == "inactive"
    assert client.get(url(f"/members/{member['id']}")).json()["status"] == "inactive"
    actions = [(e.actor, e.action) for e in audit.entries(store)]
    assert actions[:2] == [("token:ops", "member.change"), ("token:ops", "member.change")]


def test_unknown_members_are_404(client):
    assert_error(client.get(url("/members/m-nobody")), 404)
    assert_error(client.patch(url("/members/m-nobody"), json={"last_name": "X"}), 404)
    assert_error(client.post(url("/members/m-nobody/deactivate")), 404)


def test_a_taken_email_or_id_is_409(client):
    first = add_member(client, email="asa@example.org")
    other = add_member(client, first_name="Bo", email="bo@example.org")
    assert_error(client.post(url("/members"), json={**_names(), "email": "ASA@example.org"}), 409)
    assert_error(client.post(url("/members"), json={**_names(), "id": first["id"]}), 409)
    response = client.patch(url(f"/members/{other['id']}"), json={"email": "asa@example.org"})
    assert_error(response, 409)


def _names() -> dict[str, str]:
    return {"first_name": "Bo", "last_name": "Ek"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"first_name": "Bo"}, "last_name"),
        ({**_names(), "email": "not-an-email"}, "email"),
        ({**_names(), "nickname": "B"}, "nickname"),
        ({**_names(), "first_name": 5}, "first_name"),
        ({**_names(), "first_name": "   "}, "first_name"),
        ({**_names(), "role": "king"}, "role"),
        ({**_names(), "tier": "gold"}, "tier"),
        ({**_names(), "valid_from": "2025-05-01T08:00:00"}, "valid_from"),
        ({**_names(), "valid_until": "tomorrow"}, "valid_until"),
    ],
)
def test_a_bad_member_is_422_naming_the_field(client, body, field):
    body = assert_error(client.post(url("/members"), json=body), 422, field)
    assert field in body["error"]
    assert client.get(url("/members")).json()["total"] == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"first_name": None}, "first_name"),
        ({"colour": "blue"}, "colour"),
        ({"status": "gone"}, "status"),
    ],
)
def test_a_bad_change_is_422_naming_the_field(client, body, field):
    member = add_member(client)
    assert_error(client.patch(url(f"/members/{member['id']}"), json=body), 422, field)
    assert client.get(url(f"/members/{member['id']}")).json() == member


def test_an_organisation_that_does_not_exist_is_404(client):
    assert_error(client.post(url("/members"), json={**_names(), "organisation": "Nope"}), 404)


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"", "application/json"),
        (b"[]", "application/json"),
        (b'"text"', "application/json"),
        (b"null", "application/json"),
        (b"42", "application/json"),
        (b'{"first_name": "Bo", "last_name": "Ek"}', "text/plain"),
        (b"\xff\xfe", "application/json"),
    ],
)
def test_a_body_that_is_no_member_is_422_on_the_body(client, content, content_type):
    response = client.post(url("/members"), content=content, headers={"Content-Type": content_type})
    assert_error(response, 422, "body")


# --- organisations ----------------------------------------------------------


def test_organisations(client):
    response = client.post(url("/organisations"), json={"name": "Skogsbyrån AB"})
    assert response.status_code == 201
    org = response.json()
    assert org == {"id": "o-skogsbyran-ab", "name": "Skogsbyrån AB", "members": 0}
    assert response.headers["Location"] == url("/organisations/o-skogsbyran-ab")
    add_member(client, organisation="o-skogsbyran-ab")
    assert client.get(url("/organisations/o-skogsbyran-ab")).json()["members"] == 1
    client.post(url("/organisations"), json={"name": "Alvarsson"})
    names = [o["name"] for o in client.get(url("/organisations")).json()]
    assert names == ["Alvarsson", "Skogsbyrån AB"]


def test_organisation_errors(client):
    client.post(url("/organisations"), json={"name": "Skogsbyrån AB"})
    assert_error(client.post(url("/organisations"), json={"name": "skogsbyrån ab"}), 409)
    assert_error(client.get(url("/organisations/o-nobody")), 404)
    assert_error(client.post(url("/organisations"), json={"name": ""}), 422, "name")
    assert_error(client.post(url("/organisations"), json={"name": "X", "id": "a b"}), 422, "id")
    assert_error(client.post(url("/organisations"), json={"name": "X", "size": 3}), 422, "size")


# --- cards --------------------------------------------------------------------


def test_card_body_is_card_in_without_the_member():
    wanted = {k: v for k, v in CardIn.model_fields.items() if k != "member_id"}
    assert CardBody.model_fields.keys() == wanted.keys()
    for name, field in wanted.items():
        mine = CardBody.model_fields[name]
        assert (mine.annotation, mine.metadata, mine.default) == (
            field.annotation,
            field.metadata,
            field.default,
        ), name


def test_add_list_and_revoke_cards(client, store):
    member = add_member(client)
    response = client.post(
        url(f"/members/{member['id']}/cards"), json={"uid": UID, "kind": "fob", "label": "blue"}
    )
    assert response.status_code == 201, response.text
    card = response.json()
    assert card["hint"] == "e5f6"  # the UID's last 2 bytes, for display
    assert card["hash"] == credential_hash(SITE_KEY, parse_uid(UID))
    assert (card["member_id"], card["kind"], card["label"], card["status"]) == (
        member["id"], "fob", "blue", "active",
    )  # fmt: skip
    assert "uid" not in card
    assert parse_uid(UID).hex() not in response.text
    assert response.headers["Location"] == url(f"/cards/{card['id']}")
    assert client.get(response.headers["Location"]).json() == card

    assert client.get(url(f"/members/{member['id']}/cards")).json() == [card]
    assert client.get(url("/cards")).json() == [card]

    response = client.post(url(f"/cards/{card['id']}/revoke"))
    assert response.status_code == 200
    assert response.json()["status"] == "revoked"
    assert client.get(url(f"/members/{member['id']}/cards")).json() == []
    assert client.get(url("/cards")).json() == []
    revoked = client.get(url("/cards"), params={"include_revoked": "true"}).json()
    assert [c["id"] for c in revoked] == [card["id"]]
    mine = client.get(url(f"/members/{member['id']}/cards"), params={"include_revoked": True})
    assert [c["status"] for c in mine.json()] == ["revoked"]
    actions = [(e.actor, e.action) for e in audit.entries(store)]
    assert actions[:2] == [("token:ops", "card.revoke"), ("token:ops", "card.add")]


def test_card_errors(client):
    member = add_member(client)
    cards_url = url(f"/members/{member['id']}/cards")
    client.post(cards_url, json={"uid": UID})
    assert_error(client.post(cards_url, json={"uid": UID}), 409)
    assert_error(client.post(cards_url, json={"uid": "not hex!"}), 422, "uid")
    assert_error(client.post(cards_url, json={"uid": ""}), 422, "uid")
    assert_error(client.post(cards_url, json={"uid": "04a1", "kind": "tattoo"}), 422, "kind")
    assert_error(client.post(cards_url, json={"uid": "04a1", "member_id": "x"}), 422, "member_id")
    assert_error(client.post(url("/members/m-nobody/cards"), json={"uid": "04a1b2"}), 404)
    assert_error(client.get(url("/members/m-nobody/cards")), 404)
    assert_error(client.post(url("/cards/999/revoke")), 404)
    assert_error(client.get(url("/cards/999")), 404)
    assert_error(client.post(url("/cards/one/revoke")), 422, "card_id")
    (card,) = client.get(url("/cards")).json()
    client.post(url(f"/cards/{card['id']}/revoke"))
    assert_error(client.post(url(f"/cards/{card['id']}/revoke")), 409)


def test_adding_a_card_without_a_site_key_is_503(store, config, token):
    app = create_app(store, config, site_key=None)
    client = TestClient(app, headers={"Authorization": f"Bearer {token}"})
    member = add_member(client)
    body = assert_error(client.post(url(f"/members/{member['id']}/cards"), json={"uid": UID}), 503)
    assert "site key" in body["error"]
    assert client.get(url("/cards")).json() == []


# --- doors, zones, rooms ----------------------------------------------------------


def test_zones_rooms_and_doors(client):
    response = client.post(
        url("/zones"), json={"id": "glade", "name": "Forest glade", "capacity": 20}
    )
    assert response.status_code == 201
    assert response.json() == {"id": "glade", "name": "Forest glade", "capacity": 20}
    assert response.headers["Location"] == url("/zones/glade")
    assert client.get(url("/zones/glade")).json()["capacity"] == 20
    client.post(url("/zones"), json={"id": "camp", "name": "Campfire circle", "capacity": 12})
    assert [z["id"] for z in client.get(url("/zones")).json()] == ["camp", "glade"]

    room = {"id": "owl", "name": "Owl room", "zone_id": "glade", "capacity": 6,
            "hourly_rate_cents": 25000}  # fmt: skip
    response = client.post(url("/rooms"), json=room)
    assert response.status_code == 201
    assert response.json() == {**room, "out_of_hours_rate_cents": None}
    assert response.headers["Location"] == url("/rooms/owl")
    assert client.get(url("/rooms")).json() == [response.json()]
    assert client.get(url("/rooms/owl")).json() == response.json()

    response = client.post(url("/doors"), json={"id": "owl-door", "name": "Owl", "room_id": "owl"})
    assert response.status_code == 201
    door = response.json()
    assert (door["zone_id"], door["room_id"], door["direction"], door["group"]) == (
        "glade", "owl", "in", "default",
    )  # fmt: skip
    assert door["online"] is None
    assert response.headers["Location"] == url("/doors/owl-door")
    client.post(url("/doors"), json={"id": "exit", "name": "Exit", "direction": "out"})
    assert [d["id"] for d in client.get(url("/doors")).json()] == ["exit", "owl-door"]
    assert client.get(url("/doors/owl-door")).json() == door


def test_place_and_door_errors(client):
    client.post(url("/zones"), json={"id": "glade", "name": "Forest glade", "capacity": 20})
    zone = {"id": "glade", "name": "Other", "capacity": 1}
    assert_error(client.post(url("/zones"), json=zone), 409)
    assert_error(client.post(url("/zones"), json={**zone, "id": "z2", "capacity": -1}), 422,
                 "capacity")  # fmt: skip
    assert_error(client.post(url("/zones"), json={"id": "z2", "name": "Z"}), 422, "capacity")
    assert_error(client.get(url("/zones/nope")), 404)
    room = {"id": "owl", "name": "Owl room", "capacity": 6}
    assert_error(client.post(url("/rooms"), json={**room, "zone_id": "nope"}), 404)
    assert_error(client.post(url("/rooms"), json={**room, "hourly_rate_cents": -5}), 422,
                 "hourly_rate_cents")  # fmt: skip
    assert_error(client.get(url("/rooms/nope")), 404)
    client.post(url("/doors"), json={"id": "front", "name": "Front"})
    assert_error(client.post(url("/doors"), json={"id": "front", "name": "Again"}), 409)
    assert_error(client.post(url("/doors"), json={"id": "d2", "name": "D", "zone_id": "nope"}), 404)
    assert_error(client.post(url("/doors"), json={"id": "d2", "name": "D", "direction": "up"}),
                 422, "direction")  # fmt: skip
    exit_into_zone = {"id": "d2", "name": "D", "direction": "out", "zone_id": "glade"}
    assert_error(client.post(url("/doors"), json=exit_into_zone), 422, "zone_id")
    assert_error(client.post(url("/doors"), json={"id": "d 2", "name": "D"}), 422, "id")
    assert_error(client.get(url("/doors/nope")), 404)
    assert [d["id"] for d in client.get(url("/doors")).json()] == ["front"]


# --- access log ---------------------------------------------------------------------


def add_event(store: Store, event_id: str, ts: datetime, **values: Any) -> None:
    row = {"door_id": "front", "reader_id": "r1", "granted": 1, "reason": "ok",
           "member_id": None, "card_hint": "b2c3", "role": "member", **values}  # fmt: skip
    with store.write() as db:
        db.execute(
            "INSERT INTO access_events (id, ts, door_id, reader_id, granted, reason, member_id,"
            " card_hint, role, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (event_id, now_text(ts), row["door_id"], row["reader_id"], row["granted"],
             row["reason"], row["member_id"], row["card_hint"], row["role"], now_text(ts)),
        )  # fmt: skip


def test_the_access_log_pages_through_filtered_entries(client, store):
    asa = add_member(client, id="m-asa")
    for n in range(12):
        add_event(
            store,
            f"e{n:02d}",
            T0 + timedelta(minutes=n),
            member_id="m-asa" if n % 2 else "m-gone",
            door_id="front" if n < 8 else "back",
            granted=int(n != 5),
            reason="ok" if n != 5 else "outside_schedule",
        )
    params: dict[str, Any] = {"member": "m-asa", "door": "front", "limit": 2}
    seen, cursor = [], None
    for _ in range(10):
        response = client.get(url("/access-log"), params={**params, "cursor": cursor} if cursor
                              else params)  # fmt: skip
        assert response.status_code == 200, response.text
        page = response.json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [e["id"] for e in seen] == ["e07", "e05", "e03", "e01"]
    newest = seen[0]
    assert newest == {
        "id": "e07", "ts": "2025-05-01T08:07:00Z", "door_id": "front", "reader_id": "r1",
        "granted": True, "reason": "ok", "member_id": "m-asa", "card_hint": "b2c3",
        "role": "member", "first_name": asa["first_name"], "last_name": asa["last_name"],
    }  # fmt: skip

    everything = client.get(url("/access-log"), params={"limit": 500}).json()
    assert len(everything["items"]) == 12
    assert everything["next_cursor"] is None
    gone = next(e for e in everything["items"] if e["member_id"] == "m-gone")
    assert (gone["first_name"], gone["last_name"]) == (None, None)

    denied = client.get(url("/access-log"), params={"granted": "false"}).json()
    assert [e["id"] for e in denied["items"]] == ["e05"]
    by_reason = client.get(url("/access-log"), params={"reason": "outside_schedule"}).json()
    assert [e["id"] for e in by_reason["items"]] == ["e05"]
    window = client.get(
        url("/access-log"),
        params={"since": "2025-05-01T10:03:00+02:00", "until": "2025-05-01T08:06:00Z"},
    ).json()
    assert [e["id"] for e in window["items"]] == ["e05", "e04", "e03"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "2025-05-01T08:00:00"}, "since"),  # naive
        ({"until": "2025-05-01"}, "until"),
        ({"since": "yesterday"}, "since"),
        ({"since": "2025-13-01T08:00:00Z"}, "since"),
        ({"since": "2025-05-02T08:00:00Z", "until": "2025-05-01T08:00:00Z"}, "until"),
        ({"granted": "maybe"}, "granted"),
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"member": "m" * 65}, "member"),
    ],
)
def test_bad_access_log_filters_are_422_naming_the_field(client, params, field):
    assert_error(client.get(url("/access-log"), params=params), 422, field)


def test_an_unencoded_plus_in_a_time_is_a_clear_422(client):
    # "+02:00" unencoded in a query string arrives as " 02:00"
    response = client.get(url("/access-log") + "?since=2025-05-01T10:00:00+02:00")
    assert_error(response, 422, "since")


def test_a_cursor_from_one_page_is_honoured_by_the_next(client, store):
    for n in range(5):
        add_event(store, f"e{n}", T0 + timedelta(minutes=n))
    first = client.get(url("/access-log"), params={"limit": 3}).json()
    assert first["next_cursor"] == access_log.encode_cursor(
        now_text(T0 + timedelta(minutes=2)), "e2"
    )
    second = client.get(url("/access-log"), params={"limit": 3, "cursor": first["next_cursor"]})
    assert [e["id"] for e in second.json()["items"]] == ["e1", "e0"]


# --- robustness and extension ------------------------------------------------------


ODD_BODIES: list[Any] = [
    None, [], "x", 0, True, {"id": None}, {"id": {"$ne": 1}}, {"": ""},
    {"name": "x" * 10_000}, {"capacity": 10**30}, {"first_name": "\x00"},
]  # fmt: skip


def test_odd_bodies_never_make_a_500(app, client):
    posts = [path for method, path in api_routes(app) if method in ("POST", "PATCH")]
    assert len(posts) >= 9
    for method, path in api_routes(app):
        if method not in ("POST", "PATCH"):
            continue
        for body in ODD_BODIES:
            response = client.request(method, concrete(path), json=body)
            assert response.status_code < 500, (method, path, body, response.text)
            if response.status_code >= 400:
                assert isinstance(response.json()["error"], str)


@pytest.mark.parametrize(
    ("route", "params", "body", "field"),
    [
        ("GET /members", {"offset": 10**30}, None, "offset"),
        (f"GET /cards/{10**30}", None, None, "card_id"),
        (f"POST /cards/{10**30}/revoke", None, None, "card_id"),
        ("GET /access-log", {"since": "0001-01-01T00:00:00+01:00"}, None, "since"),
        ("GET /access-log", {"until": "9999-12-31T23:59:59-05:00"}, None, "until"),
        ("POST /rooms", None, {"id": "r", "name": "R", "capacity": 1,
                         "hourly_rate_cents": 10**30}, "hourly_rate_cents"),
        # no UTC equivalent: 422 naming the field
        ("POST /members", None, {**_names(), "valid_from": "0001-01-01T00:00:00+01:00"},
         "valid_from"),
        ("POST /members", None, {**_names(), "valid_until": "9999-12-31T23:59:59-05:00"},
         "valid_until"),
    ],
)  # fmt: skip
def test_values_out_of_range_are_422_not_500(client, route, params, body, field):
    method, path = route.split()
    response = client.request(method, url(path), params=params, json=body)
    assert_error(response, 422, field)


def test_a_router_added_later_is_behind_the_token_and_sees_the_extras(app, client, anonymous):
    router = APIRouter()

    @router.get("/weather")
    def weather(ctx: Context) -> dict[str, str]:
        return {"sky": ctx.extra("sky", str)}

    app.include_router(router, prefix=PREFIX)
    assert_error(anonymous.get(url("/weather")), 401)
    body = assert_error(client.get(url("/weather")), 503)
    assert "sky" in body["error"]
    context_of(app).extras["sky"] = "clear"
    assert client.get(url("/weather")).json() == {"sky": "clear"}
    context_of(app).extras["sky"] = 42  # the wrong type is as good as missing
    assert_error(client.get(url("/weather")), 503)


def test_create_app_takes_extras(store, config, token):
    app = create_app(store, config, site_key=None, extras={"sky": "grey"})
    assert context_of(app).extras == {"sky": "grey"}
    assert context_of(app).site_key is None
    assert context_of(app).store is store
