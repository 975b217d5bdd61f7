"""``hubtap db``: create, migrate and inspect the hub's database."""

import argparse
from typing import TYPE_CHECKING

from hub_server.cli_common import Admin, Failure, add_command, add_group
from hub_server.schema import MIGRATIONS
from hub_server.store import DB_NAME

if TYPE_CHECKING:
    from hub_server.cli_common import Commands


def add_commands(commands: "Commands") -> None:
    """Register ``hubtap db …``."""
    group = add_group(commands, "db", "the hub's database")
    add_command(group, "init", _init, "create the database, or bring it to the current schema")
    add_command(group, "status", _status, "say where the database is and its schema version")


def _init(admin: Admin, args: argparse.Namespace) -> int:
    path = admin.config.data_dir / DB_NAME
    existed = path.exists()
    version = admin.store.schema_version()  # opening creates and migrates
    print(f"{'database' if existed else 'created'} {path}: schema version {version}")
    return 0


def _status(admin: Admin, args: argparse.Namespace) -> int:
    path = admin.config.data_dir / DB_NAME
    if not path.exists():
        raise Failure(f"no database at {path} yet: run hubtap db init")
    version = admin.store.schema_version()  # opening migrates an older database
    size_kib = path.stat().st_size / 1024
    print(f"database {path}: schema version {version} of {len(MIGRATIONS)}, {size_kib:.0f} KiB")
    return 0
