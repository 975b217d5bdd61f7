"""A small hub in a store: zones, doors of every direction, members with cards."""

from datetime import datetime

from hub_server import cards, doors, members, places
from hub_server.models import CardIn, DoorIn, MemberIn, ZoneIn, build
from hub_server.store import Store
from hublink.credentials import credential_hash
from hublink.messages import AccessEvent
from tests.helpers.door_hardware import SITE_KEY

ACTOR = "test"
UIDS = {"m-asa": "04A1B2C3D4E5F6", "m-bjorn": "04B0B1B2B3B4B5", "m-sigrid": "0A0B0C0D"}


def seed(store: Store) -> Store:
    """Zones campfire (10) and glade (4), doors front (in, campfire), glade (zone),
    exit (out), side (toggle, campfire); members Åsa, Björn, Sigrid (admin) with cards."""
    places.add_zone(store, build(ZoneIn, id="campfire", name="Campfire circle", capacity=10), ACTOR)
    places.add_zone(store, build(ZoneIn, id="glade", name="Forest glade", capacity=4), ACTOR)
    for door_id, direction, zone in (
        ("front", "in", "campfire"),
        ("glade", "zone", "glade"),
        ("exit", "out", None),
        ("side", "toggle", "campfire"),
    ):
        doors.add(
            store,
            build(DoorIn, id=door_id, name=door_id.title(), direction=direction, zone_id=zone),
            ACTOR,
        )
    for member_id, first, role in (
        ("m-asa", "Åsa", "member"),
        ("m-bjorn", "Björn", "member"),
        ("m-sigrid", "Sigrid", "admin"),
    ):
        members.add(
            store,
            build(MemberIn, id=member_id, first_name=first, last_name="Test", role=role),
            ACTOR,
        )
        cards.add(store, SITE_KEY, build(CardIn, member_id=member_id, uid=UIDS[member_id]), ACTOR)
    return store


def credential(member_id: str) -> str:
    """The hash of a seeded member's card."""
    return credential_hash(SITE_KEY, bytes.fromhex(UIDS[member_id]))


def tap(
    member_id: str | None, at: datetime, *, granted: bool = True, **extra: object
) -> AccessEvent:
    """An access event as a door sends it."""
    values: dict[str, object] = {
        "ts": at,
        "reader_id": "r1",
        "credential": credential(member_id) if member_id in UIDS else None,
        "granted": granted,
        "reason": "member" if granted else "unknown_credential",
        "member_id": member_id if granted else None,
    }
    values.update(extra)
    return AccessEvent.model_validate(values)
