"""Configuration of the hub server (``hub.toml``)."""

import re
from pathlib import Path

from pydantic import Field, field_validator, model_validator

from hublink.config import Section, ServiceConfig
from hublink.messages import WEEKDAYS, EntityId, ScheduleSpec, TimeRange, TimeZoneName, Weekday

_CLOCK = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


class HubSection(Section):
    """The site as the hub sees it."""

    timezone: TimeZoneName = Field(
        default="UTC",
        description="The site's time zone (IANA name, e.g. Europe/Stockholm): schedules, "
        "closing time and the day's boundaries are local to it.",
    )


class PresenceSection(Section):
    """How taps become presence."""

    closing_time: str | None = Field(
        default="23:00",
        description="Local time (HH:MM) at which everyone still checked in is checked out; "
        "empty to turn it off.",
    )
    max_stay_h: float = Field(
        default=14.0,
        gt=0,
        le=168,
        description="A presence longer than this many hours ends automatically.",
    )

    @field_validator("closing_time", mode="before")
    @classmethod
    def _check_clock(cls, value: object) -> object:
        if value == "":
            return None
        if isinstance(value, str) and not _CLOCK.match(value):
            raise ValueError(f"{value!r} is not a time of day as HH:MM")
        return value


class OccupancySection(Section):
    """When a zone counts as filling up (amber) or full (red)."""

    amber_at: float = Field(
        default=0.7, gt=0, le=1, description="Share of capacity from which a zone shows amber."
    )
    red_at: float = Field(
        default=0.9, gt=0, le=1, description="Share of capacity from which a zone shows red."
    )

    @model_validator(mode="after")
    def _check_order(self) -> "OccupancySection":
        if self.red_at < self.amber_at:
            raise ValueError("red_at must not be below amber_at")
        return self


class HttpSection(Section):
    """The HTTP server: the dashboard and the API."""

    host: str = Field(default="127.0.0.1", description="Address the HTTP server binds.")
    port: int = Field(default=8080, ge=1, le=65535, description="Port of the HTTP server.")
    enabled: bool = Field(default=True, description="Serve HTTP at all.")


class ListsSection(Section):
    """How access lists reach the doors."""

    poll_interval_s: float = Field(
        default=0.05,
        gt=0,
        le=10,
        description="How often the server looks for changes made by other processes "
        "(a hubtap command beside it).",
    )
    snapshot_interval_s: float = Field(
        default=1.0,
        ge=0,
        le=60,
        description="Deltas go out at once; the retained whole list is republished at most "
        "this often per door.",
    )


class DashboardSection(Section):
    """Operator accounts on the web dashboard: sessions and lockout."""

    session_idle_min: float = Field(
        default=480,
        gt=0,
        le=10080,
        description="A dashboard session ends after this many minutes without a request "
        "(an open overview page does not count).",
    )
    session_max_h: float = Field(
        default=12, gt=0, le=720, description="A session ends this many hours after login."
    )
    lockout_after: int = Field(
        default=5,
        ge=1,
        le=100,
        description="Wrong passwords in a row for one username before it is locked out.",
    )
    lockout_min: float = Field(
        default=15, gt=0, le=1440, description="How long a locked-out username stays locked."
    )
    secure_cookies: bool = Field(
        default=False,
        description="Mark the session cookie Secure (only sent over HTTPS); turn on when the "
        "dashboard is served through a TLS proxy.",
    )


def _office_hours() -> dict[Weekday, tuple[str, ...]]:
    return {day: ("08:00-17:00",) for day in WEEKDAYS[:5]}


class CommunitySection(Section):
    """Events, room bookings and guest passes."""

    office_hours: dict[Weekday, tuple[TimeRange, ...]] = Field(
        default_factory=_office_hours,
        description="When a room costs its hourly rate (local time, per weekday; holidays "
        "are out of hours); other times cost its out-of-hours rate.",
    )
    access_lead_min: int = Field(
        default=15,
        ge=0,
        le=240,
        description="Signed-up members, their guests and a room's booker may open the "
        "event's or room's doors this many minutes before it starts.",
    )
    checkin_before_min: int = Field(
        default=30,
        ge=0,
        le=240,
        description="A tap at the event's room or at a kiosk marks attendance from this many "
        "minutes before the event starts until it ends.",
    )
    booking_step_min: int = Field(
        default=15,
        ge=1,
        le=60,
        description="Bookings last a whole number of these minutes.",
    )
    booking_max_h: float = Field(
        default=8, gt=0, le=24, description="The longest one booking may be, in hours."
    )
    booking_grace_min: int = Field(
        default=5,
        ge=0,
        le=60,
        description="A booking may start this many minutes in the past (a kiosk's "
        "'book now' on its way); earlier is refused as too late.",
    )
    upcoming_days: int = Field(
        default=7,
        ge=1,
        le=60,
        description="Events starting within this many days are published to the kiosks.",
    )
    notify_command: tuple[str, ...] = Field(
        default=(),
        description="A program (argv list) run for each notification (a waitlist "
        "promotion, a cancelled event) with the notification as JSON on its standard "
        "input; exit status 0 marks it delivered. Empty: notifications are kept, not sent.",
    )

    @field_validator("office_hours")
    @classmethod
    def _check_office_hours(
        cls, value: dict[Weekday, tuple[str, ...]]
    ) -> dict[Weekday, tuple[str, ...]]:
        ScheduleSpec(id="office-hours", weekly=value)  # each range must end after it starts
        return value

    def office_schedule(self) -> ScheduleSpec:
        """The office hours as a weekly schedule (rates: inside costs the hourly rate)."""
        return ScheduleSpec(id="office-hours", weekly=self.office_hours)


class SpaceContact(Section):
    """How the public reaches the space (SpaceAPI ``contact``); all optional."""

    email: str | None = Field(default=None, max_length=200, description="Contact e-mail.")
    phone: str | None = Field(
        default=None, max_length=50, description="Phone number with country code (+46 …)."
    )
    matrix: str | None = Field(default=None, max_length=200, description="Matrix room.")
    mastodon: str | None = Field(default=None, max_length=200, description="Mastodon account.")
    ml: str | None = Field(default=None, max_length=200, description="Mailing list address.")


class SpaceLocation(Section):
    """Where the space is (SpaceAPI ``location``)."""

    address: str | None = Field(
        default=None, max_length=500, description="Postal address, with the country."
    )
    lat: float | None = Field(default=None, ge=-90, le=90, description="Latitude in degrees.")
    lon: float | None = Field(default=None, ge=-180, le=180, description="Longitude in degrees.")
    country_code: str | None = Field(
        default=None, pattern=r"^[A-Z]{2}$", description="ISO 3166 alpha-2 country code (SE)."
    )
    hint: str | None = Field(default=None, max_length=500, description="How to find the entrance.")

    @model_validator(mode="after")
    def _check_coordinates(self) -> "SpaceLocation":
        if (self.lat is None) != (self.lon is None):
            raise ValueError("give both lat and lon, or neither")
        return self


class SpaceApiSection(Section):
    """The public SpaceAPI document (``/spaceapi.json``): who the space is and where."""

    enabled: bool = Field(default=True, description="Serve /spaceapi.json.")
    space: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="The space's public name; the site id when not set.",
    )
    logo: str | None = Field(
        default=None,
        max_length=500,
        description="URL of the space's logo; the hub's own icon when not set.",
    )
    url: str | None = Field(
        default=None,
        max_length=500,
        description="URL of the space's website; the hub's address when not set.",
    )
    contact: SpaceContact = Field(default_factory=SpaceContact)
    location: SpaceLocation = Field(default_factory=SpaceLocation)
    areas: dict[EntityId, float] = Field(
        default_factory=dict,
        description="Zone id → floor area in square metres, for location.areas.",
    )
    cache_s: float = Field(
        default=10,
        ge=0,
        le=3600,
        description="How long a built document is served again (and browsers may cache it).",
    )

    @field_validator("areas")
    @classmethod
    def _check_areas(cls, value: dict[str, float]) -> dict[str, float]:
        for zone_id, area in value.items():
            if not 0 < area <= 1_000_000:
                raise ValueError(f"area of {zone_id!r} must be above 0 and at most 1000000 m²")
        return value


class HomeAssistantSection(Section):
    """Home Assistant MQTT discovery: zones, doors and rooms as entities."""

    enabled: bool = Field(default=True, description="Publish discovery configs.")
    prefix: str = Field(
        default="homeassistant",
        pattern=r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$",
        description="Home Assistant's discovery prefix.",
    )
    status_topic: str = Field(
        default="homeassistant/status",
        pattern=r"^[^#+]+$",
        description="Where Home Assistant announces online; the configs are published again then.",
    )
    unlock_s: float = Field(
        default=5,
        gt=0,
        le=3600,
        description="How long an unlock from Home Assistant keeps the door unlocked.",
    )


class RetentionSection(Section):
    """How long personal records are kept; older ones are deleted on a schedule."""

    access_days: int = Field(
        default=180,
        ge=1,
        le=3650,
        description="Access events and presence stays older than this many days are folded "
        "into anonymous hourly counts and deleted.",
    )
    audit_days: int = Field(
        default=730,
        ge=1,
        le=3650,
        description="Audit log entries older than this many days are deleted.",
    )
    interval_h: float = Field(
        default=6,
        gt=0,
        le=168,
        description="How often the retention job runs (it also runs at start).",
    )


class HubConfig(ServiceConfig):
    """Everything ``hubtap server`` and the admin commands read."""

    data_dir: Path = Field(
        default=Path("/var/lib/hubtap/hub"), description="Folder for the hub's own files."
    )
    hub: HubSection = Field(default_factory=HubSection)
    presence: PresenceSection = Field(default_factory=PresenceSection)
    occupancy: OccupancySection = Field(default_factory=OccupancySection)
    http: HttpSection = Field(default_factory=HttpSection)
    lists: ListsSection = Field(default_factory=ListsSection)
    dashboard: DashboardSection = Field(default_factory=DashboardSection)
    community: CommunitySection = Field(default_factory=CommunitySection)
    spaceapi: SpaceApiSection = Field(default_factory=SpaceApiSection)
    home_assistant: HomeAssistantSection = Field(default_factory=HomeAssistantSection)
    retention: RetentionSection = Field(default_factory=RetentionSection)
