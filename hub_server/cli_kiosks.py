"""``hubtap kiosks``: register entrance kiosks, so the server publishes their directories."""

import argparse
from typing import TYPE_CHECKING

from hub_server import kiosks
from hub_server.cli_common import Admin, add_command, add_group, print_table
from hub_server.models import KioskIn, build

if TYPE_CHECKING:
    from hub_server.cli_common import Commands


def add_commands(commands: "Commands") -> None:
    """Register ``hubtap kiosks …``."""
    group = add_group(commands, "kiosks", "entrance kiosks")

    add = add_command(group, "add", _add, "register a kiosk")
    add.add_argument("id", metavar="ID", help="kiosk id, as in the kiosk's kiosk.toml")
    add.add_argument("--name", required=True, help="a name people know it by")

    add_command(group, "list", _list, "list kiosks with their published directory")

    remove = add_command(group, "remove", _remove, "unregister a kiosk")
    remove.add_argument("id", metavar="ID", help="the kiosk's id")


def _add(admin: Admin, args: argparse.Namespace) -> int:
    kiosk = kiosks.add(admin.store, build(KioskIn, id=args.id, name=args.name), admin.actor)
    print(f"kiosk {kiosk.id} ({kiosk.name}) added; it gets its directory from the running server")
    return 0


def _list(admin: Admin, args: argparse.Namespace) -> int:
    print_table(
        ("id", "name", "directory", "entries"),
        (
            (k.id, k.name, k.directory_version, k.directory_entries)
            for k in kiosks.all_kiosks(admin.store)
        ),
    )
    return 0


def _remove(admin: Admin, args: argparse.Namespace) -> int:
    kiosks.remove(admin.store, args.id, admin.actor)
    print(f"kiosk {args.id} removed; the running server sends it an empty directory")
    return 0
