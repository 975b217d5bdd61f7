"""``hubtap-kiosk --config kiosk.toml``: run the entrance kiosk."""

import argparse
from pathlib import Path

from hublink.runtime import load_or_exit, stop_event_on_signals
from kiosk.config import KioskConfig
from kiosk.service import run_kiosk


def build_parser() -> argparse.ArgumentParser:
    """The ``hubtap-kiosk`` command line."""
    parser = argparse.ArgumentParser(prog="hubtap-kiosk", description=main.__doc__)
    parser.add_argument("--config", required=True, help="path to kiosk.toml")
    parser.add_argument(
        "--offscreen",
        action="store_true",
        help="draw without a display (demo, tests); pair with --screenshots",
    )
    parser.add_argument(
        "--screenshots",
        metavar="DIR",
        type=Path,
        help="write each new screen to DIR as <screen>.png, and screen.json",
    )
    return parser


def main(argv: list[str] | None = None) -> None:
    """Show the entrance kiosk: greetings, occupancy, events and actions by tap."""
    args = build_parser().parse_args(argv)
    config = load_or_exit(KioskConfig, args.config)
    run_kiosk(
        config, stop_event_on_signals(), offscreen=args.offscreen, screenshot_dir=args.screenshots
    )
