"""Members in and out of CSV files: the import with its per-row report, and the export.

The import reads the bytes of a file as an office suite writes it (UTF-8
with or without a BOM, or a named encoding such as cp1252; comma, semicolon
or tab between fields), checks every row with the same models and services
the other surfaces use, and imports every good row in one transaction. A
bad row is reported with its line number and rolled back alone (a savepoint
per row); it never stops the others. Dates are read and written by
:func:`parse_moment` and :func:`format_moment`, which the CLI uses as well.
"""

import csv
import io
import re
import sqlite3
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any, TextIO

import sqlite_utils

from hub_server import audit, cards, members, organisations
from hub_server.errors import Conflict, Invalid, NotFound
from hub_server.models import Member, MemberIn, OrganisationIn, build
from hub_server.store import Store
from hublink.credentials import card_hint, credential_hash, parse_uid
from hublink.errors import ConfigError, CredentialError

REQUIRED = ("first_name", "last_name")
COLUMNS = (
    "first_name",
    "last_name",
    "email",
    "organisation",
    "tier",
    "role",
    "status",
    "valid_from",
    "valid_until",
    "id",
    "card_uid",
)
"""The columns an import reads; ``first_name`` and ``last_name`` are required."""

EXPORT_COLUMNS = (*COLUMNS[:-1], "cards")
"""What an export writes: the member id as ``id``, active cards' hints as ``cards``."""

IGNORED = ("cards",)
"""Columns an import accepts and ignores (an export's card hints cannot recreate cards)."""

DELIMITERS = (",", ";", "\t")
SUGGESTED_ENCODING = "cp1252"

Progress = Callable[[int, int], None]

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ONE_DAY = timedelta(days=1)


# --- dates -----------------------------------------------------------------


def parse_moment(text: str, zone: tzinfo, *, field: str, end_of_day: bool = False) -> datetime:
    """A date or an ISO 8601 date and time, as the CLI and the CSV import accept them.

    A bare date (``2026-12-01``) is the start of that day in ``zone``, or with
    ``end_of_day`` the end of it (the next midnight: ``valid_until`` is the
    first moment a member is no longer valid). A date and time without a UTC
    offset is local time in ``zone``. Errors are :class:`Invalid` for ``field``.
    """
    value = text.strip()
    if _DATE.fullmatch(value):
        try:
            day = date.fromisoformat(value)
        except ValueError as err:
            raise Invalid(field, f"{value!r} is not a date ({err})") from err
        return datetime.combine(day + _ONE_DAY if end_of_day else day, time(), tzinfo=zone)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as err:
        raise Invalid(
            field,
            f"{value!r} is not a date (YYYY-MM-DD) or an ISO date and time "
            "(YYYY-MM-DDTHH:MM, with an optional offset like +01:00)",
        ) from err
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def format_moment(value: datetime | None, zone: tzinfo, *, end_of_day: bool = False) -> str:
    """The inverse of :func:`parse_moment`: midnights in ``zone`` become bare dates."""
    if value is None:
        return ""
    local = value.astimezone(zone)
    if local.time() == time():
        return (local.date() - _ONE_DAY if end_of_day else local.date()).isoformat()
    return local.isoformat()


def check_window(valid_from: datetime | None, valid_until: datetime | None, field: str) -> None:
    """:class:`Invalid` for ``field`` unless ``valid_until`` comes after ``valid_from``."""
    if valid_from is not None and valid_until is not None and valid_until <= valid_from:
        raise Invalid(field, "must be after valid_from")


# --- import ----------------------------------------------------------------


@dataclass(frozen=True)
class Rejected:
    """A row that was not imported: its first line in the file, the field at fault, why."""

    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.reason}"


@dataclass(frozen=True)
class ImportReport:
    """What an import did (or, for a dry run or a refused all-or-nothing, would have done)."""

    file_name: str
    rows: int
    """Data rows in the file (empty lines not counted)."""
    accepted: int
    """Rows that passed every check."""
    rejected: tuple[Rejected, ...]
    organisations_created: tuple[str, ...]
    """Names of the organisations the accepted rows created."""
    cards: int
    """Cards attached by the accepted rows."""
    all_or_nothing: bool
    dry_run: bool
    written: bool
    """Whether the accepted rows are in the database now."""

    @property
    def imported(self) -> int:
        """Members written to the database."""
        return self.accepted if self.written else 0


class _Rollback(Exception):
    """Raised inside the import's transaction to undo all of it."""


def import_members(
    store: Store,
    data: bytes,
    *,
    file_name: str,
    actor: str,
    zone: tzinfo,
    site_key: bytes | None = None,
    encoding: str | None = None,
    all_or_nothing: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Import the members in the CSV file ``data``; see the module's docstring.

    File-level problems (not decodable, no header, unknown or missing
    columns) raise :class:`Invalid` naming ``file_name``; a ``card_uid``
    column without ``site_key`` raises :class:`ConfigError`. Row problems
    are in the report.
    """
    text = _decode(data, encoding, file_name)
    delimiter = _sniff(text)
    rows = _rows(text, delimiter, file_name)
    if not rows:
        raise Invalid(file_name, "the file is empty (the first line must name the columns)")
    header_line, header = rows[0]
    columns = _columns(header, header_line, file_name)
    if "card_uid" in columns and site_key is None:
        raise ConfigError(
            f"{file_name} has a card_uid column: importing cards needs the site key "
            "([site] key in hub.toml, or HUBTAP_SITE__KEY)"
        )
    body = rows[1:]
    total = len(body)
    known = {org.name.casefold(): org.id for org in organisations.all_organisations(store)}
    importer = _RowImporter(columns, zone, site_key, known)
    if progress:
        progress(0, total)
    try:
        with store.write() as db:
            for done, (line, cells) in enumerate(body, start=1):
                importer.row(db, line, cells)
                if progress:
                    progress(done, total)
            accepted = total - len(importer.rejected)
            if dry_run or (all_or_nothing and importer.rejected):
                raise _Rollback
            audit.record(
                db,
                actor,
                "members.import",
                file_name,
                imported=accepted,
                rejected=len(importer.rejected),
                organisations_created=importer.organisations_created,
                cards=importer.cards,
            )
        written = True
    except _Rollback:
        written = False
    return ImportReport(
        file_name=file_name,
        rows=total,
        accepted=accepted,
        rejected=tuple(importer.rejected),
        organisations_created=tuple(importer.organisations_created),
        cards=importer.cards,
        all_or_nothing=all_or_nothing,
        dry_run=dry_run,
        written=written,
    )


def _decode(data: bytes, encoding: str | None, file_name: str) -> str:
    name = encoding or "utf-8-sig"
    try:
        text = data.decode(name)
    except LookupError as err:
        raise Invalid("encoding", f"unknown encoding {encoding!r}") from err
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        column = err.start - (data.rfind(b"\n", 0, err.start) + 1) + 1
        byte = data[err.start]
        if encoding is None:
            advice = (
                f"is it from Excel on Windows? Try --encoding {SUGGESTED_ENCODING}, "
                "or save it as 'CSV UTF-8'"
            )
            what = "UTF-8"
        else:
            advice = "try another --encoding"
            what = encoding
        raise Invalid(
            file_name,
            f"line {line}: byte 0x{byte:02x} at column {column} is not {what} text ({advice})",
        ) from err
    return unicodedata.normalize("NFC", text.removeprefix("\ufeff"))


def _sniff(text: str) -> str:
    """The delimiter the header line uses most (names never hold one)."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {delimiter: first.count(delimiter) for delimiter in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _rows(text: str, delimiter: str, file_name: str) -> list[tuple[int, list[str]]]:
    """Non-empty rows, each with the physical line it starts on (the header is line 1)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    found = []
    start = 1
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                found.append((start, cells))
            start = reader.line_num + 1
    except csv.Error as err:  # a NUL byte, a field of over 128 KiB: not a CSV file
        raise Invalid(file_name, f"line {reader.line_num}: not readable as CSV ({err})") from err
    return found


def _column_name(cell: str) -> str:
    return re.sub(r"[\s-]+", "_", cell.strip().lower())


def _columns(header: list[str], line: int, file_name: str) -> list[str]:
    names = [_column_name(cell) for cell in header]
    where = f"line {line} (the header)"
    unknown = [
        cell.strip() or f"(empty, column {n})"
        for n, (cell, name) in enumerate(zip(header, names, strict=True), start=1)
        if name not in COLUMNS and name not in IGNORED
    ]
    if unknown:
        raise Invalid(
            file_name,
            f"{where}: unknown column{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(repr(u) for u in unknown)} (known: {', '.join(COLUMNS)})",
        )
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise Invalid(file_name, f"{where}: column {', '.join(repeated)} appears twice")
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        raise Invalid(file_name, f"{where}: required column {', '.join(missing)} is missing")
    return names


class _RowImporter:
    """Checks and inserts rows inside the import's transaction, one savepoint each."""

    def __init__(
        self,
        columns: list[str],
        zone: tzinfo,
        site_key: bytes | None,
        organisations: dict[str, str],
    ) -> None:
        self.columns = columns
        self.zone = zone
        self.site_key = site_key
        self.rejected: list[Rejected] = []
        self.organisations_created: list[str] = []
        self.cards = 0
        self._organisations = organisations  # case-folded name -> id
        self._emails: dict[str, int] = {}  # case-folded email -> line of the row that has it
        self._ids: dict[str, int] = {}
        self._hashes: dict[str, int] = {}

    def row(self, db: sqlite_utils.Database, line: int, cells: list[str]) -> None:
        """Import one row in a savepoint, or roll it back alone and note why."""
        created: list[tuple[str, str]] = []
        try:
            data, card = self._check(db, self._values(cells))
            with db.atomic():
                if data.organisation is not None:
                    org_id = self._organisation(db, data.organisation, created)
                    data = data.model_copy(update={"organisation": org_id})
                member_id = self._insert(db, data)
                if card is not None:
                    self._attach(db, member_id, *card)
        except Invalid as err:
            self.rejected.append(Rejected(line, err.field, err.problem))
            return
        except sqlite3.IntegrityError as err:  # a rule the checks above missed
            self.rejected.append(Rejected(line, "row", str(err)))
            return
        for name, org_id in created:
            self.organisations_created.append(name)
            self._organisations[name.casefold()] = org_id
        if data.email:
            self._emails[data.email.casefold()] = line
        self._ids[member_id] = line
        if card is not None:
            self._hashes[card[0]] = line
            self.cards += 1

    def _values(self, cells: list[str]) -> dict[str, str]:
        if len(cells) > len(self.columns):
            raise Invalid("row", f"has {len(cells)} fields, the header names {len(self.columns)}")
        return {
            name: cell.strip()
            for name, cell in zip(self.columns, cells, strict=False)
            if cell.strip() and name not in IGNORED
        }

    def _check(
        self, db: sqlite_utils.Database, values: dict[str, str]
    ) -> tuple[MemberIn, tuple[str, str] | None]:
        """The row as a valid :class:`MemberIn` and its card (hash, hint), or :class:`Invalid`."""
        for name in REQUIRED:
            if name not in values:
                raise Invalid(name, "is required")
        fields: dict[str, Any] = {k: v for k, v in values.items() if k != "card_uid"}
        for name in ("valid_from", "valid_until"):
            if name in fields:
                fields[name] = parse_moment(
                    fields[name], self.zone, field=name, end_of_day=name == "valid_until"
                )
        check_window(fields.get("valid_from"), fields.get("valid_until"), "valid_until")
        data = build(MemberIn, **fields)
        if data.email and (seen := self._emails.get(data.email.casefold())):
            raise Invalid("email", f"{data.email} is already used on line {seen}")
        if data.id is not None:
            if seen := self._ids.get(data.id):
                raise Invalid("id", f"{data.id} is already used on line {seen}")
            if db.execute("SELECT 1 FROM members WHERE id = ?", (data.id,)).fetchone():
                raise Invalid("id", f"a member with id {data.id} exists")
        card = self._card(values["card_uid"]) if "card_uid" in values else None
        return data, card

    def _card(self, text: str) -> tuple[str, str]:
        if self.site_key is None:  # checked with the header
            raise ConfigError("importing cards needs the site key")
        try:
            uid = parse_uid(text)
        except CredentialError as err:
            raise Invalid("card_uid", str(err)) from err
        if not uid:
            raise Invalid("card_uid", "is empty")
        hint = card_hint(uid) or uid.hex()
        hash_hex = credential_hash(self.site_key, uid)
        if seen := self._hashes.get(hash_hex):
            raise Invalid("card_uid", f"card …{hint} is already on line {seen}")
        return hash_hex, hint

    def _organisation(
        self, db: sqlite_utils.Database, value: str, created: list[tuple[str, str]]
    ) -> str:
        """The id of the organisation with this id or name, created if there is none.

        Names match in any case, Å and å too (SQLite's NOCASE folds only ASCII).
        """
        known = self._organisations.get(value.casefold())
        if known is not None:
            return known
        try:
            return organisations.resolve(db, value)
        except NotFound:
            pass
        try:
            data = build(OrganisationIn, name=value)
            org_id = organisations.insert(db, data)
        except Invalid as err:
            raise Invalid("organisation", err.problem) from err
        except Conflict as err:
            raise Invalid("organisation", str(err)) from err
        created.append((data.name, org_id))
        return org_id

    @staticmethod
    def _insert(db: sqlite_utils.Database, data: MemberIn) -> str:
        try:
            return members.insert(db, data)
        except Conflict as err:  # the id was checked: what is left is the email
            raise Invalid("email", str(err).removeprefix("email ")) from err
        except NotFound as err:
            raise Invalid("organisation", str(err)) from err

    @staticmethod
    def _attach(db: sqlite_utils.Database, member_id: str, hash_hex: str, hint: str) -> None:
        try:
            cards.attach(db, member_id, hash_hex, hint)
        except (Conflict, NotFound) as err:
            raise Invalid("card_uid", str(err)) from err


# --- export ----------------------------------------------------------------


def export_members(store: Store, out: TextIO, *, zone: tzinfo, actor: str) -> int:
    """Write every member as CSV (UTF-8 text, commas) to ``out``; returns how many.

    The file imports into an empty hub as it is: the ``cards`` column (the
    hints of each member's active cards, space-separated) is ignored there.
    """
    everyone = members.find(store, limit=-1)  # SQLite: LIMIT -1 is no limit
    hints: dict[str, list[str]] = {}
    for card in reversed(cards.find(store)):  # oldest first
        hints.setdefault(card.member_id, []).append(card.hint)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    writer.writerows(_export_row(member, hints.get(member.id, []), zone) for member in everyone)
    with store.write() as db:
        audit.record(db, actor, "members.export", "", members=len(everyone))
    return len(everyone)


def _export_row(member: Member, hints: Iterable[str], zone: tzinfo) -> list[str]:
    return [
        member.first_name,
        member.last_name,
        member.email or "",
        member.organisation or "",
        member.tier,
        member.role,
        member.status,
        format_moment(member.valid_from, zone),
        format_moment(member.valid_until, zone, end_of_day=True),
        member.id,
        " ".join(hints),
    ]
