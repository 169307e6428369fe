"""One attempt to deliver a webhook: a POST with a deadline, no redirects followed (a 3xx
is an answer that is not a success) and only the first bytes of the answer kept."""

from __future__ import annotations

import ssl
import time
from dataclasses import dataclass

import httpcore

from service.core.settings import WebhookSettings
from service.webhooks.destinations import AllowedHosts, DestinationRefused, GuardedBackend

KEPT_ANSWER_BYTES = 2048


@dataclass(frozen=True)
class Answer:
    status_code: int | None  # None: no HTTP answer (refused, unreachable, timed out)
    response: str  # the answer's first bytes, as text
    error: str | None
    duration_ms: int

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class Sender:
    """Posts webhooks. One per delivery loop: its connection pool is reused across
    attempts to the same receiver."""

    def __init__(self, allowed: AllowedHosts, *, timeout_seconds: float) -> None:
        self.timeout = timeout_seconds
        self.pool = httpcore.ConnectionPool(
            ssl_context=ssl.create_default_context(),
            network_backend=GuardedBackend(allowed),
            max_connections=64,
            retries=0,
        )

    @classmethod
    def for_settings(cls, settings: WebhookSettings) -> Sender:
        return cls(AllowedHosts(settings.allowed_hosts), timeout_seconds=settings.timeout_seconds)

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> Answer:
        started = time.monotonic()
        timeouts = {name: self.timeout for name in ("connect", "read", "write", "pool")}
        try:
            with self.pool.stream(
                "POST",
                url,
                headers=list(headers.items()),
                content=body,
                extensions={"timeout": timeouts},
            ) as answer:
                kept = b""
                for chunk in answer.iter_stream():
                    kept += chunk
                    if len(kept) >= KEPT_ANSWER_BYTES:
                        break
                status = answer.status
        except DestinationRefused as exc:
            return self._failed(started, f"refused: {exc}")
        except httpcore.TimeoutException:
            return self._failed(started, f"no answer within {self.timeout:g} s")
        except (httpcore.NetworkError, httpcore.ProtocolError, OSError) as exc:
            return self._failed(
                started, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            )
        except httpcore.UnsupportedProtocol as exc:
            return self._failed(started, f"unsupported URL: {exc}")
        return Answer(
            status_code=status,
            response=kept[:KEPT_ANSWER_BYTES].decode("utf-8", "replace"),
            error=None if 200 <= status < 300 else f"HTTP {status}",
            duration_ms=_since(started),
        )

    def _failed(self, started: float, error: str) -> Answer:
        return Answer(status_code=None, response="", error=error, duration_ms=_since(started))

    def close(self) -> None:
        self.pool.close()


def _since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
