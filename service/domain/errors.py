"""The ways the service refuses a request, as kinds, with no HTTP in them. The API maps each
kind to a status and OpenAI's error envelope in one table (api/errors.py); the CLI
prints the message and exits with 2.

    DomainError             base: a message, the parameter it is about, a code
    ├── InvalidInput        a value is not acceptable (validation)
    ├── Unauthenticated     no caller, or a key that is not valid
    ├── Forbidden           the caller's role does not allow it
    │   └── LimitExceeded   over a role limit (model, seconds, size, steps)
    ├── NotFound            no such thing, or not one the caller may see
    ├── Conflict            the thing is not in a state that allows it
    ├── Mismatch            a repeated request (same idempotency key) differs from the first
    └── TooMany             a limit on how much or how often: retry later
        └── QuotaExceeded   a quota of video-seconds, until it resets
"""

from __future__ import annotations


class DomainError(Exception):
    """A refusal; `code` is a stable machine name, `param` the input it is about."""

    default_code = "invalid_value"

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code or self.default_code


class InvalidInput(DomainError):
    """A value is not acceptable."""


class Unauthenticated(DomainError):
    """No caller could be established."""

    default_code = "invalid_api_key"


class Forbidden(DomainError):
    """The caller's role does not allow this."""

    default_code = "permission_denied"


class LimitExceeded(Forbidden):
    """Over a limit of the caller's role."""

    default_code = "role_limit_exceeded"


class NotFound(DomainError):
    """No such thing, or none the caller may see."""

    default_code = "not_found"


class Conflict(DomainError):
    """The thing exists, but its state does not allow this."""

    default_code = "conflict"


class Mismatch(DomainError):
    """A repeat of an earlier request under the same idempotency key, with other content."""

    default_code = "idempotency_key_reused"


class TooMany(DomainError):
    """Too much at once or too often; `retry_after` says when trying again makes sense."""

    default_code = "rate_limited"

    def __init__(
        self,
        message: str,
        *,
        retry_after: float,
        param: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message, param=param, code=code)
        self.retry_after = retry_after


class QuotaExceeded(TooMany):
    """A quota of video-seconds is spent until `resets_at` (Unix time)."""

    default_code = "quota_exceeded"

    def __init__(self, message: str, *, retry_after: float, resets_at: float) -> None:
        super().__init__(message, retry_after=retry_after)
        self.resets_at = resets_at
