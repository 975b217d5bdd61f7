"""Guest passes: a member registers a guest, by first name, for one day.

A pass runs from the moment it is registered (or from the local midnight
starting its day, if later) to the local midnight ending its day, in the
hub's time zone (DST-correct). With a card (a credential hash; the kiosk
hashes what the guest taps) the pass is on every door's list as a ``guest``
entry naming its host, and on the kiosks' directory with the guest's and the
host's first names; nothing more about a guest is kept. A pass for an event
the host is signed up for also opens that event's doors in its window (see
:mod:`hub_server.access_lists`).

Rules: the host is an active member; the day is today or later; the host's
tier caps the passes a day (``tiers.guests_per_day``); a card is a member's
or a pass's, never both at once. Refusals are :class:`Refused` with the
kiosk's reason codes: ``not_allowed``, ``guest_limit``, ``card_in_use``,
``not_signed_up``.
"""

import secrets
import sqlite3
from datetime import date, datetime, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlite_utils
from pydantic import AfterValidator, BaseModel, StringConstraints, model_validator

from hub_server import audit
from hub_server.errors import Conflict, Invalid, NotFound, Refused
from hub_server.local_days import day_bounds
from hub_server.membership import check_standing
from hub_server.models import EntityId, Input, Source, build, one_line
from hub_server.store import Store, now_text, parse_time
from hublink.messages import CredentialHash

MAX_FIRST_NAME = 40
"""The contract's limit on a first name (``hublink.messages.FirstName``)."""
MAX_DAYS_AHEAD = 366
"""A pass may be registered this many days ahead at most."""

SOURCES: tuple[Source, ...] = ("kiosk", "dashboard", "api", "cli")
Status = Literal["active", "cancelled"]


def _clean_first_name(value: str) -> str:
    return one_line(value, MAX_FIRST_NAME)


FirstName = Annotated[str, AfterValidator(_clean_first_name)]
PassId = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^g-[0-9a-f]{12}$")]
CardHint = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9a-f]{2,4}$")]


class GuestIn(Input):
    """A guest to register: their first name, their host, and optionally a card and an event."""

    first_name: FirstName
    host_member_id: EntityId
    credential: CredentialHash | None = None
    """The keyed hash of the card the guest will carry (never a UID)."""
    hint: CardHint | None = None
    """The card UID's last 4 hex digits, to show (with ``credential`` only)."""
    day: date | None = None
    """None: today in the hub's time zone."""
    event_id: EntityId | None = None
    id: PassId | None = None

    @model_validator(mode="after")
    def _hint_needs_card(self) -> "GuestIn":
        if self.hint is not None and self.credential is None:
            raise ValueError("hint: is for a card: give the credential too")
        return self


class _PassCard(Input):
    credential: CredentialHash
    hint: CardHint | None = None


class GuestPass(BaseModel):
    """A guest pass as stored (the card's hash stays on the hub: ``has_card`` says if any)."""

    id: str
    first_name: str
    host_member_id: str
    host_first_name: str
    event_id: str | None
    day: date
    valid_from: datetime
    valid_until: datetime
    hint: str | None
    has_card: bool
    status: Status
    source: str
    created_at: datetime


def new_pass_id() -> str:
    """A random pass id (``g-`` and 48 bits)."""
    return f"g-{secrets.token_hex(6)}"


def register(
    store: Store,
    data: GuestIn,
    *,
    actor: str,
    source: Source,
    timezone: str,
    now: datetime,
    request_id: str | None = None,
) -> GuestPass:
    """Register a guest of ``data.host_member_id`` for a day; a repeated ``request_id``
    returns the pass the first request made."""
    if source not in SOURCES:
        raise Invalid("source", f"must be one of {', '.join(SOURCES)}")
    zone = _zone(timezone)
    with store.write() as db:
        done = (
            request_id is not None
            and db.execute(
                "SELECT id FROM guest_passes WHERE request_id = ?", (request_id,)
            ).fetchone()
        )
        pass_id = (
            done[0]
            if done
            else _insert(
                db, data, actor=actor, source=source, zone=zone, now=now, request_id=request_id
            )
        )
    return get(store, pass_id)


def _insert(
    db: sqlite_utils.Database,
    data: GuestIn,
    *,
    actor: str,
    source: Source,
    zone: ZoneInfo,
    now: datetime,
    request_id: str | None,
) -> str:
    """Check the rules and store the pass, inside the caller's write; returns its id."""
    host = _host(db, data.host_member_id, now)
    day = _check_day(data.day, now, zone)
    start, end = day_bounds(day, zone)
    valid_from = max(now, start)
    if data.event_id is not None:
        _check_event(db, data.event_id, host, day, zone)
    _check_limit(db, host, day)
    if data.credential is not None:
        check_card_free(db, data.credential, now_text(valid_from))
    pass_id = data.id or new_pass_id()
    if db.execute("SELECT 1 FROM members WHERE id = ?", (pass_id,)).fetchone():
        raise Conflict(f"{pass_id} is a member's id: a guest pass needs another")
    try:
        db.execute(
            "INSERT INTO guest_passes (id, first_name, host_member_id, event_id, day,"
            " valid_from, valid_until, credential, hint, source, request_id, created_by,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                pass_id, data.first_name, data.host_member_id, data.event_id,
                day.isoformat(), now_text(valid_from), now_text(end), data.credential,
                data.hint, source, request_id, actor, now_text(now),
            ),
        )  # fmt: skip
    except sqlite3.IntegrityError as err:
        raise Conflict(f"a guest pass with id {pass_id} exists") from err
    audit.record(
        db, actor, "guest.add", pass_id, first_name=data.first_name,
        host=data.host_member_id, day=day.isoformat(), event=data.event_id,
        card=data.credential is not None, source=source,
    )  # fmt: skip
    return pass_id


def give_card(
    store: Store,
    pass_id: str,
    credential: str,
    hint: str | None,
    *,
    actor: str,
    now: datetime,
) -> GuestPass:
    """Put a card (its keyed hash; ``hint``: the UID's last 4 hex digits) on a pass that is
    still running, in place of any card it had."""
    card = build(_PassCard, credential=credential, hint=hint)
    with store.write() as db:
        row = db.execute("SELECT * FROM guest_passes WHERE id = ?", (pass_id,)).fetchone()
        if row is None:
            raise NotFound(f"no guest pass {pass_id!r}")
        if row["status"] != "active":
            raise Refused("not_allowed", f"Guest {row['first_name']}'s day pass is cancelled")
        if row["valid_until"] <= now_text(now):
            raise Refused("not_allowed", f"Guest {row['first_name']}'s day pass has expired")
        check_card_free(db, card.credential, row["valid_from"], pass_id)
        db.execute(
            "UPDATE guest_passes SET credential = ?, hint = ? WHERE id = ?",
            (card.credential, card.hint, pass_id),
        )
        audit.record(db, actor, "guest.card", pass_id, hint=card.hint)
    return get(store, pass_id)


def cancel(store: Store, pass_id: str, *, actor: str, now: datetime) -> GuestPass:
    """Cancel a pass: it leaves the doors' lists and the kiosks' directory."""
    with store.write() as db:
        row = db.execute("SELECT status FROM guest_passes WHERE id = ?", (pass_id,)).fetchone()
        if row is None:
            raise NotFound(f"no guest pass {pass_id!r}")
        if row["status"] == "cancelled":
            raise Conflict(f"guest pass {pass_id} is already cancelled")
        db.execute(
            "UPDATE guest_passes SET status = 'cancelled', cancelled_at = ? WHERE id = ?",
            (now_text(now), pass_id),
        )
        audit.record(db, actor, "guest.cancel", pass_id)
    return get(store, pass_id)


def get(store: Store, pass_id: str) -> GuestPass:
    """One pass; :class:`NotFound` if there is none."""
    row = store.query_one(_SELECT + " WHERE g.id = ?", (pass_id,))
    if row is None:
        raise NotFound(f"no guest pass {pass_id!r}")
    return _pass(row)


def of_day(store: Store, day: date) -> list[GuestPass]:
    """Every pass for ``day`` (a day in the hub's time zone, as passes are), cancelled ones
    too, by time of registration."""
    rows = store.query(_SELECT + " WHERE g.day = ? ORDER BY g.created_at, g.id", (day.isoformat(),))
    return [_pass(row) for row in rows]


def of_host(
    store: Store, member_id: str, *, since: date | None = None, until: date | None = None
) -> list[GuestPass]:
    """A member's passes for the days from ``since`` to ``until`` (both included), by day."""
    if store.query_one("SELECT 1 FROM members WHERE id = ?", (member_id,)) is None:
        raise NotFound(f"no member {member_id!r}")
    rows = store.query(
        _SELECT + " WHERE g.host_member_id = ? AND g.day >= ? AND g.day <= ?"
        " ORDER BY g.day, g.created_at, g.id",
        (member_id, (since or date.min).isoformat(), (until or date.max).isoformat()),
    )
    return [_pass(row) for row in rows]


def with_cards(
    db: sqlite3.Connection | sqlite_utils.Database, since: datetime, until: datetime
) -> list[sqlite3.Row]:
    """Active passes with a card, valid at some moment from ``since`` to ``until``, whose
    host is an active member; by credential. Each row: ``id``, ``first_name``,
    ``credential``, ``valid_from``, ``valid_until``, ``event_id``, ``host_member_id``,
    ``host_first_name``, ``host_tier``."""
    rows: list[sqlite3.Row] = db.execute(
        "SELECT g.id, g.first_name, g.credential, g.valid_from, g.valid_until, g.event_id,"
        " g.host_member_id, m.first_name AS host_first_name, m.tier AS host_tier"
        " FROM guest_passes g JOIN members m ON m.id = g.host_member_id"
        " WHERE g.status = 'active' AND g.credential IS NOT NULL AND g.valid_until > ?"
        " AND g.valid_from <= ? AND m.status = 'active' ORDER BY g.credential",
        (now_text(since), now_text(until)),
    ).fetchall()
    return rows


def valid_at(db: sqlite3.Connection | sqlite_utils.Database, now: datetime) -> list[sqlite3.Row]:
    """Passes a guest may use at ``now`` (see :func:`with_cards`)."""
    return with_cards(db, now, now)


def pass_of_card(
    db: sqlite3.Connection | sqlite_utils.Database, credential: str, after: str
) -> sqlite3.Row | None:
    """The active pass carrying ``credential`` that runs past ``after`` (stored time text)."""
    row: sqlite3.Row | None = db.execute(
        "SELECT id, first_name, day, valid_until FROM guest_passes WHERE credential = ?"
        " AND status = 'active' AND valid_until > ? ORDER BY valid_until DESC LIMIT 1",
        (credential, after),
    ).fetchone()
    return row


def check_card_free(
    db: sqlite_utils.Database, credential: str, valid_from: str, pass_id: str | None = None
) -> None:
    """Refuse (``card_in_use``) a card that is a member's, or another pass's after
    ``valid_from`` (stored time text)."""
    if db.execute(
        "SELECT 1 FROM credentials WHERE hash = ? AND status = 'active'", (credential,)
    ).fetchone():
        raise Refused("card_in_use", "This card belongs to a member: a guest needs another card")
    other = pass_of_card(db, credential, valid_from)
    if other is not None and other["id"] != pass_id:
        raise Refused(
            "card_in_use",
            f"This card is already guest {other['first_name']}'s day pass for {other['day']}",
        )


def _zone(timezone: str) -> ZoneInfo:
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise Invalid("timezone", f"unknown time zone {timezone!r}") from err


def _host(db: sqlite_utils.Database, member_id: str, now: datetime) -> sqlite3.Row:
    host: sqlite3.Row | None = db.execute(
        "SELECT m.id, m.first_name, m.status, m.valid_from, m.valid_until, t.name AS tier_name,"
        " t.guests_per_day FROM members m JOIN tiers t ON t.id = m.tier WHERE m.id = ?",
        (member_id,),
    ).fetchone()
    if host is None:
        raise NotFound(f"no member {member_id!r}")
    check_standing(host, now, "guests")
    return host


def _check_day(day: date | None, now: datetime, zone: ZoneInfo) -> date:
    today = now.astimezone(zone).date()
    if day is None:
        return today
    if day < today:
        raise Invalid("day", f"{day} is in the past (today is {today})")
    if day > today + timedelta(days=MAX_DAYS_AHEAD):
        raise Invalid("day", f"{day} is more than {MAX_DAYS_AHEAD} days ahead")
    return day


def _check_limit(db: sqlite_utils.Database, host: sqlite3.Row, day: date) -> None:
    limit = int(host["guests_per_day"])
    (taken,) = db.execute(
        "SELECT count(*) FROM guest_passes WHERE host_member_id = ? AND day = ?"
        " AND status != 'cancelled'",
        (host["id"], day.isoformat()),
    ).fetchone()
    if taken < limit:
        return
    name = host["first_name"]
    if limit == 0:
        raise Refused("guest_limit", f"{name}'s membership ({host['tier_name']}) has no guests")
    plural = "guest" if limit == 1 else "guests"
    raise Refused(
        "guest_limit",
        f"{name} may bring {limit} {plural} a day, and has registered {taken} for {day}",
    )


def _check_event(
    db: sqlite_utils.Database, event_id: str, host: sqlite3.Row, day: date, zone: ZoneInfo
) -> None:
    event = db.execute(
        "SELECT title, status, starts_at FROM events WHERE id = ?", (event_id,)
    ).fetchone()
    if event is None:
        raise NotFound(f"no event {event_id!r}")
    title = event["title"]
    if event["status"] != "scheduled":
        raise Refused("not_signed_up", f"{title} is cancelled")
    starts = parse_time(event["starts_at"])
    on = starts.astimezone(zone).date() if starts is not None else None
    if on != day:
        raise Refused("not_signed_up", f"{title} is on {on}, not on {day}")
    signed_up = db.execute(
        "SELECT 1 FROM signups WHERE event_id = ? AND member_id = ? AND status != 'cancelled'",
        (event_id, host["id"]),
    ).fetchone()
    if signed_up is None:
        raise Refused("not_signed_up", f"{host['first_name']} is not signed up for {title}")


def _pass(row: sqlite3.Row) -> GuestPass:
    return GuestPass(
        id=row["id"],
        first_name=row["first_name"],
        host_member_id=row["host_member_id"],
        host_first_name=row["host_first_name"],
        event_id=row["event_id"],
        day=date.fromisoformat(row["day"]),
        valid_from=parse_time(row["valid_from"]),
        valid_until=parse_time(row["valid_until"]),
        hint=row["hint"],
        has_card=row["credential"] is not None,
        status=row["status"],
        source=row["source"],
        created_at=parse_time(row["created_at"]),
    )


_SELECT = (
    "SELECT g.*, m.first_name AS host_first_name FROM guest_passes g"
    " JOIN members m ON m.id = g.host_member_id"
)
