"""Configuration of the hub server (``hub.toml``)."""

from pathlib import Path

from pydantic import Field

from hublink.config import ServiceConfig


class HubConfig(ServiceConfig):
    """Everything ``hubtap server`` reads."""

    data_dir: Path = Field(
        default=Path("/var/lib/hubtap/hub"), description="Folder for the hub's own files."
    )
