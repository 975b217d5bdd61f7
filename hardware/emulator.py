"""A contactless card emulator on nfcpy's UDP driver, for tests and the demo.

``CardEmulator(port=P).hold("04A1B2C3D4E5F6", seconds=0.5)`` puts an ISO
14443A card with that UID in the simulated field that a reader opened as
``udp:127.0.0.1:P`` polls; FeliCa cards (8-byte IDm) work too. The card
side runs nfcpy's own UDP target code, so the reader exercises the real
nfcpy stack end to end. Cards answer as NXP Type 2 tags (NTAG213 memory,
GET_VERSION), so plain ``nfc.ContactlessFrontend.connect()`` also
activates NXP UIDs (starting 0x04) at once instead of timing out.
"""

import socket
import threading
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from hardware.errors import EmulatorError, FrameError
from hardware.taps import CardKind, check_uid, uid_bytes

DEFAULT_PORT = 54321
NTAG213_VERSION = bytes.fromhex("0004040201000F03")
_PAGES = 45
_NAK = None  # a Type 2 tag goes mute on a command it does not support
_STOP_CHECK_S = 0.5  # nfcpy's UDP target waits at least this long per listen


@dataclass(frozen=True)
class EmulatedCard:
    """A card to put on the simulated reader."""

    uid: bytes
    kind: CardKind = CardKind.ISO14443A

    @classmethod
    def parse(cls, uid: str | bytes, kind: CardKind | None = None) -> "EmulatedCard":
        """A card from hex text or bytes; 8-byte ids are FeliCa unless ``kind`` says otherwise."""
        if kind not in (None, CardKind.ISO14443A, CardKind.FELICA):
            raise EmulatorError(f"the emulator cannot present {kind} cards")
        try:
            raw = uid_bytes(uid)
            kind = kind or (CardKind.FELICA if len(raw) == 8 else CardKind.ISO14443A)
            return cls(check_uid(raw, kind), kind)
        except FrameError as err:
            raise EmulatorError(str(err)) from err


@dataclass
class Type2Memory:
    """The memory of an NTAG213 with this UID and an empty NDEF message."""

    uid: bytes
    pages: bytearray = field(init=False)

    def __post_init__(self) -> None:
        uid = self.uid if len(self.uid) == 7 else (self.uid + bytes(7))[:7]
        bcc0 = 0x88 ^ uid[0] ^ uid[1] ^ uid[2]
        bcc1 = uid[3] ^ uid[4] ^ uid[5] ^ uid[6]
        header = bytes([*uid[:3], bcc0, *uid[3:], bcc1, 0x48, 0, 0])
        capability = bytes.fromhex("E1101200")
        ndef = bytes.fromhex("0300FE")
        self.pages = bytearray((header + capability + ndef).ljust(_PAGES * 4, b"\0"))

    def respond(self, command: bytes) -> bytes | None:
        """The tag's answer to ``command``, or None where a real tag stays mute."""
        if len(command) == 2 and command[0] == 0x30:  # READ: four pages, wrapping
            start = (command[1] % _PAGES) * 4
            return bytes((self.pages + self.pages)[start : start + 16])
        if command == b"\x60":  # GET_VERSION
            return NTAG213_VERSION
        return _NAK


class CardEmulator:
    """Puts emulated cards into the UDP field at ``host:port``, one at a time."""

    def __init__(self, host: str = "127.0.0.1", port: int = DEFAULT_PORT) -> None:
        self.host = host
        self.port = port
        self.polls_answered = 0

    def hold(
        self,
        uid: str | bytes | EmulatedCard,
        seconds: float,
        stop: threading.Event | None = None,
        ready: threading.Event | None = None,
    ) -> int:
        """Keep the card in the field for ``seconds`` (or until ``stop``); returns commands seen.

        ``ready`` is set once the card is in the field. Raises ``EmulatorError``
        if another emulator holds the port.
        """
        card = uid if isinstance(uid, EmulatedCard) else EmulatedCard.parse(uid)
        stop = stop or threading.Event()
        device = self._device()
        if ready is not None:
            ready.set()
        try:
            deadline = time.time() + seconds  # nfcpy's UDP driver counts in time.time()
            if card.kind is CardKind.FELICA:
                return self._serve_felica(device, card, deadline, stop)
            return self._serve_type_a(device, card, deadline, stop)
        finally:
            device.socket.close()
            device.socket = None

    def holding(self, uid: str | bytes | EmulatedCard, seconds: float = 60.0) -> "HeldCard":
        """``with emulator.holding(uid):`` keeps the card in the field for the block."""
        return HeldCard(self, uid, seconds)

    def _device(self) -> Any:
        import nfc  # noqa: PLC0415 - nfcpy loads slowly; only the emulator needs it here

        device = nfc.ContactlessFrontend(f"udp:{self.host}:{self.port}").device
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind((self.host, self.port))  # loopback only, unlike nfcpy's own 0.0.0.0
        except OSError as err:
            sock.close()
            raise EmulatorError(f"cannot emulate on {self.host}:{self.port}: {err}") from err
        device.socket, device.sent_data, device.rcvd_data = sock, 0, 0
        _fix_cascade_level_3(device)
        return device

    def _serve_type_a(
        self, device: Any, card: EmulatedCard, deadline: float, stop: threading.Event
    ) -> int:
        from nfc.clf import LocalTarget  # noqa: PLC0415

        size_bits = {4: 0x00, 7: 0x40, 10: 0x80}[len(card.uid)]
        target = LocalTarget("106A")
        target.sens_res = bytearray([size_bits | 0x04, 0x00])
        target.sdd_res = bytearray(card.uid)
        target.sel_res = bytearray([0x00])  # Type 2 tag
        memory = Type2Memory(card.uid)
        commands = 0
        while not stop.is_set() and time.time() < deadline:
            # The socket stays bound between activations, so a reader that
            # re-senses (nfcpy does, for NXP tags) is answered at once.
            activated = device._listen_tta(target, min(deadline, time.time() + _STOP_CHECK_S))
            command = activated.tt2_cmd if activated is not None else None
            while command is not None and not stop.is_set():
                commands += 1
                command = self._answer(device, activated, memory.respond(bytes(command)), deadline)
        return commands

    def _serve_felica(
        self, device: Any, card: EmulatedCard, deadline: float, stop: threading.Event
    ) -> int:
        from nfc.clf import LocalTarget  # noqa: PLC0415

        target = LocalTarget("212F")
        target.sensf_res = bytearray(b"\x01" + card.uid + bytes.fromhex("FFFFFFFFFFFFFFFF12FC"))
        commands = 0
        while not stop.is_set() and time.time() < deadline:
            activated = device._listen_ttf(target, min(deadline, time.time() + _STOP_CHECK_S))
            if activated is not None:
                commands += 1
        return commands

    @staticmethod
    def _answer(device: Any, target: Any, response: bytes | None, deadline: float) -> Any:
        import nfc.clf  # noqa: PLC0415

        try:
            wait = min(_STOP_CHECK_S, max(0.01, deadline - time.time()))
            return device.send_rsp_recv_cmd(target, response, wait)
        except nfc.clf.CommunicationError:  # the reader switched the field off or left
            return None


class HeldCard:
    """A card held in the field by a background thread (see ``CardEmulator.holding``)."""

    def __init__(self, emulator: CardEmulator, uid: str | bytes | EmulatedCard, seconds: float):
        self._emulator = emulator
        self._card = uid if isinstance(uid, EmulatedCard) else EmulatedCard.parse(uid)
        self._seconds = seconds
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="card-emulator", daemon=True)

    def _run(self) -> None:
        try:
            self._emulator.hold(self._card, self._seconds, self._stop, self._ready)
        except BaseException as err:  # noqa: BLE001 - handed to the caller
            self._error = err
            self._ready.set()

    def __enter__(self) -> "HeldCard":
        """Put the card in the field; returns once a reader can see it."""
        self._thread.start()
        self._ready.wait(10.0)
        if self._error is not None:
            raise self._error
        return self

    def remove(self) -> None:
        """Take the card out of the field now."""
        self._stop.set()
        self._thread.join(5.0)
        if self._error is not None:
            raise self._error

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.remove()


def _fix_cascade_level_3(device: Any) -> None:
    """Answer 10-byte UIDs: nfcpy 1.0.4's UDP target expects SEL_REQ CL3 as 0x95, not 0x97.

    Applied to this emulator's own device only; the reader side stays stock nfcpy.
    """
    receive = device._recv_data

    def recv_data(timeout: float | None, *brty_list: str) -> tuple[str, bytearray, Any]:
        brty, data, addr = receive(timeout, *brty_list)
        if data[:2] == b"\x97\x70":
            data = bytearray(b"\x95\x70") + data[2:]
        return brty, data, addr

    device._recv_data = recv_data
