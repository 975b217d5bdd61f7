"""A pseudo-terminal pair standing in for a serial cable.

The code under test opens ``pair.port`` with real pyserial; the test plays
the device on the other end through ``write``/``read`` on the master side.
"""

import contextlib
import os
import select
import termios
import time
import tty


class PtyPair:
    """A raw pty: ``port`` is the device path, the master end is the test's."""

    def __init__(self) -> None:
        self.master, self._slave = os.openpty()
        tty.setraw(self._slave)
        attrs = termios.tcgetattr(self._slave)
        attrs[3] &= ~termios.ECHO
        termios.tcsetattr(self._slave, termios.TCSANOW, attrs)
        self.port = os.ttyname(self._slave)

    def write(self, data: bytes) -> None:
        """Send bytes to whoever opened ``port``."""
        os.write(self.master, data)

    def read(self, size: int, timeout: float = 2.0) -> bytes:
        """Read up to ``size`` bytes the code under test sent, waiting up to ``timeout``."""
        deadline = time.monotonic() + timeout
        got = b""
        while len(got) < size:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.master], [], [], left)[0]:
                break
            got += os.read(self.master, size - len(got))
        return got

    def close(self) -> None:
        """Close both ends; safe to call twice."""
        for fd in (self.master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)
        self.master = self._slave = -1

    def __enter__(self) -> "PtyPair":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
