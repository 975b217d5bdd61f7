"""What the hub's services take and return: validated input and plain records.

Input models check every field and say which one is wrong (as
:class:`~hub_server.errors.Invalid`); the CLI, the HTTP API and the
dashboard all build the same models, so a rule holds on every surface.
"""

import re
import unicodedata
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from hub_server.errors import Invalid
from hublink.messages import ENTITY_ID_PATTERN, UtcDatetime

EntityId = Annotated[str, StringConstraints(strip_whitespace=True, pattern=ENTITY_ID_PATTERN)]
MemberStatus = Literal["active", "suspended", "inactive"]
MemberRole = Literal["member", "admin"]
Direction = Literal["in", "out", "toggle", "zone"]
CredentialKind = Literal["card", "fob", "sticker", "wristband", "phone", "other"]
Source = Literal["kiosk", "dashboard", "api", "cli"]
"""Where a sign-up, booking or guest pass was made."""

_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")


MAX_NAME = 80
MAX_RATE_CENTS = 100_000_000
"""The highest hourly rate a room may have (a bound, so no rate overflows SQLite's integers)."""


def one_line(value: str, limit: int) -> str:
    """A name or title tidied: NFC, single spaces, not empty, at most ``limit`` characters,
    no control characters (``ValueError`` says which rule it breaks)."""
    value = unicodedata.normalize("NFC", " ".join(value.split()))
    if not value:
        raise ValueError("must not be empty")
    if len(value) > limit:
        raise ValueError(f"is longer than {limit} characters")
    if any(unicodedata.category(ch).startswith("C") for ch in value):
        raise ValueError("contains control characters")
    return value


def _clean_name(value: str) -> str:
    return one_line(value, MAX_NAME)


_FOLDS = str.maketrans({"ø": "o", "æ": "ae", "ß": "ss", "đ": "d", "ł": "l", "þ": "th"})


def fold(text: str) -> str:
    """Text for searching: case and accents ignored (``Åsa Øberg`` -> ``asa oberg``)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_FOLDS))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _clean_email(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if len(value) > 254 or not _EMAIL.fullmatch(value):
        raise ValueError(f"{value!r} is not an email address")
    return value


Name = Annotated[str, AfterValidator(_clean_name)]
Email = Annotated[str | None, AfterValidator(_clean_email)]


class Input(BaseModel):
    """Base of every input model: unknown fields are errors, strings are trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


M = TypeVar("M", bound=BaseModel)


def build(model: type[M], **values: Any) -> M:
    """Validate ``values`` as ``model``; the first problem becomes :class:`Invalid`."""
    try:
        return model.model_validate(values)
    except ValidationError as err:
        first = err.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or model.__name__
        message = str(first["msg"]).removeprefix("Value error, ")
        more = err.error_count() - 1
        raise Invalid(field, message + (f" (and {more} more)" if more else "")) from err


class OrganisationIn(Input):
    """A new organisation."""

    name: Name
    id: EntityId | None = None


class MemberIn(Input):
    """A new member."""

    first_name: Name
    last_name: Name
    email: Email = None
    organisation: str | None = Field(default=None, description="organisation id or name")
    tier: EntityId = "member"
    role: MemberRole = "member"
    status: MemberStatus = "active"
    valid_from: UtcDatetime | None = None
    valid_until: UtcDatetime | None = None
    id: EntityId | None = None

    @field_validator("valid_until")
    @classmethod
    def _check_window(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        start = info.data.get("valid_from")
        if value is not None and start is not None and value <= start:
            raise ValueError("must be after valid_from")
        return value


class MemberChange(Input):
    """Fields of a member to change; those left out stay as they are."""

    first_name: Name | None = None
    last_name: Name | None = None
    email: Email = None
    organisation: str | None = None
    tier: EntityId | None = None
    role: MemberRole | None = None
    status: MemberStatus | None = None
    valid_from: UtcDatetime | None = None
    valid_until: UtcDatetime | None = None


class CardIn(Input):
    """A card to attach to a member, by its UID (hex, as readers print it)."""

    member_id: EntityId
    uid: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    kind: CredentialKind = "card"
    label: Annotated[str, StringConstraints(max_length=80)] = ""


class ZoneIn(Input):
    """A zone of the site."""

    id: EntityId
    name: Name
    capacity: int = Field(ge=0, le=100_000)


class RoomIn(Input):
    """A bookable room."""

    id: EntityId
    name: Name
    zone_id: EntityId | None = None
    capacity: int = Field(ge=0, le=10_000)
    hourly_rate_cents: int = Field(default=0, ge=0, le=MAX_RATE_CENTS)
    out_of_hours_rate_cents: int | None = Field(default=None, ge=0, le=MAX_RATE_CENTS)


class DoorIn(Input):
    """A door (or a zone reader) and what a granted tap there means for presence."""

    id: EntityId
    name: Name
    direction: Direction = "in"
    zone_id: EntityId | None = None
    room_id: EntityId | None = None
    group: EntityId = "default"


class KioskIn(Input):
    """An entrance kiosk, under the id in its ``kiosk.toml``."""

    id: EntityId
    name: Name


class Organisation(BaseModel):
    """An organisation as stored."""

    id: str
    name: str
    members: int = 0


class Member(BaseModel):
    """A member as stored (never published: surnames and emails stay on the hub)."""

    id: str
    first_name: str
    last_name: str
    email: str | None
    organisation_id: str | None
    organisation: str | None
    tier: str
    role: MemberRole
    status: MemberStatus
    valid_from: datetime | None
    valid_until: datetime | None
    created_at: datetime
    updated_at: datetime


class Card(BaseModel):
    """A credential as stored: its hash and the last 4 hex digits of the UID."""

    id: int
    member_id: str
    hint: str
    hash: str
    kind: str
    label: str
    status: Literal["active", "revoked"]
    issued_at: datetime
    revoked_at: datetime | None


class Zone(BaseModel):
    """A zone as stored."""

    id: str
    name: str
    capacity: int


class Room(BaseModel):
    """A room as stored."""

    id: str
    name: str
    zone_id: str | None
    capacity: int
    hourly_rate_cents: int
    out_of_hours_rate_cents: int | None


class Door(BaseModel):
    """A door as stored, with what it last said about itself."""

    id: str
    name: str
    direction: Direction
    zone_id: str | None
    room_id: str | None
    group: str
    online: bool | None = None
    lock: str | None = None
    contact: str | None = None
    mode: str | None = None
    acl_version: int | None = None
    last_sync: datetime | None = None
    alarms: list[str] = Field(default_factory=list)
    list_version: int | None = None


class Kiosk(BaseModel):
    """A kiosk as stored, with the directory last published to it."""

    id: str
    name: str
    created_at: datetime
    directory_version: int | None = None
    directory_entries: int | None = None
    published_at: datetime | None = None
