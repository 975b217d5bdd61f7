"""What the benchmarks ran on: CPU, cores, memory, and the versions that matter."""

import os
import platform
import sqlite3
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from benchmarks.common import Result, emit
from tests.helpers.brokers import MOSQUITTO


def machine_info() -> Result:
    """CPU model, cores, RAM, OS; Python, paho-mqtt, pydantic, SQLite, Mosquitto; our commit."""
    return {
        "cpu_model": _cpu_model(),
        "cores": os.cpu_count(),
        "ram_gib": _ram_gib(),
        "os": f"{platform.system()} {platform.release()} {platform.machine()}",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "paho_mqtt": _package_version("paho-mqtt"),
        "pydantic": _package_version("pydantic"),
        "sqlite": sqlite3.sqlite_version,
        "mosquitto": _mosquitto_version(),
        "hubtap_commit": _commit(),
    }


def _cpu_model() -> str:
    for line in _read_lines("/proc/cpuinfo"):
        key, _, value = line.partition(":")
        if key.strip() in ("model name", "Model", "cpu model"):
            return value.strip()
    return platform.processor() or platform.machine()


def _ram_gib() -> float | None:
    for line in _read_lines("/proc/meminfo"):
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) / 1024**2, 1)
    return None


def _read_lines(path: str) -> list[str]:
    try:
        return Path(path).read_text().splitlines()
    except OSError:
        return []


def _package_version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def _mosquitto_version() -> str | None:
    """The ``mosquitto version …`` line of ``mosquitto -h`` (which exits non-zero)."""
    try:
        done = subprocess.run(
            [MOSQUITTO, "-h"], capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = (done.stdout + done.stderr).splitlines()
    return next((line.strip() for line in lines if line.startswith("mosquitto version")), None)


def _commit() -> str | None:
    """The checked-out commit, with ``+changes`` if ``hublink/`` differs from it."""
    try:
        head = _git("rev-parse", "--short", "HEAD")
        clean = _git("diff", "--quiet", "HEAD", "--", "hublink")
    except (OSError, subprocess.SubprocessError):
        return None
    if head.returncode != 0:
        return None
    return head.stdout.strip() + ("" if clean.returncode == 0 else "+changes")


def _git(*args: str) -> "subprocess.CompletedProcess[str]":
    root = Path(__file__).resolve().parent.parent
    return subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, timeout=5, check=False
    )


if __name__ == "__main__":
    emit(machine_info())
