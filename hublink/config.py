"""Configuration: a TOML file, then ``HUBTAP_`` environment overrides, validated.

``HUBTAP_MQTT__HOST=broker.lan`` overrides ``[mqtt] host``: the prefix, then
the key path joined by double underscores. Values from the environment are
text (pydantic converts numbers and booleans); a value starting with ``[``
or ``{`` is read as JSON. Unknown keys are errors, so a typo never passes
silently. Every error names the key, where its value came from and what
was expected. Secret values are never echoed.
"""

import json
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from hublink.credentials import parse_site_key
from hublink.errors import ConfigError
from hublink.messages import EntityId

ENV_PREFIX = "HUBTAP_"
NOT_SETTINGS = frozenset({"HUBTAP_CONFIG"})
"""Environment variables with the prefix that name no setting (``HUBTAP_CONFIG``: which file)."""
ENV_SEPARATOR = "__"
_SECRET_KEY_RE = re.compile(r"(password|secret|token|key)$")


class Section(BaseModel):
    """Base of every configuration section: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class SiteConfig(Section):
    """Which site this device belongs to."""

    id: EntityId = Field(description="Site id; the second level of every topic.")
    key: SecretStr | None = Field(
        default=None,
        description="The site's secret key, 64+ hex digits: card UIDs are hashed with it "
        "(doors and kiosks with a reader need it). Prefer HUBTAP_SITE__KEY in the environment.",
    )

    @field_validator("key")
    @classmethod
    def _check_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            try:
                parse_site_key(value.get_secret_value())
            except ConfigError as err:
                raise ValueError(str(err)) from err
        return value

    def key_bytes(self) -> bytes:
        """The key as bytes; :class:`ConfigError` when the file has none."""
        if self.key is None:
            raise ConfigError("[site] key is required (or HUBTAP_SITE__KEY)")
        return parse_site_key(self.key.get_secret_value())


class MqttConfig(Section):
    """How to reach the MQTT broker."""

    host: str = Field(default="127.0.0.1", min_length=1, description="Broker host name or address.")
    port: int = Field(default=1883, ge=1, le=65535, description="Broker port.")
    username: str | None = Field(default=None, description="Broker user name.")
    password: SecretStr | None = Field(default=None, description="Broker password.")
    client_id: str | None = Field(
        default=None, max_length=64, description="MQTT client id; defaults to one per service."
    )
    keepalive: int = Field(default=30, ge=5, le=3600, description="Keep-alive in seconds.")
    tls: bool = Field(default=False, description="Connect with TLS.")
    ca_file: Path | None = Field(default=None, description="CA certificate to verify the broker.")
    cert_file: Path | None = Field(default=None, description="Client certificate (mutual TLS).")
    key_file: Path | None = Field(default=None, description="Client private key (mutual TLS).")
    reconnect_min_s: float = Field(
        default=0.5, gt=0, le=60, description="Shortest wait before reconnecting."
    )
    reconnect_max_s: float = Field(
        default=30.0, gt=0, le=3600, description="Longest wait before reconnecting."
    )


class OutboxConfig(Section):
    """The durable outbox holding QoS 1 messages until the broker has them."""

    synchronous: Literal["normal", "full"] = Field(
        default="full",
        description="'full' survives power loss; 'normal' only process crashes, and is faster.",
    )
    max_messages: int = Field(
        default=1_000_000,
        ge=1000,
        description="Most messages kept for the broker; past it new ones are refused, not stored.",
    )


LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]


class ServiceConfig(Section):
    """What every hubtap service reads: its site, its broker, its log level."""

    site: SiteConfig
    mqtt: MqttConfig = Field(default_factory=MqttConfig)
    outbox: OutboxConfig = Field(default_factory=OutboxConfig)
    data_dir: Path = Field(
        default=Path("/var/lib/hubtap"),
        description="Folder for the service's own files; each service defaults to its own.",
    )
    log_level: LogLevel = Field(default="INFO", description="Logging threshold.")


C = TypeVar("C", bound=BaseModel)


def load_config(
    model: type[C],
    path: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> C:
    """Read ``path`` (TOML, optional), apply environment overrides, validate as ``model``."""
    data: dict[str, Any] = {}
    origins: dict[tuple[str, ...], str] = {}
    source = "defaults"
    if path is not None:
        source = str(path)
        data = _read_toml(Path(path))
        for key in _leaf_keys(data):
            origins[key] = source
    env = os.environ if environ is None else environ
    for name, value in sorted(env.items()):
        if name.startswith(ENV_PREFIX) and len(name) > len(ENV_PREFIX) and name not in NOT_SETTINGS:
            key = tuple(name[len(ENV_PREFIX) :].lower().split(ENV_SEPARATOR))
            _set(data, key, _env_value(value), name)
            origins[key] = f"environment variable {name}"
    try:
        return model.model_validate(data)
    except ValidationError as err:
        lines = [_describe(model, error, origins, source) for error in err.errors()]
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines)) from err


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except FileNotFoundError as err:
        raise ConfigError(f"config file not found: {path}") from err
    except OSError as err:
        raise ConfigError(f"cannot read config file {path}: {err.strerror}") from err
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path} is not valid TOML: {err}") from err


def _leaf_keys(data: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    keys: list[tuple[str, ...]] = []
    for key, value in data.items():
        if isinstance(value, Mapping):
            keys.extend(_leaf_keys(value, (*prefix, key)))
        else:
            keys.append((*prefix, key))
    return keys


def _env_value(value: str) -> Any:
    if value[:1] in "[{":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _set(data: dict[str, Any], key: tuple[str, ...], value: Any, env_name: str) -> None:
    node = data
    for i, part in enumerate(key[:-1]):
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            dotted = ".".join(key[: i + 1])
            raise ConfigError(f"{env_name}: '{dotted}' is a value, not a section")
        node = child
    node[key[-1]] = value


def _describe(
    model: type[BaseModel], error: Any, origins: Mapping[tuple[str, ...], str], source: str
) -> str:
    loc, section, choices = _resolve(model, tuple(str(part) for part in error["loc"]))
    kind = error["type"]
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        field_name = error["ctx"]["discriminator"].strip("'")
        loc = (*loc, field_name)
    dotted = ".".join(loc) or "(top level)"
    origin = _origin(loc, origins, source)
    if kind == "missing" and (choices or section is not None):
        needed = f"kind: {choices}" if choices else _required_keys(dotted, section)
        return f"[{dotted}] ({origin}): required section is missing (it needs {needed})"
    if kind == "extra_forbidden":
        problem = "unknown key"
    elif kind == "union_tag_invalid":
        problem = f"unknown {dotted} {error['ctx']['tag']!r} (expected one of {choices})"
    elif kind == "union_tag_not_found":
        problem = f"required key is missing (one of {choices})"
    elif kind == "missing":
        problem = "required key is missing"
    else:
        value = error.get("input")
        secret = _SECRET_KEY_RE.search(dotted) or isinstance(value, Mapping)
        problem = error["msg"] + ("" if secret else f" (got {value!r})")
    return f"{dotted} ({origin}): {problem}"


def _required_keys(dotted: str, section: Any) -> str:
    return ", ".join(
        f"{dotted}.{name}" for name, field in section.model_fields.items() if field.is_required()
    )


def _resolve(
    model: type[BaseModel], loc: tuple[str, ...]
) -> tuple[tuple[str, ...], type[BaseModel] | None, str]:
    """``loc`` as the user wrote it, the section model it names, and union choices.

    Pydantic puts the chosen variant's tag into locations inside a
    discriminated union (``reader.nfc.path``); the file says ``reader.path``.
    """
    clean: list[str] = []
    current: Any = model
    choices = ""
    parts = list(loc)
    while parts:
        part = parts.pop(0)
        clean.append(part)
        choices = ""
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            current = None
            continue
        field = current.model_fields.get(part)
        if field is None:
            current = None
            continue
        current = field.annotation
        variants = _variants(field)
        if variants:
            choices = ", ".join(repr(tag) for tag in variants)
            if parts and parts[0] in variants:
                current = variants[parts.pop(0)]
        else:
            current = _optional_model(current) or current
    section = current if isinstance(current, type) and issubclass(current, BaseModel) else None
    return tuple(clean), section, choices


def _variants(field: Any) -> dict[str, type[BaseModel]]:
    """Tag -> model for a discriminated-union field; empty for any other field."""
    if not isinstance(field.discriminator, str):
        return {}
    found: dict[str, type[BaseModel]] = {}
    for member in get_args(field.annotation):
        if isinstance(member, type) and issubclass(member, BaseModel):
            for tag in get_args(member.model_fields[field.discriminator].annotation):
                found[str(tag)] = member
    return found


def _optional_model(annotation: Any) -> type[BaseModel] | None:
    """``M`` for an ``M | None`` annotation."""
    members = [m for m in get_args(annotation) if m is not type(None)]
    if len(members) == 1 and isinstance(members[0], type) and issubclass(members[0], BaseModel):
        return members[0]
    return None


def _origin(loc: tuple[str, ...], origins: Mapping[tuple[str, ...], str], source: str) -> str:
    for end in range(len(loc), 0, -1):
        if loc[:end] in origins:
            return origins[loc[:end]]
    return source if source != "defaults" else "no config file"
