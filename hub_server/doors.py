"""Doors and zone readers: where they lead, and what they last said about themselves."""

import json
import sqlite3

from hub_server import audit
from hub_server.errors import Conflict, Invalid, NotFound
from hub_server.models import Door, DoorIn
from hub_server.store import Store, now_text, parse_time


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
