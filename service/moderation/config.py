"""Moderation settings (the `moderation:` section of the config)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from service.moderation.defaults import CATEGORIES, DEFAULT_CATEGORIES


class CategoryTerms(BaseModel):
    model_config = ConfigDict(extra="forbid")

    terms: list[str] = Field(default_factory=list)
    """Any one of these matches the category."""
    all_of: list[list[str]] = Field(default_factory=list)
    """Or: one term from each of these groups, anywhere in the text."""
    combinations: list[list[list[str]]] = Field(default_factory=list)
    """Or: for any one of these, a term from each of its groups (more rules like all_of:
    a body part and a word for cutting it off)."""
    allow: list[str] = Field(default_factory=list)
    """Innocent senses: words these phrases cover are not matched for this category
    ("naked tree", "sex on the beach")."""


class TextClassifierSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str | None = None
    """A transformers text-classification model: hub id, local path, or
    builtin:tiny-text-classifier (for tests). None: no classifier."""
    threshold: float = Field(default=0.8, gt=0, le=1)
    """Least score of a label to count."""
    labels: dict[str, str] = Field(default_factory=dict)
    """Model label -> category, for labels not already named like a category; labels that
    map to nothing (e.g. safe) never block."""


class SemanticSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    """Compare prompts with labelled examples as sentence embeddings (semantic.py): a second
    net under the term lists, for wordings they have no entry for. Off by default: the encoder
    that fits in a wheel is a bag of words, so it also matches innocent prompts that share
    words with an example (README, Moderation, for the measured trade-off)."""
    examples: Path | None = None
    """Tab-separated labelled prompts (categories, language, disguise, text). None: the
    project's own, service/moderation/labelled_prompts.tsv."""
    threshold: float = Field(default=0.6, gt=0, le=1)
    """Least cosine similarity to a disallowed example. Lower catches more and flags more
    innocent prompts."""
    margin: float = Field(default=0.1, ge=0, le=1)
    """How much closer the disallowed example must be than the nearest benign one."""


class EndpointSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = None
    """Base URL of an OpenAI-compatible API (…/v1). None: unused."""
    api: Literal["moderations", "chat_guard"] = "moderations"
    """moderations: POST {url}/moderations (OpenAI's, or a compatible server).
    chat_guard: POST {url}/chat/completions to a guard model served by vLLM, SGLang or
    llama.cpp (Llama Guard 3/4, Qwen3Guard-Gen), whose answer is parsed for its verdict."""
    model: str | None = None
    api_key_env: str = "OPENREEL_MODERATION_API_KEY"
    """Environment variable holding the endpoint's API key, if it needs one."""
    timeout_seconds: float = Field(default=10.0, gt=0)
    on_error: Literal["block", "allow"] = "block"
    """What an unreachable endpoint means: block (fail closed) or allow (fail open)."""


class FrameClassifierSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str | None = None
    """A transformers image-classification model: hub id, local path, or
    builtin:tiny-frame-classifier (for tests). None: outputs are not checked."""
    threshold: float = Field(default=0.8, gt=0, le=1)
    samples: int = Field(default=4, ge=1, le=64)
    """Frames looked at per clip, evenly spread."""
    labels: dict[str, str] = Field(default_factory=dict)


class ModerationSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    categories: dict[str, CategoryTerms] = Field(
        default_factory=lambda: {
            name: CategoryTerms(**terms) for name, terms in DEFAULT_CATEGORIES.items()
        }
    )
    """Term lists by category (see service/moderation/defaults.py for the defaults)."""
    always_block: list[str] = Field(default_factory=lambda: ["sexual_minors"])
    """Categories blocked even for roles whose moderation mode is flag."""
    semantic: SemanticSettings = Field(default_factory=SemanticSettings)
    classifier: TextClassifierSettings = Field(default_factory=TextClassifierSettings)
    endpoint: EndpointSettings = Field(default_factory=EndpointSettings)
    frames: FrameClassifierSettings = Field(default_factory=FrameClassifierSettings)

    @field_validator("categories")
    @classmethod
    def _known_categories(cls, categories: dict[str, CategoryTerms]) -> dict[str, CategoryTerms]:
        for name in categories:
            if name not in CATEGORIES:
                raise ValueError(f"unknown category {name!r}; categories: {', '.join(CATEGORIES)}")
        return categories

    @model_validator(mode="after")
    def _always_block_known(self) -> ModerationSettings:
        for name in self.always_block:
            if name not in CATEGORIES:
                raise ValueError(
                    f"always_block: unknown category {name!r}; categories: {', '.join(CATEGORIES)}"
                )
        return self
