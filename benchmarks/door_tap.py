"""A tap through the nfcpy UDP path → the lock pin energised, in the door controller.

Everything runs in this process, assembled as ``door.service`` assembles a
door: ``open_door_hardware(config)`` with ``[reader] kind = "nfc"`` on
``udp:127.0.0.1:<free port>`` (``targets = ["106A"]``, ``poll_interval_s =
0``, ``retap_gap_s = 0``) and gpiozero's mock pins (a GPIO lock on pin 17);
a ``Replica`` holding the realistic 100,000-card list of
``benchmarks.door_common``; the durable ``Outbox`` (``synchronous =
"full"``, the default) and a ``Link`` that is never started, so events are
committed to the outbox as they would be offline; and a ``DoorController``
started as the service starts it. ``hardware.emulator`` holds card 0 of the
list (``04A1B2C3D4E5F6``, a resident member, granted at any time) in the
field for the whole run, so every poll finds it and every poll is a tap.

The lock pin's ``_change_state`` is wrapped to note ``time.monotonic()`` the
moment it is driven high. The controller's ``on_tap`` is the service's,
followed (outside the measured span) by noting the tap and relocking with
``hardware.lock.lock()``, so the next grant makes a new rising edge. Per tap:

- ``read``: ``tap.read_latency_s``, from the start of the poll that found the
  card to the ``CardTap``: the bare reader read, in the same run;
- ``tap_to_pin``: from the start of that poll (``tap.monotonic -
  tap.read_latency_s``) to the lock pin going high;
- ``door_adds``: ``tap_to_pin - read`` for the same tap: the handler's call,
  hashing, lookup, decision and ``unlock_for``.

Target: ``tap_to_pin`` p99 at most 5 ms above ``read`` p99. The process is
pinned to one CPU while it runs, as in ``benchmarks.nfc_tap`` (``--no-pin``
leaves it to the scheduler). The first ``WARMUP`` taps are dropped.
"""

import socket
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.common import (
    SITE,
    BenchmarkError,
    Result,
    latency_summary,
    main_pinned,
    pinned,
)
from benchmarks.door_common import DOOR_ID, ENTRIES, TAP_UID, encoded
from door.config import DoorConfig
from door.controller import DoorController
from door.errors import DoorError
from door.list_apply import apply_payload
from door.replica import Replica
from door.saved_state import SavedState
from hardware.build import DoorHardware, open_door_hardware
from hardware.emulator import CardEmulator
from hardware.errors import HardwareError
from hardware.gpio_lock import GpioLock
from hardware.taps import CardTap
from hub_server.demo import free_port
from hublink.errors import HublinkError
from hublink.link import Link
from hublink.outbox import Outbox
from hublink.topics import Topics
from tests.helpers.door_hardware import SITE_KEY_HEX

DEFAULT_COUNT = 1_000
WARMUP = 50
ADDED_MAX_MS = 5.0
LOCK_PIN = 17
OPEN_TIMEOUT_S = 10.0
TAP_TIMEOUT_S = 5.0
"""The run fails if no tap comes within this long."""
HOLD_S = 600.0


class PinRecorder:
    """Notes on ``time.monotonic()`` when a gpiozero mock pin is driven high."""

    def __init__(self, pin: Any) -> None:
        self.high_at = 0.0
        self._change_state: Callable[[bool], Any] = pin._change_state
        pin._change_state = self._record  # MockPin._set_state calls self._change_state

    def _record(self, value: bool) -> bool:
        now = time.monotonic()  # first: the moment the output is driven
        changed = bool(self._change_state(value))
        if changed and value:
            self.high_at = now
        return changed


class MeasuredController(DoorController):
    """The service's ``on_tap``, then ``after_tap`` (which notes the tap and relocks)."""

    after_tap: Callable[[CardTap], None] | None = None

    def on_tap(self, tap: CardTap) -> None:
        super().on_tap(tap)
        if self.after_tap is not None:
            self.after_tap(tap)


def door_config(workdir: Path, reader_port: int) -> DoorConfig:
    """A door on mock pins with an nfcpy reader on the UDP emulator's port."""
    return DoorConfig.model_validate(
        {
            "data_dir": str(workdir),
            "log_level": "WARNING",
            "site": {"id": SITE, "key": SITE_KEY_HEX},
            "mqtt": {"host": "127.0.0.1", "port": free_port()},  # never connected
            "door": {"id": DOOR_ID},
            "gpio": {"pin_factory": "mock"},
            "lock": {"kind": "gpio", "pin": LOCK_PIN},
            "reader": {
                "kind": "nfc",
                "path": f"udp:127.0.0.1:{reader_port}",
                "targets": ["106A"],
                "poll_interval_s": 0,
                "retap_gap_s": 0,
            },
        }
    )


def run(count: int = DEFAULT_COUNT, pin: bool = True, entries: int = ENTRIES) -> Result:
    """Time ``count`` taps (after ``WARMUP``) from the poll to the lock pin going high."""
    result: Result = {
        "benchmark": "door_tap",
        "count": count,
        "warmup": WARMUP,
        "entries": entries,
        "card": f"ISO 14443A {TAP_UID.hex().upper()} (emulated NTAG213), a resident member",
        "reader": "nfcpy udp:127.0.0.1:<free port>, 106A, poll_interval_s 0, retap_gap_s 0",
        "lock": f"GpioLock on mock pin {LOCK_PIN}, relocked after every tap",
        "outbox": "synchronous full, link not started",
        "added_max_ms": ADDED_MAX_MS,
    }
    started = time.perf_counter()
    reader_port = free_port(kind=socket.SOCK_DGRAM)
    try:
        with (
            tempfile.TemporaryDirectory(prefix="hubtap-door-tap-") as workdir,
            pinned(pin) as cpus,
            CardEmulator(port=reader_port).holding(TAP_UID, HOLD_S),
        ):
            result["cpus"] = cpus
            taps, stats = _measure(door_config(Path(workdir), reader_port), count, entries)
    except (BenchmarkError, DoorError, HardwareError, HublinkError, OSError) as err:
        result.update(error=f"{type(err).__name__}: {err}", meets_target=False)
        return result
    read = [tap.read_latency_s for tap, _ in taps]
    to_pin = [high_at - (tap.monotonic - tap.read_latency_s) for tap, high_at in taps]
    added = [high_at - tap.monotonic for tap, high_at in taps]
    result["read"] = latency_summary(read)
    result["tap_to_pin"] = latency_summary(to_pin)
    result["door_adds"] = latency_summary(added)
    difference_ms = (result["tap_to_pin"]["p99_us"] - result["read"]["p99_us"]) / 1000
    result["p99_difference_ms"] = round(difference_ms, 4)
    result["door_adds_p99_ms"] = round(result["door_adds"]["p99_us"] / 1000, 4)
    result["reader"] = {"description": result["reader"], **stats}
    result["meets_target"] = difference_ms <= ADDED_MAX_MS
    result["duration_s"] = round(time.perf_counter() - started, 2)
    return result


def _measure(
    config: DoorConfig, count: int, entries: int
) -> tuple[list[tuple[CardTap, float]], dict[str, int]]:
    """Run a door until it has decided ``WARMUP + count`` taps; the measured ones."""
    wanted = WARMUP + count
    taps: list[tuple[CardTap, float]] = []
    enough = threading.Event()
    with open_door_hardware(config) as hardware:
        lock = hardware.lock
        if not isinstance(lock, GpioLock):
            raise BenchmarkError(f"the door drives a {type(lock).__name__}, not a GpioLock")
        recorder = PinRecorder(lock.pin)

        def after_tap(tap: CardTap) -> None:
            taps.append((tap, recorder.high_at))
            recorder.high_at = 0.0
            lock.lock()  # the next grant drives the pin high again
            if len(taps) >= wanted:
                enough.set()

        data = config.data_dir
        with (
            Outbox(data / "outbox.sqlite3", config.outbox.synchronous) as outbox,
            Replica(data / "acl.sqlite3", DOOR_ID) as replica,
        ):
            apply_payload(replica, encoded(entries).payload)
            topics = Topics(config.site.id)
            link = Link(config.mqtt, topics, client_id=f"bench-door-{DOOR_ID}", outbox=outbox)
            saved = SavedState(data / "door-state.json")
            controller = MeasuredController(config, hardware, replica, link, saved)
            controller.after_tap = after_tap
            controller.subscribe()
            controller.start()
            try:
                _wait_for_taps(hardware, taps, enough, wanted)
            finally:
                hardware.reader.close()
                controller.close()
            stats = {
                "reads": hardware.reader.stats.reads,
                "taps": hardware.reader.stats.taps,
                "errors": hardware.reader.stats.errors,
                "handler_errors": hardware.reader.stats.handler_errors,
                "events_in_outbox": len(outbox),
            }
    measured = taps[WARMUP:wanted]
    for i, (tap, high_at) in enumerate(measured):
        if not high_at > tap.monotonic:
            raise BenchmarkError(f"tap {WARMUP + i} did not energise the lock pin")
    return measured, stats


def _wait_for_taps(
    hardware: DoorHardware,
    taps: list[tuple[CardTap, float]],
    enough: threading.Event,
    wanted: int,
) -> None:
    reader = hardware.reader
    if not reader.wait_open(OPEN_TIMEOUT_S):
        raise BenchmarkError(f"the reader did not open within {OPEN_TIMEOUT_S:g} s")
    seen = 0
    while not enough.wait(TAP_TIMEOUT_S):  # ends: each turn needs a new tap
        if len(taps) == seen:
            raise BenchmarkError(
                f"no tap within {TAP_TIMEOUT_S:g} s after {seen} of {wanted} "
                f"(reader errors: {reader.stats.errors}, last: {reader.stats.last_error}; "
                f"handler errors: {reader.stats.handler_errors})"
            )
        seen = len(taps)


if __name__ == "__main__":
    raise SystemExit(main_pinned(run, __doc__, DEFAULT_COUNT, "taps measured"))
