"""Run one door: hardware, access list, outbox and link around the controller."""

import contextlib
import ctypes
import logging
import sys
import threading
import time
from pathlib import Path

from door.config import DoorConfig
from door.controller import DoorController
from door.replica import Replica, ReplicaError
from door.saved_state import SavedState
from hardware.build import open_door_hardware
from hardware.errors import HardwareError
from hublink.link import Link
from hublink.runtime import open_outbox_or_exit, setup_logging
from hublink.systemd import notify
from hublink.topics import Topics

log = logging.getLogger(__name__)

TICK_S = 0.25
M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter
LARGE_BLOCK = 128 * 1024


def keep_large_blocks_unpooled() -> None:
    """Have glibc give every large block (an access-list payload) back when freed.

    By default glibc raises its mmap threshold after a large block is freed,
    so the next 15 MB snapshot comes from the heap and may stay there: fixed
    at 128 KiB, payloads are mapped and unmapped, and the door stays small.
    """
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to tune
        ctypes.CDLL("libc.so.6").mallopt(M_MMAP_THRESHOLD, LARGE_BLOCK)


def open_replica(path: Path, door_id: str) -> Replica:
    """The door's access list; an unreadable file is set aside and the list fetched anew."""
    try:
        return Replica(path, door_id)
    except ReplicaError as err:
        if not path.is_file():
            raise
        aside = path.with_name(f"{path.name}.unreadable-{int(time.time())}")
        log.critical("%s; moving it to %s and waiting for a fresh snapshot", err, aside.name)
        path.rename(aside)
        for suffix in ("-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
        return Replica(path, door_id)


def run_door(config: DoorConfig, stop: threading.Event) -> None:
    """Run the door until ``stop`` is set; the lock is locked before and after."""
    setup_logging(config.log_level)
    keep_large_blocks_unpooled()
    door_id = config.door.id
    topics = Topics(config.site.id)
    try:
        hardware = open_door_hardware(config)  # the lock is driven locked first of all
    except HardwareError as err:
        print(f"hubtap-door: {err}", file=sys.stderr)
        raise SystemExit(1) from err
    with hardware, open_outbox_or_exit(config) as outbox:
        try:
            replica = open_replica(config.data_dir / "acl.sqlite3", door_id)
        except (ReplicaError, OSError) as err:
            print(f"hubtap-door: {err}", file=sys.stderr)
            raise SystemExit(1) from err
        with replica:
            link = Link(
                config.mqtt,
                topics,
                client_id=f"hubtap-door-{door_id}",
                availability_topic=topics.door_availability(door_id),
                outbox=outbox,
            )
            saved = SavedState(config.data_dir / "door-state.json")
            controller = DoorController(config, hardware, replica, link, saved)
            controller.subscribe()
            with link:
                controller.start()
                notify("READY=1")
                log.info("door %s ready: list version %d", door_id, replica.version)
                try:
                    while not stop.wait(TICK_S):
                        controller.tick()
                        notify("WATCHDOG=1")
                finally:
                    notify("STOPPING=1")
                    hardware.reader.close()
                    controller.close()
