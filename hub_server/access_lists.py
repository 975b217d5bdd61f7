"""Each door's access list, computed from the store.

A door's list holds every active card of every member who is not
deactivated: suspended members stay in with ``status: suspended`` (the door
then says why it refuses), revoked cards are left out (revocation is
removal). Doors in a group with access rules admit the tiers the rules
name, each within its schedule; entries there carry the member's tier. A
group without rules admits every tier at any time.

Guests: every active guest pass with a card, of an active host, that has not
ended and starts within ``grant_days`` is an entry too: ``role: guest``, the
pass's id as ``member_id``, its window as ``valid_from``/``valid_until``,
``host_member_id``, and (where the door has tier rules) the host's tier.
A suspended or deactivated host's guests are left out.

Access follows the calendar: an entry carries ``grants``, windows in which
the door opens for it whatever its tier's schedule says (the door checks
them after the card's validity and before the tier rules):

- ``event``: a member with a confirmed signup for a scheduled event (and the
  event's host), and a guest whose pass names the event and whose host's
  signup is confirmed; from ``access_lead_min`` before the start to the end;
- ``booking``: the member who booked a room (a booking that is not an
  event's), from ``access_lead_min`` before the start to the end.

A grant is listed at the event's or room's doors: the doors of the room, the
doors of the zone (the room's zone for a room), and the site's ways in
(doors of direction ``in`` or ``toggle``), so a member whose tier does not
open the entrance at 19:00 still gets to the 19:00 workshop. Only windows
that have not ended and start within ``grant_days`` are listed, at most 64 per
entry, nearest first. Lists are recomputed as time passes (see
:mod:`hub_server.list_publisher`), so ended grants and passes fall out.

Entries are computed once per kind of group (with or without tier rules) and
shared by the doors; each door adds an overlay holding only its cards with
grants. Each entry is kept as a compact tuple (:data:`EntryKey`) so that
10,000 members at 50 doors compare cheaply, and becomes an
:class:`AclEntry` only when it is published.
"""

import hashlib
import json
import sqlite3
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal

from hub_server import guests
from hub_server.config import CommunitySection
from hub_server.store import Store, now_text, parse_time
from hublink.messages import AclEntry, AclGrant, AclPolicy, ScheduleSpec, utcnow

MAX_HOLIDAYS = 1000
GRANT_DAYS = 7
"""Grants and guest passes starting within this many days are listed."""
MAX_GRANTS = 64
"""The contract's limit on grants per entry."""

Reason = Literal["booking", "event"]
GrantKey = tuple[str, str, Reason]
"""``(start, end, reason)`` of one grant; times as the store keeps them."""
EntryKey = tuple[
    str, str, str, str | None, str | None, str | None, tuple[GrantKey, ...], str | None
]
"""``(member_id, role, status, tier, valid_from, valid_until, grants, host_member_id)``."""


@dataclass(frozen=True)
class DoorList:
    """What one door's list holds right now."""

    door_id: str
    group: str
    policy: AclPolicy
    entries: dict[str, EntryKey]  # credential hash -> entry; shared by the group's doors
    digest: str
    overlay: dict[str, EntryKey] = field(default_factory=dict)
    """This door's entries with grants, in place of the shared ones (same credentials)."""

    def key(self, credential: str) -> EntryKey | None:
        """One entry in its compact form, or ``None`` when the card is not listed."""
        return self.overlay.get(credential) or self.entries.get(credential)

    def entry(self, credential: str) -> AclEntry:
        """One entry as the contract carries it."""
        key = self.key(credential)
        if key is None:
            raise KeyError(credential)
        return to_entry(credential, key)

    def all_entries(self) -> list[AclEntry]:
        """Every entry, in credential order."""
        overlay = self.overlay
        return [to_entry(c, overlay.get(c) or self.entries[c]) for c in sorted(self.entries)]

    def shared_entries(self) -> list[AclEntry]:
        """The entries shared by the group's doors (without this door's grants)."""
        return [to_entry(c, self.entries[c]) for c in sorted(self.entries)]


def to_entry(credential: str, key: EntryKey) -> AclEntry:
    """An :class:`AclEntry` from its compact form (values come from the store: trusted)."""
    member_id, role, status, tier, valid_from, valid_until, grants, host = key
    return AclEntry.model_construct(
        credential=credential,
        member_id=member_id,
        role=role,  # type: ignore[arg-type]
        status=status,  # type: ignore[arg-type]
        tier=tier,
        valid_from=parse_time(valid_from),
        valid_until=parse_time(valid_until),
        grants=tuple(
            AclGrant.model_construct(
                start=datetime.fromisoformat(s), end=datetime.fromisoformat(e), reason=r
            )
            for s, e, r in grants
        ),
        host_member_id=host,
    )


def compute(
    store: Store,
    timezone: str,
    today: date | None = None,
    *,
    now: datetime | None = None,
    community: CommunitySection | None = None,
    grant_days: int = GRANT_DAYS,
) -> dict[str, DoorList]:
    """Every door's list at ``now`` (default: the present), by door id."""
    now = now or utcnow()
    horizon = now + timedelta(days=grant_days)
    lead = timedelta(minutes=(community or CommunitySection()).access_lead_min)
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
    passes = guests.with_cards(conn, now, horizon)
    door_rows = conn.execute(
        "SELECT id, door_group, open_schedule_id, first_person_in, zone_id, room_id, direction"
        " FROM doors ORDER BY id"
    ).fetchall()
    grants = _grants(
        conn, doors=door_rows, cards=cards, passes=passes, now=now, horizon=horizon, lead=lead
    )
    by_group: dict[bool, tuple[dict[str, EntryKey], str]] = {}
    lists: dict[str, DoorList] = {}
    for door in door_rows:
        tiers = rules.get(door["door_group"], {})
        with_tiers = bool(tiers)
        if with_tiers not in by_group:
            entries = _entries(cards, passes, with_tiers)
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
        overlay = _overlay(entries, grants.get(door["id"], {}))
        lists[door["id"]] = DoorList(
            door["id"],
            door["door_group"],
            policy,
            entries,
            _digest(policy, entries_digest, overlay),
            overlay,
        )
    return lists


def _entries(
    rows: list[sqlite3.Row], passes: list[sqlite3.Row], with_tiers: bool
) -> dict[str, EntryKey]:
    entries: dict[str, EntryKey] = {
        card: (
            member_id, role, "active" if status == "active" else "suspended",
            tier if with_tiers else None, valid_from, valid_until, (), None,
        )
        for card, member_id, role, status, tier, valid_from, valid_until in rows
    }  # fmt: skip
    for row in passes:  # a card that is a member's stays the member's
        entries.setdefault(
            row["credential"],
            (
                row["id"], "guest", "active", row["host_tier"] if with_tiers else None,
                row["valid_from"], row["valid_until"], (), row["host_member_id"],
            ),
        )  # fmt: skip
    return entries


_Window = tuple[str, str | None, str | None, str, str, Reason]
"""``(holder, zone_id, room_id, starts_at, ends_at, reason)`` of one event or booking."""


def _grants(
    conn: sqlite3.Connection,
    *,
    doors: list[sqlite3.Row],
    cards: list[sqlite3.Row],
    passes: list[sqlite3.Row],
    now: datetime,
    horizon: datetime,
    lead: timedelta,
) -> dict[str, dict[str, set[GrantKey]]]:
    """Door id -> credential -> the grants it holds there."""
    window = (now_text(now), now_text(horizon + lead))  # ends after now, starts (-lead) in time
    by_member: list[_Window] = [
        (row[0], row[1], row[2], row[3], row[4], "event")
        for row in conn.execute(
            "SELECT s.member_id, e.zone_id, e.room_id, e.starts_at, e.ends_at FROM events e"
            " JOIN signups s ON s.event_id = e.id AND s.status = 'confirmed'"
            " WHERE e.status = 'scheduled' AND e.ends_at > ? AND e.starts_at < ?"
            " UNION SELECT host_member_id, zone_id, room_id, starts_at, ends_at FROM events"
            " WHERE status = 'scheduled' AND ends_at > ? AND starts_at < ?",
            window * 2,
        )
    ]
    by_member += [
        (row[0], None, row[1], row[2], row[3], "booking")
        for row in conn.execute(
            "SELECT member_id, room_id, starts_at, ends_at FROM bookings"
            " WHERE status = 'booked' AND event_id IS NULL AND ends_at > ? AND starts_at < ?",
            window,
        )
    ]
    holders = {w[0] for w in by_member}
    cards_of: dict[str, list[str]] = {}
    if holders:
        for card in cards:  # active cards of active members
            if card["id"] in holders and card["status"] == "active":
                cards_of.setdefault(card["id"], []).append(card["hash"])
    by_card: list[tuple[list[str], _Window]] = [
        (cards_of[w[0]], w) for w in by_member if w[0] in cards_of
    ]
    listed = {row["credential"] for row in passes if row["event_id"]}
    if listed:  # guests of an event whose host holds a confirmed place
        by_card += [
            ([row[0]], (row[0], row[1], row[2], row[3], row[4], "event"))
            for row in conn.execute(
                "SELECT g.credential, e.zone_id, e.room_id, e.starts_at, e.ends_at"
                " FROM guest_passes g JOIN events e ON e.id = g.event_id"
                " JOIN signups s ON s.event_id = e.id AND s.member_id = g.host_member_id"
                " AND s.status = 'confirmed' WHERE g.status = 'active'"
                " AND e.status = 'scheduled' AND e.ends_at > ? AND e.starts_at < ?",
                window,
            )
            if row[0] in listed
        ]
    places = _Places(doors, conn)
    found: dict[str, dict[str, set[GrantKey]]] = {}
    for credentials, (_, zone_id, room_id, starts_at, ends_at, reason) in by_card:
        start = parse_time(starts_at) or now
        grant = (now_text(start - lead), ends_at, reason)
        for door_id in places.doors(zone_id, room_id):
            at_door = found.setdefault(door_id, {})
            for credential in credentials:
                at_door.setdefault(credential, set()).add(grant)
    return found


class _Places:
    """Which doors lead to a zone or a room, and the site's ways in."""

    def __init__(self, doors: list[sqlite3.Row], conn: sqlite3.Connection) -> None:
        self._doors = doors
        self._room_zone: dict[str, str | None] = dict(
            conn.execute("SELECT id, zone_id FROM rooms").fetchall()
        )
        self._ways_in = frozenset(d["id"] for d in doors if d["direction"] in ("in", "toggle"))
        self._found: dict[tuple[str | None, str | None], frozenset[str]] = {}

    def doors(self, zone_id: str | None, room_id: str | None) -> frozenset[str]:
        """The room's doors, the zone's (the room's zone if none is given) and the ways in."""
        key = (zone_id, room_id)
        if key not in self._found:
            zone = zone_id or (self._room_zone.get(room_id) if room_id else None)
            self._found[key] = self._ways_in | {
                d["id"]
                for d in self._doors
                if (room_id is not None and d["room_id"] == room_id)
                or (zone is not None and d["zone_id"] == zone)
            }
        return self._found[key]


def _overlay(entries: dict[str, EntryKey], grants: dict[str, set[GrantKey]]) -> dict[str, EntryKey]:
    overlay: dict[str, EntryKey] = {}
    for credential, held in grants.items():
        base = entries.get(credential)
        if base is None:
            continue
        nearest = tuple(sorted(held)[:MAX_GRANTS])
        overlay[credential] = (*base[:6], nearest, base[7])
    return overlay


def _entries_digest(entries: dict[str, EntryKey]) -> str:
    digest = hashlib.sha256()
    for credential in sorted(entries):
        digest.update(credential.encode())
        digest.update(repr(entries[credential]).encode())
    return digest.hexdigest()


def _digest(policy: AclPolicy, entries_digest: str, overlay: dict[str, EntryKey]) -> str:
    """A fingerprint of a list's content (the same content gives the same digest)."""
    combined = hashlib.sha256(entries_digest.encode())
    combined.update(policy.model_dump_json().encode())
    if overlay:
        combined.update(_entries_digest(overlay).encode())
    return combined.hexdigest()
