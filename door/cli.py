"""``hubtap-door --config door.toml``: run one door controller."""

import argparse

from door.config import DoorConfig
from hublink.runtime import load_or_exit, run_device


def main(argv: list[str] | None = None) -> None:
    """Connect this door to the hub's broker and report its availability."""
    parser = argparse.ArgumentParser(prog="hubtap-door", description=main.__doc__)
    parser.add_argument("--config", required=True, help="path to door.toml")
    config = load_or_exit(DoorConfig, parser.parse_args(argv).config)
    door_id = config.door.id
    run_device(config, f"hubtap-door-{door_id}", lambda topics: topics.door_availability(door_id))
