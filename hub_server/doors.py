"""Doors and zone readers: where they lead, and what they last said about themselves."""

import hashlib
import itertools
import json
import re
import sqlite3
from collections.abc import Mapping

import sqlite_utils
from pydantic import ValidationError

from hub_server import audit
from hub_server.errors import Conflict, Invalid, NotFound
from hub_server.models import MAX_NAME, Door, DoorIn
from hub_server.store import Store, now_text, parse_time
from hublink.messages import ENTITY_ID_PATTERN, WEEKDAYS, ScheduleSpec, Weekday


def add(store: Store, data: DoorIn, actor: str) -> Door:
    """Register a door; it gets its access list with the next publication."""
    if data.direction == "out" and (data.zone_id or data.room_id):
        raise Invalid("zone_id", "an exit door leads out of the site, not into a zone")
    with store.write() as db:
        zone_id = data.zone_id
        if data.room_id is not None:
            room = db.execute("SELECT zone_id FROM rooms WHERE id = ?", (data.room_id,)).fetchone()
            if room is None:
                raise NotFound(f"no room {data.room_id!r}")
            zone_id = zone_id or room["zone_id"]
        if zone_id and not db.execute("SELECT 1 FROM zones WHERE id = ?", (zone_id,)).fetchone():
            raise NotFound(f"no zone {zone_id!r}")
        try:
            db.execute(
                "INSERT INTO doors (id, name, zone_id, room_id, direction, door_group, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (data.id, data.name, zone_id, data.room_id, data.direction, data.group, now_text()),
            )
        except sqlite3.IntegrityError as err:
            raise Conflict(f"a door with id {data.id} exists") from err
        audit.record(db, actor, "door.add", data.id, name=data.name, direction=data.direction)
    return get(store, data.id)


def get(store: Store, door_id: str) -> Door:
    """One door with its last known state; :class:`NotFound` if there is none."""
    row = store.query_one(_SELECT + " WHERE d.id = ?", (door_id,))
    if row is None:
        raise NotFound(f"no door {door_id!r}")
    return _door(row)


def all_doors(store: Store) -> list[Door]:
    """Every door, by id."""
    return [_door(row) for row in store.query(_SELECT + " ORDER BY d.id")]


def door_ids(store: Store) -> list[str]:
    """The ids of every door."""
    return [row[0] for row in store.query("SELECT id FROM doors ORDER BY id")]


def _door(row: sqlite3.Row) -> Door:
    values = dict(row)
    online = values.pop("online")
    values["online"] = None if online is None else bool(online)
    values["last_sync"] = parse_time(values["last_sync"])
    values["alarms"] = json.loads(values["alarms"] or "[]")
    return Door(**values)


_SELECT = (
    'SELECT d.id, d.name, d.direction, d.zone_id, d.room_id, d.door_group AS "group",'
    " s.online, s.lock, s.contact, s.mode, s.acl_version, s.last_sync, s.alarms,"
    " l.version AS list_version"
    " FROM doors d LEFT JOIN door_status s ON s.door_id = d.id"
    " LEFT JOIN door_lists l ON l.door_id = d.id"
)


# --- hold-open schedules ------------------------------------------------------

Weekly = dict[Weekday, tuple[str, ...]]
"""Time ranges (``HH:MM-HH:MM``, local time) per weekday; a day left out is closed."""

DAY_NAMES: dict[Weekday, str] = {
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
    "sun": "Sunday",
}

MAX_DAY_TEXT = 200
"""The most text one weekday's hours may take."""

_RANGE = re.compile(r"^(\d{1,2}):(\d{2})\s*[-–]\s*(\d{1,2}):(\d{2})$")
_RANGE_HINT = "write ranges as HH:MM-HH:MM, separated by commas (e.g. 08:00-12:00, 13:00-17:00)"


def parse_weekly(texts: Mapping[str, str]) -> tuple[Weekly, dict[str, str]]:
    """The hours typed per weekday (``"08:00-12:00, 13:00-17:00"``; empty: closed).

    Returns the ranges of every day that has some (sorted, as the door takes
    them) and a problem per weekday that is not valid; ranges must lie within
    the day (``24:00`` ends it), end after they start and not overlap.
    """
    weekly: Weekly = {}
    errors: dict[str, str] = {}
    for day in WEEKDAYS:
        try:
            ranges = _day_ranges(texts.get(day, ""))
        except ValueError as err:
            errors[day] = str(err)
            continue
        if ranges:
            weekly[day] = ranges
    return weekly, errors


def _day_ranges(text: str) -> tuple[str, ...]:
    if len(text) > MAX_DAY_TEXT:
        raise ValueError(f"is longer than {MAX_DAY_TEXT} characters")
    parts = [part.strip() for part in text.replace(";", ",").split(",")]
    spans: list[tuple[int, int, str]] = []
    for part in parts:
        if not part:
            continue
        found = _RANGE.match(part)
        if found is None:
            raise ValueError(f"{part[:40]!r} is not a time range: {_RANGE_HINT}")
        h1, m1, h2, m2 = (int(group) for group in found.groups())
        if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2 != 0):
            raise ValueError(f"{part} is not within the day (00:00 to 24:00)")
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if end <= start:
            raise ValueError(f"{part}: the end must be after the start")
        spans.append((start, end, f"{h1:02d}:{m1:02d}-{h2:02d}:{m2:02d}"))
    spans.sort()
    for before, after in itertools.pairwise(spans):
        if after[0] < before[1]:
            raise ValueError(f"{before[2]} and {after[2]} overlap")
    return tuple(text for _, _, text in spans)


def weekly_text(weekly: Weekly | None) -> dict[str, str]:
    """The inverse of :func:`parse_weekly`: each weekday's ranges as one line of text."""
    return {day: ", ".join((weekly or {}).get(day, ())) for day in WEEKDAYS}


def describe_weekly(weekly: Weekly | None) -> str:
    """A short summary (``Mon–Fri 08:00-17:00; Sat 10:00-14:00``); ``""`` when never open."""
    if not weekly:
        return ""
    runs: list[tuple[Weekday, Weekday, tuple[str, ...]]] = []
    for day in WEEKDAYS:
        ranges = weekly.get(day, ())
        if (
            runs
            and runs[-1][2] == ranges
            and WEEKDAYS.index(runs[-1][1]) + 1 == WEEKDAYS.index(day)
        ):
            runs[-1] = (runs[-1][0], day, ranges)
        else:
            runs.append((day, day, ranges))
    parts = []
    for first, last, ranges in runs:
        if not ranges:
            continue
        days = first.title() if first == last else f"{first.title()}–{last.title()}"
        parts.append(f"{days} {', '.join(ranges)}")
    return "; ".join(parts)


def open_schedule(store: Store, door_id: str) -> Weekly | None:
    """The hours ``door_id`` is held open, ``None`` without a schedule; :class:`NotFound`."""
    row = store.query_one(
        "SELECT d.open_schedule_id, s.weekly FROM doors d"
        " LEFT JOIN schedules s ON s.id = d.open_schedule_id WHERE d.id = ?",
        (door_id,),
    )
    if row is None:
        raise NotFound(f"no door {door_id!r}")
    return None if row["weekly"] is None else _weekly(row["weekly"])


def open_schedules(store: Store) -> dict[str, Weekly]:
    """The hold-open hours of every door that has them, by door id."""
    rows = store.query(
        "SELECT d.id, s.weekly FROM doors d JOIN schedules s ON s.id = d.open_schedule_id"
    )
    return {row["id"]: _weekly(row["weekly"]) for row in rows}


def set_open_schedule(store: Store, door_id: str, weekly: Weekly, actor: str) -> str:
    """Hold ``door_id`` open during ``weekly``; returns the schedule's id.

    A schedule the door already uses alone is updated in place; otherwise the
    door gets one of its own (``open-<door id>``), so a schedule shared with
    other doors or access rules is never changed from here. The change
    reaches the door with its next access list (the schema's triggers
    republish the lists when a door's schedule or a schedule changes).
    """
    if not weekly:
        raise Invalid("weekly", "no hours given: clear the schedule instead")
    with store.write() as db:
        door = db.execute(
            "SELECT name, open_schedule_id FROM doors WHERE id = ?", (door_id,)
        ).fetchone()
        if door is None:
            raise NotFound(f"no door {door_id!r}")
        current = door["open_schedule_id"]
        target: str | None = next(
            (
                candidate
                for candidate in (current, *_own_ids(door_id))
                if candidate and not _shared(db, candidate, door_id)
            ),
            None,
        )
        if target is None:
            raise Conflict(f"the schedule ids for door {door_id} are in use elsewhere")
        try:
            spec = ScheduleSpec(id=target, weekly=weekly)
        except ValidationError as err:
            raise Invalid("weekly", str(err.errors()[0]["msg"])) from err
        text = json.dumps(
            {day: list(spec.weekly[day]) for day in WEEKDAYS if spec.weekly.get(day)},
            separators=(",", ":"),
        )
        existing = db.execute("SELECT weekly FROM schedules WHERE id = ?", (target,)).fetchone()
        if existing is not None and existing["weekly"] == text and target == current:
            return target  # nothing changes
        if existing is None:
            db.execute(
                "INSERT INTO schedules (id, name, weekly) VALUES (?, ?, ?)",
                (target, f"{door['name']} held open"[:MAX_NAME], text),
            )
        else:
            db.execute("UPDATE schedules SET weekly = ? WHERE id = ?", (text, target))
        if target != current:
            db.execute("UPDATE doors SET open_schedule_id = ? WHERE id = ?", (target, door_id))
        audit.record(
            db,
            actor,
            "door.open_schedule.set",
            door_id,
            schedule=target,
            weekly=describe_weekly(weekly),
        )
    return target


def clear_open_schedule(store: Store, door_id: str, actor: str) -> bool:
    """Stop holding ``door_id`` open; False if it had no schedule.

    The schedule row goes too once nothing else uses it.
    """
    with store.write() as db:
        door = db.execute("SELECT open_schedule_id FROM doors WHERE id = ?", (door_id,)).fetchone()
        if door is None:
            raise NotFound(f"no door {door_id!r}")
        current = door["open_schedule_id"]
        if current is None:
            return False
        db.execute("UPDATE doors SET open_schedule_id = NULL WHERE id = ?", (door_id,))
        if not _shared(db, current, door_id):
            db.execute("DELETE FROM schedules WHERE id = ?", (current,))
        audit.record(db, actor, "door.open_schedule.clear", door_id, schedule=current)
    return True


def list_state(door: Door) -> str:
    """Whether the door runs the list the hub publishes for it.

    ``in_sync`` (it confirmed the published version), ``behind`` (it confirmed
    an older one, or none yet), ``unpublished`` (the hub has not published a
    list for it yet).
    """
    if door.list_version is None:
        return "unpublished"
    if door.acl_version is not None and door.acl_version >= door.list_version:
        return "in_sync"
    return "behind"


def _shared(db: sqlite_utils.Database, schedule_id: str, door_id: str) -> bool:
    """Whether anything besides ``door_id``'s hold-open hours uses the schedule."""
    row = db.execute(
        "SELECT EXISTS (SELECT 1 FROM doors WHERE open_schedule_id = ? AND id != ?)"
        " OR EXISTS (SELECT 1 FROM access_rules WHERE schedule_id = ?)",
        (schedule_id, door_id, schedule_id),
    ).fetchone()
    return bool(row[0])


def _own_ids(door_id: str) -> tuple[str, ...]:
    """Ids a schedule of the door's own may take: ``open-<door id>``, else one from a hash."""
    hashed = "open-" + hashlib.sha256(door_id.encode()).hexdigest()[:32]
    readable = f"open-{door_id}"
    return (readable, hashed) if re.fullmatch(ENTITY_ID_PATTERN, readable) else (hashed,)


def _weekly(text: str) -> Weekly:
    stored = json.loads(text)
    return {day: tuple(stored[day]) for day in WEEKDAYS if stored.get(day)}
