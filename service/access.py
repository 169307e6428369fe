"""What a user may do, from their role: see, manage and download videos, use permissions.

owner                         sees, manages and (if the role allows) downloads their own
administer                    sees, manages and downloads everything
see_all_jobs (technical audit) sees other users' videos, except confidential ones
anyone else                   sees nothing of other users' (404, as if it did not exist)
"""

from __future__ import annotations

from sqlalchemy.engine import Row

from service.accounts import User
from service.api.errors import APIError
from service.settings import RoleSettings, Settings

# A user whose role was removed from the config keeps their account but may do nothing.
NO_ACCESS = RoleSettings(
    description="role not in the config", allowed_models=[], max_pending_jobs=1
)


class Access:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def role(self, user: User) -> RoleSettings:
        return self.settings.roles.get(user.role, NO_ACCESS)

    def can(self, user: User, permission: str) -> bool:
        return self.role(user).can(permission)

    def require(self, user: User, permission: str) -> None:
        if not self.can(user, permission):
            raise APIError(
                403,
                f"Your role ({user.role}) does not have the {permission} permission.",
                code="permission_denied",
            )

    def sees(self, user: User, job: Row) -> bool:
        if job.user_id == user.id or self.can(user, "administer"):
            return True
        return self.can(user, "see_all_jobs") and not job.confidential

    def manages(self, user: User, job: Row) -> bool:
        """May cancel, delete or remix it."""
        return job.user_id == user.id or self.can(user, "administer")

    def lists_everyone(self, user: User) -> bool:
        return self.can(user, "administer")

    def may_download(self, user: User, job: Row) -> bool:
        if self.can(user, "administer"):
            return True
        return self.sees(user, job) and self.role(user).export.download
