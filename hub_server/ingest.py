"""Ingest: what doors and kiosks send, written to the store in batches on one thread.

The MQTT link's handlers only queue (:meth:`Ingest.put`); the ingest thread
takes up to ``batch_max`` items at a time and writes them in one
transaction. Events are stored by their message id (``INSERT OR IGNORE``),
so a repeat (at-least-once delivery) changes nothing. Presence is rebuilt
from the stored movements (see :mod:`hub_server.presence`), so events that
arrive late or out of order still give the right sessions. Door state,
availability and telemetry are kept only when newer than what is stored.
"""

import json
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlite_utils

from hub_server import enrolment, kiosk_requests, member_erasure, presence, signups
from hub_server.config import CommunitySection
from hub_server.kiosk_requests import KioskRules
from hub_server.presence_rules import PresenceRules
from hub_server.store import Store, now_text
from hublink.messages import (
    AccessEvent,
    AlarmEvent,
    Availability,
    CommandResult,
    DoorEvent,
    DoorState,
    DoorTelemetry,
    ExitEvent,
    KioskRequest,
    KioskResponse,
    Message,
    ModeEvent,
    utcnow,
)
from hublink.ratelog import RateLimitedLog

log = logging.getLogger(__name__)

BATCH_MAX = 2000
QUEUE_MAX = 200_000


@dataclass(frozen=True)
class Inbound:
    """One received message and the device it came from (``door`` or ``kiosk`` and its id)."""

    device: str
    device_id: str
    message: Message


@dataclass
class BatchResult:
    """What one batch changed, for the publishers to act on."""

    stored: int = 0
    duplicates: int = 0
    presence_changed: bool = False
    doors_changed: set[str] = field(default_factory=set)
    enrolled: list[enrolment.Enrolment] = field(default_factory=list)
    responses: list[tuple[str, KioskResponse]] = field(default_factory=list)
    requests: list[tuple[str, KioskRequest]] = field(default_factory=list)
    """Kiosk requests answered after the batch is stored, each in its own transaction."""


@dataclass
class IngestStats:
    """Counters for health checks, logs and benchmarks."""

    received: int = 0
    stored: int = 0
    duplicates: int = 0
    batches: int = 0
    failed_batches: int = 0
    dropped: int = 0


class Ingest:
    """Writes received messages to the store, a batch per transaction."""

    def __init__(
        self,
        store: Store,
        rules: PresenceRules,
        *,
        on_batch: Callable[[BatchResult], None] | None = None,
        kiosk: KioskRules | None = None,
        clock: Callable[[], datetime] = utcnow,
        batch_max: int = BATCH_MAX,
        queue_max: int = QUEUE_MAX,
    ) -> None:
        self.store = store
        self.rules = rules
        self.on_batch = on_batch
        self.kiosk = kiosk or KioskRules(rules.timezone.key, CommunitySection())
        self.clock = clock
        self.batch_max = batch_max
        self.stats = IngestStats()
        self._queue: queue.Queue[Inbound | None] = queue.Queue(queue_max)
        self._thread: threading.Thread | None = None
        self._idle = threading.Condition()
        self._pending = 0
        self._failure_log = RateLimitedLog(log)

    # --- the thread --------------------------------------------------------

    def start(self) -> "Ingest":
        """Start the ingest thread."""
        self._thread = threading.Thread(target=self._run, name="hub-ingest", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Write what is queued, then stop; safe to call twice."""
        if self._thread is None:
            return
        self._queue.put(None)
        self._thread.join(timeout)
        self._thread = None

    def put(self, item: Inbound) -> None:
        """Queue one received message (called on the link's thread: never blocks long)."""
        with self._idle:
            self._pending += 1
        self.stats.received += 1
        try:
            self._queue.put(item, timeout=5.0)
        except queue.Full:
            with self._idle:
                self._pending -= 1
                self._idle.notify_all()
            self.stats.dropped += 1
            self._failure_log.log(logging.ERROR, "ingest queue full: dropped a message")

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until everything queued so far is written (tests, benchmarks)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            items: list[Inbound] = []
            stop = first is None
            if first is not None:
                items.append(first)
            while len(items) < self.batch_max:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    continue
                items.append(item)
            if items:
                self._write(items)
            if stop:
                return

    def _write(self, items: list[Inbound]) -> None:
        try:
            result = self.process(items)
        except Exception:
            self.stats.failed_batches += 1
            log.exception("could not store a batch of %d messages; storing one by one", len(items))
            result = BatchResult()
            for item in items:  # a poison message must not take its batch with it
                try:
                    one = self.process([item])
                except Exception:
                    self.stats.dropped += 1
                    log.exception("dropped a %s from %s %s", type(item.message).__name__,
                                  item.device, item.device_id)  # fmt: skip
                    continue
                _merge(result, one)
        finally:
            with self._idle:
                self._pending -= len(items)
                self._idle.notify_all()
        if self.on_batch is not None:
            try:
                self.on_batch(result)
            except Exception:
                log.exception("after-batch handler failed")

    # --- one batch ---------------------------------------------------------

    def process(self, items: list[Inbound]) -> BatchResult:
        """Write ``items`` in one transaction (the thread calls this; tests may too)."""
        result = BatchResult()
        moved: dict[str, datetime] = {}
        now = self.clock()
        with self.store.write() as db:
            for item in items:
                self._one(db, item, result, moved)
            for member_id, since in moved.items():
                if presence.rebuild(db, member_id, since, self.rules, now):
                    result.presence_changed = True
        for kiosk_id, request in result.requests:
            answer = kiosk_requests.answer(self.store, kiosk_id, request, self.kiosk, self.clock())
            result.responses.append((kiosk_id, answer))
        self.stats.batches += 1
        self.stats.stored += result.stored
        self.stats.duplicates += result.duplicates
        return result

    def _one(
        self,
        db: sqlite_utils.Database,
        item: Inbound,
        result: BatchResult,
        moved: dict[str, datetime],
    ) -> None:
        message = item.message
        if isinstance(message, AccessEvent):
            self._access(db, item.device_id, message, result, moved)
        elif isinstance(message, DoorState):
            _upsert(db, item.device_id, _state_values(message), newer=("state_at", message.ts))
            result.doors_changed.add(item.device_id)
        elif isinstance(message, Availability) and item.device == "door":
            # The last one to arrive wins: a last will carries the time it was
            # registered (at connect), older than the "online" it follows.
            values = {"online": int(message.status == "online"), "seen_at": now_text()}
            _upsert(db, item.device_id, values)
            result.doors_changed.add(item.device_id)
        elif isinstance(message, DoorTelemetry):
            telemetry = message.model_dump_json(exclude={"v", "id"})
            _upsert(
                db, item.device_id, {"telemetry": telemetry}, newer=("telemetry_at", message.ts)
            )
        elif isinstance(message, CommandResult):
            db.execute(
                "UPDATE door_commands SET ok = ?, reason = ?, detail = ?, answered_at = ?"
                " WHERE id = ? AND door_id = ? AND answered_at IS NULL",
                (
                    int(message.ok), message.reason, message.detail, now_text(message.ts),
                    message.command_id, item.device_id,
                ),
            )  # fmt: skip
        elif isinstance(message, KioskRequest):
            self._kiosk(db, item.device_id, message, result, moved)
        elif isinstance(message, AlarmEvent | ModeEvent | ExitEvent):
            self._door_log(db, item.device_id, message, result)
        # anything else (a kiosk's availability) is followed elsewhere, not stored

    def _access(
        self,
        db: sqlite_utils.Database,
        door_id: str,
        event: AccessEvent,
        result: BatchResult,
        moved: dict[str, datetime],
    ) -> None:
        event = member_erasure.unless_erased(db, event)  # a late tap of an erased member
        timing = event.timing
        cursor = db.execute(
            "INSERT OR IGNORE INTO access_events (id, ts, door_id, reader_id, granted, reason,"
            " member_id, credential, card_hint, role, read_ms, decide_ms, lock_ms, received_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                event.id, now_text(event.ts), door_id, event.reader_id, int(event.granted),
                event.reason, event.member_id, event.credential, event.card_hint, event.role,
                timing and timing.read_ms, timing and timing.decide_ms,
                timing and timing.lock_ms, now_text(),
            ),
        )  # fmt: skip
        if cursor.rowcount != 1:
            result.duplicates += 1
            return
        result.stored += 1
        if event.granted and event.member_id:
            since = moved.get(event.member_id)
            moved[event.member_id] = event.ts if since is None else min(since, event.ts)
            self._attend(db, door_id, event.member_id, event.ts)
        elif event.reason == "unknown_credential" and event.credential:
            done = enrolment.match(db, door_id, event.credential, event.card_hint, event.ts)
            if done is not None:
                result.enrolled.append(done)

    def _attend(
        self, db: sqlite_utils.Database, door_id: str, member_id: str, at: datetime
    ) -> None:
        """A granted tap at an event's room or zone marks the member attending."""
        door = db.execute("SELECT zone_id, room_id FROM doors WHERE id = ?", (door_id,)).fetchone()
        if door is not None and (door["zone_id"] or door["room_id"]):
            signups.mark_attended(
                db,
                member_id,
                at,
                place=(door["zone_id"], door["room_id"]),
                checkin_before_min=self.kiosk.community.checkin_before_min,
            )

    def _door_log(
        self, db: sqlite_utils.Database, door_id: str, event: DoorEvent, result: BatchResult
    ) -> None:
        body = event.model_dump_json(exclude={"v", "id", "ts", "kind"})
        cursor = db.execute(
            "INSERT OR IGNORE INTO door_log (id, ts, door_id, kind, body, received_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (event.id, now_text(event.ts), door_id, event.kind, body, now_text()),
        )
        if cursor.rowcount == 1:
            result.stored += 1
        else:
            result.duplicates += 1

    def _kiosk(
        self,
        db: sqlite_utils.Database,
        kiosk_id: str,
        request: KioskRequest,
        result: BatchResult,
        moved: dict[str, datetime],
    ) -> None:
        if request.action != "check_out":
            result.requests.append((kiosk_id, request))
            return
        who = kiosk_requests.member_of(self.store, request.credential, request.ts)
        member_id = None if who is None else who[0]  # a guest checks out under their pass
        # Taps earlier in this batch are not in presence yet: bring it up to date first.
        if (
            member_id is not None
            and member_id in moved
            and presence.rebuild(db, member_id, moved.pop(member_id), self.rules, self.clock())
        ):
            result.presence_changed = True
        if member_id is None:
            reply = KioskResponse(request_id=request.id, ok=False, reason="unknown_credential")
        elif db.execute("SELECT 1 FROM checkouts WHERE id = ?", (request.id,)).fetchone():
            reply = KioskResponse(request_id=request.id, ok=True, reason="checked_out")
        elif not presence.is_present(db, member_id):
            reply = KioskResponse(request_id=request.id, ok=False, reason="not_checked_in")
        else:
            presence.record_checkout(db, member_id, request.ts, "kiosk", request.id)
            since = moved.get(member_id)
            moved[member_id] = request.ts if since is None else min(since, request.ts)
            reply = KioskResponse(request_id=request.id, ok=True, reason="checked_out")
        result.responses.append((kiosk_id, reply))


def _state_values(state: DoorState) -> dict[str, Any]:
    return {
        "lock": state.lock,
        "contact": state.contact,
        "mode": state.mode,
        "acl_version": state.acl_version,
        "last_sync": None if state.last_sync is None else now_text(state.last_sync),
        "alarms": json.dumps(list(state.alarms)),
    }


def _upsert(
    db: sqlite_utils.Database,
    door_id: str,
    values: dict[str, Any],
    *,
    newer: tuple[str, datetime] | None = None,
) -> None:
    """Set ``values`` on the door's status row; with ``newer=(column, ts)``, only if the
    row's ``column`` is older than ``ts`` (it is set to ``ts`` with the values)."""
    guard = ""
    if newer is not None:
        stamp, ts = newer
        values = {**values, stamp: now_text(ts)}
        guard = f" WHERE door_status.{stamp} IS NULL OR excluded.{stamp} > door_status.{stamp}"
    columns = list(values)
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns)
    db.execute(
        f"INSERT INTO door_status (door_id, {', '.join(columns)})"  # noqa: S608  (our columns)
        f" VALUES (?, {', '.join('?' * len(columns))})"
        f" ON CONFLICT (door_id) DO UPDATE SET {updates}{guard}",
        (door_id, *values.values()),
    )


def _merge(total: BatchResult, part: BatchResult) -> None:
    total.stored += part.stored
    total.duplicates += part.duplicates
    total.presence_changed |= part.presence_changed
    total.doors_changed |= part.doors_changed
    total.enrolled += part.enrolled
    total.responses += part.responses
    total.requests += part.requests
