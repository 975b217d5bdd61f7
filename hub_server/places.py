"""Zones and rooms: where people are, and how many fit."""

import sqlite3

from hub_server import audit
from hub_server.errors import Conflict, NotFound
from hub_server.models import Room, RoomIn, Zone, ZoneIn
from hub_server.store import Store, now_text


def add_zone(store: Store, data: ZoneIn, actor: str) -> Zone:
    """Create a zone; :class:`Conflict` if the id or name is taken."""
    with store.write() as db:
        try:
            db.execute(
                "INSERT INTO zones (id, name, capacity, created_at) VALUES (?, ?, ?, ?)",
                (data.id, data.name, data.capacity, now_text()),
            )
        except sqlite3.IntegrityError as err:
            raise Conflict(f"a zone with id {data.id} or name {data.name!r} exists") from err
        audit.record(db, actor, "zone.add", data.id, name=data.name, capacity=data.capacity)
    return get_zone(store, data.id)


def get_zone(store: Store, zone_id: str) -> Zone:
    """One zone; :class:`NotFound` if there is none."""
    row = store.query_one("SELECT id, name, capacity FROM zones WHERE id = ?", (zone_id,))
    if row is None:
        raise NotFound(f"no zone {zone_id!r}")
    return Zone(**dict(row))


def zones(store: Store) -> list[Zone]:
    """Every zone, by name."""
    rows = store.query("SELECT id, name, capacity FROM zones ORDER BY name COLLATE NOCASE")
    return [Zone(**dict(row)) for row in rows]


def add_room(store: Store, data: RoomIn, actor: str) -> Room:
    """Create a room; its zone must exist."""
    with store.write() as db:
        if (
            data.zone_id
            and not db.execute("SELECT 1 FROM zones WHERE id = ?", (data.zone_id,)).fetchone()
        ):
            raise NotFound(f"no zone {data.zone_id!r}")
        try:
            db.execute(
                "INSERT INTO rooms (id, name, zone_id, capacity, hourly_rate_cents,"
                " out_of_hours_rate_cents, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    data.id, data.name, data.zone_id, data.capacity, data.hourly_rate_cents,
                    data.out_of_hours_rate_cents, now_text(),
                ),
            )  # fmt: skip
        except sqlite3.IntegrityError as err:
            raise Conflict(f"a room with id {data.id} or name {data.name!r} exists") from err
        audit.record(db, actor, "room.add", data.id, name=data.name, capacity=data.capacity)
    return get_room(store, data.id)


def get_room(store: Store, room_id: str) -> Room:
    """One room; :class:`NotFound` if there is none."""
    row = store.query_one(_ROOM + " WHERE id = ?", (room_id,))
    if row is None:
        raise NotFound(f"no room {room_id!r}")
    return Room(**dict(row))


def rooms(store: Store) -> list[Room]:
    """Every room, by name."""
    return [Room(**dict(row)) for row in store.query(_ROOM + " ORDER BY name COLLATE NOCASE")]


_ROOM = "SELECT id, name, zone_id, capacity, hourly_rate_cents, out_of_hours_rate_cents FROM rooms"
