"""Which mode a door is in: an operator's override, else its open schedule.

Lockdown and hold-open come from commands and are kept across restarts;
a timed hold-open ends by itself. Outside any override the list's open
schedule holds the door open during its hours, and with "first person in"
only once a member's tap has started it that day.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from door.decision import Mode
from door.policy import DoorPolicy


@dataclass(frozen=True)
class Override:
    """A mode an operator set, until ``until`` (None: until told otherwise)."""

    mode: Literal[Mode.LOCKDOWN, Mode.HOLD_OPEN]
    until: datetime | None = None
    by: str = ""


class ModeKeeper:
    """Works out the door's mode at a given time."""

    def __init__(self, saved: dict[str, Any] | None = None) -> None:
        self.override: Override | None = None
        self.first_in_day: str | None = None  # local date the first person in started it
        if saved:
            self._restore(saved)

    def saved(self) -> dict[str, Any]:
        """What to keep across a restart."""
        override = self.override
        return {
            "override": None
            if override is None
            else {
                "mode": override.mode.value,
                "until": override.until.isoformat() if override.until else None,
                "by": override.by,
            },
            "first_in_day": self.first_in_day,
        }

    def _restore(self, saved: dict[str, Any]) -> None:
        override = saved.get("override")
        if override:
            until = override.get("until")
            self.override = Override(
                Mode(override["mode"]),  # type: ignore[arg-type]
                datetime.fromisoformat(until) if until else None,
                override.get("by", ""),
            )
        self.first_in_day = saved.get("first_in_day")

    def set_override(self, override: Override | None) -> None:
        """Lockdown, hold open, or (None) back to the schedule."""
        self.override = override

    def expire(self, now: datetime) -> bool:
        """End a timed hold-open that is over; True if one ended."""
        override = self.override
        if override is not None and override.until is not None and now >= override.until:
            self.override = None
            return True
        return False

    def mode(self, now: datetime, policy: DoorPolicy) -> Mode:
        """The mode at ``now``."""
        if self.override is not None and (self.override.until is None or now < self.override.until):
            return self.override.mode
        schedule = policy.open_schedule
        if schedule is None or schedule.check(now) is not None:
            return Mode.NORMAL
        if policy.first_person_in and self.first_in_day != schedule.local_date(now):
            return Mode.NORMAL
        return Mode.SCHEDULED_OPEN

    def first_person_in(self, now: datetime, policy: DoorPolicy) -> bool:
        """A member was let in: start the open hours if they wait for one; True if it did."""
        schedule = policy.open_schedule
        if (
            not policy.first_person_in
            or schedule is None
            or self.mode(now, policy) is not Mode.NORMAL
            or schedule.check(now) is not None
        ):
            return False
        self.first_in_day = schedule.local_date(now)
        return True
