"""Monthly billing of room bookings per organisation, for internal chargeback.

A month bills the bookings still booked (not cancelled, not an event's
reservation of its room) that START in that calendar month of the hub's
time zone, at the price stored when each was booked, to the organisation
the member belonged to when booking (members without one are billed
under "No organisation"). The CSV exports are UTF-8 with currency-free
amounts (``1234.50``); cells that a spreadsheet would take for a formula
are defused (:mod:`hub_server.csv_safety`).
"""

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from hub_server.csv_safety import safe_row
from hub_server.pricing import format_cents
from hub_server.site_hours import month_period, parse_month
from hub_server.store import Store, now_text

NO_ORGANISATION = "No organisation"

SUMMARY_COLUMNS = (
    "month",
    "organisation_id",
    "organisation",
    "bookings",
    "office_minutes",
    "off_hours_minutes",
    "amount",
)
DETAIL_COLUMNS = (
    "date",
    "start",
    "end",
    "room",
    "member",
    "organisation_id",
    "organisation",
    "office_minutes",
    "off_hours_minutes",
    "amount",
    "booking_id",
)


@dataclass(frozen=True)
class OrganisationBill:
    """One organisation's bookings in a month (``organisation_id`` ``None``: no organisation)."""

    organisation_id: str | None
    name: str
    bookings: int
    office_minutes: int
    off_hours_minutes: int
    amount_cents: int


@dataclass(frozen=True)
class BillingReport:
    """A month's bill per organisation, by name (no organisation last)."""

    month: str
    lines: list[OrganisationBill]
    total_cents: int


@dataclass(frozen=True)
class BillingLine:
    """One billed booking; its times are local to the hub."""

    booking_id: str
    starts_at: datetime
    ends_at: datetime
    room: str
    member: str
    organisation_id: str | None
    organisation: str
    office_minutes: int
    off_hours_minutes: int
    amount_cents: int


def monthly(store: Store, month: str, timezone: str) -> BillingReport:
    """The bill of ``month`` (``YYYY-MM``, :class:`Invalid` otherwise) per organisation."""
    label, start, end = _period(month, timezone)
    rows = store.query(
        "SELECT g.organisation_id, o.name, g.bookings, g.office, g.off, g.amount FROM ("  # noqa: S608
        " SELECT b.organisation_id, count(*) AS bookings, sum(b.office_minutes) AS office,"
        " sum(b.off_hours_minutes) AS off, sum(b.amount_cents) AS amount FROM bookings b"
        f" WHERE {_BILLED} GROUP BY b.organisation_id"
        ") g LEFT JOIN organisations o ON o.id = g.organisation_id",
        (start, end),
    )
    lines = sorted(
        (
            OrganisationBill(row[0], _organisation(row[0], row[1]), row[2], row[3], row[4], row[5])
            for row in rows
        ),
        key=lambda bill: _order(bill.organisation_id, bill.name),
    )
    return BillingReport(label, lines, sum(bill.amount_cents for bill in lines))


def detail(store: Store, month: str, timezone: str) -> list[BillingLine]:
    """The bookings billed in ``month``, by organisation (as :func:`monthly`), then start."""
    _, start, end = _period(month, timezone)
    zone = ZoneInfo(timezone)
    rows = store.query(
        "SELECT b.id, b.starts_at, b.ends_at, r.name, m.first_name || ' ' || m.last_name,"  # noqa: S608
        " b.organisation_id, o.name, b.office_minutes, b.off_hours_minutes, b.amount_cents"
        " FROM bookings b JOIN rooms r ON r.id = b.room_id JOIN members m ON m.id = b.member_id"
        f" LEFT JOIN organisations o ON o.id = b.organisation_id WHERE {_BILLED}",
        (start, end),
    )
    lines = [
        BillingLine(
            row[0],
            datetime.fromisoformat(row[1]).astimezone(zone),
            datetime.fromisoformat(row[2]).astimezone(zone),
            row[3],
            row[4],
            row[5],
            _organisation(row[5], row[6]),
            row[7],
            row[8],
            row[9],
        )
        for row in rows
    ]
    return sorted(
        lines, key=lambda line: (*_order(line.organisation_id, line.organisation), line.starts_at)
    )


def summary_csv(report: BillingReport) -> str:
    """The report as CSV: a header and one row per organisation."""
    return _csv(
        SUMMARY_COLUMNS,
        (
            (
                report.month,
                bill.organisation_id,
                bill.name,
                bill.bookings,
                bill.office_minutes,
                bill.off_hours_minutes,
                format_cents(bill.amount_cents),
            )
            for bill in report.lines
        ),
    )


def detail_csv(lines: Iterable[BillingLine]) -> str:
    """Billed bookings as CSV: a header and one row per booking, in local time."""
    return _csv(
        DETAIL_COLUMNS,
        (
            (
                line.starts_at.date().isoformat(),
                _clock(line.starts_at),
                _clock(line.ends_at),
                line.room,
                line.member,
                line.organisation_id,
                line.organisation,
                line.office_minutes,
                line.off_hours_minutes,
                format_cents(line.amount_cents),
                line.booking_id,
            )
            for line in lines
        ),
    )


_BILLED = "b.status = 'booked' AND +b.event_id IS NULL AND b.starts_at >= ? AND b.starts_at < ?"
"""Which bookings (``b``) a month bills: its period's start and end are the parameters.

The unary ``+`` keeps SQLite from reading every booking through the partial index
``bookings_event`` (which it takes for selective); the month's range of ``bookings_starts``
is what narrows the query."""


def _period(month: str, timezone: str) -> tuple[str, str, str]:
    first = parse_month(month)
    start, end = month_period(first, ZoneInfo(timezone))
    return f"{first:%Y-%m}", now_text(start), now_text(end)


def _organisation(organisation_id: str | None, name: str | None) -> str:
    return NO_ORGANISATION if organisation_id is None else name or organisation_id


def _order(organisation_id: str | None, name: str) -> tuple[bool, str, str]:
    return organisation_id is None, name.casefold(), organisation_id or ""


def _clock(when: datetime) -> str:
    return f"{when.hour:02d}:{when.minute:02d}"  # strftime takes 3 times as long


def _csv(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows(safe_row(row) for row in rows)
    return buffer.getvalue()
