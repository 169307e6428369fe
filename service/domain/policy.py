"""The one place that answers "may this user do this?", from their role in the config.

Seeing, managing and downloading videos:

    owner                          sees, manages and (if the role allows) downloads their own
    administer                     sees, manages and downloads everything
    see_all_jobs (technical audit) sees other users' videos, except confidential ones
    anyone else                    sees nothing of other users' (404, as if it did not exist)

Limits on a new video: the models, seconds, size and steps a role allows, how many videos a
user may have pending, and what the role implies for the job (priority, moderation mode,
confidentiality, retention). Quotas are counted in `service.domain.usage`, from the limits
the role and plan name here.

A user whose role was removed from the config keeps their account but may do nothing: every
lookup of a role falls back to NO_ACCESS, and only to it.
"""

from __future__ import annotations

from sqlalchemy.engine import Row

from service.core.settings import PlanSettings, RoleSettings, Settings
from service.domain.accounts import User
from service.domain.errors import Forbidden, LimitExceeded, TooMany

NO_ACCESS = RoleSettings(
    description="role not in the config", allowed_models=[], max_pending_jobs=1
)


class Policy:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    # ------------------------------------------------------------------ roles and plans

    def role(self, name: str | None) -> RoleSettings:
        """The role called `name`; NO_ACCESS for one the config does not have."""
        return self.settings.roles.get(name or "", NO_ACCESS)

    def plan(self, name: str | None) -> PlanSettings | None:
        return self.settings.plans.get(name or "")

    def moderation_mode(self, role_name: str | None) -> str:
        """enforce or flag: what a moderation finding means for this role's videos."""
        return self.role(role_name).moderation

    # ------------------------------------------------------------------ permissions

    def can(self, user: User, permission: str) -> bool:
        return self.role(user.role).can(permission)

    def require(self, user: User, permission: str) -> None:
        if not self.can(user, permission):
            raise Forbidden(f"Your role ({user.role}) does not have the {permission} permission.")

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
        return self.sees(user, job) and self.role(user.role).export.download

    # ------------------------------------------------------------------ limits on a new video

    def check_model(self, user: User, name: str, requested: str | None) -> None:
        """The served model `name` (asked for as `requested`, maybe an alias)."""
        role = self.role(user.role)
        if not (role.allows_model(name) or role.allows_model(requested or name)):
            raise LimitExceeded(
                f"Your role ({user.role}) may not use the model {requested or name}.",
                param="model",
            )

    def check_seconds(self, user: User, seconds: float) -> None:
        limit = self.role(user.role).max_seconds
        if seconds > limit:
            raise LimitExceeded(
                f"seconds {seconds:g} is over the {user.role} role's limit of {limit:g} s per video.",
                param="seconds",
            )

    def default_seconds(self, user: User, model_default: float) -> float:
        """The length a request that names none gets: the model's, within the role's."""
        return min(model_default, self.role(user.role).max_seconds)

    def steps(self, user: User, requested: int | None, model_default: int) -> int | None:
        """The steps to plan with: the request's, refused over the role's limit; or None for
        the model's default, lowered to the limit where the model's is higher."""
        limit = self.role(user.role).max_steps
        if limit is None:
            return requested
        if requested is not None and requested > limit:
            raise LimitExceeded(
                f"steps {requested} is over the {user.role} role's limit of {limit} steps.",
                param="steps",
            )
        if requested is None and model_default > limit:
            return limit
        return requested

    def check_size(self, user: User, size: str, width: int, height: int) -> None:
        limit = self.role(user.role).max_pixels
        if limit is not None and width * height > limit:
            raise LimitExceeded(
                f"size {size} is over the {user.role} role's limit of {limit} pixels.",
                param="size",
            )

    def check_pending(self, user: User, pending: int, *, retry_after: float) -> None:
        """`pending`: the user's videos queued or rendering now."""
        if pending >= self.role(user.role).max_pending_jobs:
            raise TooMany(
                f"You have {pending} videos queued or rendering, the most your role "
                f"({user.role}) allows at once; wait for one to finish.",
                code="concurrency_limit_exceeded",
                retry_after=retry_after,
            )

    def check_queue(self, queued: int, *, retry_after: float) -> None:
        """`queued`: every user's videos waiting for a worker."""
        if queued >= self.settings.access.max_queued_jobs:
            raise TooMany(
                "The queue is full; try again later.", code="queue_full", retry_after=retry_after
            )

    def job_terms(self, user: User, *, flagged: bool) -> dict:
        """What the role implies for a new job's row: queue priority, the running cap,
        confidentiality (a flagged prompt's output is confidential whatever the role's
        export rules) and how long its files are kept."""
        role = self.role(user.role)
        retention = role.export.retention_days
        return {
            "role": user.role,
            "priority": role.priority,
            "max_running": role.max_running_jobs,
            "confidential": role.export.confidential or flagged,
            "retention_seconds": retention * 86400 if retention else None,
        }
