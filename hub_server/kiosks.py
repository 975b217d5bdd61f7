"""Entrance kiosks: registered by id, each sent its own directory of first names."""

import sqlite3

from hub_server import audit
from hub_server.errors import Conflict, NotFound
from hub_server.models import Kiosk, KioskIn
from hub_server.store import Store, now_text, parse_time


def add(store: Store, data: KioskIn, actor: str) -> Kiosk:
    """Register a kiosk; the running server publishes its directory. :class:`Conflict` if taken."""
    with store.write() as db:
        try:
            db.execute(
                "INSERT INTO kiosks (id, name, created_at) VALUES (?, ?, ?)",
                (data.id, data.name, now_text()),
            )
        except sqlite3.IntegrityError as err:
            raise Conflict(f"a kiosk with id {data.id} exists") from err
        audit.record(db, actor, "kiosk.add", data.id, name=data.name)
    return get(store, data.id)


def get(store: Store, kiosk_id: str) -> Kiosk:
    """One kiosk with its published directory's version; :class:`NotFound` if there is none."""
    row = store.query_one(_SELECT + " WHERE k.id = ?", (kiosk_id,))
    if row is None:
        raise NotFound(f"no kiosk {kiosk_id!r}")
    return _kiosk(row)


def all_kiosks(store: Store) -> list[Kiosk]:
    """Every kiosk, by id."""
    return [_kiosk(row) for row in store.query(_SELECT + " ORDER BY k.id")]


def remove(store: Store, kiosk_id: str, actor: str) -> None:
    """Unregister a kiosk; the running server sends it an empty directory. :class:`NotFound`."""
    with store.write() as db:
        row = db.execute("SELECT name FROM kiosks WHERE id = ?", (kiosk_id,)).fetchone()
        if row is None:
            raise NotFound(f"no kiosk {kiosk_id!r}")
        db.execute("DELETE FROM kiosks WHERE id = ?", (kiosk_id,))
        audit.record(db, actor, "kiosk.remove", kiosk_id, name=row["name"])


_SELECT = (
    "SELECT k.id, k.name, k.created_at, d.version AS directory_version,"
    " d.entries AS directory_entries, d.published_at"
    " FROM kiosks k LEFT JOIN kiosk_directories d ON d.kiosk_id = k.id"
)


def _kiosk(row: sqlite3.Row) -> Kiosk:
    values = dict(row)
    values["created_at"] = parse_time(values["created_at"])
    values["published_at"] = parse_time(values["published_at"])
    return Kiosk(**values)
