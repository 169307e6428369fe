"""An OpenAI-compatible `/v1/moderations` endpoint (OpenAI's own, or a self-hosted guard
model behind a compatible server), as one more check on prompts."""

from __future__ import annotations

import os

import httpx

from service.moderation.config import EndpointSettings

# OpenAI's category names -> ours; the rest (harassment, illicit ...) are recorded as given.
CATEGORY_NAMES = {
    "sexual/minors": "sexual_minors",
    "sexual": "sexual",
    "violence/graphic": "violence_graphic",
    "hate": "hate",
    "hate/threatening": "hate",
    "self-harm": "self_harm",
    "self-harm/intent": "self_harm",
    "self-harm/instructions": "self_harm",
}


class EndpointError(Exception):
    """The endpoint could not give an answer."""


class ModerationEndpoint:
    def __init__(self, settings: EndpointSettings, *, transport: httpx.BaseTransport | None = None):
        assert settings.url is not None
        self.settings = settings
        headers = {}
        key = os.environ.get(settings.api_key_env)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        self._client = httpx.Client(
            base_url=settings.url.rstrip("/"),
            headers=headers,
            timeout=settings.timeout_seconds,
            transport=transport,
        )

    def flagged_categories(self, text: str) -> list[str]:
        """Our names of the categories the endpoint flags `text` for."""
        body: dict = {"input": text}
        if self.settings.model:
            body["model"] = self.settings.model
        try:
            response = self._client.post("/moderations", json=body)
            response.raise_for_status()
            results = response.json()["results"]
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            raise EndpointError(f"{type(exc).__name__}: {exc}") from None
        found: list[str] = []
        for result in results:
            for name, flagged in (result.get("categories") or {}).items():
                category = CATEGORY_NAMES.get(name, name.replace("/", "_").replace("-", "_"))
                if flagged and category not in found:
                    found.append(category)
            if result.get("flagged") and not found:
                found.append("flagged")
        return found

    def close(self) -> None:
        self._client.close()
