"""Configuration of a door controller (``door.toml``)."""

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from hardware.config import DoorHardwareConfig
from hublink.config import Section, ServiceConfig
from hublink.messages import EntityId


class DoorSection(Section):
    """Which door this controller drives, and how it behaves on its own."""

    id: EntityId = Field(description="Door id, as registered on the hub.")
    held_open_s: float = Field(
        default=30.0, gt=0, le=3600, description="Open longer than this raises a held-open alarm."
    )
    open_grace_s: float = Field(
        default=3.0,
        ge=0,
        le=60,
        description="An opening this long after an unlock ended is not a forced-open alarm.",
    )
    stale_after_h: float = Field(
        default=24.0, gt=0, description="Hours without a sync after which the list is stale."
    )
    offline_policy: Literal["keep", "admin_only"] = Field(
        default="keep",
        description="With a stale list: 'keep' deciding on it, or admit only admin cards.",
    )
    denied_taps: int = Field(
        default=5, ge=1, description="Denied taps at one reader that throttle it ..."
    )
    denied_window_s: float = Field(default=30.0, gt=0, description="... within these seconds ...")
    denied_cooldown_s: float = Field(
        default=30.0, ge=0, description="... for these seconds (admin cards still pass)."
    )
    telemetry_interval_s: float = Field(
        default=60.0, ge=1, description="Seconds between telemetry messages."
    )


class DoorConfig(ServiceConfig, DoorHardwareConfig):
    """Everything ``hubtap-door`` reads: service keys plus the door's hardware."""

    data_dir: Path = Field(
        default=Path("/var/lib/hubtap/door"), description="Folder for the door's own files."
    )

    door: DoorSection

    @model_validator(mode="after")
    def _needs_site_key(self) -> "DoorConfig":
        if self.site.key is None:
            raise ValueError(
                "[site] key is required on a door (card UIDs are hashed with it); "
                "set it in the file or in HUBTAP_SITE__KEY"
            )
        return self
