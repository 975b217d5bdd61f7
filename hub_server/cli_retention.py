"""``hubtap retention``: delete the personal records past keeping now, or see where it stands.

The hub server runs the same job every ``[retention] interval_h``; a run beside it is safe.
"""

import argparse
from datetime import datetime
from typing import TYPE_CHECKING

from hub_server import retention
from hub_server.cli_common import Admin, add_command, add_group, print_table, show_time
from hublink.messages import utcnow

if TYPE_CHECKING:
    from hub_server.cli_common import Commands


def add_commands(commands: "Commands") -> None:
    """Register ``hubtap retention …``."""
    group = add_group(commands, "retention", "delete access records past keeping")
    run = add_command(group, "run", _run, "fold and delete the records past keeping now")
    run.add_argument(
        "--dry-run", action="store_true", help="say what would be deleted, deleting nothing"
    )
    add_command(
        group, "status", _status, "show the cut-offs, how far occupancy is folded, row counts"
    )


def _run(admin: Admin, args: argparse.Namespace) -> int:
    config, now = admin.config.retention, utcnow()
    if args.dry_run:
        result = retention.pending(admin.store, config, now)
    else:
        result = retention.run(admin.store, config, now, actor=admin.actor)
    _cutoffs(admin, result.cutoff, result.audit_cutoff)
    print(
        f"{'would fold' if args.dry_run else 'folded'} {result.folded_hours} hour(s) of occupancy"
        f" into hourly counts (counts up to {show_time(result.folded_until, admin.zone)})"
    )
    print_table(
        ("table", "would delete" if args.dry_run else "deleted"),
        [*result.deleted.items(), ("total", result.total)],
    )
    return 0


def _status(admin: Admin, args: argparse.Namespace) -> int:
    state = retention.status(admin.store, admin.config.retention, utcnow())
    _cutoffs(admin, state.cutoff, state.audit_cutoff)
    folded = show_time(state.folded_until, admin.zone)
    print(
        f"occupancy kept as hourly counts: {'nothing yet' if folded is None else f'up to {folded}'}"
    )
    print_table(
        ("table", "rows", "past cut-off"),
        [(table, rows, state.due.get(table)) for table, rows in state.rows.items()],
    )
    return 0


def _cutoffs(admin: Admin, cutoff: datetime, audit_cutoff: datetime) -> None:
    config, zone = admin.config.retention, admin.zone
    print(
        f"access events, stays and the like before {show_time(cutoff, zone)} are deleted"
        f" (access_days {config.access_days})"
    )
    print(
        f"audit log entries before {show_time(audit_cutoff, zone)} are deleted"
        f" (audit_days {config.audit_days})"
    )
