"""What a card reader delivers: one ``CardTap`` per card presented."""

import enum
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from hardware.errors import FrameError
from hublink import credentials
from hublink.credentials import MAX_UID_BYTES
from hublink.errors import CredentialError


class CardKind(enum.StrEnum):
    """Card technology, as far as the reader can tell."""

    ISO14443A = "iso14443a"  # MIFARE, NTAG, DESFire: 4, 7 or 10 byte UID
    FELICA = "felica"  # 8 byte IDm
    EM4100 = "em4100"  # 125 kHz, 5 byte id
    WIEGAND = "wiegand"  # raw bits from an OSDP or Wiegand reader
    UNKNOWN = "unknown"  # a reader that sends only an id


UID_LENGTHS: dict[CardKind, frozenset[int]] = {
    CardKind.ISO14443A: frozenset({4, 7, 10}),
    CardKind.FELICA: frozenset({8}),
    CardKind.EM4100: frozenset({5}),
}


def parse_uid(text: str) -> bytes:
    """Card UID from hex text (``04:A1:B2`` and ``04 a1 b2`` too); leading zeros kept."""
    try:
        return credentials.parse_uid(text)
    except CredentialError as err:
        raise FrameError(str(err)) from err


def uid_bytes(uid: str | bytes) -> bytes:
    """A UID given as hex text (see ``parse_uid``) or as bytes, as bytes."""
    return parse_uid(uid) if isinstance(uid, str) else bytes(uid)


def check_uid(uid: bytes, kind: CardKind) -> bytes:
    """``uid`` if its length fits ``kind``; a ``FrameError`` naming both otherwise."""
    allowed = UID_LENGTHS.get(kind)
    if not uid or len(uid) > MAX_UID_BYTES or (allowed and len(uid) not in allowed):
        expected = " or ".join(str(n) for n in sorted(allowed)) if allowed else "1-32"
        raise FrameError(f"{kind} UID of {len(uid)} bytes (expected {expected})")
    return uid


@dataclass(frozen=True, slots=True)
class CardTap:
    """One card presented at one reader.

    ``uid`` is the card's identifier exactly as the card sent it (never
    reinterpreted as a number, so leading zeros survive). ``read_latency_s``
    is how long the successful poll took, from asking the reader to having
    the UID; ``monotonic`` is when the tap was read, on ``time.monotonic``.
    """

    uid: bytes
    kind: CardKind
    reader_id: str
    at: datetime = field(default_factory=lambda: datetime.now(UTC))
    read_latency_s: float = 0.0
    monotonic: float = field(default_factory=time.monotonic)

    @property
    def uid_hex(self) -> str:
        """The UID as upper-case hex, two digits per byte."""
        return self.uid.hex().upper()


@dataclass(frozen=True, slots=True)
class CardRead:
    """A driver's raw sighting of a card, before debouncing."""

    uid: bytes
    kind: CardKind
    started: float  # time.monotonic() when the successful poll began


class TapDebouncer:
    """Turns repeated sightings of a card into one tap.

    A card is reported when first seen, and again only after it has been
    out of sight for more than ``retap_gap_s``: a card held on the reader
    is one tap however long it stays; taking it away and tapping again
    after the gap is a new tap. A gap of 0 reports every sighting.
    """

    def __init__(self, retap_gap_s: float) -> None:
        self.retap_gap_s = retap_gap_s
        self._last_seen: dict[bytes, float] = {}

    def is_new(self, uid: bytes, now: float) -> bool:
        """Whether a sighting of ``uid`` at ``now`` (monotonic) is a new tap."""
        last = self._last_seen.get(uid)
        self._last_seen[uid] = now
        if len(self._last_seen) > 64:
            self._forget_before(now - self.retap_gap_s)
        return last is None or self.retap_gap_s == 0 or now - last > self.retap_gap_s

    def _forget_before(self, cutoff: float) -> None:
        for uid in [u for u, seen in self._last_seen.items() if seen < cutoff]:
            del self._last_seen[uid]
