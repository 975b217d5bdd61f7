"""API tokens: shown once, stored as a hash, revocable, audited."""

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from hub_server import audit, tokens
from hub_server.errors import Conflict, Invalid, NotFound, StoreError
from hub_server.store import Store


@pytest.fixture
def store() -> Iterator[Store]:
    with Store.memory() as store:
        yield store


def test_create_returns_a_token_once_and_stores_only_its_hash(store):
    token = tokens.create(store, "accounting", "admin")
    assert token.startswith("htk_")
    assert len(token) >= 40
    rows = store.query("SELECT * FROM api_tokens")
    assert len(rows) == 1
    assert rows[0]["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in [str(value) for value in tuple(rows[0])]
    assert rows[0]["created_by"] == "admin"


def test_two_tokens_differ(store):
    assert tokens.create(store, "a", "admin") != tokens.create(store, "b", "admin")


def test_verify_finds_the_token_and_names_its_actor(store):
    token = tokens.create(store, "ha", "admin")
    info = tokens.verify(store, token)
    assert info is not None
    assert info.name == "ha"
    assert info.actor == "token:ha"
    assert info.revoked_at is None


@pytest.mark.parametrize("given", ["", "htk_", "htk_nonsense", "nonsense", "htk_" + "x" * 500])
def test_verify_refuses_unknown_tokens(store, given):
    tokens.create(store, "ha", "admin")
    assert tokens.verify(store, given) is None


def test_verify_refuses_a_token_with_one_character_changed(store):
    token = tokens.create(store, "ha", "admin")
    changed = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert tokens.verify(store, changed) is None


def test_a_revoked_token_stops_working(store):
    token = tokens.create(store, "ha", "admin")
    info = tokens.revoke(store, "ha", "admin")
    assert info.revoked_at is not None
    assert tokens.verify(store, token) is None


def test_revoking_twice_or_an_unknown_name_fails(store):
    tokens.create(store, "ha", "admin")
    tokens.revoke(store, "ha", "admin")
    with pytest.raises(Conflict):
        tokens.revoke(store, "ha", "admin")
    with pytest.raises(NotFound):
        tokens.revoke(store, "nobody", "admin")


def test_names_are_unique_even_after_revocation(store):
    tokens.create(store, "ha", "admin")
    with pytest.raises(Conflict):
        tokens.create(store, "ha", "admin")
    tokens.revoke(store, "ha", "admin")
    with pytest.raises(Conflict):
        tokens.create(store, "ha", "admin")


@pytest.mark.parametrize("name", ["", " ", "-x", "a b", "x" * 65, "é"])
def test_bad_names_are_refused_naming_the_field(store, name):
    with pytest.raises(Invalid) as caught:
        tokens.create(store, name, "admin")
    assert caught.value.field == "name"
    assert store.query("SELECT * FROM api_tokens") == []


def test_last_used_is_written_at_most_once_a_minute(store):
    token = tokens.create(store, "ha", "admin")
    start = datetime(2025, 5, 1, 8, 0, tzinfo=UTC)

    def last_used() -> datetime | None:
        return tokens.get(store, "ha").last_used_at

    assert last_used() is None
    first = tokens.verify(store, token, now=start)
    assert first is not None
    assert first.last_used_at == start
    assert last_used() == start
    tokens.verify(store, token, now=start + timedelta(seconds=59))
    assert last_used() == start
    tokens.verify(store, token, now=start + timedelta(seconds=61))
    assert last_used() == start + timedelta(seconds=61)


def test_verify_writes_only_when_last_used_is_due(store, monkeypatch):
    token = tokens.create(store, "ha", "admin")
    writes = []
    real_write = store.write

    def counting_write():
        writes.append(1)
        return real_write()

    monkeypatch.setattr(store, "write", counting_write)
    start = datetime(2025, 5, 1, 8, 0, tzinfo=UTC)
    for seconds in (0, 1, 30, 59):
        assert tokens.verify(store, token, now=start + timedelta(seconds=seconds)) is not None
    assert len(writes) == 1


def test_a_busy_database_does_not_turn_a_good_token_away(store, monkeypatch):
    token = tokens.create(store, "ha", "admin")

    def busy():
        raise StoreError("cannot write: database is locked")

    monkeypatch.setattr(store, "write", busy)
    info = tokens.verify(store, token)
    assert info is not None
    assert info.last_used_at is None


def test_list_tokens_shows_every_token_without_secrets(store):
    tokens.create(store, "b", "admin")
    tokens.create(store, "a", "admin")
    tokens.revoke(store, "b", "admin")
    listed = tokens.list_tokens(store)
    assert [t.name for t in listed] == ["a", "b"]
    assert [t.revoked_at is None for t in listed] == [True, False]
    assert all("hash" not in t.model_dump() for t in listed)


def test_creating_and_revoking_is_audited(store):
    tokens.create(store, "ha", "admin")
    tokens.revoke(store, "ha", "token:ops")
    entries = audit.entries(store)
    assert [(e.actor, e.action, e.target) for e in entries] == [
        ("token:ops", "token.revoke", "ha"),
        ("admin", "token.add", "ha"),
    ]
