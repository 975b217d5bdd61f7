"""Taking up a snapshot payload: in batches in-thread, or in a child process for big lists."""

import json

import pytest

from door.list_apply import apply_in_child, apply_payload
from door.replica import Replica, ReplicaError
from hublink.errors import MessageError
from hublink.messages import ACL_SNAPSHOT, AclEntry, AclPolicy, AclSnapshot

POLICY = AclPolicy(timezone="Europe/Oslo", tiers={"flex": None})


def payload(version: int, count: int, door_id: str = "front") -> bytes:
    entries = [
        AclEntry(credential=f"{i:064x}", member_id=f"m{i}", tier="flex") for i in range(count)
    ]
    return ACL_SNAPSHOT.encode(
        AclSnapshot(door_id=door_id, version=version, policy=POLICY, entries=entries)
    )


@pytest.fixture
def replica(tmp_path):
    with Replica(tmp_path / "acl.sqlite3", "front") as rep:
        yield rep


@pytest.mark.parametrize("apply", [apply_payload, apply_in_child], ids=["thread", "child"])
def test_a_payload_is_applied_whole(replica, apply):
    assert apply(replica, payload(3, 5000))
    assert (replica.version, len(replica)) == (3, 5000)
    assert replica.lookup(f"{4999:064x}").member_id == "m4999"
    assert replica.policy.tiers == {"flex": None}
    assert not apply(replica, payload(3, 10))  # same version: nothing to do


@pytest.mark.parametrize("apply", [apply_payload, apply_in_child], ids=["thread", "child"])
def test_one_bad_entry_refuses_the_whole_payload(replica, apply):
    apply(replica, payload(1, 10))
    raw = json.loads(payload(2, 5000))
    raw["entries"][4321]["member_id"] = "no spaces allowed"
    with pytest.raises(MessageError, match=r"field 'entries\.4321\.member_id'"):
        apply(replica, json.dumps(raw).encode())
    assert (replica.version, len(replica)) == (1, 10)


def test_the_child_refuses_a_list_for_another_door(replica):
    with pytest.raises(MessageError, match="door 'back' reached door 'front'"):
        apply_in_child(replica, payload(2, 3, door_id="back"))
    assert replica.version == 0


def test_a_child_that_cannot_do_its_work_is_a_replica_error(tmp_path):
    replica = Replica(tmp_path / "acl.sqlite3", "front")
    replica.path = tmp_path / "missing" / "dir" / "acl.sqlite3"  # as if the file went away
    (tmp_path / "missing").write_text("a file where a folder should be")
    with pytest.raises(ReplicaError, match="child process failed"):
        apply_in_child(replica, payload(2, 3))
    replica.close()
