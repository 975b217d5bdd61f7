"""Dashboard sessions: a random cookie token, kept server-side as its SHA-256.

A session belongs to one user and carries its own CSRF token. It ends at
logout, after ``session_idle_min`` without a request, ``session_max_h``
after login, and at once when the user's password changes or the account
is disabled (those delete its rows).
"""

import hashlib
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta

from hub_server.config import DashboardSection
from hub_server.store import Store, now_text, parse_time
from hub_server.users import Role, Signed

SEEN_EVERY = timedelta(minutes=1)
"""``seen_at`` is written at most this often per session, not on every request."""

MAX_TOKEN_LENGTH = 100


@dataclass(frozen=True)
class SessionPolicy:
    """How long a session lives without requests, and at most."""

    idle: timedelta = timedelta(hours=8)
    max_age: timedelta = timedelta(hours=12)

    @classmethod
    def from_config(cls, section: DashboardSection) -> "SessionPolicy":
        """The policy ``[dashboard]`` asks for."""
        return cls(
            timedelta(minutes=section.session_idle_min), timedelta(hours=section.session_max_h)
        )


@dataclass(frozen=True)
class WebSession(Signed):
    """A live session and who it belongs to."""

    token_hash: str
    user_id: int
    username: str
    display_name: str
    role: Role
    csrf_token: str
    expires_at: datetime


def start(store: Store, user_id: int, policy: SessionPolicy, now: datetime) -> str:
    """A new session for ``user_id``; its cookie token (shown only here)."""
    token = secrets.token_urlsafe(32)
    with store.write() as db:
        db.execute(
            "INSERT INTO web_sessions (token_hash, user_id, csrf_token, created_at, seen_at, "
            "expires_at) VALUES (?, ?, ?, ?, ?, ?)",
            (
                _hash(token),
                user_id,
                secrets.token_urlsafe(32),
                now_text(now),
                now_text(now),
                now_text(now + policy.max_age),
            ),
        )
    return token


def lookup(
    store: Store, token: str | None, policy: SessionPolicy, now: datetime, *, touch: bool = True
) -> WebSession | None:
    """The live session ``token`` opens, or ``None``; ``touch`` counts this as activity."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    row = store.query_one(
        "SELECT s.*, u.username, u.display_name, u.role FROM web_sessions s "
        "JOIN users u ON u.id = s.user_id WHERE s.token_hash = ? AND u.disabled_at IS NULL",
        (_hash(token),),
    )
    if row is None:
        return None
    seen = parse_time(row["seen_at"]) or now
    expires = parse_time(row["expires_at"]) or now
    if now >= expires or now - seen >= policy.idle:
        end(store, token)
        return None
    if touch and now - seen >= SEEN_EVERY:
        with store.write() as db:
            db.execute(
                "UPDATE web_sessions SET seen_at = ? WHERE token_hash = ?",
                (now_text(now), row["token_hash"]),
            )
    return _session(row, min(expires, (now if touch else seen) + policy.idle))


def end(store: Store, token: str) -> None:
    """End the session ``token`` opens (logout); nothing if there is none."""
    with store.write() as db:
        db.execute("DELETE FROM web_sessions WHERE token_hash = ?", (_hash(token),))


def purge(store: Store, policy: SessionPolicy, now: datetime) -> int:
    """Delete every session that has ended; how many."""
    with store.write() as db:
        cursor = db.execute(
            "DELETE FROM web_sessions WHERE expires_at <= ? OR seen_at <= ?",
            (now_text(now), now_text(now - policy.idle)),
        )
        return cursor.rowcount


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _session(row: sqlite3.Row, expires_at: datetime) -> WebSession:
    return WebSession(
        token_hash=row["token_hash"],
        user_id=row["user_id"],
        username=row["username"],
        display_name=row["display_name"],
        role=row["role"],
        csrf_token=row["csrf_token"],
        expires_at=expires_at,
    )
