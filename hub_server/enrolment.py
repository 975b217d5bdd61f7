"""Enrol mode: the next unknown card tapped at a chosen door is attached to a member.

An operator starts an enrolment (CLI, API or dashboard); the hub server's
ingest, seeing an ``unknown_credential`` tap at that door before the
enrolment expires, attaches the tapped card's hash to the member. Any
process can start one and wait for it, because it lives in the store.
"""

import sqlite3
import time
from datetime import datetime, timedelta
from typing import Literal

import sqlite_utils
from pydantic import BaseModel, ConfigDict

from hub_server import audit, cards
from hub_server.errors import Conflict, Invalid, NotFound
from hub_server.store import Store, now_text, parse_time
from hublink.messages import utcnow

MAX_WAIT_S = 600
Status = Literal["waiting", "done", "expired", "cancelled"]


class Enrolment(BaseModel):
    """One enrolment and how it ended; ``hint`` is the new card's last 4 hex digits."""

    model_config = ConfigDict(frozen=True)

    id: int
    member_id: str
    door_id: str
    status: Status
    expires_at: datetime
    credential_id: int | None
    hint: str | None


def start(
    store: Store,
    member_id: str,
    door_id: str,
    actor: str,
    *,
    timeout_s: float = 120,
    kind: str = "card",
    label: str = "",
) -> Enrolment:
    """Wait for a card at ``door_id`` for ``member_id``; replaces a waiting one there."""
    if not 0 < timeout_s <= MAX_WAIT_S:
        raise Invalid("timeout", f"must be between 0 and {MAX_WAIT_S} seconds")
    now = utcnow()
    with store.write() as db:
        if db.execute("SELECT 1 FROM members WHERE id = ?", (member_id,)).fetchone() is None:
            raise NotFound(f"no member {member_id!r}")
        if db.execute("SELECT 1 FROM doors WHERE id = ?", (door_id,)).fetchone() is None:
            raise NotFound(f"no door {door_id!r}")
        db.execute(
            "UPDATE enrolments SET status = 'cancelled' WHERE door_id = ? AND status = 'waiting'",
            (door_id,),
        )
        cursor = db.execute(
            "INSERT INTO enrolments (member_id, door_id, kind, label, requested_by, requested_at,"
            " expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                member_id, door_id, kind, label, actor, now_text(now),
                now_text(now + timedelta(seconds=timeout_s)),
            ),
        )  # fmt: skip
        audit.record(db, actor, "enrol.start", member_id, door=door_id, timeout_s=timeout_s)
    return get(store, int(cursor.lastrowid or 0))


def match(
    db: sqlite_utils.Database, door_id: str, credential: str, hint: str | None, at: datetime
) -> Enrolment | None:
    """Attach an unknown card tapped at ``door_id`` to the enrolment waiting there, if any."""
    row = db.execute(
        "SELECT * FROM enrolments WHERE door_id = ? AND status = 'waiting'"
        " AND requested_at <= ? AND expires_at > ? ORDER BY id DESC LIMIT 1",
        (door_id, now_text(at), now_text(at)),
    ).fetchone()
    if row is None:
        return None
    shown = hint or credential[-4:]
    try:
        with db.atomic():
            card_id = cards.attach(
                db, row["member_id"], credential, shown, kind=row["kind"], label=row["label"]
            )
    except (Conflict, NotFound):
        return None  # the card belongs to someone already: keep waiting for another tap
    db.execute(
        "UPDATE enrolments SET status = 'done', credential_id = ? WHERE id = ?",
        (card_id, row["id"]),
    )
    audit.record(
        db, row["requested_by"], "card.enrol", row["member_id"], card=card_id, hint=shown,
        door=door_id,
    )  # fmt: skip
    return _enrolment(row, status="done", credential_id=card_id, hint=shown)


def get(store: Store, enrolment_id: int) -> Enrolment:
    """One enrolment, its status brought up to date."""
    row = store.query_one(
        "SELECT e.*, c.hint FROM enrolments e LEFT JOIN credentials c ON c.id = e.credential_id"
        " WHERE e.id = ?",
        (enrolment_id,),
    )
    if row is None:
        raise NotFound(f"no enrolment {enrolment_id}")
    enrolment = _enrolment(row)
    if enrolment.status == "waiting" and enrolment.expires_at <= utcnow():
        return _enrolment(row, status="expired")
    return enrolment


def wait(store: Store, enrolment_id: int, poll_s: float = 0.2) -> Enrolment:
    """Block until the enrolment is done, expired or cancelled."""
    while True:
        enrolment = get(store, enrolment_id)
        if enrolment.status != "waiting":
            if enrolment.status == "expired":
                expire(store)
            return enrolment
        time.sleep(poll_s)


def expire(store: Store) -> int:
    """Mark waiting enrolments past their time as expired; returns how many."""
    with store.write() as db:
        cursor = db.execute(
            "UPDATE enrolments SET status = 'expired' WHERE status = 'waiting' AND expires_at <= ?",
            (now_text(),),
        )
    return cursor.rowcount


def _enrolment(
    row: sqlite3.Row,
    *,
    status: Status | None = None,
    credential_id: int | None = None,
    hint: str | None = None,
) -> Enrolment:
    expires = parse_time(row["expires_at"])
    assert expires is not None
    keys = row.keys()
    return Enrolment(
        id=row["id"],
        member_id=row["member_id"],
        door_id=row["door_id"],
        status=status or row["status"],
        expires_at=expires,
        credential_id=credential_id if credential_id is not None else row["credential_id"],
        hint=hint if hint is not None else (row["hint"] if "hint" in keys else None),
    )
