"""Friendly words for reason codes: a door's refusal, the hub's answer to an action.

A refusal never reveals anything about anyone: it speaks to the card's
holder, names no one, and sends them to a host when only a host can help.
"""

from kiosk.i18n import N_, Translator

ASK_A_HOST = N_("This card did not open the door — please ask a host.")

DENIED: dict[str, str] = {
    "unknown_credential": N_("We don't know this card — please ask a host."),
    "credential_suspended": N_("This card is not active — please ask a host."),
    "not_yet_valid": N_("This card is not active yet — please ask a host."),
    "expired": N_("This card is no longer active — please ask a host."),
    "lockdown": N_("The doors are locked for now. Please ask a host."),
    "offline_admin_only": N_("The door cannot check cards just now — please ask a host."),
    "rate_limited": N_("Too many tries just now. Please wait a moment and tap again."),
    "tier_not_allowed": N_("Your membership does not open this door — please ask a host."),
    "holiday": N_("The hub is closed for a holiday today."),
    "outside_schedule": N_("Your membership does not open this door at this hour."),
}
"""Door reason codes (``door/decision.py``) with their own wording; others: :data:`ASK_A_HOST`."""

DONE: dict[str, str] = {
    "checked_out": N_("You are checked out. See you soon, {name}!"),
    "signed_up": N_("You are signed up for {title}."),
    "waitlisted": N_("{title} is full: you are number {position} on the waitlist."),
    "cancelled": N_("Your place at {title} is cancelled."),
    "guest_registered": N_("{guest} is your guest today. Welcome!"),
    "booked": N_("{room} is yours until {until}."),
}
"""The hub's answers to a request that went through."""

REFUSED: dict[str, str] = {
    "not_checked_in": N_("You were not checked in."),
    "unknown_credential": N_("We don't know this card — please ask a host."),
    "not_supported": N_("This cannot be done at the kiosk yet — please ask a host."),
    "already_signed_up": N_("You are already signed up for {title}."),
    "full": N_("{title} is full."),
    "too_many_guests": N_("That is more colleagues than {title} allows."),
    "past_deadline": N_("The deadline for {title} has passed."),
    "event_cancelled": N_("{title} has been cancelled."),
    "event_started": N_("{title} has already started."),
    "not_signed_up": N_("You are not signed up for {title}."),
    "guest_limit": N_("You have brought as many guests as your membership allows today."),
    "card_in_use": N_("That card is already someone's — please ask a host for a visitor card."),
    "room_taken": N_("Someone has just booked {room}. Please pick another room or time."),
    "room_closed": N_("{room} cannot be booked at this time."),
    "not_allowed": N_("Your membership does not include this — please ask a host."),
    "too_late": N_("That request reached the hub too late. Please try again."),
    "invalid_request": N_("The hub could not read that request — please ask a host."),
}
"""The hub's refusals; an unknown code gets :data:`UNKNOWN_REFUSAL`."""

UNKNOWN_REFUSAL = N_("That did not work ({code}) — please ask a host.")


def denied(reason: str, t: Translator) -> str:
    """Why the door said no, for the card's holder."""
    return t._(DENIED.get(reason, ASK_A_HOST))


def answer(ok: bool, reason: str, t: Translator, **values: object) -> str:
    """The hub's answer to an action, with its placeholders filled from ``values``."""
    template = DONE.get(reason) or REFUSED.get(reason)
    if template is None:
        return t._(N_("Done.")) if ok else t._(UNKNOWN_REFUSAL).format(code=reason)
    return _fill(t._(template), values)


def _fill(template: str, values: dict[str, object]) -> str:
    """``template`` with ``{name}`` fields filled; a missing value shows as an ellipsis."""
    return template.format_map(_Missing(values))


class _Missing(dict[str, object]):
    def __missing__(self, key: str) -> str:
        return "…"
