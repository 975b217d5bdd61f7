"""The door's local loop: taps, the exit button and the door contact.

Until the door holds an access list (the door-controller work), every
card is denied, fail secure; the request-to-exit button needs no list and
unlocks for ``[lock] unlock_s``.
"""

import logging

from hardware.build import DoorHardware
from hardware.signals import Signal
from hardware.taps import CardTap

log = logging.getLogger(__name__)


def masked(tap: CardTap) -> str:
    """A card as logs may show it: kind and the last four hex digits only."""
    return f"{tap.kind} …{tap.uid_hex[-4:]}"


class DoorController:
    """Wires the door's hardware events to the lock and the feedback."""

    def __init__(self, hardware: DoorHardware) -> None:
        self.hardware = hardware
        self.denied = 0
        self.exits = 0

    def start(self) -> None:
        """Start reacting to taps, the exit button and the door contact."""
        hw = self.hardware
        if hw.exit_button is not None:
            hw.exit_button.on_press(self.on_exit_pressed)
        if hw.door_contact is not None:
            hw.door_contact.on_change(self.on_contact)
        hw.reader.start(self.on_tap)

    def on_tap(self, tap: CardTap) -> None:
        """No access list yet: deny, and say so at the reader."""
        self.denied += 1
        self.hardware.feedback.show(Signal.DENIED)
        log.info("card %s at reader %s denied: no access list", masked(tap), tap.reader_id)

    def on_exit_pressed(self) -> None:
        """Request to exit: unlock for the configured time."""
        self.exits += 1
        granted = self.hardware.lock.unlock_for(self.hardware.config.lock.unlock_s)
        log.info("exit button: unlocked for %.1f s", granted)

    def on_contact(self, is_open: bool) -> None:
        """Log the door opening and closing."""
        log.info("door %s", "opened" if is_open else "closed")
