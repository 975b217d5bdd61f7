"""Kiosk directories: card hash to first name, published retained to every registered kiosk.

A kiosk greets a member by first name from its own copy of the directory, so
it keeps working while the hub is away. The directory holds one entry per
active card of every active member whose validity window is open now:
the card's hash, the member id and the first name; never a last name,
email or organisation. A guest's day pass with a card, valid now, of an
active host, is an entry too: the pass's id, the guest's first name and the
host's first name (the badge says "Guest of Björn").

The publisher watches the store's ``directory`` counter (bumped by triggers
on every change that matters to a directory, from any process), is woken
directly by writes in the server process, and recomputes at least every
``refresh_s`` so that a validity window opening or closing shows. For each
kiosk whose directory changed it records the new version in
``kiosk_directories`` before publishing (a version never stands for two
contents), then publishes the retained :class:`KioskDirectory`. At start
every kiosk's directory is published again; unchanged content keeps its
version. A kiosk that is unregistered is sent one last, empty directory.
"""

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from pydantic import ValidationError

from hub_server import guests
from hub_server.guests import MAX_FIRST_NAME
from hub_server.store import Store, now_text, parse_time
from hub_server.woken_thread import WokenThread
from hublink.errors import MessageError
from hublink.messages import KIOSK_DIRECTORY, DirectoryEntry, KioskDirectory, Message, utcnow
from hublink.ratelog import RateLimitedLog
from hublink.topics import Topics

log = logging.getLogger(__name__)

RETRY_S = 1.0
"""After a failed publish, the next pass comes this soon (not a whole refresh later)."""


class Publisher(Protocol):
    """Where directories go: a :class:`hublink.link.Link` in the server."""

    def publish(self, topic: str, message: Message) -> bool: ...


_skipped = RateLimitedLog(log)


def compute(store: Store, now: datetime) -> tuple[DirectoryEntry, ...]:
    """Every card a kiosk may greet at ``now`` (aware), sorted by credential hash.

    Active cards of active members only; a member whose ``valid_from`` is
    still ahead or whose ``valid_until`` has passed is left out. Then guests'
    passes valid at ``now`` (a card that is a member's stays the member's).
    First names longer than the contract allows are cut to it.
    """
    rows = store.query(
        "SELECT c.hash, m.id, m.first_name, m.valid_from, m.valid_until"
        " FROM members m JOIN credentials c ON c.member_id = m.id"
        " WHERE m.status = 'active' AND c.status = 'active' ORDER BY c.hash"
    )
    entries: dict[str, DirectoryEntry] = {}
    for row in rows:
        valid_from, valid_until = parse_time(row["valid_from"]), parse_time(row["valid_until"])
        if (valid_from is not None and now < valid_from) or (
            valid_until is not None and now >= valid_until
        ):
            continue
        _add(entries, row["hash"], row["id"], row["first_name"], None)
    for row in guests.valid_at(store.read(), now):
        if row["credential"] not in entries:
            _add(entries, row["credential"], row["id"], row["first_name"], row["host_first_name"])
    return tuple(entries[c] for c in sorted(entries))


def _add(
    entries: dict[str, DirectoryEntry],
    credential: str,
    holder: str,
    first_name: str,
    host_first_name: str | None,
) -> None:
    """Add one entry, first names cut to the contract's limit; one that breaks it is logged."""
    try:
        entries[credential] = DirectoryEntry(
            credential=credential,
            member_id=holder,
            first_name=first_name[:MAX_FIRST_NAME],
            host_first_name=host_first_name and host_first_name[:MAX_FIRST_NAME],
        )
    except ValidationError as err:
        _skipped.log(logging.WARNING, "%s left out of the directory: %s", holder, err)


def digest(entries: tuple[DirectoryEntry, ...]) -> str:
    """A fingerprint of a directory's content (the same entries give the same digest)."""
    combined = hashlib.sha256()
    for e in entries:
        line = f"{e.credential}\0{e.member_id}\0{e.first_name}\0{e.host_first_name or ''}\n"
        combined.update(line.encode())
    return combined.hexdigest()


@dataclass
class DirectoryStats:
    """Counters for logs, tests and benchmarks."""

    passes: int = 0
    published: int = 0
    refused: int = 0
    """Directories not sent because they were over the message size limit."""
    failed: int = 0
    """Publishes that raised."""
    last_compute_ms: float = 0.0


class DirectoryPublisher(WokenThread):
    """Keeps every registered kiosk's published directory in step with the store."""

    def __init__(
        self,
        store: Store,
        link: Publisher,
        topics: Topics,
        *,
        poll_interval_s: float = 0.05,
        refresh_s: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        super().__init__()
        self.store = store
        self.link = link
        self.topics = topics
        self.poll_interval_s = poll_interval_s
        self.refresh_s = refresh_s
        self.monotonic = monotonic
        self.clock = clock
        self.stats = DirectoryStats()
        self._seen: int | None = None
        self._due = 0.0
        self._sent: dict[str, str] = {}  # kiosk id -> digest handed to the link
        self._refused: dict[str, str] = {}  # kiosk id -> digest found too large (logged once)
        self._lock = threading.Lock()

    # --- the thread ----------------------------------------------------------

    def start(self) -> "DirectoryPublisher":
        """Publish every kiosk's directory now, then follow changes on a thread."""
        self.publish_all(force=True)
        self.store.on_commit(self.wake)  # a write here is seen at once; others by polling
        self._start_thread("hub-directories")
        return self

    failure_message = "could not publish kiosk directories; trying again"

    def _work(self) -> None:
        self.check()

    # --- one pass ------------------------------------------------------------

    def check(self) -> bool:
        """Publish what changed if the counter moved or a refresh is due; True if it looked."""
        if self.store.counter("directory") == self._seen and self.monotonic() < self._due:
            return False
        self.publish_all()
        return True

    def publish_all(self, *, force: bool = False) -> int:
        """Compute the directory once and publish it to every kiosk whose copy is not current.

        With ``force`` every kiosk's directory is published, changed or not
        (its version stays when its content has). Returns how many were sent.
        """
        with self._lock:
            seen = self.store.counter("directory")  # before computing: a later change shows next
            started = time.perf_counter()
            entries = compute(self.store, self.clock())
            content = digest(entries)
            self.stats.last_compute_ms = (time.perf_counter() - started) * 1000
            self.stats.passes += 1
            self._seen = seen
            self._due = self.monotonic() + self.refresh_s
            kiosk_ids = [row[0] for row in self.store.query("SELECT id FROM kiosks ORDER BY id")]
            stored = {
                row["kiosk_id"]: (row["version"], row["digest"])
                for row in self.store.query(
                    "SELECT kiosk_id, version, digest FROM kiosk_directories"
                )
            }
            to_record: list[tuple[str, int, str, int, str]] = []
            to_send: list[KioskDirectory] = []
            for kiosk_id in kiosk_ids:
                version, recorded = stored.get(kiosk_id, (0, ""))
                if recorded != content:
                    version += 1
                elif not force and self._sent.get(kiosk_id) == content:
                    continue
                message = KioskDirectory(kiosk_id=kiosk_id, version=version, entries=entries)
                if not self._fits(message, content):
                    continue
                if recorded != content:
                    to_record.append((kiosk_id, version, content, len(entries), now_text()))
                to_send.append(message)
            self._record(to_record)
            sent = sum(self._send(message, content) for message in to_send)
            registered = set(kiosk_ids)
            for kiosk_id, (version, _) in sorted(stored.items()):
                if kiosk_id not in registered:
                    sent += self._forget(kiosk_id, version)
            for kiosk_id in list(self._sent):
                if kiosk_id not in registered:
                    del self._sent[kiosk_id]
            if sent:
                log.info(
                    "kiosk directories: %d published, %d entries (computed in %.0f ms)",
                    sent, len(entries), self.stats.last_compute_ms,
                )  # fmt: skip
            return sent

    def _fits(self, message: KioskDirectory, content: str) -> bool:
        """Whether ``message`` is within the topic's size limit; logs once per content if not."""
        try:
            KIOSK_DIRECTORY.encode(message)
        except MessageError as err:
            self.stats.refused += 1
            if self._refused.get(message.kiosk_id) != content:
                self._refused[message.kiosk_id] = content
                log.error(
                    "kiosk %s: directory of %d entries not published: %s",
                    message.kiosk_id, len(message.entries), err,
                )  # fmt: skip
            return False
        self._refused.pop(message.kiosk_id, None)
        return True

    def _record(self, rows: list[tuple[str, int, str, int, str]]) -> None:
        if not rows:
            return
        with self.store.write() as db:
            db.conn.executemany(
                "INSERT INTO kiosk_directories (kiosk_id, version, digest, entries, published_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (kiosk_id) DO UPDATE SET"
                " version = excluded.version, digest = excluded.digest,"
                " entries = excluded.entries, published_at = excluded.published_at",
                rows,
            )

    def _send(self, message: KioskDirectory, content: str) -> bool:
        """Hand ``message`` to the link (a retained value it re-sends on every reconnect)."""
        try:
            self.link.publish(self.topics.kiosk_directory(message.kiosk_id), message)
        except Exception:
            log.exception("could not publish the directory of kiosk %s", message.kiosk_id)
            self.stats.failed += 1
            self._due = min(self._due, self.monotonic() + RETRY_S)
            return False
        self._sent[message.kiosk_id] = content
        self.stats.published += 1
        return True

    def _forget(self, kiosk_id: str, version: int) -> bool:
        """Send an unregistered kiosk an empty directory, then drop its record."""
        empty = KioskDirectory(kiosk_id=kiosk_id, version=version + 1, entries=())
        if not self._send(empty, digest(())):
            return False  # its record stays, so the next pass tries again
        with self.store.write() as db:
            db.execute("DELETE FROM kiosk_directories WHERE kiosk_id = ?", (kiosk_id,))
        log.info("kiosk %s is no longer registered: sent it an empty directory", kiosk_id)
        return True
