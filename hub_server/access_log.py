"""The access log: who tapped where, and what the door decided; newest first.

Pages are cut by keyset, not by offset: a cursor holds the ``(ts, id)`` of
the last entry shown, and the next page starts just below it, so page 5,000
of a million rows costs what page 1 does. Every filter that narrows by
member, door or time rides an index (``access_events_member``,
``access_events_door``, ``access_events_ts``; each ends in ``ts`` and, the
table having no rowid, in ``id``), which also gives the order: no sort.

Timestamps are compared as text, which works because the store keeps them
in one form (``store.now_text``: UTC, microseconds, ``+00:00``).
"""

import base64
import binascii
import csv
import io
import json
import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from pydantic import BaseModel

from hub_server import audit
from hub_server.csv_safety import safe_row
from hub_server.errors import Invalid
from hub_server.member_csv import parse_moment
from hub_server.store import Store, now_text, parse_time
from hublink.messages import ENTITY_ID_PATTERN

MAX_LIMIT = 500
"""The most entries one page holds."""

EXPORT_PAGE = 1000
"""Entries :func:`iter_all` reads per query."""


@dataclass(frozen=True)
class AccessLogFilter:
    """Which entries to show; each field left ``None`` does not filter.

    ``since`` is inclusive and ``until`` exclusive; both must carry a UTC offset.
    """

    member_id: str | None = None
    door_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    granted: bool | None = None
    reason: str | None = None


class AccessLogEntry(BaseModel):
    """One access decision, with the member's name while the member exists."""

    id: str
    ts: datetime
    door_id: str
    reader_id: str
    granted: bool
    reason: str
    member_id: str | None
    card_hint: str | None
    role: str | None
    first_name: str | None = None
    last_name: str | None = None


class AccessLogPage(BaseModel):
    """One page of entries; ``next_cursor`` fetches the next (older) one, ``None`` at the end."""

    items: list[AccessLogEntry]
    next_cursor: str | None


def page(
    store: Store, filters: AccessLogFilter, limit: int = 50, cursor: str | None = None
) -> AccessLogPage:
    """Up to ``limit`` entries matching ``filters``, newest first, after ``cursor``."""
    if not 1 <= limit <= MAX_LIMIT:
        raise Invalid("limit", f"must be between 1 and {MAX_LIMIT}")
    after = decode_cursor(cursor) if cursor else None
    rows = _rows(store, filters, limit + 1, after)
    items = [_entry(row) for row in rows[:limit]]
    more = len(rows) > limit
    last = rows[limit - 1] if more else None
    return AccessLogPage(
        items=items,
        next_cursor=encode_cursor(last["ts"], last["id"]) if last is not None else None,
    )


def iter_all(store: Store, filters: AccessLogFilter) -> Iterator[AccessLogEntry]:
    """Every entry matching ``filters``, newest first, read a page at a time (for exports)."""
    after: tuple[str, str] | None = None
    while True:
        rows = _rows(store, filters, EXPORT_PAGE, after)
        for row in rows:
            yield _entry(row)
        if len(rows) < EXPORT_PAGE:
            return
        after = (rows[-1]["ts"], rows[-1]["id"])


def query_plan(store: Store, filters: AccessLogFilter, cursor: str | None = None) -> list[str]:
    """SQLite's plan for a page (for tests, and to check an index by hand)."""
    sql, params = _query(filters, 1, decode_cursor(cursor) if cursor else None)
    return [row["detail"] for row in store.query("EXPLAIN QUERY PLAN " + sql, params)]


def encode_cursor(ts: str, event_id: str) -> str:
    """The opaque cursor for the entry ``(ts, event_id)``."""
    raw = json.dumps([ts, event_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str]:
    """The ``(ts, id)`` a cursor holds; :class:`Invalid` for one this hub did not make."""
    problem = Invalid("cursor", "is not a cursor from this API (pass next_cursor unchanged)")
    if len(cursor) > 400:
        raise problem
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = json.loads(raw)
    except (binascii.Error, ValueError) as err:  # UnicodeDecodeError is a ValueError
        raise problem from err
    if not (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(part, str) and part for part in value)
    ):
        raise problem
    ts, event_id = value
    try:
        when = datetime.fromisoformat(ts)
    except ValueError as err:
        raise problem from err
    if when.tzinfo is None:
        raise problem
    try:
        return now_text(when), event_id
    except OverflowError as err:
        raise problem from err


def _rows(
    store: Store, filters: AccessLogFilter, limit: int, after: tuple[str, str] | None
) -> list[Any]:
    sql, params = _query(filters, limit, after)
    return store.query(sql, params)


def _query(
    filters: AccessLogFilter, limit: int, after: tuple[str, str] | None
) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if filters.member_id is not None:
        clauses.append("e.member_id = ?")
        params.append(filters.member_id)
    if filters.door_id is not None:
        clauses.append("e.door_id = ?")
        params.append(filters.door_id)
    since = _bound("since", filters.since)
    until = _bound("until", filters.until)
    if since is not None and until is not None and until <= since:
        raise Invalid("until", "must be after since")
    if after is not None and until is not None:
        # Keep only the tighter upper bound, so the index range starts at it.
        if after[0] < until:
            until = None
        else:
            after = None
    if since is not None:
        clauses.append("e.ts >= ?")
        params.append(since)
    if until is not None:
        clauses.append("e.ts < ?")
        params.append(until)
    if filters.granted is not None:
        clauses.append("e.granted = ?")
        params.append(int(filters.granted))
    if filters.reason is not None:
        clauses.append("e.reason = ?")
        params.append(filters.reason)
    if after is not None:
        # A row value: SQLite turns it into a range on the index (ts, id).
        clauses.append("(e.ts, e.id) < (?, ?)")
        params += after
    where = " WHERE " + " AND ".join(clauses) if clauses else ""
    return _SELECT + where + " ORDER BY e.ts DESC, e.id DESC LIMIT ?", [*params, limit]


def _bound(field: str, when: datetime | None) -> str | None:
    if when is None:
        return None
    if when.tzinfo is None or when.utcoffset() is None:
        raise Invalid(field, "needs a UTC offset (e.g. 2025-05-01T08:00:00+02:00 or …Z)")
    try:
        return now_text(when)
    except OverflowError as err:  # 0001-01-01T00:00+01:00 is before year 1 in UTC
        raise Invalid(field, "is out of range") from err


def _entry(row: Any) -> AccessLogEntry:
    values = dict(row)
    values["ts"] = parse_time(values["ts"])
    values["granted"] = bool(values["granted"])
    return AccessLogEntry(**values)


_SELECT = (  # a guest's tap carries their pass id: their first name, "(guest)" for a surname
    "SELECT e.id, e.ts, e.door_id, e.reader_id, e.granted, e.reason, e.member_id,"
    " e.card_hint, e.role, coalesce(m.first_name, g.first_name) AS first_name,"
    " coalesce(m.last_name, CASE WHEN g.id IS NOT NULL THEN '(guest)' END) AS last_name"
    " FROM access_events e LEFT JOIN members m ON m.id = e.member_id"
    " LEFT JOIN guest_passes g ON g.id = e.member_id"
)


# --- the dashboard's filters and the CSV export ---------------------------------

DECISIONS: dict[str, bool | None] = {"any": None, "granted": True, "denied": False}
"""The decision filter's choices and what each keeps (``None``: both)."""

CSV_COLUMNS = (
    "time_utc",
    "time_local",
    "door",
    "reader",
    "member_id",
    "first_name",
    "last_name",
    "card_hint",
    "granted",
    "reason",
)
"""The columns of :func:`export_csv`, in order."""

_MEMBER_ID = re.compile(ENTITY_ID_PATTERN)
_REASON = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def local_filter(
    values: Mapping[str, str], zone: tzinfo, door_ids: Collection[str]
) -> tuple[AccessLogFilter, dict[str, str]]:
    """Filters as a person types them, and a problem per field (empty when all are fine).

    ``values`` holds ``member`` (a member id), ``door`` (one of ``door_ids``),
    ``from`` and ``to`` (``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM``, local time in
    ``zone`` unless an offset is given; a date in ``to`` includes that whole
    day, a time is where the range stops), ``decision`` (a key of
    :data:`DECISIONS`) and ``reason`` (a reason code); empty ones do not
    filter. The times become UTC, whatever the zone's daylight saving time.
    """
    errors: dict[str, str] = {}
    text = {key: (values.get(key) or "").strip() for key in _FILTER_FIELDS}
    member = text["member"] or None
    if member is not None and not _MEMBER_ID.fullmatch(member):
        errors["member"] = "is not a member id (letters, digits, - and _)"
    door = text["door"] or None
    if door is not None and door not in door_ids:
        errors["door"] = "is not a door of this hub"
    since = _local_moment(text["from"], zone, "from", errors)
    until = _local_moment(text["to"], zone, "to", errors, end_of_day=True)
    if since is not None and until is not None and until <= since:
        errors["to"] = "must be after from"
    decision = text["decision"] or "any"
    if decision not in DECISIONS:
        errors["decision"] = "must be any, granted or denied"
    reason = text["reason"] or None
    if reason is not None and not _REASON.fullmatch(reason):
        errors["reason"] = "is not a reason code (lower-case letters, digits and _)"
    if errors:
        return AccessLogFilter(), errors
    return AccessLogFilter(
        member_id=member,
        door_id=door,
        since=since,
        until=until,
        granted=DECISIONS[decision],
        reason=reason,
    ), {}


def export_csv(store: Store, filters: AccessLogFilter, zone: tzinfo, actor: str) -> Iterator[str]:
    """The entries matching ``filters`` as CSV text, a chunk at a time, newest first.

    The export is recorded in the audit log (with its filters) now, before
    the first row is read. Cells that a spreadsheet would take for a formula
    are defused (:func:`hub_server.csv_safety.safe_cell`).
    """
    since = _bound("since", filters.since)
    until = _bound("until", filters.until)
    if since is not None and until is not None and until <= since:
        raise Invalid("until", "must be after since")
    detail = {key: value for key, value in asdict(filters).items() if value is not None}
    with store.write() as db:
        audit.record(db, actor, "access_log.export", "", **detail)
    return _csv_chunks(store, filters, zone)


def _csv_chunks(store: Store, filters: AccessLogFilter, zone: tzinfo) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for count, entry in enumerate(iter_all(store, filters), start=1):
        writer.writerow(_csv_row(entry, zone))
        if count % EXPORT_PAGE == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _csv_row(entry: AccessLogEntry, zone: tzinfo) -> list[str]:
    cells = (
        now_text(entry.ts),
        entry.ts.astimezone(zone).isoformat(timespec="seconds"),
        entry.door_id,
        entry.reader_id,
        entry.member_id,
        entry.first_name,
        entry.last_name,
        entry.card_hint,
        "yes" if entry.granted else "no",
        entry.reason,
    )
    return safe_row(cells)


_FILTER_FIELDS = ("member", "door", "from", "to", "decision", "reason")


def _local_moment(
    text: str, zone: tzinfo, field: str, errors: dict[str, str], *, end_of_day: bool = False
) -> datetime | None:
    if not text:
        return None
    try:
        return parse_moment(text, zone, field=field, end_of_day=end_of_day).astimezone(UTC)
    except Invalid as err:
        errors[field] = err.problem
    except OverflowError:
        errors[field] = "is out of range"
    return None
