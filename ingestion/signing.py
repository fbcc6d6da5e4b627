"""Webhook signatures: `Returns-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>` (Stripe-style).

The signed message is `f"{t}.".encode() + raw_body`, so the timestamp cannot be swapped without
breaking the signature, and a replay older than the tolerance is refused. During a secret rotation
the order system may send several `v1=` entries (one per secret); one matching entry is enough.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Sequence

SIGNATURE_HEADER = "Returns-Signature"
DEFAULT_TOLERANCE_SECONDS = 300


class SignatureError(Exception):
    """The request is unsigned, badly signed or stale; the message says which (no secrets in it)."""


def _digest(body: bytes, secret: str, timestamp: int) -> str:
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(body: bytes, secret: str, timestamp: int) -> str:
    """The `Returns-Signature` header value for `body` sent at `timestamp` (unix seconds)."""
    return f"t={timestamp},v1={_digest(body, secret, timestamp)}"


def sign_with_secrets(body: bytes, secrets: Sequence[str], timestamp: int) -> str:
    """One header with a `v1=` entry per secret: what a sender does while a secret is rotated."""
    entries = ",".join(f"v1={_digest(body, secret, timestamp)}" for secret in secrets)
    return f"t={timestamp},{entries}"


def _parse(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            continue
        if key == "t":
            # isascii: str.isdigit() also accepts "²" and other digits int() refuses.
            if timestamp is not None or not (value.isascii() and value.isdigit()):
                raise SignatureError("signature header needs exactly one t=<unix seconds>")
            timestamp = int(value)
        elif key == "v1":
            signatures.append(value.strip())
        # Other schemes (v0, future v2) are ignored, as Stripe does, so senders can add them.
    if timestamp is None:
        raise SignatureError("signature header has no t=<unix seconds>")
    if not signatures:
        raise SignatureError("signature header has no v1=<hex HMAC-SHA256>")
    return timestamp, signatures


def verify(
    header: str | None,
    body: bytes,
    secrets: Sequence[str],
    *,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> int:
    """Check `header` against `body`; return the signed timestamp or raise `SignatureError`.

    Any of `secrets` may have signed (the receiver's side of a rotation), any `v1=` entry may match
    (the sender's side). The timestamp must be within `tolerance_seconds` of `now`, either way.
    """
    if not secrets:
        raise ValueError("verify needs at least one secret")
    if not header:
        raise SignatureError(f"missing {SIGNATURE_HEADER} header")
    timestamp, signatures = _parse(header)
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_seconds:
        raise SignatureError(f"timestamp is more than {tolerance_seconds} s away from the "
                             "receiver's clock (replayed, or the sender's clock is off)")
    expected = [_digest(body, secret, timestamp) for secret in secrets]
    # compare_digest on every pair: the time taken does not reveal which byte differed.
    matched = False
    for candidate in signatures:
        for digest in expected:
            matched |= hmac.compare_digest(candidate.encode(), digest.encode())
    if not matched:
        raise SignatureError("no v1 signature matches the body")
    return timestamp
