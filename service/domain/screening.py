"""Moderation of the prompt as written, before anything is queued or loaded: the API checks
it at `POST /v1/videos`, `openreel generate` before it loads a model. A block ends the
request there, audited, and the recaptioner and the model never see the prompt."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from service.domain import audit
from service.domain.audit import Actor
from service.domain.errors import InvalidInput
from service.moderation import BLOCKED_MESSAGE, Moderator, Verdict


class PromptBlocked(InvalidInput):
    """Moderation blocked the prompt as written."""

    default_code = "moderation_blocked"

    def __init__(self, verdict: Verdict) -> None:
        super().__init__(
            f"{BLOCKED_MESSAGE} Categories: {', '.join(verdict.categories)}.", param="prompt"
        )
        self.verdict = verdict


@dataclass(frozen=True)
class Screened:
    verdict: Verdict
    outcome: str
    """allowed, or flagged (a role in flag mode: the job runs, recorded and confidential)."""

    @property
    def flagged(self) -> bool:
        return self.outcome == "flagged"

    def record(self) -> dict:
        """The verdict as a job stores it."""
        return {**self.verdict.to_dict(), "outcome": self.outcome}


def screen_prompt(
    moderator: Moderator,
    database: Callable[[], Engine],
    prompt: str,
    *,
    mode: str,
    actor: Actor,
    target_type: str,
    target_id: str | None = None,
) -> Screened:
    """The prompt's verdict under the role's moderation `mode`; PromptBlocked, audited as
    moderation.blocked, when it may not run. `database()` gives the audit log's engine, asked
    for only then (`openreel generate` opens its data dir only when it needs it)."""
    verdict = moderator.check_text(prompt, "prompt")
    outcome = moderator.outcome(verdict, mode)
    if outcome == "blocked":
        audit.record(
            database(),
            "moderation.blocked",
            actor,
            target_type=target_type,
            target_id=target_id,
            details={**verdict.to_dict(), "outcome": outcome, "prompt": prompt},
        )
        raise PromptBlocked(verdict)
    return Screened(verdict, outcome)
