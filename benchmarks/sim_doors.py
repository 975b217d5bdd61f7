"""Doors without hardware for the hub benchmarks: each door's list sync as ``DoorController``
runs it, in a helper process.

Each door has a ``Replica`` of its own (SQLite, WAL) and a ``Link`` of its
own (paho client) subscribed to ``door/<door_id>/acl/snapshot`` (the payload
left undecoded) and ``door/<door_id>/acl/delta`` (with dedupe), and a thread
applying what arrives in order: a snapshot skipped when ``peek_version``
finds the replica's version in it, else taken up with ``apply_payload``; a
delta with ``Replica.apply_delta``, a resubscription to the snapshot when it
does not follow. After each update the door decides the watched card with
``door.decision.decide`` on ``replica.lookup`` at the current time, as a tap
would, and notes (``time.perf_counter``, a system-wide clock) the first time
it is refused.
"""

import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.common import CONNECT_TIMEOUT_S, BenchmarkError, mqtt_config, wait_until
from benchmarks.hub_common import DoorSpec
from door.controller import peek_version
from door.decision import Situation, decide
from door.errors import DoorError
from door.list_apply import apply_payload
from door.replica import DeltaOutcome, Replica
from hublink.errors import HublinkError
from hublink.link import Delivery, Link, Payload
from hublink.messages import AclDelta, utcnow
from hublink.topics import Topics


@dataclass(frozen=True)
class Ready:
    """The doors' process has every door connected and holding its first list."""

    setup_s: float
    entries: list[int]
    versions: list[int]


@dataclass(frozen=True)
class Denied:
    """When each door first refused the watched card (``perf_counter``), and why."""

    at: dict[str, float]
    reasons: dict[str, str]


@dataclass(frozen=True)
class DoorStats:
    """What the doors' process applied over the run."""

    snapshots_applied: int
    snapshots_skipped: int
    deltas_applied: int
    deltas_already_had: int
    resyncs: int
    errors: int


@dataclass
class SimDoor:
    """A door's list sync as ``DoorController`` runs it, without hardware."""

    spec: DoorSpec
    replica: Replica
    link: Link
    updates: "queue.Queue[bytes | AclDelta | None]" = field(default_factory=queue.Queue)
    watched: str | None = None
    denied_at: float | None = None
    reason: str = ""
    counts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(DoorStats.__dataclass_fields__, 0)
    )

    def subscribe(self) -> None:
        """As ``DoorController.subscribe`` does for the list."""
        topics = self.link.topics
        self.link.subscribe_payload(topics.door_acl_snapshot(self.spec.id), self._on_snapshot)
        self.link.subscribe(topics.door_acl_delta(self.spec.id), self._on_delta, dedupe=True)

    def _on_snapshot(self, payload: Payload) -> None:
        self.updates.put(payload.data)

    def _on_delta(self, delivery: Delivery[AclDelta]) -> None:
        self.updates.put(delivery.message)

    def run(self) -> None:
        """The sync thread: apply updates in order; after each, decide the watched card."""
        while (update := self.updates.get()) is not None:
            try:
                self._apply(update)
                self._check()
            except (DoorError, HublinkError):
                self.counts["errors"] += 1
            finally:
                self.updates.task_done()
        self.updates.task_done()

    def _apply(self, update: bytes | AclDelta) -> None:
        if isinstance(update, AclDelta):
            outcome = self.replica.apply_delta(update)
            if outcome is DeltaOutcome.OUT_OF_SYNC:
                self.counts["resyncs"] += 1
                self.link.resubscribe(self.link.topics.door_acl_snapshot(self.spec.id))
            elif outcome is DeltaOutcome.APPLIED:
                self.counts["deltas_applied"] += 1
            else:
                self.counts["deltas_already_had"] += 1
        elif peek_version(update) == self.replica.version > 0:
            self.counts["snapshots_skipped"] += 1
        else:
            apply_payload(self.replica, update)
            self.counts["snapshots_applied"] += 1

    def decide(self, hashed: str) -> tuple[bool, str]:
        """A tap of the card with ``hashed`` now, as the door decides it."""
        now = utcnow()
        policy = self.replica.policy
        situation = Situation(tiers=policy.tiers, schedules=policy.schedules, last_sync=now)
        decision = decide(self.replica.lookup(hashed), now, situation)
        return decision.granted, decision.reason

    def _check(self) -> None:
        watched = self.watched
        if watched is None or self.denied_at is not None:
            return
        granted, reason = self.decide(watched)
        if not granted:
            self.denied_at, self.reason = time.perf_counter(), reason


@contextmanager
def sim_doors(
    port: int, topics: Topics, specs: Sequence[DoorSpec], folder: Path, client_prefix: str
) -> Iterator[list[SimDoor]]:
    """Start a :class:`SimDoor` per spec (replicas in ``folder``, client ids
    ``<client_prefix>-<door_id>``); stop them all on leaving."""
    doors: list[SimDoor] = []
    threads: list[threading.Thread] = []
    try:
        for spec in specs:
            replica = Replica(folder / f"{spec.id}.sqlite3", spec.id)
            link = Link(mqtt_config(port), topics, client_id=f"{client_prefix}-{spec.id}")
            door = SimDoor(spec, replica, link)
            door.subscribe()
            doors.append(door)
            thread = threading.Thread(target=door.run, name=f"acl-{spec.id}", daemon=True)
            thread.start()
            threads.append(thread)
            link.start()
        yield doors
    finally:
        for door in doors:
            door.updates.put(None)
        for thread in threads:
            thread.join(CONNECT_TIMEOUT_S)
        for door in doors:
            door.link.stop()
            door.replica.close()


def wait_ready(doors: list[SimDoor], started: float, timeout: float) -> Ready:
    """Wait until every door is connected and holds a list (within ``timeout``)."""
    wait_all(lambda: all(d.link.connected for d in doors), CONNECT_TIMEOUT_S, "to connect")
    wait_all(lambda: all(d.replica.version > 0 for d in doors), timeout, "a list")
    return Ready(
        time.perf_counter() - started,
        [len(d.replica) for d in doors],
        [d.replica.version for d in doors],
    )


def arm(doors: list[SimDoor], hashed: str, timeout: float) -> None:
    """Wait until no door has anything to apply, then watch ``hashed`` (granted everywhere)."""
    wait_all(lambda: all(d.updates.unfinished_tasks == 0 for d in doors), timeout, "idle")
    for door in doors:
        door.denied_at, door.reason = None, ""
        granted, reason = door.decide(hashed)
        if not granted:
            raise BenchmarkError(f"door {door.spec.id} refuses the card to watch: {reason}")
        door.watched = hashed


def wait_denied(doors: list[SimDoor], timeout: float) -> Denied:
    """Wait until every door has refused the watched card; when and why each did."""
    wait_all(lambda: all(d.denied_at is not None for d in doors), timeout, "to refuse the card")
    return Denied(
        {d.spec.id: d.denied_at for d in doors if d.denied_at is not None},
        {d.spec.id: d.reason for d in doors},
    )


def door_totals(doors: list[SimDoor]) -> DoorStats:
    """What all the doors applied, summed."""
    totals = dict.fromkeys(DoorStats.__dataclass_fields__, 0)
    for door in doors:
        for key, value in door.counts.items():
            totals[key] += value
    return DoorStats(**totals)


def wait_all(check: Callable[[], bool], timeout: float, what: str) -> None:
    """Wait until ``check`` holds for every door; :class:`BenchmarkError` after ``timeout``."""
    wait_until(check, timeout, f"every door {what}")
