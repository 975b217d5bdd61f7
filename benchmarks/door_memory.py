"""Resident memory of the real ``hubtap-door`` service holding 100,000 cards.

The benchmark starts the installed ``hubtap-door --config door.toml`` (the
console script next to this interpreter) against Mosquitto on loopback, with
gpiozero's mock pins (``[gpio] pin_factory = "mock"``, a GPIO lock on pin
17), the mock reader, a ``[site] key`` and a data folder in a temporary
directory. Two runs, each a fresh process and data folder:

- ``empty``: the hub's availability is ``online`` (retained) but no list is
  published; once the door's retained ``door/<door_id>/state`` has arrived,
  the process settles, and its memory is read.
- ``list``: the realistic 100,000-card snapshot of ``benchmarks.door_common``
  is published retained on ``door/<door_id>/acl/snapshot`` before the door
  starts, so the door receives it on subscribing, decodes it and applies it to
  its replica; once its retained state reports ``acl_version`` = the list's
  version (``sync_s`` after the process started), it settles and its
  memory is read.

Memory is ``VmRSS`` (resident now, after ``SETTLE_S``: the target) and
``VmHWM`` (the peak resident size, informational) from ``/proc/<pid>/status``,
in MB (10^6 bytes) and MiB. Target: steady RSS with the list at most 80 MB.
"""

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.common import (
    SITE,
    BenchmarkError,
    Result,
    emit,
    has_error,
    mosquitto,
    paho_client,
)
from benchmarks.door_common import ENTRIES, encoded
from hublink.errors import MessageError
from hublink.messages import AVAILABILITY, DOOR_STATE, Availability
from hublink.topics import Topics
from tests.helpers.door_hardware import MOCK_HARDWARE_TOML, SITE_KEY_TOML

RSS_MAX_MB = 80.0
EMPTY_DOOR_ID = "bench-empty"
SYNC_TIMEOUT_S = 60.0
SETTLE_S = 3.0
"""Seconds between the state the benchmark waits for and reading the memory."""
STOP_TIMEOUT_S = 10.0
PUBLISH_TIMEOUT_S = 30.0
LOG_TAIL = 2000
MB = 1e6
MIB = 1024 * 1024


def door_command() -> list[str]:
    """``hubtap-door`` of this interpreter's environment."""
    return [str(Path(sys.executable).with_name("hubtap-door"))]


def run(port: int, entries: int = ENTRIES) -> Result:
    """Measure the door's memory without a list and with ``entries`` cards."""
    listed = encoded(entries)
    result: Result = {
        "benchmark": "door_memory",
        "entries": entries,
        "payload_bytes": len(listed.payload),
        "command": "hubtap-door --config door.toml",
        "hardware": "gpiozero mock pins (lock on pin 17), mock reader",
        "settle_s": SETTLE_S,
        "rss_max_mb": RSS_MAX_MB,
    }
    started = time.perf_counter()
    topics = Topics(SITE)
    try:
        with paho_client(port, "bench-hub-memory") as hub:
            _publish(
                hub, topics.hub_availability(), AVAILABILITY.encode(Availability(status="online"))
            )
            result["empty"] = _door_run(port, EMPTY_DOOR_ID, None)
            _publish(hub, topics.door_acl_snapshot(listed.door_id), listed.payload)
            result["list"] = _door_run(port, listed.door_id, listed.version)
    except (BenchmarkError, OSError, subprocess.SubprocessError) as err:
        result.update(error=f"{type(err).__name__}: {err}", meets_target=False)
        return result
    result["list_minus_empty_mb"] = round(result["list"]["rss_mb"] - result["empty"]["rss_mb"], 1)
    result["meets_target"] = result["list"]["rss_mb"] <= RSS_MAX_MB
    result["duration_s"] = round(time.perf_counter() - started, 2)
    return result


def _publish(client: Any, topic: str, payload: bytes) -> None:
    info = client.publish(topic, payload, qos=1, retain=True)
    info.wait_for_publish(PUBLISH_TIMEOUT_S)
    if not info.is_published():
        raise BenchmarkError(f"the broker did not take {topic} within {PUBLISH_TIMEOUT_S:g} s")


def _door_run(port: int, door_id: str, version: int | None) -> Result:
    """Start a door, wait for its state (at ``version``, if given), settle, read its memory."""
    topics = Topics(SITE)
    reported = threading.Event()
    states: list[int] = []

    def on_state(client: Any, userdata: Any, msg: Any) -> None:
        try:
            state = DOOR_STATE.decode(msg.payload)
        except MessageError:
            return
        states.append(state.acl_version)
        if version is None or state.acl_version == version:
            reported.set()

    with (
        tempfile.TemporaryDirectory(prefix="hubtap-door-memory-") as workdir,
        paho_client(port, f"bench-watch-{door_id}") as watcher,
    ):
        watcher.on_message = on_state
        subscribed = watcher.subscribe(topics.door_state(door_id), qos=1)
        if subscribed[0] != 0:
            raise BenchmarkError(f"cannot subscribe to the state of door {door_id}")
        time.sleep(0.2)  # a retained state from an earlier run would arrive now
        reported.clear()
        config = Path(workdir) / "door.toml"
        config.write_text(_config_toml(port, door_id, Path(workdir) / "data"))
        log_path = Path(workdir) / "door.log"
        with log_path.open("wb") as log:
            started = time.perf_counter()
            process = subprocess.Popen(
                [*door_command(), "--config", str(config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        try:
            _wait_reported(process, reported, version, states, log_path)
            sync_s = time.perf_counter() - started
            samples = []
            deadline = time.perf_counter() + SETTLE_S
            while time.perf_counter() < deadline:
                time.sleep(0.5)
                samples.append(_memory(process.pid)["VmRSS"])
            memory = _memory(process.pid)
        finally:
            code = _stop(process)
        log_tail = log_path.read_text(errors="replace")[-LOG_TAIL:]
    result: Result = {
        "door_id": door_id,
        "acl_version": states[-1] if states else None,
        "sync_s": round(sync_s, 2),
        "rss_mb": round(memory["VmRSS"] / MB, 1),
        "rss_mib": round(memory["VmRSS"] / MIB, 1),
        "hwm_mb": round(memory["VmHWM"] / MB, 1),
        "hwm_mib": round(memory["VmHWM"] / MIB, 1),
        "rss_settling_mb": [round(s / MB, 1) for s in samples],
        "exit_code": code,
    }
    if code not in (0, -signal.SIGTERM):
        result["log_tail"] = log_tail
    return result


def _config_toml(port: int, door_id: str, data_dir: Path) -> str:
    return (
        f'data_dir = "{data_dir}"\nlog_level = "INFO"\n'
        f'[site]\nid = "{SITE}"\n{SITE_KEY_TOML}'
        f'[mqtt]\nhost = "127.0.0.1"\nport = {port}\nreconnect_min_s = 0.1\nreconnect_max_s = 0.5\n'
        f'[door]\nid = "{door_id}"\n'
        f"{MOCK_HARDWARE_TOML}"
    )


def _wait_reported(
    process: subprocess.Popen[bytes],
    reported: threading.Event,
    version: int | None,
    states: list[int],
    log_path: Path,
) -> None:
    deadline = time.perf_counter() + SYNC_TIMEOUT_S
    while not reported.wait(0.05):
        if process.poll() is not None:
            tail = log_path.read_text(errors="replace")[-LOG_TAIL:]
            raise BenchmarkError(f"hubtap-door exited with {process.returncode}: {tail}")
        if time.perf_counter() > deadline:
            what = "its state" if version is None else f"acl_version {version}"
            tail = log_path.read_text(errors="replace")[-LOG_TAIL:]
            raise BenchmarkError(
                f"the door did not report {what} within {SYNC_TIMEOUT_S:g} s "
                f"(versions seen: {states}); its log ends: {tail}"
            )


def _memory(pid: int) -> dict[str, int]:
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


def _stop(process: subprocess.Popen[bytes]) -> int:
    """SIGTERM, then SIGKILL if it lingers; its exit code."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT_S)
    return process.returncode


def arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """``--entries``: cards in the list."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--entries", type=int, default=ENTRIES, help=f"cards in the list (default {ENTRIES:,})"
    )
    args = parser.parse_args(argv)
    if args.entries < 1:
        parser.error("--entries must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark against its own Mosquitto and print its JSON; 1 on error."""
    args = arguments(argv)
    with mosquitto() as port:
        result = run(port, args.entries)
    emit(result)
    return 1 if has_error(result) else 0


if __name__ == "__main__":
    raise SystemExit(main())
