"""One hubtap service as its own process for tests: started with its config, logged, ended."""

import os
import signal
import subprocess
from pathlib import Path
from types import TracebackType
from typing import Self

from tests.helpers.pausable import Pausable

STOP_TIMEOUT_S = 15.0


class ServiceProcess(Pausable):
    """The process side shared by the door and hub helpers: ``workdir`` holds its log."""

    name = "service"

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.log_path = workdir / f"{self.name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def spawn(self, argv: list[str]) -> None:
        """Run ``argv`` with its output appended to the log; ``HUBTAP_`` variables left out,
        so the test's own environment cannot change the service's configuration."""
        if self.running:
            raise RuntimeError(f"the {self.name} process is already running")
        env = {k: v for k, v in os.environ.items() if not k.startswith("HUBTAP_")}
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def end(self, signum: signal.Signals, timeout: float = STOP_TIMEOUT_S) -> int:
        """Send ``signum`` (thawing a paused process first) and wait; its exit status.

        Still running after ``timeout``: killed, and ``TimeoutExpired`` raised.
        """
        process = self.process
        if process is None:
            raise RuntimeError(f"the {self.name} process was never started")
        if process.poll() is None:
            process.send_signal(signal.SIGCONT)  # a paused process cannot act on SIGTERM
            process.send_signal(signum)
        try:
            return process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)
            raise

    def close(self) -> None:
        """Make sure the process is gone (for ``finally``); safe to call twice."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.kill()
            self.process.wait(STOP_TIMEOUT_S)

    def log_text(self) -> str:
        """What the process has logged so far (every start appends)."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def start(self) -> Self:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
