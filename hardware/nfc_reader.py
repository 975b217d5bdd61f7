"""NFC readers through nfcpy: PN532 on UART or USB, USB readers, and the UDP simulator.

The driver only senses: anticollision gives the UID (ISO 14443A) or IDm
(FeliCa) without activating the tag, which is all a door needs and keeps a
read to a few milliseconds whatever the card's maker. The device path is
nfcpy's: ``usb``, ``tty:AMA0:pn532``, ``tty:USB0:pn532``, or
``udp:127.0.0.1:PORT`` for ``hardware.emulator``.
"""

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from hardware.errors import FrameError, ReaderError
from hardware.reader import ReaderDriver
from hardware.taps import CardKind, CardRead, check_uid

log = logging.getLogger(__name__)

Frontend = Any  # nfc.ContactlessFrontend; nfcpy has no type hints
FrontendFactory = Callable[[str], Frontend]


def open_nfcpy(path: str) -> Frontend:
    """Open nfcpy's ContactlessFrontend on ``path``."""
    import nfc  # noqa: PLC0415 - imported only where an NFC reader is configured

    return nfc.ContactlessFrontend(path)


def read_from_target(target: Any) -> tuple[bytes, CardKind]:
    """The card id and kind nfcpy's sensed ``target`` carries."""
    brty = str(target.brty)
    if brty.endswith("A") and target.sdd_res is not None:
        return check_uid(bytes(target.sdd_res), CardKind.ISO14443A), CardKind.ISO14443A
    if brty.endswith("F") and target.sensf_res is not None and len(target.sensf_res) >= 9:
        return bytes(target.sensf_res[1:9]), CardKind.FELICA
    raise FrameError(f"unsupported card type at {brty} ({target})")


class NfcReaderDriver(ReaderDriver):
    """Polls an nfcpy contactless frontend for one card at a time."""

    def __init__(
        self,
        path: str,
        targets: Sequence[str] = ("106A", "212F"),
        poll_interval_s: float = 0.1,
        frontend_factory: FrontendFactory = open_nfcpy,
    ) -> None:
        self.path = path
        self.targets = tuple(targets)
        self.poll_interval_s = poll_interval_s
        self.description = f"nfcpy {path}"
        self._factory = frontend_factory
        self._clf: Frontend | None = None
        self._rejected = 0
        self._closing = threading.Event()

    @property
    def rejected_frames(self) -> int:
        return self._rejected

    def open(self) -> None:
        from nfc.clf import RemoteTarget  # noqa: PLC0415

        self._closing.clear()
        try:
            self._clf = self._factory(self.path)
        except (OSError, ValueError) as err:
            raise ReaderError(f"no NFC reader at {self.path!r}: {err}") from err
        self._remote_targets = [RemoteTarget(brty) for brty in self.targets]
        log.debug("nfcpy opened %s", self._clf)

    def poll(self) -> list[CardRead]:
        clf = self._clf
        if clf is None:
            raise ReaderError(f"NFC reader {self.path!r} is not open")
        started = time.monotonic()
        try:
            target = clf.sense(*self._remote_targets, iterations=1, interval=0)
        except OSError as err:
            raise ReaderError(f"NFC reader {self.path!r} stopped answering: {err}") from err
        reads: list[CardRead] = []
        if target is not None:
            try:
                uid, kind = read_from_target(target)
                reads.append(CardRead(uid, kind, started))
            except FrameError as err:
                self._rejected += 1
                log.warning("NFC reader %s: %s", self.path, err)
        elif self.poll_interval_s:
            self._closing.wait(self.poll_interval_s)
        return reads

    def close(self) -> None:
        self._closing.set()
        clf, self._clf = self._clf, None
        if clf is not None:
            try:
                clf.close()
            except Exception:
                log.debug("closing nfcpy %s failed", self.path, exc_info=True)
