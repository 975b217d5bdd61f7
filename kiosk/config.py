"""Configuration of a kiosk (``kiosk.toml``)."""

from pydantic import Field

from hublink.config import Section, ServiceConfig
from hublink.messages import EntityId


class KioskSection(Section):
    """Which kiosk this is."""

    id: EntityId = Field(description="Kiosk id, as registered on the hub.")


class KioskConfig(ServiceConfig):
    """Everything ``hubtap-kiosk`` reads."""

    kiosk: KioskSection
