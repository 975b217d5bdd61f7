"""Configuration of a door controller (``door.toml``)."""

from pathlib import Path

from pydantic import Field

from hardware.config import DoorHardwareConfig
from hublink.config import Section, ServiceConfig
from hublink.messages import EntityId


class DoorSection(Section):
    """Which door this controller drives."""

    id: EntityId = Field(description="Door id, as registered on the hub.")


class DoorConfig(ServiceConfig, DoorHardwareConfig):
    """Everything ``hubtap-door`` reads: service keys plus the door's hardware."""

    data_dir: Path = Field(
        default=Path("/var/lib/hubtap/door"), description="Folder for the door's own files."
    )

    door: DoorSection
