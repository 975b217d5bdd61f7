"""Home Assistant: the discovery configs kept published, and its lock commands carried out.

Configs (:mod:`hub_server.ha_discovery`) are published retained, QoS 1, on
start, whenever Home Assistant announces ``online`` on its status topic (not
a retained ``online`` seen on subscribing: the start published already), and
when zones, rooms or doors change: the publisher follows the ``places`` and
``access_lists`` counters (any process), is woken by a commit here, and looks
again every ``refresh_s`` (a door renamed bumps no counter). The
``ha_discovery`` table records each published topic with its payload's digest,
so a config is sent again only when it changed, and one whose zone, room or door
is gone, even while the hub was stopped, gets an empty retained payload (Home
Assistant removes the entity) and loses its row. With Home Assistant turned
off, the start does exactly that for every row, then nothing is published.

A lock command (plain ``LOCK``, ``UNLOCK`` or ``OPEN``, any case) becomes a
door command of the hub (:func:`hub_server.commands.issue`): recorded,
audited, sent by the hub, refused by a door in lockdown. ``UNLOCK`` and
``OPEN`` unlock for ``unlock_s``; ``LOCK`` is ``normal``, which ends a hold-open
and relocks, and is not sent while the door last said it is in lockdown (from
Home Assistant it would lift the lockdown). A retained command (it would act
again on every reconnect), an oversize or unknown payload, an unknown door:
logged and counted, never raised into the link's thread, which only queues.
"""

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from hub_server import commands
from hub_server.config import HomeAssistantSection
from hub_server.errors import HubError, Refused
from hub_server.ha_discovery import (
    PAYLOAD_LOCK,
    PAYLOAD_OPEN,
    PAYLOAD_UNLOCK,
    Inventory,
    Named,
    configs,
    digest,
)
from hub_server.store import Store, now_text
from hub_server.woken_thread import WokenThread
from hublink.errors import HublinkError
from hublink.link import Link, RawMessage
from hublink.ratelog import RateLimitedLog
from hublink.topics import ANY, ha_lock_command, ha_lock_command_door

log = logging.getLogger(__name__)

ACTOR = "home-assistant"
"""Who the door commands and the audit log say acted."""
ACTIONS: dict[str, commands.Action] = {
    PAYLOAD_UNLOCK: "unlock",
    PAYLOAD_OPEN: "unlock",
    PAYLOAD_LOCK: "normal",
}
MAX_COMMAND_BYTES = 32
QUEUED_COMMANDS = 100
"""Commands waiting for the publisher's thread; past it new ones are dropped and counted."""
REFRESH_S = 60.0
COUNTERS = ("places", "access_lists")


@dataclass
class HomeAssistantStats:
    """What the publisher did, for logs and tests."""

    published: int = 0
    """Config payloads handed to the link."""
    removed: int = 0
    """Empty retained payloads sent for entities that are gone."""
    announcements: int = 0
    """Home Assistant's ``online`` announcements answered."""
    commands: int = 0
    """Lock commands passed on to a door."""
    rejected: int = 0
    """Messages dropped: retained or unknown commands, oversize, bad status payloads."""
    refused: int = 0
    """Commands not sent: an unknown door, a lockdown, the broker away."""


class HomeAssistantPublisher(WokenThread):
    """Keeps Home Assistant's discovery configs in step with the store; obeys its lock."""

    failure_message = "Home Assistant discovery failed; trying again"

    def __init__(
        self,
        store: Store,
        link: Link,
        settings: HomeAssistantSection,
        *,
        site_name: str,
        poll_interval_s: float = 0.05,
        refresh_s: float = REFRESH_S,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.store = store
        self.link = link
        self.topics = link.topics
        self.settings = settings
        self.site_name = site_name
        self.poll_interval_s = poll_interval_s
        self.refresh_s = refresh_s
        self.monotonic = monotonic
        self.stats = HomeAssistantStats()
        self._seen: tuple[int, ...] | None = None
        self._due = 0.0
        self._announced = threading.Event()
        self._commands: queue.Queue[tuple[str, str]] = queue.Queue(QUEUED_COMMANDS)
        self._lock = threading.Lock()
        self._bad_input = RateLimitedLog(log)

    # --- wiring --------------------------------------------------------------

    def attach(self) -> None:
        """Subscribe to Home Assistant's status and lock commands (before the link starts)."""
        if not self.settings.enabled:
            return
        self.link.subscribe_raw(self.settings.status_topic, self.on_status)
        self.link.subscribe_raw(ha_lock_command(self.topics, ANY), self.on_command)

    def start(self) -> "HomeAssistantPublisher":
        """Publish every config (or, turned off, remove what was), then follow changes."""
        if not self.settings.enabled:
            self.sync(wanted={})
            return self
        self.sync(force=True)
        self.store.on_commit(self.wake)
        self._start_thread("hub-home-assistant")
        return self

    # --- on the link's thread ------------------------------------------------

    def on_status(self, message: RawMessage) -> None:
        """Home Assistant started (``online``): publish every config again, on our thread."""
        status = message.payload.strip()
        if status == b"online" and not message.retained:
            self._announced.set()
            self.wake()
        elif status not in (b"online", b"offline"):
            self._reject(message.topic, "not online or offline")

    def on_command(self, message: RawMessage) -> None:
        """Check a lock command and queue it for the thread."""
        door_id = ha_lock_command_door(self.topics, message.topic)
        if message.retained:
            self._reject(message.topic, "a retained command is never carried out")
        elif door_id is None:
            self._reject(message.topic, "not a lock command topic")
        elif len(message.payload) > MAX_COMMAND_BYTES:
            self._reject(message.topic, f"{len(message.payload)} bytes, over {MAX_COMMAND_BYTES}")
        else:
            word = message.payload.decode("ascii", "replace").strip().upper()
            if word not in ACTIONS:
                self._reject(message.topic, f"{word!r} is not LOCK, UNLOCK or OPEN")
                return
            try:
                self._commands.put_nowait((door_id, word))
            except queue.Full:
                self._reject(message.topic, "too many commands waiting")
                return
            self.wake()

    def _reject(self, topic: str, why: str) -> None:
        self.stats.rejected += 1
        self._bad_input.log(logging.WARNING, "Home Assistant message on %s dropped: %s", topic, why)

    # --- the thread ----------------------------------------------------------

    def _work(self) -> None:
        self.carry_out()
        if self._announced.is_set():
            self._announced.clear()
            self.stats.announcements += 1
            self.sync(force=True)
        elif self._counters() != self._seen or self.monotonic() >= self._due:
            self.sync()

    def carry_out(self) -> int:
        """Send the queued lock commands to their doors; how many went out."""
        sent = 0
        while True:
            try:
                door_id, word = self._commands.get_nowait()
            except queue.Empty:
                return sent
            sent += self._issue(door_id, word)

    def _issue(self, door_id: str, word: str) -> bool:
        action = ACTIONS[word]
        try:
            if action == "normal" and self._in_lockdown(door_id):
                raise Refused("lockdown", "the door is in lockdown; only an operator ends it")
            commands.issue(
                self.store,
                self.link,
                door_id,
                action,
                ACTOR,
                duration_s=self.settings.unlock_s if action == "unlock" else None,
            )
        except (HubError, HublinkError) as err:
            self.stats.refused += 1
            log.warning("Home Assistant's %s for door %s not sent: %s", word, door_id, err)
            return False
        self.stats.commands += 1
        log.info("Home Assistant: %s door %s", word, door_id)
        return True

    def _in_lockdown(self, door_id: str) -> bool:
        row = self.store.query_one("SELECT mode FROM door_status WHERE door_id = ?", (door_id,))
        return row is not None and row["mode"] == "lockdown"

    def _counters(self) -> tuple[int, ...]:
        """The counters that zone, room and door changes bump, in one query."""
        rows = self.store.query(
            "SELECT value FROM counters WHERE name IN (?, ?) ORDER BY name", COUNTERS
        )
        return tuple(row[0] for row in rows)

    # --- publishing ----------------------------------------------------------

    def inventory(self) -> Inventory:
        """The site's zones, rooms in a zone and doors, as the store has them now."""

        def named(sql: str) -> tuple[Named, ...]:
            return tuple(Named(row["id"], row["name"]) for row in self.store.query(sql))

        return Inventory(
            site_id=self.topics.site_id,
            site_name=self.site_name,
            zones=named("SELECT id, name FROM zones ORDER BY id"),
            rooms=named("SELECT id, name FROM rooms WHERE zone_id IS NOT NULL ORDER BY id"),
            doors=named("SELECT id, name FROM doors ORDER BY id"),
        )

    def sync(self, *, force: bool = False, wanted: dict[str, bytes] | None = None) -> int:
        """Publish the configs that changed (``force``: all) and remove those that are gone.

        ``wanted`` replaces the configs of the store's inventory (``{}``: remove every
        one the table has). Returns how many payloads went to the link.
        """
        with self._lock:
            seen = self._counters()  # before reading: a later change shows on the next pass
            if wanted is None:
                wanted = configs(self.inventory(), self.topics, self.settings.prefix)
            recorded = {
                row["topic"]: row["digest"]
                for row in self.store.query("SELECT topic, digest FROM ha_discovery")
            }
            changed = {
                topic: payload
                for topic, payload in wanted.items()
                if force or recorded.get(topic) != digest(payload)
            }
            gone = sorted(set(recorded) - set(wanted))
            for topic, payload in changed.items():
                self.link.publish_raw(topic, payload, retain=True, qos=1)
                self.stats.published += 1
            for topic in gone:
                self.link.publish_raw(topic, b"", retain=True, qos=1)
                self.stats.removed += 1
            self._record(changed, gone)
            self._seen = seen
            self._due = self.monotonic() + self.refresh_s
            if changed or gone:
                log.info(
                    "Home Assistant discovery: %d config(s) published, %d removed",
                    len(changed), len(gone),
                )  # fmt: skip
            return len(changed) + len(gone)

    def _record(self, changed: dict[str, bytes], gone: list[str]) -> None:
        if not changed and not gone:
            return
        now = now_text()
        with self.store.write() as db:
            db.conn.executemany(
                "INSERT INTO ha_discovery (topic, digest, published_at) VALUES (?, ?, ?)"
                " ON CONFLICT (topic) DO UPDATE SET digest = excluded.digest,"
                " published_at = excluded.published_at",
                [(topic, digest(payload), now) for topic, payload in changed.items()],
            )
            db.conn.executemany("DELETE FROM ha_discovery WHERE topic = ?", [(t,) for t in gone])
