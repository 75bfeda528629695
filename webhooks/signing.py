"""Standard Webhooks signatures (https://www.standardwebhooks.com): a `whsec_` secret of
random bytes, `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, one
signature per valid secret separated by spaces. Receivers verify with the
`standardwebhooks` library (tests/webhooks verify every delivery with it)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable

SECRET_PREFIX = "whsec_"


def secret_generate() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def signature_header(*, secrets_: Iterable[str], msg_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return " ".join(
        "v1," + base64.b64encode(hmac.new(_key(secret), signed, hashlib.sha256).digest()).decode()
        for secret in secrets_
    )
