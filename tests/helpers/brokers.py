"""Brokers for tests: a real Mosquitto process and the embedded amqtt broker.

Both bind to 127.0.0.1 on a port chosen free at start, and can be stopped and
started again on the same port to simulate an outage.
"""

import getpass
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Protocol

from hub_server.demo import free_port, wait_listening
from hublink.broker import BrokerConfig, EmbeddedBroker
from tests.helpers.pausable import Pausable

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


class BrokerUnderTest(Protocol):
    port: int

    def start(self) -> None: ...
    def stop(self) -> None: ...


class BrokerProcess(Pausable):
    """A broker in its own process: started, paused (SIGSTOP), resumed and stopped."""

    port: int
    workdir: Path
    process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def start(self) -> None:
        with (self.workdir / f"{type(self).__name__.lower()}.log").open("ab") as log:
            self.process = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT)
        if not wait_listening(self.port, 10):
            raise RuntimeError(f"{type(self).__name__} did not listen on {self.port}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)  # a paused process cannot act on SIGTERM
            self.process.terminate()
            self.process.wait(10)
        self.process = None
        _wait_closed(self.port)


class Mosquitto(BrokerProcess):
    """A real Mosquitto with a generated config file, on loopback."""

    def __init__(
        self,
        workdir: Path,
        *,
        persistence: bool = False,
        extra: tuple[str, ...] = (),
        port: int | None = None,
    ) -> None:
        self.port = port or free_port()
        self.workdir = workdir
        self.config_path = workdir / "mosquitto.conf"
        lines = [
            f"listener {self.port} 127.0.0.1",
            f"user {getpass.getuser()}",  # as root it would switch to 'mosquitto' and lose tmp_path
            *(extra or ("allow_anonymous true",)),
            "max_queued_messages 100000",  # what docs/protocol.md asks of a hubtap broker
            f"persistence {'true' if persistence else 'false'}",
            f"persistence_location {workdir}/",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
        ]
        self.config_path.write_text("\n".join(lines) + "\n")

    def command(self) -> list[str]:
        return [MOSQUITTO, "-c", str(self.config_path)]


class EmbeddedProcess(BrokerProcess):
    """The embedded broker as its own process (``hubtap broker``), as the demo runs it."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir

    def command(self) -> list[str]:
        return [sys.executable, "-m", "hub_server", "broker", "--port", str(self.port)]


class Embedded:
    """The embedded amqtt broker, restartable on the same port."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.broker: EmbeddedBroker | None = None

    def start(self) -> None:
        self.broker = EmbeddedBroker(BrokerConfig(port=self.port)).start()

    def stop(self) -> None:
        if self.broker is not None:
            self.broker.stop()
        self.broker = None
        _wait_closed(self.port)


def _wait_closed(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        except OSError:
            return
        time.sleep(0.05)
