"""A lock relay on an LCUS-type USB serial relay board (CH340, 9600 baud).

The board takes four byte commands, ``A0 <channel> <state> <checksum>``,
where state 01 switches the relay on and 00 off, and the checksum is the
low byte of the sum of the other three. Relay on means energised, i.e.
unlocked; the board powers up with its relays off, so wire the lock on the
normally open contact to stay fail secure.
"""

from typing import Any, Final

import serial

from hardware.errors import LockError
from hardware.lock import Lock

_START: Final = 0xA0
WRITE_TIMEOUT_S: Final = 1.0


def relay_command(channel: int, on: bool) -> bytes:
    """The four bytes that switch relay ``channel`` (1-255) on or off."""
    if not 1 <= channel <= 0xFF:
        raise LockError(f"relay channel must be 1-255, not {channel}")
    state = 0x01 if on else 0x00
    return bytes([_START, channel, state, (_START + channel + state) & 0xFF])


class SerialRelayLock(Lock):
    """Drives one channel of a USB serial relay board; relay off, the door is locked."""

    def __init__(
        self,
        port: str,
        *,
        baudrate: int = 9600,
        channel: int = 1,
        max_unlock_s: float = 30.0,
        name: str = "lock",
    ) -> None:
        self._on = relay_command(channel, on=True)
        self._off = relay_command(channel, on=False)
        self.port = port
        self.channel = channel
        try:
            self._serial: Any = serial.serial_for_url(
                port, baudrate=baudrate, write_timeout=WRITE_TIMEOUT_S
            )
        except (serial.SerialException, OSError, ValueError) as err:
            raise LockError(f"cannot open lock relay port {port}: {err}") from err
        try:
            super().__init__(name, max_unlock_s)  # sends OFF: locked from the start
        except BaseException:
            self._serial.close()
            raise

    def _set_output(self, energised: bool) -> None:
        self._serial.write(self._on if energised else self._off)
        self._serial.flush()

    def _release_device(self) -> None:
        self._serial.close()
