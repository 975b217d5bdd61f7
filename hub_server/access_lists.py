"""Each door's access list, computed from the store.

A door's list holds every active card of every member who is not
deactivated: suspended members stay in with ``status: suspended`` (the door
then says why it refuses), revoked cards are left out (revocation is
removal). Doors in a group with access rules admit the tiers the rules
name, each within its schedule; entries there carry the member's tier. A
group without rules admits every tier at any time.

Entries are computed once per group and shared by the group's doors; each
entry is kept as a compact tuple (:data:`EntryKey`) so that 10,000 members
at 50 doors compare cheaply, and becomes an :class:`AclEntry` only when it
is published.
"""

import hashlib
import json
import sqlite3
from dataclasses import dataclass
from datetime import date

from hub_server.store import Store, parse_time
from hublink.messages import AclEntry, AclPolicy, ScheduleSpec

MAX_HOLIDAYS = 1000

EntryKey = tuple[str, str, str, str | None, str | None, str | None]
"""``(member_id, role, status, tier, valid_from, valid_until)`` of one card."""


@dataclass(frozen=True)
class DoorList:
    """What one door's list holds right now."""

    door_id: str
    group: str
    policy: AclPolicy
    entries: dict[str, EntryKey]  # credential hash -> entry; shared by the group's doors
    digest: str

    def entry(self, credential: str) -> AclEntry:
        """One entry as the contract carries it."""
        return to_entry(credential, self.entries[credential])

    def all_entries(self) -> list[AclEntry]:
        """Every entry, in credential order."""
        return [to_entry(c, self.entries[c]) for c in sorted(self.entries)]


def to_entry(credential: str, key: EntryKey) -> AclEntry:
    """An :class:`AclEntry` from its compact form (values come from the store: trusted)."""
    member_id, role, status, tier, valid_from, valid_until = key
    return AclEntry.model_construct(
        credential=credential,
        member_id=member_id,
        role=role,  # type: ignore[arg-type]
        status=status,  # type: ignore[arg-type]
        tier=tier,
        valid_from=parse_time(valid_from),
        valid_until=parse_time(valid_until),
        grants=(),
        host_member_id=None,
    )


def compute(store: Store, timezone: str, today: date | None = None) -> dict[str, DoorList]:
    """Every door's list, by door id."""
    conn = store.read()
    schedules = {
        row["id"]: ScheduleSpec.model_validate(
            {"id": row["id"], "weekly": json.loads(row["weekly"])}
        )
        for row in conn.execute("SELECT id, weekly FROM schedules")
    }
    holiday_rows = conn.execute(
        "SELECT day FROM holidays WHERE day >= ? ORDER BY day LIMIT ?",
        ((today or date.min).isoformat(), MAX_HOLIDAYS),
    )
    holidays = tuple(date.fromisoformat(row[0]) for row in holiday_rows)
    rules: dict[str, dict[str, str | None]] = {}
    for row in conn.execute("SELECT door_group, tier, schedule_id FROM access_rules"):
        rules.setdefault(row["door_group"], {})[row["tier"]] = row["schedule_id"]
    # Members first (one pass over the table, each member's cards by index): half the
    # time of looking every card's member up; ORDER BY keeps the entries in hash order.
    cards = conn.execute(
        "SELECT c.hash, m.id, m.role, m.status, m.tier, m.valid_from, m.valid_until"
        " FROM members m CROSS JOIN credentials c ON m.id = c.member_id"
        " WHERE c.status = 'active' AND m.status != 'inactive' ORDER BY c.hash"
    ).fetchall()
    by_group: dict[bool, tuple[dict[str, EntryKey], str]] = {}
    lists: dict[str, DoorList] = {}
    for door in conn.execute(
        "SELECT id, door_group, open_schedule_id, first_person_in FROM doors ORDER BY id"
    ):
        tiers = rules.get(door["door_group"], {})
        with_tiers = bool(tiers)
        if with_tiers not in by_group:
            entries = _entries(cards, with_tiers)
            by_group[with_tiers] = (entries, _entries_digest(entries))
        wanted = {s for s in tiers.values() if s} | (
            {door["open_schedule_id"]} if door["open_schedule_id"] else set()
        )
        policy = AclPolicy(
            timezone=timezone,
            schedules=tuple(schedules[s] for s in sorted(wanted) if s in schedules),
            holidays=holidays,
            tiers=tiers,
            open_schedule=door["open_schedule_id"],
            first_person_in=bool(door["first_person_in"]),
        )
        entries, entries_digest = by_group[with_tiers]
        lists[door["id"]] = DoorList(
            door["id"], door["door_group"], policy, entries, _digest(policy, entries_digest)
        )
    return lists


def _entries(rows: list[sqlite3.Row], with_tiers: bool) -> dict[str, EntryKey]:
    entries: dict[str, EntryKey] = {}
    for row in rows:
        state = "active" if row["status"] == "active" else "suspended"
        entries[row["hash"]] = (
            row["id"], row["role"], state, row["tier"] if with_tiers else None,
            row["valid_from"], row["valid_until"],
        )  # fmt: skip
    return entries


def _entries_digest(entries: dict[str, EntryKey]) -> str:
    digest = hashlib.sha256()
    for credential in sorted(entries):
        digest.update(credential.encode())
        digest.update(repr(entries[credential]).encode())
    return digest.hexdigest()


def _digest(policy: AclPolicy, entries_digest: str) -> str:
    """A fingerprint of a list's content (the same content gives the same digest)."""
    combined = hashlib.sha256(entries_digest.encode())
    combined.update(policy.model_dump_json().encode())
    return combined.hexdigest()
