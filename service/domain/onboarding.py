"""The public way in, audited: anyone may ask for access, and an invited person redeems their
code for a user and a key. Neither needs an API key."""

from __future__ import annotations

from sqlalchemy.engine import Row

from service.core.runtime import Runtime
from service.domain import audit, invitations
from service.domain.accounts import IssuedKey, User
from service.domain.audit import Actor
from service.domain.errors import InvalidInput


class Onboarding:
    def __init__(self, runtime: Runtime) -> None:
        self.settings = runtime.settings
        self.engine = runtime.engine
        self.clock = runtime.clock

    def request_access(
        self, *, name: str, email: str, wanted_role: str, motivation: str, address: str | None
    ) -> Row:
        """Join the waitlist; an operator decides, and approval makes an invitation code."""
        roles = self.settings.roles
        if wanted_role not in roles:
            raise InvalidInput(
                f"wanted_role must be one of {', '.join(sorted(roles))}", param="wanted_role"
            )
        row = invitations.submit_request(
            self.engine,
            name=name,
            email=email,
            wanted_role=wanted_role,
            motivation=motivation,
            client_address=address,
            per_hour=self.settings.access.access_requests_per_hour,
            now=self.clock(),
        )
        audit.record(
            self.engine,
            "access_request.submitted",
            Actor(id=None, name=email, address=address),
            target_type="access_request",
            target_id=row.id,
            details={"name": name, "wanted_role": wanted_role},
        )
        return row

    def redeem(self, code: str, *, name: str, address: str | None) -> tuple[User, IssuedKey]:
        """Spend an invitation code: the user it makes and their first key, shown once."""
        user, issued, invitation = invitations.redeem(
            self.engine, code, user_name=name, now=self.clock()
        )
        actor = Actor(id=user.id, name=user.name, role=user.role, address=address)
        audit.record(
            self.engine, "invitation.redeemed", actor, target_type="invitation",
            target_id=invitation.id, details={"prefix": invitation.prefix},
        )  # fmt: skip
        audit.record(
            self.engine, "key.created", actor, target_type="api_key",
            target_id=issued.key_id, details={"prefix": issued.prefix, "user": user.name},
        )  # fmt: skip
        return user, issued
