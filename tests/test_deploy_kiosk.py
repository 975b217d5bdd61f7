"""What deploy/ ships for a kiosk: the example kiosk.toml and the systemd unit."""

import shlex
import shutil

import pytest
from pydantic import BaseModel, TypeAdapter
from pydantic_core import PydanticUndefined

from hublink.config import load_config
from hublink.errors import ConfigError
from kiosk.cli import build_parser
from kiosk.config import KioskConfig
from kiosk.ui.setup import kivy_environment
from tests.helpers.door_hardware import SITE_KEY_HEX
from tests.test_deploy import (
    BIN,
    DEPLOY,
    INSTALLED_VENV,
    VARIANT_RE,
    ExampleKey,
    model_of,
    one,
    systemd_verify,
    unit_settings,
    variants,
)
from tests.test_deploy import example_keys as deploy_example_keys
from tests.test_docs import config_keys

EXAMPLE = DEPLOY / "kiosk.example.toml"
UNIT = DEPLOY / "systemd" / "hubtap-kiosk@.service"

# --- the example kiosk.toml --------------------------------------------------------


def example_keys() -> list[ExampleKey]:
    """Every ``key = value`` line of the kiosk example."""
    return deploy_example_keys(EXAMPLE)


def reader_kinds() -> dict[str, type[BaseModel]]:
    """``kind`` -> reader model, for the optional ``[reader]`` section."""
    return variants("reader", KioskConfig)


def test_the_example_kiosk_toml_loads_with_the_key_from_the_environment():
    config = load_config(KioskConfig, EXAMPLE, environ={"HUBTAP_SITE__KEY": SITE_KEY_HEX})
    assert config.site.key is not None
    assert config.site.key.get_secret_value() == SITE_KEY_HEX
    assert config.kiosk.id == "entrance"
    assert config.kiosk.door_id == "front"
    assert config.reader is None  # the [reader] section is there, commented out


def test_the_example_holds_no_site_key_and_needs_none_without_a_reader():
    assert not [e for e in example_keys() if e.dotted == "site.key" and not e.commented]
    assert not [e for e in example_keys() if e.section == "reader" and not e.commented]
    assert "\n[reader]" not in EXAMPLE.read_text()
    assert load_config(KioskConfig, EXAMPLE, environ={}).site.key is None


def test_with_a_reader_the_example_needs_the_key(tmp_path):
    """What the example's [reader] comment says: a reader needs HUBTAP_SITE__KEY."""
    path = tmp_path / "kiosk.toml"
    path.write_text(EXAMPLE.read_text() + '\n[reader]\nkind = "nfc"\npath = "usb"\n')
    with pytest.raises(ConfigError, match="HUBTAP_SITE__KEY"):
        load_config(KioskConfig, path, environ={})
    config = load_config(KioskConfig, path, environ={"HUBTAP_SITE__KEY": SITE_KEY_HEX})
    assert config.reader is not None
    assert config.reader.kind == "nfc"


def test_the_example_names_every_key_of_kiosk_config_and_no_other():
    assert {e.dotted for e in example_keys()} == config_keys(KioskConfig)


def test_a_commented_value_is_the_default_where_there_is_one():
    checked = 0
    for entry in example_keys():
        if not entry.commented or entry.placeholder:
            continue
        field = model_of(entry, KioskConfig).model_fields[entry.key]
        if field.default is PydanticUndefined or field.default is None:
            continue  # required, or no default: the line shows an example
        shown = TypeAdapter(field.annotation).validate_python(entry.value)
        assert shown == field.default, entry.dotted
        checked += 1
    assert checked >= 20  # the parser really found the commented defaults


@pytest.mark.parametrize("kind", sorted(reader_kinds()))
def test_each_commented_reader_kind_is_a_valid_section(kind):
    """The example shows this driver, and its lines (uncommented) make a valid [reader]."""
    shown = {m.group(1) for m in map(VARIANT_RE.match, EXAMPLE.read_text().splitlines()) if m}
    assert kind in shown, f"no reader kind {kind!r} in the example"
    values = {
        e.key: e.value
        for e in example_keys()
        if e.section == "reader"
        and e.variant in (None, kind)
        and e.key != "kind"
        and not e.placeholder
    }
    reader_kinds()[kind].model_validate({**values, "kind": kind})


# --- the systemd unit --------------------------------------------------------------


def service() -> dict[str, list[str]]:
    return unit_settings(UNIT.read_text())["Service"]


def environment(settings: dict[str, list[str]]) -> dict[str, str]:
    """``Environment=`` lines (several assignments each, shell-quoted) as a dict."""
    pairs = [word.split("=", 1) for line in settings["Environment"] for word in shlex.split(line)]
    return {name: value for name, value in pairs}


def test_the_unit_is_a_notify_service_with_a_watchdog_that_always_restarts():
    settings = service()
    assert one(settings, "Type") == "notify"
    assert one(settings, "NotifyAccess") == "main"
    assert one(settings, "WatchdogSec") == "30s"  # hubtap-kiosk pings every 1 s from Kivy's loop
    assert one(settings, "Restart") == "always"
    assert one(settings, "RestartPreventExitStatus") == "2"  # load_or_exit: invalid config
    assert unit_settings(UNIT.read_text())["Unit"]["StartLimitIntervalSec"] == ["0"]
    assert one(settings, "User") == "hubtap"


def test_the_unit_can_reach_the_screen_the_touchscreen_and_a_reader():
    settings = service()
    groups = set(one(settings, "SupplementaryGroups").split())
    assert {"video", "render", "input"} <= groups  # /dev/dri/card*, renderD*, /dev/input
    assert {"dialout", "plugdev"} <= groups  # serial and USB card readers
    # /dev/dri and /dev/input stay visible: no private /dev and no device allow-list
    # (ProtectClock= implies one, with only the clock on it)
    assert settings.get("PrivateDevices", ["no"]) == ["no"]
    assert "DeviceAllow" not in settings
    assert settings.get("ProtectClock", ["no"]) == ["no"]
    assert settings.get("PrivateUsers", ["no"]) == ["no"]


def test_the_unit_draws_with_kmsdrm_and_the_kiosk_does_not_override_it(tmp_path):
    env = environment(service())
    assert env["SDL_VIDEODRIVER"] == "kmsdrm"
    assert env["KIVY_WINDOW"] == "sdl2"
    # hubtap-kiosk sets its own Kivy environment on start; on a real screen none of it
    # replaces what the unit sets (only --offscreen switches SDL's driver)
    ours = kivy_environment(tmp_path, offscreen=False)
    assert not set(ours) & set(env)
    assert "SDL_VIDEODRIVER" in kivy_environment(tmp_path, offscreen=True)


def test_the_unit_runs_hubtap_kiosk_with_its_instance_config():
    start = shlex.split(one(service(), "ExecStart"))
    assert start[0] == f"{INSTALLED_VENV}/bin/hubtap-kiosk"
    args = build_parser().parse_args(start[1:])
    assert args.config == "/etc/hubtap/kiosk-%i.toml"
    assert args.offscreen is False  # a real screen
    assert args.screenshots is None


def test_the_unit_keeps_each_kiosk_in_its_own_state_directory():
    settings = service()
    state = one(settings, "StateDirectory")
    assert state == "hubtap/kiosk/%i"
    env = environment(settings)
    assert env["HUBTAP_DATA_DIR"] == f"%S/{state}"
    assert one(settings, "WorkingDirectory") == f"%S/{state}"
    assert env["XDG_CACHE_HOME"] == f"%C/{one(settings, 'CacheDirectory')}"
    assert one(settings, "ProtectSystem") == "strict"
    assert settings["EnvironmentFile"] == ["-/etc/hubtap/kiosk.env", "-/etc/hubtap/kiosk-%i.env"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_systemd_analyze_verify_finds_nothing_to_say(tmp_path):
    assert (BIN / "hubtap-kiosk").exists()
    result = systemd_verify(UNIT, "hubtap-kiosk@entrance.service", tmp_path)
    about_ours = [line for line in result.stderr.splitlines() if "hubtap-kiosk@" in line]
    assert about_ours == []  # unknown keys and bad values are warnings with status 0
    assert result.returncode == 0, result.stderr


def test_the_readme_links_the_kiosk_files_and_installs_them():
    readme = (DEPLOY / "README.md").read_text()
    for path in (UNIT, EXAMPLE):
        assert f"]({path.relative_to(DEPLOY).as_posix()})" in readme, path.name
    assert "pip install '/opt/hubtap[kiosk]'" in readme
    assert "/opt/hubtap/deploy/kiosk.example.toml /etc/hubtap/kiosk-" in readme
    assert "/opt/hubtap/deploy/systemd/hubtap-kiosk@.service /etc/systemd/system/" in readme
