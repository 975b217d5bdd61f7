"""What deploy/ ships: the example door.toml, the systemd unit, and ``hubtap-door lock``."""

import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

import pytest
from pydantic import BaseModel, TypeAdapter
from pydantic_core import PydanticUndefined

from door.cli import build_parser
from door.config import DoorConfig
from hardware.serial_relay import relay_command
from hublink.config import load_config
from tests.helpers.door_hardware import SITE_KEY_HEX
from tests.helpers.pty_pair import PtyPair
from tests.test_docs import config_keys, section_models

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
EXAMPLE = DEPLOY / "door.example.toml"
UNIT = DEPLOY / "systemd" / "hubtap-door@.service"
BIN = Path(sys.executable).parent
INSTALLED_VENV = "/opt/hubtap/.venv"

# --- the example door.toml -------------------------------------------------------

HEADER_RE = re.compile(r"^(?:#\s*)?\[(\w+)\]\s*$")
VARIANT_RE = re.compile(r'^#\s*---.*?\bkind "([\w-]+)"')
KEY_RE = re.compile(r"^(#\s*)?([a-z_]+)\s*=\s*(.+)$")


@dataclass(frozen=True)
class ExampleKey:
    """One ``key = value`` line of the example, commented out or not."""

    section: str | None  # None: top level
    variant: str | None  # the driver kind a line belongs to, in [reader] and [lock]
    key: str
    value: Any
    commented: bool

    @property
    def dotted(self) -> str:
        return self.key if self.section is None else f"{self.section}.{self.key}"

    @property
    def placeholder(self) -> bool:
        return isinstance(self.value, str) and self.value.startswith("<")


def example_keys(example: Path = EXAMPLE) -> list[ExampleKey]:
    """Every ``key = value`` line of an example file, commented out or not."""
    found = []
    section = variant = None
    for line in example.read_text().splitlines():
        if header := HEADER_RE.match(line):
            section, variant = header.group(1), None
        elif marker := VARIANT_RE.match(line):
            variant = marker.group(1)
        elif match := KEY_RE.match(line):
            commented, key, raw = match.groups()
            value = tomllib.loads(f"v = {raw}")["v"]  # a commented value must be valid TOML
            found.append(ExampleKey(section, variant, key, value, commented is not None))
    return found


def variants(section: str, config: type[BaseModel] = DoorConfig) -> dict[str, type[BaseModel]]:
    """``kind`` -> model for a section that is a union of drivers; empty for others."""
    found = {}
    for model in section_models(config.model_fields[section].annotation):
        kind = model.model_fields.get("kind")
        if kind is not None and model.model_fields["kind"].is_required():
            for tag in get_args(kind.annotation):
                found[tag] = model
    return found


def model_of(entry: ExampleKey, config: type[BaseModel] = DoorConfig) -> type[BaseModel]:
    """The model (the config, a section, a driver's section) an example line belongs to."""
    if entry.section is None:
        return config
    if entry.variant is not None:
        return variants(entry.section, config)[entry.variant]
    models = section_models(config.model_fields[entry.section].annotation)
    return next(m for m in models if entry.key in m.model_fields)


def test_the_example_door_toml_loads_with_the_key_from_the_environment():
    config = load_config(DoorConfig, EXAMPLE, environ={"HUBTAP_SITE__KEY": SITE_KEY_HEX})
    assert config.site.key is not None
    assert config.site.key.get_secret_value() == SITE_KEY_HEX
    assert config.door.id == "front"
    assert config.reader.kind == "nfc"
    assert config.lock.kind == "gpio"


def test_the_example_holds_no_site_key():
    assert not [e for e in example_keys() if e.dotted == "site.key" and not e.commented]
    assert not re.search(r"[0-9a-fA-F]{64}", EXAMPLE.read_text())
    with pytest.raises(Exception, match="HUBTAP_SITE__KEY"):
        load_config(DoorConfig, EXAMPLE, environ={})


def test_the_example_names_every_key_of_door_config_and_no_other():
    assert {e.dotted for e in example_keys()} == config_keys(DoorConfig)


def test_a_commented_value_is_the_default_where_there_is_one():
    for entry in example_keys():
        if not entry.commented or entry.placeholder:
            continue
        field = model_of(entry).model_fields[entry.key]
        if field.default is PydanticUndefined or field.default is None:
            continue  # required, or no default: the line shows an example
        shown = TypeAdapter(field.annotation).validate_python(entry.value)
        assert shown == field.default, entry.dotted


@pytest.mark.parametrize(("section", "kind"), [("reader", k) for k in variants("reader")])
def test_each_commented_reader_kind_is_a_valid_section(section, kind):
    check_variant(section, kind)


@pytest.mark.parametrize(("section", "kind"), [("lock", k) for k in variants("lock")])
def test_each_commented_lock_kind_is_a_valid_section(section, kind):
    check_variant(section, kind)


def check_variant(section: str, kind: str) -> None:
    """The example shows this driver, and its lines (uncommented) make a valid section."""
    shown = {m.group(1) for m in map(VARIANT_RE.match, EXAMPLE.read_text().splitlines()) if m}
    assert kind in shown, f"no {section} kind {kind!r} in the example"
    entries = [e for e in example_keys() if e.section == section]
    values = {
        e.key: e.value
        for e in entries
        if e.variant in (None, kind) and e.key != "kind" and not e.placeholder
    }
    variants(section)[kind].model_validate({**values, "kind": kind})


# --- the systemd unit --------------------------------------------------------------


def unit_settings(text: str) -> dict[str, dict[str, list[str]]]:
    """A unit file's sections; each key keeps every value it was given, in order."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
        else:
            key, _, value = line.partition("=")
            current.setdefault(key.strip(), []).append(value.strip())
    return sections


def one(settings: dict[str, list[str]], key: str) -> str:
    values = settings.get(key, [])
    assert len(values) == 1, f"{key}: {values}"
    return values[0]


def test_the_unit_is_a_notify_service_with_a_watchdog_that_always_restarts():
    service = unit_settings(UNIT.read_text())["Service"]
    assert one(service, "Type") == "notify"
    assert one(service, "NotifyAccess") == "main"
    assert one(service, "WatchdogSec") == "10s"  # hubtap-door pings every 0.25 s
    assert one(service, "Restart") == "always"
    assert one(service, "RestartSec") == "1"
    assert one(service, "User") == "hubtap"
    assert {"gpio", "dialout"} <= set(one(service, "SupplementaryGroups").split())
    # GPIO and serial devices: no private /dev, and no device allow-list (ProtectClock=
    # implies one, with only the clock on it)
    assert service.get("PrivateDevices", ["no"]) == ["no"]
    assert "DeviceAllow" not in service
    assert service.get("ProtectClock", ["no"]) == ["no"]


def test_the_unit_locks_after_every_stop_with_the_same_config():
    service = unit_settings(UNIT.read_text())["Service"]
    start = shlex.split(one(service, "ExecStart"))
    stop_post = shlex.split(one(service, "ExecStopPost"))
    assert start[0] == stop_post[0] == f"{INSTALLED_VENV}/bin/hubtap-door"
    assert "hubtap-door lock" in one(service, "ExecStopPost")
    run, lock = build_parser().parse_args(start[1:]), build_parser().parse_args(stop_post[1:])
    assert run.command is None
    assert lock.command == "lock"
    assert run.config == lock.config == "/etc/hubtap/door-%i.toml"


def test_the_unit_keeps_each_door_in_its_own_state_directory():
    service = unit_settings(UNIT.read_text())["Service"]
    state = one(service, "StateDirectory")
    assert state == "hubtap/door/%i"
    assert f"HUBTAP_DATA_DIR=%S/{state}" in service["Environment"]
    assert one(service, "WorkingDirectory") == f"%S/{state}"  # lgpio writes its pipes there
    assert one(service, "ProtectSystem") == "strict"
    assert all(path.startswith("-/etc/hubtap/") for path in service["EnvironmentFile"])


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_systemd_analyze_verify_finds_nothing_to_say(tmp_path):
    assert (BIN / "hubtap-door").exists()
    result = systemd_verify(UNIT, "hubtap-door@front.service", tmp_path)
    about_ours = [line for line in result.stderr.splitlines() if "hubtap-door@" in line]
    assert about_ours == []  # unknown keys and bad values are warnings with status 0
    assert result.returncode == 0, result.stderr


def systemd_verify(unit: Path, instance: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """``systemd-analyze verify`` on ``unit`` as ``instance``; verify checks that ExecStart's
    program exists, so the copy points at this venv."""
    copy = tmp_path / instance
    copy.write_text(unit.read_text().replace(INSTALLED_VENV, str(BIN.parent)))
    return subprocess.run(
        ["systemd-analyze", "verify", str(copy)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


# --- hubtap-door lock ---------------------------------------------------------------


def lock_config(tmp_path: Path, lock_toml: str) -> Path:
    path = tmp_path / "door.toml"
    path.write_text(
        f'data_dir = "{tmp_path}"\n[site]\nid = "forest"\n[door]\nid = "front"\n'
        '[gpio]\npin_factory = "mock"\n[reader]\nkind = "mock"\n' + lock_toml
    )
    return path


def run_lock(path: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``hubtap-door lock`` as ExecStopPost runs it: the key comes from the environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUBTAP_")}
    env["HUBTAP_SITE__KEY"] = SITE_KEY_HEX
    return subprocess.run(
        [str(BIN / "hubtap-door"), "lock", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=cwd,
        check=False,
    )


def test_hubtap_door_lock_sends_the_relay_off_command_and_exits_0(tmp_path):
    with PtyPair() as relay:
        path = lock_config(
            tmp_path, f'[lock]\nkind = "serial-relay"\nport = "{relay.port}"\nchannel = 2\n'
        )
        result = run_lock(path, tmp_path)
        sent = relay.read(64, timeout=1)
    off = relay_command(2, on=False)
    assert sent.startswith(off)
    assert sent == off * (len(sent) // 4)  # only ever "off" (once opened, again on release)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "locked\n"


def test_hubtap_door_lock_drives_a_gpio_lock(tmp_path):
    result = run_lock(lock_config(tmp_path, '[lock]\nkind = "gpio"\npin = 17\n'), tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "locked\n"


def test_hubtap_door_lock_needs_only_the_lock_sections(tmp_path):
    """A missing key file or a typo elsewhere must never keep the door unlocked."""
    path = tmp_path / "door.toml"
    with PtyPair() as relay:  # lgpio is not on this machine: a relay lock never needs it
        path.write_text(
            '[site]\nid = "bad id"\n[door]\ncolour = "red"\n[gpio]\npin_factory = "lgpio"\n'
            f'[lock]\nkind = "serial-relay"\nport = "{relay.port}"\n'
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("HUBTAP_")}
        result = subprocess.run(
            [str(BIN / "hubtap-door"), "lock", "--config", str(path)],
            capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path, check=False,
        )  # fmt: skip
        sent = relay.read(4, timeout=5)
    assert result.returncode == 0, result.stderr
    assert sent == relay_command(1, on=False)


def test_hubtap_door_lock_exits_1_and_says_why_when_the_lock_cannot_be_driven(tmp_path):
    missing = tmp_path / "ttyUSB-gone"
    path = lock_config(tmp_path, f'[lock]\nkind = "serial-relay"\nport = "{missing}"\n')
    result = run_lock(path, tmp_path)
    assert result.returncode == 1
    assert "hubtap-door: the lock did not take the lock command" in result.stderr
    assert f"cannot open lock relay port {missing}" in result.stderr
    assert "Traceback" not in result.stderr
    assert "locked" not in result.stdout
