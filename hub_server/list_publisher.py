"""Publishing access lists: a delta at once on every change, the whole list retained.

The publisher watches the store's ``access_lists`` counter (bumped by
triggers on every change that matters to a list, from any process) and is
also woken directly by writes in the server process. On a change it
recomputes every list, and for each door whose list changed it

1. records the door's new version in ``door_lists`` (before sending, so a
   version number is never reused for different content after a crash),
2. publishes an :class:`AclDelta` from the previous version at once
   (QoS 1), so a revoked card stops working within a second, and
3. republishes the retained :class:`AclSnapshot` (at most every
   ``snapshot_interval_s``; at once when the change is too large for a
   delta). A door that missed a delta fetches that snapshot.

At start every door's snapshot is published; a list whose content is what
``door_lists`` recorded keeps its version, so doors do not reload it.

Lists depend on the time too (grants and guest passes that end or come
within reach; see :mod:`hub_server.access_lists`), so a pass also runs every
``refresh_s`` (5 minutes) and when the day changes; it publishes only the
lists whose content changed.
"""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from hub_server.access_lists import DoorList, EntryKey, compute
from hub_server.config import CommunitySection
from hub_server.store import Store, now_text
from hub_server.woken_thread import WokenThread
from hublink.messages import AclDelta, AclEntry, AclSnapshot, Message, utcnow
from hublink.topics import Topics

log = logging.getLogger(__name__)

MAX_DELTA_ENTRIES = 5000
"""Changes beyond this go out as a snapshot only (a delta's limit is 1 MiB)."""
REFRESH_S = 300.0
"""Lists are recomputed at least this often, so grants and passes that end fall out."""


class Publisher(Protocol):
    """Where lists go: a :class:`hublink.link.Link` in the server."""

    def publish(self, topic: str, message: Message) -> bool: ...


@dataclass
class Published:
    """What a door was last sent."""

    version: int
    lists: DoorList


@dataclass
class PublisherStats:
    """Counters for logs, tests and benchmarks."""

    passes: int = 0
    deltas: int = 0
    snapshots: int = 0
    last_compute_ms: float = 0.0


class ListPublisher(WokenThread):
    """Keeps every door's published list in step with the store."""

    def __init__(
        self,
        store: Store,
        link: Publisher,
        topics: Topics,
        timezone: str,
        *,
        snapshot_interval_s: float = 1.0,
        poll_interval_s: float = 0.05,
        monotonic: Callable[[], float] = time.monotonic,
        today: Callable[[], date] = date.today,
        clock: Callable[[], datetime] = utcnow,
        community: CommunitySection | None = None,
        refresh_s: float = REFRESH_S,
    ) -> None:
        super().__init__()
        self.store = store
        self.link = link
        self.topics = topics
        self.timezone = timezone
        self.snapshot_interval_s = snapshot_interval_s
        self.poll_interval_s = poll_interval_s
        self.monotonic = monotonic
        self.today = today
        self.clock = clock
        self.community = community
        self.refresh_s = refresh_s
        self.stats = PublisherStats()
        self._published: dict[str, Published] = {}
        self._snapshot_due: dict[str, float] = {}
        self._seen: tuple[int, date] | None = None
        self._refresh_due = 0.0
        self._lock = threading.Lock()

    # --- the thread ----------------------------------------------------------

    def start(self) -> "ListPublisher":
        """Publish every list now, then follow changes on a thread."""
        self.check()
        self.store.on_commit(self.wake)  # a write here is seen at once; others by polling
        self._start_thread("hub-lists")
        return self

    failure_message = "could not publish access lists; trying again"

    def _timeout(self) -> float:
        due = min(self._snapshot_due.values(), default=None)
        if due is None:
            return self.poll_interval_s
        return max(0.0, min(self.poll_interval_s, due - self.monotonic()))

    def _work(self) -> None:
        self.check()

    def _finished(self) -> None:
        self.flush(force=True)

    # --- one pass ------------------------------------------------------------

    def check(self) -> bool:
        """Recompute if the store or the day changed or a refresh is due, publish what
        changed; then send due snapshots. True if it recomputed."""
        with self._lock:
            seen = (self.store.counter("access_lists"), self.today())
            changed = seen != self._seen or self.monotonic() >= self._refresh_due
            if changed:
                self._sync()
                self._seen = seen
                self._refresh_due = self.monotonic() + self.refresh_s
            self.flush()
            return changed

    def _sync(self) -> None:
        started = time.perf_counter()
        lists = compute(
            self.store, self.timezone, self.today(), now=self.clock(), community=self.community
        )
        self.stats.last_compute_ms = (time.perf_counter() - started) * 1000
        self.stats.passes += 1
        stored = {
            row["door_id"]: (row["version"], row["digest"])
            for row in self.store.query("SELECT door_id, version, digest FROM door_lists")
        }
        fresh: dict[str, Published] = {}
        deltas: list[AclDelta] = []
        snapshot_now: list[str] = []
        diffs: dict[tuple[int, int], tuple[list[str], list[str]]] = {}
        for door_id, door_list in lists.items():
            before = self._published.get(door_id)
            if before is not None and before.lists.digest == door_list.digest:
                fresh[door_id] = Published(before.version, door_list)
                continue
            if before is None:
                version, digest = stored.get(door_id, (0, ""))
                if digest != door_list.digest:
                    version += 1
                fresh[door_id] = Published(version, door_list)
                snapshot_now.append(door_id)
                continue
            key = (id(before.lists.entries), id(door_list.entries))
            if key not in diffs:
                diffs[key] = _diff(before.lists.entries, door_list.entries)
            upserts, removes = _with_overlays(diffs[key], before.lists, door_list)
            version = max(before.version, stored.get(door_id, (0, ""))[0]) + 1
            fresh[door_id] = Published(version, door_list)
            if len(upserts) + len(removes) > MAX_DELTA_ENTRIES:
                snapshot_now.append(door_id)
                continue
            policy_changed = before.lists.policy != door_list.policy
            deltas.append(
                AclDelta(
                    door_id=door_id,
                    from_version=before.version,
                    to_version=version,
                    policy=door_list.policy if policy_changed else None,
                    upserts=tuple(door_list.entry(c) for c in upserts),
                    removes=tuple(removes),
                )
            )
            self._snapshot_due.setdefault(door_id, self.monotonic() + self.snapshot_interval_s)
        self._record(fresh, stored)
        self._published = fresh
        for door_id in list(self._snapshot_due):
            if door_id not in fresh:
                del self._snapshot_due[door_id]
        for delta in deltas:
            self.link.publish(self.topics.door_acl_delta(delta.door_id), delta)
            self.stats.deltas += 1
        built: dict[int, tuple[AclEntry, ...]] = {}
        for door_id in snapshot_now:
            self._send_snapshot(door_id, built)
        if deltas or snapshot_now:
            log.info(
                "access lists: %d delta(s), %d snapshot(s) published (computed in %.0f ms)",
                len(deltas), len(snapshot_now), self.stats.last_compute_ms,
            )  # fmt: skip

    def _record(self, fresh: dict[str, Published], stored: dict[str, tuple[int, str]]) -> None:
        changed = [
            (door_id, p.version, p.lists.digest, now_text())
            for door_id, p in fresh.items()
            if stored.get(door_id) != (p.version, p.lists.digest)
        ]
        if not changed:
            return
        with self.store.write() as db:
            db.conn.executemany(
                "INSERT INTO door_lists (door_id, version, digest, published_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (door_id) DO UPDATE SET"
                " version = excluded.version, digest = excluded.digest,"
                " published_at = excluded.published_at",
                changed,
            )

    def flush(self, *, force: bool = False) -> None:
        """Send the snapshots that are due (all pending ones with ``force``)."""
        now = self.monotonic()
        built: dict[int, tuple[AclEntry, ...]] = {}
        for door_id, due in list(self._snapshot_due.items()):
            if force or due <= now:
                self._send_snapshot(door_id, built)

    def _send_snapshot(self, door_id: str, built: dict[int, tuple[AclEntry, ...]]) -> None:
        """Publish a door's snapshot; ``built`` holds the entries made for others in this pass.

        Doors of a group share one entries mapping, so their (frozen) entries
        are made once per pass rather than once per door, and let go after it.
        """
        self._snapshot_due.pop(door_id, None)
        published = self._published.get(door_id)
        if published is None:
            return
        lists = published.lists
        key = id(lists.entries)  # alive for the pass: ``_published`` holds it
        entries = built.get(key)
        if entries is None:
            entries = built[key] = tuple(lists.shared_entries())
        if lists.overlay:  # this door's cards with grants, in place of the shared entries
            entries = tuple(
                lists.entry(e.credential) if e.credential in lists.overlay else e for e in entries
            )
        snapshot = AclSnapshot(
            door_id=door_id,
            version=published.version,
            policy=published.lists.policy,
            entries=entries,
        )
        self.link.publish(self.topics.door_acl_snapshot(door_id), snapshot)
        self.stats.snapshots += 1


def _diff(before: dict[str, EntryKey], after: dict[str, EntryKey]) -> tuple[list[str], list[str]]:
    """Credentials added or changed, and credentials removed."""
    upserts = sorted(c for c, key in after.items() if before.get(c) != key)
    removes = sorted(c for c in before if c not in after)
    return upserts, removes


def _with_overlays(
    shared: tuple[list[str], list[str]], before: DoorList, after: DoorList
) -> tuple[list[str], list[str]]:
    """The diff of the shared entries corrected for the cards either door list overlays."""
    if not before.overlay and not after.overlay:
        return shared
    upserts = set(shared[0])
    for credential in before.overlay.keys() | after.overlay.keys():
        latest = after.key(credential)
        if latest is not None and latest != before.key(credential):
            upserts.add(credential)
        else:
            upserts.discard(credential)
    return sorted(upserts), shared[1]
