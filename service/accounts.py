"""Users and their API keys.

A key looks like `ork_<id>_<secret>`. The database keeps the id, a visible prefix and the
SHA-256 of the whole key, never the key: a leaked database does not leak keys. The key is
found by its id and compared to the stored hash in constant time.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from service.db.schema import api_keys, users

KEY_PREFIX = "ork"
# last_used_at is written at most this often per key, so requests are not all writes.
_LAST_USED_RESOLUTION = 60.0


@dataclass(frozen=True)
class User:
    id: str
    name: str
    role: str


@dataclass(frozen=True)
class IssuedKey:
    key: str
    """The whole key: shown once, stored nowhere."""
    key_id: str
    prefix: str
    user: User


class AccountError(Exception):
    """A user or key operation that cannot be done; the message says why."""


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def ensure_user(engine: Engine, name: str, role: str) -> User:
    """The user called `name`, created with `role` if new. An existing user keeps its role;
    asking for another one is an error rather than a silent change."""
    name = name.strip()
    if not name:
        raise AccountError("user name must not be empty")
    with engine.begin() as connection:
        row = connection.execute(sa.select(users).where(users.c.name == name)).first()
        if row is None:
            user_id = f"user_{uuid.uuid4().hex[:24]}"
            connection.execute(
                users.insert().values(id=user_id, name=name, role=role, created_at=time.time())
            )
            return User(id=user_id, name=name, role=role)
    if row.role != role:
        raise AccountError(f"user {name!r} exists with role {row.role!r}, not {role!r}")
    return User(id=row.id, name=row.name, role=row.role)


def issue_key(engine: Engine, user: User, *, expires_at: float | None = None) -> IssuedKey:
    key_id = secrets.token_hex(8)
    key = f"{KEY_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    prefix = key[: len(KEY_PREFIX) + 1 + len(key_id)]
    with engine.begin() as connection:
        connection.execute(
            api_keys.insert().values(
                id=key_id,
                user_id=user.id,
                prefix=prefix,
                secret_hash=hash_key(key),
                created_at=time.time(),
                expires_at=expires_at,
            )
        )
    return IssuedKey(key=key, key_id=key_id, prefix=prefix, user=user)


def authenticate(engine: Engine, presented: str) -> User | None:
    """The user a presented key belongs to, or None (unknown, wrong, revoked, expired, or a
    disabled user). Never says which, to the caller."""
    parts = presented.split("_")
    if len(parts) < 3 or parts[0] != KEY_PREFIX:
        return None
    key_id = parts[1]
    with engine.connect() as connection:
        row = connection.execute(
            sa.select(
                api_keys.c.secret_hash,
                api_keys.c.revoked_at,
                api_keys.c.expires_at,
                api_keys.c.last_used_at,
                users.c.id,
                users.c.name,
                users.c.role,
                users.c.disabled_at,
            )
            .join(users, users.c.id == api_keys.c.user_id)
            .where(api_keys.c.id == key_id)
        ).first()
    expected = row.secret_hash if row is not None else hash_key("")
    matches = secrets.compare_digest(hash_key(presented), expected)
    if row is None or not matches:
        return None
    now = time.time()
    if row.revoked_at is not None or row.disabled_at is not None:
        return None
    if row.expires_at is not None and row.expires_at <= now:
        return None
    if row.last_used_at is None or now - row.last_used_at > _LAST_USED_RESOLUTION:
        with engine.begin() as connection:
            connection.execute(
                api_keys.update().where(api_keys.c.id == key_id).values(last_used_at=now)
            )
    return User(id=row.id, name=row.name, role=row.role)
