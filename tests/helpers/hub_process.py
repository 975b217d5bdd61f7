"""The real ``hubtap server`` process for tests: its ``hub.toml``, start, stop, its database.

The hub runs as production runs it (``hubtap server --config hub.toml``);
the test seeds and checks its database through the services on the same
file, exactly as a ``hubtap`` admin command beside the server does. The
server notices those changes through the store's ``counters`` within
``[lists] poll_interval_s``.
"""

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hub_server.store import Store
from hublink.ids import new_id
from hublink.link import Delivery, Link
from hublink.messages import Message, Occupancy
from hublink.outbox import Outbox
from hublink.topics import Topics
from tests.conftest import mqtt_config
from tests.helpers.collect import Collector
from tests.helpers.door_hardware import SITE_KEY_TOML
from tests.helpers.service_process import STOP_TIMEOUT_S, ServiceProcess

WAIT_S = 15.0
"""Every wait in the hub's tests is bounded by this; passing runs take a fraction of it."""

HUB_BIN = Path(sys.executable).parent / "hubtap"
START_TIMEOUT_S = 15.0
READY_LINES = ("connected to broker", "hub server running")
"""Logged once the link is connected and subscribed, and once every part has started
(the access lists are published and recorded)."""
LOG_TAIL = 4000


def hub_toml(
    *,
    data_dir: Path,
    site_id: str,
    broker_port: int,
    poll_interval_s: float = 0.05,
    snapshot_interval_s: float = 0.2,
    closing_time: str = "",
    max_stay_h: float = 14.0,
    http_port: int | None = None,
    extra: str = "",
) -> str:
    """A ``hub.toml`` for a hub on loopback with the test doors' site key; HTTP off
    unless ``http_port`` is given."""
    http = f"[http]\nport = {http_port}\n" if http_port else "[http]\nenabled = false\n"
    return (
        f'data_dir = "{data_dir}"\n'
        'log_level = "INFO"\n'
        f'[site]\nid = "{site_id}"\n{SITE_KEY_TOML}'
        f'[mqtt]\nhost = "127.0.0.1"\nport = {broker_port}\n'
        "reconnect_min_s = 0.1\nreconnect_max_s = 0.5\n"
        f'[presence]\nclosing_time = "{closing_time}"\nmax_stay_h = {max_stay_h}\n'
        f"[lists]\npoll_interval_s = {poll_interval_s}\n"
        f"snapshot_interval_s = {snapshot_interval_s}\n" + http + extra
    )


class HubProcess(ServiceProcess):
    """``hubtap server --config hub.toml`` in its own process, restartable on the same files."""

    name = "hub"

    def __init__(
        self,
        workdir: Path,
        *,
        broker_port: int,
        site_id: str = "testsite",
        poll_interval_s: float = 0.05,
        snapshot_interval_s: float = 0.2,
        closing_time: str = "",
        max_stay_h: float = 14.0,
        http_port: int | None = None,
        extra: str = "",
    ) -> None:
        super().__init__(workdir)
        self.data_dir = workdir / "hub-data"
        self.config_path = workdir / "hub.toml"
        self._store: Store | None = None
        self._log_from = 0
        workdir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(
            hub_toml(
                data_dir=self.data_dir,
                site_id=site_id,
                broker_port=broker_port,
                poll_interval_s=poll_interval_s,
                snapshot_interval_s=snapshot_interval_s,
                closing_time=closing_time,
                max_stay_h=max_stay_h,
                http_port=http_port,
                extra=extra,
            )
        )

    # --- the database ----------------------------------------------------------

    @property
    def store(self) -> Store:
        """The hub's database, opened from the test process (as a ``hubtap`` command does)."""
        if self._store is None:
            self._store = Store.in_folder(self.data_dir)
        return self._store

    def count(self, table: str, where: str = "", params: tuple[object, ...] = ()) -> int:
        """Rows in ``table`` (of the hub's schema), optionally filtered."""
        sql = f"SELECT count(*) FROM {table}" + (f" WHERE {where}" if where else "")
        row = self.store.query_one(sql, params)
        assert row is not None
        return int(row[0])

    # --- the process -------------------------------------------------------------

    def start(self, timeout: float = START_TIMEOUT_S) -> "HubProcess":
        """Start the server; returns once it runs, connected and subscribed to the broker."""
        _ = self.store  # the test's own connection, opened (and the file made) first
        self._log_from = self.log_path.stat().st_size if self.log_path.exists() else 0
        self.spawn([str(HUB_BIN), "server", "--config", str(self.config_path)])
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while not all(line in self.log_since_start() for line in READY_LINES):
            if self.process.poll() is not None:
                raise AssertionError(
                    f"hubtap server exited with {self.process.returncode} while starting:\n"
                    + self.log_tail()
                )
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"hubtap server did not connect within {timeout} s:\n" + self.log_tail()
                )
            time.sleep(0.02)
        return self

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """SIGTERM, as systemd stops it; asserts a clean exit (status 0, no traceback)."""
        try:
            status = self.end(signal.SIGTERM, timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"hubtap server did not stop within {timeout} s of SIGTERM:\n" + self.log_tail()
            ) from None
        assert status == 0, f"hubtap server exited with {status}:\n{self.log_tail()}"
        self.assert_no_traceback()

    def close(self) -> None:
        """Make sure the process is gone and the database closed (for ``finally``); safe twice."""
        super().close()
        if self._store is not None:
            self._store.close()
            self._store = None

    # --- its log ------------------------------------------------------------------

    def log_since_start(self) -> str:
        """What the hub has logged since the last :meth:`start`."""
        if not self.log_path.exists():
            return ""
        with self.log_path.open("rb") as log:
            log.seek(self._log_from)
            return log.read().decode(errors="replace")

    def log_tail(self, chars: int = LOG_TAIL) -> str:
        """The end of the log, for failure messages."""
        return self.log_text()[-chars:]

    def assert_no_traceback(self) -> None:
        """Nothing failed inside the server (a swallowed exception logs a traceback)."""
        text = self.log_text()
        assert "Traceback" not in text, f"the hub logged a traceback:\n{text[-LOG_TAIL * 2 :]}"


# --- the other side of the bus ------------------------------------------------------


class FakeDevice:
    """A door or kiosk played by the test: a link with its own outbox, as a device has.

    Door events and kiosk requests are durable topics, so they go through the
    outbox and reach the hub at least once, in order, like a real device's.
    """

    def __init__(
        self,
        workdir: Path,
        broker_port: int,
        topics: Topics,
        client_id: str,
        availability_topic: str | None = None,
    ) -> None:
        self.outbox = Outbox(workdir / f"{client_id}-outbox.sqlite3")
        self.link = Link(
            mqtt_config(broker_port),
            topics,
            client_id=client_id,
            availability_topic=availability_topic,
            outbox=self.outbox,
        )

    def start(self, timeout: float = START_TIMEOUT_S) -> "FakeDevice":
        self.link.start()
        assert self.link.wait_connected(timeout), f"{self.link.client_id} did not connect"
        return self

    def publish(self, topic: str, message: Message) -> None:
        assert self.link.publish(topic, message), f"{self.link.client_id} could not publish"

    def close(self) -> None:
        """Stop the link and close the outbox; safe to call twice."""
        self.link.stop()
        self.outbox.close()


def fetch_retained(
    broker_port: int, topics: Topics, topic: str, timeout: float = START_TIMEOUT_S
) -> Any:
    """The message retained on ``topic`` now, as a newcomer subscribing to it gets it."""
    got = Collector()
    link = Link(mqtt_config(broker_port), topics, client_id=f"test-peek-{new_id()[-12:]}")
    link.subscribe(topic, got)
    link.start()
    try:
        assert got.wait_until(lambda items: any(d.retained for d in items), timeout), (
            f"nothing is retained on {topic}"
        )
        return next(d.message for d in got.items if d.retained)
    finally:
        link.stop()


def wait_occupancy(
    seen: Collector, port: int, topics: Topics, check: Callable[[Occupancy], bool], what: str
) -> Occupancy:
    """The latest occupancy ``seen`` once it passes ``check``; it must also be the retained one."""

    def latest_passes(items: list[Delivery[Any]]) -> bool:
        return bool(items) and check(items[-1].message)

    assert seen.wait_until(latest_passes, WAIT_S), (
        f"occupancy never showed {what}; last: {seen.messages[-1:]}"
    )
    latest: Occupancy = seen.messages[-1]
    retained: Occupancy = fetch_retained(port, topics, topics.occupancy())
    assert retained.id == latest.id, "the retained occupancy is not the latest one published"
    return latest
