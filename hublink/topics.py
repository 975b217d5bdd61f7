"""Every MQTT topic of the contract, built by one function each.

All topics live under ``hubtap/<site_id>/``. Ids (never names) fill the
variable levels; :data:`ANY` in their place gives the single-level wildcard
for subscriptions. No other module formats a topic string.
"""

import re
from dataclasses import dataclass
from typing import Any, Literal

from hublink import messages as m
from hublink.errors import TopicError

ROOT = "hubtap"
ANY = "+"
"""Pass as an id to get a subscription filter matching every id at that level."""

_ID_RE = re.compile(m.ENTITY_ID_PATTERN.removeprefix("^").removesuffix("$"))
_PLACEHOLDER_RE = re.compile(r"^<([a-z_]+)>$")

Sender = Literal["door", "kiosk", "hub"]


@dataclass(frozen=True)
class TopicSpec:
    """One topic of the contract: its shape, who sends it, how, and what it carries."""

    name: str
    pattern: str
    sender: Sender
    retained: bool
    qos: Literal[0, 1]
    durable: bool
    codec: "m.Codec[Any]"
    summary: str

    @property
    def levels(self) -> tuple[str, ...]:
        """The pattern's levels, with ``<param>`` placeholders."""
        return tuple(self.pattern.split("/"))

    @property
    def params(self) -> tuple[str, ...]:
        """Names of the id placeholders, in order."""
        return tuple(p.group(1) for lvl in self.levels if (p := _PLACEHOLDER_RE.match(lvl)))


def _spec(
    name: str,
    pattern: str,
    sender: Sender,
    codec: "m.Codec[Any]",
    summary: str,
    *,
    retained: bool = False,
    durable: bool = False,
    qos: Literal[0, 1] = 1,
) -> TopicSpec:
    return TopicSpec(name, pattern, sender, retained, qos, durable, codec, summary)


DOOR_AVAILABILITY = _spec(
    "door_availability",
    "door/<door_id>/availability",
    "door",
    m.AVAILABILITY,
    "online when connected; the last will sets offline",
    retained=True,
)
DOOR_STATE = _spec(
    "door_state",
    "door/<door_id>/state",
    "door",
    m.DOOR_STATE,
    "lock, contact, mode, access-list version and last sync",
    retained=True,
)
DOOR_TELEMETRY = _spec(
    "door_telemetry",
    "door/<door_id>/telemetry",
    "door",
    m.DOOR_TELEMETRY,
    "tap latency over recent taps, reader health, outbox depth",
    retained=True,
    qos=0,
)
DOOR_EVENT = _spec(
    "door_event",
    "door/<door_id>/event",
    "door",
    m.DOOR_EVENT,
    "access decisions, alarms, mode changes and exit requests",
    durable=True,
)
DOOR_ACL_SNAPSHOT = _spec(
    "door_acl_snapshot",
    "door/<door_id>/acl/snapshot",
    "hub",
    m.ACL_SNAPSHOT,
    "the door's whole access list at one version",
    retained=True,
)
DOOR_ACL_DELTA = _spec(
    "door_acl_delta",
    "door/<door_id>/acl/delta",
    "hub",
    m.ACL_DELTA,
    "changes from one list version to the next",
)
DOOR_COMMAND = _spec(
    "door_command",
    "door/<door_id>/command",
    "hub",
    m.DOOR_COMMAND,
    "unlock, lockdown, normal, hold-open, resync; each expires",
)
DOOR_COMMAND_RESULT = _spec(
    "door_command_result",
    "door/<door_id>/command/result",
    "door",
    m.COMMAND_RESULT,
    "the door's answer to a command, by command id",
    durable=True,
)
KIOSK_AVAILABILITY = _spec(
    "kiosk_availability",
    "kiosk/<kiosk_id>/availability",
    "kiosk",
    m.AVAILABILITY,
    "online when connected; the last will sets offline",
    retained=True,
)
KIOSK_DIRECTORY = _spec(
    "kiosk_directory",
    "kiosk/<kiosk_id>/directory",
    "hub",
    m.KIOSK_DIRECTORY,
    "card hash to first name, for this kiosk",
    retained=True,
)
KIOSK_REQUEST = _spec(
    "kiosk_request",
    "kiosk/<kiosk_id>/request",
    "kiosk",
    m.KIOSK_REQUEST,
    "check-out, signup, guest, booking",
    durable=True,
)
KIOSK_RESPONSE = _spec(
    "kiosk_response",
    "kiosk/<kiosk_id>/response",
    "hub",
    m.KIOSK_RESPONSE,
    "the hub's answer, by request id",
)
OCCUPANCY = _spec(
    "occupancy",
    "occupancy",
    "hub",
    m.OCCUPANCY,
    "counts per site, zone and room; never names",
    retained=True,
)
EVENTS_UPCOMING = _spec(
    "events_upcoming",
    "events/upcoming",
    "hub",
    m.UPCOMING_EVENTS,
    "upcoming events with free seats; no attendee names",
    retained=True,
)
HUB_AVAILABILITY = _spec(
    "hub_availability",
    "hub/availability",
    "hub",
    m.AVAILABILITY,
    "online when connected; the last will sets offline",
    retained=True,
)

SPECS: tuple[TopicSpec, ...] = (
    DOOR_AVAILABILITY, DOOR_STATE, DOOR_TELEMETRY, DOOR_EVENT, DOOR_ACL_SNAPSHOT, DOOR_ACL_DELTA,
    DOOR_COMMAND, DOOR_COMMAND_RESULT, KIOSK_AVAILABILITY, KIOSK_DIRECTORY,
    KIOSK_REQUEST, KIOSK_RESPONSE, OCCUPANCY, EVENTS_UPCOMING, HUB_AVAILABILITY,
)  # fmt: skip


@dataclass(frozen=True)
class TopicMatch:
    """An incoming topic recognised as one of the contract's."""

    spec: TopicSpec
    ids: dict[str, str]


def check_id(value: str, what: str = "id") -> str:
    """Return ``value`` if it can stand in a topic level, else raise :class:`TopicError`."""
    if not isinstance(value, str) or not _ID_RE.fullmatch(value):
        raise TopicError(
            f"{what} {value!r} cannot be used in a topic: use 1-64 letters, digits, '-' or '_'"
            ", starting with a letter or digit"
        )
    return value


class Topics:
    """Builds the topics of one site."""

    def __init__(self, site_id: str) -> None:
        self.site_id = check_id(site_id, "site id")
        self.base = f"{ROOT}/{site_id}"

    def __repr__(self) -> str:
        return f"Topics({self.site_id!r})"

    def build(self, spec: TopicSpec, *ids: str) -> str:
        """The topic for ``spec`` with its id levels filled in order (``ANY`` allowed)."""
        params = spec.params
        if len(ids) != len(params):
            raise TopicError(f"topic {spec.name} takes {len(params)} id(s), got {len(ids)}")
        values = iter(ids)
        levels = []
        for level in spec.levels:
            if _PLACEHOLDER_RE.match(level):
                value = next(values)
                levels.append(value if value == ANY else check_id(value, level.strip("<>")))
            else:
                levels.append(level)
        return "/".join((self.base, *levels))

    def door_availability(self, door_id: str) -> str:
        return self.build(DOOR_AVAILABILITY, door_id)

    def door_state(self, door_id: str) -> str:
        return self.build(DOOR_STATE, door_id)

    def door_telemetry(self, door_id: str) -> str:
        return self.build(DOOR_TELEMETRY, door_id)

    def door_event(self, door_id: str) -> str:
        return self.build(DOOR_EVENT, door_id)

    def door_acl_snapshot(self, door_id: str) -> str:
        return self.build(DOOR_ACL_SNAPSHOT, door_id)

    def door_acl_delta(self, door_id: str) -> str:
        return self.build(DOOR_ACL_DELTA, door_id)

    def door_command(self, door_id: str) -> str:
        return self.build(DOOR_COMMAND, door_id)

    def door_command_result(self, door_id: str) -> str:
        return self.build(DOOR_COMMAND_RESULT, door_id)

    def kiosk_availability(self, kiosk_id: str) -> str:
        return self.build(KIOSK_AVAILABILITY, kiosk_id)

    def kiosk_directory(self, kiosk_id: str) -> str:
        return self.build(KIOSK_DIRECTORY, kiosk_id)

    def kiosk_request(self, kiosk_id: str) -> str:
        return self.build(KIOSK_REQUEST, kiosk_id)

    def kiosk_response(self, kiosk_id: str) -> str:
        return self.build(KIOSK_RESPONSE, kiosk_id)

    def occupancy(self) -> str:
        return self.build(OCCUPANCY)

    def events_upcoming(self) -> str:
        return self.build(EVENTS_UPCOMING)

    def hub_availability(self) -> str:
        return self.build(HUB_AVAILABILITY)

    def match(self, topic: str, *, wildcards: bool = False) -> TopicMatch | None:
        """Recognise a topic of this site; ``None`` if it is not in the contract.

        With ``wildcards``, id levels may be :data:`ANY` (for subscription filters).
        """
        prefix = self.base + "/"
        if not topic.startswith(prefix):
            return None
        levels = topic[len(prefix) :].split("/")
        for spec in SPECS:
            ids = _match_levels(spec.levels, levels, wildcards)
            if ids is not None:
                return TopicMatch(spec, ids)
        return None

    def spec_for(self, topic: str, *, wildcards: bool = False) -> TopicSpec:
        """The contract's spec for ``topic``; :class:`TopicError` if there is none."""
        found = self.match(topic, wildcards=wildcards)
        if found is None:
            raise TopicError(f"{topic!r} is not a topic of the hubtap contract for {self.site_id}")
        return found.spec


HA_LOCK_COMMAND = ("ha", "door", "<door_id>", "set")
"""Levels, under the site's base, of Home Assistant's lock commands to a door."""


def ha_lock_command(topics: Topics, door_id: str) -> str:
    """Where Home Assistant sends a door's lock commands (:data:`ANY`: every door's).

    Outside the contract (not in :data:`SPECS`): the payload is Home Assistant's plain
    ``LOCK``, ``UNLOCK`` or ``OPEN``, read with ``Link.subscribe_raw``; only the hub
    listens, and it turns them into door commands.
    """
    door = door_id if door_id == ANY else check_id(door_id, "door_id")
    return "/".join((topics.base, *HA_LOCK_COMMAND[:2], door, HA_LOCK_COMMAND[3]))


def ha_lock_command_door(topics: Topics, topic: str) -> str | None:
    """The door id in a lock command topic of this site; ``None`` if ``topic`` is not one."""
    prefix = topics.base + "/"
    if not topic.startswith(prefix):
        return None
    ids = _match_levels(HA_LOCK_COMMAND, topic[len(prefix) :].split("/"), False)
    return None if ids is None else ids["door_id"]


def contract_overlap(topics: Topics, topic_filter: str) -> TopicSpec | None:
    """A topic of this site's contract that ``topic_filter`` (wildcards allowed) could match;
    ``None`` when it can match none (a filter for topics outside the contract)."""
    wanted = topic_filter.split("/")
    base = tuple(topics.base.split("/"))
    for spec in SPECS:
        if _filter_could_match(wanted, (*base, *spec.levels)):
            return spec
    return None


def _filter_could_match(wanted: list[str], pattern: tuple[str, ...]) -> bool:
    """Whether a filter's levels match some topic of a pattern (``<id>`` levels: any id)."""
    for i, level in enumerate(wanted):
        if level == "#":
            return True
        if i >= len(pattern):
            return False
        want = pattern[i]
        if level == ANY or (_PLACEHOLDER_RE.match(want) and _ID_RE.fullmatch(level)):
            continue
        if level != want:
            return False
    return len(wanted) == len(pattern)


def _match_levels(
    pattern: tuple[str, ...], levels: list[str], wildcards: bool
) -> dict[str, str] | None:
    if len(pattern) != len(levels):
        return None
    ids: dict[str, str] = {}
    for want, got in zip(pattern, levels, strict=True):
        placeholder = _PLACEHOLDER_RE.match(want)
        if placeholder:
            if not (_ID_RE.fullmatch(got) or (wildcards and got == ANY)):
                return None
            ids[placeholder.group(1)] = got
        elif want != got:
            return None
    return ids
