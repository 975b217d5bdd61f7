"""The real ``hubtap-door`` process for tests: its ``door.toml``, start, stop, kill, its files.

The door runs on gpiozero mock pins with the nfcpy UDP card emulator as its
reader, so a test sees it only as the hub would (MQTT) and through the files
in its data folder: the outbox (``outbox.sqlite3``) and the access list
(``acl.sqlite3``).
"""

import signal
import sqlite3
import sys
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from tests.helpers.door_hardware import MOCK_PINS_TOML, SITE_KEY_TOML, udp_reader_toml
from tests.helpers.service_process import STOP_TIMEOUT_S, ServiceProcess

DOOR_BIN = Path(sys.executable).parent / "hubtap-door"


@dataclass(frozen=True)
class OutboxRow:
    """One message the door has stored and the broker has not acknowledged yet."""

    seq: int
    topic: str
    payload: bytes
    retain: bool
    queued_at: float


def door_toml(
    *,
    data_dir: Path,
    site_id: str,
    door_id: str,
    broker_port: int,
    reader_port: int,
    retap_gap_s: float,
    unlock_s: float,
    extra: str = "",
) -> str:
    """A ``door.toml`` for a door on mock pins, reading the card emulator on ``reader_port``."""
    return (
        f'data_dir = "{data_dir}"\n'
        f'log_level = "INFO"\n'
        f'[site]\nid = "{site_id}"\n{SITE_KEY_TOML}'
        f'[door]\nid = "{door_id}"\ntelemetry_interval_s = 1\n'
        f'[mqtt]\nhost = "127.0.0.1"\nport = {broker_port}\n'
        "reconnect_min_s = 0.1\nreconnect_max_s = 0.5\n"
        + MOCK_PINS_TOML  # ends in the [lock] section
        + f"unlock_s = {unlock_s}\n"
        + udp_reader_toml(reader_port, retap_gap_s)
        + extra
    )


class DoorProcess(ServiceProcess):
    """``hubtap-door --config door.toml`` in its own process, restartable on the same files."""

    name = "door"

    def __init__(
        self,
        workdir: Path,
        *,
        broker_port: int,
        reader_port: int,
        site_id: str = "testsite",
        door_id: str = "front",
        retap_gap_s: float = 1.0,
        unlock_s: float = 1.0,
        extra: str = "",
    ) -> None:
        super().__init__(workdir)
        self.data_dir = workdir / "door-data"
        self.config_path = workdir / "door.toml"
        self.config_path.write_text(
            door_toml(
                data_dir=self.data_dir,
                site_id=site_id,
                door_id=door_id,
                broker_port=broker_port,
                reader_port=reader_port,
                retap_gap_s=retap_gap_s,
                unlock_s=unlock_s,
                extra=extra,
            )
        )

    # --- the process ---------------------------------------------------------

    def start(self) -> "DoorProcess":
        """Start the door (returns at once; it is ready once it says online over MQTT)."""
        self.spawn([str(DOOR_BIN), "--config", str(self.config_path)])
        return self

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> int:
        """SIGTERM, as systemd stops it; returns the exit status."""
        return self.end(signal.SIGTERM, timeout)

    def kill(self, timeout: float = STOP_TIMEOUT_S) -> int:
        """SIGKILL: no clean-up at all, as a power cut or the OOM killer would."""
        return self.end(signal.SIGKILL, timeout)

    # --- its files -------------------------------------------------------------

    @property
    def outbox_path(self) -> Path:
        return self.data_dir / "outbox.sqlite3"

    @property
    def replica_path(self) -> Path:
        return self.data_dir / "acl.sqlite3"

    def outbox_rows(self) -> list[OutboxRow]:
        """The messages waiting in the door's outbox, oldest first (read while it runs, too)."""
        if not self.outbox_path.exists():
            return []
        with closing(_connect(self.outbox_path)) as db:
            rows = db.execute(
                "SELECT seq, topic, payload, retain, queued_at FROM outbox ORDER BY seq"
            ).fetchall()
        return [OutboxRow(seq, topic, bytes(p), bool(r), at) for seq, topic, p, r, at in rows]

    def outbox_accepted(self) -> int:
        """How many messages the outbox has ever accepted (its AUTOINCREMENT high-water mark)."""
        if not self.outbox_path.exists():
            return 0
        with closing(_connect(self.outbox_path)) as db:
            try:
                row = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'").fetchone()
            except sqlite3.OperationalError:  # no message was ever stored: no sqlite_sequence
                return 0
        return 0 if row is None else int(row[0])


def _connect(path: Path) -> sqlite3.Connection:
    """A connection for a quick read of a file the door may be writing (WAL: no blocking)."""
    return sqlite3.connect(path, timeout=5.0, isolation_level=None)
