"""Door commands: unlock, lockdown, back to normal, hold open, resync.

Each command is recorded (``door_commands``) and audited before it is
sent, carries an expiry (a door never carries out a stale command), and is
answered by the door with a :class:`CommandResult` that the server's ingest
records against it.
"""

import sqlite3
import time
from datetime import datetime, timedelta
from typing import Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from hub_server import audit
from hub_server.errors import HubError, Invalid, NotFound
from hub_server.store import Store, now_text, parse_time
from hublink.messages import DoorCommand, Message, utcnow
from hublink.topics import Topics

Action = Literal["unlock", "lockdown", "normal", "hold_open", "resync"]
COMMAND_TTL_S = 30.0
MAX_UNLOCK_S = 3600.0


@runtime_checkable
class Bus(Protocol):
    """The broker as services see it: a :class:`hublink.link.Link`."""

    topics: Topics

    def publish(self, topic: str, message: Message) -> bool:
        """Send ``message``; False if it could not go out."""


class NotSent(HubError):
    """The broker was not reachable: the command did not go out."""


class CommandRecord(BaseModel):
    """A command and, once the door has answered, its result (``ok``, ``reason``)."""

    model_config = ConfigDict(frozen=True)

    id: str
    door_id: str
    action: str
    issued_by: str
    issued_at: datetime
    expires_at: datetime
    ok: bool | None
    reason: str | None
    detail: str | None

    @property
    def answered(self) -> bool:
        """True once the door has answered."""
        return self.ok is not None


def issue(
    store: Store,
    bus: Bus,
    door_id: str,
    action: Action,
    actor: str,
    *,
    duration_s: float | None = None,
    ttl_s: float = COMMAND_TTL_S,
) -> DoorCommand:
    """Record, audit and send one command to one door."""
    if duration_s is not None and not 0 < duration_s <= MAX_UNLOCK_S:
        raise Invalid("duration_s", f"must be between 0 and {MAX_UNLOCK_S:.0f} seconds")
    now = utcnow()
    command = DoorCommand(
        ts=now,
        action=action,
        duration_s=duration_s,
        expires_at=now + timedelta(seconds=ttl_s),
        issued_by=actor[:100],
    )
    with store.write() as db:
        if db.execute("SELECT 1 FROM doors WHERE id = ?", (door_id,)).fetchone() is None:
            raise NotFound(f"no door {door_id!r}")
        db.execute(
            "INSERT INTO door_commands (id, door_id, action, duration_s, issued_by, issued_at,"
            " expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                command.id, door_id, action, duration_s, actor, now_text(now),
                now_text(command.expires_at),
            ),
        )  # fmt: skip
        audit.record(db, actor, f"door.{action}", door_id, command=command.id, seconds=duration_s)
    if not bus.publish(bus.topics.door_command(door_id), command):
        raise NotSent(f"not connected to the broker: {action} was not sent to door {door_id}")
    return command


def get(store: Store, command_id: str) -> CommandRecord:
    """One command with its result so far."""
    row = store.query_one("SELECT * FROM door_commands WHERE id = ?", (command_id,))
    if row is None:
        raise NotFound(f"no command {command_id}")
    return _record(row)


def wait(store: Store, command_id: str, timeout: float, poll_s: float = 0.1) -> CommandRecord:
    """The command once answered, or as it stands after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        record = get(store, command_id)
        if record.answered or time.monotonic() >= deadline:
            return record
        time.sleep(poll_s)


def recent(store: Store, door_id: str | None = None, limit: int = 50) -> list[CommandRecord]:
    """The newest commands, a door's or all."""
    rows = store.query(
        "SELECT * FROM door_commands WHERE ? IS NULL OR door_id = ?"
        " ORDER BY issued_at DESC LIMIT ?",
        (door_id, door_id, limit),
    )
    return [_record(row) for row in rows]


def _record(row: sqlite3.Row) -> CommandRecord:
    return CommandRecord(
        id=row["id"],
        door_id=row["door_id"],
        action=row["action"],
        issued_by=row["issued_by"],
        issued_at=parse_time(row["issued_at"]) or utcnow(),
        expires_at=parse_time(row["expires_at"]) or utcnow(),
        ok=None if row["ok"] is None else bool(row["ok"]),
        reason=row["reason"],
        detail=row["detail"],
    )
