"""What every ``hubtap`` admin command shares: its configuration, the store, tables, errors.

A command is a function ``(admin, args) -> exit status`` wrapped by
:func:`command`, which loads the configuration and opens the store on first
use, closes the store afterwards, and turns errors into one line on stderr:
``hubtap: <message>``, exit status 1 for a refused action (a
:class:`~hub_server.errors.HubError`), 2 for a configuration problem.
"""

import argparse
import getpass
import os
import sys
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO
from zoneinfo import ZoneInfo

from hub_server.config import HubConfig
from hub_server.errors import HubError
from hub_server.member_csv import parse_moment
from hub_server.store import Store
from hublink.config import ENV_PREFIX, load_config
from hublink.errors import ConfigError

if TYPE_CHECKING:
    Commands = argparse._SubParsersAction[argparse.ArgumentParser]

PROG = "hubtap"
CONFIG_ENV = "HUBTAP_CONFIG"
DEFAULT_CONFIG = Path("/etc/hubtap/hub.toml")


class Failure(Exception):
    """A command cannot go on (a file it cannot read); ``status`` is its exit status."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


class Admin:
    """One admin command's configuration and store, each loaded when first asked for."""

    def __init__(self, config_path: str | None) -> None:
        self.explicit = bool(config_path or os.environ.get(CONFIG_ENV))
        self.config_path = Path(config_path or os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG)
        self._config: HubConfig | None = None
        self._store: Store | None = None

    @property
    def config(self) -> HubConfig:
        """``hub.toml`` with its environment overrides (``HUBTAP_CONFIG`` is not one)."""
        if self._config is None:
            try:
                self._config = load_config(HubConfig, self.config_path)
            except ConfigError as err:
                if self.explicit:
                    raise
                raise ConfigError(f"{err} (say which with --config or {CONFIG_ENV})") from err
        return self._config

    @property
    def store(self) -> Store:
        """The hub's database in ``data_dir``, created and migrated if need be."""
        if self._store is None:
            data_dir = self.config.data_dir
            try:
                self._store = Store.in_folder(data_dir)
            except OSError as err:
                raise Failure(
                    f"cannot open the hub database in {data_dir}: {err.strerror} "
                    "(set data_dir to a folder this user can write)"
                ) from err
        return self._store

    @property
    def actor(self) -> str:
        """Who the audit log says did it."""
        return f"cli:{getpass.getuser()}"

    @property
    def zone(self) -> ZoneInfo:
        """The hub's time zone: bare dates on the command line are days there."""
        return ZoneInfo(self.config.hub.timezone)

    def site_key(self, why: str) -> bytes:
        """The site key, or a :class:`ConfigError` saying where to set it."""
        if self.config.site.key is None:
            raise ConfigError(
                f"{why} needs the site key: set [site] key in {self.config_path} or "
                f"{ENV_PREFIX}SITE__KEY in the environment (the same key as on every door)"
            )
        return self.config.site.key_bytes()

    def optional_site_key(self) -> bytes | None:
        """The site key if the configuration has one."""
        return None if self.config.site.key is None else self.config.site.key_bytes()

    def moment(self, text: str | None, option: str, *, end_of_day: bool = False) -> datetime | None:
        """A ``--valid-from``/``--valid-until`` value: a date (a day in the hub's zone) or ISO."""
        if text is None:
            return None
        return parse_moment(text, self.zone, field=option, end_of_day=end_of_day)

    def close(self) -> None:
        """Close the store if it was opened."""
        if self._store is not None:
            self._store.close()


Handler = Callable[[Admin, argparse.Namespace], int]


def command(handler: Handler) -> Callable[[argparse.Namespace], int]:
    """``handler`` as a command: errors become ``hubtap: <message>`` and an exit status."""

    def run(args: argparse.Namespace) -> int:
        admin = Admin(args.config)
        try:
            return handler(admin, args)
        except ConfigError as err:
            return fail(str(err), 2)
        except HubError as err:
            return fail(str(err), 1)
        except Failure as err:
            return fail(str(err), err.status)
        finally:
            admin.close()

    return run


def fail(message: str, status: int) -> int:
    """Say what went wrong on stderr; returns ``status``."""
    print(f"{PROG}: {message}", file=sys.stderr)
    return status


def add_command(
    commands: "Commands", name: str, handler: Handler, help_text: str
) -> argparse.ArgumentParser:
    """A sub-command with ``--config`` that runs ``handler``."""
    parser = commands.add_parser(name, help=help_text, description=help_text)
    parser.add_argument(
        "--config",
        metavar="PATH",
        help=f"hub.toml (default: ${CONFIG_ENV}, else {DEFAULT_CONFIG})",
    )
    parser.set_defaults(run=command(handler))
    return parser


def add_group(commands: "Commands", name: str, help_text: str) -> "Commands":
    """A command group (``hubtap members``) whose sub-commands are required."""
    parser = commands.add_parser(name, help=help_text, description=help_text)
    return parser.add_subparsers(dest=f"{name}_command", required=True, metavar="COMMAND")


# --- output ----------------------------------------------------------------


def width(text: str) -> int:
    """Columns ``text`` takes in a terminal: combining marks none, wide characters two."""
    return sum(
        0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        for ch in text
    )


def print_table(
    headers: Sequence[str], rows: Iterable[Sequence[object]], out: TextIO | None = None
) -> None:
    """Rows as aligned columns under upper-case headers; ``None`` shows as ``-``."""
    out = out or sys.stdout
    cells = [[("-" if value is None else str(value)) for value in row] for row in rows]
    table = [[h.upper() for h in headers], *cells]
    widths = [max(width(row[i]) for row in table) for i in range(len(headers))]
    for row in table:
        padded = [cell + " " * (widths[i] - width(cell)) for i, cell in enumerate(row)]
        print("  ".join(padded).rstrip(), file=out)


def show_time(value: datetime | None, zone: ZoneInfo) -> str | None:
    """A stored time in the hub's zone, to the minute."""
    return None if value is None else value.astimezone(zone).strftime("%Y-%m-%d %H:%M")


class ProgressBar:
    """``progress(done, total)`` on stderr: a redrawn bar on a terminal, else a line per 25%."""

    BAR = 30

    def __init__(self, label: str, out: TextIO | None = None) -> None:
        self.label = label
        self.out = out or sys.stderr
        self.tty = self.out.isatty()
        self._shown = -1

    def __call__(self, done: int, total: int) -> None:
        percent = 100 if total == 0 else done * 100 // total
        if self.tty:
            if percent == self._shown and done != total:
                return
            filled = self.BAR * percent // 100
            bar = "#" * filled + " " * (self.BAR - filled)
            end = "\n" if done == total else ""
            self.out.write(f"\r{self.label} [{bar}] {percent:3d}% {done}/{total}{end}")
            self.out.flush()
            self._shown = percent
        elif percent // 25 > self._shown:
            print(f"{self.label}: {percent}% ({done}/{total})", file=self.out)
            self._shown = percent // 25
