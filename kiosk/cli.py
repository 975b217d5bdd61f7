"""``hubtap-kiosk --config kiosk.toml``: run the entrance kiosk."""

import argparse

from hublink.runtime import load_or_exit, run_device
from kiosk.config import KioskConfig


def main(argv: list[str] | None = None) -> None:
    """Connect this kiosk to the hub's broker and report its availability."""
    parser = argparse.ArgumentParser(prog="hubtap-kiosk", description=main.__doc__)
    parser.add_argument("--config", required=True, help="path to kiosk.toml")
    config = load_or_exit(KioskConfig, parser.parse_args(argv).config)
    kiosk_id = config.kiosk.id
    run_device(
        config, f"hubtap-kiosk-{kiosk_id}", lambda topics: topics.kiosk_availability(kiosk_id)
    )
