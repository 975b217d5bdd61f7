"""Exceptions raised by the hub server: one root, narrow subclasses.

Routes and commands translate them: :class:`NotFound` is a 404 and
:class:`Invalid` a 422 (each names the field at fault), :class:`Conflict`
a 409.
"""


class HubError(Exception):
    """Root of every error the hub server raises."""


class StoreError(HubError):
    """The database cannot be opened, migrated or written."""


class NotFound(HubError):
    """No such member, card, door, zone or organisation."""


class Invalid(HubError):
    """Input that breaks a rule; ``field`` names what was wrong."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class Conflict(HubError):
    """The change clashes with what is stored (a card already enrolled, a duplicate email)."""


class Refused(Conflict):
    """A request the rules turn down (a full event, a taken room); ``reason`` is its code.

    Codes are the kiosk's refusal reasons (``docs/protocol.md``), so the
    kiosk, the API and the dashboard word the same refusal alike.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
