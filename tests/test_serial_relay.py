"""The USB serial relay lock, played against a pty that reads what it sends."""

import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hardware.errors import LockError
from hardware.serial_relay import SerialRelayLock, relay_command
from tests.helpers.pty_pair import PtyPair
from tests.helpers.waiting import wait_until

ROOT = Path(__file__).resolve().parent.parent

# LCUS commands, written out by hand: A0 <channel> <state> <sum>
ON = bytes.fromhex("A00101A2")
OFF = bytes.fromhex("A00100A1")
ON_3 = bytes.fromhex("A00301A4")
OFF_3 = bytes.fromhex("A00300A3")


@pytest.fixture
def pair() -> Iterator[PtyPair]:
    with PtyPair() as pty:
        yield pty


def command_at(pair: PtyPair, timeout: float = 2.0) -> tuple[bytes, float]:
    """The next four byte command the lock sends, and when it arrived."""
    command = pair.read(4, timeout)
    return command, time.monotonic()


def test_relay_commands_match_the_board_protocol():
    assert relay_command(1, on=True) == ON
    assert relay_command(1, on=False) == OFF
    assert relay_command(3, on=True) == ON_3
    assert relay_command(3, on=False) == OFF_3
    assert relay_command(255, on=True) == bytes.fromhex("A0FF01A0")  # the sum wraps


@pytest.mark.parametrize("channel", [0, 256, -1])
def test_a_channel_out_of_range_is_refused(channel):
    with pytest.raises(LockError, match=str(channel)):
        relay_command(channel, on=True)


def test_the_lock_is_locked_at_construction(pair):
    lock = SerialRelayLock(pair.port)
    try:
        assert pair.read(4) == OFF
        assert lock.locked
    finally:
        lock.close()


def test_unlock_for_sends_on_then_off_when_the_time_is_up(pair):
    with SerialRelayLock(pair.port) as lock:
        assert pair.read(4) == OFF
        assert lock.unlock_for(0.2) == 0.2
        on, on_at = command_at(pair)
        assert on == ON
        assert not lock.locked
        off, off_at = command_at(pair)
        assert off == OFF
        assert 0.15 <= off_at - on_at <= 1.0
        assert wait_until(lambda: lock.locked)  # the timer notes it just after sending


def test_a_long_unlock_is_capped_at_max_unlock_s(pair):
    with SerialRelayLock(pair.port, max_unlock_s=0.3) as lock:
        assert pair.read(4) == OFF
        assert lock.unlock_for(9999) == 0.3
        on, on_at = command_at(pair)
        off, off_at = command_at(pair)
        assert (on, off) == (ON, OFF)
        assert 0.25 <= off_at - on_at <= 1.0


def test_close_locks_an_unlocked_door_and_is_safe_twice(pair):
    lock = SerialRelayLock(pair.port)
    assert pair.read(4) == OFF
    lock.unlock_for(30)
    assert pair.read(4) == ON
    lock.close()
    assert pair.read(4) == OFF
    assert lock.locked
    lock.close()
    assert pair.read(4, timeout=0.2) == b""  # nothing more was sent
    with pytest.raises(LockError, match="closed"):
        lock.unlock_for(1)


def test_leaving_the_with_block_by_an_exception_relocks(pair):
    used: list[SerialRelayLock] = []

    def let_in_then_fail() -> None:
        with SerialRelayLock(pair.port) as lock:
            used.append(lock)
            lock.unlock_for(30)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        let_in_then_fail()
    assert pair.read(12) == OFF + ON + OFF
    assert used[0].locked


def test_another_channel_gets_its_own_commands(pair):
    with SerialRelayLock(pair.port, channel=3, max_unlock_s=0.2) as lock:
        assert pair.read(4) == OFF_3
        lock.unlock_for(5)
        assert pair.read(8) == ON_3 + OFF_3


def test_a_missing_port_is_a_lock_error_naming_it(tmp_path):
    missing = str(tmp_path / "ttyUSB7")
    with pytest.raises(LockError, match="ttyUSB7") as raised:
        SerialRelayLock(missing)
    assert missing in str(raised.value)


def test_a_relay_that_stops_answering_is_a_lock_error(pair):
    lock = SerialRelayLock(pair.port)
    assert pair.read(4) == OFF
    pair.close()  # the board is unplugged: writes now fail
    with pytest.raises(LockError, match="did not unlock"):
        lock.unlock_for(5)
    with pytest.raises(LockError, match="did not lock"):
        lock.close()
    assert not lock._serial.is_open  # the port is released even so
    lock.close()  # a second close does not raise again


CHILD = """
import sys, time
from hardware.serial_relay import SerialRelayLock
from tests.helpers.waiting import wait_until
lock = SerialRelayLock(sys.argv[1], max_unlock_s=60)
lock.unlock_for(30)
print("unlocked", flush=True)
for _ in range(300):  # as a service's main loop does: a signal that lands on another
    time.sleep(0.1)   # thread runs its Python handler when the main thread next wakes
"""


def read_line(process: subprocess.Popen[bytes], timeout: float) -> bytes:
    assert process.stdout is not None
    if not select.select([process.stdout], [], [], timeout)[0]:
        return b""
    return process.stdout.readline()


def signal_state(pid: int) -> str:
    """The child's blocked, ignored and caught signal masks, for a failure message."""
    with open(f"/proc/{pid}/status") as status:
        return " ".join(
            line.strip() for line in status if line.startswith(("SigBlk", "SigIgn", "SigCgt"))
        )


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "sigint"])
def test_a_signal_to_the_process_relocks_the_door(pair, signum):
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, pair.port],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert pair.read(8, timeout=10) == OFF + ON
        assert read_line(child, 10) == b"unlocked\n"
        before = signal_state(child.pid)
        child.send_signal(signum)
        relocked = pair.read(4, timeout=10)  # long before the 30 s unlock would end
        assert relocked == OFF, f"child signal state before the signal: {before}"
        assert child.wait(5) == -signum  # and the signal still ends the process
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(5)
        assert child.stderr is not None
        child.stderr.close()
        assert child.stdout is not None
        child.stdout.close()
