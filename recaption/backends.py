"""What an LLM backend is to the recaptioner: chat messages in, text out, or a BackendError."""

from __future__ import annotations

from typing import Protocol


class BackendError(Exception):
    """The backend produced no answer; `code` is a reason code of `recaption.result`."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


class LLMBackend(Protocol):
    name: str
    model: str

    def complete(self, messages: list[dict[str, str]], *, seed: int, greedy: bool) -> str:
        """The assistant's answer to `messages`. Greedy answers are deterministic; sampled
        ones are seeded with `seed` where the backend allows it."""
        ...
