"""A hub with community data: an organisation, a room, events and bookings, for tests.

``community(store)`` seeds ``hub_data.seed`` (zones campfire/glade, members m-asa Åsa,
m-bjorn Björn, m-sigrid Sigrid) and adds the organisation ``o-skog`` (Åsa and Björn work
there; Sigrid has none) and the room ``lookout`` (8 people, in the campfire zone).
Times are fixed: ``NOW`` is a day before ``START``.
"""

import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from hub_server import events, members, organisations, places
from hub_server.events import Event, EventIn
from hub_server.models import MemberChange, MemberIn, OrganisationIn, RoomIn, build
from hub_server.store import Store, now_text
from tests.helpers.hub_data import seed

ACTOR = "test"
START = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)
"""When the default event starts."""
END = START + timedelta(hours=2)
NOW = START - timedelta(days=1)
"""The default 'now': a day before the event."""
ORG = "o-skog"
ROOM = "lookout"

COMMUNITY_TABLES = ("events", "signups", "invitations", "notifications", "bookings", "audit_log")
"""The tables a community change may write."""


def community(store: Store) -> Store:
    """``seed(store)`` plus the organisation ``o-skog`` (Åsa, Björn) and the room ``lookout``."""
    seed(store)
    organisations.add(store, OrganisationIn(name="Skogsbyrån", id=ORG), ACTOR)
    for member_id in ("m-asa", "m-bjorn"):
        members.change(store, member_id, MemberChange(organisation=ORG), ACTOR)
    places.add_room(
        store, build(RoomIn, id=ROOM, name="Lookout", zone_id="campfire", capacity=8), ACTOR
    )
    return store


def add_member(
    store: Store, member_id: str, first_name: str, *, organisation: str | None = ORG
) -> str:
    """Another member (of ``o-skog`` unless told otherwise)."""
    data = build(
        MemberIn, id=member_id, first_name=first_name, last_name="Test", organisation=organisation
    )
    return members.add(store, data, ACTOR).id


def event_values(**overrides: Any) -> dict[str, Any]:
    """An ``EventIn``'s values: Forest yoga, hosted by Sigrid in the campfire zone, 12 seats,
    from ``START`` for two hours; ``overrides`` replace any of them."""
    values: dict[str, Any] = {
        "title": "Forest yoga",
        "host_member_id": "m-sigrid",
        "zone_id": "campfire",
        "starts_at": START,
        "ends_at": END,
        "capacity": 12,
    }
    values.update(overrides)
    return values


def add_event(store: Store, *, now: datetime = NOW, **overrides: Any) -> Event:
    """An event from :func:`event_values`, added through the service."""
    return events.add(store, build(EventIn, **event_values(**overrides)), actor=ACTOR, now=now)


def book_room(
    store: Store,
    starts_at: datetime,
    ends_at: datetime,
    *,
    room_id: str = ROOM,
    member_id: str = "m-asa",
    status: str = "booked",
) -> str:
    """A plain room booking, written with SQL (as the bookings service stores one)."""
    booking_id = f"b-{secrets.token_hex(6)}"
    with store.write() as db:
        db.execute(
            "INSERT INTO bookings (id, room_id, member_id, starts_at, ends_at, status, source,"
            " created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, 'cli', ?, ?)",
            (booking_id, room_id, member_id, now_text(starts_at), now_text(ends_at), status,
             ACTOR, now_text(NOW)),
        )  # fmt: skip
    return booking_id


def dump(store: Store, tables: tuple[str, ...] = COMMUNITY_TABLES) -> str:
    """Every row of ``tables``, as text to compare before and after a refused change."""
    return json.dumps(
        {
            table: [list(row) for row in store.query(f"SELECT * FROM {table} ORDER BY rowid")]
            for table in tables
        }
    )
