"""The kiosk's file: the last directory, occupancy and events, and its members' requests.

One SQLite file in the data folder, so that a kiosk started with the hub
out of reach greets members and shows the last counts at once, and a
request's answer finds the member it belongs to after a restart.
"""

import json
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from kiosk.errors import CacheError

SCHEMA = """
CREATE TABLE IF NOT EXISTS retained (
    name TEXT PRIMARY KEY,
    payload BLOB NOT NULL,
    received_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS requests (
    id TEXT PRIMARY KEY,
    action TEXT NOT NULL,
    member_id TEXT,
    values_json TEXT NOT NULL,
    created_at TEXT NOT NULL,
    answered_at TEXT,
    ok INTEGER,
    reason TEXT,
    answer_json TEXT,
    shown INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS requests_member ON requests (member_id, shown);
"""


@dataclass(frozen=True)
class StoredRequest:
    """A request this kiosk sent, and the hub's answer once it came."""

    id: str
    action: str
    member_id: str | None
    values: dict[str, Any]
    """What the screen needs to word the answer: names, titles, times."""
    created_at: datetime
    answered_at: datetime | None = None
    ok: bool | None = None
    reason: str | None = None
    answer: dict[str, Any] | None = None
    shown: bool = False

    @property
    def answered(self) -> bool:
        """True once the hub's answer is here."""
        return self.answered_at is not None


class Cache:
    """The kiosk's SQLite file; every method is safe from any thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA secure_delete=ON")  # a replaced directory is overwritten
            self._db.executescript(SCHEMA)
        except (sqlite3.Error, OSError) as err:
            raise CacheError(f"cannot open the kiosk cache {path}: {err}") from err
        self._lock = threading.Lock()
        self._closed = False

    def __enter__(self) -> "Cache":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the file; safe twice."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._db.close()

    def _run(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            if self._closed:
                raise CacheError("the kiosk cache is closed")
            try:
                return self._db.execute(sql, params).fetchall()
            except sqlite3.Error as err:
                raise CacheError(f"kiosk cache {self.path}: {err}") from err

    # --- retained messages -----------------------------------------------

    def save(self, name: str, payload: bytes, received_at: datetime) -> None:
        """Keep the latest ``payload`` of a retained topic under ``name``."""
        self._run(
            "INSERT INTO retained (name, payload, received_at) VALUES (?, ?, ?)"
            " ON CONFLICT (name) DO UPDATE SET payload = excluded.payload,"
            " received_at = excluded.received_at",
            (name, payload, received_at.isoformat()),
        )

    def load(self, name: str) -> tuple[bytes, datetime] | None:
        """The payload last saved under ``name`` and when it arrived, if any."""
        rows = self._run("SELECT payload, received_at FROM retained WHERE name = ?", (name,))
        if not rows:
            return None
        return bytes(rows[0][0]), datetime.fromisoformat(rows[0][1])

    # --- requests ----------------------------------------------------------

    def add_request(self, request: StoredRequest) -> None:
        """Record a request as it is sent."""
        self._run(
            "INSERT INTO requests (id, action, member_id, values_json, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (
                request.id,
                request.action,
                request.member_id,
                json.dumps(request.values),
                request.created_at.isoformat(),
            ),
        )

    def answer_request(
        self,
        request_id: str,
        ok: bool,
        reason: str,
        answer: dict[str, Any],
        answered_at: datetime,
        *,
        shown: bool,
    ) -> StoredRequest | None:
        """Record the hub's answer; the request, or None when it is not this kiosk's."""
        self._run(
            "UPDATE requests SET answered_at = ?, ok = ?, reason = ?, answer_json = ?, shown = ?"
            " WHERE id = ? AND answered_at IS NULL",
            (answered_at.isoformat(), int(ok), reason, json.dumps(answer), int(shown), request_id),
        )
        return self.request(request_id)

    def request(self, request_id: str) -> StoredRequest | None:
        """One request by id."""
        rows = self._run(f"SELECT {_COLUMNS} FROM requests WHERE id = ?", (request_id,))  # noqa: S608
        return _request(rows[0]) if rows else None

    def unshown_answers(self, member_id: str) -> list[StoredRequest]:
        """Answers that came for ``member_id`` while they were not at the kiosk, oldest first."""
        rows = self._run(
            f"SELECT {_COLUMNS} FROM requests WHERE member_id = ? AND shown = 0"  # noqa: S608
            " AND answered_at IS NOT NULL ORDER BY created_at",
            (member_id,),
        )
        return [_request(row) for row in rows]

    def mark_shown(self, request_ids: list[str]) -> None:
        """The member has seen these answers."""
        for request_id in request_ids:
            self._run("UPDATE requests SET shown = 1 WHERE id = ?", (request_id,))

    def waiting(self) -> int:
        """Requests sent and not answered yet."""
        return int(self._run("SELECT count(*) FROM requests WHERE answered_at IS NULL")[0][0])

    def forget_before(self, cutoff: datetime) -> int:
        """Delete requests created before ``cutoff``; how many went."""
        gone = self._run(
            "DELETE FROM requests WHERE created_at < ? RETURNING id", (cutoff.isoformat(),)
        )
        return len(gone)


_COLUMNS = (
    "id, action, member_id, values_json, created_at, answered_at, ok, reason, answer_json, shown"
)
"""Constant column names: the only text put into the queries."""


def _request(row: tuple[Any, ...]) -> StoredRequest:
    return StoredRequest(
        id=row[0],
        action=row[1],
        member_id=row[2],
        values=json.loads(row[3]),
        created_at=datetime.fromisoformat(row[4]),
        answered_at=datetime.fromisoformat(row[5]) if row[5] else None,
        ok=None if row[6] is None else bool(row[6]),
        reason=row[7],
        answer=json.loads(row[8]) if row[8] else None,
        shown=bool(row[9]),
    )
