"""Card credentials as the system stores them: keyed hashes, never raw UIDs.

Every site has one secret key. A card's credential is HMAC-SHA256 of its
UID bytes under that key, as 64 lower-case hex digits: the hub computes it
at enrolment, the door at each tap, and only the hash travels and is
stored. Without the key a list of hashes does not reveal which cards open
the door, and a hash from one site means nothing at another.
"""

import hashlib
import hmac
import re

from hublink.errors import ConfigError, CredentialError

MIN_KEY_BYTES = 32
MAX_UID_BYTES = 32
_HEX = re.compile(r"(?:[0-9a-fA-F]{2})+")
_HEX_SEPARATORS = re.compile(r"[\s:\-]")


def parse_site_key(text: str) -> bytes:
    """The site key from its hex form; at least 32 bytes (64 hex digits)."""
    cleaned = text.strip()
    if not _HEX.fullmatch(cleaned) or len(cleaned) < 2 * MIN_KEY_BYTES:
        raise ConfigError(
            f"a site key is at least {2 * MIN_KEY_BYTES} hex digits "
            "(generate one with: python -c 'import secrets; print(secrets.token_hex(32))')"
        )
    return bytes.fromhex(cleaned)


def credential_hash(site_key: bytes, uid: bytes) -> str:
    """The credential for a card with ``uid`` at the site whose key is ``site_key``."""
    if len(site_key) < MIN_KEY_BYTES:
        raise ConfigError(f"a site key is at least {MIN_KEY_BYTES} bytes")
    return hmac.new(site_key, uid, hashlib.sha256).hexdigest()


def parse_uid(text: str) -> bytes:
    """Card UID from hex text (``04:A1:B2`` and ``04 a1 b2`` too); leading zeros kept."""
    digits = _HEX_SEPARATORS.sub("", text)
    if not _HEX.fullmatch(digits):
        raise CredentialError(f"not a card UID: {text!r} (expected an even number of hex digits)")
    uid = bytes.fromhex(digits)
    if len(uid) > MAX_UID_BYTES:
        raise CredentialError(f"card UID of {len(uid)} bytes is longer than {MAX_UID_BYTES}")
    return uid


def card_hint(uid: bytes) -> str | None:
    """The last 4 hex digits of a UID, lower case: what logs and screens show of a card."""
    return uid.hex()[-4:] if len(uid) >= 2 else None
