"""The public SpaceAPI v15 document (``/spaceapi.json``): counts and states, never a person.

What it holds (https://spaceapi.io, v15; checked against :data:`SCHEMA`):

- who and where the space is, from ``[spaceapi]`` (the site id, the hub's own
  icon and address when not set) and each zone's configured floor area;
- ``state``: open from :mod:`hub_server.site_open` (left out when not known)
  with ``lastchange``, and ``message: "lockdown"`` while a door is locked down;
- ``sensors.people_now_present``: one per zone and one for the whole site,
  the occupancy topic's counts (:func:`occupancy.current`); never ``names``;
- ``sensors.door_locked``: each registered door that has reported its lock;
- ``feeds.calendar``: the public iCalendar feed;
- ``ext_rooms``: each bookable room, whether it is in use (people or a booking).
"""

import re
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from hub_server import occupancy, site_open
from hub_server.config import HubConfig, SpaceApiSection, SpaceContact
from hub_server.store import Store
from hublink.messages import Occupancy

SCHEMA = Path(__file__).with_name("spaceapi_v15.schema.json")
"""hubtap's JSON Schema of the SpaceAPI v15 fields it emits (tests validate against it)."""

WHOLE_SITE = "whole site"
"""The ``name`` of the ``people_now_present`` entry that counts the whole site."""

_URL = re.compile(r"^https?://[^\s/?#]+\S*$", re.IGNORECASE)
_MAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CONTACT_FORMS: dict[str, tuple[re.Pattern[str], str]] = {
    "email": (_MAIL, "an e-mail address"),
    "phone": (re.compile(r"^\+[0-9][0-9 ()/.-]*$"), "a phone number with + and the country code"),
    "matrix": (re.compile(r"^[#@+!][^:\s]+:\S+$"), "a Matrix address (#room:server)"),
    "mastodon": (re.compile(r"^@[^@\s]+@[^@\s]+$"), "a Mastodon account (@name@server)"),
    "ml": (_MAIL, "a mailing list address"),
}
"""Each contact key: the form SpaceAPI describes for it, and what to call that form."""

Document = dict[str, Any]


class DoorRow(NamedTuple):
    """A registered door as the document shows it: its name, where it is, what it reported."""

    name: str
    location: str
    lock: str | None
    mode: str | None


def document(store: Store, config: HubConfig, base_url: str, now: datetime) -> Document:
    """The SpaceAPI document at ``now`` (aware), for a hub reached at ``base_url``."""
    section = config.spaceapi
    base = base_url.rstrip("/")
    space = section.space or config.site.id
    current = occupancy.current(store, config.occupancy, config.hub.timezone, now=now)
    doors = door_rows(store)
    return {
        "api_compatibility": ["15"],
        "space": space,
        "logo": section.logo or f"{base}/static/favicon.svg",
        "url": section.url or f"{base}/",
        "contact": section.contact.model_dump(exclude_none=True),
        "location": _location(section, config.hub.timezone, current),
        "state": _state(store, current.open, doors, now),
        "sensors": {
            "people_now_present": _people(current, space),
            "door_locked": [
                {"value": door.lock == "locked", "location": door.location, "name": door.name}
                for door in doors
                if door.lock is not None
            ],
        },
        "feeds": {"calendar": {"type": "ical", "url": f"{base}/calendar.ics"}},
        "ext_rooms": _rooms(current),
    }


def door_rows(store: Store) -> list[DoorRow]:
    """Each registered door that has reported its state, by name; located by its zone."""
    rows = store.query(
        "SELECT d.name, coalesce(z.name, d.name) AS location, s.lock, s.mode FROM doors d"
        " JOIN door_status s ON s.door_id = d.id LEFT JOIN zones z ON z.id = d.zone_id"
        " ORDER BY d.name COLLATE NOCASE, d.id"
    )
    return [DoorRow(*row) for row in rows]


def _state(store: Store, is_open: bool | None, doors: list[DoorRow], now: datetime) -> Document:
    """``open`` (left out when not known), ``lastchange``, and why while a door is locked down."""
    is_open, since = site_open.record(store, is_open, now)
    state: Document = {} if is_open is None else {"open": is_open}
    state["lastchange"] = int(since.timestamp())
    if any(door.mode == "lockdown" for door in doors):
        state["message"] = "lockdown"
    return state


def _location(section: SpaceApiSection, timezone: str, current: Occupancy) -> Document:
    """The configured address and coordinates, the hub's time zone, each zone's area."""
    location: Document = section.location.model_dump(exclude_none=True)
    location["timezone"] = timezone
    areas = [
        {"name": zone.name, "square_meters": section.areas[zone.zone_id]}
        for zone in current.zones
        if zone.zone_id in section.areas
    ]
    if areas:  # v15: areas, when given, holds at least one
        location["areas"] = areas
    return location


def _people(current: Occupancy, space: str) -> list[Document]:
    """People present per zone (located by its name), then on the whole site."""
    zones: list[Document] = [{"value": zone.count, "location": zone.name} for zone in current.zones]
    return [*zones, {"value": current.site.count, "location": space, "name": WHOLE_SITE}]


def _rooms(current: Occupancy) -> list[Document]:
    """Each bookable room: in use while someone is in it or it is booked (hubtap's ``ext_``)."""
    zone_names = {zone.zone_id: zone.name for zone in current.zones}
    return [
        {
            "name": room.name,
            "location": zone_names.get(room.zone_id, room.name),
            "people": room.count,
            "in_use": room.count > 0 or room.booked_until is not None,
        }
        for room in current.rooms
    ]


def config_problems(store: Store, section: SpaceApiSection) -> list[str]:
    """What in ``[spaceapi]`` does not fit the hub or SpaceAPI, one self-explanatory message
    per problem naming its key (the server logs each at start); none while it is off."""
    if not section.enabled:
        return []
    zones = {row[0] for row in store.query("SELECT id FROM zones")}
    problems = [
        f'[spaceapi] areas: "{zone_id}" is not a zone (known: {", ".join(sorted(zones)) or "none"})'
        for zone_id in section.areas
        if zone_id not in zones
    ]
    for key, value in (("logo", section.logo), ("url", section.url)):
        if value is not None and not _URL.match(value):
            problems.append(f'[spaceapi] {key}: "{value}" is not an absolute http(s) URL')
    problems += _contact_problems(section.contact)
    place = section.location
    if place.address is None and place.lat is None:
        problems.append(
            "[spaceapi] location: neither address nor lat/lon is set, so SpaceAPI directories"
            " cannot show where the space is"
        )
    return problems


def _contact_problems(contact: SpaceContact) -> list[str]:
    given = contact.model_dump(exclude_none=True)
    if not given:
        keys = ", ".join(_CONTACT_FORMS)
        return [f"[spaceapi] contact: no way to reach the space is set (give one of {keys})"]
    return [
        f'[spaceapi] contact.{key}: "{value}" is not {_CONTACT_FORMS[key][1]}'
        for key, value in given.items()
        if key in _CONTACT_FORMS and not _CONTACT_FORMS[key][0].match(value)
    ]
