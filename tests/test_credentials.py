"""Keyed credential hashes: stable, site-specific, never the UID itself."""

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hublink.credentials import credential_hash, parse_site_key
from hublink.errors import ConfigError
from hublink.messages import AclEntry

KEY = bytes(range(32))
OTHER = bytes(range(1, 33))


def test_the_hash_is_hmac_sha256_of_the_uid_bytes_in_hex():
    uid = bytes.fromhex("04A1B2C3D4E5F6")
    expected = hmac.new(KEY, uid, hashlib.sha256).hexdigest()
    assert credential_hash(KEY, uid) == expected
    assert AclEntry(credential=expected, member_id="m1").credential == expected


@given(st.binary(min_size=1, max_size=32), st.binary(min_size=1, max_size=32))
def test_different_uids_and_leading_zeros_give_different_credentials(a, b):
    if a != b:
        assert credential_hash(KEY, a) != credential_hash(KEY, b)
    assert credential_hash(KEY, b"\x00" + a) != credential_hash(KEY, a)


def test_the_same_card_is_a_different_credential_at_another_site():
    uid = bytes.fromhex("04A1B2C3")
    assert credential_hash(KEY, uid) != credential_hash(OTHER, uid)
    assert uid.hex() not in credential_hash(KEY, uid)


@pytest.mark.parametrize("text", ["", "00" * 31, "zz" * 32, "0" * 65])
def test_a_short_or_malformed_site_key_is_refused_with_how_to_make_one(text):
    with pytest.raises(ConfigError, match="token_hex"):
        parse_site_key(text)


def test_a_good_site_key_parses_and_a_short_key_cannot_hash():
    assert parse_site_key(" " + KEY.hex().upper() + "\n") == KEY
    with pytest.raises(ConfigError, match="at least 32 bytes"):
        credential_hash(b"short", b"\x01")
