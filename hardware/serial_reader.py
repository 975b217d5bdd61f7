"""Card readers on a serial port: RDM6300-style 125 kHz modules and one-UID-per-line readers.

Two stream decoders turn the bytes a reader sends into card UIDs, and
``SerialReaderDriver`` feeds them from a serial port (or any pyserial URL,
such as ``loop://``) for the ``CardReader`` supervisor. The driver does not
debounce: an RDM6300 repeats its frame for as long as a card is held, and
the supervisor's ``TapDebouncer`` turns the repeats into one tap.
"""

import contextlib
import time
from typing import Any, Final, Literal, Protocol

import serial

from hardware.errors import FrameError, ReaderError
from hardware.reader import ReaderDriver
from hardware.taps import UID_LENGTHS, CardKind, CardRead, parse_uid

SerialProtocol = Literal["rdm6300", "line"]

STX: Final = 0x02
ETX: Final = 0x03
_CR: Final = 0x0D
_LF: Final = 0x0A
_HEX_DIGITS: Final = frozenset(b"0123456789abcdefABCDEF")
RDM6300_DATA_BYTES: Final = 5  # version/customer byte + 4 byte card id
_RDM6300_PAYLOAD: Final = 2 * (RDM6300_DATA_BYTES + 1)  # hex data + hex checksum
MAX_LINE_BYTES: Final = 100


class StreamDecoder(Protocol):
    """Turns a reader's byte stream into card UIDs, counting what it throws away."""

    rejected: int

    def feed(self, data: bytes) -> list[bytes]:
        """UIDs of the complete, valid frames that ``data`` finishes."""
        ...

    def reset(self) -> None:
        """Forget a partly received frame (the port was reopened); keep ``rejected``."""
        ...


def rdm6300_checksum(data: bytes) -> int:
    """XOR of the data bytes, as an RDM6300 sends it after them."""
    checksum = 0
    for byte in data:
        checksum ^= byte
    return checksum


def rdm6300_frame(uid: bytes) -> bytes:
    """The 14 byte frame an RDM6300 sends for a 5 byte ``uid`` (for tests and emulators)."""
    if len(uid) != RDM6300_DATA_BYTES:
        raise FrameError(f"an RDM6300 frame carries {RDM6300_DATA_BYTES} bytes, not {len(uid)}")
    payload = uid + bytes([rdm6300_checksum(uid)])
    return bytes([STX]) + payload.hex().upper().encode("ascii") + bytes([ETX])


class Rdm6300Decoder:
    """Incremental decoder of RDM6300 (EM4100, 125 kHz) frames.

    A frame is STX, ten hex digits of data (a version byte and the four
    byte card id), two hex digits of checksum (XOR of the five data bytes)
    and ETX. Lower-case hex and CR/LF between frames are tolerated. A
    corrupt frame, and each run of garbage between frames, counts once in
    ``rejected``; decoding starts again at the next STX, so a good frame
    right after a bad one is not lost. At most one frame is ever buffered.
    """

    def __init__(self) -> None:
        self.rejected = 0
        self._frame = bytearray()
        self._in_frame = False
        self._skipping = False  # inside a run of garbage already counted

    def feed(self, data: bytes) -> list[bytes]:
        """UIDs (5 bytes each, leading zeros kept) of the valid frames ``data`` completes."""
        uids: list[bytes] = []
        for byte in data:
            if byte == STX:
                if self._in_frame:
                    self._reject()  # a frame cut short by the next one
                self._frame.clear()
                self._in_frame = True
                self._skipping = False
            elif not self._in_frame:
                if byte not in (_CR, _LF):
                    self._reject()
            elif len(self._frame) < _RDM6300_PAYLOAD and byte in _HEX_DIGITS:
                self._frame.append(byte)
            elif len(self._frame) == _RDM6300_PAYLOAD and byte == ETX:
                uid = self._end_frame()
                if uid is not None:
                    uids.append(uid)
            else:  # a bad digit, an early ETX or no ETX where it belongs
                self._reject()
        return uids

    def reset(self) -> None:
        """Forget a partly received frame; ``rejected`` stays."""
        self._frame.clear()
        self._in_frame = False
        self._skipping = False

    def _end_frame(self) -> bytes | None:
        payload = bytes.fromhex(self._frame.decode("ascii"))
        self._frame.clear()
        self._in_frame = False
        uid, checksum = payload[:RDM6300_DATA_BYTES], payload[RDM6300_DATA_BYTES]
        if rdm6300_checksum(uid) != checksum:
            self.rejected += 1
            return None
        return uid

    def _reject(self) -> None:
        """Count a bad frame or the start of a garbage run, then skip to the next STX."""
        if not self._skipping:
            self.rejected += 1
        self._skipping = True
        self._frame.clear()
        self._in_frame = False


class LineDecoder:
    """Incremental decoder of readers that print one UID in hex per line.

    Lines end in CR, LF or both; bytes may be separated by ``:``, ``-`` or
    spaces, in either case. Empty lines are ignored. A line that is not a
    UID of 1-32 bytes counts in ``rejected``, as does a line longer than
    ``max_line`` bytes, whose rest is dropped up to the next line end.
    """

    def __init__(self, max_line: int = MAX_LINE_BYTES) -> None:
        self.rejected = 0
        self.max_line = max_line
        self._line = bytearray()
        self._overlong = False

    def feed(self, data: bytes) -> list[bytes]:
        """UIDs of the lines that ``data`` completes."""
        uids: list[bytes] = []
        for byte in data:
            if byte in (_CR, _LF):
                uid = self._end_line()
                if uid is not None:
                    uids.append(uid)
            elif self._overlong:
                continue
            elif len(self._line) >= self.max_line:
                self._overlong = True
                self._line.clear()
                self.rejected += 1
            else:
                self._line.append(byte)
        return uids

    def reset(self) -> None:
        """Forget a partly received line; ``rejected`` stays."""
        self._line.clear()
        self._overlong = False

    def _end_line(self) -> bytes | None:
        line = bytes(self._line)
        self._line.clear()
        if self._overlong:
            self._overlong = False
            return None
        if not line.strip():
            return None
        try:
            return parse_uid(line.decode("ascii").strip())
        except (UnicodeDecodeError, FrameError):
            self.rejected += 1
            return None


def kind_for_length(length: int) -> CardKind:
    """The card technology a UID of ``length`` bytes most likely comes from."""
    for kind in (CardKind.ISO14443A, CardKind.FELICA, CardKind.EM4100):
        if length in UID_LENGTHS[kind]:
            return kind
    return CardKind.UNKNOWN


class SerialReaderDriver(ReaderDriver):
    """A reader on a serial port, speaking RDM6300 frames or one UID per line."""

    def __init__(
        self,
        port: str,
        baudrate: int = 9600,
        protocol: SerialProtocol = "rdm6300",
        poll_timeout_s: float = 0.1,
    ) -> None:
        if protocol not in ("rdm6300", "line"):
            raise ReaderError(f"unknown serial reader protocol {protocol!r} for {port}")
        self.port = port
        self.baudrate = baudrate
        self.protocol: SerialProtocol = protocol
        self.poll_timeout_s = poll_timeout_s
        self.description = f"serial {protocol} {port}"
        self._decoder: StreamDecoder = Rdm6300Decoder() if protocol == "rdm6300" else LineDecoder()
        self._serial: Any = None

    def open(self) -> None:
        self.close()
        try:
            self._serial = serial.serial_for_url(
                self.port, baudrate=self.baudrate, timeout=self.poll_timeout_s
            )
        except (serial.SerialException, OSError, ValueError) as err:
            raise ReaderError(f"cannot open serial reader {self.port}: {err}") from err
        self._decoder.reset()

    def poll(self) -> list[CardRead]:
        port = self._serial
        if port is None:
            raise ReaderError(f"serial reader {self.port} is not open")
        try:
            data: bytes = port.read(1)
            started = time.monotonic()  # the frame began arriving (not the idle wait before)
            if data:
                waiting: int = port.in_waiting
                if waiting:
                    data += port.read(waiting)
        except (serial.SerialException, OSError) as err:
            raise ReaderError(f"serial reader {self.port} failed: {err}") from err
        if not data:
            return []
        return [CardRead(uid, self._kind(uid), started) for uid in self._decoder.feed(data)]

    def close(self) -> None:
        port, self._serial = self._serial, None
        if port is not None:
            with contextlib.suppress(serial.SerialException, OSError):  # gone already
                port.close()

    @property
    def rejected_frames(self) -> int:
        return self._decoder.rejected

    def _kind(self, uid: bytes) -> CardKind:
        return CardKind.EM4100 if self.protocol == "rdm6300" else kind_for_length(len(uid))
