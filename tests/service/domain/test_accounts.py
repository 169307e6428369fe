"""Users and API keys: keys stored only as hashes, checked in constant time, refused when
wrong, expired, revoked or their user disabled."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from service.core.db.schema import api_keys, users
from service.domain.accounts import authenticate, ensure_user, hash_key, issue_key
from service.domain.errors import Conflict, InvalidInput


def test_a_key_authenticates_its_user_and_is_stored_only_as_a_hash(runtime):
    user = ensure_user(runtime.engine, "tester1", "artist")
    issued = issue_key(runtime.engine, user)
    assert issued.key.startswith(issued.prefix + "_") and issued.prefix.startswith("ork_")
    assert authenticate(runtime.engine, issued.key) == user
    with runtime.engine.connect() as connection:
        stored = connection.execute(sa.select(api_keys)).one()
        everything = " ".join(str(value) for value in stored)
    assert issued.key not in everything
    assert issued.key.split("_", 2)[2] not in everything  # nor the secret part
    assert stored.secret_hash == hash_key(issued.key)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda key: key[:-1] + ("A" if key[-1] != "A" else "B"),  # wrong secret
        lambda key: "ork_0000000000000000_" + key.split("_", 2)[2],  # unknown id
        lambda key: "not-a-key",
        lambda key: "",
        lambda key: key.replace("ork_", "sk_"),
    ],
)
def test_wrong_keys_are_refused(runtime, mangle):
    issued = issue_key(runtime.engine, ensure_user(runtime.engine, "tester1", "artist"))
    assert authenticate(runtime.engine, mangle(issued.key)) is None


def test_expired_revoked_and_disabled_are_refused_at_once(runtime):
    user = ensure_user(runtime.engine, "tester1", "artist")
    expired = issue_key(runtime.engine, user, expires_at=time.time() - 1)
    assert authenticate(runtime.engine, expired.key) is None
    revoked = issue_key(runtime.engine, user)
    with runtime.engine.begin() as connection:
        connection.execute(
            api_keys.update().where(api_keys.c.id == revoked.key_id).values(revoked_at=time.time())
        )
    assert authenticate(runtime.engine, revoked.key) is None
    good = issue_key(runtime.engine, user)
    assert authenticate(runtime.engine, good.key) == user
    with runtime.engine.begin() as connection:
        connection.execute(
            users.update().where(users.c.id == user.id).values(disabled_at=time.time())
        )
    assert authenticate(runtime.engine, good.key) is None


def test_last_use_is_recorded(runtime):
    issued = issue_key(runtime.engine, ensure_user(runtime.engine, "tester1", "artist"))
    authenticate(runtime.engine, issued.key)
    with runtime.engine.connect() as connection:
        assert connection.execute(sa.select(api_keys.c.last_used_at)).scalar_one() is not None


def test_a_user_keeps_its_role(runtime):
    ensure_user(runtime.engine, "tester1", "artist")
    assert ensure_user(runtime.engine, "tester1", "artist").role == "artist"
    with pytest.raises(Conflict, match="exists with role 'artist', not 'operator'"):
        ensure_user(runtime.engine, "tester1", "operator")
    with pytest.raises(InvalidInput, match="must not be empty"):
        ensure_user(runtime.engine, "  ", "artist")
