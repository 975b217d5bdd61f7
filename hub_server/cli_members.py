"""``hubtap members``: add, list, show, deactivate, import, export and erase members."""

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args

from hub_server import calendar_feed, cards, member_csv, member_erasure, member_export, members
from hub_server.cli_common import Admin, Failure, ProgressBar, add_command, add_group, print_table
from hub_server.cli_common import show_time as _time
from hub_server.member_csv import check_window, format_moment
from hub_server.models import MemberIn, MemberRole, MemberStatus, build
from hublink.messages import utcnow

if TYPE_CHECKING:
    from hub_server.cli_common import Commands


def add_commands(commands: "Commands") -> None:
    """Register ``hubtap members …``."""
    group = add_group(commands, "members", "the people who hold cards")

    add = add_command(group, "add", _add, "add a member and print the new member's id")
    add.add_argument(
        "--first-name", metavar="NAME", required=True, help="first name (the kiosk shows only it)"
    )
    add.add_argument("--last-name", metavar="NAME", required=True, help="last name")
    add.add_argument("--email", help="email address (unique)")
    add.add_argument("--organisation", metavar="ORG", help="organisation id or name")
    add.add_argument("--tier", help="membership tier (default member)")
    add.add_argument("--role", choices=get_args(MemberRole), help="member (default) or admin")
    add.add_argument(
        "--valid-from", metavar="DATE", help="first day (YYYY-MM-DD) or ISO date and time"
    )
    add.add_argument(
        "--valid-until", metavar="DATE", help="last day (YYYY-MM-DD, inclusive) or ISO time"
    )
    add.add_argument("--id", help="member id (default: a random m-… id)")

    find = add_command(group, "list", _list, "list members by last name")
    find.add_argument("--search", metavar="TEXT", help="words in the name or email (any accents)")
    find.add_argument("--organisation", metavar="ORG", help="organisation id or name")
    find.add_argument("--status", choices=get_args(MemberStatus), help="only this status")
    find.add_argument("--limit", type=int, default=100, help="most rows to show (default 100)")

    show = add_command(group, "show", _show, "show a member and their cards")
    show.add_argument("member", metavar="MEMBER", help="member id")

    deactivate = add_command(
        group, "deactivate", _deactivate, "take a member off every door (cards stay on record)"
    )
    deactivate.add_argument("member", metavar="MEMBER", help="member id")

    load = add_command(group, "import", _import, "import members from a CSV file")
    load.add_argument("file", metavar="FILE", help="CSV file, or - for standard input")
    load.add_argument(
        "--all-or-nothing",
        action="store_true",
        help="import nothing if any row is rejected",
    )
    load.add_argument("--dry-run", action="store_true", help="check every row, import nothing")
    load.add_argument(
        "--encoding", metavar="ENC", help="the file's encoding (default UTF-8; e.g. cp1252)"
    )

    calendar = add_command(
        group, "calendar", _calendar, "issue a member's private calendar address (shown once)"
    )
    calendar.add_argument("member", metavar="MEMBER", help="member id")
    calendar.add_argument("--revoke", action="store_true", help="close the address instead")
    export = add_command(group, "export", _export, "write every member as CSV")
    export.add_argument("--output", metavar="FILE", help="write to FILE (default: standard output)")

    data = add_command(
        group, "export-data", _export_data, "write everything held about one member as JSON"
    )
    data.add_argument("member", metavar="MEMBER", help="member id")
    data.add_argument(
        "--output",
        metavar="FILE",
        help="write to FILE, readable by its owner only (default: standard output)",
    )

    erase = add_command(
        group, "erase", _erase, "erase a member: the person goes, anonymous counts stay"
    )
    erase.add_argument("member", metavar="MEMBER", help="member id")
    erase.add_argument("--yes", action="store_true", help="really erase (it cannot be undone)")


def _add(admin: Admin, args: argparse.Namespace) -> int:
    valid_from = admin.moment(args.valid_from, "--valid-from")
    valid_until = admin.moment(args.valid_until, "--valid-until", end_of_day=True)
    check_window(valid_from, valid_until, "--valid-until")
    given: dict[str, Any] = {
        "first_name": args.first_name,
        "last_name": args.last_name,
        "email": args.email,
        "organisation": args.organisation,
        "tier": args.tier,
        "role": args.role,
        "valid_from": valid_from,
        "valid_until": valid_until,
        "id": args.id,
    }
    data = build(MemberIn, **{k: v for k, v in given.items() if v is not None})
    member = members.add(admin.store, data, admin.actor)
    print(member.id)
    return 0


def _list(admin: Admin, args: argparse.Namespace) -> int:
    if args.limit < 1:
        raise Failure("--limit must be at least 1", 2)
    filters = {"search": args.search, "organisation": args.organisation, "status": args.status}
    found = members.find(admin.store, limit=args.limit, **filters)
    print_table(
        ("first name", "last name", "organisation", "status", "id"),
        ((m.first_name, m.last_name, m.organisation, m.status, m.id) for m in found),
    )
    if len(found) == args.limit:
        total = members.count(admin.store, **filters)
        if total > len(found):
            print(f"({len(found)} of {total} shown; use --limit or --search)")
    return 0


def _show(admin: Admin, args: argparse.Namespace) -> int:
    member = members.get(admin.store, args.member)
    zone = admin.zone
    organisation = (
        f"{member.organisation} ({member.organisation_id})" if member.organisation_id else None
    )
    fields = {
        "id": member.id,
        "first name": member.first_name,
        "last name": member.last_name,
        "email": member.email,
        "organisation": organisation,
        "tier": member.tier,
        "role": member.role,
        "status": member.status,
        "valid from": format_moment(member.valid_from, zone) or None,
        "valid until": format_moment(member.valid_until, zone, end_of_day=True) or None,
        "created": _time(member.created_at, zone),
        "updated": _time(member.updated_at, zone),
    }
    label_width = max(len(label) for label in fields) + 2
    for label, value in fields.items():
        print(f"{label + ':':<{label_width}}{'-' if value is None else value}")
    held = cards.find(admin.store, member_id=member.id, include_revoked=True)
    if not held:
        print("cards: none")
        return 0
    print("cards:")
    print_table(
        ("id", "card", "kind", "label", "status", "issued"),
        ((c.id, f"…{c.hint}", c.kind, c.label, c.status, _time(c.issued_at, zone)) for c in held),
    )
    return 0


def _calendar(admin: Admin, args: argparse.Namespace) -> int:
    if args.revoke:
        closed = calendar_feed.revoke_token(admin.store, args.member, admin.actor)
        print(f"{args.member}'s calendar address " + ("is closed" if closed else "was not open"))
        return 0
    token = calendar_feed.issue_token(admin.store, args.member, admin.actor)
    print(f"/calendar/member/{token}.ics")
    print("(shown once; prefix the dashboard's address; issuing again closes this one)")
    return 0


def _deactivate(admin: Admin, args: argparse.Namespace) -> int:
    member = members.deactivate(admin.store, args.member, admin.actor)
    print(
        f"{member.id} ({member.first_name} {member.last_name}) is inactive: "
        "their cards leave every door's list"
    )
    return 0


def _import(admin: Admin, args: argparse.Namespace) -> int:
    try:
        data = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    except OSError as err:
        raise Failure(f"cannot read {args.file}: {err.strerror}") from err
    report = member_csv.import_members(
        admin.store,
        data,
        file_name="standard input" if args.file == "-" else args.file,
        actor=admin.actor,
        zone=admin.zone,
        site_key=admin.optional_site_key(),
        encoding=args.encoding,
        all_or_nothing=args.all_or_nothing,
        dry_run=args.dry_run,
        progress=ProgressBar("importing"),
    )
    for line in _summary(report):
        print(line)
    for rejected in report.rejected:
        print(rejected, file=sys.stderr)
    return 1 if report.rejected else 0


def _summary(report: member_csv.ImportReport) -> list[str]:
    rejected = len(report.rejected)
    if report.dry_run:
        lines = [
            f"dry run: {report.accepted} of {report.rows} rows would be imported, "
            f"{rejected} rejected; nothing was written"
        ]
    elif not report.written:
        lines = [
            f"all or nothing: {rejected} of {report.rows} rows rejected, so nothing was imported"
        ]
    else:
        lines = [
            f"imported {report.imported} of {report.rows} rows from {report.file_name}"
            + (f", {rejected} rejected" if rejected else "")
        ]
    verb = "" if report.written else " (not written)"
    if report.organisations_created:
        names = ", ".join(report.organisations_created)
        lines.append(f"new organisations{verb}: {names}")
    if report.cards:
        lines.append(f"cards attached{verb}: {report.cards}")
    return lines


def _export(admin: Admin, args: argparse.Namespace) -> int:
    if args.output is None:
        member_csv.export_members(admin.store, sys.stdout, zone=admin.zone, actor=admin.actor)
        return 0
    try:
        with Path(args.output).open("w", encoding="utf-8", newline="") as out:
            count = member_csv.export_members(admin.store, out, zone=admin.zone, actor=admin.actor)
    except OSError as err:
        raise Failure(f"cannot write {args.output}: {err.strerror}") from err
    print(f"exported {count} members to {args.output}", file=sys.stderr)
    return 0


def _export_data(admin: Admin, args: argparse.Namespace) -> int:
    data = member_export.export(admin.store, args.member, actor=admin.actor)
    text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if args.output is None:
        sys.stdout.write(text)
        return 0
    try:
        fd = os.open(args.output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            os.fchmod(out.fileno(), 0o600)  # also when the file was there before
            out.write(text)
    except OSError as err:
        raise Failure(f"cannot write {args.output}: {err.strerror}") from err
    print(f"exported {args.member}'s data to {args.output}", file=sys.stderr)
    return 0


ERASE_WARNING = (
    "erasing {id} ({name}) cancels their future bookings, guest passes and sign-ups, ends "
    "their stay on site, deletes their cards, enrolments, calendar address, check-outs and "
    "notifications and the member, and keeps their past bookings, sign-ups and hosted events "
    'under an anonymous stand-in ("Erased member"); taps and stays stay only as anonymous '
    "counts. It cannot be undone: run again with --yes"
)


def _erase(admin: Admin, args: argparse.Namespace) -> int:
    member = members.get(admin.store, args.member)
    if not args.yes:
        name = f"{member.first_name} {member.last_name}"
        raise Failure(ERASE_WARNING.format(id=member.id, name=name))
    result = member_erasure.erase(admin.store, member.id, admin.actor, utcnow())
    print(f"{member.id} is erased; what is kept now belongs to {result.tombstone_id}")
    print_table(("record", "count"), sorted(result.counts.items()))
    return 0
