"""The kiosk's languages: every string is translated, catalogs compiled, placeholders kept."""

import gettext
import re
import string
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from kiosk.i18n import DOMAIN, LOCALE_DIR, Translator
from kiosk.views import BadgeView, IdleView
from tests.helpers.kiosk_data import ASA, make_rig

KIOSK = Path(__file__).parents[1] / "kiosk"
LANGUAGES = ("sv", "nb")
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}


def extracted() -> set[str | tuple[str, str]]:
    """Every message the kiosk's code marks for translation, as Babel finds it."""
    found: set[str | tuple[str, str]] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        KIOSK, keywords=KEYWORDS, comment_tags=()
    ):
        found.add(message if isinstance(message, str) else (message[0], message[1]))
    return found


def catalog(language: str):
    with (LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as po:
        return read_po(po)


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_the_template_holds_every_marked_string():
    with (LOCALE_DIR / f"{DOMAIN}.pot").open("rb") as pot:
        template = {m.id if isinstance(m.id, str) else tuple(m.id) for m in read_po(pot) if m.id}
    assert extracted() == template, "run `make translations`"
    assert len(template) > 100


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_string_is_translated_with_the_same_placeholders(language):
    messages = {
        m.id if isinstance(m.id, str) else tuple(m.id): m for m in catalog(language) if m.id
    }
    assert set(messages) == extracted(), "run `make translations` and translate what is new"
    for key, message in messages.items():
        sources = (key,) if isinstance(key, str) else key
        translations = (message.string,) if isinstance(message.string, str) else message.string
        assert all(translations), f"{language}: {key!r} is not translated"
        assert not message.fuzzy, f"{language}: {key!r} is fuzzy"
        for source, translation in zip(sources * len(translations), translations, strict=False):
            assert fields(translation) == fields(source), f"{language}: {key!r}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalog_is_the_po_file(language):
    compiled = gettext.translation(DOMAIN, LOCALE_DIR, languages=[language])
    for message in catalog(language):
        if not message.id:
            continue
        if isinstance(message.id, str):
            assert compiled.gettext(message.id) == message.string, message.id
        else:
            assert compiled.ngettext(message.id[0], message.id[1], 1) == message.string[0]
            assert compiled.ngettext(message.id[0], message.id[1], 5) == message.string[1]


def test_an_unknown_language_falls_back_to_english():
    assert Translator("xx")._("Welcome!") == "Welcome!"


def test_the_swedish_kiosk(tmp_path):
    rig = make_rig(tmp_path, language="sv")
    idle = rig.model.view()
    assert isinstance(idle, IdleView)
    assert (idle.date, idle.open_text, idle.zones_heading) == (
        "Onsdag 25 november",
        "Öppet",
        "11 personer här nu",
    )
    assert [z.level_text for z in idle.zones] == ["Fylls på", "Plats finns"]
    assert idle.events[0].seats_text == "1 plats kvar"
    rig.model.tap(ASA, granted=True)
    badge = rig.model.view()
    assert isinstance(badge, BadgeView)
    assert badge.greeting == "Hej, Åsa!"
    assert [b.label for b in badge.actions][:2] == ["Checka ut", "Anmäl dig till ett evenemang"]
    rig.model.press("signup")
    detail = rig.model.view().options[1].detail
    assert detail == "I morgon 10:00–11:30 · Fullt · 2 på väntelistan"


def test_the_norwegian_kiosk(tmp_path):
    rig = make_rig(tmp_path, language="nb")
    assert rig.model.view().date == "Onsdag 25. november"
    rig.model.tap(ASA, granted=True)
    assert rig.model.view().greeting == "Hei, Åsa!"


def test_no_english_left_on_the_swedish_screens(tmp_path):
    english = make_rig(tmp_path / "en").model.view()
    swedish = make_rig(tmp_path / "sv", language="sv").model.view()
    assert isinstance(english, IdleView)
    assert isinstance(swedish, IdleView)
    for name in ("date", "open_text", "zones_heading", "rooms_heading", "events_heading", "hint"):
        assert getattr(swedish, name) != getattr(english, name), name
    assert re.search(r"[åäö]", swedish.hint)
