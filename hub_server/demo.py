"""``hubtap demo``: the whole system on one machine with embedded defaults.

Runs every part as its own process, as production does, and prints what
runs where. Parts are added here as they land.
"""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from hub_server.availability import AvailabilityBoard, Device
from hublink.config import MqttConfig
from hublink.link import Link
from hublink.runtime import stop_event_on_signals
from hublink.topics import Topics

SITE_ID = "demo"
DEFAULT_PORT = 1883
START_TIMEOUT_S = 20.0


@dataclass
class Part:
    """One process of the demo."""

    name: str
    what: str
    where: str
    process: subprocess.Popen[bytes]
    log_path: Path


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """True if ``port`` can be bound on ``host``."""
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def wait_listening(port: int, timeout: float, host: str = "127.0.0.1") -> bool:
    """Wait until something accepts connections on ``port``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection((host, port), timeout=0.5).close()
        except OSError:
            time.sleep(0.1)
        else:
            return True
    return False


def write_hub_config(workdir: Path, port: int) -> Path:
    """The demo hub's configuration file."""
    path = workdir / "hub.toml"
    path.write_text(
        f'log_level = "INFO"\ndata_dir = "{workdir / "hub"}"\n\n'
        f'[site]\nid = "{SITE_ID}"\n\n[mqtt]\nhost = "127.0.0.1"\nport = {port}\n'
    )
    return path


def _spawn(workdir: Path, name: str, what: str, where: str, *args: str) -> Part:
    log_path = workdir / f"{name.replace(' ', '-')}.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(  # noqa: S603  (our own interpreter and module)
            [sys.executable, "-m", "hub_server", *args],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches the demo, which stops parts in order
        )
    return Part(name, what, where, process, log_path)


def run_demo(workdir: Path, port: int | None = None) -> int:
    """Start the demo, print what runs where, run until Ctrl-C; return the exit status."""
    workdir = workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    if port is None:
        port = DEFAULT_PORT if port_is_free(DEFAULT_PORT) else free_port()
    stop = stop_event_on_signals()
    parts: list[Part] = []
    try:
        parts.append(
            _spawn(
                workdir,
                "broker",
                "embedded MQTT broker (amqtt)",
                f"127.0.0.1:{port}",
                "broker",
                "--port",
                str(port),
            )
        )
        if not wait_listening(port, START_TIMEOUT_S):
            return _fail(parts, f"the broker did not start listening on port {port}")
        hub_config = write_hub_config(workdir, port)
        parts.append(
            _spawn(
                workdir,
                "hub server",
                "hubtap server",
                f"config {hub_config}",
                "server",
                "--config",
                str(hub_config),
            )
        )
        _print_parts(parts, workdir)
        return _watch(parts, port, stop)
    finally:
        _stop_parts(parts)
        print("hubtap demo: stopped every process.", flush=True)


def _watch(parts: list[Part], port: int, stop: threading.Event) -> int:
    hub_online = threading.Event()

    def on_change(device: Device, status: str) -> None:
        print(f"  {device.kind} {device.id}: {status}", flush=True)
        if device.kind == "hub" and status == "online":
            hub_online.set()

    board = AvailabilityBoard(on_change)
    monitor = Link(MqttConfig(port=port), Topics(SITE_ID), client_id="hubtap-demo-monitor")
    board.attach(monitor)
    with monitor:
        if not hub_online.wait(START_TIMEOUT_S) and not stop.is_set():
            return _fail(parts, "the hub server did not come online")
        print("Ready. Press Ctrl-C to stop.", flush=True)
        while not stop.wait(0.5):
            for part in parts:
                if part.process.poll() is not None:
                    return _fail(parts, f"{part.name} exited with status {part.process.returncode}")
    return 0


def _fail(parts: list[Part], why: str) -> int:
    print(f"hubtap demo: {why}. Logs:", file=sys.stderr)
    for part in parts:
        print(f"  {part.log_path}", file=sys.stderr)
    return 1


def _print_parts(parts: list[Part], workdir: Path) -> None:
    print(f"hubtap demo — site '{SITE_ID}', files in {workdir}", flush=True)
    for part in parts:
        print(
            f"  {part.name:<11} {part.what:<30} {part.where}  (pid {part.process.pid}, "
            f"log {part.log_path.name})",
            flush=True,
        )
    print("Live device status:", flush=True)


def _stop_parts(parts: list[Part]) -> None:
    for part in reversed(parts):  # the broker last, so the others can say offline
        if part.process.poll() is None:
            os.kill(part.process.pid, signal.SIGTERM)
            try:
                part.process.wait(10)
            except subprocess.TimeoutExpired:
                part.process.kill()
                part.process.wait()
