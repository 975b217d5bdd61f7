"""Which doors, kiosks and hub are online, as their availability topics say."""

import threading
from collections.abc import Callable
from dataclasses import dataclass

from hublink.link import Delivery, Link
from hublink.messages import Availability
from hublink.topics import ANY


@dataclass(frozen=True)
class Device:
    """A device as named on the bus: ``door``/``kiosk``/``hub`` and its id."""

    kind: str
    id: str


ChangeHandler = Callable[[Device, str], None]


class AvailabilityBoard:
    """Follows every availability topic of a site and remembers the latest status."""

    def __init__(self, on_change: ChangeHandler | None = None) -> None:
        self._status: dict[Device, str] = {}
        self._lock = threading.Lock()
        self._on_change = on_change

    def attach(self, link: Link) -> None:
        """Subscribe on ``link`` to door, kiosk and hub availability."""
        topics = link.topics
        link.subscribe(topics.door_availability(ANY), self._receive)
        link.subscribe(topics.kiosk_availability(ANY), self._receive)
        link.subscribe(topics.hub_availability(), self._receive)

    def _receive(self, delivery: Delivery[Availability]) -> None:
        device = Device(delivery.spec.sender, next(iter(delivery.ids.values()), "hub"))
        status = delivery.message.status
        with self._lock:
            changed = self._status.get(device) != status
            self._status[device] = status
        if changed and self._on_change is not None:
            self._on_change(device, status)

    def status(self) -> dict[Device, str]:
        """A copy of the latest status of every device heard from."""
        with self._lock:
            return dict(self._status)
