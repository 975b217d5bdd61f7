"""The door's loop: taps, the exit button, the contact, commands and list sync.

Every tap is decided locally from the replica (no network in the path),
acted on (lock, feedback) and then written to the durable outbox as an
event. Commands and list updates arrive over the link; the hub's absence
changes nothing but the staleness clock. :meth:`DoorController.tick` runs
a few times a second for what time alone changes: relocking is the lock's
own job, but modes, alarms, state and telemetry are the controller's.
"""

import logging
import queue
import re
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from door.alarms import AlarmChange, ContactWatch
from door.config import DoorConfig
from door.decision import Decision, DeniedTapLimiter, Mode, Situation, decide
from door.errors import DoorError
from door.list_apply import apply_in_child, apply_payload
from door.modes import ModeKeeper, Override
from door.replica import DeltaOutcome, Replica, ReplicaError
from door.saved_state import SavedState
from door.telemetry import LatencyWindow
from hardware.build import DoorHardware
from hardware.errors import LockError
from hardware.signals import Signal
from hardware.taps import CardTap
from hublink.credentials import card_hint, credential_hash
from hublink.errors import HublinkError, MessageError
from hublink.link import Delivery, Link, Payload
from hublink.messages import (
    AccessEvent,
    AclDelta,
    AclSnapshot,
    AlarmEvent,
    Availability,
    CommandResult,
    DoorCommand,
    DoorState,
    DoorTelemetry,
    ExitEvent,
    Message,
    ModeEvent,
    ReaderHealth,
    TapTiming,
    utcnow,
)
from hublink.ratelog import RateLimitedLog

log = logging.getLogger(__name__)

HELD_MODES = (Mode.HOLD_OPEN, Mode.SCHEDULED_OPEN)
SAVE_SYNC_EVERY_S = 60.0
LARGE_PAYLOAD = 1 << 20
"""Snapshots larger than this (about 7,000 cards) are applied in a child process."""


_VERSION_RE = re.compile(rb'^\{[^{}\[\]]*?"version"\s*:\s*([0-9]+)')


def peek_version(payload: bytes) -> int | None:
    """A snapshot's version, read from its head without decoding the list.

    Only a top-level ``version`` before any nested value is trusted; None
    when there is none (the snapshot is then decoded in full).
    """
    found = _VERSION_RE.match(payload[:1024])
    return int(found.group(1)) if found else None


def masked(tap: CardTap) -> str:
    """A card as logs may show it: kind and the last four hex digits only."""
    return f"{tap.kind} …{tap.uid_hex[-4:]}"


class DoorController:
    """Decides taps, drives the lock and reports everything over the link."""

    def __init__(
        self,
        config: DoorConfig,
        hardware: DoorHardware,
        replica: Replica,
        link: Link,
        saved: SavedState,
        *,
        clock: Callable[[], datetime] = utcnow,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.hardware = hardware
        self.replica = replica
        self.link = link
        self.topics = link.topics
        self.door_id = config.door.id
        self.clock = clock
        self.monotonic = monotonic
        self._site_key = config.site.key_bytes()
        self._lock = threading.RLock()
        door = config.door
        self.limiter = DeniedTapLimiter(
            door.denied_taps, door.denied_window_s, door.denied_cooldown_s
        )
        self.watch = ContactWatch(door.held_open_s, door.open_grace_s)
        self.saved = saved
        self._saved_modes = saved.get("mode")
        self.modes = ModeKeeper(self._saved_modes)
        self.latency = LatencyWindow()
        saved_sync = saved.get("last_sync")
        self.last_sync: datetime | None = datetime.fromisoformat(saved_sync) if saved_sync else None
        self.mode = Mode.NORMAL
        self.hub_online = False
        self.resyncs = 0
        self.rejected = 0
        self.lock_faults = 0
        self._synced_connection = -1  # the link connection on which the list was confirmed
        self._saved_sync_at = float("-inf")
        self._last_state: dict[str, Any] | None = None
        self._next_telemetry = float("-inf")
        self._started_at = monotonic()
        self._updates: queue.Queue[bytes | AclSnapshot | AclDelta | None] = queue.Queue()
        self._sync_thread: threading.Thread | None = None
        self._publish_log = RateLimitedLog(log)

    # --- lifecycle ---------------------------------------------------------

    def subscribe(self) -> None:
        """Subscribe to the door's list, commands and the hub's availability (before start)."""
        topics, door = self.topics, self.door_id
        self.link.subscribe_payload(topics.door_acl_snapshot(door), self.on_snapshot_payload)
        self.link.subscribe(topics.door_acl_delta(door), self.on_list_update, dedupe=True)
        self.link.subscribe(topics.door_command(door), self.on_command, dedupe=True)
        self.link.subscribe(topics.hub_availability(), self.on_hub_availability)

    def start(self) -> None:
        """Take up the saved mode, then react to taps, the exit button and the contact."""
        hw = self.hardware
        self._sync_thread = threading.Thread(
            target=self._apply_updates, name=f"acl-{self.door_id}", daemon=True
        )
        self._sync_thread.start()
        with self._lock:
            self._update_mode(self.clock(), "restart", "mode kept across a restart")
            self._publish_state()
        if hw.door_contact is not None:
            with self._lock:
                self.watch.start(hw.door_contact.is_open, self.monotonic())
            hw.door_contact.on_change(self.on_contact)
        if hw.exit_button is not None:
            hw.exit_button.on_press(self.on_exit_pressed)
        hw.reader.start(self.on_tap)

    def close(self) -> None:
        """Stop applying list updates and save the sync time; safe to call twice."""
        if self._sync_thread is not None:
            self._updates.put(None)
            self._sync_thread.join(10)
            self._sync_thread = None
        with self._lock:
            self._save_sync()

    # --- taps --------------------------------------------------------------

    def on_tap(self, tap: CardTap) -> None:
        """Decide a tap, act on it, and record it."""
        credential = credential_hash(self._site_key, tap.uid)
        with self._lock:
            now = self.clock()
            mono = self.monotonic()
            entry = self.replica.lookup(credential)
            decision = decide(entry, now, self._situation(now, tap.reader_id, mono))
            self.limiter.record(tap.reader_id, decision, mono)
            decided = time.monotonic()
            lock_ms = self._open_for(decision, now) if decision.granted else None
            self.hardware.feedback.show(Signal.GRANTED if decision.granted else Signal.DENIED)
            total_ms = (time.monotonic() - tap.monotonic + tap.read_latency_s) * 1000
            self.latency.add(total_ms)
            self._publish_event(
                AccessEvent(
                    ts=now,
                    reader_id=tap.reader_id,
                    credential=credential,
                    granted=decision.granted,
                    reason=decision.reason,
                    member_id=decision.member_id,
                    role=decision.role,
                    card_hint=card_hint(tap.uid),
                    timing=TapTiming(
                        read_ms=tap.read_latency_s * 1000,
                        decide_ms=(decided - tap.monotonic) * 1000,
                        lock_ms=lock_ms,
                    ),
                )
            )
            self._publish_state()
        log.info(
            "card %s at %s: %s (%s)",
            masked(tap),
            tap.reader_id,
            "granted" if decision.granted else "denied",
            decision.reason,
        )

    def _situation(self, now: datetime, reader_id: str, mono: float) -> Situation:
        policy = self.replica.policy
        door = self.config.door
        return Situation(
            mode=self.mode,
            tiers=policy.tiers,
            schedules=policy.schedules,
            last_sync=self.last_sync,
            stale_after=timedelta(hours=door.stale_after_h),
            stale_policy=door.offline_policy,
            throttled=self.limiter.throttled(reader_id, mono),
        )

    def _open_for(self, decision: Decision, now: datetime) -> float | None:
        """Release the lock for a grant; milliseconds it took, None if it is held open."""
        if decision.role in ("member", "admin") and self.modes.first_person_in(
            now, self.replica.policy
        ):
            self._update_mode(now, "first_person_in", f"started by {decision.member_id}")
        if self.mode in HELD_MODES:
            return None
        started = time.monotonic()
        if not self._unlock(self.config.lock.unlock_s, "grant"):
            return None
        return (time.monotonic() - started) * 1000

    def _unlock(self, seconds: float, why: str) -> float:
        """Release the lock for ``seconds``; the time granted, 0 when the lock failed."""
        try:
            granted = self.hardware.lock.unlock_for(seconds)
        except LockError as err:
            self.lock_faults += 1
            log.critical("lock did not release for %s: %s", why, err)
            self._publish_event(AlarmEvent(alarm="lock_fault", active=True, detail=str(err)[:500]))
            return 0.0
        self.watch.authorise(self.monotonic() + granted)
        return granted

    # --- exit button and contact ---------------------------------------------

    def on_exit_pressed(self) -> None:
        """Request to exit: unlock for the configured time, in every mode (egress is free)."""
        with self._lock:
            granted = self._unlock(self.config.lock.unlock_s, "the exit button")
            self._publish_event(ExitEvent(unlocked_s=granted))
            self._publish_state()
        log.info("exit button: unlocked for %.1f s", granted)

    def on_contact(self, is_open: bool) -> None:
        """The door opened or closed."""
        with self._lock:
            changes = self.watch.changed(is_open, self.monotonic(), self.mode in HELD_MODES)
            self._publish_alarms(changes)
            self._publish_state()
        log.info("door %s", "opened" if is_open else "closed")

    # --- commands ------------------------------------------------------------

    def on_command(self, delivery: Delivery[DoorCommand]) -> None:
        """Carry out an operator's command, unless it has expired; always answer."""
        command = delivery.message
        now = self.clock()
        with self._lock:
            if command.expired(now):
                ok, reason, detail = False, "expired", f"expired at {command.expires_at:%H:%M:%S}"
            else:
                ok, reason, detail = self._execute(command, now)
            self._publish_event(
                CommandResult(command_id=command.id, ok=ok, reason=reason, detail=detail),
                self.topics.door_command_result(self.door_id),
            )
            self._publish_state()
        log.info("command %s from %s: %s (%s)", command.action, command.issued_by, reason, detail)

    def _execute(self, command: DoorCommand, now: datetime) -> tuple[bool, str, str]:
        action, by = command.action, command.issued_by
        if action == "resync":
            self.request_resync("asked by " + by)
            return True, "resync", "fetching the snapshot again"
        if action in ("normal", "lockdown"):
            override = Override(Mode.LOCKDOWN, None, by) if action == "lockdown" else None
            self.modes.set_override(override)
            self._update_mode(now, "command", by)
            return True, action, ""
        if self.mode is Mode.LOCKDOWN:
            return False, "lockdown", "end the lockdown first"
        if action == "hold_open":
            until = now + timedelta(seconds=command.duration_s) if command.duration_s else None
            self.modes.set_override(Override(Mode.HOLD_OPEN, until, by))
            self._update_mode(now, "command", by)
            return True, "hold_open", f"until {until:%H:%M:%S}" if until else "until released"
        granted = self._unlock(command.duration_s or self.config.lock.unlock_s, "a command")
        if not granted:
            return False, "lock_fault", "the lock did not release"
        return True, "unlocked", f"for {granted:g} s"

    # --- list sync -------------------------------------------------------------

    def on_list_update(self, delivery: Delivery[AclDelta]) -> None:
        """Queue a delta for the sync thread, behind any snapshot before it."""
        self._updates.put(delivery.message)

    def on_snapshot_payload(self, payload: Payload) -> None:
        """Queue a snapshot, still undecoded: the sync thread decodes it in batches."""
        self._updates.put(payload.data)

    def on_hub_availability(self, delivery: Delivery[Availability]) -> None:
        """Follow whether the hub is online: the list is current only while it is."""
        with self._lock:
            self.hub_online = delivery.message.status == "online"

    def request_resync(self, why: str) -> None:
        """Fetch the retained snapshot again; decisions go on with the current list."""
        with self._lock:
            self.resyncs += 1
            self._synced_connection = -1
        log.warning("access list resync: %s", why)
        try:
            self.link.resubscribe(self.topics.door_acl_snapshot(self.door_id))
        except HublinkError as err:
            log.error("cannot ask for the snapshot again: %s", err)

    def apply_update(self, update: bytes | AclSnapshot | AclDelta) -> None:
        """Apply a snapshot (raw or decoded) or a delta (the sync thread calls this)."""
        connection = self.link.stats.connects
        try:
            if isinstance(update, AclDelta):
                self._apply_delta(update)
            else:
                self._apply_snapshot(update)
                with self._lock:
                    self._synced_connection = connection
        except (ReplicaError, MessageError) as err:
            with self._lock:
                self.rejected += 1
            self._publish_log.log(logging.ERROR, "access list update refused: %s", err)
            return
        with self._lock:
            self._update_mode(self.clock(), "schedule", "the access list changed")
            self._publish_state()

    def _apply_snapshot(self, update: bytes | AclSnapshot) -> None:
        if isinstance(update, AclSnapshot):
            version, changed = update.version, self.replica.apply_snapshot(update)
        elif peek_version(update) == self.replica.version > 0:
            log.debug("access list confirmed at version %d", self.replica.version)
            return  # the hub republished the list the door has: no need to decode it
        else:
            large = len(update) > LARGE_PAYLOAD
            changed = (apply_in_child if large else apply_payload)(self.replica, update)
            version = self.replica.version
        log.info(
            "access list %s at version %d (%d entries)",
            "applied" if changed else "confirmed",
            version,
            len(self.replica),
        )

    def _apply_delta(self, delta: AclDelta) -> None:
        outcome = self.replica.apply_delta(delta)
        if outcome is DeltaOutcome.OUT_OF_SYNC:
            self.request_resync(
                f"delta {delta.from_version}->{delta.to_version} does not follow "
                f"version {self.replica.version}"
            )
        elif outcome is DeltaOutcome.APPLIED:
            log.info("access list delta applied: version %d", delta.to_version)

    def _apply_updates(self) -> None:
        while (update := self._updates.get()) is not None:
            try:
                self.apply_update(update)
            except Exception:  # never let the sync thread die
                log.exception("applying an access list update failed")
            del update  # a 100,000-entry list must not outlive its apply

    @property
    def in_sync(self) -> bool:
        """Connected, hub online and the list confirmed on this connection."""
        return (
            self.link.connected
            and self.hub_online
            and self._synced_connection == self.link.stats.connects
        )

    # --- time ------------------------------------------------------------------

    def tick(self) -> None:
        """What time alone changes: modes, held-open, the sync clock, state, telemetry."""
        with self._lock:
            now, mono = self.clock(), self.monotonic()
            cause = "expiry" if self.modes.expire(now) else "schedule"
            self._update_mode(now, cause, "")
            if self.mode in HELD_MODES:
                self._keep_open()
            self._publish_alarms(self.watch.tick(mono, self.mode in HELD_MODES))
            if self.in_sync:
                self.last_sync = now
                if mono - self._saved_sync_at >= SAVE_SYNC_EVERY_S:
                    self._save_sync()
            self._publish_state()
            if mono >= self._next_telemetry:
                self._next_telemetry = mono + self.config.door.telemetry_interval_s
                self._publish_telemetry(mono)

    def _update_mode(self, now: datetime, cause: str, detail: str) -> None:
        mode = self.modes.mode(now, self.replica.policy)
        saved = self.modes.saved()
        if saved != self._saved_modes:
            self._save("mode", saved)
            self._saved_modes = saved
        if mode is self.mode:
            return
        previous, self.mode = self.mode, mode
        if mode in HELD_MODES:
            self._keep_open()
        elif previous in HELD_MODES or mode is Mode.LOCKDOWN:
            self.hardware.lock.lock()
        self._publish_event(
            ModeEvent(mode=mode.value, previous=previous.value, cause=cause, detail=detail)
        )
        log.warning(
            "door mode %s -> %s (%s%s)", previous, mode, cause, f": {detail}" if detail else ""
        )

    def _keep_open(self) -> None:
        """Held open: keep the lock released, renewing well before it would relock."""
        lock = self.hardware.lock
        left = lock.relock_in
        if left is None or left < lock.max_unlock_s / 2:
            self._unlock(lock.max_unlock_s, "hold open")

    def _save_sync(self) -> None:
        self._saved_sync_at = self.monotonic()
        if self.last_sync is not None:
            self._save("last_sync", self.last_sync.isoformat())

    def _save(self, key: str, value: Any) -> None:
        try:
            self.saved.put(key, value)
        except DoorError as err:  # the door goes on; it only forgets this on a restart
            self._publish_log.log(logging.ERROR, "%s", err)

    # --- publishing --------------------------------------------------------------

    def _publish_event(self, message: Message, topic: str | None = None) -> None:
        try:
            self.link.publish(topic or self.topics.door_event(self.door_id), message)
        except HublinkError as err:  # outbox full or unwritable: the door keeps working
            self._publish_log.log(logging.ERROR, "event not stored: %s", err)

    def _publish_alarms(self, changes: list[AlarmChange]) -> None:
        for change in changes:
            log.warning(
                "alarm %s %s: %s",
                change.alarm,
                "raised" if change.active else "cleared",
                change.detail,
            )
            self._publish_event(
                AlarmEvent(alarm=change.alarm, active=change.active, detail=change.detail)
            )

    def state(self) -> DoorState:
        """The door's state now."""
        contact = self.hardware.door_contact
        return DoorState(
            lock="locked" if self.hardware.lock.locked else "unlocked",
            contact="unknown" if contact is None else ("open" if contact.is_open else "closed"),
            mode=self.mode.value,
            acl_version=self.replica.version,
            last_sync=self.last_sync,
            alarms=tuple(sorted(self.watch.active)),
        )

    def _publish_state(self) -> None:
        state = self.state()
        fields = state.model_dump(exclude={"id", "ts", "last_sync"})
        fields["synced"] = self.last_sync is not None
        if fields == self._last_state:
            return
        self._last_state = fields  # retained: the link sends it once connected
        try:
            self.link.publish(self.topics.door_state(self.door_id), state)
        except HublinkError as err:
            self._publish_log.log(logging.ERROR, "state not published: %s", err)

    def telemetry(self, mono: float | None = None) -> DoorTelemetry:
        """Tap latency, reader health and outbox depth now."""
        reader = self.hardware.reader
        outbox = self.link.outbox
        return DoorTelemetry(
            uptime_s=(mono if mono is not None else self.monotonic()) - self._started_at,
            taps=self.latency.count,
            tap_p50_ms=self.latency.percentile(0.5),
            tap_p95_ms=self.latency.percentile(0.95),
            reader=ReaderHealth(
                reader_id=reader.reader_id,
                open=reader.is_open,
                errors=reader.stats.errors,
                reinitialised=reader.stats.reinitialised,
                rejected_frames=reader.rejected_frames,
                last_error=reader.stats.last_error[:500] if reader.stats.last_error else None,
            ),
            outbox_depth=len(outbox) if outbox is not None else 0,
            acl_entries=len(self.replica),
            resyncs=self.resyncs,
            rejected_messages=self.link.stats.rejected + self.rejected,
        )

    def _publish_telemetry(self, mono: float) -> None:
        try:
            self.link.publish(self.topics.door_telemetry(self.door_id), self.telemetry(mono))
        except HublinkError as err:
            self._publish_log.log(logging.ERROR, "telemetry not published: %s", err)
