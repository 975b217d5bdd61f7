"""The door's access-list replica: whole snapshots, ordered deltas, hashes only on disk."""

import sqlite3
import threading
from datetime import UTC, datetime, timedelta

import pytest

from door.decision import Grant
from door.replica import DeltaOutcome, Replica, ReplicaError
from hublink.credentials import credential_hash
from hublink.messages import AclDelta, AclEntry, AclGrant, AclPolicy, AclSnapshot, ScheduleSpec

KEY = bytes(range(32))
NOW = datetime(2026, 11, 25, 8, 30, tzinfo=UTC)
UIDS = [bytes([4, i, 0xA1, 0x5C]) for i in range(10)]
HASHES = [credential_hash(KEY, uid) for uid in UIDS]
POLICY = AclPolicy(
    timezone="Europe/Stockholm",
    schedules=(ScheduleSpec(id="office", weekly={"mon": ("08:00-18:00",)}),),
    tiers={"flex": "office", "resident": None},
)


def entry(i: int, **kw) -> AclEntry:
    return AclEntry(credential=HASHES[i], member_id=f"m{i}", **kw)


def snapshot(version: int, *entries: AclEntry, policy: AclPolicy = POLICY) -> AclSnapshot:
    return AclSnapshot(door_id="front", version=version, policy=policy, entries=entries)


def delta(start: int, end: int, upserts=(), removes=(), policy=None) -> AclDelta:
    return AclDelta(
        door_id="front",
        from_version=start,
        to_version=end,
        upserts=upserts,
        removes=removes,
        policy=policy,
    )


@pytest.fixture
def replica(tmp_path):
    with Replica(tmp_path / "acl.sqlite3", "front") as rep:
        yield rep


def test_a_snapshot_fills_the_list_with_every_field(replica):
    grant = AclGrant(start=NOW, end=NOW + timedelta(hours=2), reason="booking")
    guest = entry(
        1, role="guest", host_member_id="m0", valid_until=NOW + timedelta(hours=8), grants=(grant,)
    )
    assert replica.apply_snapshot(snapshot(3, entry(0, tier="flex", status="suspended"), guest))
    assert (replica.version, len(replica)) == (3, 2)
    first = replica.lookup(HASHES[0])
    assert (first.member_id, first.tier, first.active) == ("m0", "flex", False)
    second = replica.lookup(HASHES[1])
    assert second.role == "guest"
    assert second.host_member_id == "m0"
    assert second.valid_until == NOW + timedelta(hours=8)
    assert second.grants == (Grant(NOW, NOW + timedelta(hours=2), "booking"),)
    assert replica.lookup(HASHES[2]) is None
    assert replica.policy.tiers == {"flex": "office", "resident": None}
    assert replica.policy.schedules["office"].check(NOW.replace(day=23)) is None  # a Monday


def test_a_snapshot_replaces_the_whole_list_and_the_same_version_is_ignored(replica):
    replica.apply_snapshot(snapshot(3, entry(0), entry(1)))
    assert replica.apply_snapshot(snapshot(4, entry(2)))
    assert [replica.lookup(h) is not None for h in HASHES[:3]] == [False, False, True]
    assert not replica.apply_snapshot(snapshot(4, entry(5)))
    assert replica.lookup(HASHES[5]) is None


def test_a_lower_snapshot_version_is_applied_since_the_hub_is_the_truth(replica):
    replica.apply_snapshot(snapshot(9, entry(0)))
    assert replica.apply_snapshot(snapshot(2, entry(1)))  # the hub's store was restored
    assert replica.version == 2
    assert replica.lookup(HASHES[0]) is None


def test_deltas_apply_in_order_and_a_gap_asks_for_the_snapshot(replica):
    assert replica.apply_delta(delta(0, 1, upserts=(entry(0),))) is DeltaOutcome.OUT_OF_SYNC
    replica.apply_snapshot(snapshot(5, entry(0), entry(1)))
    outcome = replica.apply_delta(
        delta(5, 6, upserts=(entry(2), entry(0, tier="flex")), removes=(HASHES[1],))
    )
    assert outcome is DeltaOutcome.APPLIED
    assert replica.version == 6
    assert len(replica) == 2
    assert replica.lookup(HASHES[0]).tier == "flex"
    assert replica.lookup(HASHES[1]) is None
    assert replica.apply_delta(delta(5, 6, removes=(HASHES[0],))) is DeltaOutcome.ALREADY_HAVE
    assert replica.lookup(HASHES[0]) is not None
    assert replica.apply_delta(delta(7, 8, removes=(HASHES[0],))) is DeltaOutcome.OUT_OF_SYNC
    assert replica.version == 6
    assert replica.lookup(HASHES[0]) is not None


def test_a_delta_can_replace_the_policy(replica):
    replica.apply_snapshot(snapshot(1, entry(0)))
    replica.apply_delta(delta(1, 2, policy=AclPolicy(tiers={"day": None})))
    assert replica.policy.tiers == {"day": None}
    replica.apply_delta(delta(2, 3, upserts=(entry(1),)))
    assert replica.policy.tiers == {"day": None}  # no policy in a delta: unchanged


def test_the_list_survives_a_restart(tmp_path):
    path = tmp_path / "acl.sqlite3"
    with Replica(path, "front") as replica:
        replica.apply_snapshot(snapshot(7, entry(0), entry(1)))
    with Replica(path, "front") as again:
        assert (again.version, len(again)) == (7, 2)
        assert again.lookup(HASHES[1]).member_id == "m1"
        assert again.policy.tiers == POLICY.tiers


def test_a_list_for_another_door_is_refused(replica):
    with pytest.raises(ReplicaError, match="door 'back' reached door 'front'"):
        replica.apply_snapshot(AclSnapshot(door_id="back", version=1))
    with pytest.raises(ReplicaError, match="door 'back'"):
        replica.apply_delta(AclDelta(door_id="back", from_version=0, to_version=1))
    assert replica.version == 0


def test_a_failed_apply_leaves_the_previous_list_whole(replica, mocker):
    replica.apply_snapshot(snapshot(1, *(entry(i) for i in range(5))))
    broken = AclEntry.model_construct(credential=HASHES[9], member_id=None)  # NOT NULL fails
    with pytest.raises(ReplicaError, match="cannot change the access list"):
        replica.apply_snapshot(snapshot(2, entry(6), broken))
    assert (replica.version, len(replica)) == (1, 5)
    assert all(replica.lookup(h) for h in HASHES[:5])
    assert replica.lookup(HASHES[6]) is None


def test_taps_see_the_old_list_or_the_new_one_never_a_mix(replica):
    replica.apply_snapshot(snapshot(1, entry(0)))
    filler = [AclEntry(credential=f"{i:064x}", member_id=f"x{i}") for i in range(60_000)]
    last = filler[-1].credential
    applying = threading.Thread(
        target=replica.apply_snapshot, args=(snapshot(2, entry(1), *filler),)
    )
    seen: list[tuple[bool, bool, bool]] = []
    applying.start()
    while applying.is_alive():
        # read in this order, each lookup shows the new list only if the ones before did
        # (the commit may fall between them); a half-applied list would break that
        newness = (
            replica.lookup(HASHES[0]) is None,
            replica.lookup(HASHES[1]) is not None,
            replica.lookup(last) is not None,
        )
        seen.append(newness)
    applying.join()
    assert all(list(n) == sorted(n) for n in seen), set(seen)
    assert seen[0] == (False, False, False)  # taps went on being decided on the old list
    assert replica.lookup(HASHES[0]) is None
    assert replica.lookup(last) is not None


def test_only_hashes_reach_the_disk(tmp_path):
    path = tmp_path / "acl.sqlite3"
    with Replica(path, "front") as replica:
        replica.apply_snapshot(snapshot(1, *(entry(i) for i in range(10))))
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    for uid in UIDS:
        assert uid not in raw
        assert uid.hex().encode() not in raw
    assert HASHES[3].encode() in raw


def test_an_unreadable_file_is_a_clear_error(tmp_path):
    path = tmp_path / "acl.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(ReplicaError, match="cannot open the access list"):
        Replica(path, "front")


def test_the_file_is_in_wal_mode(tmp_path):
    path = tmp_path / "acl.sqlite3"
    Replica(path, "front").close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
