"""Whether a member may use the community features now: active, and inside their validity."""

import sqlite3
from datetime import datetime

from hub_server.errors import Refused
from hub_server.store import now_text


def check_standing(member: sqlite3.Row, now: datetime, what: str) -> None:
    """``Refused("not_allowed")`` unless ``member`` (a row with ``first_name``, ``status``,
    ``valid_from``, ``valid_until``) is active at ``now``; ``what`` names what they cannot
    have ("bookings", "guests", "sign-ups")."""
    name = member["first_name"]
    if member["status"] != "active":
        raise Refused("not_allowed", f"{name}'s membership is {member['status']}: no {what}")
    at = now_text(now)
    if member["valid_from"] and at < member["valid_from"]:
        raise Refused("not_allowed", f"{name}'s membership has not started yet: no {what}")
    if member["valid_until"] and at >= member["valid_until"]:
        raise Refused("not_allowed", f"{name}'s membership has ended: no {what}")
