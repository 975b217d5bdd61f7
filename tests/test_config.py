from pathlib import Path

import pytest
from pydantic import BaseModel

from door.config import DoorConfig
from hub_server.config import HubConfig
from hublink.config import MqttConfig, ServiceConfig, load_config
from hublink.errors import ConfigError
from kiosk.config import KioskConfig
from tests.helpers.door_hardware import MOCK_HARDWARE, MOCK_HARDWARE_TOML, SITE_KEY_HEX

GOOD = """
log_level = "DEBUG"

[site]
id = "forest"

[mqtt]
host = "broker.lan"
port = 8883
username = "door-front"
password = "s3cret-door-pass"
tls = true
"""


def write(tmp_path: Path, text: str, name: str = "door.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def error_of(model, path, environ) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(model, path, environ)
    return str(caught.value)


def test_reads_a_toml_file(tmp_path):
    config = load_config(ServiceConfig, write(tmp_path, GOOD), environ={})
    assert config.site.id == "forest"
    assert config.mqtt.host == "broker.lan"
    assert config.mqtt.port == 8883
    assert config.mqtt.tls is True
    assert config.log_level == "DEBUG"
    assert config.mqtt.password is not None
    assert config.mqtt.password.get_secret_value() == "s3cret-door-pass"


def test_defaults_fill_what_the_file_leaves_out(tmp_path):
    config = load_config(ServiceConfig, write(tmp_path, '[site]\nid = "s"\n'), environ={})
    assert config.mqtt == MqttConfig()
    assert config.mqtt.host == "127.0.0.1"
    assert config.outbox.synchronous == "full"


def test_environment_overrides_the_file(tmp_path):
    env = {
        "HUBTAP_MQTT__HOST": "10.0.0.5",
        "HUBTAP_MQTT__PORT": "1884",
        "HUBTAP_LOG_LEVEL": "ERROR",
        "HUBTAP_MQTT__TLS": "false",
        "PATH": "/usr/bin",
    }
    config = load_config(ServiceConfig, write(tmp_path, GOOD), environ=env)
    assert config.mqtt.host == "10.0.0.5"
    assert config.mqtt.port == 1884
    assert config.mqtt.tls is False
    assert config.log_level == "ERROR"
    assert config.mqtt.username == "door-front"  # untouched keys keep the file's value


def test_environment_alone_is_enough():
    environ = {
        "HUBTAP_SITE__ID": "s",
        "HUBTAP_SITE__KEY": SITE_KEY_HEX,
        "HUBTAP_DOOR__ID": "front",
        "HUBTAP_READER__KIND": "mock",
        "HUBTAP_LOCK__KIND": "gpio",
        "HUBTAP_LOCK__PIN": "17",
    }
    config = load_config(DoorConfig, None, environ=environ)
    assert config.door.id == "front"
    assert config.lock.pin == 17


def test_a_wrong_type_names_key_file_and_expectation(tmp_path):
    path = write(tmp_path, GOOD.replace("port = 8883", 'port = "eighty"'))
    error = error_of(ServiceConfig, path, {})
    assert f"mqtt.port ({path})" in error
    assert "valid integer" in error
    assert "'eighty'" in error


def test_an_out_of_range_value_from_the_environment_names_the_variable(tmp_path):
    error = error_of(ServiceConfig, write(tmp_path, GOOD), {"HUBTAP_MQTT__PORT": "70000"})
    assert "mqtt.port (environment variable HUBTAP_MQTT__PORT)" in error
    assert "less than or equal to 65535" in error


def test_unknown_keys_are_errors_not_silence(tmp_path):
    path = write(tmp_path, GOOD.replace("host =", "hots ="))
    error = error_of(ServiceConfig, path, {"HUBTAP_MQTT__KEEPALIVEE": "5"})
    assert f"mqtt.hots ({path}): unknown key" in error
    assert "mqtt.keepalivee (environment variable HUBTAP_MQTT__KEEPALIVEE): unknown key" in error


def test_a_missing_required_key_is_named(tmp_path):
    path = write(tmp_path, '[site]\nid = "s"\n\n[door]\n')
    assert f"door.id ({path}): required key is missing" in error_of(DoorConfig, path, {})
    assert "[door] (no config file): required section is missing (it needs door.id)" in error_of(
        DoorConfig, None, {"HUBTAP_SITE__ID": "s"}
    )


def test_secrets_are_never_echoed(tmp_path):
    path = write(
        tmp_path, GOOD.replace('password = "s3cret-door-pass"', "password = ['s3cret-door-pass']")
    )
    error = error_of(ServiceConfig, path, {})
    assert "mqtt.password" in error
    assert "s3cret" not in error
    config = load_config(ServiceConfig, write(tmp_path, GOOD), environ={})
    assert "s3cret" not in repr(config)
    assert "s3cret" not in str(config.model_dump())


def test_unreadable_files_are_named(tmp_path):
    assert "config file not found" in error_of(ServiceConfig, tmp_path / "nope.toml", {})
    bad = write(tmp_path, "[site\nid = 1")
    assert f"{bad} is not valid TOML" in error_of(ServiceConfig, bad, {})


def test_an_environment_key_cannot_replace_a_section(tmp_path):
    error = error_of(ServiceConfig, write(tmp_path, GOOD), {"HUBTAP_MQTT__HOST__NAME": "x"})
    assert "HUBTAP_MQTT__HOST__NAME: 'mqtt.host' is a value, not a section" in error


class WithList(BaseModel):
    doors: list[str]


def test_json_values_from_the_environment():
    config = load_config(WithList, None, environ={"HUBTAP_DOORS": '["front", "back"]'})
    assert config.doors == ["front", "back"]


def test_each_service_keeps_its_files_apart():
    site = {"site": {"id": "s", "key": SITE_KEY_HEX}}
    dirs = {
        DoorConfig.model_validate({**site, **MOCK_HARDWARE, "door": {"id": "d"}}).data_dir,
        KioskConfig.model_validate({**site, "kiosk": {"id": "k"}}).data_dir,
        HubConfig.model_validate(site).data_dir,
    }
    assert len(dirs) == 3


def test_a_door_needs_the_site_key_and_a_bad_one_is_named_but_not_echoed(tmp_path):
    path = write(tmp_path, '[site]\nid = "s"\n[door]\nid = "front"\n' + MOCK_HARDWARE_TOML)
    assert "[site] key is required on a door" in error_of(DoorConfig, path, {})
    error = error_of(DoorConfig, path, {"HUBTAP_SITE__KEY": "c0ffee" * 5})
    assert "site.key (environment variable HUBTAP_SITE__KEY)" in error
    assert "at least 64 hex digits" in error
    assert "c0ffee" not in error
    config = load_config(DoorConfig, path, {"HUBTAP_SITE__KEY": SITE_KEY_HEX})
    assert config.site.key_bytes() == bytes.fromhex(SITE_KEY_HEX)


def test_hubtap_config_names_the_file_and_is_not_read_as_a_setting(tmp_path):
    path = tmp_path / "hub.toml"
    path.write_text('[site]\nid = "s"\n')
    config = load_config(
        ServiceConfig, path, {"HUBTAP_CONFIG": str(path), "HUBTAP_LOG_LEVEL": "DEBUG"}
    )
    assert config.log_level == "DEBUG"
