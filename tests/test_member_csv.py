"""Members from and to CSV files: every row checked, bad rows reported by line, never fatal."""

import io
from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from hub_server import audit, cards, members, organisations
from hub_server.errors import Invalid
from hub_server.member_csv import (
    ImportReport,
    Rejected,
    export_members,
    format_moment,
    import_members,
    parse_moment,
)
from hub_server.models import CardIn, MemberIn, OrganisationIn
from hub_server.store import Store
from hublink.credentials import credential_hash
from hublink.errors import ConfigError

KEY = bytes(range(32))
ACTOR = "test:admin"
STOCKHOLM = ZoneInfo("Europe/Stockholm")


@pytest.fixture
def store() -> Iterator[Store]:
    with Store.memory() as s:
        yield s


def load(store: Store, text: str | bytes, **options: object) -> ImportReport:
    data = text.encode() if isinstance(text, str) else text
    values: dict[str, object] = {"site_key": KEY, "zone": STOCKHOLM}
    values.update(options)
    return import_members(store, data, file_name="members.csv", actor=ACTOR, **values)  # type: ignore[arg-type]


def rejected(report: ImportReport) -> list[str]:
    return [str(r) for r in report.rejected]


def everyone(store: Store) -> list[members.Member]:
    return members.find(store, limit=10_000)


# --- a good file -----------------------------------------------------------------


def test_every_column_is_imported(store):
    report = load(
        store,
        "first_name,last_name,email,organisation,tier,role,status,valid_from,valid_until,id,card_uid\n"
        "Åsa,Öberg,asa@example.se,Skogsbyrån AB,member,admin,suspended,"
        "2026-01-01,2026-12-31,m-asa,04:A1:B2:C3\n",
    )
    assert report == ImportReport(
        file_name="members.csv",
        rows=1,
        accepted=1,
        rejected=(),
        organisations_created=("Skogsbyrån AB",),
        cards=1,
        all_or_nothing=False,
        dry_run=False,
        written=True,
    )
    assert report.imported == 1
    member = members.get(store, "m-asa")
    assert (member.first_name, member.last_name, member.email) == ("Åsa", "Öberg", "asa@example.se")
    assert (member.organisation, member.tier, member.role, member.status) == (
        "Skogsbyrån AB",
        "member",
        "admin",
        "suspended",
    )
    # bare dates are days in the hub's zone; valid_until runs to the end of its day
    assert member.valid_from == datetime(2026, 1, 1, tzinfo=STOCKHOLM)
    assert member.valid_until == datetime(2027, 1, 1, tzinfo=STOCKHOLM)
    (card,) = cards.find(store, member_id="m-asa")
    assert card.hash == credential_hash(KEY, bytes.fromhex("04a1b2c3"))
    assert card.hint == "b2c3"
    stored = str([tuple(row) for row in store.query("SELECT * FROM credentials")]).lower()
    assert "04a1b2c3" not in stored


def test_scandinavian_names_import_intact_and_in_nfc(store):
    decomposed = "A\u030asa"  # Å as A + combining ring, as macOS writes file names
    report = load(
        store,
        f"first_name,last_name\n{decomposed},Öberg\nBjörn,Æbelø\nSøren,Ærø\nÄnne,Ångström\n",
    )
    assert report.accepted == 4
    names = {(m.first_name, m.last_name) for m in everyone(store)}
    assert names == {("Åsa", "Öberg"), ("Björn", "Æbelø"), ("Søren", "Ærø"), ("Änne", "Ångström")}
    assert [m.first_name for m in members.find(store, search="asa")] == ["Åsa"]


def test_headers_are_case_insensitive_in_any_order_and_optional_columns_may_be_absent(store):
    report = load(store, "Last Name,FIRST_NAME,EMail\nÖberg,Åsa,\nEk,Björn,b@example.se\n")
    assert report.accepted == 2
    assert {(m.first_name, m.email) for m in everyone(store)} == {
        ("Åsa", None),
        ("Björn", "b@example.se"),
    }


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_semicolon_and_tab_files_are_read(store, delimiter):
    text = (
        delimiter.join(["first_name", "last_name", "organisation"])
        + "\n"
        + delimiter.join(["Åsa", "Öberg", "Skogsbyrån, Norr"])  # a comma inside a field
        + "\n"
    )
    report = load(store, text)
    assert rejected(report) == []
    (member,) = everyone(store)
    assert member.organisation == "Skogsbyrån, Norr"


def test_a_bom_and_crlf_line_ends_are_fine(store):
    data = "first_name;last_name\r\nÅsa;Öberg\r\n".encode("utf-8-sig")
    assert data.startswith(b"\xef\xbb\xbf")
    report = load(store, data)
    assert report.accepted == 1
    assert everyone(store)[0].first_name == "Åsa"


def test_a_cp1252_file_imports_with_its_encoding(store):
    data = "first_name;last_name;organisation\r\nÅsa;Öberg;Ærø Kommune\r\n".encode("cp1252")
    report = load(store, data, encoding="cp1252")
    assert report.accepted == 1
    (member,) = everyone(store)
    assert (member.first_name, member.last_name, member.organisation) == (
        "Åsa",
        "Öberg",
        "Ærø Kommune",
    )


def test_organisations_are_found_by_id_or_name_in_any_case_and_created_once(store):
    organisations.add(store, OrganisationIn(name="Skogsbyrån AB", id="o-skog"), ACTOR)
    report = load(
        store,
        "first_name,last_name,organisation\n"
        "Åsa,Öberg,o-skog\n"
        "Björn,Ek,SKOGSBYRÅN AB\n"
        "Søren,Ærø,Ærø Kommune\n"
        "Ida,Berg,ærø kommune\n"
        "Per,Lind,\n",
    )
    assert rejected(report) == []
    assert report.organisations_created == ("Ærø Kommune",)
    by_name = {m.first_name: m.organisation for m in everyone(store)}
    assert by_name == {
        "Åsa": "Skogsbyrån AB",
        "Björn": "Skogsbyrån AB",
        "Søren": "Ærø Kommune",
        "Ida": "Ærø Kommune",
        "Per": None,
    }
    assert len(organisations.all_organisations(store)) == 2


def test_the_import_is_one_audit_entry(store):
    load(store, "first_name,last_name,card_uid\nÅsa,Öberg,0102\nBjörn,,\n")
    (entry,) = audit.entries(store)
    assert (entry.actor, entry.action, entry.target) == (ACTOR, "members.import", "members.csv")
    assert entry.detail["imported"] == 1
    assert entry.detail["rejected"] == 1
    assert entry.detail["cards"] == 1


def test_progress_is_reported_from_zero_to_the_number_of_rows(store):
    calls: list[tuple[int, int]] = []
    load(
        store, "first_name,last_name\nA,B\n\nC,D\nE,\n", progress=lambda d, t: calls.append((d, t))
    )
    assert calls == [(0, 3), (1, 3), (2, 3), (3, 3)]


# --- bad rows ------------------------------------------------------------------------


def test_bad_rows_are_reported_by_line_and_field_and_the_rest_import(store):
    existing = members.add(
        store, MemberIn(first_name="Eva", last_name="Ek", email="eva@example.se"), ACTOR
    )
    cards.add(store, KEY, CardIn(member_id=existing.id, uid="aabbccdd"), ACTOR)
    text = (
        "first_name,last_name,email,tier,valid_from,valid_until,id,card_uid\n"  # 1
        "Åsa,Öberg,asa@example.se,,,,m-asa,04a1b2c3\n"  # 2 good
        ",Nameless,,,,,,\n"  # 3
        "Björn,,,,,,,\n"  # 4
        "Søren,Ærø,not-an-email,,,,,\n"  # 5
        "Ida,Berg,ASA@example.se,,,,,\n"  # 6 same email as line 2
        "Eva,Ek,EVA@example.se,,,,,\n"  # 7 email in the database
        "Per,Lind,,,,,,04:A1:B2:C3\n"  # 8 same card as line 2
        "Ola,Nord,,,,,,AA BB CC DD\n"  # 9 card in the database
        "Kim,Sand,,,,,,xyz\n"  # 10 not a UID
        "Lea,Vik,,gold,,,,\n"  # 11 unknown tier
        "Max,Ås,,,01/12/2026,,,\n"  # 12 bad date
        "Liv,Ö,,,2026-06-01,2026-05-31,,\n"  # 13 ends before it starts
        "Jon,Berg,,,,,m-asa,\n"  # 14 id used on line 2
        f"Tor,Berg,,,,,{existing.id},\n"  # 15 id in the database
        "Ulf,Berg,,,,,bad id,\n"  # 16 not an id
        "Siv,Berg,,,,,,,extra\n"  # 17 too many fields
        "Märta,Lund,marta@example.se,,2026-06-01,2026-06-01,,0102\n"  # 18 good (a one-day window)
    )
    report = load(store, text)
    assert rejected(report) == [
        "line 3: first_name: is required",
        "line 4: last_name: is required",
        "line 5: email: 'not-an-email' is not an email address",
        "line 6: email: ASA@example.se is already used on line 2",
        f"line 7: email: EVA@example.se is already used by member {existing.id}",
        "line 8: card_uid: card …b2c3 is already on line 2",
        f"line 9: card_uid: card …ccdd is already enrolled to member {existing.id}",
        "line 10: card_uid: not a card UID: 'xyz' (expected an even number of hex digits)",
        "line 11: tier: unknown tier 'gold' (known: member)",
        "line 12: valid_from: '01/12/2026' is not a date (YYYY-MM-DD) or an ISO date and time "
        "(YYYY-MM-DDTHH:MM, with an optional offset like +01:00)",
        "line 13: valid_until: must be after valid_from",
        "line 14: id: m-asa is already used on line 2",
        f"line 15: id: a member with id {existing.id} exists",
        "line 16: id: String should match pattern '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$'",
        "line 17: row: has 9 fields, the header names 8",
    ]
    assert (report.rows, report.accepted, report.cards, report.written) == (17, 2, 2, True)
    assert {m.first_name for m in everyone(store)} == {"Eva", "Åsa", "Märta"}


def test_a_rejected_row_leaves_no_organisation_or_card_behind(store):
    report = load(
        store,
        "first_name,last_name,organisation,tier,card_uid\n"
        "Åsa,Öberg,Nya Byrån,gold,0102\n"  # the organisation is created, then the tier fails
        "Björn,Ek,,,0102\n",  # so the card is free for this row
    )
    assert rejected(report) == ["line 2: tier: unknown tier 'gold' (known: member)"]
    assert report.organisations_created == ()
    assert organisations.all_organisations(store) == []
    assert [c.member_id for c in cards.find(store)] == [everyone(store)[0].id]
    assert everyone(store)[0].first_name == "Björn"


def test_line_numbers_count_empty_lines_and_multi_line_fields(store):
    text = (
        "first_name,last_name\n"  # 1
        "\n"  # 2
        "Åsa,Öberg\n"  # 3
        ",\n"  # 4 empty cells only: skipped
        '"Björn","Ek\n'  # 5: a quoted field over two lines
        'lund"\n'  # 6
        "\r\n"  # 7
        "Søren,\n"  # 8
    )
    report = load(store, text)
    assert rejected(report) == ["line 8: last_name: is required"]
    assert report.rows == 3
    assert {m.last_name for m in everyone(store)} == {"Öberg", "Ek lund"}


# --- file-level problems ---------------------------------------------------------------


def test_unknown_columns_are_named(store):
    with pytest.raises(Invalid) as caught:
        load(store, "first_name,last_name,colour,Shoe Size\nÅsa,Öberg,red,38\n")
    assert caught.value.field == "members.csv"
    assert "line 1 (the header): unknown columns 'colour', 'Shoe Size'" in caught.value.problem
    assert everyone(store) == []


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        ("first_name,email\n", "required column last_name is missing"),
        ("first_name,last_name,Email,email\n", "column email appears twice"),
        ("\n\n", "the file is empty"),
        ("", "the file is empty"),
    ],
)
def test_a_bad_header_is_an_error(store, header, problem):
    with pytest.raises(Invalid, match=problem):
        load(store, header)


def test_a_file_that_is_not_utf8_names_the_line_and_suggests_cp1252(store):
    data = b"first_name;last_name\nAnna;Berg\n" + "Åsa;Öberg\n".encode("cp1252")
    with pytest.raises(Invalid) as caught:
        load(store, data)
    assert caught.value.problem.startswith("line 3: byte 0xc5 at column 1 is not UTF-8 text")
    assert "--encoding cp1252" in caught.value.problem
    assert everyone(store) == []


def test_a_nul_byte_rejects_its_row(store):
    report = load(store, b"first_name,last_name\nA\x00sa,B\nBo,Ek\n")
    assert rejected(report) == ["line 2: first_name: contains control characters"]
    assert report.accepted == 1


def test_a_file_csv_cannot_read_is_invalid_not_a_crash(store):
    data = b'first_name,last_name\nAsa,Berg\nBo,"' + b"x" * 200_000 + b'"\n'
    with pytest.raises(Invalid, match=r"line 3: not readable as CSV \(field larger than"):
        load(store, data)
    assert everyone(store) == []


def test_an_unknown_encoding_is_invalid(store):
    with pytest.raises(Invalid, match="unknown encoding 'klingon'"):
        load(store, "first_name,last_name\n", encoding="klingon")


def test_a_card_column_needs_the_site_key(store):
    with pytest.raises(ConfigError, match="site key"):
        load(store, "first_name,last_name,card_uid\nÅsa,Öberg,\n", site_key=None)
    report = load(store, "first_name,last_name\nÅsa,Öberg\n", site_key=None)
    assert report.accepted == 1


# --- all or nothing, dry run ------------------------------------------------------------

MIXED = "first_name,last_name,organisation,card_uid\nÅsa,Öberg,Nya Byrån,0102\nBjörn,,,\n"


def test_all_or_nothing_imports_nothing_when_a_row_is_rejected(store):
    report = load(store, MIXED, all_or_nothing=True)
    assert rejected(report) == ["line 3: last_name: is required"]
    assert (report.accepted, report.imported, report.written) == (1, 0, False)
    assert report.all_or_nothing
    assert everyone(store) == []
    assert organisations.all_organisations(store) == []
    assert cards.find(store, include_revoked=True) == []
    assert audit.entries(store) == []


def test_all_or_nothing_imports_everything_when_every_row_is_good(store):
    report = load(store, "first_name,last_name\nÅsa,Öberg\nBjörn,Ek\n", all_or_nothing=True)
    assert (report.imported, report.written) == (2, True)
    assert len(everyone(store)) == 2


def test_a_dry_run_checks_everything_and_writes_nothing(store):
    before = store.counter("access_lists")
    report = load(store, MIXED, dry_run=True)
    assert rejected(report) == ["line 3: last_name: is required"]
    assert (report.accepted, report.imported, report.written, report.dry_run) == (
        1,
        0,
        False,
        True,
    )
    assert report.organisations_created == ("Nya Byrån",)  # would be created
    assert everyone(store) == []
    assert organisations.all_organisations(store) == []
    assert audit.entries(store) == []
    assert store.counter("access_lists") == before


def test_a_dry_run_of_a_good_file_then_the_import(store):
    text = "first_name,last_name,email\nÅsa,Öberg,a@example.se\nBjörn,Ek,b@example.se\n"
    assert load(store, text, dry_run=True).accepted == 2
    assert everyone(store) == []
    assert load(store, text).imported == 2
    again = load(store, text)  # the same file twice: every email is taken now
    assert again.imported == 0
    assert [r.field for r in again.rejected] == ["email", "email"]


# --- export and the round trip -------------------------------------------------------------


def test_export_then_import_into_an_empty_hub_gives_the_same_members(store):
    source = load(
        store,
        "first_name;last_name;email;organisation;role;status;valid_from;valid_until;card_uid\n"
        "Åsa;Öberg;asa@example.se;Skogsbyrån AB;admin;active;2026-01-01;2026-12-31;0102\n"
        "Björn;Ängström;;Ærø Kommune;member;suspended;;;\n"
        "Søren;Ærø;soren@example.dk;Ærø Kommune;;;2026-03-01T08:30:00+01:00;;04a1b2c3\n"
        'Märta;Løvø, "Jr";;;;inactive;;2027-06-30T17:00:00Z;\n',
    )
    assert rejected(source) == []
    out = io.StringIO()
    assert export_members(store, out, zone=STOCKHOLM, actor=ACTOR) == 4
    exported = out.getvalue()
    assert exported.splitlines()[0] == (
        "first_name,last_name,email,organisation,tier,role,status,valid_from,valid_until,id,cards"
    )
    assert ",2026-01-01,2026-12-31," in exported
    assert "0102" in exported  # a hint: the last four hex digits

    with Store.memory() as empty:
        report = import_members(
            empty,
            exported.encode("utf-8"),
            file_name="export.csv",
            actor=ACTOR,
            zone=STOCKHOLM,
        )
        assert rejected(report) == []
        assert sorted(report.organisations_created) == ["Skogsbyrån AB", "Ærø Kommune"]

        def fields(s: Store) -> list[dict[str, object]]:
            return [
                m.model_dump(exclude={"created_at", "updated_at", "organisation_id"})
                for m in everyone(s)
            ]

        assert fields(empty) == fields(store)
        assert {m.first_name for m in everyone(empty)} == {"Åsa", "Björn", "Søren", "Märta"}


def test_export_lists_active_card_hints_and_is_audited(store):
    member = members.add(store, MemberIn(first_name="Åsa", last_name="Öberg", id="m-asa"), ACTOR)
    old = cards.add(store, KEY, CardIn(member_id=member.id, uid="0a0b0c0d"), ACTOR)
    cards.add(store, KEY, CardIn(member_id=member.id, uid="01020304"), ACTOR)
    cards.add(store, KEY, CardIn(member_id=member.id, uid="a1b2c3e4"), ACTOR)
    cards.revoke(store, old.id, ACTOR)
    out = io.StringIO()
    export_members(store, out, zone=STOCKHOLM, actor=ACTOR)
    assert out.getvalue().splitlines()[1] == "Åsa,Öberg,,,member,member,active,,,m-asa,0304 c3e4"
    assert audit.entries(store, limit=1)[0].action == "members.export"


# --- dates -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "end_of_day", "expected"),
    [
        ("2026-12-01", False, datetime(2026, 11, 30, 23, 0, tzinfo=UTC)),
        ("2026-12-01", True, datetime(2026, 12, 1, 23, 0, tzinfo=UTC)),
        ("2026-07-01", False, datetime(2026, 6, 30, 22, 0, tzinfo=UTC)),  # summer time
        ("2026-12-01T08:00:00+00:00", False, datetime(2026, 12, 1, 8, 0, tzinfo=UTC)),
        ("2026-12-01T08:00Z", True, datetime(2026, 12, 1, 8, 0, tzinfo=UTC)),
        ("2026-12-01T09:00", False, datetime(2026, 12, 1, 8, 0, tzinfo=UTC)),  # local time
    ],
)
def test_parse_moment(text, end_of_day, expected):
    assert parse_moment(text, STOCKHOLM, field="f", end_of_day=end_of_day) == expected


@pytest.mark.parametrize("text", ["01/12/2026", "2026-02-30", "tomorrow", "", "2026-1-1"])
def test_parse_moment_names_the_field(text):
    with pytest.raises(Invalid) as caught:
        parse_moment(text, STOCKHOLM, field="--valid-from")
    assert caught.value.field == "--valid-from"
    assert repr(text) in caught.value.problem


@pytest.mark.parametrize(
    "text", ["2026-12-01", "2026-03-29", "2026-10-25", "2026-12-01T08:30:00+01:00"]
)
@pytest.mark.parametrize("end_of_day", [False, True])
def test_format_moment_is_the_inverse_of_parse_moment(text, end_of_day):
    parsed = parse_moment(text, STOCKHOLM, field="f", end_of_day=end_of_day)
    assert format_moment(parsed, STOCKHOLM, end_of_day=end_of_day) == text
    assert format_moment(None, STOCKHOLM) == ""


def test_rejected_reads_as_line_field_reason():
    assert str(Rejected(7, "email", "bad")) == "line 7: email: bad"
