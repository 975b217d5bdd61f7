"""What the hub server hears on the bus, handed to the ingest queue."""

from hub_server.ingest import Inbound, Ingest
from hublink.link import Delivery, Link
from hublink.messages import Message
from hublink.topics import ANY


def attach(link: Link, ingest: Ingest) -> None:
    """Subscribe ``link`` to everything doors and kiosks send that the hub stores."""
    topics = link.topics

    def door(delivery: Delivery[Message]) -> None:
        ingest.put(Inbound("door", delivery.ids["door_id"], delivery.message))

    def kiosk(delivery: Delivery[Message]) -> None:
        ingest.put(Inbound("kiosk", delivery.ids["kiosk_id"], delivery.message))

    link.subscribe(topics.door_event(ANY), door, dedupe=True)
    link.subscribe(topics.door_command_result(ANY), door, dedupe=True)
    link.subscribe(topics.door_state(ANY), door)
    link.subscribe(topics.door_availability(ANY), door)
    link.subscribe(topics.door_telemetry(ANY), door)
    link.subscribe(topics.kiosk_request(ANY), kiosk, dedupe=True)
