"""A serial cable that can be unplugged: two ptys joined by socat at stable paths.

``reader`` is the device path the code under test opens; the test plays
the device through ``feed``. Stopping socat makes both ptys vanish, as an
unplugged USB reader does; starting it again brings them back at the same
paths (with new pty numbers behind the symlinks).
"""

import contextlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

SOCAT = shutil.which("socat") or "/usr/bin/socat"


class SocatPty:
    """``socat pty,link=DIR/reader pty,link=DIR/feed``, restartable on the same paths."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.reader = directory / "reader"
        self.feed = directory / "feed"
        self.log = directory / "socat.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._feed_fd: int | None = None
        self._log_from = 0

    def start(self, timeout: float = 5.0) -> None:
        """Start socat and wait until both links point at live ptys."""
        if self.process is not None:
            raise RuntimeError("socat is already running")
        for link in (self.reader, self.feed):  # left over from an earlier run
            link.unlink(missing_ok=True)
        self._log_from = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    SOCAT,
                    "-d",
                    "-d",
                    f"pty,raw,echo=0,link={self.reader}",
                    f"pty,raw,echo=0,link={self.feed}",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while not (self.reader.exists() and self.feed.exists() and self._data_loop_running()):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"socat did not make its ptys: {self.log.read_text()[-500:]}")
            time.sleep(0.01)
        self._feed_fd = os.open(self.feed, os.O_RDWR | os.O_NOCTTY)

    def write(self, data: bytes) -> None:
        """Send bytes to whoever opened ``reader``."""
        if self._feed_fd is None:
            raise RuntimeError("socat is not running")
        os.write(self._feed_fd, data)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 5.0) -> None:
        """Unplug: remove the links, then stop socat with ``sig``; safe to call twice.

        The links go first, as a USB device's node goes with the device. A
        link left dangling (socat killed by SIGKILL cannot remove it) points
        at a pty number the system hands out again, maybe to another test
        or process, and a reader reopening it would read someone else's pty.
        The feed end is closed only after socat is gone, so that socat ends
        by ``sig`` and not by seeing its feed pty closed.
        """
        for link in (self.reader, self.feed):
            link.unlink(missing_ok=True)
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.send_signal(sig)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout)
        if self._feed_fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._feed_fd)
            self._feed_fd = None

    def _data_loop_running(self) -> bool:
        # socat logs this once both ptys exist and it relays between them
        return b"starting data transfer loop" in self.log.read_bytes()[self._log_from :]

    def __enter__(self) -> "SocatPty":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
