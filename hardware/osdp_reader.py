"""OSDP card readers on an RS-485 bus, through libosdp (the ``osdp`` extra).

hubtap is the bus's control panel (CP); the reader is a peripheral device
(PD) at ``address``. ``OsdpReaderDriver`` drives a libosdp control panel
from ``poll()`` itself (no libosdp thread): each poll refreshes it for up to
``POLL_PERIOD_S`` and returns the card reads the PD reported. With a secure
channel key the CP insists on the secure channel (libosdp's
ENFORCE_SECURE): a PD with another key never comes online, rather than
falling back to plain text.

Card data: libosdp reports an osdp_RAW card read as ``length`` bits, sent
most significant bit first in ``ceil(length / 8)`` bytes. ``pack_bits``
turns that into a ``CardKind.WIEGAND`` UID: the same bits (parity bits
included) right-aligned in ``ceil(length / 8)`` big-endian bytes, so a
26-bit H10301 frame is 4 bytes whose top 6 bits are zero and whose value
is the frame read as one binary number. The bit count itself is not part
of the UID.

libosdp is imported only when a driver opens, so this module imports
without it.
"""

import contextlib
import logging
import threading
import time
from collections.abc import Mapping
from typing import Any, Final

from hardware.errors import FrameError, ReaderError
from hardware.reader import ReaderDriver
from hardware.signals import Signal
from hardware.taps import CardKind, CardRead, check_uid

log = logging.getLogger(__name__)

INSTALL_HINT: Final = "install the 'osdp' extra: pip install 'hubtap[osdp]'"
POLL_PERIOD_S: Final = 0.1
REFRESH_EVERY_S: Final = 0.01  # libosdp wants a refresh at least every 50 ms
SILENT_S: Final = 1.0  # an online PD answers a poll every ~50 ms: this long silent is gone

# libosdp's C enums (osdp.h), fixed by its ABI; tests check them against the module.
EVENT_CARDREAD: Final = 1
FORMAT_RAW_UNSPECIFIED: Final = 0
FORMAT_RAW_WIEGAND: Final = 1
FORMAT_ASCII: Final = 2
_PD: Final = 0  # the one PD's offset in the CP's PD list


def pack_bits(data: bytes, bits: int) -> bytes:
    """The first ``bits`` bits of ``data`` (MSB first), right-aligned in big-endian bytes."""
    size = (bits + 7) // 8
    if bits <= 0 or len(data) < size:
        raise FrameError(f"OSDP card read of {bits} bits carries {len(data)} bytes")
    value = int.from_bytes(data[:size], "big") >> (size * 8 - bits)
    return value.to_bytes(size, "big")


def card_read_from_event(event: Mapping[str, Any], started: float) -> CardRead:
    """A ``CardRead`` from a libosdp card-read event dict; ``FrameError`` if not understood.

    Raw formats (unspecified and Wiegand) give ``CardKind.WIEGAND`` UIDs from
    ``pack_bits``. ASCII card data (libosdp 3.2 ignores osdp_FMT, but older
    PDs' data may come this way) is kept as its bytes, ``CardKind.UNKNOWN``.
    """
    fmt = event.get("format")
    data = event.get("data")
    if not isinstance(data, bytes):
        raise FrameError(f"OSDP card read without data: {event!r}")
    if fmt in (FORMAT_RAW_UNSPECIFIED, FORMAT_RAW_WIEGAND):
        bits = event.get("length")
        if not isinstance(bits, int):
            raise FrameError(f"OSDP raw card read without a bit count: {event!r}")
        return CardRead(
            check_uid(pack_bits(data, bits), CardKind.WIEGAND), CardKind.WIEGAND, started
        )
    if fmt == FORMAT_ASCII:
        return CardRead(check_uid(data.strip(), CardKind.UNKNOWN), CardKind.UNKNOWN, started)
    raise FrameError(f"unknown OSDP card format {fmt!r}")


def _import_libosdp(description: str) -> tuple[Any, Any, Any]:
    """The ``serial``, ``osdp`` and ``osdp_sys`` modules; a ``ReaderError`` naming the extra."""
    try:
        import osdp  # noqa: PLC0415
        import osdp_sys  # noqa: PLC0415
        import serial  # noqa: PLC0415
    except ImportError as err:
        raise ReaderError(
            f"{description} needs libosdp and pyserial ({err}); {INSTALL_HINT}"
        ) from err
    return serial, osdp, osdp_sys


def _led(osdp: Any, *, temporary: bool, color: str, on: int, off: int, timer: int = 0) -> Any:
    """An LED command for LED 0; counts and timer in units of 100 ms."""
    colors = osdp.CommandLEDColor
    return {
        "command": osdp.Command.LED,
        "reader": 0,
        "led_number": 0,
        "temporary": temporary,
        "control_code": 2 if temporary else 1,  # temporary: set and start timer; permanent: set
        "on_color": getattr(colors, color),
        "off_color": colors.Black,
        "on_count": on,
        "off_count": off,
        "timer_count": timer,
    }


def _beeps(osdp: Any, *, count: int, on: int, off: int) -> Any:
    """``count`` beeps of the default tone; times in units of 100 ms."""
    return {
        "command": osdp.Command.Buzzer,
        "reader": 0,
        "control_code": 2,  # default tone
        "on_count": on,
        "off_count": off,
        "rep_count": count,
    }


def signal_commands(osdp: Any, signal: Signal) -> list[Any]:
    """The LED and buzzer commands that show ``signal`` on an OSDP reader."""
    if signal is Signal.GRANTED:  # green for 1 s, one short beep
        return [
            _led(osdp, temporary=True, color="Green", on=10, off=0, timer=10),
            _beeps(osdp, count=1, on=1, off=1),
        ]
    if signal is Signal.DENIED:  # red flashing three times, three beeps
        return [
            _led(osdp, temporary=True, color="Red", on=2, off=2, timer=12),
            _beeps(osdp, count=3, on=1, off=1),
        ]
    if signal is Signal.OFFLINE:  # slow amber blink until told otherwise
        return [_led(osdp, temporary=False, color="Amber", on=1, off=19)]
    return [_led(osdp, temporary=False, color="Black", on=1, off=0)]  # IDLE: dark


class _SerialChannel:
    """libosdp's channel (read/write/flush) over a pyserial port; never raises into libosdp."""

    def __init__(self, port: Any) -> None:
        self.id = 0
        self.port: Any = port
        self.error: Exception | None = None
        self.last_rx = time.monotonic()

    def read(self, max_bytes: int) -> bytes:
        try:
            data = bytes(self.port.read(max_bytes)) if self.port is not None else b""
        except Exception as err:  # noqa: BLE001 - an exception must not reach libosdp's C code
            self.error = self.error or err
            return b""
        if data:
            self.last_rx = time.monotonic()
        return data

    def write(self, buf: bytes) -> int:
        try:
            return int(self.port.write(buf) or 0) if self.port is not None else -1
        except Exception as err:  # noqa: BLE001
            self.error = self.error or err
            return -1

    def flush(self) -> None:
        try:
            if self.port is not None:
                self.port.reset_input_buffer()
        except Exception as err:  # noqa: BLE001
            self.error = self.error or err


class OsdpReaderDriver(ReaderDriver):
    """One OSDP reader (PD) at ``address`` on an RS-485 port, with hubtap as control panel.

    ``open`` raises ``ReaderError`` if the port or libosdp is missing.
    ``poll`` raises ``ReaderError`` when the port fails, when the PD has been
    offline for ``offline_after_s`` after having been online, or when it has
    not come online within ``online_timeout_s`` of opening (wrong address,
    baud rate or key: libosdp itself would wait 5 minutes before retrying),
    so that the ``CardReader`` supervisor reopens it.
    """

    def __init__(
        self,
        port: str,
        baudrate: int = 9600,
        address: int = 0,
        secure_channel_key: bytes | None = None,
        *,
        offline_after_s: float = 3.0,
        online_timeout_s: float = 10.0,
    ) -> None:
        if not 0 <= address <= 126:
            raise ReaderError(f"OSDP address {address} is not 0-126")
        if secure_channel_key is not None and len(secure_channel_key) != 16:
            raise ReaderError("an OSDP secure channel key is 16 bytes")
        self.port = port
        self.baudrate = baudrate
        self.address = address
        self.offline_after_s = offline_after_s
        self.online_timeout_s = online_timeout_s
        self.description = f"OSDP reader {address} on {port}"
        self._key = secure_channel_key
        self._lock = threading.Lock()  # libosdp is not thread-safe: refresh vs. signal
        self._osdp: Any = None
        self._cp: Any = None
        self._serial: Any = None
        self._channel: _SerialChannel | None = None
        self._reads: list[CardRead] = []
        self._rejected = 0
        self._poll_started = 0.0
        self._opened_at = 0.0
        self._was_online = False
        self._offline_since: float | None = None
        self._online = False

    @property
    def online(self) -> bool:
        """Whether the PD answered as online at the last poll."""
        return self._online

    @property
    def secure(self) -> bool:
        """Whether the secure channel to the PD is up."""
        with self._lock:
            return self._cp is not None and bool(self._cp.sc_status() & 1 << _PD)

    @property
    def rejected_frames(self) -> int:
        return self._rejected

    def open(self) -> None:
        serial, osdp, osdp_sys = _import_libosdp(self.description)
        self.close()
        try:
            port = serial.serial_for_url(
                self.port, baudrate=self.baudrate, timeout=0, write_timeout=1.0, exclusive=True
            )
        except (serial.SerialException, OSError, ValueError) as err:
            raise ReaderError(f"cannot open OSDP port {self.port}: {err}") from err
        channel = _SerialChannel(port)
        flags = [osdp.LibFlag.EnforceSecure] if self._key else []
        info = osdp.PDInfo(self.address, channel, scbk=self._key, flags=flags)
        try:
            osdp_sys.set_loglevel(osdp.LogLevel.Error)  # libosdp prints to stdout
            cp = osdp_sys.ControlPanel([info.get()])
            cp.set_event_callback(self._on_event)
        except Exception as err:
            with contextlib.suppress(Exception):
                port.close()
            raise ReaderError(f"libosdp could not set up {self.description}: {err}") from err
        with self._lock:
            self._osdp, self._cp, self._serial, self._channel = osdp, cp, port, channel
        self._reads = []
        self._opened_at = time.monotonic()
        self._was_online = False
        self._offline_since = None
        self._online = False

    def poll(self) -> list[CardRead]:
        started = self._poll_started = time.monotonic()
        deadline = started + POLL_PERIOD_S
        while True:
            with self._lock:
                cp, channel = self._cp, self._channel
                if cp is None or channel is None:
                    raise ReaderError(f"{self.description} is not open")
                cp.refresh()
                online = bool(cp.status() & 1 << _PD)
            if channel.error is not None:
                raise ReaderError(f"{self.description} failed: {channel.error}")
            now = time.monotonic()
            if self._reads or now >= deadline:
                break
            time.sleep(REFRESH_EVERY_S)
        reads, self._reads = self._reads, []
        self._check_online(online and now - channel.last_rx <= SILENT_S, now)
        return reads

    def signal(self, signal: Signal) -> bool:
        with self._lock:
            if self._cp is None:
                return False
            try:
                queued = [
                    self._cp.submit_command(_PD, cmd) for cmd in signal_commands(self._osdp, signal)
                ]
            except Exception:
                log.exception("%s: could not queue %s", self.description, signal)
                return False
        return all(queued)

    def close(self) -> None:
        with self._lock:
            cp, port, channel = self._cp, self._serial, self._channel
            self._cp = self._serial = self._channel = None
            if channel is not None:
                channel.port = None  # libosdp keeps the channel object alive
            del cp  # the last reference: libosdp tears the CP down
        self._online = False
        if port is not None:
            with contextlib.suppress(Exception):  # gone already
                port.close()

    def _check_online(self, online: bool, now: float) -> None:
        if online and not self._online:
            log.info("%s online%s", self.description, " (secure channel)" if self._key else "")
        self._online = online
        if online:
            self._was_online = True
            self._offline_since = None
            return
        if self._offline_since is None:
            self._offline_since = now
        if self._was_online and now - self._offline_since > self.offline_after_s:
            raise ReaderError(f"{self.description} offline for {now - self._offline_since:.1f} s")
        if not self._was_online and now - self._opened_at > self.online_timeout_s:
            raise ReaderError(
                f"{self.description} did not come online in {self.online_timeout_s:g} s "
                "(check wiring, address, baud rate and secure channel key)"
            )

    def _on_event(self, pd: int, event: Any) -> int:
        """libosdp's event callback, called inside ``refresh``; must never raise."""
        del pd
        try:
            if isinstance(event, Mapping) and event.get("event") == EVENT_CARDREAD:
                self._reads.append(card_read_from_event(event, self._poll_started))
        except FrameError as err:
            self._rejected += 1
            log.warning("%s: card read rejected: %s", self.description, err)
        except Exception:
            self._rejected += 1
            log.exception("%s: card read event not understood: %r", self.description, event)
        return 0
