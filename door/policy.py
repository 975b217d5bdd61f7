"""A door's rules besides its cards, as the decision uses them."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from door.schedule import WeeklySchedule
from hublink.messages import WEEKDAYS, AclPolicy, ScheduleSpec, time_range_minutes


@dataclass(frozen=True)
class DoorPolicy:
    """Tiers admitted here, their schedules, and the hours the door is held open."""

    tiers: Mapping[str, str | None] = field(default_factory=dict)
    schedules: Mapping[str, WeeklySchedule] = field(default_factory=dict)
    open_schedule: WeeklySchedule | None = None
    first_person_in: bool = False

    @classmethod
    def from_message(cls, policy: AclPolicy) -> "DoorPolicy":
        """Build from the policy part of an access list."""
        holidays = frozenset(policy.holidays)
        schedules = {
            spec.id: weekly_schedule(spec, policy.timezone, holidays) for spec in policy.schedules
        }
        return cls(
            tiers=dict(policy.tiers),
            schedules=schedules,
            open_schedule=schedules.get(policy.open_schedule) if policy.open_schedule else None,
            first_person_in=policy.first_person_in,
        )


def weekly_schedule(spec: ScheduleSpec, timezone: str, holidays: frozenset[date]) -> WeeklySchedule:
    """A :class:`WeeklySchedule` from its contract form."""
    days = {
        WEEKDAYS.index(day): [time_range_minutes(text) for text in ranges]
        for day, ranges in spec.weekly.items()
    }
    return WeeklySchedule(timezone, days, holidays)
