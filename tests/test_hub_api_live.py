"""The API's live routes: occupancy, who is in, door commands, enrolment."""

import warnings
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from hub_server import audit, presence, tokens
from hub_server.api.app import PREFIX, create_app
from hub_server.api.context import context_of
from hub_server.api.live import BUS
from hub_server.config import HubConfig
from hub_server.ingest import Inbound, Ingest
from hub_server.store import Store
from hublink.messages import DoorCommand, Message
from hublink.topics import Topics
from tests.helpers.door_hardware import SITE_KEY
from tests.helpers.hub_data import seed, tap

with warnings.catch_warnings():  # starlette would like httpx2; httpx is what we ship with
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

CONFIG = HubConfig.model_validate({"site": {"id": "s"}})


class Bus:
    def __init__(self) -> None:
        self.topics = Topics("s")
        self.sent: list[tuple[str, Message]] = []

    def publish(self, topic: str, message: Message) -> bool:
        self.sent.append((topic, message))
        return True


@pytest.fixture
def store() -> Iterator[Store]:
    with Store.memory() as store:
        yield seed(store)


@pytest.fixture
def bus() -> Bus:
    return Bus()


@pytest.fixture
def client(store: Store, bus: Bus) -> TestClient:
    app = create_app(store, CONFIG, site_key=SITE_KEY, extras={BUS: bus})
    token = tokens.create(store, "ops", "admin")
    return TestClient(app, headers={"Authorization": f"Bearer {token}"})


def test_occupancy_and_presence_follow_the_taps(store, client):
    when = datetime.now(UTC)
    Ingest(store, presence.rules_from(CONFIG)).process([
        Inbound("door", "front", tap("m-asa", when)),
        Inbound("door", "glade", tap("m-bjorn", when)),
    ])  # fmt: skip
    occupancy = client.get(f"{PREFIX}/occupancy").json()
    assert occupancy["site"]["count"] == 2
    assert {z["zone_id"]: z["count"] for z in occupancy["zones"]} == {"campfire": 1, "glade": 1}
    present = client.get(f"{PREFIX}/presence").json()
    assert sorted((p["member_id"], p["zone_id"]) for p in present) == [
        ("m-asa", "campfire"), ("m-bjorn", "glade"),
    ]  # fmt: skip


def test_a_door_command_is_sent_recorded_and_audited_as_the_token(store, client, bus):
    response = client.post(f"{PREFIX}/doors/front/commands", json={"action": "unlock",
                                                                    "duration_s": 5})  # fmt: skip
    assert response.status_code == 202, response.text
    body = response.json()
    [(topic, command)] = bus.sent
    assert isinstance(command, DoorCommand)
    assert topic == "hubtap/s/door/front/command"
    assert (body["id"], body["action"], body["issued_by"], body["ok"]) == (
        command.id, "unlock", "token:ops", None,
    )  # fmt: skip
    assert client.get(f"{PREFIX}/commands/{command.id}").json()["id"] == command.id
    assert audit.entries(store, limit=1)[0].action == "door.unlock"


@pytest.mark.parametrize(
    ("path", "body", "expected"),
    [
        ("/doors/nowhere/commands", {"action": "unlock"}, (404, None)),
        ("/doors/front/commands", {"action": "explode"}, (422, "action")),
        ("/doors/front/commands", {"action": "unlock", "duration_s": 7200}, (422, "duration_s")),
        ("/doors/front/commands", {"action": "unlock", "extra": 1}, (422, "extra")),
        ("/members/m-asa/enrol", {"door_id": "nowhere"}, (404, None)),
        ("/members/m-nobody/enrol", {"door_id": "front"}, (404, None)),
        ("/members/m-asa/enrol", {"door_id": "front", "timeout_s": 0}, (422, "timeout_s")),
    ],
)
def test_bad_commands_and_enrolments_are_clear_errors(client, bus, path, body, expected):
    status, field = expected
    response = client.post(PREFIX + path, json=body)
    assert response.status_code == status, response.text
    if field is not None:
        assert response.json()["field"] == field
    assert bus.sent == []


def test_commands_without_a_broker_link_are_503(store, client):
    context_of(client.app).extras.clear()
    response = client.post(f"{PREFIX}/doors/front/commands", json={"action": "unlock"})
    assert response.status_code == 503
    assert store.query("SELECT * FROM door_commands") == []


def test_enrol_by_tap_through_the_api(store, client):
    started = client.post(f"{PREFIX}/members/m-bjorn/enrol", json={"door_id": "front"})
    assert started.status_code == 202, started.text
    enrolment_id = started.json()["id"]
    assert started.json()["status"] == "waiting"
    unknown = tap(None, datetime.now(UTC), granted=False, credential="cd" * 32, card_hint="beef")
    Ingest(store, presence.rules_from(CONFIG)).process([Inbound("door", "front", unknown)])
    done = client.get(f"{PREFIX}/enrolments/{enrolment_id}").json()
    assert (done["status"], done["hint"], done["member_id"]) == ("done", "beef", "m-bjorn")
