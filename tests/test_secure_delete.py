"""Deleted personal data leaves no trace in the files: every SQLite store overwrites it.

Without ``PRAGMA secure_delete`` SQLite only marks a deleted row's space free, and the
bytes (a name, a card hash) stay readable in the file until something reuses them.
"""

from datetime import UTC, datetime
from pathlib import Path

from door.replica import Replica
from hub_server.store import Store
from hublink.credentials import credential_hash
from hublink.messages import AclDelta, AclEntry, AclPolicy, AclSnapshot
from kiosk.cache import Cache

NOW = datetime(2026, 11, 25, 8, 30, tzinfo=UTC)
SECRET = "Ingeborg-Kvist-7c1e"
CARD = credential_hash(bytes(range(32)), b"\x04\x11\x22\x33")


def on_disk(folder: Path) -> bytes:
    """Every byte of every database file in ``folder`` (WAL files included)."""
    return b"".join(path.read_bytes() for path in sorted(folder.iterdir()) if path.is_file())


def test_the_hub_store_overwrites_a_deleted_member(tmp_path: Path):
    with Store.in_folder(tmp_path) as store:
        with store.write() as db:
            db.execute(
                "INSERT INTO members (id, first_name, last_name, created_at, updated_at)"
                " VALUES ('m1', ?, 'x', '2026', '2026')",
                (SECRET,),
            )
        assert SECRET.encode() in on_disk(tmp_path)
        with store.write() as db:
            db.execute("DELETE FROM members WHERE id = 'm1'")
    assert SECRET.encode() not in on_disk(tmp_path)


def test_a_door_overwrites_a_removed_card(tmp_path: Path):
    policy = AclPolicy(timezone="UTC")
    with Replica(tmp_path / "acl.sqlite3", "front") as replica:
        entry = AclEntry(credential=CARD, member_id="m1")
        replica.apply_snapshot(AclSnapshot(door_id="front", version=1, policy=policy,
                                           entries=(entry,)))  # fmt: skip
        assert CARD.encode() in on_disk(tmp_path)
        replica.apply_delta(AclDelta(door_id="front", from_version=1, to_version=2,
                                     removes=(CARD,)))  # fmt: skip
    assert CARD.encode() not in on_disk(tmp_path)


def test_a_kiosk_overwrites_a_replaced_directory(tmp_path: Path):
    with Cache(tmp_path / "kiosk.sqlite3") as cache:
        names = ", ".join(f'{{"first_name": "{SECRET}-{i}"}}' for i in range(200))
        cache.save("directory", f'{{"entries": [{names}]}}'.encode(), NOW)
        assert SECRET.encode() in on_disk(tmp_path)
        cache.save("directory", b'{"entries": []}', NOW)
    assert SECRET.encode() not in on_disk(tmp_path)
