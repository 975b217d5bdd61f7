"""Membership tiers: which doors a member's cards open (through access rules) and how many
guests a member may register a day.

A tier's id is what members, access rules and door lists name; it never
changes. Its name and its daily guest limit may.
"""

import sqlite3
from typing import Annotated

from pydantic import BaseModel, Field

from hub_server import audit
from hub_server.errors import Conflict, NotFound
from hub_server.models import EntityId, Input, Name
from hub_server.store import Store

MAX_GUESTS_PER_DAY = 100

GuestsPerDay = Annotated[int, Field(ge=0, le=MAX_GUESTS_PER_DAY)]


class TierIn(Input):
    """A new tier."""

    id: EntityId
    name: Name
    guests_per_day: GuestsPerDay = 3


class TierChange(Input):
    """Fields of a tier to change; those left out stay as they are."""

    name: Name | None = None
    guests_per_day: GuestsPerDay | None = None


class Tier(BaseModel):
    """A tier as stored, with how many members (not deactivated) hold it."""

    id: str
    name: str
    guests_per_day: int
    members: int = 0


def add(store: Store, data: TierIn, actor: str) -> Tier:
    """Create a tier; :class:`Conflict` if the id is taken."""
    with store.write() as db:
        try:
            db.execute(
                "INSERT INTO tiers (id, name, guests_per_day) VALUES (?, ?, ?)",
                (data.id, data.name, data.guests_per_day),
            )
        except sqlite3.IntegrityError as err:
            raise Conflict(f"a tier with id {data.id} exists") from err
        audit.record(
            db, actor, "tier.add", data.id, name=data.name, guests_per_day=data.guests_per_day
        )
    return get(store, data.id)


def update(store: Store, tier_id: str, data: TierChange, actor: str) -> Tier:
    """Change the fields ``data`` sets (a field set to ``None`` stays as it is)."""
    fields = {k: v for k, v in data.model_dump(exclude_unset=True).items() if v is not None}
    with store.write() as db:
        if db.execute("SELECT 1 FROM tiers WHERE id = ?", (tier_id,)).fetchone() is None:
            raise NotFound(f"no tier {tier_id!r}")
        if fields:
            assignments = ", ".join(f"{column} = ?" for column in fields)
            db.execute(
                f"UPDATE tiers SET {assignments} WHERE id = ?",  # noqa: S608  (columns are ours)
                (*fields.values(), tier_id),
            )
            audit.record(db, actor, "tier.change", tier_id, **fields)
    return get(store, tier_id)


def get(store: Store, tier_id: str) -> Tier:
    """One tier; :class:`NotFound` if there is none."""
    row = store.query_one(_SELECT + " WHERE t.id = ?", (tier_id,))
    if row is None:
        raise NotFound(f"no tier {tier_id!r}")
    return Tier(**dict(row))


def all_tiers(store: Store) -> list[Tier]:
    """Every tier, by id."""
    return [Tier(**dict(row)) for row in store.query(_SELECT + " ORDER BY t.id")]


_SELECT = (
    "SELECT t.id, t.name, t.guests_per_day, (SELECT count(*) FROM members m"
    " WHERE m.tier = t.id AND m.status != 'inactive') AS members FROM tiers t"
)
