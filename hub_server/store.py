"""The hub's SQLite store: WAL, recorded migrations, one writer, a reader per thread.

Every write in a process goes through :meth:`Store.write`: one transaction
at a time on the one writer connection (``BEGIN IMMEDIATE``, so a second
process, such as a ``hubtap`` command beside the running server, waits for
SQLite's write lock instead of failing half-way). Reads use a connection
per thread and see the last committed state.

Tests use :meth:`Store.memory`: a shared in-memory database with the same
schema and the same code paths.
"""

import logging
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from hub_server.errors import StoreError
from hub_server.schema import MIGRATIONS

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 10_000
DB_NAME = "hub.sqlite3"


def now_text(when: datetime | None = None) -> str:
    """A UTC timestamp as the store keeps it: ISO 8601, microseconds, ``Z``-free ``+00:00``."""
    return (when or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="microseconds")


def parse_time(text: str | None) -> datetime | None:
    """The inverse of :func:`now_text`; ``None`` stays ``None``."""
    return None if text is None else datetime.fromisoformat(text)


class Store:
    """The hub's database."""

    def __init__(self, uri: str, *, label: str) -> None:
        self.uri = uri
        self.label = label
        self._write_lock = threading.RLock()
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._closed = False
        self._writer = self._connect()
        self._writer_db = sqlite_utils.Database(self._writer)
        self._keepalive: sqlite3.Connection | None = None
        self._after_commit: list[Callable[[], None]] = []

    # --- opening -------------------------------------------------------------

    @classmethod
    def open(cls, path: Path) -> "Store":
        """Open (creating if need be) and migrate the database file at ``path``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        store = cls(f"file:{path}", label=str(path))
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                store._writer.execute("PRAGMA journal_mode = WAL")
                store._writer.execute("PRAGMA synchronous = NORMAL")
                store.migrate()
            except sqlite3.OperationalError as err:
                # two processes creating the file at once: switching it to WAL
                # does not wait for the other's lock, so wait here
                if "locked" in str(err) and time.monotonic() < deadline:
                    time.sleep(0.05)
                    continue
                store.close()
                raise StoreError(f"cannot open the hub database {path}: {err}") from err
            except sqlite3.DatabaseError as err:
                store.close()
                raise StoreError(f"cannot open the hub database {path}: {err}") from err
            return store

    @classmethod
    def in_folder(cls, data_dir: Path) -> "Store":
        """The database of a hub whose files live in ``data_dir``."""
        return cls.open(data_dir / DB_NAME)

    @classmethod
    def memory(cls) -> "Store":
        """A private in-memory database, migrated; for tests and benchmarks."""
        name = f"hubtap-{uuid.uuid4().hex}"
        store = cls(f"file:{name}?mode=memory&cache=shared", label=":memory:")
        store._keepalive = store._writer  # the database lives while a connection does
        store.migrate()
        return store

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.uri, uri=True, isolation_level=None, check_same_thread=False, timeout=0
        )
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA secure_delete = ON")  # erased and expired records leave no trace
        conn.row_factory = sqlite3.Row
        return conn

    def close(self) -> None:
        """Close every connection; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        with self._readers_lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()
        with self._write_lock:
            self._writer.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- migrations ----------------------------------------------------------

    def migrate(self) -> list[int]:
        """Apply the migrations this database lacks, each in its own transaction."""
        with self._write_lock:
            self._writer.execute(
                "CREATE TABLE IF NOT EXISTS migrations "
                "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            done = {row[0] for row in self._writer.execute("SELECT version FROM migrations")}
            newest = max(done, default=0)
            known = len(MIGRATIONS)
            if newest > known:
                raise StoreError(
                    f"{self.label} was written by a newer hubtap (schema {newest}; "
                    f"this one knows {known}): upgrade hubtap"
                )
            applied = []
            for version, (name, sql) in enumerate(MIGRATIONS, start=1):
                if version in done:
                    continue
                with self.write() as db:
                    if db.execute(  # another process may have applied it meanwhile
                        "SELECT 1 FROM migrations WHERE version = ?", (version,)
                    ).fetchone():
                        continue
                    for statement in _statements(sql):
                        db.execute(statement)
                    db.execute(
                        "INSERT INTO migrations (version, name, applied_at) VALUES (?, ?, ?)",
                        (version, name, now_text()),
                    )
                log.info("database %s: applied migration %d (%s)", self.label, version, name)
                applied.append(version)
            return applied

    def schema_version(self) -> int:
        """The newest migration applied."""
        row = self.read().execute("SELECT max(version) FROM migrations").fetchone()
        return int(row[0] or 0)

    # --- reading and writing -------------------------------------------------

    @contextmanager
    def write(self) -> Iterator[sqlite_utils.Database]:
        """One write transaction on the writer connection; commits, or rolls back on error."""
        with self._write_lock:
            if self._closed:
                raise StoreError("the hub database is closed")
            conn = self._writer
            if conn.in_transaction:  # nested: part of the caller's transaction
                yield self._writer_db
                return
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as err:
                raise StoreError(f"cannot write to {self.label}: {err}") from err
            try:
                yield self._writer_db
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            else:
                conn.execute("COMMIT")
        for callback in self._after_commit:
            try:
                callback()
            except Exception:
                log.exception("after-commit callback failed")

    def on_commit(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` after every write this process commits (the list publisher's wake)."""
        self._after_commit.append(callback)

    def read(self) -> sqlite3.Connection:
        """This thread's reading connection (autocommit: each query sees the latest commit)."""
        if self._closed:
            raise StoreError("the hub database is closed")
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            conn.execute("PRAGMA query_only = ON")
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        return conn

    def query(self, sql: str, params: Any = ()) -> list[sqlite3.Row]:
        """Rows of one read query."""
        return self.read().execute(sql, params).fetchall()

    def query_one(self, sql: str, params: Any = ()) -> sqlite3.Row | None:
        """The first row of one read query, or ``None``."""
        row: sqlite3.Row | None = self.read().execute(sql, params).fetchone()
        return row

    def counter(self, name: str) -> int:
        """A change counter the schema's triggers keep (see ``schema.py``)."""
        row = self.query_one("SELECT value FROM counters WHERE name = ?", (name,))
        return 0 if row is None else int(row[0])


def _statements(sql: str) -> Iterator[str]:
    """Split a migration into statements (triggers keep their inner ``;``)."""
    buffer = ""
    for line in sql.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                yield buffer.strip()
            buffer = ""
    if buffer.strip():
        raise StoreError(f"incomplete SQL statement in a migration: {buffer.strip()[:80]}")
