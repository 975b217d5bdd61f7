"""Notifications: what the hub tells a member (a waitlist place became a seat, an event is off).

A notification is a row written in the same transaction as the change it tells of
(:func:`record`), so none is lost and none is sent for a change that was rolled back.
Kinds: ``signup.promoted`` (a waitlisted signup got its seat) and ``event.cancelled``
(the event a member had a place or a waitlist place at is off).

The :class:`NotificationSender` thread delivers them by running the operator's own
program, ``community.notify_command`` (an argv list), once per notification, with one
JSON object on its standard input::

    {"id": 7, "kind": "signup.promoted", "created_at": "…",
     "member": {"id": "m-…", "first_name": "Åsa", "last_name": "Berg", "email": "…"},
     "event": {"id": "ev-…", "title": "Forest yoga", "starts_at": "…", "ends_at": "…"},
     …the notification's own fields (title, starts_at, guests)…}

The program may email the member, so it gets the email; nothing else does (it is never
published). Exit status 0 within 30 s marks the notification delivered. Any other outcome
(a non-zero exit status, a timeout, a program that cannot be started) counts an attempt,
keeps the end of its standard error as ``last_error`` and tries again after a back-off
that starts at 30 s and doubles up to an hour. Due notifications go out in id order; one
that is backing off does not hold up the others. Delivery is at least once: should the hub
stop between the program's success and recording it, the program runs again for it. With
no command configured nothing is sent: notifications stay undelivered and visible
(:func:`pending`).
"""

import json
import logging
import sqlite3
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlite_utils

from hub_server.store import Store, now_text, parse_time
from hub_server.woken_thread import WokenThread
from hublink.messages import utcnow

log = logging.getLogger(__name__)

FIRST_RETRY_S = 30
"""The first back-off after a failed delivery; it doubles with every further failure."""
MAX_RETRY_S = 3600
"""The longest back-off."""
TIMEOUT_S = 30.0
"""How long the command may run for one notification."""
ERROR_TAIL = 500
"""How much of a failed command's standard error is kept."""
BATCH = 100
"""Notifications looked at per pass (the next pass follows at once when there were more)."""


def record(
    db: sqlite_utils.Database,
    kind: str,
    *,
    member_id: str | None,
    event_id: str | None,
    at: datetime,
    **body: Any,
) -> int:
    """Add a notification inside the caller's write; returns its id."""
    row = db.execute(
        "INSERT INTO notifications (kind, member_id, event_id, body, created_at)"
        " VALUES (?, ?, ?, ?, ?) RETURNING id",
        (kind, member_id, event_id, json.dumps(body, ensure_ascii=False), now_text(at)),
    ).fetchone()
    return int(row[0])


@dataclass(frozen=True)
class Notification:
    """One notification as stored (the dashboard shows them)."""

    id: int
    kind: str
    member_id: str | None
    event_id: str | None
    body: dict[str, Any]
    created_at: datetime
    attempts: int
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    last_error: str | None


def pending(store: Store) -> list[Notification]:
    """Every undelivered notification, oldest first."""
    return [
        _notification(row)
        for row in store.query("SELECT * FROM notifications WHERE delivered_at IS NULL ORDER BY id")
    ]


def recent(store: Store, *, limit: int = 50) -> list[Notification]:
    """The newest notifications first, delivered or not."""
    rows = store.query("SELECT * FROM notifications ORDER BY id DESC LIMIT ?", (limit,))
    return [_notification(row) for row in rows]


def backoff(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed delivery (30 s doubling, at most 1 h)."""
    return timedelta(seconds=min(FIRST_RETRY_S * 2 ** max(attempts - 1, 0), MAX_RETRY_S))


@dataclass
class SenderStats:
    """Counters for logs and tests."""

    delivered: int = 0
    failed: int = 0


class NotificationSender(WokenThread):
    """Delivers undelivered notifications through ``command``, retrying with back-off."""

    def __init__(
        self,
        store: Store,
        command: tuple[str, ...],
        *,
        poll_interval_s: float = 5.0,
        timeout_s: float = TIMEOUT_S,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        super().__init__()
        self.store = store
        self.command = command
        self.poll_interval_s = poll_interval_s
        self.timeout_s = timeout_s
        self.clock = clock
        self.stats = SenderStats()

    def start(self) -> "NotificationSender":
        """Deliver on a thread: woken after every write here, polling for other processes'."""
        self.store.on_commit(self.wake)
        self._start_thread("hub-notifications")
        return self

    failure_message = "could not deliver notifications; trying again"

    def _work(self) -> None:
        while self.deliver_due() == BATCH and not self._stop.is_set():
            pass

    def deliver_due(self) -> int:
        """One pass: try every notification that is due, in id order; returns how many."""
        if not self.command:
            return 0
        rows = self.store.query(
            "SELECT n.*, m.first_name, m.last_name, m.email, e.title, e.starts_at AS event_starts,"
            " e.ends_at AS event_ends FROM notifications n"
            " LEFT JOIN members m ON m.id = n.member_id LEFT JOIN events e ON e.id = n.event_id"
            " WHERE n.delivered_at IS NULL"
            " AND (n.next_attempt_at IS NULL OR n.next_attempt_at <= ?)"
            " ORDER BY n.id LIMIT ?",
            (now_text(self.clock()), BATCH),
        )
        for row in rows:
            if self._stop.is_set():
                break
            self._deliver(row)
        return len(rows)

    def _deliver(self, row: sqlite3.Row) -> None:
        error = self._run_command(json.dumps(payload(row), ensure_ascii=False).encode())
        now = self.clock()
        with self.store.write() as db:
            if error is None:
                db.execute(
                    "UPDATE notifications SET delivered_at = ?, last_error = NULL,"
                    " next_attempt_at = NULL WHERE id = ?",
                    (now_text(now), row["id"]),
                )
            else:
                attempts = row["attempts"] + 1
                db.execute(
                    "UPDATE notifications SET attempts = ?, last_error = ?, next_attempt_at = ?"
                    " WHERE id = ?",
                    (attempts, error, now_text(now + backoff(attempts)), row["id"]),
                )
        if error is None:
            self.stats.delivered += 1
        else:
            self.stats.failed += 1
            log.warning("notification %d not delivered: %s", row["id"], error)

    def _run_command(self, stdin: bytes) -> str | None:
        """Run the command with ``stdin``; ``None`` if it succeeded, else what went wrong."""
        try:
            done = subprocess.run(  # noqa: S603  (the operator's own configured program)
                self.command, input=stdin, capture_output=True, timeout=self.timeout_s, check=False
            )
        except subprocess.TimeoutExpired:
            return f"{self.command[0]} did not finish within {self.timeout_s:g} s"
        except OSError as err:
            return f"cannot run {self.command[0]}: {err.strerror or err}"
        if done.returncode == 0:
            return None
        tail = done.stderr.decode(errors="replace").strip()[-ERROR_TAIL:]
        return f"exit status {done.returncode}" + (f": {tail}" if tail else "")


def payload(row: sqlite3.Row) -> dict[str, Any]:
    """The JSON object the command gets for one notification row (joined with its member
    and event, as :meth:`NotificationSender.deliver_due` selects it)."""
    member = (
        None
        if row["first_name"] is None
        else {
            "id": row["member_id"],
            "first_name": row["first_name"],
            "last_name": row["last_name"],
            "email": row["email"],
        }
    )
    event = (
        None
        if row["title"] is None
        else {
            "id": row["event_id"],
            "title": row["title"],
            "starts_at": row["event_starts"],
            "ends_at": row["event_ends"],
        }
    )
    return {
        **json.loads(row["body"]),
        "id": row["id"],
        "kind": row["kind"],
        "created_at": row["created_at"],
        "member": member,
        "event": event,
    }


def _notification(row: sqlite3.Row) -> Notification:
    return Notification(
        id=row["id"],
        kind=row["kind"],
        member_id=row["member_id"],
        event_id=row["event_id"],
        body=json.loads(row["body"]),
        created_at=parse_time(row["created_at"]) or datetime.min,
        attempts=row["attempts"],
        next_attempt_at=parse_time(row["next_attempt_at"]),
        delivered_at=parse_time(row["delivered_at"]),
        last_error=row["last_error"],
    )
