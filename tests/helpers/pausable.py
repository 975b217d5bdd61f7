"""Freezing and thawing a child process, as a network or a scheduler might."""

import signal
import subprocess


class Pausable:
    """Mixin for helpers that run one child process in ``self.process``."""

    process: "subprocess.Popen[bytes] | None"

    def pause(self) -> None:
        """Freeze the process (SIGSTOP): its connections stay open, nothing is answered."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """Thaw it (SIGCONT)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)
