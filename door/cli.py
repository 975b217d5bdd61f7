"""``hubtap-door``: run a door controller, or check its hardware."""

import argparse
import sys

from door.config import DoorConfig
from door.controller import DoorController
from door.hardware_check import check_hardware
from hardware.build import open_door_hardware
from hardware.errors import HardwareError
from hublink.runtime import load_or_exit, run_device, setup_logging, stop_event_on_signals


def build_parser() -> argparse.ArgumentParser:
    """The ``hubtap-door`` command line."""
    parser = argparse.ArgumentParser(prog="hubtap-door", description=main.__doc__)
    parser.add_argument("--config", help="path to door.toml")
    commands = parser.add_subparsers(dest="command", metavar="command")
    check = commands.add_parser(
        "check-hardware",
        # --config may come before or after the command
        argument_default=argparse.SUPPRESS,
        help="list the hardware, wait for one tap, pulse the lock once",
        description="List the configured hardware, wait for one tap and print its UID, "
        "then pulse the lock once.",
    )
    check.add_argument("--config", help="path to door.toml")
    check.add_argument("--wait", type=float, default=30.0, help="seconds to wait for a tap")
    check.add_argument(
        "--no-pulse", action="store_true", default=False, help="do not pulse the lock"
    )
    return parser


def main(argv: list[str] | None = None) -> None:
    """Run one door: lock, reader, sensors, and its link to the hub."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.config:
        parser.error("--config is required")
    config = load_or_exit(DoorConfig, args.config)
    if args.command == "check-hardware":
        setup_logging("WARNING")
        raise SystemExit(check_hardware(config, sys.stdout, args.wait, pulse=not args.no_pulse))
    door_id = config.door.id
    stop = stop_event_on_signals()  # before the lock, which wraps these handlers to relock first
    try:
        hardware = open_door_hardware(config)
    except HardwareError as err:
        print(f"hubtap-door: {err}", file=sys.stderr)
        raise SystemExit(1) from err
    with hardware:
        DoorController(hardware).start()
        run_device(
            config, f"hubtap-door-{door_id}", lambda topics: topics.door_availability(door_id), stop
        )
