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

from service.core.db.schema import api_keys, users
from service.domain.errors import Conflict, InvalidInput, NotFound

KEY_PREFIX = "ork"
# last_used_at is written at most this often per key, so requests are not all writes.
_LAST_USED_RESOLUTION = 60.0


@dataclass(frozen=True)
class User:
    id: str
    name: str
    role: str
    plan: str = "free"
    email: str | None = None


@dataclass(frozen=True)
class IssuedKey:
    key: str
    """The whole key: shown once, stored nowhere."""
    key_id: str
    prefix: str
    user: User
    expires_at: float | None = None


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _user(row) -> User:
    return User(id=row.id, name=row.name, role=row.role, plan=row.plan, email=row.email)


def _check_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise InvalidInput("user name must not be empty", param="name")
    if len(name) > 100 or any(ch.isspace() for ch in name):
        raise InvalidInput(
            f"user name {name!r} must be one word of at most 100 characters", param="name"
        )
    return name


def create_user(
    engine: Engine, name: str, role: str, *, plan: str = "free", email: str | None = None
) -> User:
    """A new user; Conflict (name_taken) if the name is taken."""
    name = _check_name(name)
    user = User(id=f"user_{uuid.uuid4().hex[:24]}", name=name, role=role, plan=plan, email=email)
    try:
        with engine.begin() as connection:
            connection.execute(
                users.insert().values(
                    id=user.id, name=name, role=role, plan=plan, email=email, created_at=time.time()
                )
            )
    except sa.exc.IntegrityError:
        raise Conflict(f"user {name!r} already exists", param="name", code="name_taken") from None
    return user


def find_user(engine: Engine, name: str) -> User | None:
    with engine.connect() as connection:
        row = connection.execute(sa.select(users).where(users.c.name == name)).first()
    return None if row is None else _user(row)


def find_user_by_id(engine: Engine, user_id: str) -> User | None:
    with engine.connect() as connection:
        row = connection.execute(sa.select(users).where(users.c.id == user_id)).first()
    return None if row is None else _user(row)


def ensure_user(
    engine: Engine, name: str, role: str, *, plan: str = "free", email: str | None = None
) -> User:
    """The user called `name`, created with `role` if new. An existing user keeps its role;
    asking for another one is an error rather than a silent change."""
    existing = find_user(engine, _check_name(name))
    if existing is None:
        try:
            return create_user(engine, name, role, plan=plan, email=email)
        except Conflict:  # created by someone else meanwhile
            existing = find_user(engine, _check_name(name))
    if existing.role != role:
        raise Conflict(
            f"user {existing.name!r} exists with role {existing.role!r}, not {role!r}",
            param="role",
            code="role_mismatch",
        )
    return existing


def list_users(engine: Engine) -> list[dict]:
    with engine.connect() as connection:
        rows = connection.execute(sa.select(users).order_by(users.c.created_at)).all()
    return [
        {
            "id": row.id,
            "name": row.name,
            "email": row.email,
            "role": row.role,
            "plan": row.plan,
            "status": "disabled" if row.disabled_at else "active",
            "created_at": row.created_at,
        }
        for row in rows
    ]


def disable_user(engine: Engine, name: str) -> tuple[User, bool]:
    """Disable a user: their keys stop working at once. Disabling a disabled user changes
    nothing and is no error; the flag says whether this call disabled them."""
    with engine.begin() as connection:
        row = connection.execute(
            users.update()
            .where(users.c.name == name, users.c.disabled_at.is_(None))
            .values(disabled_at=time.time())
            .returning(*users.c)
        ).first()
    if row is not None:
        return _user(row), True
    existing = find_user(engine, name)
    if existing is None:
        raise NotFound(f"no user {name!r}", param="name")
    return existing, False


def list_keys(
    engine: Engine, *, user_name: str | None = None, now: float | None = None
) -> list[dict]:
    query = sa.select(api_keys, users.c.name.label("user_name")).join(
        users, users.c.id == api_keys.c.user_id
    )
    if user_name:
        query = query.where(users.c.name == user_name)
    with engine.connect() as connection:
        rows = connection.execute(query.order_by(api_keys.c.created_at)).all()
    now = time.time() if now is None else now
    return [
        {
            "id": row.id,
            "prefix": row.prefix,
            "user": row.user_name,
            "created_at": row.created_at,
            "last_used_at": row.last_used_at,
            "expires_at": row.expires_at,
            "status": "revoked"
            if row.revoked_at
            else "expired"
            if row.expires_at and row.expires_at <= now
            else "active",
        }
        for row in rows
    ]


def revoke_key(engine: Engine, key_id_or_prefix: str) -> tuple[dict, bool]:
    """Revoke a key by its id or visible prefix; it is refused from the next request on.
    Revoking a revoked key changes nothing and is no error; the flag says whether this call
    revoked it."""
    key_id = key_id_or_prefix.removeprefix(f"{KEY_PREFIX}_").split("_")[0]
    columns = (api_keys.c.id, api_keys.c.prefix, api_keys.c.user_id)
    with engine.begin() as connection:
        row = connection.execute(
            api_keys.update()
            .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=time.time())
            .returning(*columns)
        ).first()
        revoked = row is not None
        if row is None:
            row = connection.execute(sa.select(*columns).where(api_keys.c.id == key_id)).first()
    if row is None:
        raise NotFound(f"no active key {key_id_or_prefix!r}", param="key_id")
    return {"id": row.id, "prefix": row.prefix, "user_id": row.user_id}, revoked


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
    return IssuedKey(key=key, key_id=key_id, prefix=prefix, user=user, expires_at=expires_at)


def authenticate(engine: Engine, presented: str, *, now: float | None = None) -> User | None:
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
                users.c.plan,
                users.c.email,
                users.c.disabled_at,
            )
            .join(users, users.c.id == api_keys.c.user_id)
            .where(api_keys.c.id == key_id)
        ).first()
    expected = row.secret_hash if row is not None else hash_key("")
    matches = secrets.compare_digest(hash_key(presented), expected)
    if row is None or not matches:
        return None
    now = time.time() if now is None else now
    if row.revoked_at is not None or row.disabled_at is not None:
        return None
    if row.expires_at is not None and row.expires_at <= now:
        return None
    if row.last_used_at is None or now - row.last_used_at > _LAST_USED_RESOLUTION:
        with engine.begin() as connection:
            connection.execute(
                api_keys.update().where(api_keys.c.id == key_id).values(last_used_at=now)
            )
    return _user(row)
