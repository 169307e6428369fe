"""What operators do to users, keys, access requests and invitations, each action audited
with its actor: the admin API (`/v1/admin`) and the host's `openreel users|keys` commands
both come here."""

from __future__ import annotations

from typing import Any

from service.core.runtime import Runtime
from service.domain import accounts, audit, invitations
from service.domain.accounts import IssuedKey, User
from service.domain.audit import Actor
from service.domain.errors import InvalidInput, NotFound
from service.domain.invitations import IssuedInvitation


class Administration:
    def __init__(self, runtime: Runtime) -> None:
        self.settings = runtime.settings
        self.engine = runtime.engine
        self.clock = runtime.clock

    def _record(
        self, actor: Actor, action: str, target_type: str, target_id: str, **details: Any
    ) -> None:
        audit.record(
            self.engine,
            action,
            actor,
            target_type=target_type,
            target_id=target_id,
            details=details or None,
        )

    def checked_plan(self, role: str | None, plan: str | None) -> str:
        """The plan to give (access.default_plan when None), once `role` and it are known."""
        if role is not None and role not in self.settings.roles:
            raise InvalidInput(
                f"unknown role {role!r}; roles: {', '.join(sorted(self.settings.roles))}",
                param="role",
            )
        plan = plan or self.settings.access.default_plan
        if plan not in self.settings.plans:
            raise InvalidInput(
                f"unknown plan {plan!r}; plans: {', '.join(sorted(self.settings.plans))}",
                param="plan",
            )
        return plan

    # ------------------------------------------------------------------ users and keys

    def list_users(self) -> list[dict]:
        return accounts.list_users(self.engine)

    def add_user(
        self, actor: Actor, name: str, role: str, *, plan: str | None, email: str | None
    ) -> User:
        plan = self.checked_plan(role, plan)
        email = invitations.check_email(email) if email else None
        user = accounts.create_user(self.engine, name, role, plan=plan, email=email)
        self._record(actor, "user.created", "user", user.id, name=user.name, role=role, plan=plan)
        return user

    def disable_user(self, actor: Actor, name: str) -> tuple[User, bool]:
        """The user, and whether this call disabled them (False: they already were)."""
        user, changed = accounts.disable_user(self.engine, name)
        if changed:
            self._record(actor, "user.disabled", "user", user.id, name=user.name)
        return user, changed

    def issue_key(
        self,
        actor: Actor,
        user_name: str,
        *,
        role: str | None = None,
        plan: str | None = None,
        email: str | None = None,
        expires_in_days: float | None = None,
    ) -> IssuedKey:
        """A new key for the user called `user_name`. With `role`, the user is created if
        new (the host's `keys create`); without, they must exist. Everything is checked
        before anything is written."""
        if expires_in_days is not None and expires_in_days <= 0:
            raise InvalidInput(
                f"expires_in_days must be more than 0, got {expires_in_days:g}",
                param="expires_in_days",
            )
        if role is None:
            user = accounts.find_user(self.engine, user_name)
            if user is None:
                raise NotFound(f"No user {user_name!r}.", param="user")
        else:
            plan = self.checked_plan(role, plan)
            email = invitations.check_email(email) if email else None
            user = accounts.ensure_user(self.engine, user_name, role, plan=plan, email=email)
        expires = self.clock() + expires_in_days * 86400 if expires_in_days else None
        issued = accounts.issue_key(self.engine, user, expires_at=expires)
        self._record(
            actor, "key.created", "api_key", issued.key_id, prefix=issued.prefix, user=user.name
        )
        return issued

    def revoke_key(self, actor: Actor, key_id_or_prefix: str) -> tuple[dict, bool]:
        """The key, and whether this call revoked it (False: it already was)."""
        revoked, changed = accounts.revoke_key(self.engine, key_id_or_prefix)
        if changed:
            self._record(actor, "key.revoked", "api_key", revoked["id"], prefix=revoked["prefix"])
        return revoked, changed

    def list_keys(self, *, user_name: str | None = None) -> list[dict]:
        return accounts.list_keys(self.engine, user_name=user_name, now=self.clock())

    # ------------------------------------------------------------------ the way in

    def list_requests(self, *, status: str | None = None) -> list:
        return invitations.list_requests(self.engine, status=status)

    def decide(
        self,
        actor: Actor,
        request_id: str,
        *,
        approve: bool,
        role: str | None = None,
        plan: str | None = None,
    ) -> tuple[Any, IssuedInvitation | None]:
        plan = self.checked_plan(role, plan)
        row, invitation = invitations.decide(
            self.engine,
            request_id,
            approve=approve,
            decided_by=actor.id,
            role=role,
            plan=plan,
            valid_days=self.settings.access.invitation_days,
            known_roles=set(self.settings.roles),
            now=self.clock(),
        )
        self._record(
            actor, f"access_request.{row.status}", "access_request", row.id,
            email=row.email, invitation=invitation.prefix if invitation else None,
        )  # fmt: skip
        return row, invitation

    def list_invitations(self) -> list[dict]:
        return invitations.list_invitations(self.engine, now=self.clock())

    def invite(
        self, actor: Actor, role: str, *, plan: str | None, email: str | None
    ) -> IssuedInvitation:
        """Invite someone directly, without an access request (partner programmes)."""
        plan = self.checked_plan(role, plan)
        invitation = invitations.create_invitation(
            self.engine,
            role=role,
            plan=plan,
            email=email,
            created_by=actor.id,
            valid_days=self.settings.access.invitation_days,
            now=self.clock(),
        )
        self._record(
            actor, "invitation.created", "invitation", invitation.id,
            prefix=invitation.prefix, role=role,
        )  # fmt: skip
        return invitation
