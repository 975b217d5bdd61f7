"""Weekly opening schedules with holidays, in the site's local time."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from door.errors import DoorError

MINUTES_PER_DAY = 24 * 60

Interval = tuple[int, int]  # minutes after local midnight: [start, end)


@dataclass(frozen=True)
class WeeklySchedule:
    """When a schedule admits: intervals per weekday (0 = Monday), never on holidays.

    An interval past midnight is written as two, one on each day.
    """

    timezone: str
    days: Mapping[int, Sequence[Interval]]
    holidays: frozenset[date] = frozenset()
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for weekday, intervals in self.days.items():
            if not 0 <= weekday <= 6:
                raise DoorError(f"weekday {weekday} is not 0 (Monday) to 6 (Sunday)")
            for start, end in intervals:
                if not 0 <= start < end <= MINUTES_PER_DAY:
                    raise DoorError(f"interval {start}-{end} is not within one day")
        try:
            object.__setattr__(self, "_zone", ZoneInfo(self.timezone))
        except (ZoneInfoNotFoundError, ValueError) as err:
            raise DoorError(f"unknown time zone {self.timezone!r}") from err

    def local_date(self, now: datetime) -> str:
        """The date at ``now`` in the schedule's time zone, ISO formatted."""
        return now.astimezone(self._zone).date().isoformat()

    def check(self, now: datetime) -> str | None:
        """None if the schedule admits at ``now`` (aware); else why not."""
        local = now.astimezone(self._zone)
        if local.date() in self.holidays:
            return "holiday"
        minute = local.hour * 60 + local.minute
        if any(start <= minute < end for start, end in self.days.get(local.weekday(), ())):
            return None
        return "outside_schedule"
