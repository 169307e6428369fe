"""Usage and quotas: video-seconds per UTC day and month, GPU-seconds, cost under a plan.

A job counts against quotas from the moment it is queued (so that many requests at once
cannot overrun a quota) until it fails; completed jobs are what plans charge for.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from service.core.db.schema import videos
from service.core.settings import PlanSettings, RoleSettings
from service.domain.accounts import User, find_user
from service.domain.errors import NotFound, QuotaExceeded
from service.domain.policy import Policy
from service.jobs.status import COMPLETED, COUNTED

# Generated seconds: an extension counts the frames it adds, not its source's.
_GENERATED_FRAMES = videos.c.num_frames - sa.case(
    (videos.c.mode == "extend", sa.func.coalesce(videos.c.source_frames, 0)), else_=0
)
SECONDS = sa.func.sum(sa.cast(_GENERATED_FRAMES, sa.Double()) / videos.c.fps)


@dataclass(frozen=True)
class Period:
    name: str
    start: float
    end: float


def periods(now: float) -> dict[str, Period]:
    """The UTC day and the UTC calendar month `now` falls in."""
    moment = datetime.fromtimestamp(now, UTC)
    day_start = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    month_start = day_start.replace(day=1)
    days_in_month = calendar.monthrange(moment.year, moment.month)[1]
    return {
        "day": Period("day", day_start.timestamp(), day_start.timestamp() + 86400),
        "month": Period(
            "month", month_start.timestamp(), month_start.timestamp() + days_in_month * 86400
        ),
    }


def iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Limit:
    name: str
    """Which quota: "role daily quota", "role monthly quota", "plan monthly quota"."""
    seconds: float
    period: Period


def limits(role: RoleSettings, plan: PlanSettings | None, now: float) -> list[Limit]:
    current = periods(now)
    found = []
    if role.quota_seconds_per_day is not None:
        found.append(Limit("role daily quota", role.quota_seconds_per_day, current["day"]))
    if role.quota_seconds_per_month is not None:
        found.append(Limit("role monthly quota", role.quota_seconds_per_month, current["month"]))
    if plan is not None and plan.monthly_seconds is not None:
        found.append(Limit("plan monthly quota", plan.monthly_seconds, current["month"]))
    return found


def seconds_used(connection: Connection, user_id: str, since: float) -> float:
    value = connection.execute(
        sa.select(SECONDS).where(
            videos.c.user_id == user_id,
            videos.c.created_at >= since,
            videos.c.status.in_(COUNTED),
        )
    ).scalar_one()
    return float(value or 0.0)


def check_quota(
    connection: Connection,
    user: User,
    role: RoleSettings,
    plan: PlanSettings | None,
    requested: float,
    *,
    now: float,
) -> None:
    """QuotaExceeded if `requested` more video-seconds would pass any of the user's quotas."""
    for limit in limits(role, plan, now):
        used = seconds_used(connection, user.id, limit.period.start)
        if used + requested > limit.seconds + 1e-9:
            raise QuotaExceeded(
                f"This {requested:g} s video would exceed your {limit.name} of "
                f"{limit.seconds:g} video-seconds ({used:g} s used); it resets at "
                f"{iso(limit.period.end)}.",
                retry_after=limit.period.end - now,
                resets_at=limit.period.end,
            )


def report(engine: Engine, policy: Policy, user: User, *, now: float) -> dict:
    """What GET /v1/usage answers: use this day and month, quotas left, cost so far."""
    role = policy.role(user.role)
    plan = policy.plan(user.plan)
    current = periods(now)
    with engine.connect() as connection:
        used = {
            name: seconds_used(connection, user.id, period.start)
            for name, period in current.items()
        }
        month = current["month"]
        completed = connection.execute(
            sa.select(sa.func.count(), SECONDS, sa.func.sum(videos.c.run_seconds)).where(
                videos.c.user_id == user.id,
                videos.c.status == COMPLETED,
                videos.c.completed_at >= month.start,
            )
        ).one()
    videos_done, seconds_done, gpu_seconds = (
        int(completed[0]),
        float(completed[1] or 0),
        float(completed[2] or 0),
    )
    quotas: dict[str, float | None] = {"day": None, "month": None}
    for limit in limits(role, plan, now):
        quotas[limit.period.name] = min(limit.seconds, quotas[limit.period.name] or limit.seconds)

    def period_view(name: str) -> dict:
        quota = quotas[name]
        return {
            "start": iso(current[name].start),
            "resets_at": iso(current[name].end),
            "video_seconds": round(used[name], 3),
            "quota_seconds": quota,
            "remaining_seconds": None if quota is None else round(max(quota - used[name], 0.0), 3),
        }

    return {
        "object": "usage",
        "user": user.name,
        "role": user.role,
        "permissions": list(role.permissions),
        "plan": user.plan,
        "day": period_view("day"),
        "month": {
            **period_view("month"),
            "completed_videos": videos_done,
            "completed_video_seconds": round(seconds_done, 3),
            "gpu_seconds": round(gpu_seconds, 3),
        },
        "cost": cost(
            plan, videos=videos_done, seconds=seconds_done, currency=policy.settings.access.currency
        ),
    }


def cost(plan: PlanSettings | None, *, videos: int, seconds: float, currency: str) -> dict:
    """This month's cost of completed videos under `plan`."""
    if plan is None:
        return {"currency": currency, "amount": 0.0, "basis": "no plan"}
    if plan.kind == "per_second":
        amount = plan.price_per_second * seconds
        basis = f"{plan.price_per_second:g} per generated second x {seconds:g} s"
    elif plan.kind == "per_video":
        amount = plan.price_per_video * videos
        basis = f"{plan.price_per_video:g} per video x {videos}"
    elif plan.kind == "subscription":
        amount = plan.monthly_fee
        basis = (
            f"monthly fee, {plan.monthly_seconds:g} s included"
            if plan.monthly_seconds
            else "monthly fee"
        )
    else:
        amount = 0.0
        basis = "free plan"
    return {"currency": currency, "amount": round(amount, 2), "basis": basis}


def report_for(engine: Engine, policy: Policy, caller: User, *, of: str | None, now: float) -> dict:
    """The caller's own usage report, or (administrators only) the user called `of`'s."""
    subject = caller
    if of is not None and of != caller.name:
        policy.require(caller, "administer")
        subject = find_user(engine, of)
        if subject is None:
            raise NotFound(f"No user {of!r}.", param="user")
    return report(engine, policy, subject, now=now)
