"""An OpenAI-compatible moderation check on prompts: `/v1/moderations` (OpenAI's own, or a
compatible server), or a guard model behind `/v1/chat/completions` (`api: chat_guard`).

A guard model answers in words; the two formats read here:
- Llama Guard 3 and 4: "safe", or "unsafe" and a line of hazard codes ("S1,S10");
- Qwen3Guard-Gen: "Safety: Unsafe" (or Safe, Controversial) and "Categories: Violent, ...".
Controversial counts as safe: the term lists and the role's mode decide borderline prompts.
"""

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


# Llama Guard's hazard codes (MLCommons taxonomy) -> ours; the rest are recorded by name.
LLAMA_GUARD_CODES = {
    "S1": "violence_graphic",  # violent crimes
    "S2": "illicit",  # non-violent crimes
    "S3": "sexual",  # sex-related crimes
    "S4": "sexual_minors",  # child sexual exploitation
    "S5": "defamation",
    "S6": "specialized_advice",
    "S7": "privacy",
    "S8": "intellectual_property",
    "S9": "weapons_instructions",  # indiscriminate weapons
    "S10": "hate",
    "S11": "self_harm",
    "S12": "sexual",
    "S13": "election_misinformation",
    "S14": "code_interpreter_abuse",
}
QWEN3GUARD_NAMES = {
    "violent": "violence_graphic",
    "non-violent illegal acts": "illicit",
    "sexual content or sexual acts": "sexual",
    "pii": "privacy",
    "suicide & self-harm": "self_harm",
    "unethical acts": "unethical",
    "politically sensitive topics": "politically_sensitive",
    "copyright violation": "intellectual_property",
    "jailbreak": "jailbreak",
}


def guard_categories(answer: str) -> list[str]:
    """Our categories in a guard model's answer ([] for safe); EndpointError for an answer
    in neither format."""
    text = answer.strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        raise EndpointError("the guard model gave an empty answer")
    first = lines[0].lower()
    if first == "safe":
        return []
    if first == "unsafe":
        codes = [code.strip().upper() for line in lines[1:] for code in line.split(",")]
        found = [LLAMA_GUARD_CODES.get(code, code.lower()) for code in codes if code]
        return list(dict.fromkeys(found)) or ["flagged"]
    if first.startswith("safety:"):
        verdict = first.split(":", 1)[1].strip()
        if verdict in ("safe", "controversial"):
            return []
        if verdict != "unsafe":
            raise EndpointError(f"unknown guard verdict {lines[0]!r}")
        found = []
        for line in lines[1:]:
            if line.lower().startswith("categories:"):
                for name in line.split(":", 1)[1].split(","):
                    name = name.strip().lower()
                    if name and name != "none":
                        found.append(QWEN3GUARD_NAMES.get(name, name.replace(" ", "_")))
        return list(dict.fromkeys(found)) or ["flagged"]
    raise EndpointError(f"not a guard model's answer: {text[:80]!r}")


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
        if self.settings.api == "chat_guard":
            return self._ask_guard(text)
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

    def _ask_guard(self, text: str) -> list[str]:
        body: dict = {
            "messages": [{"role": "user", "content": text}],
            "max_tokens": 32,
            "temperature": 0,
        }
        if self.settings.model:
            body["model"] = self.settings.model
        try:
            response = self._client.post("/chat/completions", json=body)
            response.raise_for_status()
            answer = response.json()["choices"][0]["message"]["content"]
        except (httpx.HTTPError, ValueError, KeyError, TypeError, IndexError) as exc:
            raise EndpointError(f"{type(exc).__name__}: {exc}") from None
        if not isinstance(answer, str):
            raise EndpointError("the guard model's answer is not text")
        return guard_categories(answer)

    def close(self) -> None:
        self._client.close()
