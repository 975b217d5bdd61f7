"""The ``hubtap`` admin commands, run in-process as a user types them."""

import getpass
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from hub_server import audit, calendar_feed, cards, members, schema
from hub_server.cli import ADMIN_GROUPS, build_parser, main
from hub_server.cli_common import ProgressBar, print_table
from hub_server.store import Store

KEY_HEX = "00112233445566778899aabbccddeeff" * 2
ACTOR = f"cli:{getpass.getuser()}"


@dataclass
class Result:
    status: int
    out: str
    err: str


class Hub:
    """A hub.toml in a temporary folder, and a way to run commands against it."""

    def __init__(self, folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.folder = folder
        self.data_dir = folder / "data"
        self.config = folder / "hub.toml"
        self.capsys = capsys
        self.write_config()

    def write_config(self, *, key: bool = True, extra: str = "") -> None:
        self.config.write_text(
            f'data_dir = "{self.data_dir}"\n[site]\nid = "testsite"\n'
            + (f'key = "{KEY_HEX}"\n' if key else "")
            + extra
        )

    def __call__(self, *args: str, config: bool = True) -> Result:
        self.capsys.readouterr()
        argv = [*args, "--config", str(self.config)] if config else list(args)
        with pytest.raises(SystemExit) as exited:
            main(argv)
        captured = self.capsys.readouterr()
        code = exited.value.code
        return Result(code if isinstance(code, int) else 1, captured.out, captured.err)

    def ok(self, *args: str) -> str:
        result = self(*args)
        assert result.status == 0, result
        assert result.err == "" or "importing" in result.err or "exported" in result.err, result
        return result.out

    def store(self) -> Store:
        return Store.in_folder(self.data_dir)


@pytest.fixture
def hub(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch) -> Hub:
    for name in list(os.environ):
        if name.startswith("HUBTAP_"):
            monkeypatch.delenv(name)
    return Hub(tmp_path, capsys)


def rows(table: str) -> list[list[str]]:
    """A printed table as cells (split on two or more spaces)."""
    return [re.split(r"\s{2,}", line.strip()) for line in table.strip().splitlines()]


def csv_file(hub: Hub, text: str, name: str = "members.csv", encoding: str = "utf-8") -> str:
    path = hub.folder / name
    path.write_bytes(text.encode(encoding))
    return str(path)


# --- the command line itself ------------------------------------------------------


def test_every_group_registers_its_commands_beside_the_old_ones():
    commands = next(a for a in build_parser()._actions if a.dest == "command").choices
    assert {"server", "broker", "demo"} <= set(commands)
    assert {"db", "organisations", "members", "cards", "doors", "zones", "rooms"} <= set(commands)
    assert all(hasattr(group, "add_commands") for group in ADMIN_GROUPS)


def test_a_group_without_a_command_is_a_usage_error(hub):
    result = hub("members", config=False)
    assert result.status == 2
    assert "COMMAND" in result.err


# --- configuration and the database -------------------------------------------------


def test_db_init_creates_the_database_and_is_safe_twice(hub):
    path = hub.data_dir / "hub.sqlite3"
    newest = len(schema.MIGRATIONS)
    assert hub.ok("db", "init") == f"created {path}: schema version {newest}\n"
    assert path.exists()
    hub.ok("members", "add", "--first-name", "Åsa", "--last-name", "Öberg")
    assert hub.ok("db", "init") == f"database {path}: schema version {newest}\n"
    assert "Åsa" in hub.ok("members", "list")  # nothing was lost
    assert hub.ok("db", "status").startswith(
        f"database {path}: schema version {newest} of {newest}, "
    )


def test_db_status_without_a_database_says_to_init_and_creates_nothing(hub):
    result = hub("db", "status")
    assert result.status == 1
    assert (
        result.err
        == f"hubtap: no database at {hub.data_dir / 'hub.sqlite3'} yet: run hubtap db init\n"
    )
    assert not hub.data_dir.exists()


def test_the_config_can_come_from_hubtap_config(hub, monkeypatch):
    monkeypatch.setenv("HUBTAP_CONFIG", str(hub.config))
    result = hub("db", "init", config=False)
    assert result.status == 0, result
    assert (hub.data_dir / "hub.sqlite3").exists()


def test_a_missing_config_file_exits_2_without_a_traceback(hub, tmp_path):
    result = hub("members", "list", "--config", str(tmp_path / "nope.toml"), config=False)
    assert result.status == 2
    assert result.err == f"hubtap: config file not found: {tmp_path / 'nope.toml'}\n"


def test_the_default_config_path_is_named_when_missing(hub, monkeypatch):
    monkeypatch.setattr("hub_server.cli_common.DEFAULT_CONFIG", hub.folder / "absent.toml")
    result = hub("members", "list", config=False)
    assert result.status == 2
    assert "config file not found" in result.err
    assert "--config or HUBTAP_CONFIG" in result.err


def test_an_unusable_data_dir_is_a_one_line_error(hub):
    blocker = hub.folder / "not-a-folder"
    blocker.write_text("")
    hub.data_dir = blocker / "data"
    hub.write_config()
    result = hub("db", "init")
    assert result.status == 1
    assert result.err.startswith(f"hubtap: cannot open the hub database in {blocker / 'data'}: ")
    assert "Traceback" not in result.err


def test_an_invalid_config_exits_2_naming_the_key(hub):
    hub.write_config(extra='[hub]\ntimezone = "Mars/Olympus"\n')
    result = hub("members", "list")
    assert result.status == 2
    assert "hub.timezone" in result.err
    assert "unknown time zone 'Mars/Olympus'" in result.err


# --- organisations and members ----------------------------------------------------------


def test_organisations_add_and_list(hub):
    assert hub.ok("organisations", "add", "Skogsbyrån AB") == "o-skogsbyran-ab\n"
    assert hub.ok("organisations", "add", "Ærø Kommune", "--id", "o-aero") == "o-aero\n"
    hub.ok(
        "members", "add", "--first-name", "Åsa", "--last-name", "Öberg", "--organisation", "o-aero"
    )
    assert rows(hub.ok("organisations", "list")) == [
        ["NAME", "MEMBERS", "ID"],
        ["Skogsbyrån AB", "0", "o-skogsbyran-ab"],
        ["Ærø Kommune", "1", "o-aero"],
    ]
    again = hub("organisations", "add", "Skogsbyrån AB")
    assert again.status == 1
    assert again.err.startswith("hubtap: an organisation named 'Skogsbyrån AB'")


def test_members_add_prints_the_id_and_list_shows_an_aligned_table(hub):
    hub.ok("organisations", "add", "Skogsbyrån AB")
    asa = hub.ok(
        "members", "add", "--first-name", "Åsa", "--last-name", "Öberg",
        "--email", "asa@example.se", "--organisation", "Skogsbyrån AB",
    ).strip()  # fmt: skip
    assert re.fullmatch(r"m-[0-9a-f]{12}", asa)
    hub.ok("members", "add", "--first-name", "Björn", "--last-name", "Ek", "--id", "m-bjorn")
    table = hub.ok("members", "list")
    lines = table.splitlines()
    assert rows(table) == [
        ["FIRST NAME", "LAST NAME", "ORGANISATION", "STATUS", "ID"],
        ["Björn", "Ek", "-", "active", "m-bjorn"],
        ["Åsa", "Öberg", "Skogsbyrån AB", "active", asa],
    ]
    assert (
        len({line.index(word) for line, word in zip(lines, ("ID", "m-bjorn", asa), strict=True)})
        == 1
    )
    assert rows(hub.ok("members", "list", "--search", "asa"))[1][-1] == asa
    assert rows(hub.ok("members", "list", "--organisation", "skogsbyrån ab"))[1][-1] == asa
    assert len(rows(hub.ok("members", "list", "--status", "inactive"))) == 1  # the header


def test_members_list_says_when_it_is_cut_short(hub):
    for n in range(3):
        hub.ok("members", "add", "--first-name", f"P{n}", "--last-name", f"L{n}")
    out = hub.ok("members", "list", "--limit", "2")
    assert len(rows(out)) == 4
    assert out.splitlines()[-1] == "(2 of 3 shown; use --limit or --search)"


def test_members_add_refuses_bad_input_with_the_field(hub):
    result = hub("members", "add", "--first-name", "Åsa", "--last-name", "Ö", "--email", "nope")
    assert (result.status, result.err) == (1, "hubtap: email: 'nope' is not an email address\n")
    hub.ok("members", "add", "--first-name", "Åsa", "--last-name", "Ö", "--email", "a@example.se")
    again = hub(
        "members", "add", "--first-name", "Ida", "--last-name", "B", "--email", "A@example.se"
    )
    assert again.status == 1
    assert "email A@example.se is already used by member" in again.err
    tier = hub("members", "add", "--first-name", "Ida", "--last-name", "B", "--tier", "gold")
    assert tier.err == "hubtap: tier: unknown tier 'gold' (known: member)\n"


def test_dates_on_the_command_line_are_days_in_the_hubs_zone(hub):
    hub.write_config(extra='[hub]\ntimezone = "Europe/Stockholm"\n')
    hub.ok(
        "members", "add", "--first-name", "Åsa", "--last-name", "Öberg", "--id", "m-asa",
        "--valid-from", "2026-12-01", "--valid-until", "2026-12-31",
    )  # fmt: skip
    with hub.store() as store:
        member = members.get(store, "m-asa")
    assert member.valid_from is not None
    assert member.valid_until is not None
    assert member.valid_from.isoformat() == "2026-11-30T23:00:00+00:00"
    assert member.valid_until.isoformat() == "2026-12-31T23:00:00+00:00"  # the end of the 31st
    shown = hub.ok("members", "show", "m-asa")
    assert "valid from:   2026-12-01\n" in shown
    assert "valid until:  2026-12-31\n" in shown
    hub.ok(
        "members", "add", "--first-name", "Björn", "--last-name", "Ek", "--id", "m-bjorn",
        "--valid-until", "2026-12-01T08:00:00+00:00",
    )  # fmt: skip
    assert "valid until:  2026-12-01T09:00:00+01:00\n" in hub.ok("members", "show", "m-bjorn")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (("--valid-from", "1/12/2026"), "hubtap: --valid-from: '1/12/2026' is not a date"),
        (("--valid-until", "2026-02-30"), "hubtap: --valid-until: '2026-02-30' is not a date"),
        (
            ("--valid-from", "2026-06-02", "--valid-until", "2026-06-01"),
            "hubtap: --valid-until: must be after valid_from",
        ),
    ],
)
def test_a_bad_date_names_the_option(hub, options, message):
    result = hub("members", "add", "--first-name", "Åsa", "--last-name", "Öberg", *options)
    assert result.status == 1
    assert result.err.startswith(message)
    assert "Traceback" not in result.err


def test_members_show_has_every_field_and_the_cards_by_hint(hub):
    hub.ok("organisations", "add", "Skogsbyrån AB", "--id", "o-skog")
    hub.ok(
        "members", "add", "--first-name", "Åsa", "--last-name", "Öberg", "--id", "m-asa",
        "--email", "asa@example.se", "--organisation", "o-skog", "--role", "admin",
    )  # fmt: skip
    assert "cards: none" in hub.ok("members", "show", "m-asa")
    hub.ok("cards", "add", "m-asa", "04:A1:B2:C3", "--label", "blue")
    hub.ok("cards", "add", "m-asa", "01020304", "--kind", "fob")
    hub.ok("cards", "revoke", "01020304")
    shown = hub.ok("members", "show", "m-asa")
    for line in (
        "id:           m-asa",
        "first name:   Åsa",
        "last name:    Öberg",
        "email:        asa@example.se",
        "organisation: Skogsbyrån AB (o-skog)",
        "tier:         member",
        "role:         admin",
        "status:       active",
        "valid from:   -",
        "cards:",
    ):
        assert f"{line}\n" in shown
    card_rows = rows(shown.split("cards:\n")[1])
    assert card_rows[0] == ["ID", "CARD", "KIND", "LABEL", "STATUS", "ISSUED"]
    assert [r[:4] for r in card_rows[1:]] == [
        ["2", "…0304", "fob", "revoked"],
        ["1", "…b2c3", "card", "blue"],
    ]
    with hub.store() as store:
        for card in cards.find(store, include_revoked=True):
            assert card.hash not in shown


def test_an_unknown_member_is_a_one_line_error(hub):
    for args in (
        ("members", "show", "x"),
        ("members", "deactivate", "x"),
        ("cards", "add", "x", "0102"),
    ):
        result = hub(*args)
        assert (result.status, result.out, result.err) == (1, "", "hubtap: no member 'x'\n"), args


def test_members_deactivate(hub):
    hub.ok("members", "add", "--first-name", "Åsa", "--last-name", "Öberg", "--id", "m-asa")
    out = hub.ok("members", "deactivate", "m-asa")
    assert out.startswith("m-asa (Åsa Öberg) is inactive")
    assert rows(hub.ok("members", "list", "--status", "inactive"))[1][-1] == "m-asa"
    with hub.store() as store:
        entries = audit.entries(store)
    assert [(e.actor, e.action) for e in entries] == [
        (ACTOR, "member.change"),
        (ACTOR, "member.add"),
    ]


# --- import and export ------------------------------------------------------------------


def test_import_reports_rejected_lines_and_exits_1(hub):
    path = csv_file(
        hub,
        "first_name;last_name;email;organisation\n"
        "Åsa;Öberg;asa@example.se;Skogsbyrån AB\n"
        "\n"
        "Björn;;;\n"
        "Søren;Ærø;not-an-email;\n"
        "Märta;Lund;;Ærø Kommune\n",
    )
    result = hub("members", "import", path)
    assert result.status == 1
    assert result.out.splitlines() == [
        f"imported 2 of 4 rows from {path}, 2 rejected",
        "new organisations: Skogsbyrån AB, Ærø Kommune",
    ]
    assert "line 4: last_name: is required\n" in result.err
    assert "line 5: email: 'not-an-email' is not an email address\n" in result.err
    # not a terminal: one progress line at 0%, each 25% and at the end
    progress = [line for line in result.err.splitlines() if line.startswith("importing")]
    assert progress == [
        "importing: 0% (0/4)",
        "importing: 25% (1/4)",
        "importing: 50% (2/4)",
        "importing: 75% (3/4)",
        "importing: 100% (4/4)",
    ]
    assert {r[0] for r in rows(hub.ok("members", "list"))[1:]} == {"Åsa", "Märta"}


def test_import_of_a_good_file_exits_0_with_cards(hub):
    path = csv_file(hub, "first_name,last_name,card_uid\nÅsa,Öberg,04a1b2c3\nBjörn,Ek,\n")
    result = hub("members", "import", path)
    assert result.status == 0, result
    assert result.out.splitlines() == [f"imported 2 of 2 rows from {path}", "cards attached: 1"]
    assert "…b2c3" in hub.ok("cards", "list")
    with hub.store() as store:
        (entry,) = [e for e in audit.entries(store) if e.action == "members.import"]
    assert (entry.actor, entry.target, entry.detail["imported"]) == (ACTOR, path, 2)


def test_import_dry_run_and_all_or_nothing_write_nothing(hub):
    path = csv_file(hub, "first_name,last_name,organisation\nÅsa,Öberg,Nya Byrån\nBjörn,,\n")
    dry = hub("members", "import", path, "--dry-run")
    assert dry.status == 1
    assert dry.out.splitlines() == [
        "dry run: 1 of 2 rows would be imported, 1 rejected; nothing was written",
        "new organisations (not written): Nya Byrån",
    ]
    strict = hub("members", "import", path, "--all-or-nothing")
    assert strict.status == 1
    assert (
        strict.out.splitlines()[0]
        == "all or nothing: 1 of 2 rows rejected, so nothing was imported"
    )
    assert "line 3: last_name: is required" in strict.err
    assert len(rows(hub.ok("members", "list"))) == 1
    assert len(rows(hub.ok("organisations", "list"))) == 1


def test_import_encodings(hub):
    windows = csv_file(hub, "first_name;last_name\nÅsa;Öberg\n", "excel.csv", encoding="cp1252")
    refused = hub("members", "import", windows)
    assert refused.status == 1
    assert refused.err.startswith(f"hubtap: {windows}: line 2: byte 0xc5 at column 1 is not UTF-8")
    assert "--encoding cp1252" in refused.err
    assert "Traceback" not in refused.err
    assert hub("members", "import", windows, "--encoding", "cp1252").status == 0
    assert rows(hub.ok("members", "list"))[1][:2] == ["Åsa", "Öberg"]


def test_import_file_problems_are_one_line_each(hub):
    missing = hub("members", "import", str(hub.folder / "absent.csv"))
    assert (missing.status, missing.err) == (
        1,
        f"hubtap: cannot read {hub.folder / 'absent.csv'}: No such file or directory\n",
    )
    path = csv_file(hub, "first_name,last_name,colour\n")
    unknown = hub("members", "import", path)
    assert unknown.status == 1
    assert "unknown column 'colour'" in unknown.err


def test_export_to_stdout_and_to_a_file_imports_into_an_empty_hub(hub, tmp_path, capsys):
    hub.ok("organisations", "add", "Ærø Kommune")
    for first, last in (
        ("Åsa", "Öberg"),
        ("Søren", "Ærø"),
        ("Björn", "Ängström"),
        ("Ærling", "Møller"),
    ):
        hub.ok(
            "members",
            "add",
            "--first-name",
            first,
            "--last-name",
            last,
            "--organisation",
            "Ærø Kommune",
        )
    exported = hub.ok("members", "export")
    assert exported.splitlines()[0].startswith("first_name,last_name,email,organisation,")
    assert "Søren,Ærø,,Ærø Kommune," in exported
    target = tmp_path / "out.csv"
    result = hub("members", "export", "--output", str(target))
    assert result.status == 0
    assert result.err == f"exported 4 members to {target}\n"
    assert target.read_bytes().decode("utf-8") == exported

    (tmp_path / "other").mkdir()
    other = Hub(tmp_path / "other", capsys)
    imported = other("members", "import", str(target))
    assert imported.status == 0, imported
    assert rows(other.ok("members", "list")) == rows(hub.ok("members", "list"))


# --- cards --------------------------------------------------------------------------------


def test_cards_add_list_and_revoke_by_uid_and_by_id(hub):
    hub.ok("members", "add", "--first-name", "Åsa", "--last-name", "Öberg", "--id", "m-asa")
    assert hub.ok("cards", "add", "m-asa", "04:A1:B2:C3") == "card 1 (…b2c3) added to m-asa\n"
    assert hub.ok("cards", "add", "m-asa", "12345678", "--kind", "fob", "--label", "keyring") == (
        "card 2 (…5678) added to m-asa\n"
    )
    listed = hub.ok("cards", "list", "--member", "m-asa")
    table = rows(listed)
    assert table[0] == ["ID", "MEMBER", "CARD", "KIND", "LABEL", "STATUS", "ISSUED"]
    assert table[1][:6] == ["2", "m-asa", "…5678", "fob", "keyring", "active"]
    assert table[2][:5] == ["1", "m-asa", "…b2c3", "card", "active"]  # no label
    with hub.store() as store:
        hashes = [c.hash for c in cards.find(store)]
    assert all(h not in listed for h in hashes)

    assert hub.ok("cards", "revoke", "04a1b2c3") == "card 1 (…b2c3) of m-asa is revoked\n"
    assert hub.ok("cards", "revoke", "2") == "card 2 (…5678) of m-asa is revoked\n"
    assert len(rows(hub.ok("cards", "list"))) == 1
    assert len(rows(hub.ok("cards", "list", "--all"))) == 3
    again = hub("cards", "revoke", "1")
    assert (again.status, again.err) == (1, "hubtap: card 1 (…b2c3) is already revoked\n")
    # a revoked card can be enrolled again
    assert hub.ok("cards", "add", "m-asa", "04a1b2c3").startswith("card 3 (…b2c3)")


def test_a_card_enrolled_to_someone_else_is_refused(hub):
    hub.ok("members", "add", "--first-name", "Åsa", "--last-name", "Öberg", "--id", "m-asa")
    hub.ok("members", "add", "--first-name", "Björn", "--last-name", "Ek", "--id", "m-bjorn")
    hub.ok("cards", "add", "m-asa", "04a1b2c3")
    result = hub("cards", "add", "m-bjorn", "04A1B2C3")
    assert (result.status, result.err) == (
        1,
        "hubtap: card …b2c3 is already enrolled to member m-asa\n",
    )
    bad = hub("cards", "add", "m-bjorn", "xyz")
    assert bad.status == 1
    assert bad.err.startswith("hubtap: uid: not a card UID")
    unknown = hub("cards", "revoke", "0a0b0c0d")
    assert (unknown.status, unknown.err) == (1, "hubtap: no card with UID 0a0b0c0d\n")
    assert hub("cards", "list", "--member", "nobody").err == "hubtap: no member 'nobody'\n"


def test_without_the_site_key_cards_add_says_how_to_set_it_and_exits_2(hub):
    hub.ok("members", "add", "--first-name", "Åsa", "--last-name", "Öberg", "--id", "m-asa")
    hub.write_config(key=False)
    result = hub("cards", "add", "m-asa", "04a1b2c3")
    assert result.status == 2
    assert result.err == (
        f"hubtap: cards add needs the site key: set [site] key in {hub.config} or "
        "HUBTAP_SITE__KEY in the environment (the same key as on every door)\n"
    )
    by_uid = hub("cards", "revoke", "04a1b2c3")
    assert by_uid.status == 2
    assert "[site] key" in by_uid.err
    with_cards = hub(
        "members", "import", csv_file(hub, "first_name,last_name,card_uid\nA,B,0102\n")
    )
    assert with_cards.status == 2
    assert "HUBTAP_SITE__KEY" in with_cards.err
    # commands that do not need the key work without it
    assert (
        hub("members", "import", csv_file(hub, "first_name,last_name\nA,B\n", "b.csv")).status == 0
    )


def test_the_site_key_can_come_from_the_environment(hub, monkeypatch):
    hub.ok("members", "add", "--first-name", "Åsa", "--last-name", "Öberg", "--id", "m-asa")
    hub.write_config(key=False)
    monkeypatch.setenv("HUBTAP_SITE__KEY", KEY_HEX)
    assert hub.ok("cards", "add", "m-asa", "04a1b2c3") == "card 1 (…b2c3) added to m-asa\n"


# --- doors, zones, rooms -------------------------------------------------------------------


def test_zones_rooms_and_doors(hub):
    assert hub.ok("zones", "add", "glade", "--name", "Forest glade", "--capacity", "20") == (
        "zone glade (Forest glade) added, capacity 20\n"
    )
    hub.ok("zones", "add", "oasis", "--name", "Oasis", "--capacity", "6")
    assert rows(hub.ok("zones", "list")) == [
        ["ID", "NAME", "CAPACITY"],
        ["glade", "Forest glade", "20"],
        ["oasis", "Oasis", "6"],
    ]
    hub.ok(
        "rooms", "add", "camp", "--name", "Campfire", "--capacity", "8", "--zone", "glade",
        "--hourly-rate", "150.00", "--out-of-hours-rate", "99,5",
    )  # fmt: skip
    hub.ok("rooms", "add", "lookout", "--name", "Lookout", "--capacity", "4")
    assert rows(hub.ok("rooms", "list")) == [
        ["ID", "NAME", "ZONE", "CAPACITY", "HOURLY", "OUT OF HOURS"],
        ["camp", "Campfire", "glade", "8", "150.00", "99.50"],
        ["lookout", "Lookout", "-", "4", "0.00", "-"],
    ]
    hub.ok("doors", "add", "front", "--name", "Front door")
    hub.ok(
        "doors",
        "add",
        "camp-door",
        "--name",
        "Campfire door",
        "--room",
        "camp",
        "--direction",
        "toggle",
    )
    hub.ok("doors", "add", "exit", "--name", "Back exit", "--direction", "out", "--group", "staff")
    assert rows(hub.ok("doors", "list")) == [
        ["ID", "NAME", "DIRECTION", "ZONE", "STATUS", "LOCK", "LIST"],
        ["camp-door", "Campfire door", "toggle", "glade", "unknown", "-", "-"],
        ["exit", "Back exit", "out", "-", "unknown", "-", "-"],
        ["front", "Front door", "in", "-", "unknown", "-", "-"],
    ]
    with hub.store() as store:
        assert [e.action for e in reversed(audit.entries(store))] == [
            "zone.add", "zone.add", "room.add", "room.add", "door.add", "door.add", "door.add",
        ]  # fmt: skip


def test_places_refuse_unknown_zones_and_bad_amounts(hub):
    room = hub("rooms", "add", "r", "--name", "R", "--capacity", "2", "--zone", "nowhere")
    assert (room.status, room.err) == (1, "hubtap: no zone 'nowhere'\n")
    door = hub("doors", "add", "d", "--name", "D", "--zone", "nowhere")
    assert (door.status, door.err) == (1, "hubtap: no zone 'nowhere'\n")
    rate = hub("rooms", "add", "r", "--name", "R", "--capacity", "2", "--hourly-rate", "1.234")
    assert rate.status == 2
    assert "'1.234' is not an amount like 150.00" in rate.err
    capacity = hub("zones", "add", "z", "--name", "Z", "--capacity", "-1")
    assert capacity.status == 1
    assert capacity.err.startswith("hubtap: capacity: ")


# --- output helpers ------------------------------------------------------------------------


def test_a_table_aligns_names_with_combining_marks_and_wide_characters():
    out = io.StringIO()
    print_table(("name", "id"), [("A\u030asa", "1"), ("東京", "2"), ("Bo", None)], out)
    lines = out.getvalue().splitlines()
    assert lines == ["NAME  ID", "A\u030asa   1", "東京  2", "Bo    -"]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_bar_redraws_on_a_terminal():
    out = Terminal()
    bar = ProgressBar("importing", out)
    for done in range(201):
        bar(done, 200)
    text = out.getvalue()
    assert text.count("\r") == 101  # once per percent, not once per row
    assert text.endswith("\rimporting [##############################] 100% 200/200\n")
    assert "\n" not in text[:-1]


def test_members_calendar_issues_an_address_once_and_revokes_it(hub):
    hub.ok("members", "add", "--first-name", "Åsa", "--last-name", "Öberg", "--id", "m-asa")
    out = hub.ok("members", "calendar", "m-asa")
    path = out.splitlines()[0]
    assert path.startswith("/calendar/member/htc_")
    assert path.endswith(".ics")
    token = path.removeprefix("/calendar/member/").removesuffix(".ics")
    with hub.store() as store:
        assert calendar_feed.member_of_token(store, token) == "m-asa"
    assert hub.ok("members", "calendar", "m-asa", "--revoke").endswith("is closed\n")
    with hub.store() as store:
        assert calendar_feed.member_of_token(store, token) is None
