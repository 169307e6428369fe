"""Configuration of the recaptioner: which backend, when to rewrite, what a rewrite must pass.

Plain pydantic models with a default for every field, so `recaption:` in a YAML file sets
only what it changes. Nothing here imports torch or opens a connection.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Mode = Literal["off", "auto", "on"]

# People, animals and other subjects a rewrite must never add (matched as whole words,
# plurals included). A rewrite may repeat one the prompt names.
DEFAULT_SUBJECT_TERMS = [
    "person", "people", "man", "men", "woman", "women", "child", "children", "kid", "boy",
    "girl", "baby", "crowd", "figure", "character", "couple", "family", "dancer", "worker",
    "soldier", "animal", "dog", "cat", "bird", "horse", "cow", "fish", "insect", "creature",
    "text", "word", "letter", "logo", "sign", "caption", "subtitle", "watermark", "brand",
]  # fmt: skip

# Terms whose appearance in a rewrite, when the prompt did not contain them, means the LLM
# drifted into sensitive ground. Operators extend this list for their own policy.
DEFAULT_SENSITIVE_TERMS = [
    "nude", "naked", "nudity", "topless", "sexual", "sexy", "erotic", "lingerie", "blood",
    "bloody", "gore", "corpse", "dead", "wound", "weapon", "gun", "rifle", "knife", "bomb",
    "explosion", "drug", "drugs", "cigarette", "alcohol", "teen", "teenage", "minor",
    "schoolgirl", "celebrity", "politician", "president", "flag", "religious", "swastika",
]  # fmt: skip


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TransformersOptions(_Strict):
    """A local causal language model with a chat template, loaded once."""

    model: str = "tiny-llm"
    """Hub id (e.g. Qwen/Qwen2.5-1.5B-Instruct), local directory, or `tiny-llm`: a tiny random
    model built offline that writes gibberish (for tests of validation and fallback)."""
    revision: str | None = None
    device: str = "auto"
    """`auto` (the accelerator if there is one), `cpu`, `cuda`, `cuda:N`, `mps`."""
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    """`auto`: bfloat16 on an accelerator, float32 on the CPU."""
    max_new_tokens: int = Field(default=256, ge=8, le=4096)
    sample: bool = False
    """False: greedy decoding (deterministic). True: sampling, seeded from the request seed."""
    temperature: float = Field(default=0.7, gt=0, le=2)
    top_p: float = Field(default=0.9, gt=0, le=1)
    offload_after_call: bool = False
    """Move the LLM back to the CPU after every rewrite, so its memory goes back to the video
    model between requests (slower: the weights travel each time)."""


class OpenAIOptions(_Strict):
    """Any OpenAI-compatible chat-completions server: vLLM, SGLang, Ollama, llama.cpp."""

    base_url: str = "http://127.0.0.1:8000/v1"
    model: str = "Qwen/Qwen2.5-7B-Instruct"
    api_key_env: str | None = "OPENREEL_RECAPTION_API_KEY"
    """Environment variable holding the API key (never the key itself); None: no key."""
    timeout: float = Field(default=20.0, gt=0)
    """Seconds for one HTTP attempt."""
    deadline: float = Field(default=60.0, gt=0)
    """Seconds for all attempts together, back-off included."""
    max_attempts: int = Field(default=4, ge=1, le=20)
    backoff_initial: float = Field(default=0.5, ge=0)
    backoff_max: float = Field(default=8.0, ge=0)
    temperature: float = Field(default=0.0, ge=0, le=2)
    """0: greedy. Above 0: sampled, with the request seed passed as `seed`."""
    max_tokens: int = Field(default=400, ge=8)


class CacheOptions(_Strict):
    enabled: bool = True
    max_entries: int = Field(default=10_000, ge=1)
    """Entries kept in memory (least recently used go first)."""
    sqlite_path: Path | None = None
    """Also keep validated rewrites in this SQLite file, across restarts."""


class RecaptionConfig(_Strict):
    backend: Literal["rules", "transformers", "openai"] = "rules"
    """`rules`: offline and deterministic. `transformers`: a local LLM. `openai`: an
    OpenAI-compatible endpoint. LLM output that fails validation falls back to `rules`."""
    mode: Mode = "auto"
    """`off`: prompts go to the model as written. `on`: always rewrite. `auto`: rewrite
    prompts shorter than `auto_min_words`; longer ones are detailed enough already."""
    auto_min_words: int = Field(default=30, ge=1)
    language: str = "en"
    """Language of the rewrite (ISO 639-1); English suits every supported model family."""
    template: str = "v1"
    """Version of the system prompt to use: a built-in one (v1) or a key of `templates`."""
    templates: dict[str, str] = Field(default_factory=dict)
    """Extra system-prompt versions. Placeholders: {language}, {min_words}, {max_words}."""
    min_words: int = Field(default=15, ge=1)
    max_words: int = Field(default=120, ge=2)
    """Upper bound of a rewrite; lowered further to fit the target text encoder's budget."""
    min_content_overlap: float = Field(default=0.75, ge=0, le=1)
    """Share of the prompt's content words a rewrite must keep."""
    subject_terms: list[str] = Field(default_factory=lambda: list(DEFAULT_SUBJECT_TERMS))
    sensitive_terms: list[str] = Field(default_factory=lambda: list(DEFAULT_SENSITIVE_TERMS))
    transformers: TransformersOptions = Field(default_factory=TransformersOptions)
    openai: OpenAIOptions = Field(default_factory=OpenAIOptions)
    cache: CacheOptions = Field(default_factory=CacheOptions)

    @model_validator(mode="after")
    def _consistent(self) -> RecaptionConfig:
        if self.min_words >= self.max_words:
            raise ValueError(f"min_words {self.min_words} must be below max_words {self.max_words}")
        from recaption.templates import BUILTIN_TEMPLATES

        if self.template not in BUILTIN_TEMPLATES and self.template not in self.templates:
            known = sorted({*BUILTIN_TEMPLATES, *self.templates})
            raise ValueError(
                f"template {self.template!r} is not defined; defined: {', '.join(known)}"
            )
        return self
