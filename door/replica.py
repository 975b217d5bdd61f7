"""The door's copy of its access list, in SQLite (WAL), applied whole or not at all.

The hub publishes a versioned snapshot (retained) and deltas. A snapshot
replaces the list in one transaction; a delta applies in one transaction
when its ``from_version`` is the replica's version. Taps look cards up on
their own connection, so a long apply never blocks a decision: they see
the previous version until the new one commits. Only keyed hashes are
stored, never a card's UID.
"""

import enum
import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from door.decision import Credential, Grant
from door.errors import DoorError
from door.policy import DoorPolicy
from hublink.messages import AclDelta, AclEntry, AclPolicy, AclSnapshot

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entries (
    credential TEXT PRIMARY KEY,
    member_id TEXT NOT NULL,
    role TEXT NOT NULL,
    active INTEGER NOT NULL,
    tier TEXT,
    valid_from REAL,
    valid_until REAL,
    grants TEXT,
    host_member_id TEXT
) WITHOUT ROWID;
"""

_INSERT = "INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
_LOOKUP = (
    "SELECT member_id, role, active, tier, valid_from, valid_until, grants, host_member_id "
    "FROM entries WHERE credential = ?"
)
_BATCH = 5000


class ReplicaError(DoorError):
    """The access list could not be read or changed; the previous list stays."""


class WrongDoor(ReplicaError):
    """A list for another door reached this one (bad input, not a fault here)."""


class DeltaOutcome(enum.Enum):
    """What a delta did."""

    APPLIED = "applied"
    ALREADY_HAVE = "already_have"  # its changes are in the list already
    OUT_OF_SYNC = "out_of_sync"  # a delta was missed: fetch the snapshot


class Replica:
    """The access list of one door; lookups and applies are safe from any thread."""

    def __init__(self, path: str | Path, door_id: str) -> None:
        self.path = Path(path)
        self.door_id = door_id
        self._write_lock = threading.Lock()
        self._read_lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = self._connect()
            self._writer.executescript(_SCHEMA)
            self._reader = self._connect()
        except (OSError, sqlite3.Error) as err:
            raise ReplicaError(f"cannot open the access list {self.path}: {err}") from err
        self.reload()

    def reload(self) -> None:
        """Take up what another process wrote to the file (see ``door.list_apply``)."""
        version = int(self._meta("version", 0))
        try:
            message = AclPolicy.model_validate(self._meta("policy") or {})
            policy = DoorPolicy.from_message(message)
        except (ValueError, DoorError) as err:  # e.g. a time zone this system lacks
            raise ReplicaError(f"the saved policy in {self.path} is unusable: {err}") from err
        with self._read_lock:
            (count,) = self._reader.execute("SELECT COUNT(*) FROM entries").fetchone()
        self._adopt(version, message, policy, count)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")  # a power cut may lose the last apply: it resyncs
        db.execute("PRAGMA secure_delete=ON")  # a removed card's hash is overwritten, not freed
        return db

    # --- reading -------------------------------------------------------------

    @property
    def version(self) -> int:
        """The list's version; 0 before the first snapshot."""
        return self._version

    @property
    def policy(self) -> DoorPolicy:
        """The door's rules besides its cards."""
        return self._policy

    def __len__(self) -> int:
        return self._count

    def lookup(self, credential: str) -> Credential | None:
        """The card with this keyed hash, or None when it is not in the list."""
        with self._read_lock:
            row = self._reader.execute(_LOOKUP, (credential,)).fetchone()
        if row is None:
            return None
        member_id, role, active, tier, valid_from, valid_until, grants, host = row
        return Credential(
            member_id=member_id,
            role=role,
            active=bool(active),
            valid_from=_time(valid_from),
            valid_until=_time(valid_until),
            tier=tier,
            grants=_grants(grants),
            host_member_id=host,
        )

    def _meta(self, key: str, default: Any = None) -> Any:
        with self._read_lock:
            row = self._reader.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row[0])

    # --- writing -------------------------------------------------------------

    def apply_snapshot(
        self, snapshot: AclSnapshot, entries: Iterable[AclEntry] | None = None
    ) -> bool:
        """Replace the list with ``snapshot``; False if it is at the list's version already.

        ``entries``, when given, stand for ``snapshot.entries`` (a large list
        validated in batches as it is inserted); an error raised while
        iterating them rolls the whole apply back.
        """
        self._check_door(snapshot.door_id)
        if snapshot.version == self._version and self._version > 0:
            return False
        policy = DoorPolicy.from_message(snapshot.policy)
        with self._transaction() as db:
            db.execute("DELETE FROM entries")
            _insert(db, snapshot.entries if entries is None else entries)
            _put(db, "version", snapshot.version)
            _put(db, "policy", snapshot.policy.model_dump(mode="json"))
            (count,) = db.execute("SELECT COUNT(*) FROM entries").fetchone()
        self._adopt(snapshot.version, snapshot.policy, policy, count)
        return True

    def apply_delta(self, delta: AclDelta) -> DeltaOutcome:
        """Apply ``delta`` if it follows the list's version."""
        self._check_door(delta.door_id)
        if delta.to_version <= self._version:
            return DeltaOutcome.ALREADY_HAVE
        if delta.from_version != self._version or self._version == 0:
            return DeltaOutcome.OUT_OF_SYNC
        policy_message = delta.policy or self._policy_message
        policy = DoorPolicy.from_message(policy_message) if delta.policy else self._policy
        with self._transaction() as db:
            db.executemany(
                "DELETE FROM entries WHERE credential = ?", ((c,) for c in delta.removes)
            )
            _insert(db, delta.upserts)
            _put(db, "version", delta.to_version)
            if delta.policy is not None:
                _put(db, "policy", delta.policy.model_dump(mode="json"))
            (count,) = db.execute("SELECT COUNT(*) FROM entries").fetchone()
        self._adopt(delta.to_version, policy_message, policy, count)
        return DeltaOutcome.APPLIED

    def close(self) -> None:
        """Close the database; safe to call twice."""
        with self._write_lock, self._read_lock:
            for db in (self._writer, self._reader):
                db.close()

    def __enter__(self) -> "Replica":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- internals -------------------------------------------------------------

    def _check_door(self, door_id: str) -> None:
        if door_id != self.door_id:
            raise WrongDoor(f"an access list for door {door_id!r} reached door {self.door_id!r}")

    def _adopt(self, version: int, message: AclPolicy, policy: DoorPolicy, count: int) -> None:
        self._version, self._policy_message, self._policy, self._count = (
            version,
            message,
            policy,
            count,
        )

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._write_lock:
            db = self._writer
            try:
                db.execute("BEGIN IMMEDIATE")
                yield db
                db.execute("COMMIT")
            except sqlite3.Error as err:
                _rollback(db)
                raise ReplicaError(f"cannot change the access list {self.path}: {err}") from err
            except BaseException:
                _rollback(db)
                raise


def _rollback(db: sqlite3.Connection) -> None:
    if db.in_transaction:
        db.execute("ROLLBACK")


def _put(db: sqlite3.Connection, key: str, value: Any) -> None:
    db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value)))


def _insert(db: sqlite3.Connection, entries: Iterable[AclEntry]) -> None:
    batch: list[tuple[Any, ...]] = []
    for entry in entries:
        batch.append(_row(entry))
        if len(batch) >= _BATCH:
            db.executemany(_INSERT, batch)
            batch.clear()
    if batch:
        db.executemany(_INSERT, batch)


def _row(entry: AclEntry) -> tuple[Any, ...]:
    grants = (
        json.dumps([[g.start.timestamp(), g.end.timestamp(), g.reason] for g in entry.grants])
        if entry.grants
        else None
    )
    return (
        entry.credential,
        entry.member_id,
        entry.role,
        int(entry.status == "active"),
        entry.tier,
        entry.valid_from.timestamp() if entry.valid_from else None,
        entry.valid_until.timestamp() if entry.valid_until else None,
        grants,
        entry.host_member_id,
    )


def _time(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


def _grants(text: str | None) -> tuple[Grant, ...]:
    if not text:
        return ()
    return tuple(
        Grant(datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC), reason)
        for start, end, reason in json.loads(text)
    )
