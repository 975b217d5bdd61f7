"""A libosdp peripheral device (an OSDP card reader) on the master end of a ``PtyPair``.

The code under test is the control panel on ``pair.port``; ``OsdpPd`` plays
the reader: it answers the CP from a refresh thread, records the commands
the CP sends (LED, buzzer), and reports card reads with ``card_read``.
"""

import os
import select
import threading
import time
from typing import Any

import osdp
import osdp_sys


class _MasterChannel:
    """libosdp's channel over a pty master fd; never raises (libosdp is C)."""

    def __init__(self, fd: int) -> None:
        self.id = 0
        self.fd = fd

    def read(self, max_bytes: int) -> bytes:
        try:
            if not select.select([self.fd], [], [], 0)[0]:
                return b""
            return os.read(self.fd, max_bytes)
        except (OSError, ValueError):
            return b""

    def write(self, buf: bytes) -> int:
        try:
            return os.write(self.fd, buf)
        except (OSError, ValueError):
            return -1

    def flush(self) -> None:
        pass


class OsdpPd:
    """An OSDP reader at ``address``, with a secure channel base key if ``scbk`` is given."""

    def __init__(self, master_fd: int, address: int = 0, scbk: bytes | None = None) -> None:
        self.commands: list[dict[str, Any]] = []
        self._cond = threading.Condition()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        osdp_sys.set_loglevel(osdp.LogLevel.Error)  # libosdp prints to stdout
        self._drain(master_fd)
        self._channel = _MasterChannel(master_fd)
        info = osdp.PDInfo(
            address,
            self._channel,
            scbk=scbk,
            flags=[osdp.LibFlag.EnforceSecure] if scbk else [],
            id=osdp.PdId(
                version=1,
                model=1,
                vendor_code=0x00A1B2,
                serial_number=42,
                firmware_version=0x010203,
            ),
        )
        caps = osdp.PDCapabilities(
            [
                (osdp.Capability.LEDControl, 1, 1),
                (osdp.Capability.AudibleControl, 1, 1),
                (osdp.Capability.CardDataFormat, 1, 0),
            ]
        )
        self._pd: Any = osdp_sys.PeripheralDevice(info.get(), capabilities=caps.get())
        self._pd.set_command_callback(self._on_command)
        self._thread = threading.Thread(target=self._run, name="osdp-pd", daemon=True)

    def start(self) -> "OsdpPd":
        self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        """Stop answering (the reader lost power); bounded, safe twice."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        assert not self._thread.is_alive(), "OSDP PD thread did not stop"

    @property
    def online(self) -> bool:
        with self._lock:
            return bool(self._pd.is_online())

    @property
    def secure(self) -> bool:
        with self._lock:
            return bool(self._pd.is_sc_active())

    def card_read(self, data: bytes, bits: int, fmt: int = osdp.CardFormat.Wiegand) -> bool:
        """Report a card read of ``bits`` bits of ``data`` (MSB first) to the CP."""
        event = {
            "event": osdp.Event.CardRead,
            "reader_no": 0,
            "format": fmt,
            "direction": 0,
            "length": bits,
            "data": data,
        }
        with self._lock:
            return bool(self._pd.submit_event(event))

    def wait_commands(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        """The commands received once there are at least ``count`` (fewer on timeout)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.commands) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            return list(self.commands)

    def wait_online(self, timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.online:
                return True
            time.sleep(0.02)
        return False

    def _on_command(self, command: dict[str, Any]) -> tuple[int, None]:
        with self._cond:
            self.commands.append(dict(command))
            self._cond.notify_all()
        return 0, None  # (None, not a dict: libosdp 3.2.9 mis-counts a returned dict)

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                self._pd.refresh()
            self._stop.wait(0.005)

    @staticmethod
    def _drain(fd: int) -> None:
        """Drop what the CP sent while no PD listened, as a reader powering up would."""
        try:
            while select.select([fd], [], [], 0)[0]:
                if not os.read(fd, 4096):
                    break
        except OSError:
            pass
