"""``hubtap-door``: run a door controller, check its hardware, or lock it."""

import argparse
import sys

from pydantic import BaseModel, ConfigDict, Field

from door.config import DoorConfig
from door.hardware_check import check_hardware
from door.service import run_door
from hardware.build import make_lock
from hardware.config import GpioConfig, LockConfig
from hardware.errors import HardwareError
from hardware.pins import make_pin_factory
from hublink.runtime import load_or_exit, setup_logging, stop_event_on_signals


def build_parser() -> argparse.ArgumentParser:
    """The ``hubtap-door`` command line."""
    parser = argparse.ArgumentParser(prog="hubtap-door", description=main.__doc__)
    parser.add_argument("--config", help="path to door.toml")
    commands = parser.add_subparsers(dest="command", metavar="command")

    def command(name: str, summary: str, description: str) -> argparse.ArgumentParser:
        # --config may come before or after the command
        sub = commands.add_parser(
            name, argument_default=argparse.SUPPRESS, help=summary, description=description
        )
        sub.add_argument("--config", help="path to door.toml")
        return sub

    check = command(
        "check-hardware",
        "list the hardware, wait for one tap, pulse the lock once",
        "List the configured hardware, wait for one tap and print its UID, "
        "then pulse the lock once.",
    )
    check.add_argument("--wait", type=float, default=30.0, help="seconds to wait for a tap")
    check.add_argument(
        "--no-pulse", action="store_true", default=False, help="do not pulse the lock"
    )
    command(
        "lock",
        "drive the lock locked and exit (systemd runs it after the service stops)",
        "Drive the lock output locked and exit: systemd's ExecStopPost runs this "
        "so the door is locked however the service ended, a SIGKILL included.",
    )
    return parser


def main(argv: list[str] | None = None) -> None:
    """Run one door: lock, reader, sensors, and its link to the hub."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.config:
        parser.error("--config is required")
    if args.command == "lock":
        raise SystemExit(lock_now(load_or_exit(LockOnlyConfig, args.config)))
    config = load_or_exit(DoorConfig, args.config)
    if args.command == "check-hardware":
        setup_logging("WARNING")
        raise SystemExit(check_hardware(config, sys.stdout, args.wait, pulse=not args.no_pulse))
    run_door(config, stop_event_on_signals())  # signals first: the lock wraps them to relock


class LockOnlyConfig(BaseModel):
    """Just what locking needs: a typo elsewhere in door.toml must not stop it."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    gpio: GpioConfig = Field(default_factory=GpioConfig)
    lock: LockConfig


def lock_now(config: LockOnlyConfig) -> int:
    """Drive the lock locked (a lock is locked the moment it is made) and release it."""
    setup_logging("WARNING")
    try:
        pins = make_pin_factory(config.gpio.pin_factory) if config.lock.kind == "gpio" else None
        with make_lock(config.lock, pins):
            pass
    except HardwareError as err:
        print(f"hubtap-door: the lock did not take the lock command: {err}", file=sys.stderr)
        return 1
    print("locked")
    return 0
