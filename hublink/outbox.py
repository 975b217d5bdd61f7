"""A durable FIFO of QoS 1 messages, in SQLite, that outlives crashes and outages.

:meth:`Outbox.put` returns only after the message is committed; the link
removes it once the broker has acknowledged it. Sequence numbers only grow
(``AUTOINCREMENT``), so delivery order is the order messages were accepted.
"""

import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from hublink.errors import OutboxError, OutboxFull

DEFAULT_MAX_MESSAGES = 1_000_000
"""About 300 MB of door events: weeks of a busy door without a broker."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    retain INTEGER NOT NULL DEFAULT 0,
    queued_at REAL NOT NULL
)
"""


@dataclass(frozen=True)
class OutboxItem:
    """A message waiting for the broker's acknowledgement."""

    seq: int
    topic: str
    payload: bytes
    retain: bool


class Outbox:
    """The durable queue; safe to use from several threads."""

    def __init__(
        self,
        path: str | Path,
        synchronous: Literal["normal", "full"] = "full",
        max_messages: int = DEFAULT_MAX_MESSAGES,
    ) -> None:
        self.path = Path(path)
        self.max_messages = max_messages
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db: sqlite3.Connection | None = sqlite3.connect(
                self.path, check_same_thread=False, isolation_level=None
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA synchronous={synchronous.upper()}")
            self._db.execute("PRAGMA secure_delete=ON")  # sent events are overwritten, not freed
            self._db.execute(_SCHEMA)
            (self._count,) = self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()
        except (OSError, sqlite3.Error) as err:
            raise OutboxError(f"cannot open outbox {self.path}: {err}") from err

    def __enter__(self) -> "Outbox":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise OutboxError(f"outbox {self.path} is closed")
        return self._db

    def put(self, topic: str, payload: bytes, *, retain: bool = False) -> int:
        """Store a message durably and return its sequence number.

        Raises :class:`OutboxFull` rather than fill the device's disk.
        """
        with self._lock:
            if self._count >= self.max_messages:
                raise OutboxFull(
                    f"outbox {self.path} is full ({self._count} messages waiting for the "
                    "broker); the new message was not stored"
                )
            try:
                cursor = self._conn().execute(
                    "INSERT INTO outbox (topic, payload, retain, queued_at) VALUES (?, ?, ?, ?)",
                    (topic, payload, int(retain), time.time()),
                )
            except sqlite3.Error as err:
                raise OutboxError(f"cannot write to outbox {self.path}: {err}") from err
            self._count += 1
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def peek(self, after: int = 0, limit: int = 500) -> list[OutboxItem]:
        """The oldest waiting messages with a sequence number above ``after``."""
        with self._lock:
            rows = (
                self._conn()
                .execute(
                    "SELECT seq, topic, payload, retain FROM outbox WHERE seq > ? "
                    "ORDER BY seq LIMIT ?",
                    (after, limit),
                )
                .fetchall()
            )
        return [
            OutboxItem(seq, topic, bytes(payload), bool(retain))
            for seq, topic, payload, retain in rows
        ]

    def remove_through(self, seq: int) -> None:
        """Forget every message up to and including ``seq`` (the broker has them)."""
        with self._lock:
            deleted = self._conn().execute("DELETE FROM outbox WHERE seq <= ?", (seq,)).rowcount
            self._count -= deleted

    def __len__(self) -> int:
        with self._lock:
            self._conn()
            return int(self._count)

    def close(self) -> None:
        """Close the database; safe to call twice."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
