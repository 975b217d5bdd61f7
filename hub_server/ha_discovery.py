"""Home Assistant MQTT discovery configs, built from the hub's zones, rooms and doors.

Pure functions: :func:`configs` gives every config topic with its payload;
:mod:`hub_server.ha_publisher` publishes them. No entity has a state topic
of its own: each reads a retained topic the contract already has through a
``value_template`` (Home Assistant's ``value_json`` is the parsed payload):

* per zone, a people ``sensor`` and an occupancy ``binary_sensor`` (on while
  anyone is in it), and a people ``sensor`` for the whole site, from the
  occupancy topic;
* per room (a room in a zone: the occupancy topic lists only those), an
  in-use ``binary_sensor``: on while anyone is in it or a booking covers now
  (the room's ``booked_until`` is set only then);
* per door, a ``lock`` (its commands go to the hub, never to the door) and a
  contact ``binary_sensor``, from the door's state.

A template gives ``None`` (Home Assistant's "unknown") when its zone or room
is not in the message. Every entity is available while the hub is (its
availability topic, with a last will); a door's entities also need the door's.
Names are those of the site, zones, rooms and doors: nothing about members.
"""

import hashlib
import json
import re
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from hublink.topics import Topics, ha_lock_command

MANUFACTURER = "hubtap"
PAYLOAD_LOCK, PAYLOAD_UNLOCK, PAYLOAD_OPEN = "LOCK", "UNLOCK", "OPEN"
_STATUS = "{{ value_json.status }}"
_CONTACT = "{{ {'open': 'ON', 'closed': 'OFF'}.get(value_json.contact, 'None') }}"


@dataclass(frozen=True)
class Named:
    """A zone, room or door: its id and display name."""

    id: str
    name: str


@dataclass(frozen=True)
class Inventory:
    """What Home Assistant is told about: the site and its zones, rooms and doors."""

    site_id: str
    site_name: str
    zones: tuple[Named, ...] = ()
    rooms: tuple[Named, ...] = ()
    doors: tuple[Named, ...] = ()


def configs(inventory: Inventory, topics: Topics, prefix: str) -> dict[str, bytes]:
    """Every discovery config topic under ``prefix`` with its payload (compact JSON)."""
    build = _Builder(inventory, topics, prefix)
    for zone in inventory.zones:
        build.zone(zone)
    build.site()
    for room in inventory.rooms:
        build.room(room)
    for door in inventory.doors:
        build.door(door)
    return build.found


def digest(payload: bytes) -> str:
    """A fingerprint of a config payload (what the ``ha_discovery`` table records)."""
    return hashlib.sha256(payload).hexdigest()


def _version() -> str:
    try:
        return metadata.version("hubtap")
    except metadata.PackageNotFoundError:
        return "unknown"


def _pick(items: str, key: str, wanted: str) -> str:
    """Template: the item of ``value_json.<items>`` whose ``key`` is ``wanted``, as ``x``."""
    return f"{{% set x = value_json.{items} | selectattr('{key}', 'eq', '{wanted}') | first %}}"


def _on_off(condition: str) -> str:
    """Template: ON or OFF for the picked ``x``; None (unknown) when there is none."""
    return f"{{{{ 'None' if x is not defined else ('ON' if {condition} else 'OFF') }}}}"


class _Builder:
    """Collects the configs of one inventory."""

    def __init__(self, inventory: Inventory, topics: Topics, prefix: str) -> None:
        self.inventory = inventory
        self.topics = topics
        self.prefix = prefix
        self.node = f"hubtap_{inventory.site_id}"
        self.origin = {"name": MANUFACTURER, "sw_version": _version()}
        self.hub_online = [{"topic": topics.hub_availability(), "value_template": _STATUS}]
        self.site_device = {
            "identifiers": [self.node],
            "name": inventory.site_name,
            "manufacturer": MANUFACTURER,
            "model": "Site",
        }
        self.found: dict[str, bytes] = {}

    def zone(self, zone: Named) -> None:
        occupancy = self.topics.occupancy()
        pick = _pick("zones", "zone_id", zone.id)
        self.add("sensor", f"zone_{zone.id}_people", f"{zone.name} people", {
            "state_topic": occupancy,
            "value_template": pick + "{{ 'None' if x is not defined else x.count }}",
            **_PEOPLE,
        })  # fmt: skip
        self.add("binary_sensor", f"zone_{zone.id}_occupied", f"{zone.name} occupied", {
            "state_topic": occupancy,
            "value_template": pick + _on_off("x.count > 0"),
            "device_class": "occupancy",
        })  # fmt: skip

    def site(self) -> None:
        self.add("sensor", "site_people", "People on site", {
            "state_topic": self.topics.occupancy(),
            "value_template": "{{ value_json.site.count }}",
            **_PEOPLE,
        })  # fmt: skip

    def room(self, room: Named) -> None:
        self.add("binary_sensor", f"room_{room.id}_in_use", f"{room.name} in use", {
            "state_topic": self.topics.occupancy(),
            "value_template": _pick("rooms", "room_id", room.id)
            + _on_off("x.count > 0 or x.booked_until"),
            "device_class": "occupancy",
        })  # fmt: skip

    def door(self, door: Named) -> None:
        state = self.topics.door_state(door.id)
        device = {
            "identifiers": [f"{self.node}_door_{door.id}"],
            "name": door.name,
            "manufacturer": MANUFACTURER,
            "model": "Door",
            "via_device": self.node,
        }
        online = [
            *self.hub_online,
            {"topic": self.topics.door_availability(door.id), "value_template": _STATUS},
        ]
        door_common = {"device": device, "availability": online, "availability_mode": "all"}
        self.add("lock", f"door_{door.id}_lock", "Lock", {
            "state_topic": state,
            "value_template": "{{ value_json.lock | upper }}",
            "state_locked": "LOCKED",
            "state_unlocked": "UNLOCKED",
            "command_topic": ha_lock_command(self.topics, door.id),
            "payload_lock": PAYLOAD_LOCK,
            "payload_unlock": PAYLOAD_UNLOCK,
            "payload_open": PAYLOAD_OPEN,
            "optimistic": False,
            "retain": False,
            **door_common,
        })  # fmt: skip
        self.add("binary_sensor", f"door_{door.id}_contact", "Contact", {
            "state_topic": state,
            "value_template": _CONTACT,
            "device_class": "door",
            **door_common,
        })  # fmt: skip

    def add(self, component: str, object_id: str, name: str, config: dict[str, Any]) -> None:
        """One entity: the keys every config has, then ``config`` (which may replace them)."""
        slug = re.sub(r"[^a-z0-9_]", "_", f"{self.node}_{object_id}".lower())
        payload = {
            "name": name,
            "unique_id": f"{self.node}_{object_id}",
            "object_id": slug,  # Home Assistant before 2025.10; default_entity_id after
            "default_entity_id": f"{component}.{slug}",
            "device": self.site_device,
            "origin": self.origin,
            "availability": self.hub_online,
            "qos": 1,
            **config,
        }
        topic = f"{self.prefix}/{component}/{self.node}/{object_id}/config"
        self.found[topic] = json.dumps(
            payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()


_PEOPLE = {
    "state_class": "measurement",
    "unit_of_measurement": "people",
    "icon": "mdi:account-group",
}
