"""Versioned message models for every payload on the bus, and their codecs.

Every message carries ``v`` (its schema version), ``id`` (a UUIDv7, unique
and time-sortable) and ``ts`` (UTC). Adding an optional field keeps ``v``;
a change old readers would misread raises it, and readers reject versions
they do not know with a :class:`MessageError` rather than guessing.
Unknown fields are ignored so that a newer hub can talk to older doors.
"""

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Annotated, Any, ClassVar, Generic, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    model_serializer,
    model_validator,
)

from hublink.errors import MessageError
from hublink.ids import new_id

ENTITY_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
"""Door, kiosk, zone, room, member and site ids: safe in a topic level."""

EntityId = Annotated[str, StringConstraints(pattern=ENTITY_ID_PATTERN)]
MessageId = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"),
]
CredentialHash = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
"""A card UID as HMAC-SHA256 with the site key, in lowercase hex; never the UID."""
ReasonCode = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
FirstName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
DisplayName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]


def _as_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError as err:  # 0001-01-01T00:00+01:00 has no UTC equivalent
        raise ValueError("date is out of range once converted to UTC") from err


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_as_utc)]


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise ValueError(f"unknown time zone {value!r}") from err
    return value


TimeZoneName = Annotated[
    str, StringConstraints(min_length=1, max_length=64), AfterValidator(_check_timezone)
]
"""An IANA time zone name (``Europe/Stockholm``)."""
"""A timestamp that must carry a UTC offset; stored and sent as UTC."""

Level = Literal["green", "amber", "red"]


def utcnow() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


class Part(BaseModel):
    """A nested part of a message (a list entry, a zone); not sent on its own."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class Message(Part):
    """Base of every payload: the envelope fields ``v``, ``id`` and ``ts``."""

    VERSION: ClassVar[int] = 1
    KIND: ClassVar[str | None] = None
    """Value of the ``kind`` field on topics that carry several models."""

    v: int = 1
    id: MessageId = Field(default_factory=new_id)
    ts: UtcDatetime = Field(default_factory=utcnow)

    @model_validator(mode="after")
    def _check_version(self) -> "Message":
        if self.v != self.VERSION:
            raise ValueError(
                f"{type(self).__name__} is schema version {self.VERSION}, not {self.v}"
            )
        return self


# --- availability (door, kiosk, hub) -------------------------------------


class Availability(Message):
    """Whether a device is connected; retained, and the last will says offline."""

    status: Literal["online", "offline"]


# --- door -----------------------------------------------------------------

DoorMode = Literal["normal", "lockdown", "hold_open", "scheduled_open"]
"""``hold_open``: by an operator's command; ``scheduled_open``: by the list's open schedule."""


class DoorState(Message):
    """A door's current lock, contact and mode, and how fresh its access list is."""

    lock: Literal["locked", "unlocked"]
    contact: Literal["closed", "open", "unknown"] = "unknown"
    mode: DoorMode = "normal"
    acl_version: int = Field(ge=0)
    last_sync: UtcDatetime | None = None
    alarms: tuple[ReasonCode, ...] = Field(default=(), max_length=16)


class ReaderHealth(Part):
    """How a door's card reader is doing."""

    reader_id: EntityId
    open: bool
    errors: int = Field(ge=0)
    reinitialised: int = Field(default=0, ge=0)
    rejected_frames: int = Field(default=0, ge=0)
    last_error: str | None = Field(default=None, max_length=500)


class DoorTelemetry(Message):
    """A door's health: tap latency over recent taps, its reader, its outbox."""

    uptime_s: float = Field(ge=0)
    taps: int = Field(ge=0)
    tap_p50_ms: float | None = Field(default=None, ge=0)
    tap_p95_ms: float | None = Field(default=None, ge=0)
    reader: ReaderHealth
    outbox_depth: int = Field(ge=0)
    acl_entries: int = Field(ge=0)
    resyncs: int = Field(default=0, ge=0)
    rejected_messages: int = Field(default=0, ge=0)


class TapTiming(Part):
    """Where the time of one tap went, in milliseconds."""

    read_ms: float = Field(ge=0, description="card in the field to UID read")
    decide_ms: float = Field(ge=0, description="UID read to decision")
    lock_ms: float | None = Field(default=None, ge=0, description="decision to lock energised")


class AccessEvent(Message):
    """A tap at a reader and what the door decided."""

    KIND: ClassVar[str | None] = "access"
    kind: Literal["access"] = "access"
    reader_id: EntityId
    credential: CredentialHash | None
    granted: bool
    reason: ReasonCode
    member_id: EntityId | None = None
    role: Literal["member", "guest", "admin"] | None = None
    card_hint: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{4}$")] | None = None
    """The UID's last 4 hex digits (2 of its bytes), for enrolment and display."""
    timing: TapTiming | None = None


class AlarmEvent(Message):
    """A door alarm raised or cleared (forced open, held open, tamper, faults)."""

    KIND: ClassVar[str | None] = "alarm"
    kind: Literal["alarm"] = "alarm"
    alarm: ReasonCode
    active: bool
    detail: str = Field(default="", max_length=500)


class ModeEvent(Message):
    """A door's mode changed, and why."""

    KIND: ClassVar[str | None] = "mode"
    kind: Literal["mode"] = "mode"
    mode: DoorMode
    previous: DoorMode
    cause: Literal["command", "schedule", "first_person_in", "expiry", "restart"]
    detail: str = Field(default="", max_length=500)


class ExitEvent(Message):
    """The request-to-exit button unlocked the door."""

    KIND: ClassVar[str | None] = "exit"
    kind: Literal["exit"] = "exit"
    unlocked_s: float = Field(ge=0)


DoorEvent = AccessEvent | AlarmEvent | ModeEvent | ExitEvent


class DoorCommand(Message):
    """An operator's command to a door; never executed after ``expires_at``."""

    action: Literal["unlock", "lockdown", "normal", "hold_open", "resync"]
    duration_s: float | None = Field(default=None, gt=0, le=86_400)
    expires_at: UtcDatetime
    issued_by: str = Field(min_length=1, max_length=100)

    def expired(self, now: datetime) -> bool:
        """True when it is too late to carry the command out."""
        return now >= self.expires_at


class CommandResult(Message):
    """A door's answer to a :class:`DoorCommand`."""

    command_id: MessageId
    ok: bool
    reason: ReasonCode
    detail: str = Field(default="", max_length=500)


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TimeRange = Annotated[
    str,
    StringConstraints(
        pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]-(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"
    ),
]
"""``HH:MM-HH:MM`` in the site's local time, end after start (``24:00`` ends the day)."""


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def time_range_minutes(value: str) -> tuple[int, int]:
    """A :data:`TimeRange` as minutes after local midnight, ``(start, end)``."""
    start, end = value.split("-")
    return _minutes(start), _minutes(end)


class ScheduleSpec(Part):
    """A weekly schedule: time ranges per weekday, closed on the policy's holidays."""

    id: EntityId
    weekly: dict[Weekday, tuple[TimeRange, ...]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check_ranges(self) -> "ScheduleSpec":
        for day, ranges in self.weekly.items():
            for text in ranges:
                start, end = time_range_minutes(text)
                if end <= start:
                    raise ValueError(f"{day} {text}: the end must be after the start")
        return self


class AclPolicy(Part):
    """A door's rules besides the cards: schedules, tiers, holidays, open hours."""

    timezone: TimeZoneName = "UTC"
    schedules: tuple[ScheduleSpec, ...] = Field(default=(), max_length=256)
    holidays: tuple[date, ...] = Field(default=(), max_length=1000)
    tiers: dict[EntityId, EntityId | None] = Field(default_factory=dict, max_length=256)
    """Membership tiers admitted at this door, each with its schedule id (null: any time)."""
    open_schedule: EntityId | None = None
    """Hours the door is held open (unlocked), if any."""
    first_person_in: bool = False
    """With ``open_schedule``: stay locked until a member's granted tap starts it."""

    @model_validator(mode="after")
    def _check_references(self) -> "AclPolicy":
        known = {s.id for s in self.schedules}
        if len(known) != len(self.schedules):
            raise ValueError("schedule ids must be unique")
        wanted = {s for s in self.tiers.values() if s is not None}
        if self.open_schedule is not None:
            wanted.add(self.open_schedule)
        missing = sorted(wanted - known)
        if missing:
            raise ValueError(f"schedules {missing} are used but not defined")
        return self


class AclGrant(Part):
    """Access for a booking or an event window (the hub includes the lead time)."""

    start: UtcDatetime
    end: UtcDatetime
    reason: Literal["booking", "event"]

    @model_validator(mode="after")
    def _check_window(self) -> "AclGrant":
        if self.end <= self.start:
            raise ValueError("a grant must end after it starts")
        return self


class AclEntry(Part):
    """One credential in a door's list."""

    credential: CredentialHash
    member_id: EntityId
    role: Literal["member", "guest", "admin"] = "member"
    status: Literal["active", "suspended"] = "active"
    tier: EntityId | None = None
    """The member's tier; it must be in the policy's ``tiers``. None: no tier rule."""
    valid_from: UtcDatetime | None = None
    valid_until: UtcDatetime | None = None
    grants: tuple[AclGrant, ...] = Field(default=(), max_length=64)
    host_member_id: EntityId | None = None
    """A guest's host."""

    @model_serializer(mode="wrap")
    def _leave_out_defaults(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Lists run to 100,000 entries: fields at their default are left out."""
        data: dict[str, Any] = handler(self)
        return {
            key: value
            for key, value in data.items()
            if key not in _ENTRY_DEFAULTS or value != _ENTRY_DEFAULTS[key]
        }


_ENTRY_DEFAULTS: dict[str, Any] = {
    "role": "member", "status": "active", "tier": None, "valid_from": None,
    "valid_until": None, "grants": [], "host_member_id": None,
}  # fmt: skip


class AclSnapshot(Message):
    """A door's whole access list at one version."""

    door_id: EntityId
    version: int = Field(ge=0)
    policy: AclPolicy = Field(default_factory=AclPolicy)
    entries: tuple[AclEntry, ...] = ()


class AclDelta(Message):
    """The changes taking a door's list from ``from_version`` to ``to_version``."""

    door_id: EntityId
    from_version: int = Field(ge=0)
    to_version: int = Field(ge=1)
    policy: AclPolicy | None = None
    """When present, replaces the door's policy."""
    upserts: tuple[AclEntry, ...] = ()
    removes: tuple[CredentialHash, ...] = ()

    @model_validator(mode="after")
    def _check_versions(self) -> "AclDelta":
        if self.to_version <= self.from_version:
            raise ValueError("to_version must be greater than from_version")
        return self


# --- kiosk ----------------------------------------------------------------


class DirectoryEntry(Part):
    """Who a card belongs to, as far as a kiosk may know: a first name."""

    credential: CredentialHash
    member_id: EntityId
    first_name: FirstName
    host_first_name: FirstName | None = None
    """Set for a guest's day pass: the first name of the member who brought them."""


class KioskDirectory(Message):
    """A kiosk's cached directory: card hash to first name, nothing more."""

    kiosk_id: EntityId
    version: int = Field(ge=0)
    entries: tuple[DirectoryEntry, ...] = ()


Scalar = str | int | float | bool | None


class KioskRequest(Message):
    """Something a member asked for at a kiosk; answered by a :class:`KioskResponse`."""

    action: Literal["check_out", "signup", "cancel_signup", "guest", "booking", "today"]
    credential: CredentialHash
    params: dict[Annotated[str, StringConstraints(max_length=64)], Scalar] = Field(
        default_factory=dict, max_length=32
    )


class AgendaItem(Part):
    """One thing on a member's day: an event signup (or waitlist place) or a room booking."""

    kind: Literal["signup", "waitlist", "booking"]
    ref: EntityId
    """The event id (signup, waitlist) or the booking id."""
    title: DisplayName
    """The event's title or the room's name."""
    starts_at: UtcDatetime
    ends_at: UtcDatetime
    room_id: EntityId | None = None
    guests: int = Field(default=0, ge=0)
    position: int | None = Field(default=None, ge=1)
    """Place on the waitlist."""


class KioskResponse(Message):
    """The hub's answer to a kiosk request, correlated by ``request_id``."""

    request_id: MessageId
    ok: bool
    reason: ReasonCode
    data: dict[Annotated[str, StringConstraints(max_length=64)], Scalar] = Field(
        default_factory=dict, max_length=32
    )
    agenda: tuple[AgendaItem, ...] | None = Field(default=None, max_length=64)
    """The member's day (answer to ``today``, and after a change to it); None: not sent."""


# --- hub ------------------------------------------------------------------


class Fill(Part):
    """People present against capacity, and the level that shows."""

    count: int = Field(ge=0)
    capacity: int = Field(ge=0)
    level: Level


class ZoneFill(Fill):
    """Occupancy of one zone."""

    zone_id: EntityId
    name: DisplayName


class RoomFill(Fill):
    """Occupancy of one bookable room, and its bookings around now."""

    room_id: EntityId
    zone_id: EntityId
    name: DisplayName
    booked_until: UtcDatetime | None = None
    next_booking_at: UtcDatetime | None = None


class Occupancy(Message):
    """Counts only, for the whole site, each zone and each room; never names."""

    site: Fill
    open: bool | None = None
    """Whether the site is open to everyone now (a door held open); None: not known."""
    zones: tuple[ZoneFill, ...] = ()
    rooms: tuple[RoomFill, ...] = ()


class UpcomingEvent(Part):
    """An event members can still sign up for; no attendee names."""

    event_id: EntityId
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    starts_at: UtcDatetime
    ends_at: UtcDatetime
    zone_id: EntityId | None = None
    room_id: EntityId | None = None
    capacity: int = Field(ge=0)
    taken: int = Field(ge=0)
    waitlist: int = Field(default=0, ge=0)
    max_guests: int = Field(default=0, ge=0, le=20)
    """Colleagues from their own organisation a member may bring."""


class UpcomingEvents(Message):
    """The events coming up, with free seats."""

    events: tuple[UpcomingEvent, ...] = ()


# --- codec ----------------------------------------------------------------

M = TypeVar("M", bound=Message)

DEFAULT_MAX_BYTES = 64 * 1024
MAX_ERRORS_SHOWN = 5


class Codec(Generic[M]):
    """Encodes and decodes the payload of one kind of topic.

    A codec knows the models a topic may carry (told apart by their ``kind``
    field when there are several) and the largest payload it accepts.
    """

    def __init__(self, name: str, *models: type[M], max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        if not models:
            raise ValueError("a codec needs at least one model")
        self.name = name
        self.max_bytes = max_bytes
        self._models: dict[tuple[str | None, int], type[M]] = {
            (model.KIND, model.VERSION): model for model in models
        }
        self.models = tuple(models)

    def __repr__(self) -> str:
        return f"Codec({self.name!r})"

    def encode(self, message: M) -> bytes:
        """Serialise ``message``; refuses models this codec does not carry and oversize output."""
        if type(message) not in self.models:
            raise MessageError(f"{self.name}: cannot carry a {type(message).__name__}")
        data = message.model_dump_json().encode()
        if len(data) > self.max_bytes:
            raise MessageError(
                f"{self.name}: payload is {len(data)} bytes, over the limit of {self.max_bytes}"
            )
        return data

    def decode(self, data: bytes) -> M:
        """Parse and validate ``data``; any problem raises one :class:`MessageError`."""
        raw = self._load(data)
        model = self._pick_model(raw)
        try:
            return model.model_validate(raw)
        except ValidationError as err:
            raise MessageError(f"{self.name}: {_describe(err)}") from err

    def decode_in_parts(self, data: bytes, field: str) -> tuple[M, list[Any]]:
        """Decode all of ``data`` but the list ``field``, which comes back raw.

        For lists too long to hold as models at once (100,000 access-list
        entries): the message has ``field`` empty; validate the raw items in
        batches with :func:`validate_batches`.
        """
        raw = self._load(data)
        model = self._pick_model(raw)
        items = raw.pop(field, [])
        if not isinstance(items, list):
            raise MessageError(f"{self.name}: field '{field}' must be a list")
        try:
            return model.model_validate(raw), items
        except ValidationError as err:
            raise MessageError(f"{self.name}: {_describe(err)}") from err

    def _load(self, data: bytes) -> dict[str, Any]:
        if len(data) > self.max_bytes:
            raise MessageError(
                f"{self.name}: payload is {len(data)} bytes, over the limit of {self.max_bytes}"
            )
        try:
            raw = json.loads(data)
        except UnicodeDecodeError as err:
            raise MessageError(f"{self.name}: payload is not UTF-8 ({err.reason})") from err
        except RecursionError as err:
            raise MessageError(f"{self.name}: payload is nested too deeply") from err
        except json.JSONDecodeError as err:
            raise MessageError(
                f"{self.name}: payload is not JSON ({err.msg} at {err.pos})"
            ) from err
        if not isinstance(raw, dict):
            raise MessageError(f"{self.name}: expected a JSON object, got {type(raw).__name__}")
        return raw

    def _pick_model(self, raw: dict[str, Any]) -> type[M]:
        version = raw.get("v")
        if "v" not in raw:
            raise MessageError(f"{self.name}: missing the schema version field 'v'")
        if not isinstance(version, int) or isinstance(version, bool):
            raise MessageError(f"{self.name}: 'v' must be an integer, got {version!r}")
        for field in ("id", "ts"):  # defaults are for senders; a received message must carry them
            if field not in raw:
                raise MessageError(f"{self.name}: missing the envelope field '{field}'")
        kinds = {kind for kind, _ in self._models}
        kind = raw.get("kind") if kinds != {None} else None
        if kind not in kinds:
            expected = " or ".join(sorted(repr(k) for k in kinds if k))
            raise MessageError(f"{self.name}: field 'kind' must be {expected}, got {kind!r}")
        model = self._models.get((kind, version))
        if model is None:
            known = sorted(v for k, v in self._models if k == kind)
            raise MessageError(
                f"{self.name}: unsupported schema version {version} (this build reads {known})"
            )
        return model


P = TypeVar("P", bound=Part)


def validate_batches(
    name: str, field: str, model: type[P], items: list[Any], size: int = 2000
) -> Iterator[list[P]]:
    """Validate raw ``items`` (from :meth:`Codec.decode_in_parts`) ``size`` at a time.

    Each raw item is dropped from ``items`` once validated, so memory holds
    one batch of models at a time. A bad item raises :class:`MessageError`
    naming its index, like ``field 'entries.41.credential': ...``.
    """
    adapter = TypeAdapter(list[model])  # type: ignore[valid-type]
    for start in range(0, len(items), size):
        chunk = items[start : start + size]
        items[start : start + size] = [None] * len(chunk)
        try:
            batch: list[P] = adapter.validate_python(chunk)
        except ValidationError as err:
            raise MessageError(f"{name}: {_describe(err, (field,), start)}") from err
        del chunk
        yield batch


def _describe(err: ValidationError, prefix: tuple[str, ...] = (), offset: int = 0) -> str:
    errors: list[Any] = list(err.errors()[:MAX_ERRORS_SHOWN])
    if prefix:  # a batch of a list: the item's index within the whole list
        errors = [{**e, "loc": (*prefix, int(e["loc"][0]) + offset, *e["loc"][1:])} for e in errors]
    problems = [_describe_one(e) for e in errors]
    more = err.error_count() - len(problems)
    return "; ".join(problems) + (f"; and {more} more" if more > 0 else "")


def _describe_one(error: Any) -> str:
    loc = ".".join(str(part) for part in error["loc"])
    return f"field '{loc}': {error['msg']}" if loc else str(error["msg"])


AVAILABILITY = Codec("availability", Availability)
DOOR_STATE = Codec("door state", DoorState)
DOOR_TELEMETRY = Codec("door telemetry", DoorTelemetry)
DOOR_EVENT: Codec[DoorEvent] = Codec("door event", AccessEvent, AlarmEvent, ModeEvent, ExitEvent)
DOOR_COMMAND = Codec("door command", DoorCommand)
COMMAND_RESULT = Codec("command result", CommandResult)
ACL_SNAPSHOT = Codec("access list snapshot", AclSnapshot, max_bytes=32 * 1024 * 1024)
ACL_DELTA = Codec("access list delta", AclDelta, max_bytes=1024 * 1024)
KIOSK_DIRECTORY = Codec("kiosk directory", KioskDirectory, max_bytes=4 * 1024 * 1024)
KIOSK_REQUEST = Codec("kiosk request", KioskRequest)
KIOSK_RESPONSE = Codec("kiosk response", KioskResponse)
OCCUPANCY = Codec("occupancy", Occupancy, max_bytes=256 * 1024)
UPCOMING_EVENTS = Codec("upcoming events", UpcomingEvents, max_bytes=256 * 1024)
