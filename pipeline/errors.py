"""Errors raised by the `pipeline` package.

PipelineError
├── InvalidRequestError      a request parameter is not acceptable (names the parameter)
│   ├── UnknownModelError    the model name is not configured
│   └── TooLongForModel      the clip is longer than the model makes, and it cannot continue one
├── ModelConfigError         a model config is invalid or cannot be honoured here (names the option)
├── GenerationCancelled      a cancel request stopped generation between two steps
└── OutputMismatchError      the diffusers pipeline returned another shape than planned
"""

from __future__ import annotations


class PipelineError(Exception):
    """Base class for every error of the `pipeline` package."""


class InvalidRequestError(PipelineError, ValueError):
    """A request parameter is not acceptable; `param` names it."""

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


class UnknownModelError(InvalidRequestError):
    """The requested model name is neither configured nor built in."""

    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(
            f"unknown model {name!r}; known models: {', '.join(sorted(known))}", param="model"
        )
        self.name = name
        self.known = known


class TooLongForModel(InvalidRequestError):
    """The clip needs more than one call, and the model cannot condition on a clip."""

    def __init__(self, message: str, *, model: str, max_seconds: float) -> None:
        super().__init__(message, param="seconds")
        self.model = model
        self.max_seconds = max_seconds


class ModelConfigError(PipelineError, ValueError):
    """A model config is invalid or asks for something this machine cannot do; `option` names it."""

    def __init__(self, message: str, *, option: str | None = None) -> None:
        super().__init__(f"{option}: {message}" if option else message)
        self.option = option


class GenerationCancelled(PipelineError):
    """Generation was stopped by a cancel request at the start of a denoising step."""

    def __init__(self, step: int, total: int) -> None:
        super().__init__(f"generation cancelled after {step} of {total} steps")
        self.step = step
        self.total = total


class OutputMismatchError(PipelineError):
    """The pipeline returned frames of another shape than the plan asked for."""
