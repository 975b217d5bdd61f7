"""Door-contact alarms: forced open and held open.

An opening is authorised while the lock is released and for a grace time
after (people are slow to push a door); any other opening is forced. A door
open longer than the held-open time raises an alarm unless the door is held
open on purpose. Both clear when the door closes.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class AlarmChange:
    """An alarm raised (``active``) or cleared."""

    alarm: str
    active: bool
    detail: str


class ContactWatch:
    """Follows the door contact; times are monotonic seconds."""

    def __init__(self, held_open_s: float, grace_s: float) -> None:
        self.held_open_s = held_open_s
        self.grace_s = grace_s
        self.is_open: bool | None = None  # unknown until the contact reports
        self.active: dict[str, str] = {}
        self._authorised_until = float("-inf")
        self._open_since: float | None = None

    def authorise(self, unlocked_until: float) -> None:
        """The lock is released until ``unlocked_until``: openings till then plus grace are fine."""
        self._authorised_until = max(self._authorised_until, unlocked_until + self.grace_s)

    def start(self, is_open: bool, now: float) -> None:
        """The contact's state at start-up: no alarm for an opening nobody saw."""
        self.is_open = is_open
        self._open_since = now if is_open else None

    def changed(self, is_open: bool, now: float, held: bool) -> list[AlarmChange]:
        """The contact reports ``is_open``; ``held``: the door is held open on purpose."""
        was_open, self.is_open = self.is_open, is_open
        if is_open and was_open is not True:
            self._open_since = now
            if not held and now > self._authorised_until:
                return self._raise("forced_open", "door opened while locked")
            return []
        if not is_open:
            self._open_since = None
            return self._clear_all("door closed")
        return []

    def tick(self, now: float, held: bool) -> list[AlarmChange]:
        """Raise held-open when it is due."""
        if self._open_since is None:
            return []
        if held:
            self._open_since = now  # the held-open time counts from the end of the hold
            return []
        if now - self._open_since > self.held_open_s and "held_open" not in self.active:
            return self._raise("held_open", f"door open for over {self.held_open_s:g} s")
        return []

    def _raise(self, alarm: str, detail: str) -> list[AlarmChange]:
        self.active[alarm] = detail
        return [AlarmChange(alarm, True, detail)]

    def _clear_all(self, detail: str) -> list[AlarmChange]:
        cleared = [AlarmChange(alarm, False, detail) for alarm in self.active]
        self.active.clear()
        return cleared
