"""Named values the hub keeps between runs (table ``marks``): how far the stays are
folded into hourly counts, when the site last opened or closed."""

import sqlite3

import sqlite_utils

Connection = sqlite3.Connection | sqlite_utils.Database


def get(conn: Connection, name: str) -> str | None:
    """The value kept under ``name``; ``None`` when there is none."""
    row = conn.execute("SELECT value FROM marks WHERE name = ?", (name,)).fetchone()
    return None if row is None else str(row[0])


def put(db: Connection, name: str, value: str) -> None:
    """Keep ``value`` under ``name``, replacing what was there; inside the caller's write."""
    db.execute(
        "INSERT INTO marks (name, value) VALUES (?, ?)"
        " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        (name, value),
    )
