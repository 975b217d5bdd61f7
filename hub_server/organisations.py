"""Organisations: the companies and agencies members belong to."""

import re
import secrets
import sqlite3

import sqlite_utils

from hub_server import audit
from hub_server.errors import Conflict, NotFound
from hub_server.models import Organisation, OrganisationIn, fold
from hub_server.store import Store, now_text


def slug(name: str, prefix: str) -> str:
    """A readable id from a name (``Ærø Kommune`` -> ``o-aero-kommune``), or a random one."""
    words = re.sub(r"[^a-z0-9]+", "-", fold(name)).strip("-")[:40].strip("-")
    return f"{prefix}-{words}" if words else f"{prefix}-{secrets.token_hex(5)}"


def add(store: Store, data: OrganisationIn, actor: str) -> Organisation:
    """Create an organisation; :class:`Conflict` if the name or id is taken."""
    with store.write() as db:
        org_id = insert(db, data)
        audit.record(db, actor, "organisation.add", org_id, name=data.name)
    return get(store, org_id)


def insert(db: sqlite_utils.Database, data: OrganisationIn) -> str:
    """Insert inside a caller's write; returns the new id."""
    org_id = data.id or _free_id(db, slug(data.name, "o"))
    try:
        db.execute(
            "INSERT INTO organisations (id, name, name_key, created_at) VALUES (?, ?, ?, ?)",
            (org_id, data.name, data.name.casefold(), now_text()),
        )
    except sqlite3.IntegrityError as err:
        raise Conflict(f"an organisation named {data.name!r} or with id {org_id} exists") from err
    return org_id


def _free_id(db: sqlite_utils.Database, wanted: str) -> str:
    candidate, n = wanted, 1
    while db.execute("SELECT 1 FROM organisations WHERE id = ?", (candidate,)).fetchone():
        n += 1
        candidate = f"{wanted[:60]}-{n}"
    return candidate


def get(store: Store, org_id: str) -> Organisation:
    """One organisation with its member count; :class:`NotFound` if there is none."""
    row = store.query_one(_SELECT + " WHERE o.id = ? GROUP BY o.id", (org_id,))
    if row is None:
        raise NotFound(f"no organisation {org_id!r}")
    return Organisation(**dict(row))


def all_organisations(store: Store) -> list[Organisation]:
    """Every organisation, by name."""
    rows = store.query(_SELECT + " GROUP BY o.id ORDER BY o.name COLLATE NOCASE")
    return [Organisation(**dict(row)) for row in rows]


def resolve(conn: sqlite3.Connection | sqlite_utils.Database, id_or_name: str) -> str:
    """The id of the organisation with this id or name (any case)."""
    row = conn.execute(
        "SELECT id FROM organisations WHERE id = ? OR name_key = ?",
        (id_or_name, " ".join(id_or_name.split()).casefold()),
    ).fetchone()
    if row is None:
        raise NotFound(f"no organisation {id_or_name!r}")
    return str(row[0])


_SELECT = (
    "SELECT o.id, o.name, count(m.id) AS members FROM organisations o "
    "LEFT JOIN members m ON m.organisation_id = o.id AND m.status != 'inactive'"
)
