"""OpenReel's settings: one YAML file over built-in defaults, with `OPENREEL_*` env overrides.

Every field has a default, so a config file sets only what it changes. Environment variables
win over the file: `OPENREEL_DATA_DIR`, `OPENREEL_DEFAULT_MODEL`, and nested fields with a
double underscore (`OPENREEL_LIMITS__MAX_SECONDS=30`). Built once per process and passed down.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from pipeline.config import EncodeOptions, ModelConfig
from pipeline.errors import UnknownModelError
from pipeline.tiny import TINY_MODELS, default_cache_dir, tiny_model_config
from recaption.config import RecaptionConfig


class ConfigError(Exception):
    """A config file cannot be read or is not valid; the message is one line."""


class LimitsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_seconds: float = Field(default=60.0, gt=0, le=60)
    """Longest clip anyone may ask for, in seconds (the product's cap is one minute)."""
    max_prompt_chars: int = Field(default=4000, ge=1)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="OPENREEL_", env_nested_delimiter="__", extra="forbid"
    )

    default_model: str = "tiny-wan"
    """The model a request gets when it names none."""
    models: dict[str, ModelConfig] = Field(default_factory=dict)
    """Models by name. The built-in tiny models (tiny-wan, tiny-ltx, tiny-cogvideox) are
    always available; an entry of the same name here overrides their settings."""
    limits: LimitsSettings = Field(default_factory=LimitsSettings)
    recaption: RecaptionConfig = Field(default_factory=RecaptionConfig)
    encode: EncodeOptions = Field(default_factory=EncodeOptions)
    data_dir: Path = Path("openreel-data")
    """Database, outputs and keys of the service."""
    cache_dir: Path = Field(default_factory=default_cache_dir)
    """Built-in tiny models are built here once."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment overrides the config file (passed in as init values).
        return env_settings, init_settings

    @field_validator("data_dir", "cache_dir")
    @classmethod
    def _expand_home(cls, path: Path) -> Path:
        return path.expanduser()

    @model_validator(mode="after")
    def _default_model_exists(self) -> Settings:
        if self.default_model not in self.model_names():
            raise ValueError(
                f"default_model {self.default_model!r} is neither in models nor built in; "
                f"known models: {', '.join(self.model_names())}"
            )
        return self

    def model_names(self) -> list[str]:
        return sorted(set(self.models) | set(TINY_MODELS))

    def resolve_model(self, name: str | None = None) -> tuple[str, ModelConfig]:
        """(name, config) of the model `name`, or of the default model when None."""
        name = name or self.default_model
        if name in self.models:
            return name, self.models[name]
        if name in TINY_MODELS:
            return name, tiny_model_config(name)
        raise UnknownModelError(name, self.model_names())


def load_settings(path: str | Path | None = None) -> Settings:
    """Settings from the YAML file at `path` (or the defaults alone) and the environment."""
    where = f"config {path}" if path is not None else "settings"
    data = read_config_file(path) if path is not None else {}
    try:
        return Settings(**data)
    except ValidationError as exc:
        raise ConfigError(f"{where}: {describe_validation_error(exc)}") from None


def read_config_file(path: str | Path) -> dict[str, Any]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(f"config {path}: cannot read it: {reason}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"config {path}: not valid YAML{at}: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"config {path}: must be a mapping of settings, not a {type(data).__name__}"
        )
    return data


def describe_validation_error(exc: ValidationError) -> str:
    """A pydantic error as one line: `where: what; where: what`."""
    parts = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"]) or "config"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown setting"
        parts.append(f"{where}: {message}")
    return "; ".join(parts)
