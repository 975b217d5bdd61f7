"""What the kiosk hears on the bus, and where each message goes.

- its directory, the occupancy and the upcoming events (retained) feed :class:`Feeds`;
- the hub's availability says whether the hub is there;
- the hub's answers to this kiosk's requests go to the model;
- access decisions at the door it follows greet whoever tapped, unless the
  event is old (a door sending its backlog after an outage greets nobody).
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from hublink.errors import LinkError, OutboxError
from hublink.link import Delivery, Link, Payload
from hublink.messages import AccessEvent, Availability, KioskRequest, KioskResponse, Message
from kiosk.errors import KioskError
from kiosk.feeds import Feeds
from kiosk.model import KioskModel

log = logging.getLogger(__name__)


@dataclass
class BusStats:
    """Counters for logs and tests."""

    taps: int = 0
    stale_taps: int = 0


class LinkSender:
    """Sends the model's requests through the link's durable outbox."""

    def __init__(self, link: Link, kiosk_id: str) -> None:
        self.link = link
        self.topic = link.topics.kiosk_request(kiosk_id)

    def send(self, request: KioskRequest) -> None:
        """Store ``request`` in the outbox; :class:`KioskError` when it cannot be."""
        try:
            self.link.publish(self.topic, request)
        except (OutboxError, LinkError) as err:
            raise KioskError(f"cannot queue the request: {err}") from err


def attach(
    link: Link,
    kiosk_id: str,
    door_id: str | None,
    feeds: Feeds,
    model: KioskModel,
    *,
    tap_max_age_s: float,
    clock: Callable[[], datetime],
) -> BusStats:
    """Subscribe ``link`` to everything the kiosk shows; the counters of what came."""
    topics = link.topics
    stats = BusStats()
    max_age = timedelta(seconds=tap_max_age_s)

    def payload(handler: Callable[[bytes], None]) -> Callable[[Payload], None]:
        return lambda received: handler(received.data)

    link.subscribe_payload(topics.kiosk_directory(kiosk_id), payload(feeds.directory_payload))
    link.subscribe_payload(topics.occupancy(), payload(feeds.occupancy_payload))
    link.subscribe_payload(topics.events_upcoming(), payload(feeds.events_payload))

    def hub(delivery: Delivery[Availability]) -> None:
        feeds.hub_status(delivery.message.status == "online")

    def answer(delivery: Delivery[KioskResponse]) -> None:
        model.answer(delivery.message)

    link.subscribe(topics.hub_availability(), hub)
    link.subscribe(topics.kiosk_response(kiosk_id), answer, dedupe=True)

    if door_id is not None:

        def door_event(delivery: Delivery[Message]) -> None:
            event = delivery.message
            if not isinstance(event, AccessEvent):
                return
            if clock() - event.ts > max_age:
                stats.stale_taps += 1
                log.debug("not greeting a tap from %s (sent late)", event.ts.isoformat())
                return
            stats.taps += 1
            model.tap(event.credential, granted=event.granted, reason=event.reason)

        link.subscribe(topics.door_event(door_id), door_event, dedupe=True)
    return stats
