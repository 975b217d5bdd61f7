"""The hub server process: its link to the broker and what hangs off it."""

import logging

from hub_server.availability import AvailabilityBoard, Device
from hub_server.config import HubConfig
from hublink.link import Link
from hublink.runtime import serve, setup_logging, stop_event_on_signals
from hublink.topics import Topics

log = logging.getLogger(__name__)

HUB_CLIENT_ID = "hubtap-hub"


def hub_link(config: HubConfig) -> Link:
    """The hub's link, with a persistent session: the broker queues QoS 1 while it is away."""
    topics = Topics(config.site.id)
    return Link(
        config.mqtt,
        topics,
        client_id=HUB_CLIENT_ID,
        availability_topic=topics.hub_availability(),
        clean_session=False,
    )


def run_server(config: HubConfig) -> None:
    """Run the hub server until SIGINT or SIGTERM."""
    setup_logging(config.log_level)
    link = hub_link(config)
    AvailabilityBoard(on_change=_log_change).attach(link)
    serve(link, stop_event_on_signals())


def _log_change(device: Device, status: str) -> None:
    log.info("%s %s is %s", device.kind, device.id, status)
