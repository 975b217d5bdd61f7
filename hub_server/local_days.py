"""The site's local days: where a day begins and ends in UTC (DST-correct)."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC moments local ``day`` starts and the next day starts (23 to 25 hours apart)."""
    start = datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone).astimezone(UTC)
    return start, end


def local_day(moment: datetime, zone: ZoneInfo) -> date:
    """The local date of an aware ``moment``."""
    return moment.astimezone(zone).date()
