"""``hubtap enrol``, ``unlock``, ``lockdown`` and ``tokens``: against a real Mosquitto."""

import threading
import time
from pathlib import Path

import pytest

from hub_server import audit, cards, doors, enrolment, members, presence, tokens
from hub_server.config import HubConfig
from hub_server.ingest import Inbound, Ingest
from hub_server.models import DoorIn, MemberIn, build
from hublink.link import Delivery
from hublink.messages import CommandResult, DoorCommand, utcnow
from hublink.topics import Topics
from tests.helpers.hub_data import tap
from tests.helpers.hub_process import FakeDevice
from tests.test_hub_cli import ACTOR, Hub


@pytest.fixture
def hub(tmp_path, capsys, mosquitto):
    hub = Hub(tmp_path, capsys)
    hub.write_config(extra=f'[mqtt]\nport = {mosquitto.port}\nclient_id = "hubtap-hub"\n')
    with hub.store() as store:
        for door_id in ("front", "back"):
            doors.add(store, build(DoorIn, id=door_id, name=door_id), "t")
        members.add(store, build(MemberIn, id="m-asa", first_name="Åsa", last_name="Berg"), "t")
    return hub


class FakeDoor(FakeDevice):
    """A door that answers commands as ``hubtap-door`` does (through its outbox), or not."""

    def __init__(self, port: int, folder: Path, door_id: str, *, answer: bool = True) -> None:
        super().__init__(folder, port, Topics("testsite"), f"fake-{door_id}")
        self.topics = self.link.topics
        self.door_id = door_id
        self.answer = answer
        self.received: list[DoorCommand] = []
        self.link.subscribe(self.topics.door_command(door_id), self._on_command)

    def _on_command(self, delivery: Delivery[DoorCommand]) -> None:
        command = delivery.message
        self.received.append(command)
        if self.answer:
            reason = {"unlock": "unlocked", "lockdown": "lockdown", "normal": "normal"}
            result = CommandResult(command_id=command.id, ok=True, reason=reason[command.action])
            self.publish(self.topics.door_command_result(self.door_id), result)

    def __enter__(self) -> "FakeDoor":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@pytest.fixture
def fake_door(mosquitto, tmp_path):
    return lambda door_id, answer=True: FakeDoor(mosquitto.port, tmp_path, door_id, answer=answer)


def test_unlock_sends_an_expiring_command_and_prints_the_doors_answer(hub, fake_door):
    with fake_door("front") as door:
        out = hub.ok("unlock", "front", "--seconds", "4")
    assert out.strip() == "door front: unlocked"
    [command] = door.received
    assert (command.action, command.duration_s, command.issued_by) == ("unlock", 4.0, ACTOR)
    assert command.expires_at > utcnow()
    with hub.store() as store:
        entry = audit.entries(store, limit=1)[0]
    assert (entry.action, entry.target, entry.actor) == ("door.unlock", "front", ACTOR)


def test_lockdown_goes_to_every_door_and_a_silent_one_fails_the_command(
    hub, fake_door, monkeypatch
):
    monkeypatch.setattr("hub_server.commands.COMMAND_TTL_S", 2.0)
    with fake_door("front") as front, fake_door("back", answer=False) as back:
        result = hub("lockdown", "on")
    assert result.status == 1
    assert "door front: lockdown" in result.out
    assert "door back: no answer within 2 s (offline?)" in result.out
    assert [c.action for c in front.received] == ["lockdown"]
    assert [c.action for c in back.received] == ["lockdown"]
    with fake_door("front") as front:
        assert hub.ok("lockdown", "off", "--door", "front").strip() == "door front: normal"


def test_unlock_of_an_unknown_door_sends_nothing(hub, fake_door):
    with fake_door("front") as door:
        result = hub("unlock", "nowhere")
    assert (result.status, result.err.strip()) == (1, "hubtap: no door 'nowhere'")
    assert door.received == []


def test_unlock_without_a_broker_says_which_it_tried(hub, monkeypatch):
    monkeypatch.setattr("hub_server.cli_live.CONNECT_TIMEOUT_S", 1.0)
    hub.write_config(extra="[mqtt]\nport = 1\nreconnect_min_s = 0.1\nreconnect_max_s = 0.2\n")
    start = time.monotonic()
    result = hub("unlock", "front")
    assert result.status == 1
    assert "cannot reach the broker at 127.0.0.1:1" in result.err
    assert time.monotonic() - start < 10


def test_enrol_attaches_the_next_unknown_card_tapped_at_the_door(hub):
    config = HubConfig.model_validate({"site": {"id": "testsite"}})
    done = threading.Event()

    def server_sees_a_tap() -> None:  # what the running server's ingest does
        with hub.store() as store:
            deadline = time.monotonic() + 10
            while not store.query("SELECT 1 FROM enrolments WHERE status = 'waiting'"):
                assert time.monotonic() < deadline
                time.sleep(0.05)
            unknown = tap(None, utcnow(), granted=False, credential="cd" * 32, card_hint="beef")
            Ingest(store, presence.rules_from(config)).process([Inbound("door", "front", unknown)])
        done.set()

    thread = threading.Thread(target=server_sees_a_tap)
    thread.start()
    out = hub.ok("enrol", "m-asa", "--door", "front", "--timeout", "20", "--label", "blue fob")
    thread.join()
    assert done.is_set()
    assert "Tap Åsa's new card on door front's reader within 20 s" in out
    assert "card …beef enrolled to Åsa Berg (m-asa)" in out
    with hub.store() as store:
        [card] = cards.find(store, member_id="m-asa")
    assert (card.hint, card.label, card.hash) == ("beef", "blue fob", "cd" * 32)


def test_enrol_gives_up_after_its_timeout(hub):
    result = hub("enrol", "m-asa", "--door", "front", "--timeout", "0.3")
    assert result.status == 1
    assert "no new card was tapped at door front within 0 s" in result.err
    with hub.store() as store:
        assert enrolment.get(store, 1).status == "expired"


def test_tokens_are_shown_once_listed_without_their_value_and_revoked(hub):
    out = hub.ok("tokens", "add", "accounting")
    token = out.splitlines()[0]
    assert token.startswith("htk_")
    with hub.store() as store:
        assert tokens.verify(store, token) is not None
    listed = hub.ok("tokens", "list")
    assert "accounting" in listed
    assert token not in listed
    hub.ok("tokens", "revoke", "accounting")
    with hub.store() as store:
        assert tokens.verify(store, token) is None
    again = hub("tokens", "add", "accounting")
    assert again.status == 1
    assert "exists" in again.err
