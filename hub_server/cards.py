"""Cards (credentials): keyed hashes of UIDs, with the last 4 hex digits to show.

The hub never stores a UID: a card added by UID is hashed with the site key
at once, a card enrolled by tap arrives as the hash the door computed.
"""

import sqlite3
from datetime import datetime

import sqlite_utils

from hub_server import audit, guests
from hub_server.errors import Conflict, Invalid, NotFound
from hub_server.models import Card, CardIn
from hub_server.store import Store, now_text, parse_time
from hublink.credentials import card_hint, credential_hash, parse_uid
from hublink.errors import CredentialError


def add(
    store: Store, site_key: bytes, data: CardIn, actor: str, *, now: datetime | None = None
) -> Card:
    """Attach the card with ``data.uid`` to a member (``now``: when, for guest passes)."""
    credential, hint = hashed_uid(site_key, data.uid)
    with store.write() as db:
        card_id = attach(
            db,
            data.member_id,
            credential,
            hint,
            kind=data.kind,
            label=data.label,
            now=now,
        )
        audit.record(db, actor, "card.add", data.member_id, card=card_id, hint=hint)
    return get(store, card_id)


def hashed_uid(site_key: bytes, uid_text: str, field: str = "uid") -> tuple[str, str]:
    """A card's keyed hash and the hint to show, from its UID as typed (hex);
    :class:`Invalid` naming ``field`` for a UID that is not one."""
    try:
        uid = parse_uid(uid_text)
    except CredentialError as err:
        raise Invalid(field, str(err)) from err
    if not uid:
        raise Invalid(field, "is empty")
    return credential_hash(site_key, uid), card_hint(uid) or uid.hex()


def attach(
    db: sqlite_utils.Database,
    member_id: str,
    hash_hex: str,
    hint: str,
    *,
    kind: str = "card",
    label: str = "",
    now: datetime | None = None,
) -> int:
    """Store an active credential inside a caller's write; returns its id.

    A card that is a guest's pass running past ``now`` (default: the present) is refused.
    """
    member = db.execute("SELECT status FROM members WHERE id = ?", (member_id,)).fetchone()
    if member is None:
        raise NotFound(f"no member {member_id!r}")
    holder = db.execute(
        "SELECT member_id FROM credentials WHERE hash = ? AND status = 'active'", (hash_hex,)
    ).fetchone()
    if holder is not None:
        raise Conflict(f"card …{hint} is already enrolled to member {holder[0]}")
    on_pass = guests.pass_of_card(db, hash_hex, now_text(now))
    if on_pass is not None:
        raise Conflict(
            f"card …{hint} is guest {on_pass['first_name']}'s day pass ({on_pass['id']}) "
            f"for {on_pass['day']}, until midnight"
        )
    try:
        cursor = db.execute(
            "INSERT INTO credentials (hash, hint, member_id, kind, label, issued_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (hash_hex, hint, member_id, kind, label, now_text()),
        )
    except sqlite3.IntegrityError as err:
        raise Conflict(f"card …{hint} is already enrolled") from err
    return int(cursor.lastrowid or 0)


def revoke(store: Store, card_id: int, actor: str) -> Card:
    """Revoke a card: it leaves every door's list with the next publication."""
    with store.write() as db:
        row = db.execute("SELECT * FROM credentials WHERE id = ?", (card_id,)).fetchone()
        if row is None:
            raise NotFound(f"no card {card_id}")
        if row["status"] == "revoked":
            raise Conflict(f"card {card_id} (…{row['hint']}) is already revoked")
        db.execute(
            "UPDATE credentials SET status = 'revoked', revoked_at = ? WHERE id = ?",
            (now_text(), card_id),
        )
        audit.record(db, actor, "card.revoke", row["member_id"], card=card_id, hint=row["hint"])
    return get(store, card_id)


def find_by_uid(store: Store, site_key: bytes, uid_text: str) -> Card:
    """The active card with this UID."""
    try:
        hash_hex = credential_hash(site_key, parse_uid(uid_text))
    except CredentialError as err:
        raise Invalid("uid", str(err)) from err
    row = store.query_one(
        "SELECT * FROM credentials WHERE hash = ? ORDER BY status = 'active' DESC, id DESC",
        (hash_hex,),
    )
    if row is None:
        raise NotFound(f"no card with UID {uid_text}")
    return _card(row)


def get(store: Store, card_id: int) -> Card:
    """One card; :class:`NotFound` if there is none."""
    row = store.query_one("SELECT * FROM credentials WHERE id = ?", (card_id,))
    if row is None:
        raise NotFound(f"no card {card_id}")
    return _card(row)


def find(
    store: Store, *, member_id: str | None = None, include_revoked: bool = False
) -> list[Card]:
    """Cards, a member's or everyone's, newest first."""
    clauses, params = [], []
    if member_id is not None:
        clauses.append("member_id = ?")
        params.append(member_id)
    if not include_revoked:
        clauses.append("status = 'active'")
    where = " WHERE " + " AND ".join(clauses) if clauses else ""
    rows = store.query(f"SELECT * FROM credentials{where} ORDER BY id DESC", params)  # noqa: S608
    return [_card(row) for row in rows]


def _card(row: sqlite3.Row) -> Card:
    values = dict(row)
    values["issued_at"] = parse_time(values["issued_at"])
    values["revoked_at"] = parse_time(values["revoked_at"])
    return Card(**values)
