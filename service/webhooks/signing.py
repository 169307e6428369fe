"""Standard Webhooks signatures (https://www.standardwebhooks.com), as OpenAI signs its
webhooks, so that the official SDK's `webhooks.verify_signature` and `unwrap` accept ours:
HMAC-SHA256 over "{webhook-id}.{webhook-timestamp}.{body}" with the secret's bytes (the
base64 after `whsec_`), sent as `webhook-signature: v1,<base64>`, one per secret in force."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

PREFIX = "whsec_"


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def hint(secret: str) -> str:
    """What the API shows of a secret after it was handed out once."""
    return f"{PREFIX}...{secret[-4:]}"


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix(PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def headers(secrets_: list[str], message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The headers of one attempt. Several secrets (during a rotation that keeps the old
    one) give several signatures, space-separated: a receiver with either accepts."""
    return {
        "content-type": "application/json",
        "user-agent": "OpenReel-Webhooks/1",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(
            signature(secret, message_id, timestamp, body) for secret in secrets_
        ),
    }
