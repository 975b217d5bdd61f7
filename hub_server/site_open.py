"""When the site's open state last changed (SpaceAPI ``state.lastchange``).

The state itself is :func:`site_state.is_open` (True, False or None: not
known). Its last value and since when it holds are kept in the ``marks``
table under :data:`MARK` as ``{"open": …, "since": "<UTC ISO>"}``, written
only when the value differs from the stored one, so ``since`` moves only
when the state really changes. The server observes it every second; the
SpaceAPI document observes it too, so it is right without the server.
"""

import json
import logging
from datetime import UTC, datetime

from hub_server import marks, site_state
from hub_server.store import Store, now_text, parse_time

log = logging.getLogger(__name__)

MARK = "site_open"

OpenSince = tuple[bool | None, datetime]
"""The open state (``None``: not known) and since when it holds (aware UTC)."""


def observe(store: Store, now: datetime, timezone: str) -> OpenSince:
    """The open state at ``now`` in ``timezone`` and since when it holds (recorded if new)."""
    return record(store, site_state.is_open(store, now, timezone), now)


def record(store: Store, state: bool | None, now: datetime) -> OpenSince:
    """Record ``state`` as seen at ``now``; the stored ``since`` when it is unchanged."""
    stored = _parse(marks.get(store.read(), MARK))
    if stored is not None and stored[0] is state:
        return stored
    with store.write() as db:  # look again: another thread may have recorded it meanwhile
        stored = _parse(marks.get(db, MARK))
        if stored is not None and stored[0] is state:
            return stored
        marks.put(db, MARK, json.dumps({"open": state, "since": now_text(now)}))
    return state, now.astimezone(UTC)


def _parse(text: str | None) -> OpenSince | None:
    """The stored mark; ``None`` when there is none or it cannot be read (then rewritten)."""
    if text is None:
        return None
    try:
        value = json.loads(text)
        state, since = value["open"], parse_time(value["since"])
        if not (state is None or isinstance(state, bool)) or since is None or not since.tzinfo:
            raise ValueError("open must be true, false or null and since a UTC time")
    except (ValueError, TypeError, KeyError) as err:
        log.warning("marks %s: unreadable value %r (%s); recording afresh", MARK, text, err)
        return None
    return state, since
