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
  starts, so the door receives it on subscribing and takes it up: the payload
  is over ``door.controller.LARGE_PAYLOAD``, so a ``python -m
  door.list_apply`` child decodes it and writes the replica, and the door
  reloads it. Once its retained state reports ``acl_version`` = the list's
  version (``sync_s`` after the process started), it settles and its memory
  is read. Then (``update``) the same cards are published at the next
  version, as a resync would bring them, and ``publish_to_state_s`` runs
  from that publish until the door's state reports the new ``acl_version``;
  it settles again and its memory is read again.

Memory is ``VmRSS`` (resident now, after ``SETTLE_S``: the target) and
``VmHWM`` (the peak resident size, informational) from ``/proc/<pid>/status``,
in MB (10^6 bytes) and MiB. While the door takes up a list, its child
processes are polled every ``POLL_S``: ``list_apply_children`` counts the
``door.list_apply`` ones seen, ``child_hwm_mb_seen`` is the largest
``VmHWM`` read from one of them (a lower bound of its peak: the last read
may come before its end). Target: steady RSS with the list, after the first
list and after the update, at most 80 MB.
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
from dataclasses import dataclass
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
    process_memory,
    stop_process,
)
from benchmarks.door_common import ENTRIES, at_version, encoded
from door.controller import LARGE_PAYLOAD
from hublink.errors import MessageError
from hublink.messages import AVAILABILITY, DOOR_STATE, Availability
from hublink.topics import Topics
from tests.helpers.door_hardware import MOCK_HARDWARE_TOML, SITE_KEY_TOML

RSS_MAX_MB = 80.0
EMPTY_DOOR_ID = "bench-empty"
SYNC_TIMEOUT_S = 60.0
SETTLE_S = 3.0
"""Seconds between the state the benchmark waits for and reading the memory."""
PUBLISH_TIMEOUT_S = 30.0
POLL_S = 0.02
"""How often the door's state and its children are looked at while it takes up a list."""
LOG_TAIL = 2000
MB = 1e6
MIB = 1024 * 1024


def door_command() -> list[str]:
    """``hubtap-door`` of this interpreter's environment."""
    return [str(Path(sys.executable).with_name("hubtap-door"))]


def run(port: int, entries: int = ENTRIES) -> Result:
    """Measure the door's memory without a list, with ``entries`` cards, and after an update."""
    listed = encoded(entries)
    result: Result = {
        "benchmark": "door_memory",
        "entries": entries,
        "payload_bytes": len(listed.payload),
        "apply_path": "child process" if len(listed.payload) > LARGE_PAYLOAD else "in thread",
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
            result["empty"] = _door_run(hub, port, EMPTY_DOOR_ID, None)
            snapshot_topic = topics.door_acl_snapshot(listed.door_id)
            _publish(hub, snapshot_topic, listed.payload)
            update = Update(
                snapshot_topic, listed.version + 1, at_version(listed.payload, listed.version + 1)
            )
            result["list"] = _door_run(hub, port, listed.door_id, listed.version, update)
    except (BenchmarkError, OSError, subprocess.SubprocessError, ValueError) as err:
        result.update(error=f"{type(err).__name__}: {err}", meets_target=False)
        return result
    result["update"] = result["list"].pop("update")
    result["list_minus_empty_mb"] = round(result["list"]["rss_mb"] - result["empty"]["rss_mb"], 1)
    result["meets_target"] = max(result["list"]["rss_mb"], result["update"]["rss_mb"]) <= RSS_MAX_MB
    result["duration_s"] = round(time.perf_counter() - started, 2)
    return result


@dataclass(frozen=True)
class Update:
    """A snapshot the hub publishes while the door runs."""

    topic: str
    version: int
    payload: bytes


def _publish(client: Any, topic: str, payload: bytes) -> None:
    info = client.publish(topic, payload, qos=1, retain=True)
    info.wait_for_publish(PUBLISH_TIMEOUT_S)
    if not info.is_published():
        raise BenchmarkError(f"the broker did not take {topic} within {PUBLISH_TIMEOUT_S:g} s")


class StateWatch:
    """The versions a door's retained state reports, and a wait for one of them."""

    def __init__(self) -> None:
        self.versions: list[int] = []
        self._cond = threading.Condition()

    def on_state(self, client: Any, userdata: Any, msg: Any) -> None:
        try:
            state = DOOR_STATE.decode(msg.payload)
        except MessageError:
            return
        with self._cond:
            self.versions.append(state.acl_version)
            self._cond.notify_all()

    def seen(self, version: int | None, since: int) -> bool:
        """A state (at ``version``, if given) after the first ``since`` ones."""
        with self._cond:
            return any(version is None or v == version for v in self.versions[since:])

    def wait(self, version: int | None, since: int, timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self.seen(version, since), timeout)


class ChildWatch:
    """The ``door.list_apply`` children of a process, and the largest ``VmHWM`` read from one."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.children: set[int] = set()
        self.hwm = 0

    def poll(self) -> None:
        for child in _children(self.pid):
            try:
                if b"door.list_apply" not in Path(f"/proc/{child}/cmdline").read_bytes():
                    continue
                hwm = process_memory(child)["VmHWM"]
            except (OSError, BenchmarkError):  # it has just ended
                continue
            self.children.add(child)
            self.hwm = max(self.hwm, hwm)

    def summary(self) -> Result:
        return {
            "list_apply_children": len(self.children),
            "child_hwm_mb_seen": round(self.hwm / MB, 1) if self.children else None,
        }


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            found.extend(int(c) for c in (task / "children").read_text().split())
        except OSError:
            continue
    return found


def _door_run(
    hub: Any, port: int, door_id: str, version: int | None, update: Update | None = None
) -> Result:
    """Start a door, wait for its state (at ``version``, if given), settle, read its memory.

    With ``update``, publish it next and do the same for its version.
    """
    topics = Topics(SITE)
    watch = StateWatch()
    with (
        tempfile.TemporaryDirectory(prefix="hubtap-door-memory-") as workdir,
        paho_client(port, f"bench-watch-{door_id}") as watcher,
    ):
        watcher.on_message = watch.on_state
        subscribed = watcher.subscribe(topics.door_state(door_id), qos=1)
        if subscribed[0] != 0:
            raise BenchmarkError(f"cannot subscribe to the state of door {door_id}")
        time.sleep(0.2)  # a retained state from an earlier run would arrive now
        config = Path(workdir) / "door.toml"
        config.write_text(_config_toml(port, door_id, Path(workdir) / "data"))
        log_path = Path(workdir) / "door.log"
        with log_path.open("wb") as log:
            since = len(watch.versions)
            started = time.perf_counter()
            process = subprocess.Popen(
                [*door_command(), "--config", str(config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        try:
            children = ChildWatch(process.pid)
            _wait_reported(process, watch, version, since, children=children, log_path=log_path)
            sync_s = time.perf_counter() - started
            result: Result = {
                "door_id": door_id,
                "acl_version": watch.versions[-1] if watch.versions else None,
                "sync_s": round(sync_s, 2),
                **_settled(process.pid),
                **children.summary(),
            }
            if update is not None:
                children = ChildWatch(process.pid)
                since = len(watch.versions)
                published = time.perf_counter()
                _publish(hub, update.topic, update.payload)
                _wait_reported(
                    process, watch, update.version, since, children=children, log_path=log_path
                )
                result["update"] = {
                    "acl_version": watch.versions[-1],
                    "publish_to_state_s": round(time.perf_counter() - published, 2),
                    **_settled(process.pid),
                    **children.summary(),
                }
        finally:
            code = stop_process(process)
        log_tail = log_path.read_text(errors="replace")[-LOG_TAIL:]
    result["exit_code"] = code
    if code not in (0, -signal.SIGTERM):
        result["log_tail"] = log_tail
    return result


def _settled(pid: int) -> Result:
    """Wait ``SETTLE_S``, sampling ``VmRSS``; then the memory of ``pid``."""
    samples = []
    deadline = time.perf_counter() + SETTLE_S
    while time.perf_counter() < deadline:
        time.sleep(0.5)
        samples.append(process_memory(pid)["VmRSS"])
    memory = process_memory(pid)
    return {
        "rss_mb": round(memory["VmRSS"] / MB, 1),
        "rss_mib": round(memory["VmRSS"] / MIB, 1),
        "hwm_mb": round(memory["VmHWM"] / MB, 1),
        "hwm_mib": round(memory["VmHWM"] / MIB, 1),
        "rss_settling_mb": [round(s / MB, 1) for s in samples],
    }


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
    watch: StateWatch,
    version: int | None,
    since: int,
    *,
    children: ChildWatch,
    log_path: Path,
) -> None:
    deadline = time.perf_counter() + SYNC_TIMEOUT_S
    while not watch.wait(version, since, POLL_S):
        children.poll()
        if process.poll() is not None:
            tail = log_path.read_text(errors="replace")[-LOG_TAIL:]
            raise BenchmarkError(f"hubtap-door exited with {process.returncode}: {tail}")
        if time.perf_counter() > deadline:
            what = "its state" if version is None else f"acl_version {version}"
            tail = log_path.read_text(errors="replace")[-LOG_TAIL:]
            raise BenchmarkError(
                f"the door did not report {what} within {SYNC_TIMEOUT_S:g} s "
                f"(versions seen: {watch.versions}); its log ends: {tail}"
            )


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
