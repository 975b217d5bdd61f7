"""The audit log: every admin action, who did it and when, in the same transaction."""

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlite_utils

from hub_server.errors import Invalid
from hub_server.store import Store, now_text, parse_time

SYSTEM = "hub"
"""The actor for what the hub does by itself (automatic check-out, enrolment by tap)."""


def record(
    db: sqlite_utils.Database, actor: str, action: str, target: str = "", **detail: Any
) -> None:
    """Log ``action`` on ``target`` by ``actor``; call inside the write it describes."""
    db.execute(
        "INSERT INTO audit_log (ts, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)",
        (now_text(), actor, action, target, json.dumps(detail, default=str, ensure_ascii=False)),
    )


@dataclass(frozen=True)
class AuditEntry:
    """One line of the audit log."""

    id: int
    ts: datetime
    actor: str
    action: str
    target: str
    detail: dict[str, Any]


def entries(store: Store, *, limit: int = 100, before_id: int | None = None) -> list[AuditEntry]:
    """The newest entries first; ``before_id`` pages back."""
    rows = store.query(
        "SELECT * FROM audit_log WHERE id < ? ORDER BY id DESC LIMIT ?",
        (before_id if before_id is not None else 2**62, limit),
    )
    return [
        AuditEntry(
            row["id"],
            parse_time(row["ts"]) or datetime.min,
            row["actor"],
            row["action"],
            row["target"],
            json.loads(row["detail"]),
        )
        for row in rows
    ]


MAX_PAGE = 500
"""The most entries :func:`find` returns at once."""


@dataclass(frozen=True)
class AuditPage:
    """Entries newest first; ``before`` pages back to older ones (``None``: no more)."""

    entries: list[AuditEntry]
    before: int | None


def find(
    store: Store,
    *,
    actor: str | None = None,
    action: str | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> AuditPage:
    """A page of entries, newest first, by id.

    ``actor`` keeps entries whose actor contains that text (ignoring ASCII
    case: ``web:`` finds everything done on the dashboard); ``action`` keeps
    actions that start with it (``member.`` finds every member action, and
    ``_`` or ``%`` are plain characters). ``before_id`` continues below the
    page whose :attr:`AuditPage.before` it is.
    """
    if not 1 <= limit <= MAX_PAGE:
        raise Invalid("limit", f"must be between 1 and {MAX_PAGE}")
    actor = actor or None
    action = action or None
    rows = store.query(
        "SELECT * FROM audit_log WHERE id < ?"
        " AND (? IS NULL OR instr(lower(actor), lower(?)) > 0)"
        " AND (? IS NULL OR substr(action, 1, length(?)) = ?)"
        " ORDER BY id DESC LIMIT ?",
        (
            before_id if before_id is not None else 2**62,
            actor,
            actor,
            action,
            action,
            action,
            limit + 1,
        ),
    )
    found = [_entry(row) for row in rows[:limit]]
    return AuditPage(found, found[-1].id if len(rows) > limit else None)


def detail_pairs(detail: dict[str, Any]) -> list[tuple[str, str]]:
    """An entry's detail as ``(key, value)`` text pairs to show, leaving out empty values."""
    pairs = []
    for key, value in detail.items():
        if value is None or value in ("", [], {}):
            continue
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        pairs.append((key, text))
    return pairs


def _entry(row: sqlite3.Row) -> AuditEntry:
    return AuditEntry(
        row["id"],
        parse_time(row["ts"]) or datetime.min,
        row["actor"],
        row["action"],
        row["target"],
        json.loads(row["detail"]),
    )
