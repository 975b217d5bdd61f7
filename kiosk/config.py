"""Configuration of a kiosk (``kiosk.toml``)."""

from pathlib import Path

from pydantic import Field

from hublink.config import Section, ServiceConfig
from hublink.messages import EntityId


class KioskSection(Section):
    """Which kiosk this is."""

    id: EntityId = Field(description="Kiosk id, as registered on the hub.")


class KioskConfig(ServiceConfig):
    """Everything ``hubtap-kiosk`` reads."""

    data_dir: Path = Field(
        default=Path("/var/lib/hubtap/kiosk"), description="Folder for the kiosk's own files."
    )

    kiosk: KioskSection
