"""The way in: a public access request, an operator's decision, an invitation code, a key.

    POST /v1/access-requests  (anyone; rate-limited per address)  -> pending
    operator approves          -> an invitation: single use, expiring, bound to a role and plan
    POST /v1/invitations/{code}/redeem  -> a new user and their first API key, shown once

Invitation codes are secrets like keys: stored as a hash, shown once, recorded by prefix.
"""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, Row

from service.core.db.schema import access_requests, invitations
from service.domain.accounts import IssuedKey, User, create_user, hash_key, issue_key
from service.domain.errors import Conflict, InvalidInput, NotFound, TooMany

INVITATION_PREFIX = "inv"
# Spaces spelled out: `\s` differs between Python's regex and the one pydantic validates
# the API's bodies with, and the two must agree.
EMAIL_PATTERN = r"^[^@ \t\n\r\f\v]{1,64}@[^@ \t\n\r\f\v]+\.[^@ \t\n\r\f\v]{2,}$"
_EMAIL = re.compile(EMAIL_PATTERN)


@dataclass(frozen=True)
class IssuedInvitation:
    code: str
    """The whole code: shown once to the operator, stored nowhere."""
    id: str
    prefix: str
    role: str
    plan: str
    expires_at: float


def check_email(email: str) -> str:
    email = email.strip()
    if not _EMAIL.match(email) or len(email) > 200:
        raise InvalidInput(f"{email!r} is not an email address", param="email")
    return email


def submit_request(
    engine: Engine,
    *,
    name: str,
    email: str,
    wanted_role: str,
    motivation: str,
    client_address: str | None,
    per_hour: int,
    now: float,
) -> Row:
    """Record an access request; TooMany when this address sent too many lately."""
    email = check_email(email)
    with engine.begin() as connection:
        recent = connection.execute(
            sa.select(sa.func.count()).where(
                access_requests.c.client_address == client_address,
                access_requests.c.created_at >= now - 3600,
            )
        ).scalar_one()
        if recent >= per_hour:
            raise TooMany(
                f"Too many access requests: at most {per_hour} access requests per hour from "
                "one address.",
                retry_after=3600,
            )
        return connection.execute(
            access_requests.insert()
            .values(
                id=f"areq_{uuid.uuid4().hex[:24]}",
                name=name,
                email=email,
                wanted_role=wanted_role,
                motivation=motivation,
                client_address=client_address,
                status="pending",
                created_at=now,
            )
            .returning(*access_requests.c)
        ).one()


def list_requests(engine: Engine, *, status: str | None = None) -> list[Row]:
    query = sa.select(access_requests).order_by(access_requests.c.created_at.desc())
    if status:
        query = query.where(access_requests.c.status == status)
    with engine.connect() as connection:
        return list(connection.execute(query))


def _insert_invitation(
    connection: Connection,
    *,
    role: str,
    plan: str,
    email: str | None,
    created_by: str | None,
    expires_at: float,
    now: float,
    access_request_id: str | None = None,
) -> IssuedInvitation:
    invitation_id = secrets.token_hex(8)
    code = f"{INVITATION_PREFIX}_{invitation_id}_{secrets.token_urlsafe(24)}"
    prefix = f"{INVITATION_PREFIX}_{invitation_id}"
    connection.execute(
        invitations.insert().values(
            id=invitation_id,
            prefix=prefix,
            code_hash=hash_key(code),
            role=role,
            plan=plan,
            email=email,
            created_at=now,
            created_by=created_by,
            expires_at=expires_at,
            access_request_id=access_request_id,
        )
    )
    return IssuedInvitation(code, invitation_id, prefix, role, plan, expires_at)


def create_invitation(
    engine: Engine,
    *,
    role: str,
    plan: str,
    email: str | None,
    created_by: str | None,
    valid_days: float,
    now: float,
) -> IssuedInvitation:
    with engine.begin() as connection:
        return _insert_invitation(
            connection,
            role=role,
            plan=plan,
            email=email,
            created_by=created_by,
            expires_at=now + valid_days * 86400,
            now=now,
        )


def decide(
    engine: Engine,
    request_id: str,
    *,
    approve: bool,
    decided_by: str | None,
    role: str | None,
    plan: str,
    valid_days: float,
    known_roles: set[str],
    now: float,
) -> tuple[Row, IssuedInvitation | None]:
    """Approve (making an invitation for the requested or a given role) or reject a pending
    request, in one transaction. A request is decided once; approving one for a role that
    no longer exists is refused and leaves it pending."""
    with engine.begin() as connection:
        row = connection.execute(
            access_requests.update()
            .where(access_requests.c.id == request_id, access_requests.c.status == "pending")
            .values(
                status="approved" if approve else "rejected", decided_at=now, decided_by=decided_by
            )
            .returning(*access_requests.c)
        ).first()
        if row is None:
            raise NotFound(f"no pending access request {request_id!r}", param="request_id")
        if not approve:
            return row, None
        role = role or row.wanted_role
        if role not in known_roles:
            raise InvalidInput(f"requested role {role!r} no longer exists", param="role")
        invitation = _insert_invitation(
            connection,
            role=role,
            plan=plan,
            email=row.email,
            created_by=decided_by,
            expires_at=now + valid_days * 86400,
            now=now,
            access_request_id=row.id,
        )
        connection.execute(
            access_requests.update()
            .where(access_requests.c.id == row.id)
            .values(invitation_id=invitation.id)
        )
    return row, invitation


def list_invitations(engine: Engine, *, now: float) -> list[dict]:
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(invitations).order_by(invitations.c.created_at.desc())
        ).all()
    return [
        {
            "id": row.id,
            "prefix": row.prefix,
            "role": row.role,
            "plan": row.plan,
            "email": row.email,
            "created_at": row.created_at,
            "expires_at": row.expires_at,
            "status": "used" if row.used_at else "expired" if row.expires_at <= now else "open",
            "used_by": row.used_by,
        }
        for row in rows
    ]


def redeem(engine: Engine, code: str, *, user_name: str, now: float) -> tuple[User, IssuedKey, Row]:
    """Spend an invitation: a new user with its role and plan, and their first key.
    Refused when the code is unknown, expired or already used (NotFound), or the name is
    taken (Conflict; the code stays unspent)."""
    with engine.begin() as connection:
        row = connection.execute(
            invitations.update()
            .where(
                invitations.c.code_hash == hash_key(code),
                invitations.c.used_at.is_(None),
                invitations.c.expires_at > now,
            )
            .values(used_at=now)
            .returning(*invitations.c)
        ).first()
    if row is None:
        raise NotFound(
            "this invitation code is unknown, expired or already used.",
            param="code",
            code="invitation_invalid",
        )
    try:
        user = create_user(engine, user_name, row.role, plan=row.plan, email=row.email)
    except (Conflict, InvalidInput) as exc:
        with engine.begin() as connection:  # give the code back: the name was the problem
            connection.execute(
                invitations.update().where(invitations.c.id == row.id).values(used_at=None)
            )
        if isinstance(exc, Conflict):
            raise Conflict(
                f"{exc}; choose another name.", param="name", code="name_taken"
            ) from None
        raise
    with engine.begin() as connection:
        connection.execute(
            invitations.update().where(invitations.c.id == row.id).values(used_by=user.id)
        )
    return user, issue_key(engine, user), row
