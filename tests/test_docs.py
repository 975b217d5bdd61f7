"""The docs are part of the product: these tests keep them true."""

import argparse
import json
import re
from pathlib import Path
from typing import get_args

import pytest
from pydantic import BaseModel

from door.cli import build_parser as door_parser
from door.config import DoorConfig
from hardware.card_cli import build_parser as card_parser
from hub_server.cli import build_parser
from hub_server.config import HubConfig
from hublink.config import ServiceConfig
from hublink.topics import SPECS, TopicSpec
from kiosk.config import KioskConfig

ROOT = Path(__file__).resolve().parent.parent
PROTOCOL = (ROOT / "docs" / "protocol.md").read_text()
CONFIGURATION = (ROOT / "docs" / "configuration.md").read_text()
CLI = (ROOT / "docs" / "cli.md").read_text()
BASE = "hubtap/<site_id>/"
TOPIC_RE = re.compile(r"`(hubtap/<site_id>/[^`]*)`")


def documented_topics() -> set[str]:
    return {t.removeprefix(BASE) for t in TOPIC_RE.findall(PROTOCOL) if t != BASE}


def table_rows() -> dict[str, list[str]]:
    rows = {}
    for line in PROTOCOL.splitlines():
        if line.startswith(f"| `{BASE}"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            rows[cells[0].strip("`").removeprefix(BASE)] = cells[1:]
    return rows


def test_every_topic_is_in_the_table_and_no_other():
    assert set(table_rows()) == {spec.pattern for spec in SPECS}


DOC_TOPIC_RE = re.compile(
    r"`((?:hubtap/<site_id>/)?(?:door|kiosk|hub|occupancy|events)(?:/[^`\s]*)?)`"
)


def in_contract(topic: str) -> bool:
    """A documented topic (full or short, ``+`` for an id) that the contract has."""
    levels = topic.removeprefix(BASE).split("/")
    return any(
        len(levels) == len(spec.levels)
        and all(
            doc == want or (doc == "+" and want.startswith("<"))
            for doc, want in zip(levels, spec.levels, strict=True)
        )
        for spec in SPECS
    )


def test_the_docs_name_no_topic_that_does_not_exist():
    assert documented_topics() <= {spec.pattern for spec in SPECS}
    for doc in [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]:
        found = DOC_TOPIC_RE.findall(doc.read_text())
        named = {t for t in found if "/" in t.strip("/") and "." not in t}  # not file paths
        assert {t for t in named if not in_contract(t)} == set(), doc.name


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_table_says_what_the_code_does(spec: TopicSpec):
    sender, retained, qos, durable, _what = table_rows()[spec.pattern]
    assert sender == spec.sender
    assert retained == ("yes" if spec.retained else "no")
    assert qos == str(spec.qos)
    assert durable == ("yes" if spec.durable else "no")


def examples() -> dict[str, list[str]]:
    """JSON blocks under each topic heading of the payload section."""
    found: dict[str, list[str]] = {}
    sections = re.split(r"^### ", PROTOCOL.split("## Payloads", 1)[1], flags=re.M)[1:]
    for section in sections:
        heading, body = section.split("\n", 1)
        topic = heading.strip().strip("`").removeprefix(BASE)
        found[topic] = re.findall(r"```json\n(.*?)```", body, flags=re.S)
    return found


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_payload_examples_decode_with_the_topics_codec(spec: TopicSpec):
    blocks = examples().get(spec.pattern)
    assert blocks, f"no payload example for {spec.pattern}"
    for block in blocks:
        decoded = spec.codec.decode(block.encode())
        assert json.loads(block) == json.loads(decoded.model_dump_json())


def section_models(annotation) -> list[type[BaseModel]]:
    """The sections a field holds: a model, a union of models, or a model or None."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in section_models(arg)]


def config_keys(model: type[BaseModel], prefix: str = "") -> set[str]:
    keys = set()
    for name, field in model.model_fields.items():
        sections = section_models(field.annotation)
        for section in sections:
            keys |= config_keys(section, f"{prefix}{name}.")
        if not sections:
            keys.add(prefix + name)
    return keys


def documented_config_keys() -> set[str]:
    return {m for m in re.findall(r"^\| `([a-z_.]+)` \|", CONFIGURATION, flags=re.M)}


def test_every_config_key_is_documented_and_no_other():
    in_code = set().union(*(config_keys(m) for m in (DoorConfig, KioskConfig, HubConfig)))
    assert documented_config_keys() == in_code


def test_every_command_is_documented():
    parser = build_parser()
    subcommands = next(a for a in parser._actions if a.dest == "command").choices
    for name in subcommands:
        assert f"`hubtap {name}" in CLI, name
    for words, command in hubtap_commands():
        row = command_row(words)
        assert row, f"no row for `{words}` in docs/cli.md"
        for name in arguments(command) - {"--config"}:
            assert name in row, f"`{words}`: {name} is not documented"
    assert "`--config PATH`" in CLI  # what every admin command takes
    for script in ("hubtap-door --config", "hubtap-kiosk --config"):
        assert f"`{script}" in CLI
    for name in subcommand_names(door_parser()):
        assert f"`hubtap-door {name} --config" in CLI, name
    for name in subcommand_names(card_parser()):
        assert f"`hubtap-card {name}" in CLI, name
    pyproject = (ROOT / "pyproject.toml").read_text()
    scripts = re.findall(r'^(hubtap[\w-]*) = "', pyproject, flags=re.M)
    assert sorted(scripts) == ["hubtap", "hubtap-card", "hubtap-door", "hubtap-kiosk"]


def subcommand_names(parser) -> list[str]:
    return list(next(a for a in parser._actions if a.dest == "command").choices)


def hubtap_commands() -> list[tuple[str, argparse.ArgumentParser]]:
    """Every command ``hubtap`` runs, groups' sub-commands (``hubtap members add``) included."""
    found = []
    for name, command in next(
        a for a in build_parser()._actions if a.dest == "command"
    ).choices.items():
        nested = [a for a in command._actions if isinstance(a, argparse._SubParsersAction)]
        if nested:
            found += [(f"hubtap {name} {sub}", p) for sub, p in nested[0].choices.items()]
        else:
            found.append((f"hubtap {name}", command))
    return found


def command_row(words: str) -> str:
    """The docs/cli.md table row that documents the command ``words``, or ``""``."""
    pattern = re.compile(rf"^\| `{re.escape(words)}(?:`| [^a-z]).*$", flags=re.M)
    match = pattern.search(CLI)
    return match.group(0) if match else ""


def arguments(parser: argparse.ArgumentParser) -> set[str]:
    """A command's long options and the names of its positional arguments."""
    names = set()
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        if action.option_strings:
            names |= {o for o in action.option_strings if o.startswith("--")}
        elif not isinstance(action, argparse._SubParsersAction):
            names.add(str(action.metavar or action.dest).upper())
    return names


def test_the_command_check_sees_sub_commands_and_their_options():
    commands = dict(hubtap_commands())
    assert "hubtap members add" in commands
    assert "hubtap server" in commands
    assert {"--first-name", "--valid-until", "--config"} <= arguments(
        commands["hubtap members add"]
    )
    assert arguments(commands["hubtap cards add"]) >= {"MEMBER", "UID", "--kind"}
    assert command_row("hubtap members add").startswith("| `hubtap members add --first-name")
    assert command_row("hubtap members") == ""  # a group is no command of its own


def test_readme_starts_with_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    first_block = readme.split("```sh", 1)[1].split("```", 1)[0]
    assert "make demo" in first_block
    assert "make test" in first_block


def test_ci_runs_make_test_and_nothing_else():
    lines = [
        line
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[-1] == "make test"
    assert all("pytest" not in line for line in lines)


def test_service_configs_share_the_common_keys():
    common = config_keys(ServiceConfig)
    for model in (DoorConfig, KioskConfig, HubConfig):
        assert common <= config_keys(model)


def test_the_kiosk_answer_reasons_in_the_protocol_are_the_ones_it_words():
    from kiosk import reasons  # noqa: PLC0415

    section = PROTOCOL.split("### `hubtap/<site_id>/kiosk/<kiosk_id>/response`")[1].split("###")[0]
    listed = section.split("The reasons the kiosk has words for")[1]
    named = set(re.findall(r"`([a-z_]+)`", listed)) - {"ok"}
    assert named == set(reasons.DONE) | set(reasons.REFUSED)
