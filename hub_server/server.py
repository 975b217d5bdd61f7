"""The hub server process: the store, the bus, and what runs between them.

Threads: the link's (paho's network thread queues what arrives), the ingest
(writes batches, then answers kiosk requests), the list publisher (deltas and
snapshots), the kiosk directory publisher, the upcoming events publisher, the
Home Assistant discovery publisher, the notification sender, retention
(deleting what is past keeping), housekeeping (automatic check-out, expired
enrolments, occupancy as it changes, when the site opened or closed) and,
when enabled, the HTTP server.
"""

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from hub_server import bridge, enrolment, presence, retention, site_open, spaceapi, web_sessions
from hub_server.availability import AvailabilityBoard, Device
from hub_server.config import HubConfig
from hub_server.errors import HubError
from hub_server.ha_publisher import HomeAssistantPublisher
from hub_server.http_server import HttpServer
from hub_server.ingest import BatchResult, Ingest
from hub_server.kiosk_directory import DirectoryPublisher
from hub_server.kiosk_requests import KioskRules
from hub_server.list_publisher import ListPublisher
from hub_server.notifications import NotificationSender
from hub_server.occupancy import OccupancyPublisher
from hub_server.store import Store
from hub_server.upcoming_events import UpcomingPublisher
from hublink.link import Link
from hublink.messages import utcnow
from hublink.runtime import setup_logging, stop_event_on_signals
from hublink.systemd import notify
from hublink.topics import Topics

log = logging.getLogger(__name__)

HUB_CLIENT_ID = "hubtap-hub"
HOUSEKEEPING_S = 1.0
PRESENCE_SWEEP_S = 30.0


def hub_link(config: HubConfig) -> Link:
    """The hub's link, with a persistent session: the broker queues QoS 1 while it is away."""
    topics = Topics(config.site.id)
    return Link(
        config.mqtt,
        topics,
        client_id=HUB_CLIENT_ID,
        availability_topic=topics.hub_availability(),
        clean_session=False,
    )


class HubServer:
    """Everything ``hubtap server`` runs, started and stopped in order."""

    def __init__(
        self,
        config: HubConfig,
        store: Store,
        link: Link,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.config = config
        self.store = store
        self.link = link
        self.clock = clock
        self.rules = presence.rules_from(config)
        self.ingest = Ingest(
            store,
            self.rules,
            on_batch=self._after_batch,
            kiosk=KioskRules(config.hub.timezone, config.community),
            clock=clock,
        )
        self.lists = ListPublisher(
            store,
            link,
            link.topics,
            config.hub.timezone,
            snapshot_interval_s=config.lists.snapshot_interval_s,
            poll_interval_s=config.lists.poll_interval_s,
            clock=clock,
            community=config.community,
        )
        self.directories = DirectoryPublisher(
            store, link, link.topics, poll_interval_s=config.lists.poll_interval_s
        )
        self.upcoming = UpcomingPublisher(
            store,
            link,
            link.topics.events_upcoming(),
            days=config.community.upcoming_days,
            poll_interval_s=config.lists.poll_interval_s,
            clock=clock,
        )
        self.notifications = NotificationSender(store, config.community.notify_command)
        self.occupancy = OccupancyPublisher(
            store,
            link,
            link.topics.occupancy(),
            config.occupancy,
            timezone=config.hub.timezone,
            clock=clock,
        )
        self.home_assistant = HomeAssistantPublisher(
            store,
            link,
            config.home_assistant,
            site_name=config.spaceapi.space or config.site.id,
            poll_interval_s=config.lists.poll_interval_s,
        )
        self.availability = AvailabilityBoard(on_change=_log_change)
        self.http = HttpServer(config, store, link) if config.http.enabled else None
        self._stop = threading.Event()
        self._housekeeping: threading.Thread | None = None
        self._retention: threading.Thread | None = None

    def start(self) -> "HubServer":
        """Subscribe, connect, and start every thread; :class:`HubError` if HTTP cannot start."""
        if self.http is not None:
            self.http.start()
        self.availability.attach(self.link)
        bridge.attach(self.link, self.ingest)
        self.home_assistant.attach()
        self.ingest.start()
        self.link.start()
        self.lists.start()
        self.directories.start()
        self.upcoming.start()
        self.home_assistant.start()
        self.notifications.start()
        for problem in spaceapi.config_problems(self.store, self.config.spaceapi):
            log.warning("%s", problem)
        self._observe_open()
        self._sweep()
        self.occupancy.refresh(force=True)
        self._housekeeping = threading.Thread(
            target=self._run_housekeeping, name="hub-housekeeping", daemon=True
        )
        self._housekeeping.start()
        self._retention = threading.Thread(
            target=self._run_retention, name="hub-retention", daemon=True
        )
        self._retention.start()
        return self

    def stop(self) -> None:
        """Stop in reverse order: nothing received is left unwritten."""
        self._stop.set()
        if self.http is not None:
            self.http.stop()
        for thread in (self._housekeeping, self._retention):
            if thread is not None:
                thread.join(5)
        self.lists.stop()
        self.directories.stop()
        self.upcoming.stop()
        self.home_assistant.stop()
        self.notifications.stop()
        self.link.stop()
        self.ingest.stop()

    def __enter__(self) -> "HubServer":
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _after_batch(self, result: BatchResult) -> None:
        for kiosk_id, response in result.responses:
            self.link.publish(self.link.topics.kiosk_response(kiosk_id), response)
        for done in result.enrolled:
            log.info("card …%s enrolled to member %s at door %s", done.hint, done.member_id,
                     done.door_id)  # fmt: skip
        if result.enrolled:
            self.lists.wake()
            self.directories.wake()
        if result.presence_changed:
            self.occupancy.refresh()

    def _run_housekeeping(self) -> None:
        last_sweep = 0.0
        ticks = 0.0
        while not self._stop.wait(HOUSEKEEPING_S):
            ticks += HOUSEKEEPING_S
            try:
                # publishes only what changed, by any process: a stay ended by a `hubtap`
                # command, a zone added, a door's mode or open hours, a booking begun or ended
                self.occupancy.refresh()
                self._observe_open()
                if ticks - last_sweep >= PRESENCE_SWEEP_S:
                    last_sweep = ticks
                    self._sweep()
                notify("WATCHDOG=1")
            except Exception:
                log.exception("housekeeping failed; trying again")

    def _run_retention(self) -> None:
        """Delete what is past keeping at start and every ``interval_h``; on its own thread,
        since a first run over years of records takes seconds (in short transactions)."""
        while not self._stop.is_set():
            try:
                done = retention.run(
                    self.store, self.config.retention, self.clock(), stop=self._stop
                )
                if done.total:
                    log.info("retention: deleted %d record(s) past keeping", done.total)
            except Exception:
                log.exception("retention failed; trying again at the next interval")
            if self._stop.wait(self.config.retention.interval_h * 3600):
                return

    def _observe_open(self) -> None:
        """Note when the site opened or closed (SpaceAPI's ``state.lastchange``)."""
        site_open.observe(self.store, self.clock(), self.config.hub.timezone)

    def _sweep(self) -> None:
        """End stays that ran out (closing time, longest stay), stale enrolments and sessions."""
        with self.store.write() as db:
            ended = presence.expire_due(db, self.rules, self.clock())
        if ended:
            log.info("checked out %d stay(s) automatically", ended)
            self.occupancy.refresh()
        enrolment.expire(self.store)
        policy = web_sessions.SessionPolicy.from_config(self.config.dashboard)
        web_sessions.purge(self.store, policy, self.clock())


def run_server(config: HubConfig) -> int:
    """Run the hub server until SIGINT or SIGTERM; the exit status."""
    setup_logging(config.log_level)
    stop = stop_event_on_signals()
    try:
        with Store.in_folder(config.data_dir) as store:
            server = HubServer(config, store, hub_link(config))
            try:
                server.start()
            except BaseException:
                server.stop()
                raise
            try:
                notify("READY=1")
                log.info("hub server running for site %s", config.site.id)
                stop.wait()
                notify("STOPPING=1")
            finally:
                server.stop()
    except HubError as err:
        log.error("hub server cannot run: %s", err)
        return 1
    return 0


def _log_change(device: Device, status: str) -> None:
    log.info("%s %s is %s", device.kind, device.id, status)
