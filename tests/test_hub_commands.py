"""Door commands and enrol mode, as services: recorded, audited, expiring."""

from datetime import timedelta

import pytest

from hub_server import audit, commands, enrolment
from hub_server.errors import Invalid, NotFound
from hub_server.store import Store
from hublink.messages import DoorCommand, Message, utcnow
from hublink.topics import Topics
from tests.helpers.hub_data import seed


class Bus:
    def __init__(self, connected: bool = True) -> None:
        self.topics = Topics("s")
        self.sent: list[tuple[str, Message]] = []
        self.connected = connected

    def publish(self, topic: str, message: Message) -> bool:
        self.sent.append((topic, message))
        return self.connected


@pytest.fixture
def store():
    with Store.memory() as store:
        yield seed(store)


def test_a_command_is_recorded_audited_and_sent_with_an_expiry(store):
    bus = Bus()
    command = commands.issue(store, bus, "front", "unlock", "cli:ops", duration_s=5)
    assert bus.sent == [("hubtap/s/door/front/command", command)]
    assert isinstance(command, DoorCommand)
    assert command.expires_at - command.ts == timedelta(seconds=commands.COMMAND_TTL_S)
    record = commands.get(store, command.id)
    assert (record.door_id, record.action, record.issued_by, record.answered) == (
        "front", "unlock", "cli:ops", False,
    )  # fmt: skip
    entry = audit.entries(store, limit=1)[0]
    assert (entry.actor, entry.action, entry.target) == ("cli:ops", "door.unlock", "front")


def test_a_command_to_an_unknown_door_is_not_sent(store):
    bus = Bus()
    with pytest.raises(NotFound, match="no door 'nope'"):
        commands.issue(store, bus, "nope", "unlock", "t")
    assert bus.sent == []


def test_an_unlock_longer_than_an_hour_is_refused(store):
    with pytest.raises(Invalid, match="duration_s"):
        commands.issue(store, Bus(), "front", "unlock", "t", duration_s=7200)


def test_a_command_that_cannot_go_out_says_so(store):
    with pytest.raises(commands.NotSent, match="not connected"):
        commands.issue(store, Bus(connected=False), "front", "lockdown", "t")


def test_waiting_for_an_answer_gives_up_after_the_timeout(store):
    command = commands.issue(store, Bus(), "front", "resync", "t")
    record = commands.wait(store, command.id, timeout=0.2, poll_s=0.05)
    assert not record.answered
    assert commands.recent(store, "front")[0].id == command.id


def test_enrolment_needs_a_known_member_and_door(store):
    with pytest.raises(NotFound, match="member"):
        enrolment.start(store, "m-nobody", "front", "t")
    with pytest.raises(NotFound, match="door"):
        enrolment.start(store, "m-asa", "nowhere", "t")
    with pytest.raises(Invalid, match="timeout"):
        enrolment.start(store, "m-asa", "front", "t", timeout_s=0)


def test_a_new_enrolment_at_a_door_cancels_the_one_waiting_there(store):
    first = enrolment.start(store, "m-asa", "front", "t")
    second = enrolment.start(store, "m-bjorn", "front", "t")
    assert enrolment.get(store, first.id).status == "cancelled"
    assert enrolment.get(store, second.id).status == "waiting"


def test_an_enrolment_nobody_tapped_for_expires(store):
    waiting = enrolment.start(store, "m-asa", "front", "t", timeout_s=0.2)
    done = enrolment.wait(store, waiting.id, poll_s=0.05)
    assert done.status == "expired"
    assert store.query_one("SELECT status FROM enrolments")[0] == "expired"
    with store.write() as db:
        assert enrolment.match(db, "front", "ab" * 32, "abcd", utcnow()) is None
