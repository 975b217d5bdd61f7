"""Retention: personal records older than ``[retention] access_days`` are deleted, on a schedule.

The cut-off ``C`` is ``now`` less ``access_days``, down to the whole UTC hour. A run:

1. folds the occupancy of every hour before ``C`` not folded yet into anonymous counts
   (:func:`occupancy_history.fold`, a day per transaction), then deletes the stays that
   ended before the fold's mark; open stays and stays ending later stay, so the hours
   from the mark on are still counted from the stays;
2. folds the access events before ``C`` into taps per door and hour (``access_hourly``)
   and deletes them, in the same transaction, a batch at a time;
3. deletes, before ``C``: check-outs, door log lines, enrolments no longer waiting,
   notifications, guest passes that ran out and invitations to events that
   ended (each holds member ids or an outsider's name, email or card);
4. deletes audit log entries older than ``audit_days``;
5. records one audit entry (``retention.run``) saying what it deleted, if anything.

Every write is a short transaction of at most :data:`BATCH` rows or :data:`FOLD_SPAN` of
hours, so the ingest sharing the database never waits long; a run can be stopped between
two. Running again with the same ``now`` changes nothing. Signups, bookings and events
are kept (billing and event history) until a member is erased.
"""

import sqlite3
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlite_utils

from hub_server import audit, occupancy_history
from hub_server.config import RetentionSection
from hub_server.store import Store, now_text

BATCH = 2000
"""The most rows one transaction deletes."""

FOLD_SPAN = timedelta(days=1)
"""The most hours of occupancy one transaction folds."""

HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Purge:
    """Rows of ``table`` (keyed by ``key``) that ``where`` (SQL with ``:cutoff`` or
    ``:audit_cutoff``) says are past keeping; ``detach`` runs first in each batch."""

    table: str
    key: str
    where: str
    detach: str = ""


PRESENCE = Purge("presence", "id", "started_at < :cutoff AND ended_at < :cutoff")
ACCESS_EVENTS = Purge("access_events", "id", "ts < :cutoff")
PURGES = (
    Purge("checkouts", "id", "ts < :cutoff"),
    Purge("door_log", "id", "ts < :cutoff"),
    Purge("enrolments", "id", "status != 'waiting' AND requested_at < :cutoff"),
    Purge("notifications", "id", "created_at < :cutoff"),  # sent or not: news no longer
    Purge("guest_passes", "id", "valid_until < :cutoff"),
    Purge(
        "invitations",
        "id",
        "event_id IN (SELECT id FROM events WHERE ends_at < :cutoff)",
        detach="UPDATE guest_passes SET invitation_id = NULL WHERE invitation_id IN"
        " (SELECT id FROM invitations WHERE event_id IN"
        " (SELECT id FROM events WHERE ends_at < :cutoff))",
    ),
    Purge("audit_log", "id", "ts < :audit_cutoff"),
)
"""Deleted after the folds, in this order (passes before the invitations they name)."""

AGGREGATES = ("occupancy_hourly", "access_hourly")


@dataclass(frozen=True)
class RetentionResult:
    """What a run did, or in a dry run would do."""

    cutoff: datetime
    """Access events, stays and the other records from before this are deleted."""
    audit_cutoff: datetime
    """Audit log entries from before this are deleted."""
    folded_until: datetime | None
    """The hour up to which occupancy is kept as hourly counts, after the run."""
    folded_hours: int
    """Hours of occupancy newly folded into hourly counts."""
    deleted: dict[str, int] = field(default_factory=dict)
    """Rows deleted per table (every table, 0s included), access events counted in
    ``access_hourly`` before they went."""

    @property
    def total(self) -> int:
        """Rows deleted in all."""
        return sum(self.deleted.values())


@dataclass(frozen=True)
class RetentionStatus:
    """Where retention stands: the cut-offs, the fold's mark and the rows in each table."""

    cutoff: datetime
    audit_cutoff: datetime
    folded_until: datetime | None
    rows: dict[str, int]
    """Rows per table (the personal tables, then the aggregates)."""
    due: dict[str, int]
    """Rows of each personal table the next run deletes."""


def cutoffs(config: RetentionSection, now: datetime) -> tuple[datetime, datetime]:
    """The access/presence cut-off and the audit cut-off at ``now``, down to the UTC hour."""
    return (
        _hour(now - timedelta(days=config.access_days)),
        _hour(now - timedelta(days=config.audit_days)),
    )


def run(
    store: Store,
    config: RetentionSection,
    now: datetime,
    *,
    actor: str = audit.SYSTEM,
    stop: threading.Event | None = None,
) -> RetentionResult:
    """Fold and delete what is past keeping at ``now``; ``stop`` ends it between two
    transactions (the next run goes on from there)."""
    cutoff, audit_cutoff = cutoffs(config, now)
    stopped = stop or threading.Event()
    hours = _fold_occupancy(store, cutoff, now, stopped)
    folded = occupancy_history.folded_until(store)
    deleted = {
        # only stays whose every hour is stored, and none the cut-off keeps
        PRESENCE.table: 0
        if folded is None
        else _purge(store, PRESENCE, {"cutoff": now_text(min(folded, cutoff))}, stopped),
        ACCESS_EVENTS.table: _fold_access(store, cutoff, stopped),
    }
    params = {"cutoff": now_text(cutoff), "audit_cutoff": now_text(audit_cutoff)}
    for purge in PURGES:
        deleted[purge.table] = _purge(store, purge, params, stopped)
    result = RetentionResult(cutoff, audit_cutoff, folded, hours, deleted)
    if result.total:
        with store.write() as db:
            audit.record(
                db,
                actor,
                "retention.run",
                cutoff=now_text(cutoff),
                audit_cutoff=now_text(audit_cutoff),
                folded_hours=hours,
                folded_until=folded and now_text(folded),
                deleted={table: n for table, n in deleted.items() if n},
            )
    return result


def pending(store: Store, config: RetentionSection, now: datetime) -> RetentionResult:
    """What :func:`run` at ``now`` would fold and delete, changing nothing (a dry run)."""
    state = status(store, config, now)
    start = _fold_start(store.read()) or state.cutoff
    hours = max(0, (state.cutoff - start) // HOUR)
    folded = max(state.cutoff, state.folded_until or state.cutoff)
    return RetentionResult(state.cutoff, state.audit_cutoff, folded, hours, state.due)


def status(store: Store, config: RetentionSection, now: datetime) -> RetentionStatus:
    """The cut-offs at ``now``, how far occupancy is folded, and the rows held and due."""
    cutoff, audit_cutoff = cutoffs(config, now)
    params = {"cutoff": now_text(cutoff), "audit_cutoff": now_text(audit_cutoff)}
    purges = (PRESENCE, ACCESS_EVENTS, *PURGES)
    rows = {table: _count(store, table) for table in (*(p.table for p in purges), *AGGREGATES)}
    due = {p.table: _count(store, p.table, p.where, params) for p in purges}
    return RetentionStatus(cutoff, audit_cutoff, occupancy_history.folded_until(store), rows, due)


# --- the steps ---------------------------------------------------------------------------


def _fold_occupancy(store: Store, cutoff: datetime, now: datetime, stop: threading.Event) -> int:
    """Fold the hours before ``cutoff`` a :data:`FOLD_SPAN` per transaction; hours folded."""
    folded = 0
    while not stop.is_set():
        with store.write() as db:  # the mark is read inside: two runs at once fold once
            start = _fold_start(db)
            if start is None:  # no stays at all: nothing before the cut-off to count
                start = cutoff
                occupancy_history.fold(db, cutoff, cutoff, now)
            if start >= cutoff:
                break
            end = min(start + FOLD_SPAN, cutoff)
            occupancy_history.fold(db, start, end, now)
        folded += (end - start) // HOUR
    return folded


def _fold_start(db: sqlite3.Connection | sqlite_utils.Database) -> datetime | None:
    """The first hour to fold: the mark, or the hour of the earliest stay (``None``: none)."""
    mark = occupancy_history.folded_until(db)
    if mark is not None:
        return mark
    first = db.execute("SELECT min(started_at) FROM presence").fetchone()[0]
    return None if first is None else _hour(datetime.fromisoformat(first))


def _fold_access(store: Store, cutoff: datetime, stop: threading.Event) -> int:
    """Count the access events before ``cutoff`` into ``access_hourly`` and delete them, a
    batch per transaction; returns how many."""
    done = 0
    while not stop.is_set():
        with store.write() as db:
            rows = db.execute(
                "SELECT id, ts, door_id, granted FROM access_events WHERE ts < ?"
                " ORDER BY ts LIMIT ?",
                (now_text(cutoff), BATCH),
            ).fetchall()
            taps: Counter[tuple[str, str, int]] = Counter(
                (now_text(_hour(datetime.fromisoformat(row["ts"]))), row["door_id"], row["granted"])
                for row in rows
            )
            db.conn.executemany(
                "INSERT INTO access_hourly (hour, door_id, granted, denied) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (hour, door_id) DO UPDATE SET"
                " granted = granted + excluded.granted, denied = denied + excluded.denied",
                [
                    (hour, door, taps[hour, door, 1], taps[hour, door, 0])
                    for hour, door in dict.fromkeys((h, d) for h, d, _ in taps)
                ],
            )
            db.conn.executemany(
                "DELETE FROM access_events WHERE id = ?", [(row["id"],) for row in rows]
            )
        done += len(rows)
        if len(rows) < BATCH:
            break
    return done


def _purge(store: Store, purge: Purge, params: dict[str, str], stop: threading.Event) -> int:
    """Delete ``purge``'s rows, :data:`BATCH` per transaction; returns how many."""
    done = 0
    while not stop.is_set():
        with store.write() as db:
            if purge.detach:
                db.execute(purge.detach, params)
            deleted = db.execute(
                f"DELETE FROM {purge.table} WHERE {purge.key} IN"  # noqa: S608 (constants)
                f" (SELECT {purge.key} FROM {purge.table} WHERE {purge.where} LIMIT {BATCH})",
                params,
            ).rowcount
        done += deleted
        if deleted < BATCH:
            break
    return done


def _count(store: Store, table: str, where: str = "1", params: Any = ()) -> int:
    row = store.query_one(f"SELECT count(*) FROM {table} WHERE {where}", params)  # noqa: S608
    return 0 if row is None else int(row[0])


def _hour(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
