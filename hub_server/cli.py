"""``hubtap``: the hub server, the embedded broker, the demo and the admin commands."""

import argparse
from pathlib import Path
from types import ModuleType

from hub_server import (
    cli_bookings,
    cli_cards,
    cli_db,
    cli_doors,
    cli_events,
    cli_guests,
    cli_kiosks,
    cli_live,
    cli_members,
    cli_organisations,
    cli_places,
    cli_retention,
    cli_tiers,
    cli_tokens,
    cli_users,
)
from hub_server.config import HubConfig
from hub_server.demo import run_demo
from hub_server.server import run_server
from hublink.broker import BrokerConfig, EmbeddedBroker
from hublink.errors import BrokerError
from hublink.runtime import load_or_exit, setup_logging, stop_event_on_signals

ADMIN_GROUPS: tuple[ModuleType, ...] = (
    cli_db,
    cli_organisations,
    cli_members,
    cli_cards,
    cli_doors,
    cli_kiosks,
    cli_places,
    cli_tiers,
    cli_guests,
    cli_events,
    cli_bookings,
    cli_live,
    cli_tokens,
    cli_users,
    cli_retention,
)
"""Modules with ``add_commands(commands)``, each registering one group of admin commands."""


def _server(args: argparse.Namespace) -> int:
    return run_server(load_or_exit(HubConfig, args.config))


def _broker(args: argparse.Namespace) -> int:
    setup_logging("INFO")
    stop = stop_event_on_signals()
    try:
        with EmbeddedBroker(BrokerConfig(host=args.host, port=args.port)):
            stop.wait()
    except BrokerError as err:
        print(f"hubtap broker: {err}")
        return 1
    return 0


def _demo(args: argparse.Namespace) -> int:
    return run_demo(Path(args.dir), args.port)


def build_parser() -> argparse.ArgumentParser:
    """The ``hubtap`` command line."""
    parser = argparse.ArgumentParser(prog="hubtap", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    server = commands.add_parser("server", help="run the hub server")
    server.add_argument("--config", required=True, help="path to hub.toml")
    server.set_defaults(run=_server)

    broker = commands.add_parser("broker", help="run the embedded MQTT broker")
    broker.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    broker.add_argument("--port", type=int, default=1883, help="port to listen on (default 1883)")
    broker.set_defaults(run=_broker)

    demo = commands.add_parser("demo", help="run the whole system on this machine")
    demo.add_argument("--dir", default=".demo", help="folder for the demo's files (default .demo)")
    demo.add_argument("--port", type=int, help="broker port (default 1883, or a free one)")
    demo.set_defaults(run=_demo)

    for group in ADMIN_GROUPS:
        group.add_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``hubtap``."""
    args = build_parser().parse_args(argv)
    raise SystemExit(args.run(args))
