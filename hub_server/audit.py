"""The audit log: every admin action, who did it and when, in the same transaction."""

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlite_utils

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
