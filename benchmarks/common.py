"""Helpers shared by the benchmarks: a broker, bounded waits, statistics, output."""

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from hublink.config import MqttConfig
from tests.helpers.brokers import Mosquitto

SITE = "bench"
CONNECT_TIMEOUT_S = 10.0

Result = dict[str, Any]


class BenchmarkError(RuntimeError):
    """A benchmark could not finish (a wait timed out); reported in the JSON."""


BROKER_SETTINGS = ("max_queued_messages 100000",)
"""Added to the test broker's config. Mosquitto's default per-client queue of
1000 messages drops QoS 1 messages for a subscriber slower than the sender, which
would hide what the Link delivered; ``--mosquitto-defaults`` leaves it out."""


@contextmanager
def mosquitto(settings: Sequence[str] = BROKER_SETTINGS) -> Iterator[int]:
    """Run the Debian Mosquitto, plus ``settings``, on a free loopback port; yields the port."""
    with tempfile.TemporaryDirectory(prefix="hubtap-bench-") as workdir:
        broker = Mosquitto(Path(workdir))
        with broker.config_path.open("a") as config:
            config.writelines(f"{line}\n" for line in settings)
        broker.start()
        try:
            yield broker.port
        finally:
            broker.stop()


def mqtt_config(port: int) -> MqttConfig:
    """Link settings for the benchmarks: loopback, quick reconnects."""
    return MqttConfig(host="127.0.0.1", port=port, reconnect_min_s=0.1, reconnect_max_s=0.5)


@contextmanager
def paho_client(port: int, client_id: str, inflight: int | None = None) -> Iterator[mqtt.Client]:
    """A bare paho client (MQTT 3.1.1), connected, its network loop under ``loop_start()``;
    ``inflight``: how many QoS 1 messages it may have unacknowledged (paho's default 20)."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
    if inflight is not None:
        client.max_inflight_messages_set(inflight)
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        wait_until(client.is_connected, CONNECT_TIMEOUT_S, f"{client_id} to connect")
        yield client
    finally:
        client.disconnect()
        client.loop_stop()


def wait_until(check: Callable[[], bool], timeout: float, what: str, poll: float = 0.005) -> float:
    """Poll ``check`` every ``poll`` seconds; the seconds it took, or :class:`BenchmarkError`."""
    start = time.perf_counter()
    deadline = start + timeout
    while not check():
        if time.perf_counter() >= deadline:
            raise BenchmarkError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(poll)
    return time.perf_counter() - start


class Counter:
    """A thread-safe count with the time of its last increment, and a bounded wait on it."""

    def __init__(self) -> None:
        self.value = 0
        self.last_at = 0.0
        self._cond = threading.Condition()

    def increment(self) -> None:
        """Count one event, stamped with :func:`time.perf_counter`."""
        now = time.perf_counter()
        with self._cond:
            self.value += 1
            self.last_at = now
            self._cond.notify_all()

    def wait_for(self, value: int, timeout: float) -> bool:
        """Block until the count reaches ``value``; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: self.value >= value, timeout)


def prime(send: Callable[[], None], received: Counter, timeout: float = CONNECT_TIMEOUT_S) -> None:
    """Send until one message comes back, proving the subscription is active."""
    target = received.value + 1
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        send()
        if received.wait_for(target, 0.2):
            return
    raise BenchmarkError(f"no message came back within {timeout:g} s of subscribing")


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """The ``fraction`` quantile of ascending values (linear interpolation)."""
    if not sorted_values:
        raise ValueError("no values")
    position = (len(sorted_values) - 1) * fraction
    low = math.floor(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def latency_summary(seconds: Sequence[float]) -> dict[str, float | int]:
    """Count, p50, p90, p99, mean and max of latencies, in microseconds."""
    ordered = sorted(seconds)
    summary: dict[str, float | int] = {"count": len(ordered)}
    for name, fraction in (("p50", 0.50), ("p90", 0.90), ("p99", 0.99)):
        summary[f"{name}_us"] = round(percentile(ordered, fraction) * 1e6, 1)
    summary["mean_us"] = round(statistics.fmean(ordered) * 1e6, 1)
    summary["max_us"] = round(ordered[-1] * 1e6, 1)
    return summary


def rate(count: int, seconds: float) -> float | None:
    """Messages per second, rounded; None if ``seconds`` is not a positive duration."""
    return round(count / seconds, 1) if seconds > 0 else None


def count_parser(description: str | None, default_count: int, what: str) -> argparse.ArgumentParser:
    """A parser with ``--count`` (``what`` says what is counted); add more options to it."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--count", type=int, default=default_count, help=f"{what} (default {default_count:,})"
    )
    return parser


def parse_counted(
    parser: argparse.ArgumentParser, argv: Sequence[str] | None
) -> argparse.Namespace:
    """Parse ``argv``, refusing a ``--count`` below 1."""
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error("--count must be at least 1")
    return args


def arguments(
    description: str | None, default_count: int, argv: Sequence[str] | None = None
) -> argparse.Namespace:
    """The options every broker benchmark takes: ``--count`` and ``--mosquitto-defaults``."""
    parser = count_parser(description, default_count, "messages per measurement")
    parser.add_argument(
        "--mosquitto-defaults",
        action="store_true",
        help=f"run the broker without {', '.join(BROKER_SETTINGS)!r}",
    )
    return parse_counted(parser, argv)


def broker_settings(args: argparse.Namespace) -> tuple[str, ...]:
    """The extra Mosquitto settings the options ask for."""
    return () if args.mosquitto_defaults else BROKER_SETTINGS


def emit(result: Result, file: TextIO = sys.stdout) -> None:
    """Write ``result`` as indented JSON (to stdout by default)."""
    json.dump(result, file, indent=2)
    file.write("\n")


def has_error(result: object) -> bool:
    """True if ``result`` or anything nested in it carries an ``error``."""
    if isinstance(result, dict):
        return "error" in result or any(has_error(value) for value in result.values())
    return False


def main_alone(
    run: Callable[[int, int], Result],
    description: str | None,
    default_count: int,
    argv: Sequence[str] | None = None,
) -> int:
    """Run one benchmark against its own Mosquitto and print its JSON; 1 on error."""
    args = arguments(description, default_count, argv)
    settings = broker_settings(args)
    with mosquitto(settings) as port:
        result = {"broker_settings": list(settings), **run(port, args.count)}
    emit(result)
    return 1 if has_error(result) else 0


@contextmanager
def pinned(pin: bool) -> Iterator[list[int] | str]:
    """Pin the calling thread (and threads it starts) to one CPU; yields what it runs on."""
    if not pin or not hasattr(os, "sched_setaffinity"):
        yield "any (pinning unsupported here)" if pin else "any (scheduler)"
        return
    saved = os.sched_getaffinity(0)
    cpu = min(saved)
    os.sched_setaffinity(0, {cpu})
    try:
        yield [cpu]
    finally:
        os.sched_setaffinity(0, saved)


def main_pinned(
    run: Callable[[int, bool], Result],
    description: str | None,
    default_count: int,
    what: str,
    argv: Sequence[str] | None = None,
) -> int:
    """Run a benchmark that needs no broker (``--count``, ``--no-pin``); print its JSON."""
    parser = count_parser(description, default_count, what)
    parser.add_argument(
        "--no-pin",
        dest="pin",
        action="store_false",
        help="do not pin the benchmark to one CPU (latencies become bimodal on a VM)",
    )
    args = parse_counted(parser, argv)
    result = run(args.count, args.pin)
    emit(result)
    return 1 if has_error(result) else 0


STOP_TIMEOUT_S = 10.0


def process_memory(pid: int) -> dict[str, int]:
    """``VmRSS`` and ``VmHWM`` of ``pid``, in bytes."""
    found: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            number, unit = value.split()
            if unit != "kB":
                raise BenchmarkError(f"/proc/{pid}/status gives {key} in {unit}")
            found[key] = int(number) * 1024
    if len(found) != 2:
        raise BenchmarkError(f"/proc/{pid}/status has no VmRSS or VmHWM")
    return found


def stop_process(process: subprocess.Popen[bytes]) -> int:
    """SIGTERM, then SIGKILL if it lingers; its exit code."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT_S)
    return process.returncode
