"""The `openai` backend: any OpenAI-compatible chat-completions endpoint (vLLM, SGLang,
Ollama, llama.cpp server).

Timeouts, connection failures, 429 and 5xx are retried with jittered exponential back-off
(or the server's Retry-After) while the total deadline allows; any other 4xx is final at
once: retrying a bad key or a bad request only delays the fallback.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from typing import Any

import httpx

from recaption.backends import BackendError
from recaption.config import OpenAIOptions
from recaption.result import (
    BACKEND_REJECTED,
    BACKEND_TIMEOUT,
    BACKEND_UNAVAILABLE,
    MALFORMED_RESPONSE,
)


class OpenAIBackend:
    name = "openai"

    def __init__(
        self,
        options: OpenAIOptions,
        *,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.options = options
        self.model = options.model
        self._url = options.base_url.rstrip("/") + "/chat/completions"
        self._client = client or httpx.Client()
        self._sleep = sleep
        self._clock = clock

    def complete(self, messages: list[dict[str, str]], *, seed: int, greedy: bool) -> str:
        options = self.options
        body = {
            "model": options.model,
            "messages": messages,
            "max_tokens": options.max_tokens,
            "temperature": 0.0 if greedy else options.temperature,
            "seed": seed,
        }
        headers = {}
        key = os.environ.get(options.api_key_env) if options.api_key_env else None
        if key:
            headers["Authorization"] = f"Bearer {key}"

        deadline = self._clock() + options.deadline
        for attempt in range(1, options.max_attempts + 1):
            remaining = deadline - self._clock()
            if remaining <= 0:
                break
            retry_after: float | None = None
            try:
                response = self._client.post(
                    self._url, json=body, headers=headers, timeout=min(options.timeout, remaining)
                )
            except httpx.TimeoutException:
                failure = BackendError(BACKEND_TIMEOUT, f"no answer from {self._url} in time")
            except httpx.TransportError as exc:
                failure = BackendError(BACKEND_UNAVAILABLE, f"cannot reach {self._url}: {exc}")
            else:
                status = response.status_code
                if status == 200:
                    return _answer(response)
                detail = f"HTTP {status} from {self._url}: {response.text[:200]}"
                if status != 429 and status < 500:
                    raise BackendError(BACKEND_REJECTED, detail)
                failure = BackendError(BACKEND_UNAVAILABLE, detail)
                retry_after = _retry_after(response)
            if attempt == options.max_attempts:
                raise failure
            delay = retry_after if retry_after is not None else self._backoff(attempt)
            if self._clock() + delay >= deadline:
                raise failure
            self._sleep(delay)
        raise BackendError(
            BACKEND_TIMEOUT, f"no answer from {self._url} within {options.deadline:g} s"
        )

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self.options.backoff_max, self.options.backoff_initial * 2 ** (attempt - 1))
        # Half fixed, half random: spreads the retries of many workers after one outage.
        return ceiling / 2 + random.uniform(0, ceiling / 2)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after-ms")
    if value:
        try:
            return max(0.0, float(value) / 1000)
        except ValueError:
            pass
    value = response.headers.get("retry-after")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            return None  # an HTTP date: fall back to our own back-off
    return None


def _answer(response: httpx.Response) -> str:
    try:
        data: Any = response.json()
        content = data["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise BackendError(
            MALFORMED_RESPONSE, f"unexpected response body: {response.text[:200]!r}"
        ) from exc
    if not isinstance(content, str):
        raise BackendError(MALFORMED_RESPONSE, f"message content is {type(content).__name__}")
    return content
