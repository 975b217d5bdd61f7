"""The dashboard's Members and Organisations pages, through a signed-in browser."""

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hub_server import audit, cards, doors, enrolment, members, organisations, site_hours
from hub_server.models import CardIn, DoorIn, MemberIn, OrganisationIn, build
from hub_server.site import create_site
from hub_server.store import Store, now_text
from hublink.credentials import credential_hash
from hublink.messages import utcnow
from tests.helpers.dashboard import SITE_KEY, Browser, config, signed_in, site_for

ZONE = "Europe/Stockholm"
ACTOR = "web:operator"
HTMX = {"HX-Request": "true"}


@pytest.fixture
def store() -> Store:
    store = Store.memory()
    for org_id, name in (("o-fjord", "Fjord AB"), ("o-gran", "Gran & Co")):
        organisations.add(store, build(OrganisationIn, id=org_id, name=name), "test")
    for member_id, first, last, org in (
        ("m-asa", "Åsa", "Öberg", "o-fjord"),
        ("m-bjorn", "Björn", "Ångström", "o-fjord"),
        ("m-soren", "Søren", "Ærø", "o-gran"),
        ("m-anna", "Anna", "Berg", None),
    ):
        members.add(
            store,
            build(
                MemberIn,
                id=member_id,
                first_name=first,
                last_name=last,
                organisation=org,
                email=f"{member_id[2:]}@example.org",
            ),
            "test",
        )
    doors.add(store, build(DoorIn, id="front", name="Front door"), "test")
    doors.add(store, build(DoorIn, id="back", name="Back door"), "test")
    return store


@pytest.fixture
def browser(store: Store) -> Browser:
    return signed_in(store, site_for(store, config(hub={"timezone": ZONE})))


def listed(html: str) -> list[str]:
    """The member ids a page lists, in order."""
    return re.findall(r'<tr data-member="([^"]+)"', html)


def error_for(html: str, field: str) -> str | None:
    found = re.search(rf'<p class="error" id="e-{field}">([^<]*)</p>', html)
    return found.group(1) if found else None


def input_value(html: str, field: str) -> str:
    found = re.search(rf'<input id="f-{field}" name="{field}"[^>]* value="([^"]*)"', html)
    assert found, f"no input {field}"
    return found.group(1)


def audit_actions(store: Store) -> list[tuple[str, str, str]]:
    return [(e.actor, e.action, e.target) for e in reversed(audit.entries(store, limit=1000))]


# --- the list -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("asa", ["m-asa"]),
        ("ASA", ["m-asa"]),
        ("oberg", ["m-asa"]),
        ("ANGSTROM", ["m-bjorn"]),
        ("bjorn", ["m-bjorn"]),
        ("soren", ["m-soren"]),
        ("aero", ["m-soren"]),
        ("Åsa Öberg", ["m-asa"]),
        ("berg", ["m-anna", "m-asa"]),  # Berg, Öberg: by last name
        ("anna@example", ["m-anna"]),
        ("nobody", []),
    ],
)
def test_search_ignores_case_and_accents(browser, query, expected):
    page = browser.get("/members", params={"q": query})
    assert page.status_code == 200
    assert listed(page.text) == expected


def test_the_list_shows_everyone_by_last_name_with_the_search_wired_for_htmx(browser):
    page = browser.get("/members")
    assert listed(page.text) == ["m-anna", "m-bjorn", "m-soren", "m-asa"]  # by last name
    assert "4 members" in page.text
    search = re.search(r'<input id="f-q"[^>]*>', page.text)
    assert search
    for attribute in (
        'hx-get="/members"',
        'hx-trigger="input changed delay:300ms, search"',
        'hx-target="#member-results"',
        'hx-select="#member-results"',
        'hx-swap="outerHTML"',
        'hx-push-url="true"',
    ):
        assert attribute in search.group(0)
    assert 'id="member-results"' in page.text
    assert '<form class="filters card" method="get" action="/members"' in page.text
    # an htmx request gets the same page: hx-select picks the results out of it
    partial = browser.get("/members", params={"q": "asa"}, headers=HTMX)
    assert listed(partial.text) == ["m-asa"]


def test_filter_by_organisation_and_status(browser, store):
    page = browser.get("/members", params={"organisation": "o-fjord"})
    assert listed(page.text) == ["m-bjorn", "m-asa"]
    assert '<option value="o-fjord" selected>Fjord AB</option>' in page.text
    members.deactivate(store, "m-bjorn", "test")
    assert listed(browser.get("/members?organisation=o-fjord&status=active").text) == ["m-asa"]
    assert listed(browser.get("/members?status=inactive").text) == ["m-bjorn"]
    assert listed(browser.get("/members?q=berg&organisation=o-fjord").text) == ["m-asa"]


def test_bad_filters_are_error_pages_not_500(browser):
    assert browser.get("/members?status=gone").status_code == 422
    assert browser.get("/members?organisation=o-nowhere").status_code == 404
    assert browser.get("/members?page=0").status_code == 400
    assert browser.get("/members?page=lots").status_code == 400


def test_paging_keeps_the_filters(browser, store):
    for n in range(120):
        members.add(
            store,
            build(MemberIn, first_name="Page", last_name=f"Person {n:03d}", organisation="o-gran"),
            "test",
        )
    first = browser.get("/members", params={"q": "page", "organisation": "o-gran"})
    assert len(listed(first.text)) == 50
    assert "120 members" in first.text
    assert "showing 1–50" in first.text
    assert 'rel="prev"' not in first.text
    next_url = re.search(r'<a href="([^"]+)" rel="next">', first.text)
    assert next_url
    assert next_url.group(1) == "/members?q=page&amp;organisation=o-gran&amp;page=2"
    second = browser.get(next_url.group(1).replace("&amp;", "&"))
    assert len(listed(second.text)) == 50
    assert set(listed(second.text)).isdisjoint(listed(first.text))
    third = browser.get("/members?q=page&organisation=o-gran&page=3")
    assert len(listed(third.text)) == 20
    assert "showing 101–120" in third.text
    assert 'rel="next"' not in third.text
    assert '<a href="/members?q=page&amp;organisation=o-gran&amp;page=2" rel="prev">' in third.text
    everyone = set(listed(first.text)) | set(listed(second.text)) | set(listed(third.text))
    assert len(everyone) == 120


# --- add and edit -------------------------------------------------------------


def new_member(**changes: str) -> dict[str, str]:
    form = {
        "first_name": "Ingrid",
        "last_name": "Lund",
        "email": "ingrid@example.org",
        "organisation": "o-gran",
        "tier": "member",
        "role": "admin",
        "status": "active",
        "valid_from": "2026-03-01",
        "valid_until": "2026-12-31",
    }
    form.update(changes)
    return form


def test_add_a_member(browser, store):
    form = browser.get("/members/new")
    assert form.status_code == 200
    for name in ("first_name", "last_name", "email", "tier", "valid_from", "valid_until"):
        assert f'<label for="f-{name}">' in form.text
    answer = browser.post("/members", new_member())
    assert answer.status_code == 303
    member_id = answer.headers["location"].removeprefix("/members/")
    member = members.get(store, member_id)
    assert (member.first_name, member.last_name, member.organisation_id) == (
        "Ingrid",
        "Lund",
        "o-gran",
    )
    assert member.role == "admin"
    # local dates in the hub's zone; valid_until is the last day, inclusive
    assert member.valid_from == datetime(2026, 2, 28, 23, tzinfo=UTC)
    assert member.valid_until == datetime(2026, 12, 31, 23, tzinfo=UTC)
    page = browser.get(f"/members/{member_id}")
    assert "Ingrid Lund" in page.text
    assert "from 2026-03-01 until 2026-12-31" in page.text
    assert member_id in listed(browser.get("/members?q=ingrid").text)
    assert (ACTOR, "member.add", member_id) in audit_actions(store)


def test_add_with_blank_optional_fields(browser, store):
    answer = browser.post(
        "/members", new_member(email="", organisation="", valid_from="", valid_until="")
    )
    assert answer.status_code == 303
    member = members.get(store, answer.headers["location"].removeprefix("/members/"))
    assert member.email is None
    assert member.organisation_id is None
    assert member.valid_from is None
    assert member.valid_until is None


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"first_name": ""}, "first_name", "empty"),
        ({"email": "not-an-email"}, "email", "not an email"),
        ({"valid_from": "2026-06-01", "valid_until": "2026-05-01"}, "valid_until", "after"),
        ({"valid_from": "2026-02-30"}, "valid_from", "not a date"),
        ({"email": "ASA@example.org"}, "email", "already used"),
        ({"tier": "gold"}, "tier", "unknown tier"),
        ({"role": "king"}, "role", "member"),
    ],
)
def test_add_errors_show_inline_with_422(browser, store, changes, field, words):
    before = members.count(store)
    answer = browser.post("/members", new_member(**changes))
    assert answer.status_code == 422
    problem = error_for(answer.text, field)
    assert problem is not None, answer.text
    assert words in problem
    assert f'id="f-{field}"' in answer.text
    assert 'aria-invalid="true"' in answer.text
    # what was typed is kept
    assert input_value(answer.text, "last_name") == "Lund"
    assert members.count(store) == before


def test_edit_changes_only_what_changed(browser, store):
    form = browser.get("/members/m-asa/edit")
    assert form.status_code == 200
    assert input_value(form.text, "first_name") == "Åsa"
    assert input_value(form.text, "email") == "asa@example.org"
    values = {
        "first_name": "Åsa",
        "last_name": "Öberg-Lind",
        "email": "asa@example.org",
        "organisation": "o-gran",
        "tier": "member",
        "role": "member",
        "status": "active",
        "valid_from": "",
        "valid_until": "2027-01-31",
    }
    answer = browser.post("/members/m-asa", values)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/members/m-asa"
    member = members.get(store, "m-asa")
    assert member.last_name == "Öberg-Lind"
    assert member.organisation_id == "o-gran"
    assert member.valid_until == datetime(2027, 1, 31, 23, tzinfo=UTC)
    change = audit.entries(store, limit=1)[0]
    assert (change.actor, change.action, change.target) == (ACTOR, "member.change", "m-asa")
    assert set(change.detail) == {"last_name", "organisation", "valid_until"}
    # the form shows the stored last day again, and saving it unchanged changes nothing
    again = browser.get("/members/m-asa/edit")
    assert input_value(again.text, "valid_until") == "2027-01-31"
    values["last_name"] = "Öberg-Lind"
    assert browser.post("/members/m-asa", values).status_code == 303
    assert audit.entries(store, limit=1)[0].id == change.id


def test_edit_errors_show_inline(browser, store):
    answer = browser.post("/members/m-asa", {"first_name": "", "email": "bjorn@example.org"})
    assert answer.status_code == 422
    assert error_for(answer.text, "first_name")
    # the model error comes first; fix it and the service's conflict shows
    answer = browser.post("/members/m-asa", {"email": "bjorn@example.org"})
    assert answer.status_code == 422
    assert "already used" in (error_for(answer.text, "email") or "")
    answer = browser.post(
        "/members/m-asa", {"valid_from": "2026-05-01", "valid_until": "2026-04-01"}
    )
    assert answer.status_code == 422
    assert "after" in (error_for(answer.text, "valid_until") or "")
    assert members.get(store, "m-asa").email == "asa@example.org"


def test_deactivate_needs_confirmation(browser, store):
    asked = browser.post("/members/m-asa/deactivate")
    assert asked.status_code == 200
    assert "Deactivate Åsa Öberg?" in asked.text
    assert 'name="confirmed" value="yes"' in asked.text
    assert 'action="/members/m-asa/deactivate"' in asked.text
    assert members.get(store, "m-asa").status == "active"
    done = browser.post("/members/m-asa/deactivate", {"confirmed": "yes"})
    assert done.status_code == 303
    assert members.get(store, "m-asa").status == "inactive"
    assert (ACTOR, "member.change", "m-asa") in audit_actions(store)
    assert "Deactivate…" not in browser.get("/members/m-asa").text


# --- cards --------------------------------------------------------------------


def test_add_a_card_by_uid(browser, store):
    answer = browser.post(
        "/members/m-asa/cards", {"uid": "04:a1:b2:c3:d4:1a:2b", "kind": "fob", "label": "spare"}
    )
    assert answer.status_code == 303
    [card] = cards.find(store, member_id="m-asa")
    assert (card.hint, card.kind, card.label) == ("1a2b", "fob", "spare")
    assert card.hash == credential_hash(SITE_KEY, bytes.fromhex("04a1b2c3d41a2b"))
    page = browser.get("/members/m-asa")
    assert f'<tr data-card="{card.id}">' in page.text
    assert "…1a2b" in page.text
    assert (ACTOR, "card.add", "m-asa") in audit_actions(store)


def test_card_errors_show_inline(browser, store):
    bad = browser.post("/members/m-asa/cards", {"uid": "xyz", "kind": "card", "label": ""})
    assert bad.status_code == 422
    assert error_for(bad.text, "uid")
    assert browser.post("/members/m-asa/cards", {"uid": "0A0B0C0D"}).status_code == 303
    taken = browser.post("/members/m-bjorn/cards", {"uid": "0a0b0c0d"})
    assert taken.status_code == 422
    assert "already enrolled" in (error_for(taken.text, "uid") or "")
    assert cards.find(store, member_id="m-bjorn") == []


def test_adding_a_card_without_a_site_key_says_what_is_missing(store):
    site = create_site(store, config(), site_key=None)
    browser = signed_in(store, site)
    answer = browser.post("/members/m-asa/cards", {"uid": "0A0B0C0D"})
    assert answer.status_code == 422
    assert "[site] key" in (error_for(answer.text, "uid") or "")
    assert cards.find(store, member_id="m-asa") == []


def test_revoke_a_card_needs_confirmation(browser, store):
    card = cards.add(store, SITE_KEY, build(CardIn, member_id="m-asa", uid="0A0B1A2B"), "test")
    asked = browser.post(f"/cards/{card.id}/revoke")
    assert asked.status_code == 200
    assert "Revoke card …1a2b of Åsa Öberg?" in asked.text
    assert cards.get(store, card.id).status == "active"
    done = browser.post(f"/cards/{card.id}/revoke", {"confirmed": "yes"})
    assert done.status_code == 303
    assert done.headers["location"] == "/members/m-asa#cards"
    assert cards.get(store, card.id).status == "revoked"
    assert (ACTOR, "card.revoke", "m-asa") in audit_actions(store)
    again = browser.post(f"/cards/{card.id}/revoke", {"confirmed": "yes"})
    assert again.status_code == 409


# --- enrol by tap -------------------------------------------------------------


def tap_unknown_card(store: Store, door_id: str, uid: str) -> None:
    hash_hex = credential_hash(SITE_KEY, bytes.fromhex(uid))
    with store.write() as db:
        enrolment.match(db, door_id, hash_hex, uid[-4:].lower(), utcnow())


def test_enrol_by_tap_with_htmx(browser, store):
    page = browser.get("/members/m-asa")
    assert 'hx-post="/members/m-asa/enrol"' in page.text
    assert '<option value="front">Front door</option>' in page.text
    started = browser.post(
        "/members/m-asa/enrol", {"door_id": "front", "enrol_label": "blue"}, headers=HTMX
    )
    assert started.status_code == 200
    assert "<html" not in started.text  # a fragment: the enrol block
    assert started.text.lstrip().startswith('<div id="enrol"')
    assert "Tap the card on Front door's reader now…" in started.text
    poll = re.search(
        r'hx-get="(/members/m-asa/enrolments/(\d+))" hx-trigger="every 1s" hx-swap="outerHTML"',
        started.text,
    )
    assert poll, started.text
    url, enrolment_id = poll.group(1), int(poll.group(2))
    assert enrolment.get(store, enrolment_id).status == "waiting"
    # still waiting: nothing to swap, the element keeps polling
    assert browser.get(url, headers=HTMX).status_code == 204
    tap_unknown_card(store, "front", "04C0FFEE9A7B")
    done = browser.get(url, headers=HTMX)
    assert done.status_code == 200
    assert "Card …9a7b enrolled" in done.text
    assert "hx-trigger" not in done.text  # polling stops
    assert '<div id="member-cards" hx-swap-oob="true">' in done.text
    [card] = cards.find(store, member_id="m-asa")
    assert card.label == "blue"
    assert f'<tr data-card="{card.id}">' in done.text
    actions = audit_actions(store)
    assert (ACTOR, "enrol.start", "m-asa") in actions
    assert (ACTOR, "card.enrol", "m-asa") in actions


def test_enrol_by_tap_without_javascript(browser, store):
    started = browser.post("/members/m-bjorn/enrol", {"door_id": "back", "enrol_label": ""})
    assert started.status_code == 303
    url = started.headers["location"]
    assert re.fullmatch(r"/members/m-bjorn/enrolments/\d+", url)
    waiting = browser.get(url)
    assert waiting.status_code == 200
    assert "<h1>Björn Ångström</h1>" in waiting.text
    assert "Tap the card on Back door's reader now…" in waiting.text
    assert f'<a href="{url}">Check again</a>' in waiting.text
    tap_unknown_card(store, "back", "04ABCDEF0123")
    done = browser.get(url)
    assert "Card …0123 enrolled" in done.text
    assert "…0123</th>" in done.text  # in the cards table of the page


def test_an_expired_enrolment_offers_to_try_again(browser, store):
    started = browser.post("/members/m-asa/enrol", {"door_id": "front"}, headers=HTMX)
    enrolment_id = int(re.findall(r"/members/m-asa/enrolments/(\d+)", started.text)[0])
    with store.write() as db:
        db.execute(
            "UPDATE enrolments SET expires_at = ? WHERE id = ?",
            (now_text(utcnow() - timedelta(seconds=1)), enrolment_id),
        )
    expired = browser.get(f"/members/m-asa/enrolments/{enrolment_id}", headers=HTMX)
    assert expired.status_code == 200
    assert "expired" in expired.text
    assert "hx-trigger" not in expired.text
    assert "Try again at Front door</button>" in expired.text
    assert '<input type="hidden" name="door_id" value="front">' in expired.text
    # a tap now attaches nothing
    tap_unknown_card(store, "front", "04C0FFEE9A7B")
    assert cards.find(store, member_id="m-asa") == []


def test_a_replaced_enrolment_says_it_was_cancelled(browser, store):
    first = browser.post("/members/m-asa/enrol", {"door_id": "front"}, headers=HTMX)
    first_id = int(re.findall(r"/enrolments/(\d+)", first.text)[0])
    browser.post("/members/m-bjorn/enrol", {"door_id": "front"}, headers=HTMX)
    answer = browser.get(f"/members/m-asa/enrolments/{first_id}", headers=HTMX)
    assert "cancelled" in answer.text
    assert "Try again" in answer.text


def test_enrol_errors(browser, store):
    no_door = browser.post("/members/m-asa/enrol", {"door_id": "nowhere"})
    assert no_door.status_code == 422
    assert "no door" in (error_for(no_door.text, "door_id") or "")
    long_label = browser.post("/members/m-asa/enrol", {"door_id": "front", "enrol_label": "x" * 81})
    assert long_label.status_code == 422
    assert error_for(long_label.text, "enrol_label")
    # htmx swaps only 2xx answers: the block comes back with the error in it
    with_htmx = browser.post("/members/m-asa/enrol", {"door_id": "nowhere"}, headers=HTMX)
    assert with_htmx.status_code == 200
    assert with_htmx.text.lstrip().startswith('<div id="enrol"')
    assert "no door" in (error_for(with_htmx.text, "door_id") or "")
    assert store.query_one("SELECT count(*) FROM enrolments")[0] == 0


def test_another_members_enrolment_is_not_found(browser, store):
    started = browser.post("/members/m-asa/enrol", {"door_id": "front"}, headers=HTMX)
    enrolment_id = re.findall(r"/enrolments/(\d+)", started.text)[0]
    assert browser.get(f"/members/m-bjorn/enrolments/{enrolment_id}").status_code == 404
    assert browser.get("/members/m-asa/enrolments/999").status_code == 404


# --- the member page ----------------------------------------------------------


ARRIVED = "2026-05-04T08:00:00.000000+00:00"


def test_member_page_shows_details_cards_presence_and_taps(browser, store):
    cards.add(store, SITE_KEY, build(CardIn, member_id="m-asa", uid="0A0B1A2B"), "test")
    with store.write() as db:
        db.execute(
            "INSERT INTO presence (member_id, zone_id, started_at, visit_start, ended_at,"
            " end_reason) VALUES (?, ?, ?, ?, ?, ?)",
            ("m-asa", "lounge", ARRIVED, ARRIVED, "2026-05-04T10:00:00.000000+00:00", "out"),
        )
        for n in range(12):
            db.execute(
                "INSERT INTO access_events (id, ts, door_id, reader_id, granted, reason,"
                " member_id, card_hint, received_at)"
                " VALUES (?, ?, 'front', 'r1', 1, 'member', 'm-asa', '1a2b', ?)",
                (f"ev-{n:02d}", f"2026-05-04T08:{n:02d}:00.000000+00:00", now_text()),
            )
    page = browser.get("/members/m-asa")
    assert page.status_code == 200
    assert "<h1>Åsa Öberg</h1>" in page.text
    assert "asa@example.org" in page.text
    assert '<a href="/organisations/o-fjord">Fjord AB</a>' in page.text
    assert "…1a2b" in page.text
    # presence in local time (Stockholm: UTC+2 in May); the zone by its id when it has no name
    assert re.search(
        r"<th scope=\"row\">lounge</th><td>2026-05-04 10:00</td><td>2026-05-04 12:00</td>",
        page.text,
    )
    events = re.findall(r'<tr data-event="([^"]+)"', page.text)
    assert events == [f"ev-{n:02d}" for n in range(11, 1, -1)]  # the newest 10


def test_unknown_ids_are_404_pages(browser):
    for path in (
        "/members/m-nobody",
        "/members/m-nobody/edit",
        "/organisations/o-nowhere",
        "/members/m-nobody/enrolments/1",
    ):
        answer = browser.get(path)
        assert answer.status_code == 404, path
        assert "no member" in answer.text or "no organisation" in answer.text
    assert browser.post("/members/m-nobody/deactivate").status_code == 404
    assert browser.post("/members/m-nobody", {"first_name": "X"}).status_code == 404
    assert browser.post("/members/m-nobody/cards", {"uid": "0A0B"}).status_code == 404
    assert browser.post("/cards/12345/revoke").status_code == 404
    assert browser.post("/cards/nope/revoke").status_code == 400


def test_hosts_get_403_everywhere(store):
    site = site_for(store, config(hub={"timezone": ZONE}))
    host = signed_in(store, site, "host")
    card = cards.add(store, SITE_KEY, build(CardIn, member_id="m-asa", uid="0A0B1A2B"), "test")
    before = audit_actions(store)
    for path in (
        "/members",
        "/members?q=asa",
        "/members/new",
        "/members/m-asa",
        "/members/m-asa/edit",
        "/members/m-asa/enrolments/1",
        "/organisations",
        "/organisations/o-fjord",
    ):
        answer = host.get(path)
        assert answer.status_code == 403, path
        assert "Åsa" not in answer.text
    for path, data in (
        ("/members", new_member()),
        ("/members/m-asa", {"last_name": "Host"}),
        ("/members/m-asa/deactivate", {"confirmed": "yes"}),
        ("/members/m-asa/cards", {"uid": "0A0B0C0D"}),
        (f"/cards/{card.id}/revoke", {"confirmed": "yes"}),
        ("/members/m-asa/enrol", {"door_id": "front"}),
        ("/organisations", {"name": "Host Corp"}),
    ):
        assert host.post(path, data).status_code == 403, path
    assert audit_actions(store) == before
    assert members.get(store, "m-asa").status == "active"


def test_writes_need_the_csrf_token(browser, store):
    answer = browser.client.post("/members/m-asa/deactivate", data={"confirmed": "yes"})
    assert answer.status_code == 403
    assert members.get(store, "m-asa").status == "active"


# --- organisations ------------------------------------------------------------


def stay(store: Store, member_id: str, start: datetime, end: datetime | None) -> None:
    with store.write() as db:
        db.execute(
            "INSERT INTO presence (member_id, zone_id, started_at, visit_start, ended_at)"
            " VALUES (?, 'lounge', ?, ?, ?)",
            (member_id, now_text(start), now_text(start), end and now_text(end)),
        )


def test_organisations_show_members_and_hours_this_month(browser, store):
    zone = ZoneInfo(ZONE)
    start, _ = site_hours.month_period(site_hours.month_of(utcnow(), zone), zone)
    stay(store, "m-asa", start + timedelta(hours=1), start + timedelta(hours=3))
    stay(store, "m-bjorn", start + timedelta(hours=2), start + timedelta(hours=3, minutes=30))
    stay(store, "m-soren", start + timedelta(hours=1), start + timedelta(hours=1, minutes=45))
    stay(store, "m-anna", start + timedelta(hours=1), start + timedelta(hours=5))
    stay(store, "m-asa", start - timedelta(hours=5), start - timedelta(hours=4))  # last month
    page = browser.get("/organisations")
    assert page.status_code == 200
    rows = dict(re.findall(r'data-hours="([^"]+)">([^<]+)<', page.text))
    assert rows == {"o-fjord": "3.5", "o-gran": "0.8", "none": "4.0"}
    assert re.search(r'data-organisation="o-fjord">.*?<td class="num">2</td>', page.text)
    detail = browser.get("/organisations/o-fjord")
    assert detail.status_code == 200
    assert "<h1>Fjord AB</h1>" in detail.text
    hours = dict(re.findall(r'data-hours="([^"]+)">([^<]+)<', detail.text))
    assert hours == {"m-asa": "2.0", "m-bjorn": "1.5", "total": "3.5"}
    assert '<a href="/members/m-asa">Åsa Öberg</a>' in detail.text


def test_organisation_month_picker(browser, store):
    stay(
        store, "m-asa", datetime(2026, 3, 31, 21, tzinfo=UTC), datetime(2026, 3, 31, 23, tzinfo=UTC)
    )
    march = browser.get("/organisations/o-fjord?month=2026-03")
    assert march.status_code == 200
    assert "March 2026" in march.text
    # 23:00-01:00 local across the month's end: one hour in each month
    assert 'data-hours="m-asa">1.0<' in march.text
    assert 'data-hours="m-asa">1.0<' in browser.get("/organisations/o-fjord?month=2026-04").text
    assert 'data-hours="m-asa">0.0<' in browser.get("/organisations/o-fjord?month=2026-05").text
    assert 'href="/organisations/o-fjord?month=2026-02" rel="prev"' in march.text
    assert 'href="/organisations/o-fjord?month=2026-04" rel="next"' in march.text
    listing = browser.get("/organisations?month=2026-03")
    assert 'data-hours="o-fjord">1.0<' in listing.text
    assert '<a href="/organisations/o-fjord?month=2026-03">Fjord AB</a>' in listing.text


@pytest.mark.parametrize("month", ["2026-13", "november", "0001-01", "2026-11-01", "9999-12"])
def test_a_bad_month_is_a_422_page(browser, month):
    for path in ("/organisations/o-fjord", "/organisations"):
        answer = browser.get(path, params={"month": month})
        assert answer.status_code == 422, (path, month)
        assert "month" in answer.text
    assert browser.get("/organisations", params={"month": "x" * 50}).status_code == 400


def test_add_an_organisation(browser, store):
    answer = browser.post("/organisations", {"name": "Tall Trees Ltd"})
    assert answer.status_code == 303
    org_id = answer.headers["location"].removeprefix("/organisations/")
    assert organisations.get(store, org_id).name == "Tall Trees Ltd"
    assert (ACTOR, "organisation.add", org_id) in audit_actions(store)
    assert "Tall Trees Ltd" in browser.get("/organisations").text
    # and it is offered in the member form
    assert f'<option value="{org_id}">Tall Trees Ltd</option>' in browser.get("/members/new").text


@pytest.mark.parametrize(
    ("name", "words"), [("", "empty"), ("fjord ab", "exists"), ("x" * 81, "longer")]
)
def test_organisation_errors_show_inline(browser, store, name, words):
    answer = browser.post("/organisations", {"name": name})
    assert answer.status_code == 422
    assert words in (error_for(answer.text, "name") or "")
    assert len(organisations.all_organisations(store)) == 2


def test_every_write_names_the_operator(browser, store):
    browser.post("/members", new_member())
    browser.post("/members/m-asa", {"last_name": "Lind"})
    browser.post("/members/m-asa/cards", {"uid": "0A0B0C0D"})
    [card] = cards.find(store, member_id="m-asa")
    browser.post(f"/cards/{card.id}/revoke", {"confirmed": "yes"})
    browser.post("/members/m-asa/enrol", {"door_id": "front"})
    browser.post("/members/m-bjorn/deactivate", {"confirmed": "yes"})
    browser.post("/organisations", {"name": "New Org"})
    writes = [
        (actor, action)
        for actor, action, _ in audit_actions(store)
        if not action.startswith("user.") and actor != "test"
    ]
    assert [action for _, action in writes] == [
        "member.add",
        "member.change",
        "card.add",
        "card.revoke",
        "enrol.start",
        "member.change",
        "organisation.add",
    ]
    assert {actor for actor, _ in writes} == {ACTOR}
