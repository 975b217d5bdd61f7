"""Dashboard accounts: operators and hosts, argon2 password hashes, lockout.

Roles: ``operator`` may do everything on the dashboard; ``host`` only what
concerns events and guests (and sees occupancy counts, never names). A
username is unique ignoring case. Wrong passwords are counted per username,
known or not, so a lockout tells a stranger nothing about who exists; after
``lockout_after`` in a row the name is locked for ``lockout_min`` minutes,
and no password is even checked until then.
"""

import re
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, get_args

import sqlite_utils
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from pydantic import BaseModel, ConfigDict

from hub_server import audit
from hub_server.config import DashboardSection
from hub_server.errors import Conflict, HubError, Invalid, NotFound
from hub_server.store import Store, now_text, parse_time

Role = Literal["operator", "host"]
ROLES: tuple[Role, ...] = get_args(Role)

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
MIN_PASSWORD = 10
MAX_PASSWORD = 1024

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("hubtap: a password nobody has")
"""Verified against when the username is unknown, so both take as long."""


class LoginRefused(HubError):
    """Wrong username or password, or locked out; ``locked_until`` is set when locked."""

    def __init__(self, message: str, locked_until: datetime | None = None) -> None:
        super().__init__(message)
        self.locked_until = locked_until


WRONG = "wrong username or password"


class Signed:
    """What a dashboard account and its sessions share: how the audit log and pages name it."""

    username: str
    display_name: str

    @property
    def actor(self) -> str:
        """Who the audit log names for what this account does."""
        return f"web:{self.username}"

    @property
    def label(self) -> str:
        """How the dashboard names the user."""
        return self.display_name or self.username


class User(Signed, BaseModel):
    """A dashboard account, without its password hash."""

    model_config = ConfigDict(frozen=True)

    id: int
    username: str
    display_name: str
    role: Role
    created_at: datetime
    created_by: str
    last_login_at: datetime | None
    disabled_at: datetime | None


@dataclass(frozen=True)
class Lockout:
    """How many wrong passwords lock a username, and for how long."""

    after: int = 5
    duration: timedelta = timedelta(minutes=15)

    @classmethod
    def from_config(cls, section: DashboardSection) -> "Lockout":
        """The lockout ``[dashboard]`` asks for."""
        return cls(section.lockout_after, timedelta(minutes=section.lockout_min))


def check_username(username: str) -> str:
    """``username`` stripped; :class:`Invalid` unless it is a plain login name."""
    name = username.strip()
    if not USERNAME.match(name):
        raise Invalid(
            "username",
            "use 1 to 64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit",
        )
    return name


def check_password(password: str) -> str:
    """``password`` as given; :class:`Invalid` when too short or too long."""
    if len(password) < MIN_PASSWORD:
        raise Invalid("password", f"use at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise Invalid("password", f"use at most {MAX_PASSWORD} characters")
    return password


def add(
    store: Store, username: str, password: str, role: str, actor: str, *, display_name: str = ""
) -> User:
    """Create an account; :class:`Conflict` if the username is taken (ignoring case)."""
    name = check_username(username)
    if role not in ROLES:
        raise Invalid("role", f"must be one of {', '.join(ROLES)}")
    hashed = _hasher.hash(check_password(password))
    with store.write() as db:
        if _row(db.conn, name) is not None:
            raise Conflict(f"a user named {name!r} exists already")
        user_id = db.execute(
            "INSERT INTO users (username, username_key, display_name, role, password_hash, "
            "created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (name, _key(name), display_name.strip(), role, hashed, now_text(), actor),
        ).lastrowid
        audit.record(db, actor, "user.add", name, role=role)
    return get(store, int(user_id or 0))


def get(store: Store, user_id: int) -> User:
    """One account by id; :class:`NotFound` if there is none."""
    row = store.query_one("SELECT * FROM users WHERE id = ?", (user_id,))
    if row is None:
        raise NotFound(f"no user {user_id}")
    return _user(row)


def named(store: Store, username: str) -> User:
    """One account by username (any case); :class:`NotFound` if there is none."""
    row = _row(store.read(), username.strip())
    if row is None:
        raise NotFound(f"no user named {username.strip()!r}")
    return _user(row)


def all_users(store: Store) -> list[User]:
    """Every account, disabled ones too, by username."""
    return [_user(row) for row in store.query("SELECT * FROM users ORDER BY username_key")]


def set_password(store: Store, username: str, password: str, actor: str) -> User:
    """Replace a password, end the user's sessions and any lockout."""
    hashed = _hasher.hash(check_password(password))
    user = named(store, username)
    with store.write() as db:
        db.execute("UPDATE users SET password_hash = ? WHERE id = ?", (hashed, user.id))
        db.execute("DELETE FROM web_sessions WHERE user_id = ?", (user.id,))
        db.execute("DELETE FROM login_failures WHERE username_key = ?", (_key(user.username),))
        audit.record(db, actor, "user.password", user.username)
    return get(store, user.id)


def disable(store: Store, username: str, actor: str) -> User:
    """Stop an account from logging in and end its sessions; the row stays for the audit log."""
    user = named(store, username)
    with store.write() as db:
        db.execute(
            "UPDATE users SET disabled_at = COALESCE(disabled_at, ?) WHERE id = ?",
            (now_text(), user.id),
        )
        db.execute("DELETE FROM web_sessions WHERE user_id = ?", (user.id,))
        audit.record(db, actor, "user.disable", user.username)
    return get(store, user.id)


def authenticate(
    store: Store, username: str, password: str, lockout: Lockout, now: datetime
) -> User:
    """The account ``username``/``password`` opens; :class:`LoginRefused` otherwise."""
    name = username.strip()
    key = _key(name)
    failures = store.query_one("SELECT * FROM login_failures WHERE username_key = ?", (key,))
    locked_until = parse_time(failures["locked_until"]) if failures else None
    if locked_until is not None and locked_until > now:
        raise LoginRefused(_locked_message(locked_until, now), locked_until)
    row = _row(store.read(), name) if USERNAME.match(name) else None
    if row is None or row["disabled_at"] is not None:
        _verify(_DUMMY_HASH, password)
        return _refuse(store, key, name=name, failures=failures, lockout=lockout, now=now)
    if not _verify(row["password_hash"], password):
        return _refuse(store, key, name=name, failures=failures, lockout=lockout, now=now)
    with store.write() as db:
        db.execute("DELETE FROM login_failures WHERE username_key = ?", (key,))
        if _hasher.check_needs_rehash(row["password_hash"]):
            db.execute(
                "UPDATE users SET password_hash = ? WHERE id = ?",
                (_hasher.hash(password), row["id"]),
            )
        db.execute("UPDATE users SET last_login_at = ? WHERE id = ?", (now_text(now), row["id"]))
    return get(store, row["id"])


def _refuse(
    store: Store,
    key: str,
    *,
    name: str,
    failures: sqlite3.Row | None,
    lockout: Lockout,
    now: datetime,
) -> User:
    last = parse_time(failures["last_failure_at"]) if failures else None
    stale = last is None or now - last > lockout.duration
    count = 1 if stale or failures is None else int(failures["failures"]) + 1
    locked_until = now + lockout.duration if count >= lockout.after else None
    with store.write() as db:
        db.execute(
            "INSERT INTO login_failures (username_key, failures, last_failure_at, locked_until) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (username_key) DO UPDATE SET "
            "failures = excluded.failures, last_failure_at = excluded.last_failure_at, "
            "locked_until = excluded.locked_until",
            (key, 0 if locked_until else count, now_text(now), _text(locked_until)),
        )
        if locked_until is not None:
            audit.record(db, audit.SYSTEM, "user.lockout", name[:64], failures=count)
    if locked_until is not None:
        raise LoginRefused(_locked_message(locked_until, now), locked_until)
    raise LoginRefused(WRONG)


def _locked_message(until: datetime, now: datetime) -> str:
    minutes = max(1, round((until - now).total_seconds() / 60))
    return f"too many wrong passwords: try again in {minutes} min"


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _text(when: datetime | None) -> str | None:
    return now_text(when) if when is not None else None


def _key(username: str) -> str:
    return username.casefold()


def _row(conn: sqlite3.Connection | sqlite_utils.Database, username: str) -> sqlite3.Row | None:
    cursor = conn.execute("SELECT * FROM users WHERE username_key = ?", (_key(username),))
    row: sqlite3.Row | None = cursor.fetchone()
    return row


def _user(row: sqlite3.Row) -> User:
    return User(
        id=row["id"],
        username=row["username"],
        display_name=row["display_name"],
        role=row["role"],
        created_at=row["created_at"],
        created_by=row["created_by"],
        last_login_at=row["last_login_at"],
        disabled_at=row["disabled_at"],
    )
