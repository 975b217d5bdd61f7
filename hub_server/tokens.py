"""API tokens: named bearer secrets for the HTTP API; the hub keeps only their SHA-256.

A token is shown once, when it is created (``htk_`` and 43 URL-safe
characters). A lookup hashes what the caller sent and looks for that hash,
so nothing secret is ever compared character by character. A revoked token
keeps its row (and its name) for the audit trail.
"""

import hashlib
import logging
import re
import secrets
import sqlite3
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ConfigDict

from hub_server import audit
from hub_server.errors import Conflict, Invalid, NotFound, StoreError
from hub_server.store import Store, now_text, parse_time

log = logging.getLogger(__name__)

PREFIX = "htk_"
"""Every token starts with this, so a leaked one is easy to recognise (and to scan for)."""

MAX_TOKEN_LENGTH = 200
"""Longer than any token :func:`create` makes; a longer one is not looked up at all."""

LAST_USED_EVERY = timedelta(minutes=1)
"""``last_used_at`` is written at most this often per token, not on every request."""

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class TokenInfo(BaseModel):
    """A token as stored, without its secret."""

    model_config = ConfigDict(frozen=True)

    id: int
    name: str
    created_at: datetime
    created_by: str
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def actor(self) -> str:
        """Who the audit log says did what this token did."""
        return f"token:{self.name}"


def token_hash(token: str) -> str:
    """The SHA-256 (hex) the hub stores in place of ``token``."""
    return hashlib.sha256(token.encode()).hexdigest()


def create(store: Store, name: str, actor: str) -> str:
    """Create a token named ``name`` and return it: the only time it is ever shown."""
    name = name.strip()
    if not NAME_PATTERN.fullmatch(name):
        raise Invalid(
            "name", "must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    token = PREFIX + secrets.token_urlsafe(32)
    with store.write() as db:
        try:
            db.execute(
                "INSERT INTO api_tokens (name, token_hash, created_at, created_by)"
                " VALUES (?, ?, ?, ?)",
                (name, token_hash(token), now_text(), actor),
            )
        except sqlite3.IntegrityError as err:
            raise Conflict(
                f"a token named {name!r} exists (revoked tokens keep their name)"
            ) from err
        audit.record(db, actor, "token.add", name)
    return token


def verify(store: Store, token: str, *, now: datetime | None = None) -> TokenInfo | None:
    """The live token ``token`` is, or ``None`` (unknown, malformed or revoked)."""
    if not token.startswith(PREFIX) or len(token) > MAX_TOKEN_LENGTH:
        return None
    row = store.query_one(_SELECT + " WHERE token_hash = ?", (token_hash(token),))
    if row is None or row["revoked_at"] is not None:
        return None
    info = _info(row)
    now = now or datetime.now(UTC)
    if info.last_used_at is None or now - info.last_used_at >= LAST_USED_EVERY:
        try:
            with store.write() as db:
                db.execute(
                    "UPDATE api_tokens SET last_used_at = ? WHERE id = ?", (now_text(now), info.id)
                )
        except StoreError as err:  # a busy database must not turn a good token away
            log.warning("could not note the use of token %s: %s", info.name, err)
        else:
            info = info.model_copy(update={"last_used_at": now.astimezone(UTC)})
    return info


def revoke(store: Store, name: str, actor: str) -> TokenInfo:
    """Revoke the token ``name``: it stops working at once."""
    with store.write() as db:
        row = db.execute("SELECT revoked_at FROM api_tokens WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise NotFound(f"no token named {name!r}")
        if row["revoked_at"] is not None:
            raise Conflict(f"token {name!r} is already revoked")
        db.execute("UPDATE api_tokens SET revoked_at = ? WHERE name = ?", (now_text(), name))
        audit.record(db, actor, "token.revoke", name)
    return get(store, name)


def get(store: Store, name: str) -> TokenInfo:
    """One token by name; :class:`NotFound` if there is none."""
    row = store.query_one(_SELECT + " WHERE name = ?", (name,))
    if row is None:
        raise NotFound(f"no token named {name!r}")
    return _info(row)


def list_tokens(store: Store) -> list[TokenInfo]:
    """Every token, revoked ones too, by name."""
    return [_info(row) for row in store.query(_SELECT + " ORDER BY name")]


def _info(row: sqlite3.Row) -> TokenInfo:
    return TokenInfo(
        id=row["id"],
        name=row["name"],
        created_at=parse_time(row["created_at"]) or datetime.min.replace(tzinfo=UTC),
        created_by=row["created_by"],
        last_used_at=parse_time(row["last_used_at"]),
        revoked_at=parse_time(row["revoked_at"]),
    )


_SELECT = "SELECT id, name, created_at, created_by, last_used_at, revoked_at FROM api_tokens"
