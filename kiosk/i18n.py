"""Languages: every string on the screen goes through gettext.

Catalogs live in ``kiosk/locale/<language>/LC_MESSAGES/hubtap-kiosk.po``
with their compiled ``.mo`` beside them; English is the source language.
Mark a string with ``_()`` where it is shown, or with :func:`N_` in a table
that is translated later, so that extraction (``pybabel extract``) finds it.
"""

import gettext
from datetime import datetime
from pathlib import Path

DOMAIN = "hubtap-kiosk"
LOCALE_DIR = Path(__file__).with_name("locale")


def N_(message: str) -> str:
    """Mark ``message`` for translation without translating it now."""
    return message


class Translator:
    """The kiosk's strings, dates and times in one language."""

    def __init__(self, language: str) -> None:
        self.language = language
        self._catalog = gettext.translation(DOMAIN, LOCALE_DIR, languages=[language], fallback=True)

    def __repr__(self) -> str:
        return f"Translator({self.language!r})"

    def _(self, message: str) -> str:
        """``message`` in this language (itself where no translation exists)."""
        return self._catalog.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """The singular or plural form for ``n``, as this language counts."""
        return self._catalog.ngettext(singular, plural, n)

    def clock(self, when: datetime) -> str:
        """A local time of day, 24-hour as everywhere in Scandinavia (``14:05``)."""
        return when.strftime("%H:%M")

    def weekday(self, when: datetime) -> str:
        """The weekday's name."""
        return self._(_WEEKDAYS[when.weekday()])

    def date(self, when: datetime) -> str:
        """``Wednesday 25 November``: the weekday, the day and the month."""
        month = self._(_MONTHS[when.month - 1])
        return capitalised(
            self._("{weekday} {day} {month}").format(
                weekday=self.weekday(when), day=when.day, month=month
            )
        )


def capitalised(text: str) -> str:
    """``text`` with its first letter in upper case (a Swedish weekday starting a line)."""
    return text[:1].upper() + text[1:]


_WEEKDAYS = (
    N_("Monday"), N_("Tuesday"), N_("Wednesday"), N_("Thursday"), N_("Friday"),
    N_("Saturday"), N_("Sunday"),
)  # fmt: skip
_MONTHS = (
    N_("January"), N_("February"), N_("March"), N_("April"), N_("May"), N_("June"),
    N_("July"), N_("August"), N_("September"), N_("October"), N_("November"), N_("December"),
)  # fmt: skip
