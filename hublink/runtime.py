"""What every hubtap service process does around its work: logs and signals."""

import logging
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import TypeVar

from pydantic import BaseModel

from hublink.config import ServiceConfig, load_config
from hublink.errors import ConfigError, OutboxError
from hublink.link import Link
from hublink.outbox import Outbox
from hublink.topics import Topics

C = TypeVar("C", bound=BaseModel)

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(level: str) -> None:
    """Log to stderr at ``level`` in one format for every service."""
    logging.basicConfig(level=level, format=LOG_FORMAT)


def stop_event_on_signals() -> threading.Event:
    """An event set by SIGINT or SIGTERM, so services can stop cleanly."""
    stop = threading.Event()

    def handle(signum: int, frame: FrameType | None) -> None:
        logging.getLogger(__name__).info("received %s, stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)
    return stop


def load_or_exit(model: type[C], path: str | None) -> C:
    """Load a service's configuration, or print why not and exit with status 2."""
    try:
        return load_config(model, path)
    except ConfigError as err:
        print(f"{sys.argv[0]}: {err}", file=sys.stderr)
        raise SystemExit(2) from err


def open_outbox_or_exit(config: ServiceConfig) -> Outbox:
    """The service's durable outbox in its data folder, or say why not and exit with 1."""
    try:
        return Outbox(
            config.data_dir / "outbox.sqlite3",
            config.outbox.synchronous,
            config.outbox.max_messages,
        )
    except OutboxError as err:
        print(
            f"{sys.argv[0]}: {err} (set data_dir to a folder this user can write)", file=sys.stderr
        )
        raise SystemExit(1) from err


def serve(link: Link, stop: threading.Event) -> None:
    """Run ``link`` until ``stop`` is set, then say offline and disconnect."""
    with link:
        stop.wait()


def run_device(
    config: ServiceConfig,
    client_id: str,
    availability: Callable[[Topics], str],
    stop: threading.Event | None = None,
) -> None:
    """Connect a device with its durable outbox and availability until ``stop``.

    Without ``stop``, SIGINT and SIGTERM stop it.
    """
    setup_logging(config.log_level)
    topics = Topics(config.site.id)
    with open_outbox_or_exit(config) as outbox:
        link = Link(
            config.mqtt,
            topics,
            client_id=client_id,
            availability_topic=availability(topics),
            outbox=outbox,
        )
        serve(link, stop or stop_event_on_signals())
