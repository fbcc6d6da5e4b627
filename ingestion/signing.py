"""Webhook signatures: `Returns-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>` (Stripe-style).

The signed message is `f"{t}.".encode() + raw_body`, so the timestamp cannot be swapped without
breaking the signature, and a replay older than the tolerance is refused. During a secret rotation
the order system may send several `v1=` entries (one per secret); one matching entry is enough.

Each merchant has its own secrets (`ingestion.merchant_secrets`): `authenticate` says which
merchant's secret signed a request, and that merchant is the only one the request may act for.
A header that cannot be read (a timestamp too long to be one, a value that is not text) is a
`SignatureError` like any other bad signature: 401, never a server error.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping, Sequence

SIGNATURE_HEADER = "Returns-Signature"
DEFAULT_TOLERANCE_SECONDS = 300
MAX_HEADER_CHARS = 4096  # room for 40 v1= entries; a longer header is not a signature
_MAX_TIMESTAMP_DIGITS = 12  # unix seconds up to the year 33658: longer is not a timestamp


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
    if len(header) > MAX_HEADER_CHARS:
        raise SignatureError(f"signature header is longer than {MAX_HEADER_CHARS} characters")
    if not header.isascii():
        raise SignatureError("signature header must be ASCII: t=<unix seconds>,v1=<hex>")
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            continue
        if key == "t":
            # isascii: str.isdigit() also accepts "²" and other digits int() refuses.
            if timestamp is not None or not (value.isascii() and value.isdigit()) \
                    or len(value) > _MAX_TIMESTAMP_DIGITS:
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
    timestamp, signatures = _fresh(header, tolerance_seconds, now)
    if not _matches(signatures, body, secrets, timestamp):
        raise SignatureError("no v1 signature matches the body")
    return timestamp


def authenticate(
    header: str | None,
    body: bytes,
    secrets_by_merchant: Mapping[str, Sequence[str]],
    *,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> str:
    """The merchant whose secret signed `body`, or `SignatureError`.

    Every merchant's secrets are tried (no early exit, so the time taken does not say which
    merchant came close). Secrets are unique across merchants (checked when they are loaded), so
    at most one merchant matches; should two, the request is refused rather than guessed.
    """
    if not secrets_by_merchant:
        raise ValueError("authenticate needs at least one merchant's secret")
    timestamp, signatures = _fresh(header, tolerance_seconds, now)
    matched = [merchant for merchant, secrets in secrets_by_merchant.items()
               if _matches(signatures, body, secrets, timestamp)]
    if len(matched) != 1:
        raise SignatureError("no v1 signature matches the body" if not matched else
                             "the signature matches more than one merchant's secret")
    return matched[0]


def _fresh(header: str | None, tolerance_seconds: int, now: float | None) -> tuple[int, list[str]]:
    if not header:
        raise SignatureError(f"missing {SIGNATURE_HEADER} header")
    timestamp, signatures = _parse(header)
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_seconds:
        raise SignatureError(f"timestamp is more than {tolerance_seconds} s away from the "
                             "receiver's clock (replayed, or the sender's clock is off)")
    return timestamp, signatures


def _matches(signatures: list[str], body: bytes, secrets: Sequence[str], timestamp: int) -> bool:
    expected = [_digest(body, secret, timestamp) for secret in secrets]
    # compare_digest on every pair: the time taken does not reveal which byte differed.
    matched = False
    for candidate in signatures:
        for digest in expected:
            matched |= hmac.compare_digest(candidate.encode(), digest.encode())
    return matched
