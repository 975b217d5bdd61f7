"""Configuration of a kiosk (``kiosk.toml``)."""

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from hardware.config import ReaderConfig
from hublink.config import Section, ServiceConfig
from hublink.messages import EntityId, TimeZoneName

Language = Literal["en", "sv", "nb"]
"""Languages the kiosk ships: English, Swedish and Norwegian (bokmål)."""


class KioskSection(Section):
    """Which kiosk this is, what it follows and how it behaves."""

    id: EntityId = Field(description="Kiosk id, as registered on the hub (hubtap kiosks add).")
    title: str = Field(
        default="hubtap",
        min_length=1,
        max_length=40,
        description="Name shown at the top of the screen (the hub's name).",
    )
    door_id: EntityId | None = Field(
        default=None,
        description="Entrance door whose taps the kiosk greets; empty: only its own reader.",
    )
    language: Language = Field(
        default="en", description="Language of the screen: 'en', 'sv' or 'nb'."
    )
    timezone: TimeZoneName = Field(
        default="UTC", description="The site's time zone (IANA name): the clock and event times."
    )
    badge_s: float = Field(
        default=10.0, ge=2, le=120, description="Seconds a greeting stays without a touch."
    )
    flow_timeout_s: float = Field(
        default=30.0,
        ge=5,
        le=600,
        description="Seconds without a touch after which a sign-up, guest or booking is "
        "abandoned and the idle screen returns.",
    )
    result_s: float = Field(
        default=6.0, ge=1, le=60, description="Seconds the answer to an action stays on screen."
    )
    tap_max_age_s: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="A door tap older than this (sent late after an outage) greets nobody.",
    )


class DisplaySection(Section):
    """The touchscreen."""

    fullscreen: bool = Field(
        default=True, description="Fill the screen with no window frame (kiosk mode)."
    )
    width: int = Field(default=800, ge=320, le=7680, description="Window width when windowed.")
    height: int = Field(default=480, ge=240, le=4320, description="Window height when windowed.")
    show_cursor: bool = Field(default=False, description="Show the mouse pointer.")
    max_fps: int = Field(
        default=30, ge=1, le=120, description="Frames per second at most (lower saves CPU)."
    )
    rotation: Literal[0, 90, 180, 270] = Field(
        default=0,
        description="Turn the picture and the touches by this many degrees (a landscape "
        "panel mounted portrait: 90 or 270).",
    )


class KioskConfig(ServiceConfig):
    """Everything ``hubtap-kiosk`` reads."""

    data_dir: Path = Field(
        default=Path("/var/lib/hubtap/kiosk"), description="Folder for the kiosk's own files."
    )

    kiosk: KioskSection
    display: DisplaySection = Field(default_factory=DisplaySection)
    reader: ReaderConfig | None = Field(
        default=None, description="The kiosk's own card reader, if it has one."
    )

    @model_validator(mode="after")
    def _reader_needs_site_key(self) -> "KioskConfig":
        if self.reader is not None and self.site.key is None:
            raise ValueError(
                "[site] key is required when the kiosk has a [reader] (card UIDs are hashed "
                "with it); set it in the file or in HUBTAP_SITE__KEY"
            )
        return self
