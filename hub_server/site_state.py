"""Whether the site is open to everyone now, from what the doors report and their open hours.

The rules, first match wins:

1. a registered door reports ``lockdown``: closed (``False``);
2. a registered door reports ``hold_open`` or ``scheduled_open``: open (``True``);
3. some door has hold-open hours (``doors.open_schedules``): open when the
   site's local time now falls in one of them, as a door decides it (weekday
   and minute in the site's time zone, end exclusive), and closed on a
   holiday (table ``holidays``, the local date);
4. otherwise not known (``None``): no door is ever held open.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

from hub_server import doors
from hub_server.store import Store
from hublink.messages import WEEKDAYS, time_range_minutes

OPEN_MODES = ("hold_open", "scheduled_open")


def is_open(store: Store, now: datetime, timezone: str) -> bool | None:
    """Whether the site is open at ``now`` (aware) in ``timezone`` (the hub's); see the module."""
    modes = {
        row[0]
        for row in store.query(
            "SELECT DISTINCT s.mode FROM door_status s JOIN doors d ON d.id = s.door_id"
            " WHERE s.mode IS NOT NULL"
        )
    }
    if "lockdown" in modes:
        return False
    if modes.intersection(OPEN_MODES):
        return True
    schedules = doors.open_schedules(store)
    if not schedules:
        return None
    local = now.astimezone(ZoneInfo(timezone))
    holiday = store.query_one("SELECT 1 FROM holidays WHERE day = ?", (local.date().isoformat(),))
    if holiday is not None:
        return False
    day = WEEKDAYS[local.weekday()]
    minute = local.hour * 60 + local.minute
    return any(
        start <= minute < end
        for weekly in schedules.values()
        for start, end in map(time_range_minutes, weekly.get(day, ()))
    )
