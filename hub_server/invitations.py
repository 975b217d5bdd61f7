"""Invitations: outsiders named by email at ``open`` events.

- Only an event whose visibility is ``open`` takes invitations (else ``not_allowed``),
  while it is scheduled and has not started.
- An invitee is a name and an email address; an email is invited once per event,
  ignoring case (``already_invited``).
- A live invitation holds one seat, like a member's signup. It is only given when nobody
  is waiting and a seat is free (else ``full``): invitations never jump the waitlist.
- Cancelling an invitation frees its seat, which promotes from the waitlist. Cancelled
  invitations stay on record.

Invitees' emails are for the hosts and operators on the dashboard and for API tokens;
no public surface (kiosk, published topics, calendar feeds) ever shows them.
"""

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

import sqlite_utils
from pydantic import AfterValidator

from hub_server import audit, signups
from hub_server.errors import NotFound, Refused
from hub_server.models import Input, Name
from hub_server.models import _clean_email as clean_email
from hub_server.store import Store, now_text, parse_time


def _required(value: str | None) -> str:
    if not value:
        raise ValueError("must not be empty")
    return value


InviteeEmail = Annotated[str, AfterValidator(clean_email), AfterValidator(_required)]


class InvitationIn(Input):
    """An outsider to invite."""

    name: Name
    email: InviteeEmail


@dataclass(frozen=True)
class Invitation:
    """An invitation as stored (dashboard and API only: it has the invitee's email)."""

    id: int
    event_id: str
    name: str
    email: str
    status: Literal["invited", "cancelled"]
    created_by: str
    created_at: datetime
    cancelled_at: datetime | None


def invite(
    store: Store, event_id: str, data: InvitationIn, *, actor: str, now: datetime
) -> Invitation:
    """Invite an outsider to an open event: one seat, if one is free and nobody waits."""
    with store.write() as db:
        event = signups.event_row(db, event_id)
        signups.check_open(event, now, "invitations are closed")
        if event["visibility"] != "open":
            raise Refused(
                "not_allowed", f"{event['title']} is for members only: outsiders cannot be invited"
            )
        key = email_key(data.email)
        if db.execute(
            "SELECT 1 FROM invitations WHERE event_id = ? AND email_key = ? AND status = 'invited'",
            (event_id, key),
        ).fetchone():
            raise Refused("already_invited", f"{data.email} is already invited to {event['title']}")
        seats = signups.seats_of(db, event_id)
        if seats.waitlisted or seats.free < 1:
            raise signups.full(event, seats, 1)
        cursor = db.execute(
            "INSERT INTO invitations (event_id, name, email, email_key, created_by, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (event_id, data.name, data.email, key, actor, now_text(now)),
        )
        audit.record(db, actor, "invitation.add", event_id, invitation=cursor.lastrowid)
        return _load(db, cursor.lastrowid)


def cancel(store: Store, invitation_id: int, *, actor: str, now: datetime) -> Invitation:
    """Withdraw an invitation; its seat goes to the waitlist. A repeat changes nothing."""
    with store.write() as db:
        invitation = _load(db, invitation_id)
        if invitation.status == "cancelled":
            return invitation
        db.execute(
            "UPDATE invitations SET status = 'cancelled', cancelled_at = ? WHERE id = ?",
            (now_text(now), invitation_id),
        )
        promoted = signups.promote(db, invitation.event_id, actor=actor, now=now)
        audit.record(
            db, actor, "invitation.cancel", invitation.event_id,
            invitation=invitation_id, promoted=list(promoted),
        )  # fmt: skip
        return _load(db, invitation_id)


def cancel_all(db: sqlite_utils.Database, event_id: str, *, now: datetime) -> int:
    """Withdraw every live invitation of a cancelled event (inside its write); how many."""
    cursor = db.execute(
        "UPDATE invitations SET status = 'cancelled', cancelled_at = ?"
        " WHERE event_id = ? AND status = 'invited'",
        (now_text(now), event_id),
    )
    return int(cursor.rowcount)


def get(store: Store, event_id: str, invitation_id: int) -> Invitation:
    """The event's invitation ``invitation_id`` (cancelled too); :class:`NotFound` when the
    event has no such invitation, so an id cannot reach another event's."""
    conn = store.read()
    signups.event_row(conn, event_id)
    row = conn.execute(
        "SELECT * FROM invitations WHERE id = ? AND event_id = ?", (invitation_id, event_id)
    ).fetchone()
    if row is None:
        raise NotFound(f"no invitation {invitation_id} to event {event_id}")
    return _invitation(row)


def of_event(store: Store, event_id: str, *, include_cancelled: bool = False) -> list[Invitation]:
    """An event's invitations in the order they were made."""
    conn = store.read()
    signups.event_row(conn, event_id)
    rows = conn.execute(
        "SELECT * FROM invitations WHERE event_id = ? AND (? OR status = 'invited') ORDER BY id",
        (event_id, include_cancelled),
    ).fetchall()
    return [_invitation(row) for row in rows]


def live(db: sqlite_utils.Database | sqlite3.Connection, event_id: str) -> list[int]:
    """The ids of an event's live invitations."""
    rows = db.execute(
        "SELECT id FROM invitations WHERE event_id = ? AND status = 'invited' ORDER BY id",
        (event_id,),
    ).fetchall()
    return [row[0] for row in rows]


def email_key(email: str) -> str:
    """An email as compared: ignoring case."""
    return email.casefold()


def _load(
    conn: sqlite_utils.Database | sqlite3.Connection, invitation_id: int | None
) -> Invitation:
    row = conn.execute("SELECT * FROM invitations WHERE id = ?", (invitation_id,)).fetchone()
    if row is None:
        raise NotFound(f"no invitation {invitation_id}")
    return _invitation(row)


def _invitation(row: sqlite3.Row) -> Invitation:
    return Invitation(
        id=row["id"],
        event_id=row["event_id"],
        name=row["name"],
        email=row["email"],
        status=row["status"],
        created_by=row["created_by"],
        created_at=datetime.fromisoformat(row["created_at"]),
        cancelled_at=parse_time(row["cancelled_at"]),
    )
