"""The real ``hubtap-kiosk`` process for tests: offscreen, writing its screens to a folder.

A test sees it as a member would, through what it draws: ``screen.json``
(the view on screen after each new frame, see ``kiosk/screen_file.py``)
and the PNG of each screen in ``shots/``.
"""

import signal
import sqlite3
import sys
import time
from contextlib import closing
from pathlib import Path
from typing import Any

from kiosk.screen_file import read_screen
from tests.helpers.door_hardware import SITE_KEY_TOML
from tests.helpers.service_process import STOP_TIMEOUT_S, ServiceProcess

KIOSK_BIN = Path(sys.executable).parent / "hubtap-kiosk"


def kiosk_toml(
    *,
    data_dir: Path,
    site_id: str,
    kiosk_id: str,
    broker_port: int,
    door_id: str | None,
    badge_s: float,
    language: str = "en",
    reader: str = "",
) -> str:
    """A ``kiosk.toml`` for an offscreen kiosk following ``door_id``; ``reader`` is its own
    ``[reader]`` section (the site key comes with it)."""
    door = f'door_id = "{door_id}"\n' if door_id else ""
    key = SITE_KEY_TOML if reader else ""
    return (
        f'data_dir = "{data_dir}"\nlog_level = "INFO"\n'
        f'[site]\nid = "{site_id}"\n{key}'
        f'[mqtt]\nhost = "127.0.0.1"\nport = {broker_port}\n'
        "reconnect_min_s = 0.1\nreconnect_max_s = 0.5\n"
        f'[kiosk]\nid = "{kiosk_id}"\ntitle = "Forest Hub"\n{door}'
        f'language = "{language}"\ntimezone = "Europe/Stockholm"\nbadge_s = {badge_s}\n'
        "[display]\nfullscreen = false\nwidth = 800\nheight = 480\n" + reader
    )


class KioskProcess(ServiceProcess):
    """``hubtap-kiosk --offscreen --screenshots shots/`` in its own process."""

    name = "kiosk"

    def __init__(
        self,
        workdir: Path,
        *,
        broker_port: int,
        site_id: str = "testsite",
        kiosk_id: str = "entrance",
        door_id: str | None = "front",
        badge_s: float = 2.0,
        language: str = "en",
        reader: str = "",
    ) -> None:
        super().__init__(workdir)
        self.data_dir = workdir / "kiosk-data"
        self.shots = workdir / "shots"
        self.config_path = workdir / "kiosk.toml"
        self.config_path.write_text(
            kiosk_toml(
                data_dir=self.data_dir,
                site_id=site_id,
                kiosk_id=kiosk_id,
                broker_port=broker_port,
                door_id=door_id,
                badge_s=badge_s,
                language=language,
                reader=reader,
            )
        )

    def start(self) -> "KioskProcess":
        """Start the kiosk (returns at once; it has drawn once ``screen.json`` exists)."""
        self.spawn(
            [
                str(KIOSK_BIN),
                "--config",
                str(self.config_path),
                "--offscreen",
                "--screenshots",
                str(self.shots),
            ]
        )
        return self

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> int:
        """SIGTERM, as systemd stops it; returns the exit status."""
        return self.end(signal.SIGTERM, timeout)

    def screen(self) -> dict[str, Any] | None:
        """What the kiosk drew last."""
        return read_screen(self.shots)

    def wait_screen(self, check: Any, timeout: float, what: str) -> dict[str, Any]:
        """The first drawn screen that passes ``check``; fails saying ``what`` was expected."""
        deadline = time.monotonic() + timeout
        screen = None
        while time.monotonic() < deadline:
            screen = self.screen()
            if screen is not None and check(screen):
                return screen
            if not self.running:
                break
            time.sleep(0.01)
        raise AssertionError(
            f"the kiosk did not show {what}; last screen: {screen}\n{self.log_text()[-3000:]}"
        )

    def cached(self, name: str) -> bytes | None:
        """A retained payload in the kiosk's cache file (``directory``, ``occupancy``)."""
        path = self.data_dir / "kiosk.sqlite3"
        if not path.exists():
            return None
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)) as db:
            try:
                row = db.execute("SELECT payload FROM retained WHERE name = ?", (name,)).fetchone()
            except sqlite3.OperationalError:
                return None
        return None if row is None else bytes(row[0])
