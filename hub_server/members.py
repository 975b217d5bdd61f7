"""Members: the people who hold cards. Surnames and emails never leave the hub."""

import secrets
import sqlite3
from typing import Any

import sqlite_utils

from hub_server import audit, organisations
from hub_server.errors import Conflict, Invalid, NotFound
from hub_server.models import Member, MemberChange, MemberIn, MemberStatus, fold
from hub_server.store import Store, now_text, parse_time


def new_member_id() -> str:
    """A random member id (48 bits: no clash in any realistic hub)."""
    return f"m-{secrets.token_hex(6)}"


def add(store: Store, data: MemberIn, actor: str) -> Member:
    """Create a member; :class:`Conflict` for a taken id or email."""
    with store.write() as db:
        member_id = insert(db, data)
        audit.record(db, actor, "member.add", member_id, name=_full_name(data))
    return get(store, member_id)


def insert(db: sqlite_utils.Database, data: MemberIn) -> str:
    """Insert inside a caller's write (the CSV import uses it too); returns the id."""
    member_id = data.id or new_member_id()
    org_id = organisations.resolve(db, data.organisation) if data.organisation else None
    _check_tier(db, data.tier)
    _check_email_free(db, data.email, None)
    now = now_text()
    try:
        db.execute(
            "INSERT INTO members (id, first_name, last_name, email, email_key, organisation_id,"
            " tier, role, status, valid_from, valid_until, search, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                member_id, data.first_name, data.last_name, data.email, _email_key(data.email),
                org_id, data.tier,
                data.role, data.status, _time(data.valid_from), _time(data.valid_until),
                search_text(data.first_name, data.last_name, data.email), now, now,
            ),
        )  # fmt: skip
    except sqlite3.IntegrityError as err:
        raise Conflict(f"a member with id {member_id} exists") from err
    return member_id


def get(store: Store, member_id: str) -> Member:
    """One member; :class:`NotFound` if there is none."""
    row = store.query_one(_SELECT + " WHERE m.id = ?", (member_id,))
    if row is None:
        raise NotFound(f"no member {member_id!r}")
    return _member(row)


def find(
    store: Store,
    *,
    search: str | None = None,
    organisation: str | None = None,
    status: MemberStatus | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Member]:
    """Members by last and first name, filtered; ``search`` matches names and email."""
    where, params = _filters(store, search, organisation, status)
    rows = store.query(
        _SELECT + where + " ORDER BY m.last_name COLLATE NOCASE, m.first_name COLLATE NOCASE,"
        " m.id LIMIT ? OFFSET ?",
        (*params, limit, offset),
    )
    return [_member(row) for row in rows]


def count(
    store: Store,
    *,
    search: str | None = None,
    organisation: str | None = None,
    status: MemberStatus | None = None,
) -> int:
    """How many members :func:`find` would page through."""
    where, params = _filters(store, search, organisation, status)
    row = store.query_one("SELECT count(*) FROM members m" + where, params)  # noqa: S608
    return int(row[0]) if row else 0


def change(store: Store, member_id: str, data: MemberChange, actor: str) -> Member:
    """Change the fields ``data`` sets; the rest stay."""
    fields = data.model_dump(exclude_unset=True)
    if not fields:
        return get(store, member_id)
    with store.write() as db:
        current = db.execute("SELECT * FROM members WHERE id = ?", (member_id,)).fetchone()
        if current is None:
            raise NotFound(f"no member {member_id!r}")
        values: dict[str, Any] = {}
        for key, value in fields.items():
            if key in ("first_name", "last_name", "role", "status"):
                if value is None:
                    raise Invalid(key, "cannot be empty")
                values[key] = value
            elif key == "email":
                _check_email_free(db, value, member_id)
                values[key] = value
                values["email_key"] = _email_key(value)
            elif key == "organisation":
                values["organisation_id"] = organisations.resolve(db, value) if value else None
            elif key == "tier":
                if value is None:
                    raise Invalid(key, "cannot be empty")
                _check_tier(db, value)
                values[key] = value
            else:
                values[key] = _time(value)
        start = values.get("valid_from", current["valid_from"])
        end = values.get("valid_until", current["valid_until"])
        if start and end and end <= start:
            raise Invalid("valid_until", "must be after valid_from")
        if {"first_name", "last_name", "email"} & values.keys():
            values["search"] = search_text(
                values.get("first_name", current["first_name"]),
                values.get("last_name", current["last_name"]),
                values.get("email", current["email"]),
            )
        values["updated_at"] = now_text()
        assignments = ", ".join(f"{column} = ?" for column in values)
        db.execute(
            f"UPDATE members SET {assignments} WHERE id = ?",  # noqa: S608  (columns are ours)
            (*values.values(), member_id),
        )
        audit.record(db, actor, "member.change", member_id, **fields)
    return get(store, member_id)


def deactivate(store: Store, member_id: str, actor: str) -> Member:
    """Take a member off every door's list (their cards stay on record, unusable)."""
    return change(store, member_id, MemberChange(status="inactive"), actor)


def _filters(
    store: Store, search: str | None, organisation: str | None, status: MemberStatus | None
) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if search and search.strip():
        words = fold(search).split()
        clauses.append("(m.id = ? OR (" + " AND ".join("m.search LIKE ?" for _ in words) + "))")
        params += [search.strip(), *(f"%{_escape_like(word)}%" for word in words)]
    if organisation:
        clauses.append("m.organisation_id = ?")
        params.append(organisations.resolve(store.read(), organisation))
    if status:
        clauses.append("m.status = ?")
        params.append(status)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def search_text(first_name: str, last_name: str, email: str | None) -> str:
    """What member search matches against: names and email, folded (see ``models.fold``)."""
    return fold(" ".join((first_name, last_name, email or "")))


def _escape_like(word: str) -> str:
    return word.replace("\\", "").replace("%", "").replace("_", "")


def _check_tier(db: sqlite_utils.Database, tier: str) -> None:
    if db.execute("SELECT 1 FROM tiers WHERE id = ?", (tier,)).fetchone() is None:
        known = ", ".join(row[0] for row in db.execute("SELECT id FROM tiers ORDER BY id"))
        raise Invalid("tier", f"unknown tier {tier!r} (known: {known})")


def _email_key(email: str | None) -> str | None:
    return email.casefold() if email else None


def _check_email_free(db: sqlite_utils.Database, email: str | None, member_id: str | None) -> None:
    if not email:
        return
    row = db.execute(
        "SELECT id FROM members WHERE email_key = ? AND id IS NOT ?", (_email_key(email), member_id)
    ).fetchone()
    if row is not None:
        raise Conflict(f"email {email} is already used by member {row[0]}")


def _time(value: Any) -> str | None:
    return None if value is None else now_text(value)


def _full_name(data: MemberIn) -> str:
    return f"{data.first_name} {data.last_name}"


def _member(row: sqlite3.Row) -> Member:
    values = dict(row)
    del values["search"], values["email_key"]
    for key in ("valid_from", "valid_until", "created_at", "updated_at"):
        values[key] = parse_time(values[key])
    return Member(**values)


_SELECT = (
    "SELECT m.*, o.name AS organisation FROM members m "
    "LEFT JOIN organisations o ON o.id = m.organisation_id"
)
