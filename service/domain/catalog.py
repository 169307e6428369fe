"""The models a user may ask for, with what each accepts for that user's role: the catalogue
behind GET /v1/models, so that clients offer only what will be accepted."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.families import get_family, parse_size
from service.core.settings import Settings
from service.domain.accounts import User
from service.domain.errors import NotFound
from service.domain.policy import Policy


@dataclass(frozen=True)
class ModelEntry:
    id: str
    family: str
    sizes: list[str]
    """The model's sizes within the role's pixel limit."""
    default_size: str
    default_seconds: float
    max_seconds: float
    """Longest clip this user may ask for: the role's and the service's limit, or one model
    call where the model cannot extend a clip."""
    modes: list[str]
    steps: int
    max_steps: int
    fps: int
    license: str | None
    aliases: list[str]


class Catalog:
    def __init__(self, settings: Settings, policy: Policy) -> None:
        self.settings = settings
        self.policy = policy

    def models(self, user: User) -> list[ModelEntry]:
        role = self.policy.role(user.role)
        entries = []
        for name in self.settings.served_models():
            aliases = self._aliases(name)
            if not (role.allows_model(name) or any(role.allows_model(a) for a in aliases)):
                continue
            entry = self._entry(user, name, aliases)
            if entry is not None:
                entries.append(entry)
        return entries

    def model(self, user: User, name: str) -> ModelEntry:
        for entry in self.models(user):
            if name == entry.id or name in entry.aliases:
                return entry
        raise NotFound(f"No model named {name!r} is available to you.", param="model")

    def _aliases(self, name: str) -> list[str]:
        default = self.settings.default_model
        return sorted(
            alias
            for alias, target in self.settings.api.aliases.items()
            if target == name or (target == "default" and name == default)
        )

    def _entry(self, user: User, name: str, aliases: list[str]) -> ModelEntry | None:
        _, config = self.settings.resolve_model(name)
        family = get_family(config.family)
        role = self.policy.role(user.role)
        sizes = [
            size
            for size in config.sizes
            if role.max_pixels is None or _pixels(size) <= role.max_pixels
        ]
        if not sizes:
            return None  # nothing this role may ask of it
        longest = min(role.max_seconds, self.settings.limits.max_seconds)
        if "extend" not in config.modes:
            longest = min(longest, family.max_seconds)
        max_steps = (
            config.max_steps if role.max_steps is None else min(role.max_steps, config.max_steps)
        )
        return ModelEntry(
            id=name,
            family=config.family,
            sizes=sizes,
            default_size=config.default_size if config.default_size in sizes else sizes[0],
            default_seconds=self.policy.default_seconds(user, config.default_seconds),
            max_seconds=round(longest, 3),
            modes=list(config.modes),
            steps=min(config.steps, max_steps),
            max_steps=max_steps,
            fps=family.fps,
            license=config.license,
            aliases=aliases,
        )


def _pixels(size: str) -> int:
    width, height = parse_size(size)
    return width * height
